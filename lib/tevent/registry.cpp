// The process-wide list of backends and the default backend's name.
//
// Registration and lookup happen when contexts are created, never on a
// loop's hot path, so one mutex guards both.
//
// Each entry is a top-level talloc chunk named "struct tevent_ops_list" of
// the reference's size, allocated when the backend is registered (the
// built-in ones on first use) and never freed: leak reports
// (talloc_report_full of the NULL context, smbclient --leak-report, ctdb's
// exit report) list the same four chunks as on the reference.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend.hpp"
#include "context.hpp"

namespace tev {
namespace {

// The reference's struct tevent_ops_list: the same members, so the same
// size in a talloc report.
struct Entry {
    Entry *next;
    Entry *prev;
    const char *name;  // the caller's string, as in the reference
    const tevent_ops *ops;
};
static_assert(sizeof(Entry) == 4 * sizeof(void *), "the reference's struct tevent_ops_list");

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
IList<Entry> g_entries;           // newest first
char *g_default_name = nullptr;   // malloc()ed copy; nullptr: "standard"
bool g_builtins_done = false;

// RAII for g_lock.
class Locked {
public:
    Locked() { pthread_mutex_lock(&g_lock); }
    ~Locked() { pthread_mutex_unlock(&g_lock); }
    Locked(const Locked &) = delete;
    Locked &operator=(const Locked &) = delete;
};

Entry *find_locked(const char *name) {
    for (Entry *e = g_entries.head; e != nullptr; e = e->next) {
        if (strcmp(e->name, name) == 0) return e;
    }
    return nullptr;
}

bool register_locked(const char *name, const tevent_ops *ops) {
    // A name registered before keeps its first ops.
    if (find_locked(name) != nullptr) return true;
    auto *e = static_cast<Entry *>(talloc_named_const(nullptr, sizeof(Entry), "struct tevent_ops_list"));
    if (e == nullptr) return false;
    e->name = name;
    e->ops = ops;
    g_entries.push_front(e);
    return true;
}

void ensure_builtins_locked() {
    if (g_builtins_done) return;
    g_builtins_done = true;
    for (const BuiltinBackend &b : kBuiltinBackends) register_locked(b.name, b.ops);
}

}  // namespace

bool register_backend(const char *name, const tevent_ops *ops) {
    if (name == nullptr || ops == nullptr) return false;
    Locked lock;
    // The built-ins come later, on first use, as in the reference: a
    // backend a program registers first stays last in tevent_backend_list().
    return register_locked(name, ops);
}

const tevent_ops *find_ops(const char *name) {
    Locked lock;
    ensure_builtins_locked();
    if (name == nullptr) name = g_default_name;
    if (name == nullptr) name = "standard";
    Entry *e = find_locked(name);
    return e != nullptr ? e->ops : nullptr;
}

const char **backend_list(TALLOC_CTX *mem_ctx) {
    Locked lock;
    ensure_builtins_locked();
    size_t n = g_entries.count;
    auto **list = static_cast<const char **>(talloc_named_const(mem_ctx, (n + 1) * sizeof(char *), "const char *"));
    if (list == nullptr) return nullptr;
    size_t i = 0;
    for (Entry *e = g_entries.head; e != nullptr; e = e->next) {
        // Copies owned by the list, so they outlive a backend's name.
        list[i] = talloc_strdup(list, e->name);
        if (list[i] == nullptr) {
            talloc_free(list);
            return nullptr;
        }
        i++;
    }
    list[n] = nullptr;
    return list;
}

void set_default_backend(const char *name) {
    char *copy = name != nullptr ? strdup(name) : nullptr;
    Locked lock;
    free(g_default_name);
    g_default_name = copy;
}

}  // namespace tev

// The TALLOC_THREAD_CHECK occupancy table (see thread_check.hpp).
#include "thread_check.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core.hpp"

namespace tal::threads {

bool g_enabled = false;

// A record: the chunk held (as a key, never dereferenced through the
// table) and the thread holding it.  What the holder is doing is kept
// beside it, only read to write a report.
struct Slot {
    std::atomic<const void *> key;
    std::atomic<int> tid;
    std::atomic<const char *> op;
    std::atomic<const char *> chunk_name;
};

namespace {

// 4-way buckets: a handful of chunks held at once per thread, a few threads,
// so a full bucket (an unchecked operation) is rare; 4096 records in all.
constexpr unsigned kWays = 4;
constexpr unsigned kBucketBits = 10;

struct alignas(64) Bucket {
    Slot ways[kWays];
};

Bucket g_table[1u << kBucketBits];

// Siblings walked back to find a chunk's parent; beyond that the parent is
// not checked rather than making a free O(siblings).
constexpr int kParentWalk = 64;

__thread int t_tid __attribute__((tls_model("initial-exec"))) = 0;
int g_initial_tid = 0;
std::atomic<bool> g_null_tracking_reported{false};

int self() {
    int tid = t_tid;
    if (TAL_UNLIKELY(tid == 0)) t_tid = tid = static_cast<int>(syscall(SYS_gettid));
    return tid;
}

Bucket &bucket_of(const void *key) {
    auto bits = reinterpret_cast<uintptr_t>(key) >> 4;  // chunks are 16-aligned
    return g_table[(bits * 0x9e3779b97f4a7c15ull) >> (64 - kBucketBits)];
}

// The chunk behind ptr if it looks live; unlike checked() it never reports,
// as the operation itself will report a bad pointer its own way.
Chunk *live(const void *ptr) {
    if (ptr == nullptr) return nullptr;
    Chunk *tc = Chunk::from_payload(ptr);
    return (tc->flags & (~kFlagMask | kFlagFree)) == g_magic ? tc : nullptr;
}

const void *parent_key(const Chunk *tc) {
    for (int i = 0; i < kParentWalk; i++) {
        if (tc->is_first()) {
            Chunk *parent = tc->stored_parent();
            return parent != nullptr ? parent->payload() : nullptr;
        }
        tc = tc->prev();
        if (tc == nullptr) return nullptr;
    }
    return nullptr;
}

const char *chunk_name(const void *ptr) {
    Chunk *tc = live(ptr);
    return tc != nullptr ? name_of(tc) : "(none)";
}

// A child process has one thread: records held by the parent's other
// threads would stay held for ever, so the table starts empty there.
void clear_in_child() {
    t_tid = 0;
    for (Bucket &b : g_table) {
        for (Slot &s : b.ways) {
            s.tid.store(0, std::memory_order_relaxed);
            s.key.store(nullptr, std::memory_order_relaxed);
        }
    }
}

__attribute__((constructor)) void read_thread_check() {
    const char *v = getenv("TALLOC_THREAD_CHECK");
    if (v == nullptr || strcmp(v, "1") != 0) return;
    g_initial_tid = self();
    pthread_atfork(nullptr, nullptr, clear_in_child);
    g_enabled = true;
}

void report_overlap(const Slot &s, const void *key, const char *op, const char *name) {
    int other = s.tid.load(std::memory_order_relaxed);
    // The holder stores its thread id just after taking the record.
    for (int spins = 0; other == 0 && spins < 10000; spins++) other = s.tid.load(std::memory_order_relaxed);
    const char *other_op = s.op.load(std::memory_order_relaxed);
    const char *other_name = s.chunk_name.load(std::memory_order_relaxed);
    char reason[1024];
    snprintf(reason, sizeof(reason),
             "talloc: thread check: thread %d in %s (chunk \"%s\") entered the children of %p \"%s\" while "
             "thread %d is inside %s (chunk \"%s\") there; one talloc hierarchy must not be used by two "
             "threads at once: give each thread its own top-level context and hand memory over with "
             "talloc_steal() under a mutex",
             self(), op, name != nullptr ? name : "UNNAMED", key, chunk_name(key), other,
             other_op != nullptr ? other_op : "?", other_name != nullptr ? other_name : "UNNAMED");
    // Switched on to be told: without a log function it goes to stderr.
    if (!has_log_fn()) fprintf(stderr, "%s\n", reason);
    abort_with(reason);
}

void report_null_tracking(const char *op, const char *name) {
    if (g_null_tracking_reported.exchange(true, std::memory_order_relaxed)) return;
    char message[768];
    snprintf(message, sizeof(message),
             "talloc: thread check: thread %d made a top-level chunk \"%s\" (%s) with null tracking on, "
             "while the initial thread is %d: every top-level chunk is then a child of the one null context "
             "all threads share; call talloc_disable_null_tracking() from the initial thread before threads "
             "use talloc\n",
             self(), name != nullptr ? name : "UNNAMED", op, g_initial_tid);
    if (has_log_fn()) log("%s", message);
    else fputs(message, stderr);
}

}  // namespace

bool Guard::hold(const void *key, const char *op, const char *name) {
    if (key == nullptr) return true;
    Bucket &b = bucket_of(key);
    int me = self();
    for (int attempt = 0; attempt < 4; attempt++) {
        Slot *empty = nullptr;
        for (Slot &s : b.ways) {
            const void *k = s.key.load(std::memory_order_acquire);
            if (k == key) {
                // Ours already: an export called from a destructor or log
                // function inside an outer one on the same thread.
                if (s.tid.load(std::memory_order_relaxed) == me) return true;
                report_overlap(s, key, op, name);
                return false;
            }
            if (k == nullptr && empty == nullptr) empty = &s;
        }
        if (empty == nullptr) return true;  // bucket full: not checked
        const void *expected = nullptr;
        if (empty->key.compare_exchange_strong(expected, key, std::memory_order_acq_rel)) {
            empty->tid.store(me, std::memory_order_relaxed);
            empty->op.store(op, std::memory_order_relaxed);
            empty->chunk_name.store(name, std::memory_order_relaxed);
            slots_[held_] = empty;
            keys_[held_] = key;
            held_++;
            return true;
        }
        // Another thread took that record meanwhile: look again, it may be
        // holding this very key.
    }
    return true;
}

void Guard::enter(Scope scope, const char *op, const void *a, const void *b, const char *name) {
    const void *keys[2] = {nullptr, nullptr};
    const char *what = name;
    switch (scope) {
    case Scope::Under:
        keys[0] = effective_ctx(a);
        if (a == nullptr && g_null_context != nullptr && self() != g_initial_tid) report_null_tracking(op, name);
        break;
    case Scope::Realloc:
        if (b == nullptr) {
            keys[0] = effective_ctx(a);
            break;
        }
        [[fallthrough]];
    case Scope::Chunk: {
        const void *ptr = scope == Scope::Chunk ? a : b;
        Chunk *tc = live(ptr);
        if (tc == nullptr) return;
        keys[0] = parent_key(tc);
        keys[1] = ptr;
        what = name_of(tc);
        break;
    }
    case Scope::Self:
        if (live(a) == nullptr) return;
        keys[0] = a;
        what = name_of(Chunk::from_payload(a));
        break;
    case Scope::Move: {
        Chunk *tc = live(b);
        if (tc == nullptr) return;
        keys[0] = parent_key(tc);
        keys[1] = effective_ctx(a);
        what = name_of(tc);
        if (a == nullptr && g_null_context != nullptr && self() != g_initial_tid) report_null_tracking(op, what);
        break;
    }
    case Scope::Pair:
        keys[0] = effective_ctx(a);
        keys[1] = b;
        what = chunk_name(b);
        break;
    }
    if (keys[1] == keys[0]) keys[1] = nullptr;
    for (const void *key : keys) {
        if (!hold(key, op, what)) {
            refused_ = true;
            return;
        }
    }
}

void Guard::leave() {
    int me = self();
    while (held_ > 0) {
        held_--;
        Slot *s = slots_[held_];
        // After a fork the child's table was cleared: nothing to give back.
        if (s->tid.load(std::memory_order_relaxed) != me ||
            s->key.load(std::memory_order_relaxed) != keys_[held_])
            continue;
        s->tid.store(0, std::memory_order_relaxed);
        s->key.store(nullptr, std::memory_order_release);
    }
}

}  // namespace tal::threads

// The TALLOC_THREAD_CHECK records and table (see thread_check.hpp).
#include "thread_check.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core.hpp"

namespace tal::threads {

bool g_enabled = false;

using namespace detail;

Bucket detail::g_table[1u << kBucketBits];
__thread ThreadRecord *detail::t_record __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

// Records are reused, never freed: the table may still name an exited
// thread's number, and whoever has that number now is only "inside" a key
// while really inside it.  Threads beyond kMaxThreads are not checked.
std::atomic<ThreadRecord *> g_records[kMaxThreads];
pthread_mutex_t g_records_lock = PTHREAD_MUTEX_INITIALIZER;
unsigned g_records_used = 1;
ThreadRecord *g_free_records = nullptr;
pthread_key_t g_exit_key;

// The record of a thread that has none (too many threads, or exiting):
// always full, so nothing is checked.
ThreadRecord g_no_record_storage{{}, {0}, {kMaxNest}, 0, nullptr, nullptr, nullptr, 0};
ThreadRecord *const kNoRecord = &g_no_record_storage;

constexpr uint64_t make_word(uint64_t key_bits, unsigned number) { return (key_bits << kThreadBits) | number; }
constexpr uint64_t key_bits_of(uint64_t word) { return word >> kThreadBits; }
constexpr unsigned number_of(uint64_t word) { return static_cast<unsigned>(word & (kMaxThreads - 1)); }

int g_initial_tid = 0;
std::atomic<bool> g_null_tracking_reported{false};

int gettid_now() { return static_cast<int>(syscall(SYS_gettid)); }

void give_back(void *p) {
    auto *r = static_cast<ThreadRecord *>(p);
    // talloc calls from later thread-specific destructors go unchecked: the
    // record may be another thread's by then.
    t_record = kNoRecord;
    pthread_mutex_lock(&g_records_lock);
    r->next_free = g_free_records;
    g_free_records = r;
    pthread_mutex_unlock(&g_records_lock);
}

}  // namespace

ThreadRecord *detail::register_thread() {
    ThreadRecord *r = nullptr;
    pthread_mutex_lock(&g_records_lock);
    if (g_free_records != nullptr) {
        r = g_free_records;
        g_free_records = r->next_free;
    } else if (g_records_used < kMaxThreads) {
        // Plain malloc: the record must not live in a talloc hierarchy.
        void *mem = calloc(1, sizeof(ThreadRecord));
        if (mem != nullptr) {
            r = new (mem) ThreadRecord{};
            r->number = g_records_used++;
            g_records[r->number].store(r, std::memory_order_release);
        }
    }
    pthread_mutex_unlock(&g_records_lock);
    if (r == nullptr) return t_record = kNoRecord;
    r->tid.store(gettid_now(), std::memory_order_relaxed);
    r->depth.store(0, std::memory_order_relaxed);
    pthread_setspecific(g_exit_key, r);
    return t_record = r;
}

namespace {

int self_tid() {
    ThreadRecord *r = this_thread();
    return r != kNoRecord ? r->tid.load(std::memory_order_relaxed) : gettid_now();
}

// Whether r is inside key right now; the level it is at, or -1.
int level_inside(const ThreadRecord *r, const void *key) {
    int depth = r->depth.load(std::memory_order_acquire);
    for (int l = 0; l < depth && l < kMaxNest; l++) {
        for (const auto &k : r->levels[l].keys) {
            if (k.load(std::memory_order_acquire) == key) return l;
        }
    }
    return -1;
}

// A child process has only the forking thread: the table starts empty
// there and that thread's record takes its new thread id.
void reset_in_child() {
    for (Bucket &b : g_table) {
        for (auto &w : b.ways) w.store(0, std::memory_order_relaxed);
    }
    ThreadRecord *r = t_record;
    if (r != nullptr && r != kNoRecord) r->tid.store(gettid_now(), std::memory_order_relaxed);
}

__attribute__((constructor)) void read_thread_check() {
    const char *v = getenv("TALLOC_THREAD_CHECK");
    if (v == nullptr || strcmp(v, "1") != 0) return;
    if (pthread_key_create(&g_exit_key, give_back) != 0) return;
    g_initial_tid = gettid_now();
    pthread_atfork(nullptr, nullptr, reset_in_child);
    g_enabled = true;
}

// A raw chunk name (Chunk::raw_name()) as name_of() spells it.
const char *spelt(const char *raw) {
    if (raw == kReferenceName) return ".reference";
    return raw != nullptr ? raw : "UNNAMED";
}

const char *chunk_name(const void *ptr) { return live(ptr) != nullptr ? spelt(raw_name(ptr)) : "(none)"; }

void report_overlap(const ThreadRecord &other, int level, const void *key, const char *op, const char *name) {
    const ThreadRecord::Level &l = other.levels[level];
    const char *other_op = l.op.load(std::memory_order_relaxed);
    const char *other_name = spelt(l.chunk_name.load(std::memory_order_relaxed));
    char reason[1024];
    snprintf(reason, sizeof(reason),
             "talloc: thread check: thread %d in %s (chunk \"%s\") entered the children of %p \"%s\" while "
             "thread %d is inside %s (chunk \"%s\") there; one talloc hierarchy must not be used by two "
             "threads at once: give each thread its own top-level context and hand memory over with "
             "talloc_steal() under a mutex",
             self_tid(), op, spelt(name), key, chunk_name(key), other.tid.load(std::memory_order_relaxed),
             other_op != nullptr ? other_op : "?", other_name);
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
             self_tid(), spelt(name), op, g_initial_tid);
    if (has_log_fn()) log("%s", message);
    else fputs(message, stderr);
}

}  // namespace

// Looks key up for thread `me` (already published as inside it): false
// when another thread is inside it too.  A key missing from the table
// takes a free word, or the word of a key nobody is inside now.  Plain
// stores, no read-modify-write: two threads writing one word at the same
// instant lose one write, which can only make the check miss an overlap.

bool detail::check_key_slow(ThreadRecord *me, const void *key, uint64_t bits, Bucket &b, const char *op,
                            const char *name) {
    uint64_t mine = make_word(bits, me->number);
    std::atomic<uint64_t> *spare = nullptr;
    for (auto &w : b.ways) {
        uint64_t word = w.load(std::memory_order_acquire);
        if (word != 0 && key_bits_of(word) == bits) {
            ThreadRecord *other = g_records[number_of(word)].load(std::memory_order_acquire);
            int level = other != nullptr && other != me ? level_inside(other, key) : -1;
            if (level >= 0) {
                report_overlap(*other, level, key, op, name);
                return false;
            }
            w.store(mine, std::memory_order_release);  // last used by a thread not inside it now
            return true;
        }
        if (spare == nullptr && word == 0) spare = &w;
    }
    if (spare == nullptr) {
        // Full: take the word of a key its thread is not inside now, ours
        // first (another thread's may be in use again soon).
        std::atomic<uint64_t> *theirs = nullptr;
        for (auto &w : b.ways) {
            uint64_t word = w.load(std::memory_order_acquire);
            ThreadRecord *other = g_records[number_of(word)].load(std::memory_order_acquire);
            const void *its_key = reinterpret_cast<const void *>(key_bits_of(word) << 4);
            if (other != nullptr && level_inside(other, its_key) >= 0) continue;
            if (other == me) {
                spare = &w;
                break;
            }
            if (theirs == nullptr) theirs = &w;
        }
        if (spare == nullptr) spare = theirs;
        if (spare == nullptr) return true;  // every word in use right now: not checked
    }
    spare->store(mine, std::memory_order_release);
    return true;
}

void detail::made_under_null_context(const char *op, const char *name) {
    if (self_tid() != g_initial_tid) report_null_tracking(op, name);
}

}  // namespace tal::threads

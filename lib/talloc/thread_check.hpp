// TALLOC_THREAD_CHECK=1: two threads inside one talloc sibling list at the
// same time are reported when it happens, not as a corrupted heap later.
//
// Each mutating export is, for its duration, "inside" the parent whose
// sibling list it changes (and the chunk itself when its own children or
// links move): the thread publishes those keys in its own record.  A fixed
// striped table maps each key to the thread that last used it; a thread
// finding another thread there looks at that thread's record, and if that
// thread is inside the same key right now it reports both threads, both
// operations, the parent's name and the chunks' names through the log
// function and then the abort function; if the abort function returns,
// the operation is refused (it fails as on bad input).  A thread using its
// own hierarchy finds itself in the table and writes only its own record:
// no atomic read-modify-write, no lock.
//
// The check may miss a race (two threads entering in the same instant, a
// table stripe full, a chunk far down a long sibling list, a pool shared by
// different parents) but never reports correct use: a thread is only
// "inside" a key while it is inside an export, so the two overlap in time.
//
// Off (the default) it costs one predictable branch per export: the Guard
// below does nothing else unless g_enabled was set at start-up.
#pragma once

#include <atomic>
#include <cstdint>

#include "core.hpp"
#include "diagnostics.hpp"

namespace tal::threads {

// Read once, from the environment, by a constructor of the library.
extern TAL_HIDDEN bool g_enabled;

// What an export is about to change.
enum class Scope : uint8_t {
    Under,    // a: allocation context (NULL: the null context, if tracked)
    Chunk,    // a: chunk; its parent's list and its own children (names)
    Release,  // a: chunk that may be freed or moved; its parent's list only
    Rename,   // a: chunk renamed in place; its parent's list only
    Self,     // a: chunk; only its own children (talloc_free_children)
    Move,     // a: new parent, b: chunk; both parents' lists
    Realloc,  // a: context, b: chunk (NULL: an allocation under a), as Release
    Pair,     // a: context, b: chunk; the two given chunks (references)
};

// Exports nest on one thread only through destructors (and log or abort
// functions) called by an outer export; deeper levels are not checked.
constexpr int kMaxNest = 8;

// What one thread is inside, published for the other threads.
struct ThreadRecord {
    struct Level {
        std::atomic<const void *> keys[2];
        std::atomic<const char *> op;
        // The chunk's raw name (Chunk::raw_name(): null or kReferenceName
        // are spelt out by the report).
        std::atomic<const char *> chunk_name;
    };
    Level levels[kMaxNest];
    std::atomic<int> tid;
    // Levels in use; written by its own thread only, read by others to
    // bound their look at `levels` (a stale value only shortens or
    // lengthens that look).
    std::atomic<int> depth;
    unsigned number;  // its index in the thread table
    ThreadRecord *next_free;
    // The table word this thread last found its own number in, and the
    // key: the next look at the same key compares that word again instead
    // of hashing (its own thread only; last_key null: none).
    const void *last_key;
    const std::atomic<uint64_t> *last_way;
    uint64_t last_word;

    void leave(int level) {
        for (auto &k : levels[level].keys) k.store(nullptr, std::memory_order_release);
        depth.store(level, std::memory_order_release);
    }
};

// The table and the slow paths (thread_check.cpp).  The common case of a
// check, inline in each export, is: publish the keys in this thread's
// record, find this thread's number beside each key in the table, leave.
namespace detail {

// Live threads are numbered 1..kMaxThreads-1 (0: nobody).
constexpr unsigned kThreadBits = 12;
constexpr unsigned kMaxThreads = 1u << kThreadBits;

// A key (a chunk's address / 16) and the number of the thread that last
// used it, in one word; 4-way buckets, 4096 words.  A thread that keeps
// to its own hierarchy finds its own number and writes nothing.
constexpr unsigned kWays = 4;
constexpr unsigned kBucketBits = 10;
struct alignas(32) Bucket {
    std::atomic<uint64_t> ways[kWays];
};
extern Bucket g_table[1u << kBucketBits];

// Siblings walked back to find a chunk's parent; beyond that the parent is
// not checked rather than making a free O(siblings).
constexpr int kParentWalk = 64;

// This thread's record; null before its first checked export.
extern __thread ThreadRecord *t_record __attribute__((tls_model("initial-exec")));
__attribute__((noinline)) ThreadRecord *register_thread();

inline ThreadRecord *this_thread() {
    ThreadRecord *r = t_record;
    return TAL_LIKELY(r != nullptr) ? r : register_thread();
}

// The key missing beside this thread's number: another thread used it
// last (reported if it is inside it now), or it is new to the table.
__attribute__((noinline)) bool check_key_slow(ThreadRecord *me, const void *key, uint64_t bits, Bucket &b,
                                              const char *op, const char *name);

// True when this thread used key last: nothing to write.  Otherwise the
// slow path; false when another thread is inside key (reported).
inline bool check_key(ThreadRecord *me, const void *key, const char *op, const char *name) {
    if (key == me->last_key && me->last_way->load(std::memory_order_acquire) == me->last_word) return true;
    // Chunks are 16-aligned.  Addresses beyond 2^56 would alias in the
    // word, which is harmless: a report needs the full address in a
    // thread's record.
    uint64_t bits = reinterpret_cast<uint64_t>(key) >> 4;
    uint64_t mine = (bits << kThreadBits) | me->number;
    Bucket &b = g_table[(bits * 0x9e3779b97f4a7c15ull) >> (64 - kBucketBits)];
    for (const auto &w : b.ways) {
        if (w.load(std::memory_order_acquire) == mine) {
            me->last_key = key;
            me->last_way = &w;
            me->last_word = mine;
            return true;
        }
    }
    return check_key_slow(me, key, bits, b, op, name);
}

// A top-level chunk made with null tracking on: reported (once) when this
// is not the initial thread.
__attribute__((noinline)) void made_under_null_context(const char *op, const char *name);

// The chunk behind ptr if it looks live; unlike checked() it never reports,
// as the operation itself will report a bad pointer its own way.
inline Chunk *live(const void *ptr) {
    if (ptr == nullptr) return nullptr;
    Chunk *tc = Chunk::from_payload(ptr);
    return chunk_intact(tc) ? tc : nullptr;
}

inline const void *parent_key(const Chunk *tc) {
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

inline const char *raw_name(const void *ptr) {
    Chunk *tc = live(ptr);
    return tc != nullptr ? tc->raw_name() : nullptr;
}

}  // namespace detail

// Inline in the export (through run_guarded): with the check on, the
// common case costs the publication, one table word per key and the leave.
class Guard {
public:
    // `op` is the export's name; `name` the new chunk's name (Under).
    __attribute__((always_inline)) Guard(Scope scope, const char *op, const void *a, const void *b = nullptr,
                                         const char *name = nullptr) {
        if (TAL_UNLIKELY(g_enabled)) dispatch(scope, op, a, b, name);
    }
    // For run_guarded(), reached only with the check on: no second test.
    struct Enabled {};
    __attribute__((always_inline)) Guard(Enabled, Scope scope, const char *op, const void *a, const void *b,
                                         const char *name) {
        dispatch(scope, op, a, b, name);
    }
    ~Guard() {
        if (TAL_UNLIKELY(record_ != nullptr)) record_->leave(level_);
    }
    Guard(const Guard &) = delete;
    Guard &operator=(const Guard &) = delete;

    // Another thread was inside and the abort function returned.
    bool refused() const { return refused_; }

private:
    // The scope is a constant at every call site: this folds to one case.
    __attribute__((always_inline)) void dispatch(Scope scope, const char *op, const void *a, const void *b,
                                                 const char *name) {
        switch (scope) {
        case Scope::Under: enter_under(op, a, name); break;
        case Scope::Realloc:
            if (b == nullptr) enter_under(op, a, name);
            else enter_chunk(op, b, false);
            break;
        case Scope::Chunk: enter_chunk(op, a, true); break;
        case Scope::Release:
        case Scope::Rename: enter_chunk(op, a, false); break;
        case Scope::Self: enter_self(op, a); break;
        case Scope::Move: enter_move(op, a, b); break;
        case Scope::Pair: enter_pair(op, a, b); break;
        }
    }

    __attribute__((always_inline)) void enter_under(const char *op, const void *ctx, const char *name) {
        if (ctx == nullptr) {
            if (g_null_context == nullptr) return;  // a parentless chunk: no list
            detail::made_under_null_context(op, name);
            ctx = g_null_context;
        }
        inside(ctx, nullptr, op, name);
    }

    // A chunk the operation may free (or move) is not published as a key:
    // its address can be another thread's new chunk before this call
    // returns.
    __attribute__((always_inline)) void enter_chunk(const char *op, const void *ptr, bool itself) {
        Chunk *tc = detail::live(ptr);
        if (tc == nullptr) return;
        inside(detail::parent_key(tc), itself ? ptr : nullptr, op, tc->raw_name());
    }

    __attribute__((always_inline)) void enter_self(const char *op, const void *ptr) {
        Chunk *tc = detail::live(ptr);
        if (tc != nullptr) inside(ptr, nullptr, op, tc->raw_name());
    }

    __attribute__((always_inline)) void enter_move(const char *op, const void *new_ctx, const void *ptr) {
        Chunk *tc = detail::live(ptr);
        if (tc == nullptr) return;
        const char *what = tc->raw_name();
        if (new_ctx == nullptr && g_null_context != nullptr) detail::made_under_null_context(op, what);
        inside(detail::parent_key(tc), effective_ctx(new_ctx), op, what);
    }

    __attribute__((always_inline)) void enter_pair(const char *op, const void *ctx, const void *ptr) {
        inside(effective_ctx(ctx), ptr, op, detail::raw_name(ptr));
    }

    __attribute__((always_inline)) void inside(const void *key0, const void *key1, const char *op,
                                               const char *what) {
        if (key1 == key0) key1 = nullptr;
        if (key0 == nullptr) {
            if (key1 == nullptr) return;
            key0 = key1;
            key1 = nullptr;
        }
        ThreadRecord *me = detail::this_thread();
        int level = me->depth.load(std::memory_order_relaxed);
        if (TAL_UNLIKELY(level >= kMaxNest)) return;
        record_ = me;
        level_ = level;
        ThreadRecord::Level &l = me->levels[level];
        l.op.store(op, std::memory_order_relaxed);
        l.chunk_name.store(what, std::memory_order_relaxed);
        // Published before looking: of two threads entering the same key,
        // the later one sees the earlier one inside.
        l.keys[0].store(key0, std::memory_order_release);
        if (key1 != nullptr) l.keys[1].store(key1, std::memory_order_release);
        me->depth.store(level + 1, std::memory_order_release);
        if (TAL_UNLIKELY(!detail::check_key(me, key0, op, what) ||
                         (key1 != nullptr && !detail::check_key(me, key1, op, what))))
            refused_ = true;
    }

    ThreadRecord *record_ = nullptr;  // this thread's, while inside
    bool refused_ = false;
    int level_ = 0;                   // nesting level on this thread (set with record_)
};

// Runs body (the rest of an export) inside a Guard; out of line, so that
// with the check off an export is one test and a tail call.  Only called
// with the check on.
template <typename R, typename Body>
__attribute__((noinline)) R run_guarded(R failure, Body &body, Scope scope, const char *op, const void *a,
                                        const void *b = nullptr, const char *name = nullptr) {
    Guard guard(Guard::Enabled{}, scope, op, a, b, name);
    if (TAL_UNLIKELY(guard.refused())) return failure;
    return body();
}

template <typename Body>
__attribute__((noinline)) void run_guarded_void(Body &body, Scope scope, const char *op, const void *a,
                                                const void *b = nullptr, const char *name = nullptr) {
    Guard guard(Guard::Enabled{}, scope, op, a, b, name);
    if (TAL_LIKELY(!guard.refused())) body();
}

}  // namespace tal::threads

#define TAL_THREAD_UNPAREN(...) __VA_ARGS__

// An export's body, checked: TAL_THREAD_CHECKED(return type, value on
// refusal, (Guard arguments), { body });  A refused operation returns the
// failure value without touching the hierarchy.
// The body is spelt twice: inline on the fast path, so that nothing (not
// even the closure) is built before the one test.
#define TAL_THREAD_CHECKED(type, failure, guard_args, ...)                                          \
    if (TAL_LIKELY(!::tal::threads::g_enabled)) __VA_ARGS__                                         \
    auto tal_thread_body_ = [=]() -> type __VA_ARGS__;                                              \
    return ::tal::threads::run_guarded<type>(failure, tal_thread_body_, TAL_THREAD_UNPAREN guard_args)

#define TAL_THREAD_CHECKED_VOID(guard_args, ...)                                                   \
    if (TAL_LIKELY(!::tal::threads::g_enabled)) {                                                   \
        __VA_ARGS__ return;                                                                         \
    }                                                                                               \
    auto tal_thread_body_ = [=]() -> void __VA_ARGS__;                                              \
    return ::tal::threads::run_guarded_void(tal_thread_body_, TAL_THREAD_UNPAREN guard_args)

// The same for the variadic exports (va_start cannot go into a lambda);
// they format, so the guard's cost off does not show: the guard lives to
// the end of the function.
#define TAL_THREAD_GUARD(failure, ...)                       \
    ::tal::threads::Guard tal_thread_guard_(__VA_ARGS__);    \
    if (TAL_UNLIKELY(tal_thread_guard_.refused())) return failure

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

#include "diagnostics.hpp"

namespace tal::threads {

// Read once, from the environment, by a constructor of the library.
extern bool g_enabled;

// What an export is about to change.
enum class Scope : uint8_t {
    Under,    // a: allocation context (NULL: the null context, if tracked)
    Chunk,    // a: chunk; its parent's list and its own children (names)
    Release,  // a: chunk that may be freed or moved; its parent's list only
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

    void leave(int level) {
        for (auto &k : levels[level].keys) k.store(nullptr, std::memory_order_release);
        depth.store(level, std::memory_order_release);
    }
};

class Guard {
public:
    // `op` is the export's name; `name` the new chunk's name (Under).
    Guard(Scope scope, const char *op, const void *a, const void *b = nullptr, const char *name = nullptr) {
        if (TAL_UNLIKELY(g_enabled)) dispatch(scope, op, a, b, name);
    }
    ~Guard() {
        if (TAL_UNLIKELY(record_ != nullptr)) leave();
    }
    Guard(const Guard &) = delete;
    Guard &operator=(const Guard &) = delete;

    // Another thread was inside and the abort function returned.
    bool refused() const { return refused_; }

private:
    // The scope is a constant at every call site: this folds to one call.
    void dispatch(Scope scope, const char *op, const void *a, const void *b, const char *name) {
        switch (scope) {
        case Scope::Under: enter_under(op, a, name); break;
        case Scope::Realloc:
            if (b == nullptr) enter_under(op, a, name);
            else enter_chunk(op, b, false);
            break;
        case Scope::Chunk: enter_chunk(op, a, true); break;
        case Scope::Release: enter_chunk(op, a, false); break;
        case Scope::Self: enter_self(op, a); break;
        case Scope::Move: enter_move(op, a, b); break;
        case Scope::Pair: enter_pair(op, a, b); break;
        }
    }
    void enter_under(const char *op, const void *ctx, const char *name);
    void enter_chunk(const char *op, const void *ptr, bool itself);
    void enter_self(const char *op, const void *ptr);
    void enter_move(const char *op, const void *new_ctx, const void *ptr);
    void enter_pair(const char *op, const void *ctx, const void *ptr);
    void inside(const void *key0, const void *key1, const char *op, const char *what);
    void leave() { record_->leave(level_); }

    ThreadRecord *record_ = nullptr;  // this thread's, while inside
    bool refused_ = false;
    int level_;                       // nesting level on this thread (set with record_)
};

// Runs body (the rest of an export) inside a Guard; out of line, so that
// with the check off an export is one test and a tail call.
template <typename R, typename Body>
__attribute__((noinline)) R run_guarded(R failure, Body &body, Scope scope, const char *op, const void *a,
                                        const void *b = nullptr, const char *name = nullptr) {
    Guard guard(scope, op, a, b, name);
    if (TAL_UNLIKELY(guard.refused())) return failure;
    return body();
}

template <typename Body>
__attribute__((noinline)) void run_guarded_void(Body &body, Scope scope, const char *op, const void *a,
                                                const void *b = nullptr, const char *name = nullptr) {
    Guard guard(scope, op, a, b, name);
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

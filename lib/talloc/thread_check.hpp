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

#include <cstdint>

#include "diagnostics.hpp"

namespace tal::threads {

// Read once, from the environment, by a constructor of the library.
extern bool g_enabled;

// What an export is about to change.
enum class Scope : uint8_t {
    Under,    // a: allocation context (NULL: the null context, if tracked)
    Chunk,    // a: chunk; its parent's list and its own children
    Free,     // a: chunk, as Chunk; then it is gone
    Self,     // a: chunk; only its own children (talloc_free_children)
    Move,     // a: new parent, b: chunk; both parents' lists
    Realloc,  // a: context, b: chunk (NULL: an allocation under a)
    Pair,     // a: context, b: chunk; the two given chunks (references)
};

struct ThreadRecord;

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
        case Scope::Chunk: enter_chunk(op, a, false); break;
        case Scope::Free: enter_chunk(op, a, true); break;
        case Scope::Self: enter_self(op, a); break;
        case Scope::Move: enter_move(op, a, b); break;
        case Scope::Pair: enter_pair(op, a, b); break;
        }
    }
    void enter_under(const char *op, const void *ctx, const char *name);
    void enter_chunk(const char *op, const void *ptr, bool freeing);
    void enter_self(const char *op, const void *ptr);
    void enter_move(const char *op, const void *new_ctx, const void *ptr);
    void enter_pair(const char *op, const void *ctx, const void *ptr);
    void inside(const void *key0, const void *key1, const char *op, const char *what, bool freeing = false);
    void leave();

    ThreadRecord *record_ = nullptr;  // this thread's, while inside
    bool refused_ = false;
    bool forget_;                     // the chunk is being freed (set with record_)
    int level_;                       // nesting level on this thread (set with record_)
};

}  // namespace tal::threads

// One line per export: the guard lives to the end of the function; a
// refused operation returns `failure` without touching the hierarchy.
#define TAL_THREAD_GUARD(failure, ...)                       \
    ::tal::threads::Guard tal_thread_guard_(__VA_ARGS__);    \
    if (TAL_UNLIKELY(tal_thread_guard_.refused())) return failure

// TALLOC_THREAD_CHECK=1: two threads inside one talloc sibling list at the
// same time are reported when it happens, not as a corrupted heap later.
//
// Each mutating export holds, for its duration, the parent whose sibling
// list it changes (and the chunk itself where its own children or links
// move) in a fixed striped table of occupancy records taken with one
// compare-and-swap.  A thread finding a record held by another thread
// reports both threads, both operations, the parent's name and the chunks'
// names through the log function and then the abort function; if the abort
// function returns, the operation is refused (it fails as on bad input).
//
// The check may miss a race (a record stripe full, a chunk far down a long
// sibling list, a pool shared by different parents) but never reports
// correct use: a record is only ever held while its thread is inside an
// export, so two holders always overlap in time.
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
    Self,     // a: chunk; only its own children (talloc_free_children)
    Move,     // a: new parent, b: chunk; both parents' lists
    Realloc,  // a: context, b: chunk (NULL: an allocation under a)
    Pair,     // a: context, b: chunk; the two given chunks (references)
};

struct Slot;

class Guard {
public:
    // `op` is the export's name; `name` the new chunk's name (Under).
    Guard(Scope scope, const char *op, const void *a, const void *b = nullptr, const char *name = nullptr) {
        if (TAL_UNLIKELY(g_enabled)) enter(scope, op, a, b, name);
    }
    ~Guard() {
        if (TAL_UNLIKELY(held_ != 0)) leave();
    }
    Guard(const Guard &) = delete;
    Guard &operator=(const Guard &) = delete;

    // Another thread was inside and the abort function returned.
    bool refused() const { return refused_; }

private:
    void enter(Scope scope, const char *op, const void *a, const void *b, const char *name);
    bool hold(const void *key, const char *op, const char *chunk_name);
    void leave();

    Slot *slots_[2];
    const void *keys_[2];
    uint8_t held_ = 0;
    bool refused_ = false;
};

}  // namespace tal::threads

// One line per export: the guard lives to the end of the function; a
// refused operation returns `failure` without touching the hierarchy.
#define TAL_THREAD_GUARD(failure, ...)                       \
    ::tal::threads::Guard tal_thread_guard_(__VA_ARGS__);    \
    if (TAL_UNLIKELY(tal_thread_guard_.refused())) return failure

// Memory limits (talloc_set_memlimit).
//
// A limit is owned by one chunk (kept in its Ext) and covers the owner's
// subtree.  Usage is counted in the reference's units, so the same program
// hits a limit at the same allocation with either library: a chunk costs its
// size plus the reference's 96-byte header, a pool its pool size plus both
// reference headers, and memory carved from a pool nothing.
//
// Instead of every chunk pointing at its limit, the limits that apply to a
// chunk are found by walking its ancestors.  That walk only happens while at
// least one limit exists anywhere, so programs without limits pay one
// relaxed atomic load per allocation.
#pragma once

#include <atomic>
#include <cstddef>

#include "chunk.hpp"

namespace tal {

struct MemLimit {
    size_t max_size;   // 0 = unlimited
    size_t cur_size;
};

extern TAL_HIDDEN std::atomic<size_t> g_live_limits;

inline bool limits_active() { return g_live_limits.load(std::memory_order_relaxed) != 0; }

inline MemLimit *owned_limit(const Chunk *tc) {
    Ext *e = tc->ext();
    return e ? e->limit : nullptr;
}

// What one chunk counts towards a limit (its own bytes, not its children's).
size_t accounted_bytes(const Chunk *tc);

// What a subtree counts; a limit owner (the root too) counts its cur_size.
size_t accounted_subtree(Chunk *tc);

// Checks that `amount` more bytes fit under every limit covering `from`
// (from itself and its ancestors) and adds them; false (nothing added) if not.
bool memlimit_charge(Chunk *from, size_t amount);
// Adds or removes bytes without checking (reparenting, frees).
void memlimit_grow_slow(Chunk *from, size_t amount);
void memlimit_shrink_slow(Chunk *from, size_t amount);
inline void memlimit_grow(Chunk *from, size_t amount) {
    if (limits_active()) memlimit_grow_slow(from, amount);
}
inline void memlimit_shrink(Chunk *from, size_t amount) {
    if (limits_active()) memlimit_shrink_slow(from, amount);
}
// Only the check.
bool memlimit_fits_slow(Chunk *from, size_t amount);
inline bool memlimit_fits(Chunk *from, size_t amount) {
    return !limits_active() || memlimit_fits_slow(from, amount);
}

// Is any limit covering tc?
bool covered_by_limit_slow(Chunk *tc);
inline bool covered_by_limit(Chunk *tc) { return limits_active() && covered_by_limit_slow(tc); }

int set_memlimit(Chunk *tc, size_t max_size);

// The limit owned by a dying chunk.
void memlimit_destroy(MemLimit *limit);

}  // namespace tal

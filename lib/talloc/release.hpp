// Where a dead chunk's memory goes, decided in one place for every free and
// every realloc move (release_dead(), and release_plain_leaves() for runs of
// children), and "plain" chunks: no destructor, references, limits or pool
// of their own, nothing the free has to wait for.  Used by free.cpp,
// realloc.cpp and reference.cpp (whose shortcut for reference handles skips
// the general free's steps, not this decision).
#pragma once

#include "cache.hpp"
#include "diagnostics.hpp"
#include "memlimit.hpp"
#include "pool.hpp"

namespace tal {

constexpr uint32_t kPlainFlagsMask = kFlagExt | kFlagLoop | kFlagPool | kFlagDying;

inline bool is_plain_but_children(const Chunk *tc) {
    return (tc->flags & kPlainFlagsMask) == 0 && !tc->has_destructor() && !limits_active();
}

inline bool is_plain_leaf(const Chunk *tc) { return tc->child == nullptr && is_plain_but_children(tc); }

// is_plain_leaf() but for the process-wide test (memory limits), for loops
// that make that test once for every chunk they free.  The children a free
// reaches are verified here first: a damaged chunk is never plain, and the
// general path reports it.
inline bool is_plain_leaf_itself(const Chunk *tc) {
    return chunk_intact(tc) && tc->child == nullptr && (tc->flags & kPlainFlagsMask) == 0 && !tc->has_destructor();
}

// is_plain_leaf_itself(), and a member of `pool`.
inline bool is_plain_member_of(Chunk *tc, const PoolHeader *pool) {
    return is_plain_leaf_itself(tc) && tc->has(kFlagPoolMem) && owner_slot(tc) == pool;
}

// A leaf that would be plain but for its destructor.
inline bool is_plain_leaf_but_destructor(const Chunk *tc) {
    return tc->child == nullptr && (tc->flags & kPlainFlagsMask) == 0 && !limits_active();
}

// The one place that decides where a dead chunk's memory goes: a pool
// chunk and a pool member to their pool, a slab cell or block of its own to
// the thread's cache (which hands it to its slab or to free()).  Marks the
// chunk freed, with where, so later uses are reported.
inline void release_dead(Chunk *tc, const char *location) {
    if (tc->has(kFlagPoolMem)) {
        pool_release_member(tc, location);
        return;
    }
    mark_freed(tc, location);
    if (TAL_UNLIKELY(tc->has(kFlagPool))) pool_release_pool_chunk(tc);
    else cache_free(tc, block_bytes(tc->size));
}

// release_dead() for the run of plain-leaf siblings that starts at c, whose
// list the caller mends afterwards; returns the first sibling that is not
// a plain leaf.  For the loops that free many children at once: the
// thread's cache pointer, and a pool's count and end (pool_release_run()),
// stay in registers across the run.  Only while neither memory limits nor
// TALLOC_FREE_FILL are on: freeing plain leaves cannot change them, but the
// compiler must assume free() can, so the caller tests them once.
__attribute__((always_inline)) inline Chunk *release_plain_leaves(Chunk *c, const char *location) {
    while (c != nullptr && is_plain_leaf_itself(c)) {
        // A run of slab cells and malloc'd children.  free() does not touch
        // the thread's cache, so the pointer to it is loaded again only
        // after the cache was just created.
        ThreadCache *cache = t_cache;
        while (!c->has(kFlagPoolMem)) {
            Chunk *next = c->next;
            mark_freed(c, location);
            if (TAL_LIKELY(cache != nullptr)) {
                cache_free_many(cache, c, block_bytes(c->size));
            } else {
                cache_free_slow(c, block_bytes(c->size));
                cache = t_cache;
            }
            c = next;
            if (c == nullptr || !is_plain_leaf_itself(c)) return c;
        }
        // A run of members of one pool, given back in one batch.  A
        // damaged pool header is left to the general path, which reports it.
        PoolHeader *pool = owner_slot(c);
        if (TAL_UNLIKELY(!pool_intact(pool))) return c;
        c = pool_release_run(pool, c, location, is_plain_member_of);
    }
    return c;
}

// Marks a dead plain chunk freed and recycles its memory.
inline void release_plain(Chunk *tc, const char *location) {
    fill_freed(tc->payload(), tc->size);
    release_dead(tc, location);
}

inline void free_plain_leaf(Chunk *tc, const char *location) {
    unlink_keep_parent(tc);
    release_plain(tc, location);
}

}  // namespace tal

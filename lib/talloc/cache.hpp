// A per-thread cache of freed small chunk blocks.
//
// Most talloc programs free and allocate small chunks in tight loops; handing
// each block back to malloc and asking for it again costs more than the rest
// of the talloc work together.  Each thread keeps a bounded stack of freed
// blocks per 16-byte size class and reuses them.  Each class is bounded on
// its own (1 KiB): a loop only needs a few blocks of a class back, and a
// class the thread frees into but never allocates from (say, strings grown
// by realloc) must not pile up to a large cap in every one of a thousand
// threads.  Blocks may be freed on
// another thread than the one that allocated them (memory handed over under
// a mutex, as in talloc's thread documentation): they simply join the
// freeing thread's cache.  A thread's cache goes back to malloc when the
// thread exits.
#pragma once

#include <cstddef>
#include <cstdlib>

#include "chunk.hpp"
#include "diagnostics.hpp"
#include "slab.hpp"

namespace tal {

constexpr size_t kCacheClasses = 32;          // blocks up to 512 bytes
constexpr uint32_t kCacheClassBytes = 1024;   // at most 32 KiB per thread

struct FreeBlock {
    FreeBlock *next;
};

struct ThreadCache {
    FreeBlock *heads[kCacheClasses];
    uint32_t room[kCacheClasses];   // bytes each class may still take
    SlabHeap slabs;                 // the thread's slabs (slab.hpp)
};

// Bytes the cache holds (for tests).
inline size_t cache_held_bytes(const ThreadCache *c) {
    size_t held = 0;
    for (uint32_t r : c->room) held += kCacheClassBytes - r;
    return held;
}

extern __thread ThreadCache *t_cache __attribute__((tls_model("initial-exec")));

// Bytes a chunk with `size` payload occupies; cached blocks are exactly this.
inline size_t block_bytes(size_t size) { return align16(sizeof(Chunk) + size); }

// The thread's cache, created if need be (nullptr when that fails or the
// thread is exiting).
ThreadCache *cache_get();

inline SlabHeap *thread_slabs() {
    ThreadCache *c = t_cache;
    return c != nullptr ? &c->slabs : nullptr;
}

// A block of exactly `bytes` the thread has at hand, marked valid (state 0
// plus its slab index), or nullptr: a block from the cache (a malloc'd one
// or a slab cell), else a free cell of the class's current slab.
// allocate()'s fast path: no calls.
inline Chunk *chunk_pop(size_t bytes) {
    ThreadCache *c = t_cache;
    if (c == nullptr) return nullptr;
    size_t cls = bytes / kAlign;
    if (cls < kCacheClasses) {
        if (FreeBlock *b = c->heads[cls]) {
            c->heads[cls] = b->next;
            c->room[cls] += static_cast<uint32_t>(bytes);
            TAL_ASSERT(c->room[cls] <= kCacheClassBytes);
            auto *tc = reinterpret_cast<Chunk *>(b);
            // The cache holds malloc'd blocks and slab cells alike; a dead
            // chunk's flags word is untouched there, so it still tells which.
            mark_valid(tc, tc->flags & kIndexMask);
            return tc;
        }
    }
    return bytes <= kSlabMaxBlock ? slab_pop_leaf(&c->slabs, bytes) : nullptr;
}

// chunk_pop(), else a slab cell or a new malloc'd block; marked valid.
Chunk *chunk_alloc(size_t bytes);

// Slow path of cache_free: creates the cache or hands the block back.
void cache_free_slow(void *block, size_t bytes);

// Gives a dead slab cell back to its slab (a call: inlined, it would keep
// single frees from being inlined themselves).
void chunk_free_cell(Chunk *tc, size_t bytes);

// A dead chunk's block the cache does not keep: to its slab, or to free().
inline void block_release(void *block, size_t bytes) {
    auto *tc = static_cast<Chunk *>(block);
    if (is_slab_cell(tc)) chunk_free_cell(tc, bytes);
    else free(block);
}

// cache_free() into the thread's cache c, already looked up (not nullptr).
inline void cache_free_to(ThreadCache *c, void *block, size_t bytes) {
    size_t cls = bytes / kAlign;
    if (cls < kCacheClasses && c->room[cls] >= bytes) {
        auto *b = static_cast<FreeBlock *>(block);
        b->next = c->heads[cls];
        c->heads[cls] = b;
        c->room[cls] -= static_cast<uint32_t>(bytes);
    } else {
        block_release(block, bytes);   // big, or its class is full (freeing many chunks at once)
    }
}

// Gives back the block of a dead chunk of `bytes` (block_bytes of its size,
// not above the block's real capacity): to the thread's cache while it has
// room, then to its slab or to free().  Slab cells go through the cache
// too: a loop that frees and allocates small chunks then costs the same
// whichever kind its blocks are.
inline void cache_free(void *block, size_t bytes) {
    ThreadCache *c = t_cache;
    if (TAL_UNLIKELY(c == nullptr)) cache_free_slow(block, bytes);
    else cache_free_to(c, block, bytes);
}

}  // namespace tal

// A per-thread cache of freed chunk blocks.
//
// Most talloc programs free and allocate chunks in tight loops; handing
// each block back to malloc and asking for it again costs more than the rest
// of the talloc work together.  Each thread keeps a bounded stack of freed
// blocks per 16-byte size class below 512 bytes (cache_class) and reuses them.  Each class
// is bounded on its own (1 KiB): a loop only needs a few blocks of a class
// back, and a class the thread frees into but never allocates from (say,
// strings grown by realloc) must not pile up to a large cap in every one of
// a thousand threads.  Larger malloc'd blocks, up to 128 KiB, have classes
// four to a power of two (512, 640, 768, 896, 1024, 1280, ...), all of them
// sharing one budget of 256 KiB: a block goes into the largest class not
// above its size, which it keeps in its second word, and is taken for any
// request of its class above it, or of its own class up to its size (so a
// loop freeing and allocating one size reuses its block).  Blocks may be
// freed on
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

constexpr size_t kCacheClasses = 33;          // blocks below 512 bytes (cache_class)
constexpr uint32_t kCacheClassBytes = 1024;   // at most 33 KiB per thread
constexpr size_t kBigMinBlock = 512;
constexpr size_t kBigClasses = 33;            // 512 .. 128 KiB
constexpr size_t kBigMaxBlock = size_t(1) << 17;
constexpr uint32_t kBigCacheBytes = 256 * 1024;

struct FreeBlock {
    FreeBlock *next;
    size_t bytes;   // large classes only: the block's size
};

struct ThreadCache {
    FreeBlock *heads[kCacheClasses];
    uint32_t room[kCacheClasses];   // bytes each class may still take
    FreeBlock *big_heads[kBigClasses];
    uint32_t big_room;              // bytes the large classes may still take
    SlabHeap slabs;                 // the thread's slabs (slab.hpp)
};

// Large classes: index of the largest class not above `bytes` (>= 512), and
// a class's size.
inline size_t big_class_floor(size_t bytes) {
    unsigned top = 63u - static_cast<unsigned>(__builtin_clzll(bytes));
    return (top - 9) * 4 + ((bytes >> (top - 2)) & 3);
}
inline size_t big_class_bytes(size_t cls) { return (4 + (cls & 3)) << (cls / 4 + 7); }
static_assert(kBigMinBlock == 512 && kBigMaxBlock == (size_t(4) << (32 / 4 + 7)), "class table bounds");

// Bytes the cache holds (for tests).
inline size_t cache_held_bytes(const ThreadCache *c) {
    size_t held = kBigCacheBytes - c->big_room;
    for (uint32_t r : c->room) held += kCacheClassBytes - r;
    return held;
}

extern __thread ThreadCache *t_cache __attribute__((tls_model("initial-exec")));

// Bytes a chunk with `size` payload occupies; cached blocks are exactly
// this.  Up to kSlabMaxBlock a multiple of 16, what a slab cell is.  Above,
// one malloc word less: glibc's chunks are multiples of 16 of which all but
// one word is usable, so the payload ends where the usable space does, and
// the next block's metadata follows it as closely as it follows the
// reference's (whose header is also a multiple of 16): an overflow from the
// payload reaches the next chunk's check word after as many bytes as it
// reaches the reference's magic, at every size.
constexpr size_t block_bytes(size_t size) {
    size_t cell = align16(sizeof(Chunk) + size);
    return cell <= kSlabMaxBlock ? cell : align16(sizeof(Chunk) + size + sizeof(void *)) - sizeof(void *);
}

// The largest block_bytes() value a block of `usable` bytes holds.
inline size_t block_bytes_within(size_t usable) {
    size_t malloc_sized = ((usable + sizeof(void *)) & ~(kAlign - 1)) - sizeof(void *);
    return malloc_sized > kSlabMaxBlock ? malloc_sized : usable & ~(kAlign - 1);
}

// The thread cache's class of a block_bytes() value: cells of 16k bytes and
// malloc'd blocks of 16k - 8 are class k.
inline size_t cache_class(size_t bytes) { return (bytes + sizeof(void *)) / kAlign; }

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
    size_t cls = cache_class(bytes);
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
// chunk_alloc() after chunk_pop() found nothing.
Chunk *chunk_alloc_new(size_t bytes);

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

// A malloc'd block of at least 512 bytes into c's large classes while
// their budget lasts, else to free().
void cache_free_big(ThreadCache *c, void *block, size_t bytes);

// cache_free() into the thread's cache c, already looked up (not nullptr).
inline void cache_free_to(ThreadCache *c, void *block, size_t bytes) {
    size_t cls = cache_class(bytes);
    if (cls < kCacheClasses && c->room[cls] >= bytes) {
        auto *b = static_cast<FreeBlock *>(block);
        b->next = c->heads[cls];
        c->heads[cls] = b;
        c->room[cls] -= static_cast<uint32_t>(bytes);
    } else if (cls >= kCacheClasses) {
        cache_free_big(c, block, bytes);
    } else {
        block_release(block, bytes);   // its class is full (freeing many chunks at once)
    }
}

// cache_free_to() for the loops that free many chunks at once: a slab cell
// whose class in the cache is full goes to its slab here, with the slabs
// of c (the calling thread's), instead of through a call per cell.
__attribute__((always_inline)) inline void cache_free_many(ThreadCache *c, Chunk *tc, size_t bytes) {
    size_t cls = cache_class(bytes);
    if (cls < kCacheClasses && c->room[cls] < bytes && is_slab_cell(tc)) slab_free(&c->slabs, tc, bytes);
    else cache_free_to(c, tc, bytes);
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

// cache_free() for a dead malloc'd block of `bytes` (above kSlabMaxBlock)
// whose start did not hold a chunk header (a pool's block): its state word
// is made that of a block of its own, which is how the cache tells it from
// a slab cell.
inline void cache_free_foreign(void *block, size_t bytes) {
    TAL_ASSERT(bytes > kSlabMaxBlock);
    static_cast<Chunk *>(block)->flags = 0;
    cache_free(block, bytes);
}

}  // namespace tal

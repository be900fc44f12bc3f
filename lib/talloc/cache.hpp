// A per-thread cache of freed small chunk blocks.
//
// Most talloc programs free and allocate small chunks in tight loops; handing
// each block back to malloc and asking for it again costs more than the rest
// of the talloc work together.  Each thread keeps a bounded stack of freed
// blocks per 16-byte size class and reuses them.  Blocks may be freed on
// another thread than the one that allocated them (memory handed over under
// a mutex, as in talloc's thread documentation): they simply join the
// freeing thread's cache.  A thread's cache goes back to malloc when the
// thread exits.
#pragma once

#include <cstddef>
#include <cstdlib>

#include "chunk.hpp"

namespace tal {

constexpr size_t kCacheClasses = 32;                   // blocks up to 512 bytes
constexpr size_t kCacheMaxBytesPerThread = 256 * 1024;

struct FreeBlock {
    FreeBlock *next;
};

struct ThreadCache {
    FreeBlock *heads[kCacheClasses];
    size_t bytes;
};

extern __thread ThreadCache *t_cache __attribute__((tls_model("initial-exec")));

// Bytes a chunk with `size` payload occupies; cached blocks are exactly this.
inline size_t block_bytes(size_t size) { return align16(sizeof(Chunk) + size); }

// A cached block of exactly `bytes`, or nullptr.
inline void *cache_pop(size_t bytes) {
    size_t cls = bytes / kAlign;
    ThreadCache *c = t_cache;
    if (c != nullptr && cls < kCacheClasses) {
        if (FreeBlock *b = c->heads[cls]) {
            c->heads[cls] = b->next;
            c->bytes -= bytes;
            return b;
        }
    }
    return nullptr;
}

inline void *cache_alloc(size_t bytes) {
    void *b = cache_pop(bytes);
    return b != nullptr ? b : malloc(bytes);
}

// Slow path of cache_free: creates the cache or hands the block to free().
void cache_free_slow(void *block, size_t bytes);

// `bytes` must not exceed the block's real capacity.
inline void cache_free(void *block, size_t bytes) {
    size_t cls = bytes / kAlign;
    ThreadCache *c = t_cache;
    if (c != nullptr && cls < kCacheClasses && c->bytes + bytes <= kCacheMaxBytesPerThread) {
        auto *b = static_cast<FreeBlock *>(block);
        b->next = c->heads[cls];
        c->heads[cls] = b;
        c->bytes += bytes;
        return;
    }
    cache_free_slow(block, bytes);
}

}  // namespace tal

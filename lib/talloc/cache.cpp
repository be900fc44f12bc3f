#include "cache.hpp"

#include <pthread.h>

namespace tal {

__thread ThreadCache *t_cache __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

// Set once the thread's cache has been released: chunks freed later in the
// thread's exit (other thread-specific data destructors) go straight to free().
__thread bool t_cache_retired __attribute__((tls_model("initial-exec"))) = false;

pthread_key_t g_cache_key;
pthread_once_t g_cache_key_once = PTHREAD_ONCE_INIT;
bool g_cache_key_ok = false;

void release_cache(void *arg) {
    auto *c = static_cast<ThreadCache *>(arg);
    t_cache = nullptr;
    t_cache_retired = true;
    // Cached slab cells first, while the thread still owns its slabs.
    for (size_t cls = 0; cls < kCacheClasses; cls++) {
        for (FreeBlock *b = c->heads[cls]; b != nullptr;) {
            FreeBlock *next = b->next;
            auto *tc = reinterpret_cast<Chunk *>(b);
            if (is_slab_cell(tc)) slab_free(&c->slabs, tc, cls * kAlign);   // cells are 16k bytes
            else free(b);
            b = next;
        }
    }
    for (FreeBlock *head : c->big_heads) {
        for (FreeBlock *b = head; b != nullptr;) {
            FreeBlock *next = b->next;
            free(b);
            b = next;
        }
    }
    slab_heap_abandon(&c->slabs);
    free(c);
}

void create_key() { g_cache_key_ok = pthread_key_create(&g_cache_key, release_cache) == 0; }

ThreadCache *create_cache() {
    if (t_cache_retired) return nullptr;
    pthread_once(&g_cache_key_once, create_key);
    if (!g_cache_key_ok) return nullptr;
    auto *c = static_cast<ThreadCache *>(calloc(1, sizeof(ThreadCache)));
    if (c == nullptr) return nullptr;
    for (uint32_t &r : c->room) r = kCacheClassBytes;
    c->big_room = kBigCacheBytes;
    if (pthread_setspecific(g_cache_key, c) != 0) {
        free(c);
        return nullptr;
    }
    t_cache = c;
    return c;
}

}  // namespace

ThreadCache *cache_get() {
    ThreadCache *c = t_cache;
    return c != nullptr ? c : create_cache();
}

namespace {

// A cached large block of at least `bytes` (>= 512): the newest of the
// class above, or of bytes' own class if that one is large enough.
Chunk *big_pop(ThreadCache *c, size_t bytes) {
    size_t own = big_class_floor(bytes);
    FreeBlock **from = nullptr;
    if (own + 1 < kBigClasses && c->big_heads[own + 1] != nullptr) from = &c->big_heads[own + 1];
    else if (own < kBigClasses && c->big_heads[own] != nullptr && c->big_heads[own]->bytes >= bytes) from = &c->big_heads[own];
    if (from == nullptr) return nullptr;
    FreeBlock *b = *from;
    *from = b->next;
    c->big_room += static_cast<uint32_t>(b->bytes);
    TAL_ASSERT(c->big_room <= kBigCacheBytes);
    auto *tc = reinterpret_cast<Chunk *>(b);
    mark_valid(tc, 0);
    return tc;
}

}  // namespace

void cache_free_big(ThreadCache *c, void *block, size_t bytes) {
    TAL_ASSERT(bytes >= kBigMinBlock && !is_slab_cell(static_cast<Chunk *>(block)));
    size_t cls = big_class_floor(bytes);
    if (cls >= kBigClasses || c->big_room < bytes) {
        free(block);
        return;
    }
    auto *b = static_cast<FreeBlock *>(block);
    b->next = c->big_heads[cls];
    b->bytes = bytes;
    c->big_heads[cls] = b;
    c->big_room -= static_cast<uint32_t>(bytes);
}

Chunk *chunk_alloc(size_t bytes) {
    if (Chunk *tc = chunk_pop(bytes)) return tc;
    return chunk_alloc_new(bytes);
}

Chunk *chunk_alloc_new(size_t bytes) {
    if (bytes <= kSlabMaxBlock) {
        if (ThreadCache *c = cache_get()) {
            if (Chunk *tc = slab_alloc(&c->slabs, bytes)) return tc;
        }
    } else if (bytes >= kBigMinBlock && bytes <= kBigMaxBlock) {
        if (ThreadCache *c = t_cache) {
            if (Chunk *tc = big_pop(c, bytes)) return tc;
        }
    }
    auto *tc = static_cast<Chunk *>(malloc(bytes));
    if (tc != nullptr) mark_valid(tc, 0);
    return tc;
}

void chunk_free_cell(Chunk *tc, size_t bytes) { slab_free(thread_slabs(), tc, bytes); }

void cache_free_slow(void *block, size_t bytes) {
    if (t_cache == nullptr && bytes <= kBigMaxBlock && create_cache() != nullptr) {
        cache_free(block, bytes);
        return;
    }
    block_release(block, bytes);
}

}  // namespace tal

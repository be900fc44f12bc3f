// Allocation of chunks: plain, zeroed, pools and pooled objects (freeing
// is in free.cpp, reallocation in realloc.cpp).
#include <malloc.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "cache.hpp"
#include "core.hpp"
#include "diagnostics.hpp"
#include "ext.hpp"
#include "memlimit.hpp"
#include "pool.hpp"
#include "release.hpp"
#include "tree.hpp"

namespace tal {

namespace {

// Resolves an allocation context; false when ctx is not a live chunk.
bool resolve_parent(const void *ctx, Chunk **parent) {
    ctx = effective_ctx(ctx);
    *parent = nullptr;
    if (ctx == nullptr) return true;
    *parent = checked(ctx);
    return *parent != nullptr;
}

void link_new(Chunk *parent, Chunk *tc) {
    if (parent != nullptr) {
        link_first(parent, tc);
    } else {
        tc->next = nullptr;
        tc->set_first_of(nullptr);
    }
}

void init_fields(Chunk *tc, size_t size, const char *name) {
    tc->size = static_cast<uint32_t>(size);
    tc->set_destructor(nullptr);
    tc->child = nullptr;
    tc->name_or_ext = name;
}

// A fresh malloc'd chunk, charged to the limits above parent.
Chunk *malloc_chunk(Chunk *parent, size_t size, size_t charged) {
    if (parent != nullptr && !memlimit_fits(parent, charged)) {
        errno = ENOMEM;
        return nullptr;
    }
    Chunk *tc = chunk_alloc(block_bytes(size));
    if (tc == nullptr) return nullptr;
    if (parent != nullptr) memlimit_grow(parent, charged);
    return tc;
}

}  // namespace

namespace {

// Everything but the common case: pools, memory limits, an empty cache.
__attribute__((noinline)) void *allocate_slow(Chunk *parent, size_t size, const char *name) {
    Chunk *tc = nullptr;
    if (parent != nullptr) {
        if (PoolHeader *pool = pool_for_parent(parent)) tc = pool_carve(pool, size);
    }
    if (tc == nullptr) {
        tc = malloc_chunk(parent, size, size + kRefHeaderSize);
        if (tc == nullptr) return nullptr;
    }
    init_fields(tc, size, name);
    link_new(parent, tc);
    return tc->payload();
}

// The fast path's way on when the thread has no block at hand and no pool
// or limit is involved: a new block, and nothing else looked at again.
__attribute__((noinline)) void *allocate_new_block(Chunk *parent, size_t size, const char *name) {
    Chunk *tc = chunk_alloc_new(block_bytes(size));
    if (tc == nullptr) return nullptr;
    init_fields(tc, size, name);
    link_new(parent, tc);
    return tc->payload();
}

// Everything the fast path below leaves out: a size out of range, a context
// that is not a live chunk (reported here), memory limits.
__attribute__((noinline)) void *allocate_checked_slow(const void *ctx, size_t size, const char *name) {
    if (size >= kMaxSize) return nullptr;
    Chunk *parent;
    if (!resolve_parent(ctx, &parent)) return nullptr;
    return allocate_slow(parent, size, name);
}

}  // namespace

void *allocate(const void *ctx, size_t size, const char *name) {
    // Every way off the fast path is a tail call, so the fast path needs no
    // stack frame: it runs for nearly every chunk a program makes.
    ctx = effective_ctx(ctx);
    Chunk *parent = ctx != nullptr ? Chunk::from_payload(ctx) : nullptr;
    if (TAL_UNLIKELY(size >= kMaxSize || limits_active() || (parent != nullptr && !chunk_intact(parent)))) {
        return allocate_checked_slow(ctx, size, name);
    }
    Chunk *tc;
    // pool_for_parent() spelt out: through it the compiler tests twice.
    // A damaged pool header takes the slow path, which reports it.
    if (parent != nullptr && parent->has(kFlagPool | kFlagPoolMem)) {
        PoolHeader *pool = owner_slot(parent);
        tc = TAL_LIKELY(pool_intact(pool)) ? pool_carve(pool, size) : nullptr;
        if (TAL_UNLIKELY(tc == nullptr)) return allocate_slow(parent, size, name);
    } else {
        tc = chunk_pop(block_bytes(size));
        if (TAL_UNLIKELY(tc == nullptr)) return allocate_new_block(parent, size, name);
    }
    init_fields(tc, size, name);
    link_new(parent, tc);
    return tc->payload();
}

void *allocate_zero(const void *ctx, size_t size, const char *name) {
    void *p = allocate(ctx, size, name);
    if (p != nullptr) memset(p, 0, size);
    return p;
}

void *allocate_pool(const void *ctx, size_t poolsize) {
    if (TAL_UNLIKELY(poolsize >= kMaxSize)) return nullptr;
    Chunk *parent;
    if (!resolve_parent(ctx, &parent)) return nullptr;
    // Under pool memory a pool is carved from that pool, free of charge, as
    // upstream does; only a pool that has to be malloc'd is charged.
    Chunk *tc = nullptr;
    if (parent != nullptr) {
        if (PoolHeader *outer = pool_for_parent(parent)) tc = pool_create_nested(outer, poolsize);
    }
    if (tc == nullptr) {
        size_t charged = poolsize + kRefHeaderSize + kRefPoolHeaderSize;
        if (parent != nullptr && !memlimit_fits(parent, charged)) {
            errno = ENOMEM;
            return nullptr;
        }
        tc = pool_create(poolsize);
        if (tc == nullptr) return nullptr;
        if (parent != nullptr) memlimit_grow(parent, charged);
    }
    tc->set_destructor(nullptr);
    tc->child = nullptr;
    tc->name_or_ext = nullptr;
    link_new(parent, tc);
    return tc->payload();
}

void *allocate_pooled_object(const void *ctx, size_t type_size, const char *type_name,
                             unsigned num_subobjects, size_t total_subobjects_size) {
    // Sized exactly as the reference sizes it (its 96-byte chunk and 32-byte
    // pool headers and 15 bytes of alignment per object): the pool size is
    // charged to memory limits, and our smaller members have ample room.
    size_t poolsize = type_size + total_subobjects_size;
    if (poolsize < type_size || poolsize < total_subobjects_size) return nullptr;
    if (num_subobjects == ~0u) return nullptr;
    size_t objects = size_t(num_subobjects) + 1;
    size_t per_object = kRefHeaderSize + kRefPoolHeaderSize + kAlign - 1;
    if (objects > (kMaxSize / per_object)) return nullptr;
    size_t overhead = objects * per_object;
    if (poolsize + overhead < poolsize) return nullptr;
    poolsize += overhead;
    void *p = allocate_pool(ctx, poolsize);
    if (p == nullptr) return nullptr;
    Chunk *tc = Chunk::from_payload(p);
    tc->size = static_cast<uint32_t>(type_size);
    PoolHeader *hdr = pool_of_pool_chunk(tc);
    hdr->end = pool_first_member(hdr);
    tc->name_or_ext = type_name;
    return p;
}

}  // namespace tal

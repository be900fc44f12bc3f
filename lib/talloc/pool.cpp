#include "pool.hpp"

#include <cstdlib>
#include <cstring>

#include "cache.hpp"
#include "diagnostics.hpp"

namespace tal {

namespace {

// A pool's own block: laid out as a chunk block of the pool header and
// area would be, so that blocks above the slab cells' sizes come from and
// go back to the thread's cache as chunk blocks do (a pool per request,
// as tevent_req makes one, then costs no malloc()); smaller ones are
// malloc'd.
size_t pool_block_bytes(size_t poolsize) { return block_bytes(sizeof(PoolHeader) + poolsize); }
bool pool_block_cached(size_t bytes) { return bytes > kSlabMaxBlock; }

// The header of a fresh, empty pool whose chunk is tc; `state` says where
// its block lives.
Chunk *init_pool(PoolHeader *hdr, size_t poolsize, uint32_t state) {
    Chunk *tc = pool_chunk_of(hdr);
    mark_valid(tc, kFlagPool | state);
    tc->size = 0;
    hdr->check = check_for(hdr);
    hdr->object_count = 1;
    hdr->end = static_cast<char *>(tc->payload());
    hdr->self = hdr;
    hdr->limit = static_cast<char *>(tc->payload()) + poolsize;
    return tc;
}

// One object of hdr, occupying [start, end), is gone: counted down, and
// the area reset when only the pool chunk is left, or the end rewound when
// it was the newest.  True when nothing is left, so the block must go.
bool object_gone(PoolHeader *hdr, char *start, char *end) {
    if (hdr->object_count == 0) {
        abort_with("Pool object count zero!");
        return false;
    }
    hdr->object_count--;
    if (hdr->object_count == 1 && !pool_chunk_of(hdr)->has(kFlagFree)) {
        pool_reset(hdr);
        return false;
    }
    if (hdr->object_count == 0) return true;
    forget_newest(hdr->end, start, end);
    return false;
}

// hdr's count reached zero: its block goes back where it came from, to
// malloc, or, for a nested pool, to its outer pool as one member fewer,
// which may empty that pool in turn.  A loop: how deep pools nest is up to
// the program.
// The pool chunk itself was marked freed when it was freed, once: its
// name keeps where.
void release_block(PoolHeader *hdr) {
    for (;;) {
        Chunk *pc = pool_chunk_of(hdr);
        hdr->check = 0;   // no value derived from the secret in freed memory
        if (!pc->has(kFlagNested)) {
            size_t bytes = pool_block_bytes(pool_area_bytes(hdr));
            if (pool_block_cached(bytes)) cache_free_foreign(hdr, bytes);
            else free(hdr);
            return;
        }
        // Upstream frees a nested pool as a member whose chunk lies 32
        // bytes (its pool header) into the block and whose end is that
        // chunk's header and payload (none for talloc_pool, the object for
        // a pooled object); ours rewinds and resets exactly where its
        // does, so the outer pool keeps holding what the reference's holds.
        PoolHeader *outer = outer_slot(pc);
        if (!pool_intact(outer)) {   // reported; the block stays where it is
            report_bad_pool();
            return;
        }
        char *ref_chunk = member_start(pc) + kRefPoolHeaderSize;
        if (!object_gone(outer, ref_chunk, ref_chunk + member_footprint(pc->size))) return;
        hdr = outer;
    }
}

}  // namespace

Chunk *pool_create(size_t poolsize) {
    size_t bytes = pool_block_bytes(poolsize);
    void *block = pool_block_cached(bytes) ? static_cast<void *>(chunk_alloc(bytes)) : malloc(bytes);
    if (block == nullptr) return nullptr;
    return init_pool(static_cast<PoolHeader *>(block), poolsize, 0);
}

Chunk *pool_create_nested(PoolHeader *outer, size_t poolsize) {
    Chunk *tc = pool_take(outer, nested_pool_footprint(poolsize));
    if (tc == nullptr) return nullptr;
    outer_slot(tc) = outer;
    return init_pool(pool_of_pool_chunk(tc), poolsize, kFlagNested);
}

Chunk *pool_slide_only_member(PoolHeader *hdr, Chunk *tc, size_t keep, size_t size) {
    if (pool_members(hdr) != 1) return nullptr;
    char *start = pool_first_member(hdr);
    if (static_cast<size_t>(pool_area_end(hdr) - start) < member_footprint(size)) return nullptr;
    memmove(start, member_start(tc), kMemberPrefix + keep);
    auto *moved = reinterpret_cast<Chunk *>(start + kMemberPrefix);
    // Both check words name their address.
    set_member_guard(moved);
    moved->check = check_for(moved);
    hdr->end = start + member_footprint(size);
    return moved;
}

void pool_release_last(PoolHeader *hdr, char *start, char *end) {
    if (object_gone(hdr, start, end)) release_block(hdr);
}

void pool_release_pool_chunk(Chunk *tc) {
    // The pool chunk is one of its pool's objects, occupying none of the
    // area (nothing to rewind), and already marked freed (no reset).
    PoolHeader *hdr = pool_of_pool_chunk(tc);
    if (!pool_intact(hdr)) {   // reported; the block stays where it is
        report_bad_pool();
        return;
    }
    if (object_gone(hdr, nullptr, nullptr)) release_block(hdr);
}

}  // namespace tal

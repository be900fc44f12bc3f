#include "pool.hpp"

#include <cstdlib>
#include <cstring>

#include "diagnostics.hpp"

namespace tal {

Chunk *pool_create(size_t poolsize) {
    void *block = malloc(sizeof(PoolHeader) + sizeof(Chunk) + poolsize);
    if (block == nullptr) return nullptr;
    auto *hdr = static_cast<PoolHeader *>(block);
    Chunk *tc = pool_chunk_of(hdr);
    mark_valid(tc, kFlagPool);
    tc->size = 0;
    hdr->poolsize = static_cast<uint32_t>(poolsize);
    hdr->object_count = 1;
    hdr->end = static_cast<char *>(tc->payload());
    hdr->self = hdr;
    hdr->limit = static_cast<char *>(tc->payload()) + poolsize;
    return tc;
}

namespace {

void release_block(PoolHeader *hdr) { free(hdr); }

}  // namespace

Chunk *pool_slide_only_member(PoolHeader *hdr, Chunk *tc, size_t keep, size_t size) {
    if (pool_members(hdr) != 1) return nullptr;
    char *start = pool_first_member(hdr);
    if (static_cast<size_t>(pool_area_end(hdr) - start) < member_footprint(size)) return nullptr;
    memmove(start, member_start(tc), kMemberPrefix + keep);
    auto *moved = reinterpret_cast<Chunk *>(start + kMemberPrefix);
    set_member_guard(moved);   // the guard names the address
    hdr->end = start + member_footprint(size);
    return moved;
}

void pool_release_member_slow(Chunk *tc, const char *location) {
    PoolHeader *hdr = owner_slot(tc);
    char *end_of_tc = member_end(tc);
    mark_freed(tc, location);
    if (hdr->object_count == 0) {
        abort_with("Pool object count zero!");
        return;
    }
    hdr->object_count--;
    Chunk *pc = pool_chunk_of(hdr);
    if (hdr->object_count == 1 && !pc->has(kFlagFree)) {
        pool_reset(hdr);
        return;
    }
    if (hdr->object_count == 0) {
        pc->name_or_ext = location;
        release_block(hdr);
        return;
    }
    if (hdr->end == end_of_tc) hdr->end = member_start(tc);  // was the newest member
}

void pool_release_pool_chunk(Chunk *tc) {
    PoolHeader *hdr = pool_of_pool_chunk(tc);
    if (hdr->object_count == 0) {
        abort_with("Pool object count zero!");
        return;
    }
    hdr->object_count--;
    if (hdr->object_count == 0) release_block(hdr);
}

}  // namespace tal

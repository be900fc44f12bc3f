// talloc pools: one malloc'd block that hands out chunks by bumping a pointer.
//
// Block layout:   [PoolHeader][pool Chunk][pool object payload?][members ...]
// Member layout:  [guard][spare 24][owner PoolHeader* + padding][Chunk][payload]
// The 48-byte prefix makes a member's metadata as long as the reference's
// header (96 bytes), so a pool holds what the reference's holds, and puts a
// guard word first: an overflow from the previous member's payload must
// destroy the guard before it reaches the owner slot or the header, and
// every member is verified (member_guard_ok) before either is used.
// The PoolHeader ends with the same 16 bytes a member's owner slot and
// padding take, pointing at itself, so the pool chunk has an owner slot
// like its members.
//
// The pool chunk counts itself in object_count; the block is released when
// the count drops to zero (pool freed and every member gone).
#pragma once

#include <cstddef>

#include "chunk.hpp"

namespace tal {

struct PoolHeader {
    char *end;               // first unused byte of the pool area
    uint32_t object_count;   // live members + the pool chunk itself
    uint32_t poolsize;       // bytes of the pool area
    PoolHeader *self;        // where a member keeps its owner (see owner_slot)
    char *limit;             // first byte past the pool area: carving compares with it
};
static_assert(sizeof(PoolHeader) == 32, "keeps the pool chunk 16-byte aligned");

constexpr size_t kOwnerOffset = 16;   // owner slot: this many bytes below the chunk
static_assert(offsetof(PoolHeader, self) == sizeof(PoolHeader) - kOwnerOffset,
              "the pool chunk's owner slot is the header's self pointer");

inline PoolHeader *pool_of_pool_chunk(Chunk *tc) { return reinterpret_cast<PoolHeader *>(tc) - 1; }
inline Chunk *pool_chunk_of(PoolHeader *hdr) { return reinterpret_cast<Chunk *>(hdr + 1); }
inline PoolHeader *&owner_slot(Chunk *member) {
    return *reinterpret_cast<PoolHeader **>(reinterpret_cast<char *>(member) - kOwnerOffset);
}
inline uint64_t &guard_slot(Chunk *member) {
    return *reinterpret_cast<uint64_t *>(reinterpret_cast<char *>(member) - kMemberPrefix);
}
inline void set_member_guard(Chunk *member) { guard_slot(member) = guard_for(member); }
inline char *pool_area_end(PoolHeader *hdr) { return hdr->limit; }
// Where members start: after the pool chunk's own payload (pooled objects).
inline char *pool_first_member(PoolHeader *hdr) {
    Chunk *pc = pool_chunk_of(hdr);
    return static_cast<char *>(pc->payload()) + align16(pc->size);
}
// A member takes as much of its pool as the reference's does (its 96-byte
// header and the payload, 16-byte aligned), though ours needs less: a pool
// then holds exactly the members the reference's holds, so what fits in a
// pool and what has to be malloc'd, and charged to memory limits, is the
// same with either library.
inline size_t member_footprint(size_t size) { return align16(kRefHeaderSize + size); }
static_assert(kMemberPrefix + sizeof(Chunk) == kRefHeaderSize, "a member's metadata is the reference's header");
inline char *member_start(Chunk *tc) { return reinterpret_cast<char *>(tc) - kMemberPrefix; }
inline char *member_end(Chunk *tc) { return member_start(tc) + member_footprint(tc->size); }

// Only the pool chunk is left: all of its area is free again.
inline void pool_reset(PoolHeader *hdr) {
    hdr->object_count = 1;
    hdr->end = pool_first_member(hdr);
}

// The pool a new child of `parent` should come from, if any.  The pool
// chunk and its members both find it in their owner slot, so allocating
// under either takes one load.
inline PoolHeader *pool_for_parent(Chunk *parent) {
    return parent->has(kFlagPool | kFlagPoolMem) ? owner_slot(parent) : nullptr;
}

// Carves a member of `size` payload bytes, or nullptr when it does not fit.
inline Chunk *pool_carve(PoolHeader *hdr, size_t size) {
    size_t need = member_footprint(size);
    if (static_cast<size_t>(pool_area_end(hdr) - hdr->end) < need) return nullptr;
    char *at = hdr->end;
    TAL_ASSERT(at >= pool_first_member(hdr) && at <= pool_area_end(hdr));
    hdr->end += need;
    hdr->object_count++;
    auto *tc = reinterpret_cast<Chunk *>(at + kMemberPrefix);
    set_member_guard(tc);
    owner_slot(tc) = hdr;
    mark_valid(tc, kFlagPoolMem);
    return tc;
}

// Members besides the pool chunk itself (which counts while it lives).
inline uint32_t pool_members(const PoolHeader *hdr) {
    return hdr->object_count - (pool_chunk_of(const_cast<PoolHeader *>(hdr))->has(kFlagFree) ? 0 : 1);
}

inline bool pool_is_newest(const PoolHeader *hdr, Chunk *tc) { return hdr->end == member_end(tc); }

// --- realloc of a member (realloc.cpp), in the reference's order of tries --

// Shrinks tc in place; the newest member gives the cut-off bytes back.
inline void pool_resize_member(PoolHeader *hdr, Chunk *tc, size_t size) {
    bool newest = pool_is_newest(hdr, tc);
    tc->size = static_cast<uint32_t>(size);
    if (newest) hdr->end = member_end(tc);
}

// When tc is the only member: moves its first `keep` bytes (header
// included) to the start of the pool area and makes it `size` bytes long
// there, if that fits.  The moved chunk, or nullptr.
Chunk *pool_slide_only_member(PoolHeader *hdr, Chunk *tc, size_t keep, size_t size);

// Resizes tc where it is, if its footprint stays the same or it is the
// newest member (and not the only one) with room behind it.
inline bool pool_resize_member_in_place(PoolHeader *hdr, Chunk *tc, size_t size) {
    size_t old_fp = member_footprint(tc->size), new_fp = member_footprint(size);
    if (new_fp == old_fp) {
        tc->size = static_cast<uint32_t>(size);
        return true;
    }
    if (pool_members(hdr) == 1 || !pool_is_newest(hdr, tc)) return false;
    if (new_fp > old_fp && static_cast<size_t>(pool_area_end(hdr) - hdr->end) < new_fp - old_fp) return false;
    tc->size = static_cast<uint32_t>(size);
    hdr->end = member_end(tc);
    return true;
}

// Creates an unlinked pool chunk whose pool area has `poolsize` bytes.
Chunk *pool_create(size_t poolsize);

// pool_release_member() when tc may be one of the last two objects of its
// pool (the pool area is reset or the block freed).
void pool_release_member_slow(Chunk *tc, const char *location);

// Releases a member's memory back to its pool (the chunk is already dead).
// Inline: freeing a pooled parent releases each of its members in turn.
inline void pool_release_member(Chunk *tc, const char *location) {
    PoolHeader *hdr = owner_slot(tc);
    if (__builtin_expect(hdr->object_count <= 2, 0)) {
        pool_release_member_slow(tc, location);
        return;
    }
    char *end_of_tc = member_end(tc);
    TAL_ASSERT(end_of_tc <= hdr->end && member_start(tc) >= pool_first_member(hdr));
    mark_freed(tc, location);
    hdr->object_count--;
    if (hdr->end == end_of_tc) hdr->end = member_start(tc);  // was the newest member
}

// pool_release_member() for a member that is likely the last one besides
// the pool chunk (a pooled parent freed after its children): the reset of
// the pool area is inline as well.
inline void pool_release_member_reset(Chunk *tc, const char *location) {
    PoolHeader *hdr = owner_slot(tc);
    if (hdr->object_count == 2 && !pool_chunk_of(hdr)->has(kFlagFree)) {
        mark_freed(tc, location);
        pool_reset(hdr);
        return;
    }
    pool_release_member(tc, location);
}

// Releases the run of dead members that starts at `c` (a member of hdr)
// and goes on while in_run(next, hdr) holds; returns the first chunk after
// the run.  The count and the end stay in registers meanwhile: stored per
// member, each would be loaded again by the next one, a chain through
// memory per child.
template <class InRun>
__attribute__((always_inline)) inline Chunk *pool_release_run(PoolHeader *hdr, Chunk *c, const char *location,
                                                              InRun in_run) {
    char *end = hdr->end;
    uint32_t count = hdr->object_count;
    do {
        if (__builtin_expect(count <= 2, 0)) break;  // may reset or free the pool: below
        TAL_ASSERT(member_end(c) <= end);
        Chunk *next = c->next;
        mark_freed(c, location);
        count--;
        if (end == member_end(c)) end = member_start(c);  // was the newest member
        c = next;
    } while (c != nullptr && in_run(c, hdr));
    hdr->end = end;
    hdr->object_count = count;
    if (count <= 2 && c != nullptr && in_run(c, hdr)) {
        Chunk *next = c->next;
        pool_release_member_slow(c, location);
        c = next;
    }
    return c;
}

// Drops the pool chunk's own count; frees the block when nothing is left.
void pool_release_pool_chunk(Chunk *tc);

}  // namespace tal

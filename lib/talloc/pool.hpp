// talloc pools: a block that hands out chunks by bumping a pointer.  All
// pool bookkeeping (carving, counting members down, rewinding the end,
// resetting the area, giving the block back) is here.
//
// Block of a pool of its own (malloc'd):
//                 [PoolHeader][pool Chunk][pool object payload?][members ...]
// A PoolHeader starts with a check word as a chunk does (an overflow from
// the block in front reaches it first), and is verified (pool_intact)
// wherever a member or a pool chunk leads to it.
// Pool made under pool memory, carved from that pool as upstream does:
//                 [guard][outer PoolHeader*][PoolHeader][pool Chunk][...]
// Member:         [guard][spare 24][owner PoolHeader* + padding][Chunk][payload]
// The 48-byte prefix makes a member's metadata as long as the reference's
// header (96 bytes), so a pool holds what the reference's holds, and puts a
// guard word first: an overflow from the previous member's payload must
// destroy the guard before it reaches the owner slot or the header, and
// every member is verified (member_guard_ok) before either is used.
// The PoolHeader ends with the same 16 bytes a member's owner slot and
// padding take, pointing at itself, so the pool chunk has an owner slot
// like its members.  A nested pool's prefix is exactly a member's: its
// guard where a member's is, the pool it lives in in the first spare word.
//
// The pool chunk counts itself in object_count; the block is released when
// the count drops to zero (pool freed and every member gone).  A nested
// pool's block is then one member fewer of the pool it lives in.
#pragma once

#include <cstddef>

#include "chunk.hpp"

namespace tal {

struct PoolHeader {
    uint32_t check;          // check_for(this); 0 once the block is released
    uint32_t object_count;   // live members + the pool chunk itself
    char *end;               // first unused byte of the pool area
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
// The pool a nested pool's block was carved from (kFlagNested).
inline PoolHeader *&outer_slot(Chunk *nested) {
    return *reinterpret_cast<PoolHeader **>(reinterpret_cast<char *>(nested) - kMemberPrefix + sizeof(uint64_t));
}
static_assert(sizeof(uint64_t) + sizeof(PoolHeader *) + sizeof(PoolHeader) == kMemberPrefix,
              "a nested pool's guard, outer pointer and header are a member's prefix");
inline void set_member_guard(Chunk *member) { guard_slot(member) = guard_for(member); }
inline char *pool_area_end(PoolHeader *hdr) { return hdr->limit; }
inline size_t pool_area_bytes(PoolHeader *hdr) {
    return static_cast<size_t>(hdr->limit - static_cast<char *>(pool_chunk_of(hdr)->payload()));
}

inline bool pool_intact(const PoolHeader *hdr) { return hdr->check == check_for(hdr); }

// The pool the member (or pool chunk) tc names in its owner slot,
// verified: nullptr, after a report, when that header is damaged or not a
// pool's.  tc itself is intact, so its slot was not reached by an overflow.
PoolHeader *report_bad_pool();
inline PoolHeader *owner_of(Chunk *tc) {
    PoolHeader *hdr = owner_slot(tc);
    if (__builtin_expect(pool_intact(hdr), 1)) return hdr;
    return report_bad_pool();
}
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
// A nested pool takes what the reference's takes: its 96-byte header, its
// 32-byte pool header and the pool area.
inline size_t nested_pool_footprint(size_t poolsize) { return member_footprint(kRefPoolHeaderSize + poolsize); }
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
    return parent->has(kFlagPool | kFlagPoolMem) ? owner_of(parent) : nullptr;
}

// Takes `footprint` bytes at the end of hdr's area for one more object and
// writes its guard; the object's chunk address, or nullptr when it does
// not fit.
inline Chunk *pool_take(PoolHeader *hdr, size_t footprint) {
    if (static_cast<size_t>(pool_area_end(hdr) - hdr->end) < footprint) return nullptr;
    char *at = hdr->end;
    TAL_ASSERT(at >= pool_first_member(hdr) && at <= pool_area_end(hdr));
    hdr->end += footprint;
    hdr->object_count++;
    auto *tc = reinterpret_cast<Chunk *>(at + kMemberPrefix);
    set_member_guard(tc);
    return tc;
}

// Carves a member of `size` payload bytes, or nullptr when it does not fit.
inline Chunk *pool_carve(PoolHeader *hdr, size_t size) {
    Chunk *tc = pool_take(hdr, member_footprint(size));
    if (tc == nullptr) return nullptr;
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
// newest member (and not the only one), growing, with room behind it.  A
// shrink that gets here (under a memory limit) is not done in place: the
// reference's room test (needed = new - old, unsigned) fails for it, and
// it carves a new member or mallocs, checked against the limit.
inline bool pool_resize_member_in_place(PoolHeader *hdr, Chunk *tc, size_t size) {
    size_t old_fp = member_footprint(tc->size), new_fp = member_footprint(size);
    if (new_fp == old_fp) {
        tc->size = static_cast<uint32_t>(size);
        return true;
    }
    if (new_fp < old_fp || pool_members(hdr) == 1 || !pool_is_newest(hdr, tc)) return false;
    if (static_cast<size_t>(pool_area_end(hdr) - hdr->end) < new_fp - old_fp) return false;
    tc->size = static_cast<uint32_t>(size);
    hdr->end = member_end(tc);
    return true;
}

// --- making pools (alloc.cpp) ------------------------------------------------

// An unlinked pool chunk whose pool area has `poolsize` bytes, in a
// malloc'd block of its own; nullptr when malloc fails.
Chunk *pool_create(size_t poolsize);

// The same carved from the pool `outer` (a pool made under pool memory, as
// upstream makes it: memory limits are not charged for it); nullptr when
// it does not fit there.
Chunk *pool_create_nested(PoolHeader *outer, size_t poolsize);

// --- releasing (release.hpp, free.cpp) -----------------------------------------

// A member that was the newest of its pool gives its bytes back: the one
// rewind rule, for single members and for runs of them.
inline void forget_newest(char *&pool_end, char *start, char *end) {
    if (pool_end == end) pool_end = start;
}

// pool_release_member() when the member is one of the last two objects of
// its pool (the area is reset, or the block released).
void pool_release_last(PoolHeader *hdr, char *start, char *end);

// Marks a dead member freed and gives its memory back to its pool.
// Inline: freeing a pooled parent releases each of its members in turn.
inline void pool_release_member(Chunk *tc, const char *location) {
    PoolHeader *hdr = owner_of(tc);
    if (hdr == nullptr) {   // reported; its memory is left where it is
        mark_freed(tc, location);
        return;
    }
    char *start = member_start(tc), *end = member_end(tc);
    mark_freed(tc, location);
    if (__builtin_expect(hdr->object_count <= 2, 0)) {
        pool_release_last(hdr, start, end);
        return;
    }
    TAL_ASSERT(end <= hdr->end && start >= pool_first_member(hdr));
    hdr->object_count--;
    forget_newest(hdr->end, start, end);
}

// Releases the run of dead members that starts at `c` (a member of hdr)
// and goes on while in_run(next, hdr) holds; returns the first chunk after
// the run.  The count and the end stay in registers meanwhile: stored per
// member, each would be loaded again by the next one, a chain through
// memory per child.  The last two objects of the pool go through
// pool_release_member(), which may reset the pool.
template <class InRun>
__attribute__((always_inline)) inline Chunk *pool_release_run(PoolHeader *hdr, Chunk *c, const char *location,
                                                              InRun in_run) {
    char *end = hdr->end;
    uint32_t count = hdr->object_count;
    do {
        if (__builtin_expect(count <= 2, 0)) break;
        TAL_ASSERT(member_end(c) <= end);
        Chunk *next = c->next;
        mark_freed(c, location);
        count--;
        forget_newest(end, member_start(c), member_end(c));
        c = next;
    } while (c != nullptr && in_run(c, hdr));
    hdr->end = end;
    hdr->object_count = count;
    if (count <= 2 && c != nullptr && in_run(c, hdr)) {
        Chunk *next = c->next;
        pool_release_member(c, location);
        c = next;
    }
    return c;
}

// Releases tc, a dead member, with all its children, when they are
// members of the same pool (in_run(child, hdr) holds for each) and they and
// tc are all the pool holds besides its live pool chunk: the area is then
// empty again in one step, a reset, without working out member by member
// whether each was the newest.  Request state kept in a pool is often
// freed like this.  The first pass only reads: when the family is anything
// else it returns false with nothing changed.  The caller mends the links.
template <class InRun>
__attribute__((always_inline)) inline bool pool_release_family(Chunk *tc, const char *location, InRun in_run) {
    PoolHeader *hdr = owner_slot(tc);
    if (!pool_intact(hdr) || pool_chunk_of(hdr)->has(kFlagFree)) return false;
    uint32_t others = hdr->object_count - 2;  // members but tc (the pool chunk counts itself)
    uint32_t family = 0;
    for (Chunk *c = tc->child; c != nullptr; c = c->next) {
        if (family == others || !in_run(c, hdr)) return false;
        family++;
    }
    if (family != others) return false;
    for (Chunk *c = tc->child; c != nullptr; c = c->next) mark_freed(c, location);
    mark_freed(tc, location);
    pool_reset(hdr);
    return true;
}

// Drops the pool chunk's own count (the chunk is already marked freed);
// releases the block when nothing is left.
void pool_release_pool_chunk(Chunk *tc);

}  // namespace tal

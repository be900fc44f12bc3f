// Reallocation, one function per kind of storage a chunk can live in: a
// pool member (pool.hpp), or a block of its own (a slab cell, a cached or a
// malloc'd block).
//
// Memory limits are checked exactly where the reference checks them: only
// when new memory is taken outside a pool.  A pool member that grows in
// place, slides to the front of its pool or moves within it costs nothing,
// since the pool itself was charged whole; one that leaves its pool is
// charged its new size (the reference's charge, without a header: what it
// later gives back on free is the full chunk, so its books may come out
// lower, never higher).  A block of its own is charged the difference.
#include <malloc.h>

#include <cerrno>
#include <cstring>

#include "cache.hpp"
#include "core.hpp"
#include "diagnostics.hpp"
#include "memlimit.hpp"
#include "pool.hpp"
#include "release.hpp"
#include "slab.hpp"

namespace tal {

namespace {

// Room a malloc'd chunk block really has, as a block_bytes() value: any size
// that fits then also fits the cache class it is later freed into.
inline size_t block_capacity(Chunk *tc) { return block_bytes_within(malloc_usable_size(tc)); }

// A chunk grown by realloc a second time is likely to keep growing (arrays
// appended to, strings built piece by piece): it gets room for half as much
// again, so that a run of small growths does not call realloc() each time.
// The slack never lifts a block over 1 KiB: malloc keeps freed blocks up to
// about that size in per-thread bins, while a larger one is merged with its
// neighbours and may make malloc consolidate and trim the heap on each free.
constexpr size_t kMaxGrowthSlack = 64 * 1024;
constexpr size_t kSmallBlock = 1024;
// The reference does not move a shrinking chunk for less than this.
constexpr size_t kShrinkInPlace = 1024;

// The slack a growing chunk of `size` bytes is given: half as much again,
// at most kMaxGrowthSlack.
inline size_t growth_slack(size_t size) { return size / 2 < kMaxGrowthSlack ? size / 2 : kMaxGrowthSlack; }

// The slack goes only to growth in small steps (a quarter of the new size
// at most): an array doubled, say, outgrows any slack at the next step anyway, and a
// block with slack is a larger block for malloc to place and, when the one
// after it is taken, to copy whole (doubling to 64 KiB in a busy heap
// copied 86 KiB per array with the slack against 41 KiB without).
inline size_t growth_request(const Chunk *tc, size_t size) {
    size_t exact = block_bytes(size);
    if (!tc->has(kFlagGrown) || (size - tc->size) > size / 4) return exact;
    size_t roomy = block_bytes(size + growth_slack(size));
    if (exact <= kSmallBlock && roomy > kSmallBlock) return kSmallBlock;
    return roomy;
}

// A growth beyond the block's 16-byte rounding that still fits it.  A slab
// cell holds the sizes of its class only (see slab.hpp).  Only a block
// realloc() gave slack to (which a chunk gets once it has grown) can have
// room beyond its rounding worth asking malloc about; any other is
// malloc'd at exactly that (a chunk shrunk in place and grown again meets
// realloc(), which keeps it where it is).
inline bool fits_slack(Chunk *tc, size_t size) {
    if (!tc->has(kFlagGrown) || is_slab_cell(tc)) return false;
    // The block has at most the slack growth_request() asked for, what an
    // in-place shrink left (under kShrinkInPlace) and malloc's rounding (a
    // page at most): a larger step, as when an array doubles, cannot fit,
    // and malloc is not asked.
    if (size - tc->size > growth_slack(tc->size) + 2 * kShrinkInPlace + 4096) return false;
    return block_bytes(size) <= block_capacity(tc);
}

// The payload the block of a chunk of `size` bytes has room for:
// block_bytes(n) <= block_bytes(size) exactly when n <= this.
inline size_t payload_room(size_t size) { return block_bytes(size) - sizeof(Chunk); }

// A growth to `size` fits the block tc has.
inline bool fits_block(Chunk *tc, size_t size) { return size <= payload_room(tc->size) || fits_slack(tc, size); }

// A block of its own shrinking by less than the reference would move for
// stays where it is; a slab cell only within its class.
inline bool shrinks_in_place(Chunk *tc, size_t size) {
    return tc->size - size < kShrinkInPlace && (!is_slab_cell(tc) || block_bytes(size) == block_bytes(tc->size));
}

// State bits a chunk keeps when realloc moves it to another block.
constexpr uint32_t kMovedState = kFlagMask & ~kIndexMask & ~(kFlagPool | kFlagPoolMem | kFlagNested | kFlagFree);

// Header and the payload bytes both sizes share: what a move copies.
inline size_t kept_bytes(const Chunk *tc, size_t size) {
    return sizeof(Chunk) + (tc->size < size ? tc->size : size);
}

// Copies tc into `to`, a fresh block whose storage bits are `where`, and
// gives tc's memory back.
void move_chunk(Chunk *tc, Chunk *to, size_t size, uint32_t where) {
    uint32_t state = tc->flags & kMovedState;
    memcpy(to, tc, kept_bytes(tc, size));
    mark_valid(to, state | where);
    fill_freed(tc->payload(), tc->size);
    release_dead(tc, "talloc_realloc");
}

// The end of a resize in place: the neighbours still point at the chunk.
void *stay(Chunk *tc, size_t size, const char *name) {
    tc->size = static_cast<uint32_t>(size);
    tc->set_raw_name(name);
    return tc->payload();
}

// The end of every move: neighbours point at the new place.
void *settle(Chunk *moved, size_t size, const char *name) {
    relink_moved(moved);
    return stay(moved, size, name);
}

void *realloc_pool_member(Chunk *tc, size_t size, const char *name) {
    PoolHeader *pool = owner_of(tc);
    if (pool == nullptr) return nullptr;
    bool limited = covered_by_limit(tc);
    if (size < tc->size && !limited) {
        fill_freed(static_cast<char *>(tc->payload()) + size, tc->size - size);
        pool_resize_member(pool, tc, size);
        return tc->payload();
    }
    if (size == tc->size) return tc->payload();
    if (Chunk *slid = pool_slide_only_member(pool, tc, kept_bytes(tc, size), size)) {
        return settle(slid, size, name);
    }
    if (pool_resize_member_in_place(pool, tc, size)) return tc->payload();
    Chunk *moved = pool_carve(pool, size);
    if (moved != nullptr) {
        move_chunk(tc, moved, size, kFlagPoolMem);
        return settle(moved, size, name);
    }
    // Out of the pool: only now is new memory taken, and charged.
    if (limited && !memlimit_fits(tc, size)) {
        errno = ENOMEM;
        return nullptr;
    }
    moved = chunk_alloc(block_bytes(size));
    if (moved == nullptr) return nullptr;
    move_chunk(tc, moved, size, moved->flags & kIndexMask);
    void *p = settle(moved, size, name);
    if (limited) memlimit_grow(moved, size);
    return p;
}

// realloc() of tc's malloc'd block to `request` bytes.  Stamped freed
// meanwhile, so users of the stale pointer are caught (and the block
// realloc() gives back holds no check word); wherever the chunk ends up it
// gets its state back, with the check word it had where it stayed and a new
// one where it moved.  The new place, or nullptr (tc as it was).
inline Chunk *realloc_own_block(Chunk *tc, size_t request) {
    const uint16_t live = tc->flags;
    const uint64_t dtor = tc->dtor_bits();
    const uint32_t check = tc->check;
    stamp_freed(tc);
    auto *moved = static_cast<Chunk *>(realloc(tc, request));
    Chunk *at = moved != nullptr ? moved : tc;
    at->set_dtor_bits(dtor);
    at->flags = live;
    at->check = at == tc ? check : check_for(at);
    return moved;
}

__attribute__((noinline)) void *realloc_block(Chunk *tc, size_t size, const char *name) {
    bool limited = covered_by_limit(tc);
    const size_t old_size = tc->size;
    if (size < old_size && !limited) {
        fill_freed(static_cast<char *>(tc->payload()) + size, old_size - size);
        if (shrinks_in_place(tc, size)) {
            tc->size = static_cast<uint32_t>(size);
            return tc->payload();
        }
    } else if (size == old_size) {
        return tc->payload();
    }
    if (limited && size > old_size && !memlimit_fits(tc, size - old_size)) {
        errno = ENOMEM;
        return nullptr;
    }
    Chunk *moved;
    if (size > old_size && fits_block(tc, size)) {
        moved = tc;  // the block already has room for the growth
    } else if (is_slab_cell(tc)) {
        // Out of the cell's class: a block of the new size, by the normal path.
        moved = chunk_alloc(block_bytes(size));
        if (moved == nullptr) return nullptr;
        move_chunk(tc, moved, size, moved->flags & kIndexMask);
    } else {
        moved = realloc_own_block(tc, size > old_size ? growth_request(tc, size) : block_bytes(size));
        if (moved == nullptr) return nullptr;
    }
    if (size > old_size) moved->flags |= kFlagGrown;
    void *p = moved == tc ? stay(tc, size, name) : settle(moved, size, name);
    if (limited) {
        if (size > old_size) memlimit_grow(moved, size - old_size);
        else memlimit_shrink(moved, old_size - size);
    }
    return p;
}

// A malloc'd block of its own (not a slab cell), no limits, growing past
// its room: realloc() it, with no more bookkeeping than the move needs.
// Arrays doubled to megabytes come here at every step.
__attribute__((noinline)) void *grow_malloced(Chunk *tc, size_t size, const char *name) {
    if (fits_slack(tc, size)) return stay(tc, size, name);
    Chunk *moved = realloc_own_block(tc, growth_request(tc, size));
    if (TAL_UNLIKELY(moved == nullptr)) return nullptr;
    moved->flags |= kFlagGrown;
    return moved == tc ? stay(tc, size, name) : settle(moved, size, name);
}

// Everything the fast path below leaves out: sizes 0 and out of range, no
// chunk yet or not a live one, references, pools, members and limits.
__attribute__((noinline)) void *reallocate_slow(const void *ctx, void *ptr, size_t size, const char *name) {
    if (size == 0) {
        unlink_ptr(ctx, ptr);
        return nullptr;
    }
    if (TAL_UNLIKELY(size >= kMaxSize)) return nullptr;
    if (ptr == nullptr) return allocate(ctx, size, name);
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return nullptr;
    if (tc->refs() != nullptr) return nullptr;  // referenced memory must not move
    if (tc->has(kFlagPool)) return nullptr;     // a pool cannot be resized
    if (tc->has(kFlagPoolMem)) return realloc_pool_member(tc, size, name);
    return realloc_block(tc, size, name);
}

}  // namespace

// The fast path takes no stack frame (every other way is a tail call): a
// block of its own, no limits, shrinking in place (the reference keeps the
// name then) or growing within its 16-byte rounding; a malloc'd block
// growing further goes straight to grow_malloced, any other size to
// realloc_block.
void *reallocate(const void *ctx, void *ptr, size_t size, const char *name) {
    if (TAL_LIKELY(ptr != nullptr && size - 1 < kMaxSize - 1)) {
        Chunk *tc = Chunk::from_payload(ptr);
        if (TAL_LIKELY(chunk_intact(tc)) && (tc->flags & (kFlagExt | kFlagPool | kFlagPoolMem)) == 0 &&
            !limits_active()) {
            if (size <= tc->size) {
                // TALLOC_FREE_FILL's memset would cost every call a frame.
                if (shrinks_in_place(tc, size) && TAL_LIKELY(!g_free_fill.enabled)) {
                    tc->size = static_cast<uint32_t>(size);
                    return ptr;
                }
            } else if (size <= payload_room(tc->size)) {
                tc->size = static_cast<uint32_t>(size);
                tc->name_or_ext = name;
                return ptr;
            } else if (!is_slab_cell(tc)) {
                return grow_malloced(tc, size, name);
            }
            return realloc_block(tc, size, name);
        }
    }
    return reallocate_slow(ctx, ptr, size, name);
}

}  // namespace tal

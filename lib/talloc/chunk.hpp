// The talloc chunk header and the hierarchy links every other part builds on.
//
// Layout (48 bytes, so user data stays 16-byte aligned like the reference's):
//
//   next        next sibling (younger chunks are inserted at the head)
//   prev_link   previous sibling, or, for the first child of a parent and for
//               top-level chunks, the parent's address tagged with kFirstTag.
//               Only the first child knows its parent, exactly as in the
//               reference: relinking after realloc is O(1), and talloc_parent
//               walks back to the head of the sibling list.
//   child       youngest child
//   name_or_ext name string, or an Ext record when kFlagExt is set
//   destructor  user destructor; while a chunk is being freed it holds the
//               link to the chunk that is freeing it (see alloc.cpp)
//   size        payload size (MAX_TALLOC_SIZE keeps it below 2^28)
//   flags       random magic in the upper 18 bits (kFreedStamp once freed);
//               below it the slab cell
//               index (bits 8..13, 0 = not a slab cell, see slab.hpp) and the
//               state bits (0..7)
//
// size/flags/name sit at offsets >= 24, out of reach of what glibc writes into
// freed blocks, so a freed chunk is still recognised as freed afterwards.
#pragma once

#include <cstddef>
#include <cstdint>

// Internal consistency checks, as mimalloc's internal asserts: compiled in
// for debug, sanitizer and fuzzing builds (meson sets TAL_INTERNAL_CHECKS),
// gone from release builds.  A failed check is a bug in this library, not
// misuse by the program, so it does not go through the abort function.
#if defined(TAL_INTERNAL_CHECKS) && TAL_INTERNAL_CHECKS
#define TAL_ASSERT(cond) \
    (__builtin_expect(!!(cond), 1) ? static_cast<void>(0) : ::tal::internal_check_failed(#cond, __FILE__, __LINE__))
#else
#define TAL_ASSERT(cond) static_cast<void>(0)
#endif

namespace tal {

[[noreturn]] void internal_check_failed(const char *what, const char *file, int line);

using Destructor = int (*)(void *);

constexpr size_t kMaxSize = 0x10000000;        // reference MAX_TALLOC_SIZE
constexpr size_t kAlign = 16;
constexpr size_t kRefHeaderSize = 96;          // reference TC_HDR_SIZE, for memlimit accounting
constexpr size_t kRefPoolHeaderSize = 32;      // reference TP_HDR_SIZE
constexpr int kMaxDepth = 10000;               // reference TALLOC_MAX_DEPTH (talloc_is_parent)

constexpr uint32_t kFlagFree = 0x01;
constexpr uint32_t kFlagLoop = 0x02;     // on the current traversal/free path
constexpr uint32_t kFlagPool = 0x04;     // chunk owns a pool
constexpr uint32_t kFlagPoolMem = 0x08;  // chunk lives inside a pool
constexpr uint32_t kFlagExt = 0x10;      // name_or_ext points at an Ext
constexpr uint32_t kFlagDying = 0x20;    // destructor done, being freed
constexpr uint32_t kFlagGrown = 0x40;    // moved to a larger block by realloc before
constexpr uint32_t kFlagNested = 0x80;   // a pool whose block was carved from another pool
// Chunks with a guard word in front (pool.hpp): pool members, and pools
// carved from a pool, which sit in it as members do.
constexpr uint32_t kFlagGuarded = kFlagPoolMem | kFlagNested;
constexpr uint32_t kFlagMask = 0x3fff;  // everything that is not magic
constexpr uint32_t kIndexShift = 8;      // slab cell index, 1..63 (slab.hpp)
constexpr uint32_t kIndexMask = 0x3f00;

constexpr uintptr_t kFirstTag = 1;

// Bytes in front of a pool member's header (or a nested pool's), starting
// with its guard word (pool.hpp).
constexpr size_t kMemberPrefix = 48;

// Name used by reference handles, as in the reference (never dereferenced).
inline const char *const kReferenceName = reinterpret_cast<const char *>(1);

struct RefHandle;
struct MemLimit;

// Rarely needed per-chunk state, allocated on demand.
struct Ext {
    const char *name;
    RefHandle *refs;     // handles referencing this chunk, newest first
    MemLimit *limit;     // limit owned by this chunk (talloc_set_memlimit)
};

struct Chunk {
    Chunk *next;
    uintptr_t prev_link;
    Chunk *child;
    const void *name_or_ext;
    Destructor destructor;
    uint32_t size;
    uint32_t flags;

    void *payload() { return reinterpret_cast<char *>(this) + sizeof(Chunk); }

    static Chunk *from_payload(const void *p) {
        return reinterpret_cast<Chunk *>(const_cast<char *>(static_cast<const char *>(p)) - sizeof(Chunk));
    }

    bool has(uint32_t f) const { return (flags & f) != 0; }

    // --- sibling / parent links ------------------------------------------
    bool is_first() const { return (prev_link & kFirstTag) != 0; }
    Chunk *prev() const { return is_first() ? nullptr : reinterpret_cast<Chunk *>(prev_link); }
    // Parent as stored on the first child only (nullptr otherwise).
    Chunk *stored_parent() const {
        return is_first() ? reinterpret_cast<Chunk *>(prev_link & ~kFirstTag) : nullptr;
    }
    void set_prev(Chunk *p) { prev_link = reinterpret_cast<uintptr_t>(p); }
    void set_first_of(Chunk *parent) { prev_link = reinterpret_cast<uintptr_t>(parent) | kFirstTag; }

    // --- name / extension ---------------------------------------------------
    Ext *ext() const {
        return has(kFlagExt) ? static_cast<Ext *>(const_cast<void *>(name_or_ext)) : nullptr;
    }
    const char *raw_name() const {
        if (Ext *e = ext()) return e->name;
        return static_cast<const char *>(name_or_ext);
    }
    void set_raw_name(const char *n) {
        if (Ext *e = ext()) e->name = n;
        else name_or_ext = n;
    }
    RefHandle *refs() const {
        Ext *e = ext();
        return e ? e->refs : nullptr;
    }
};

static_assert(sizeof(Chunk) == 48, "chunk header must stay compact and 16-byte aligned");
static_assert(sizeof(Chunk) % kAlign == 0, "user data alignment");

constexpr size_t align16(size_t n) { return (n + (kAlign - 1)) & ~(kAlign - 1); }

// The process-wide magic (randomised at load time, upper 18 bits).
extern uint32_t g_magic;

// Key of the guard words in front of pool members (pool.hpp): 64 random
// bits from the kernel, read at load time.
extern uint64_t g_guard_key;

// The guard word of the chunk at `tc`: keyed and mixed with the address, so
// that one guard read from memory does not give away another's.
inline uint64_t guard_for(const void *tc) {
    return (reinterpret_cast<uintptr_t>(tc) ^ g_guard_key) * 0x9e3779b97f4a7c15ull;
}

// Where a guarded chunk's (kFlagGuarded) guard word is: first in the
// kMemberPrefix bytes in front of its header.
inline uint64_t &guard_slot(Chunk *tc) {
    return *reinterpret_cast<uint64_t *>(reinterpret_cast<char *>(tc) - kMemberPrefix);
}
inline const uint64_t &guard_slot(const Chunk *tc) { return guard_slot(const_cast<Chunk *>(tc)); }

// `state` carries the slab cell index of the block, if it is a slab cell.
inline void mark_valid(Chunk *tc, uint32_t state) { tc->flags = g_magic | state; }

// What a freed chunk carries where a live one carries the magic: a public
// value, so the secret is not left in memory that malloc hands out again.
// The magic is never this value (global.cpp).
constexpr uint32_t kFreedStamp = 0xdeadc000u;
static_assert((kFreedStamp & kFlagMask) == 0, "the stamp leaves the state bits alone");

// Stamps tc freed, keeping its state bits (the slab cell index too).
inline void stamp_freed(Chunk *tc) { tc->flags = kFreedStamp | (tc->flags & kFlagMask) | kFlagFree; }

inline bool is_freed_stamp(const Chunk *tc) {
    return (tc->flags & (~kFlagMask | kFlagFree)) == (kFreedStamp | kFlagFree);
}

// A freed chunk is stamped so, so a second free or a use through a checked
// pointer is caught, and keeps where it was freed, for that report.  The
// guard word of a pool member or nested pool (pool.hpp) is cleared: it is
// derived from the key, and the pool's block goes back to malloc one day.
inline void mark_freed(Chunk *tc, const char *location) {
    if (tc->has(kFlagGuarded)) guard_slot(tc) = 0;
    stamp_freed(tc);
    tc->name_or_ext = location;
}

// Parent of a chunk: walk back to the first sibling, which stores it.
inline Chunk *parent_of(const Chunk *tc) {
    while (!tc->is_first()) {
        const Chunk *p = tc->prev();
        if (p == nullptr) return nullptr;  // detached, defensive
        tc = p;
    }
    return tc->stored_parent();
}

// Remove tc from its sibling list.  A first child keeps knowing its old
// parent through prev_link, as the reference's chunks do while being freed.
inline void unlink_keep_parent(Chunk *tc) {
    Chunk *next = tc->next;
    TAL_ASSERT(next == nullptr || next->prev_link == reinterpret_cast<uintptr_t>(tc));
    TAL_ASSERT(tc->is_first() || tc->prev() == nullptr || tc->prev()->next == tc);
    if (tc->is_first()) {
        Chunk *parent = tc->stored_parent();
        if (parent != nullptr && parent->child == tc) parent->child = next;
        if (next != nullptr) next->prev_link = tc->prev_link;  // next becomes first
    } else {
        Chunk *prev = tc->prev();
        if (prev != nullptr) prev->next = next;
        if (next != nullptr) next->set_prev(prev);
        // Like the reference, a chunk that was not the first child forgets
        // its parent when it is taken out.
        tc->set_first_of(nullptr);
    }
    tc->next = nullptr;
}

// Remove tc from its sibling list and make it a parentless top-level chunk.
inline void unlink_detached(Chunk *tc) {
    unlink_keep_parent(tc);
    tc->set_first_of(nullptr);
}

// Insert tc (currently unlinked) as the youngest child of parent.
inline void link_first(Chunk *parent, Chunk *tc) {
    Chunk *old = parent->child;
    TAL_ASSERT(old == nullptr || old->stored_parent() == parent);
    tc->next = old;
    tc->set_first_of(parent);
    if (old != nullptr) old->set_prev(tc);
    parent->child = tc;
}

// After a chunk moved in memory (realloc), point its neighbours at it.
inline void relink_moved(Chunk *tc) {
    if (tc->is_first()) {
        if (Chunk *parent = tc->stored_parent()) parent->child = tc;
    } else if (Chunk *prev = tc->prev()) {
        prev->next = tc;
    }
    if (tc->next != nullptr) tc->next->set_prev(tc);
    if (tc->child != nullptr) tc->child->set_first_of(tc);
}

}  // namespace tal

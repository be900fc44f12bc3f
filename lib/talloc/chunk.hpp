// The talloc chunk header and the hierarchy links every other part builds on.
//
// Layout (48 bytes, so user data stays 16-byte aligned like the reference's):
//
//   check       32-bit check word, keyed with the chunk's address
//               (check_for): first, so that an overflow from the block in
//               front destroys it before it reaches any other field, and no
//               field of a chunk is used before its check word is verified
//               (chunk_intact).  0 once the chunk is freed.
//   size        payload size (MAX_TALLOC_SIZE keeps it below 2^28)
//   next        next sibling (younger chunks are inserted at the head)
//   prev_link   previous sibling, or, for the first child of a parent and for
//               top-level chunks, the parent's address tagged with kFirstTag.
//               Only the first child knows its parent, exactly as in the
//               reference: relinking after realloc is O(1), and talloc_parent
//               walks back to the head of the sibling list.
//   child       youngest child
//   name_or_ext name string, or an Ext record when kFlagExt is set
//   dtor_*      user destructor, 48 bits (x86-64 user space addresses have
//               47): while a chunk is being freed it holds the link to the
//               chunk that is freeing it (free.cpp); kFreedStamp once freed
//   flags       state bits (0..7) and the slab cell index (bits 8..13, 0 =
//               not a slab cell, see slab.hpp)
//
// The freed stamp, the flags and the name (where it was freed) sit at
// offsets >= 32, out of reach of what glibc writes into freed blocks, so a
// freed chunk is still recognised as freed afterwards.
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

// For declarations of the library's own globals: -fvisibility=hidden does
// not apply to extern declarations, and without this every read of one
// goes through the GOT (an address load more on every hot path).
#define TAL_HIDDEN __attribute__((visibility("hidden")))

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
constexpr uint32_t kFlagMask = 0x3fff;  // every bit the flags word has
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
    uint32_t check;
    uint32_t size;
    Chunk *next;
    uintptr_t prev_link;
    Chunk *child;
    const void *name_or_ext;
    uint32_t dtor_low;
    uint16_t dtor_high;
    uint16_t flags;

    // --- destructor slot (48 bits, see the layout above) --------------------
    uint64_t dtor_bits() const {
        return static_cast<uint64_t>(dtor_low) | static_cast<uint64_t>(dtor_high) << 32;
    }
    void set_dtor_bits(uint64_t v) {
        TAL_ASSERT(v >> 48 == 0);
        dtor_low = static_cast<uint32_t>(v);
        dtor_high = static_cast<uint16_t>(v >> 32);
    }
    Destructor destructor() const { return reinterpret_cast<Destructor>(dtor_bits()); }
    void set_destructor(Destructor d) { set_dtor_bits(reinterpret_cast<uintptr_t>(d)); }
    bool has_destructor() const { return (dtor_low | dtor_high) != 0; }
    // While tc is being freed: the chunk whose free reached it (free.cpp).
    Chunk *free_link() const { return reinterpret_cast<Chunk *>(dtor_bits()); }
    void set_free_link(Chunk *up) { set_dtor_bits(reinterpret_cast<uintptr_t>(up)); }

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
    // What prev_link points at: the parent of a first child, else the
    // older sibling.
    Chunk *before() const { return reinterpret_cast<Chunk *>(prev_link & ~kFirstTag); }
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

// The process's secret: 128 random bits from the kernel, read at load time
// (global.cpp).  Never stored in a chunk, only values derived from it.
struct Secret {
    uint64_t xor_key;
    uint64_t mul_key;   // odd
};
extern TAL_HIDDEN Secret g_secret;

// What talloc_test_get_magic() returns: stable in a process, different
// between processes, and not a value any check word of this process has
// (derived from the secret another way), so it gives nothing away.
uint32_t public_magic();

// The value of a check word at `at`: the secret mixed with the word's own
// address (one 64x64->128-bit multiply, both halves folded), so that a
// value read from one header neither forges another nor gives the secret
// away by inverting the mix.
inline uint64_t keyed_mix(const void *at) {
    unsigned __int128 m = static_cast<unsigned __int128>(reinterpret_cast<uintptr_t>(at) ^ g_secret.xor_key) *
                          g_secret.mul_key;
    return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}
inline uint32_t check_for(const void *at) { return static_cast<uint32_t>(keyed_mix(at)); }

// Where a guarded chunk's (kFlagGuarded) guard word is: first in the
// kMemberPrefix bytes in front of its header.  It is a 64-bit check word.
inline uint64_t &guard_slot(Chunk *tc) {
    return *reinterpret_cast<uint64_t *>(reinterpret_cast<char *>(tc) - kMemberPrefix);
}
inline const uint64_t &guard_slot(const Chunk *tc) { return guard_slot(const_cast<Chunk *>(tc)); }
inline uint64_t guard_for(const Chunk *tc) { return keyed_mix(&guard_slot(tc)); }

// A chunk made at tc (or moved there): its check word, and the state
// (which carries the slab cell index of the block, if it is a slab cell).
inline void mark_valid(Chunk *tc, uint32_t state) {
    tc->check = check_for(tc);
    tc->flags = static_cast<uint16_t>(state);
}

// What a freed chunk carries in its destructor slot: a public value, so
// that it is told from a damaged one (its check word is 0, or what glibc
// wrote over it).  48 bits, as the slot.
constexpr uint64_t kFreedStamp = 0xdead'f7ee'c0deull;

// Stamps tc freed (check word cleared, the stamp, kFlagFree), keeping its
// state bits (the slab cell index too).
inline void stamp_freed(Chunk *tc) {
    tc->check = 0;
    tc->set_dtor_bits(kFreedStamp);
    tc->flags = static_cast<uint16_t>(tc->flags | kFlagFree);
}

inline bool is_freed_stamp(const Chunk *tc) { return tc->dtor_bits() == kFreedStamp && tc->has(kFlagFree); }

// A freed chunk is stamped so, so a second free or a use through a checked
// pointer is caught, and keeps where it was freed, for that report.  The
// guard word of a pool member or nested pool (pool.hpp) is cleared too:
// no value derived from the secret stays in freed memory.
inline void mark_freed(Chunk *tc, const char *location) {
    if (tc->has(kFlagGuarded)) guard_slot(tc) = 0;
    stamp_freed(tc);
    tc->name_or_ext = location;
}

// The guard word in front of a pool member or a nested pool is intact.
inline bool member_guard_ok(const Chunk *tc) { return guard_slot(tc) == guard_for(tc); }

// tc's header can be trusted: its check word, which an overflow from below
// destroys before any other field and which no one can forge without the
// secret.  The guard in front of a pool member adds nothing to that (it
// catches an overflow that stopped in the member's prefix, short of the
// header); it is verified where a program hands a pointer in (checked(),
// chunk_intact()), where the reference looks at its magic.
inline bool header_intact(const Chunk *tc) { return tc->check == check_for(tc); }

// tc is a live chunk: its check word (which an overflow from below destroys
// before it reaches any other field, the flags included), and the guard
// word in front of what lives in a pool, which comes before its prefix.
inline bool chunk_intact(const Chunk *tc) {
    return header_intact(tc) && (!tc->has(kFlagGuarded) || member_guard_ok(tc));
}

// Reports a chunk that is not intact (freed or damaged) through the abort
// function and returns nullptr (diagnostics.cpp).
Chunk *report_bad_chunk(const Chunk *tc);

// A chunk reached through another's links, verified before it is used:
// true when it is nullptr or its header is intact; a damaged one is
// reported.  Callers then leave it alone (a list is cut there rather than
// written through).
inline bool linked_ok(const Chunk *tc) {
    if (__builtin_expect(tc == nullptr || header_intact(tc), 1)) return true;
    report_bad_chunk(tc);
    return false;
}

// linked_ok() for a chunk reached through links that is then freed, or
// whose pool is used (a reference handle): its whole prefix is verified, as
// for a pointer a program hands in.
inline bool linked_chunk_ok(const Chunk *tc) {
    if (__builtin_expect(tc == nullptr || chunk_intact(tc), 1)) return true;
    report_bad_chunk(tc);
    return false;
}

// Parent of a chunk: walk back to the first sibling, which stores it.
// Every sibling on the way and the parent are verified; nullptr when one
// is damaged (reported).
inline Chunk *parent_of(const Chunk *tc) {
    while (!tc->is_first()) {
        const Chunk *p = tc->prev();
        if (p == nullptr || !linked_ok(p)) return nullptr;  // detached, or damaged
        tc = p;
    }
    Chunk *parent = tc->stored_parent();
    return linked_ok(parent) ? parent : nullptr;
}

// Remove tc from its sibling list, given the neighbours that may be
// written to: `before` (the parent of a first child, else the older
// sibling) and `next`, each nullptr when there is none or it is damaged.
// A first child keeps knowing its old parent through prev_link, as the
// reference's chunks do while being freed.
inline void unlink_between(Chunk *tc, Chunk *before, Chunk *next) {
    if (tc->is_first()) {
        if (before != nullptr && before->child == tc) before->child = next;
        if (next != nullptr) next->prev_link = tc->prev_link;  // next becomes first
    } else {
        if (before != nullptr) before->next = next;
        if (next != nullptr) next->set_prev(tc->prev());
        // Like the reference, a chunk that was not the first child forgets
        // its parent when it is taken out.
        tc->set_first_of(nullptr);
    }
    tc->next = nullptr;
}

// unlink_between() with the neighbours verified first: a damaged one is
// reported and not written through.
inline void unlink_keep_parent(Chunk *tc) {
    Chunk *next = tc->next;
    if (!linked_ok(next)) next = nullptr;
    TAL_ASSERT(next == nullptr || next->prev_link == reinterpret_cast<uintptr_t>(tc));
    TAL_ASSERT(tc->is_first() || tc->prev() == nullptr || tc->prev()->next == tc);
    Chunk *before = tc->before();
    if (!linked_ok(before)) before = nullptr;
    unlink_between(tc, before, next);
}

// Remove tc from its sibling list and make it a parentless top-level chunk.
inline void unlink_detached(Chunk *tc) {
    unlink_keep_parent(tc);
    tc->set_first_of(nullptr);
}

// Insert tc (currently unlinked) as the youngest child of parent, in front
// of `old`: the parent's youngest child, verified, or nullptr.
inline void link_before(Chunk *parent, Chunk *tc, Chunk *old) {
    TAL_ASSERT(old == nullptr || old->stored_parent() == parent);
    tc->next = old;
    tc->set_first_of(parent);
    if (old != nullptr) old->set_prev(tc);
    parent->child = tc;
}

// Insert tc (currently unlinked) as the youngest child of parent (intact).
// A damaged youngest child is reported and the list cut before it.
inline void link_first(Chunk *parent, Chunk *tc) {
    Chunk *old = parent->child;
    if (!linked_ok(old)) old = nullptr;
    link_before(parent, tc, old);
}

// After a chunk moved in memory (realloc), point its neighbours at it.
// The chunk itself was verified at its old place; its neighbours are here.
inline void relink_moved(Chunk *tc) {
    if (tc->is_first()) {
        Chunk *parent = tc->stored_parent();
        if (parent != nullptr && linked_ok(parent)) parent->child = tc;
    } else if (Chunk *prev = tc->prev()) {
        if (linked_ok(prev)) prev->next = tc;
    }
    if (tc->next != nullptr && linked_ok(tc->next)) tc->next->set_prev(tc);
    if (tc->child != nullptr && linked_ok(tc->child)) tc->child->set_first_of(tc);
}

}  // namespace tal

// Slabs: small chunk blocks (48..304 bytes, payloads up to 256) carved from
// 4 KiB malloc blocks, from a thread's first chunk of a class on.
//
// A 64-byte chunk costs an 80-byte malloc chunk and one free() each; carved
// from a slab it costs 64 bytes plus 1/63 of a slab header, and freeing many
// of them releases one slab per 63.  A slab is an ordinary malloc() block
// (so heap statistics count it): a 64-byte Slab header, then up to 63 cells of
// one class.  A cell is found from its chunk without alignment tricks: the
// chunk's flags word keeps the cell's index (kIndexMask, 1..63), and its size
// always stays within the cell's class, so the cell size is block_bytes(size).
//
// Ownership.  Each slab belongs to the thread that made it (its SlabHeap,
// part of the thread's cache).  Only the owner allocates from it and frees
// into its local list, without atomics.  Another thread freeing a cell
// pushes it onto the slab's `remote` stack (lock-free); the owner takes the
// whole stack with one exchange when it runs out of cells.  When the owner
// exits, it marks each slab's remote word abandoned (kAbandoned); from then
// on cells of that slab are counted out under g_abandoned_mutex and the slab
// is freed with its last cell.
//
// Why no slab is freed while in use: a slab is freed only when `used` is 0,
// and a cell counts in `used` from its allocation until its return has been
// counted (by the owner taking it off the remote stack, or under the mutex
// once abandoned).  A remote free touches the slab only before its push
// succeeds, while its own cell still keeps `used` above 0; after that it
// never touches the slab again.  `used` is written only by the owner while
// the slab is owned, and only under the mutex once it is abandoned (the
// owner's last access, at its exit, is under the mutex too).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "chunk.hpp"
#include "diagnostics.hpp"

namespace tal {

constexpr size_t kSlabMinBlock = 48;     // block_bytes(0)
constexpr size_t kSlabMaxBlock = 304;    // blocks of 16-byte payloads and up to 256 bytes
constexpr size_t kSlabClasses = (kSlabMaxBlock - kSlabMinBlock) / kAlign + 1;
constexpr size_t kSlabHeaderBytes = 64;
// malloc request per slab: 4 KiB of cells and header, plus room to start the
// cells on a 64-byte boundary (a 64-byte cell then is one cache line: freeing
// a million of them is bound by memory traffic).
constexpr size_t kSlabBytes = 4096 + 48;
constexpr uint32_t kSlabStash = 4;       // empty slabs a thread keeps for reuse
constexpr uint32_t kSlabMaxCells = kIndexMask >> kIndexShift;   // 63
constexpr uintptr_t kAbandoned = 1;      // low bit of Slab::remote

struct SlabHeap;

struct Slab {
    uint64_t check;                    // keyed_mix(this), first (see chunk.hpp); 0 once freed
    std::atomic<SlabHeap *> owner;     // nullptr once abandoned
    std::atomic<uintptr_t> remote;     // cells freed by other threads (via Chunk::next) | kAbandoned
    Chunk *free;                       // owner: freed cells, through Chunk::next
    Slab *prev, *next;                 // owner: the class's slabs
    uint16_t used;                     // cells handed out and not yet counted back
    uint16_t bump;                     // cells carved so far
    uint16_t cells;
    uint16_t cell_bytes;
    void *raw;                         // the malloc'd block (the header sits inside it)
};
static_assert(sizeof(Slab) <= kSlabHeaderBytes, "slab header");

struct SlabClass {
    Slab *current;     // where allocation goes; never freed while current
    Slab *head;        // every slab of the class the thread owns
    Slab *cursor;      // where the next search for free cells starts
};

struct SlabHeap {
    SlabClass classes[kSlabClasses];
    Slab *stash[kSlabStash];           // empty slabs kept for reuse (any class)
    uint32_t stashed;
};

// Set at load time when running under valgrind: cells are then announced
// as heap blocks of their own (alloc/free, leaks per chunk).
extern TAL_HIDDEN bool g_slab_valgrind;
void slab_vg_alloc(Chunk *cell, size_t bytes);
void slab_vg_free(Chunk *cell);

#if defined(__SANITIZE_ADDRESS__)
extern "C" void __asan_poison_memory_region(void const volatile *, size_t);
extern "C" void __asan_unpoison_memory_region(void const volatile *, size_t);
// A free cell is poisoned but for its link word, so our own use-after-free
// shows under ASan as it would with malloc'd blocks.
inline void slab_asan_free(Chunk *cell, size_t bytes) {
    __asan_poison_memory_region(cell, bytes);
    __asan_unpoison_memory_region(&cell->next, sizeof(cell->next));
}
inline void slab_asan_alloc(Chunk *cell, size_t bytes) { __asan_unpoison_memory_region(cell, bytes); }
#else
inline void slab_asan_free(Chunk *, size_t) {}
inline void slab_asan_alloc(Chunk *, size_t) {}
#endif

inline bool is_slab_cell(const Chunk *tc) { return (tc->flags & kIndexMask) != 0; }

inline size_t slab_class_of(size_t bytes) { return (bytes - kSlabMinBlock) / kAlign; }

// The slab of a cell; `bytes` is the cell size (block_bytes of its size).
inline Slab *slab_of(Chunk *tc, size_t bytes) {
    size_t index = (tc->flags & kIndexMask) >> kIndexShift;
    return reinterpret_cast<Slab *>(reinterpret_cast<char *>(tc) - kSlabHeaderBytes - (index - 1) * bytes);
}

inline bool slab_intact(const Slab *s) { return s->check == keyed_mix(s); }

// The next cell of s never handed out before (s->bump < s->cells), marked
// valid.
inline Chunk *slab_carve(Slab *s, size_t bytes) {
    auto *tc = reinterpret_cast<Chunk *>(reinterpret_cast<char *>(s) + kSlabHeaderBytes + s->bump * bytes);
    s->bump++;
    s->used++;
    if (TAL_UNLIKELY(g_slab_valgrind)) slab_vg_alloc(tc, bytes);
    slab_asan_alloc(tc, bytes);   // a stashed slab may have been cut up otherwise before
    mark_valid(tc, static_cast<uint32_t>(s->bump) << kIndexShift);
    return tc;
}

// Pops a free cell of the owner's current slab, or carves its next one
// (the fast path); the chunk is marked valid.  nullptr when that takes
// more work.
inline Chunk *slab_pop(SlabHeap *heap, size_t bytes) {
    Slab *s = heap->classes[slab_class_of(bytes)].current;
    if (s == nullptr) return nullptr;
    Chunk *tc = s->free;
    if (tc == nullptr) return s->bump < s->cells ? slab_carve(s, bytes) : nullptr;
    s->free = tc->next;   // before valgrind makes the link word undefined
    // The next free cell is cold more often than not (cells freed long
    // ago, here and there): asked for now, its miss overlaps this
    // allocation's work instead of stalling the next one.
    if (s->free != nullptr) __builtin_prefetch(s->free, 1);
    if (TAL_UNLIKELY(g_slab_valgrind)) slab_vg_alloc(tc, bytes);
    slab_asan_alloc(tc, bytes);
    s->used++;
    mark_valid(tc, tc->flags & kIndexMask);   // a free cell keeps its index
    return tc;
}

// slab_pop() for allocate()'s fast path, which has no stack frame: without
// calls (under valgrind the slow path, with its hooks, does the work; under
// ASan the unpoisoning call stays).
inline Chunk *slab_pop_leaf(SlabHeap *heap, size_t bytes) {
    if (TAL_UNLIKELY(g_slab_valgrind)) return nullptr;
    return slab_pop(heap, bytes);
}

// A cell of `bytes` from the thread's slabs (slow part of slab_pop), or
// nullptr when memory is short.
Chunk *slab_alloc(SlabHeap *heap, size_t bytes);

void slab_release_empty(SlabHeap *heap, Slab *s);
void slab_free_remote(Slab *s, Chunk *tc);

// Gives a dead slab cell back.  `heap` is the calling thread's (or nullptr).
inline void slab_free(SlabHeap *heap, Chunk *tc, size_t bytes) {
    Slab *s = slab_of(tc, bytes);
    if (TAL_UNLIKELY(!slab_intact(s))) {   // the cell is left where it is
        report_bad_metadata();
        return;
    }
    if (TAL_UNLIKELY(g_slab_valgrind)) slab_vg_free(tc);
    slab_asan_free(tc, bytes);
    if (TAL_LIKELY(heap != nullptr && s->owner.load(std::memory_order_relaxed) == heap)) {
        tc->next = s->free;
        s->free = tc;
        TAL_ASSERT(s->used > 0);
        if (TAL_UNLIKELY(--s->used == 0)) slab_release_empty(heap, s);
        return;
    }
    slab_free_remote(s, tc);
}

// Thread exit: gives up every slab of the heap (frees the empty ones).
void slab_heap_abandon(SlabHeap *heap);

// Slabs the process holds (live malloc blocks), for tests.
size_t slab_count();

}  // namespace tal

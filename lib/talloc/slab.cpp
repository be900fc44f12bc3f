#include "slab.hpp"

#include <pthread.h>
// valgrind's client requests are header-only (no-ops when not under
// valgrind); without the headers cells are simply not announced to it.
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#define VALGRIND_MALLOCLIKE_BLOCK(addr, size, rz, zeroed) ((void)0)
#define VALGRIND_FREELIKE_BLOCK(addr, rz) ((void)0)
#define VALGRIND_MAKE_MEM_DEFINED(addr, size) ((void)0)
#define VALGRIND_MAKE_MEM_UNDEFINED(addr, size) ((void)0)
#define VALGRIND_MAKE_MEM_NOACCESS(addr, size) ((void)0)
#endif

#include <cstdlib>

namespace tal {

bool g_slab_valgrind = false;

namespace {

// Used only for abandoned slabs (their owner exited): never on a hot path.
pthread_mutex_t g_abandoned_mutex = PTHREAD_MUTEX_INITIALIZER;

std::atomic<size_t> g_slabs{0};

// Abandoned slabs that still have live cells (under g_abandoned_mutex,
// through their prev/next links): nothing else points at them, and leak
// checkers would call them lost.
Slab *g_abandoned = nullptr;

// A fork while another thread holds the mutex (exiting, or freeing into an
// abandoned slab) would leave it locked for good in the child; held across
// fork() by the forking thread instead, it is released on both sides.
void lock_abandoned() { pthread_mutex_lock(&g_abandoned_mutex); }
void unlock_abandoned() { pthread_mutex_unlock(&g_abandoned_mutex); }

__attribute__((constructor)) void init_slabs() {
    g_slab_valgrind = RUNNING_ON_VALGRIND != 0;
    pthread_atfork(lock_abandoned, unlock_abandoned, unlock_abandoned);
}

// Slabs searched for free cells before a new one is made: enough to find
// room freed here and there, bounded so a heap of full slabs costs little.
constexpr int kSearch = 4;

// The lists of slabs (a class's, the abandoned ones) link through
// Slab::prev/next.
void list_push(Slab *&head, Slab *s) {
    s->prev = nullptr;
    s->next = head;
    if (head != nullptr) head->prev = s;
    head = s;
}

void list_remove(Slab *&head, Slab *s) {
    if (s->prev != nullptr) s->prev->next = s->next;
    else head = s->next;
    if (s->next != nullptr) s->next->prev = s->prev;
}

void unlink_slab(SlabClass &k, Slab *s) {
    list_remove(k.head, s);
    if (k.cursor == s) k.cursor = s->next;
}

void destroy(Slab *s) {
    g_slabs.fetch_sub(1, std::memory_order_relaxed);
    s->check = 0;
    free(s->raw);
}

// Keeps an empty slab for reuse, or frees it.  Of the stash and s, the slab
// at the lowest address is the one freed: when a big subtree is freed, its
// slabs then merge into free space below the kept ones instead of into the
// top of the heap, which malloc would hand back to the kernel page by page
// on the spot (as the reference's freed blocks, held in malloc's bins, are
// not).  The memory is free to malloc either way.
void retire(SlabHeap *heap, Slab *s) {
    if (heap->stashed < kSlabStash) {
        heap->stash[heap->stashed++] = s;
        return;
    }
    for (Slab *&kept : heap->stash) {
        if (reinterpret_cast<uintptr_t>(kept) < reinterpret_cast<uintptr_t>(s)) {
            Slab *lower = kept;
            kept = s;
            s = lower;
        }
    }
    // s is now the lowest; the stash keeps the higher ones (lowest at [0]
    // is not required: every entry was compared).
    destroy(s);
}

// Counts the cells other threads gave back into the local free list; true
// when there were any.  Owner only: no one else takes the stack, so the
// exchange cannot meet an ABA.
bool collect_remote(Slab *s) {
    if (s->remote.load(std::memory_order_relaxed) == 0) return false;
    auto *c = reinterpret_cast<Chunk *>(s->remote.exchange(0, std::memory_order_acquire));
    while (c != nullptr) {
        Chunk *next = c->next;
        c->next = s->free;
        s->free = c;
        s->used--;
        c = next;
    }
    return true;
}

bool has_room(Slab *s) { return s->free != nullptr || s->bump < s->cells || collect_remote(s); }

Slab *new_slab(SlabHeap *heap, size_t bytes) {
    Slab *s;
    if (heap->stashed > 0) {
        s = heap->stash[--heap->stashed];
    } else {
        char *raw = static_cast<char *>(malloc(kSlabBytes));
        if (raw == nullptr) return nullptr;
        g_slabs.fetch_add(1, std::memory_order_relaxed);
        // Cells start at the first 64-byte boundary past the header.
        // (Not under valgrind: its leak check wants a pointer to the start
        // of the block, and the heap holds pointers to headers.)
        auto cells_at = (reinterpret_cast<uintptr_t>(raw) + 2 * kSlabHeaderBytes - 1) & ~uintptr_t(kSlabHeaderBytes - 1);
        if (g_slab_valgrind) cells_at = reinterpret_cast<uintptr_t>(raw) + kSlabHeaderBytes;
        s = reinterpret_cast<Slab *>(cells_at - kSlabHeaderBytes);
        s->raw = raw;
        s->check = keyed_mix(s);
    }
    char *cells_start = reinterpret_cast<char *>(s) + kSlabHeaderBytes;
    uint32_t cells = static_cast<uint32_t>((static_cast<char *>(s->raw) + kSlabBytes - cells_start) / bytes);
    if (cells > kSlabMaxCells) cells = kSlabMaxCells;
    s->owner.store(heap, std::memory_order_relaxed);
    s->remote.store(0, std::memory_order_relaxed);
    s->free = nullptr;
    s->used = 0;
    s->bump = 0;
    s->cells = static_cast<uint16_t>(cells);
    s->cell_bytes = static_cast<uint16_t>(bytes);
    if (g_slab_valgrind) VALGRIND_MAKE_MEM_NOACCESS(reinterpret_cast<char *>(s) + kSlabHeaderBytes, cells * bytes);
    return s;
}

}  // namespace

void slab_vg_alloc(Chunk *cell, size_t bytes) {
    VALGRIND_MALLOCLIKE_BLOCK(cell, bytes, 0, 0);
    // The index in a free cell's flags is read when it is handed out.
    VALGRIND_MAKE_MEM_DEFINED(&cell->flags, sizeof(cell->flags));
}

void slab_vg_free(Chunk *cell) {
    VALGRIND_FREELIKE_BLOCK(cell, 0);
    // The link word of the free lists stays ours.
    VALGRIND_MAKE_MEM_UNDEFINED(&cell->next, sizeof(cell->next));
}

Chunk *slab_alloc(SlabHeap *heap, size_t bytes) {
    SlabClass &k = heap->classes[slab_class_of(bytes)];
    Slab *s = k.current;
    if (s == nullptr || !has_room(s)) {
        s = nullptr;
        Slab *c = k.cursor != nullptr ? k.cursor : k.head;
        for (int i = 0; i < kSearch && c != nullptr; i++) {
            Slab *next = c->next != nullptr ? c->next : k.head;
            if (c != k.current && has_room(c)) {
                s = c;
                break;
            }
            c = next;
        }
        k.cursor = c;
        if (s == nullptr) {
            s = new_slab(heap, bytes);
            if (s == nullptr) return nullptr;
            list_push(k.head, s);
        }
        Slab *old = k.current;
        k.current = s;
        // The old current was kept even when empty; it need not be now.
        if (old != nullptr && old->used == 0) {
            unlink_slab(k, old);
            retire(heap, old);
        }
    }
    return slab_pop(heap, bytes);
}

void slab_release_empty(SlabHeap *heap, Slab *s) {
    SlabClass &k = heap->classes[slab_class_of(s->cell_bytes)];
    if (s == k.current) return;   // kept: the next allocation would make a new one
    // used == 0 and we are the owner: nobody else can hold one of its cells,
    // so its remote stack is empty and stays so.
    unlink_slab(k, s);
    retire(heap, s);
}

void slab_free_remote(Slab *s, Chunk *tc) {
    uintptr_t old = s->remote.load(std::memory_order_relaxed);
    while ((old & kAbandoned) == 0) {
        tc->next = reinterpret_cast<Chunk *>(old);
        // release: the owner sees the cell's last writes when it takes it.
        if (s->remote.compare_exchange_weak(old, reinterpret_cast<uintptr_t>(tc), std::memory_order_release,
                                            std::memory_order_relaxed)) {
            return;   // s may be freed by its owner from here on
        }
    }
    pthread_mutex_lock(&g_abandoned_mutex);
    if (--s->used == 0) {
        list_remove(g_abandoned, s);
        destroy(s);
    }
    pthread_mutex_unlock(&g_abandoned_mutex);
}

void slab_heap_abandon(SlabHeap *heap) {
    while (heap->stashed > 0) destroy(heap->stash[--heap->stashed]);
    pthread_mutex_lock(&g_abandoned_mutex);
    for (SlabClass &k : heap->classes) {
        Slab *s = k.head;
        while (s != nullptr) {
            Slab *next = s->next;
            // Takes the remote cells and closes the stack in one step:
            // later remote frees see the mark and come to the mutex.
            auto *c = reinterpret_cast<Chunk *>(s->remote.exchange(kAbandoned, std::memory_order_acq_rel));
            for (; c != nullptr; c = c->next) s->used--;
            s->owner.store(nullptr, std::memory_order_relaxed);
            if (s->used == 0) {
                destroy(s);
            } else {
                list_push(g_abandoned, s);
            }
            s = next;
        }
        k = SlabClass{};
    }
    pthread_mutex_unlock(&g_abandoned_mutex);
}

size_t slab_count() { return g_slabs.load(std::memory_order_relaxed); }

}  // namespace tal

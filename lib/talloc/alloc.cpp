// Allocation, reallocation and freeing of chunks.
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

// Marks a destructor that is running, so a free from inside it is refused.
const Destructor kDestructorRunning = reinterpret_cast<Destructor>(static_cast<intptr_t>(-1));

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
    tc->destructor = nullptr;
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

bool array_bytes(size_t el_size, size_t count, size_t *out) {
    // The reference refuses count >= kMaxSize / el_size; this is the same
    // condition without a division on every array allocation.
    size_t limit_probe;
    if (__builtin_mul_overflow(count + 1, el_size, &limit_probe) || limit_probe > kMaxSize) return false;
    *out = el_size * count;
    return true;
}

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
    if (parent != nullptr && parent->has(kFlagPool | kFlagPoolMem)) {
        tc = pool_carve(owner_slot(parent), size);
    } else {
        tc = chunk_pop(block_bytes(size));
    }
    if (TAL_UNLIKELY(tc == nullptr)) return allocate_slow(parent, size, name);
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
    size_t charged = poolsize + kRefHeaderSize + kRefPoolHeaderSize;
    if (parent != nullptr && !memlimit_fits(parent, charged)) {
        errno = ENOMEM;
        return nullptr;
    }
    Chunk *tc = pool_create(poolsize);
    if (tc == nullptr) return nullptr;
    if (parent != nullptr) memlimit_grow(parent, charged);
    tc->destructor = nullptr;
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

// ---------------------------------------------------------------------------
// Freeing.
//
// A free runs in three steps per chunk, as the reference does: (1) drop
// references held on it and run its destructor, then take it out of its
// parent; (2) free its children, youngest first; (3) release its memory.
// Step (2) is a loop over an explicit path instead of recursion: while a
// chunk is being freed its destructor slot links to the chunk freeing it.

namespace {

enum class Begin { Proceed, Refused, AlreadyFreeing };

Begin begin_free(Chunk *tc, const char *location) {
    while (RefHandle *h = tc->refs()) {
        // A reference held from inside tc's own subtree does not keep it alive.
        Chunk *hc = Chunk::from_payload(h);
        bool from_inside = is_ancestor_or_self(hc, tc->payload());
        free_chunk(hc, location);
        if (!from_inside) return Begin::Refused;
    }
    if (tc->has(kFlagLoop)) return Begin::AlreadyFreeing;
    if (Destructor d = tc->destructor) {
        if (d == kDestructorRunning) return Begin::Refused;
        tc->destructor = kDestructorRunning;
        if (d(tc->payload()) == -1) {
            if (tc->destructor == kDestructorRunning) tc->destructor = d;
            return Begin::Refused;
        }
        tc->destructor = nullptr;
    }
    if (limits_active()) {
        Chunk *parent = parent_of(tc);
        if (parent != nullptr && !parent->has(kFlagDying)) memlimit_shrink(parent, accounted_subtree(tc));
    }
    unlink_keep_parent(tc);
    tc->flags |= kFlagLoop | kFlagDying;
    return Begin::Proceed;
}

// Releases tc's leading run of plain-leaf children; true when that was all
// of them.  Plain leaves run no code, so the list is mended once at the end.
__attribute__((always_inline)) inline bool release_plain_children(Chunk *tc, const char *location) {
    Chunk *c = tc->child;
    if (TAL_LIKELY(!limits_active() && !g_free_fill.enabled)) {
        // The same loops with the process-wide tests done once: freeing
        // plain leaves cannot change them, but the compiler must assume
        // that free() can.
        while (c != nullptr && is_plain_leaf_itself(c)) {
            // A run of slab cells and malloc'd children, as long and as
            // lean as it gets.  free() does not touch the thread's cache, so
            // the pointer to it is loaded again only after the cache was
            // just created.
            ThreadCache *cache = t_cache;
            while (!c->has(kFlagPoolMem)) {
                Chunk *next = c->next;
                mark_freed(c, location);
                if (TAL_LIKELY(cache != nullptr)) {
                    cache_free_to(cache, c, block_bytes(c->size));
                } else {
                    cache_free_slow(c, block_bytes(c->size));
                    cache = t_cache;
                }
                c = next;
                if (c == nullptr || !is_plain_leaf_itself(c)) goto done;
            }
            // A run of members of one pool.  Its count and end stay in
            // registers meanwhile: stored per member, each would be loaded
            // again by the next one, a chain through memory per child.
            PoolHeader *pool = owner_slot(c);
            char *end = pool->end;
            uint32_t count = pool->object_count;
            do {
                if (TAL_UNLIKELY(count <= 2)) break;  // may reset or free the pool: below
                Chunk *next = c->next;
                mark_freed(c, location);
                count--;
                if (end == member_end(c)) end = member_start(c);  // was the newest member
                c = next;
            } while (c != nullptr && is_plain_member_of(c, pool));
            pool->end = end;
            pool->object_count = count;
            if (count <= 2 && c != nullptr && is_plain_member_of(c, pool)) {
                Chunk *next = c->next;
                pool_release_member_slow(c, location);
                c = next;
            }
        }
    }
done:
    while (c != nullptr && is_plain_leaf(c)) {
        Chunk *next = c->next;
        release_plain(c, location);
        c = next;
    }
    tc->child = c;
    if (c == nullptr) return true;
    c->set_first_of(tc);
    return false;
}

void finish_free(Chunk *tc, const char *location) {
    release_ext(tc);
    release_plain(tc, location);
}

// Frees root's children and, when free_root, root itself (already begun).
void free_subtree(Chunk *root, const char *location, bool free_root) {
    Chunk *top = root;
    for (;;) {
        Chunk *c = top->child;
        if (c == nullptr) {
            if (top == root) {
                if (free_root) finish_free(root, location);
                return;
            }
            Chunk *up = reinterpret_cast<Chunk *>(top->destructor);
            top->destructor = nullptr;
            finish_free(top, location);
            top = up;
            continue;
        }
        if (is_plain_leaf(c)) {
            release_plain_children(top, location);
            continue;
        }
        if (TAL_UNLIKELY(!chunk_intact(c))) {
            // Damaged (an overflow, a forged pointer): nothing of it is
            // used, not even its link to the next sibling, so it and the
            // children after it are left behind.
            report_bad_chunk(c);
            top->child = nullptr;
            continue;
        }
        if (c->has(kFlagLoop)) {
            // Something being freed elsewhere was attached here again by a
            // destructor; whoever is freeing it finishes it.
            unlink_detached(c);
            continue;
        }
        // Who gets c if it cannot be freed: the owner of a reference to it,
        // else top's parent, else the null context.
        const void *new_parent = g_null_context;
        if (RefHandle *h = c->refs()) {
            if (Chunk *p = parent_of(Chunk::from_payload(h))) new_parent = p->payload();
        }
        switch (begin_free(c, location)) {
        case Begin::Proceed:
            c->destructor = reinterpret_cast<Destructor>(top);
            top = c;
            break;
        case Begin::AlreadyFreeing:
            break;
        case Begin::Refused:
            if (top->child != c && parent_of(c) != top) break;  // its destructor moved it
            if (new_parent == g_null_context) {
                if (Chunk *p = parent_of(top)) new_parent = p->payload();
            }
            steal_chunk(new_parent, c);
            break;
        }
    }
}

}  // namespace

int free_chunk(Chunk *tc, const char *location) {
    switch (begin_free(tc, location)) {
    case Begin::Refused:
        return -1;
    case Begin::AlreadyFreeing:
        return 0;
    case Begin::Proceed:
        break;
    }
    // Most chunks have no children but plain leaves (or none at all).
    if (release_plain_children(tc, location)) finish_free(tc, location);
    else free_subtree(tc, location, true);
    return 0;
}

void free_children(void *ptr) {
    if (ptr == nullptr) return;
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return;
    // A dynamic name (".name" child) survives: it is set aside and put back.
    Chunk *name_chunk = nullptr;
    for (Chunk *c = tc->child; c != nullptr; c = c->next) {
        if (c->payload() == static_cast<const void *>(tc->raw_name())) {
            name_chunk = c;
            break;
        }
    }
    if (name_chunk != nullptr) unlink_detached(name_chunk);
    // The loop flag keeps destructors from freeing tc while we are in it.
    bool was_looping = tc->has(kFlagLoop);
    tc->flags |= kFlagLoop;
    free_subtree(tc, "talloc_free_children", false);
    if (!was_looping) tc->flags &= ~kFlagLoop;
    if (name_chunk != nullptr) link_first(tc, name_chunk);
}

namespace {

// Frees tc, a plain pool member, when its children are plain leaves of the
// same pool and they and tc are all that pool holds: the pool area is then
// empty again in one step, without working out, member by member, whether
// each was the newest.  Request state kept in a pool is often freed like
// this.  The first pass only reads: when the family is anything else, it
// returns false with nothing changed, for the general path.
inline bool free_pool_family(Chunk *tc, const char *location) {
    PoolHeader *pool = owner_slot(tc);
    if (pool_chunk_of(pool)->has(kFlagFree) || g_free_fill.enabled) return false;
    uint32_t others = pool->object_count - 2;  // members but tc (the pool chunk counts itself)
    uint32_t family = 0;
    for (Chunk *c = tc->child; c != nullptr; c = c->next) {
        if (!is_plain_member_of(c, pool) || family == others) return false;
        family++;
    }
    if (family != others) return false;
    unlink_keep_parent(tc);
    for (Chunk *c = tc->child; c != nullptr; c = c->next) mark_freed(c, location);
    tc->child = nullptr;
    mark_freed(tc, location);
    pool_reset(pool);
    return true;
}

// Frees tc, plain but for its children: what begin_free() would do for it
// is only taking it out of its parent (no references, destructor or limits
// to look at).
inline void free_plain_parent(Chunk *tc, const char *location) {
    unlink_keep_parent(tc);
    if (release_plain_children(tc, location)) {
        if (tc->has(kFlagPoolMem)) {
            fill_freed(tc->payload(), tc->size);
            pool_release_member_reset(tc, location);
        } else {
            release_plain(tc, location);
        }
        return;
    }
    tc->flags |= kFlagLoop | kFlagDying;
    free_subtree(tc, location, true);
}

// free_ptr() for a chunk with references, a destructor or memory limits.
__attribute__((noinline)) int free_guarded(Chunk *tc, const char *location) {
    if (RefHandle *h = tc->refs()) {
        Chunk *parent = parent_of(tc);
        void *parent_payload = parent != nullptr ? parent->payload() : nullptr;
        if (parent_payload == g_null_context && h->next == nullptr) {
            // Only one owner is left besides the null context: hand it over.
            return unlink_ptr(g_null_context, tc->payload());
        }
        log("ERROR: talloc_free with references at %s\n", location);
        for (; h != nullptr; h = h->next) log("\treference at %s\n", h->location);
        return -1;
    }
    return free_chunk(tc, location);
}

}  // namespace

int free_ptr(void *ptr, const char *location) {
    if (ptr == nullptr) return -1;
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return -1;
    if (TAL_LIKELY(is_plain_leaf(tc))) {
        free_plain_leaf(tc, location);
        return 0;
    }
    if (!is_plain_but_children(tc)) return free_guarded(tc, location);
    if (!tc->has(kFlagPoolMem) || !free_pool_family(tc, location)) free_plain_parent(tc, location);
    return 0;
}

void set_destructor(const void *ptr, Destructor d) {
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return;
    // Past its destructor, a dying chunk's slot belongs to the free loop.
    if (tc->has(kFlagDying)) return;
    tc->destructor = d;
}

}  // namespace tal

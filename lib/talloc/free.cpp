// Freeing of chunks: talloc_free, talloc_free_children and the internal free.
//
// A free runs in three steps per chunk, as the reference does: (1) drop
// references held on it and run its destructor, then take it out of its
// parent; (2) free its children, youngest first; (3) release its memory.
// Step (2) is a loop over an explicit path instead of recursion: while a
// chunk is being freed its destructor slot links to the chunk freeing it.

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

// Marks a destructor that is running, so a free from inside it is refused
// (all 48 bits of the slot set: no function lives there).
const Destructor kDestructorRunning = reinterpret_cast<Destructor>((uintptr_t(1) << 48) - 1);

enum class Begin { Proceed, Refused, AlreadyFreeing };

// A free's destructor step: Proceed when tc has no destructor or it
// agreed, Refused when it refused or is running already.
inline Begin run_destructor(Chunk *tc) {
    Destructor d = tc->destructor();
    if (d == nullptr) return Begin::Proceed;
    if (d == kDestructorRunning) return Begin::Refused;
    tc->set_destructor(kDestructorRunning);
    if (d(tc->payload()) == -1) {
        if (tc->destructor() == kDestructorRunning) tc->set_destructor(d);
        return Begin::Refused;
    }
    tc->set_destructor(nullptr);
    return Begin::Proceed;
}

// Once tc's destructor agreed: out of its parent's accounts and list.
inline void detach_dying(Chunk *tc) {
    if (limits_active()) {
        Chunk *parent = parent_of(tc);
        if (parent != nullptr && !parent->has(kFlagDying)) memlimit_shrink(parent, accounted_subtree(tc));
    }
    unlink_keep_parent(tc);
    tc->flags |= kFlagLoop | kFlagDying;
}

Begin begin_free(Chunk *tc, const char *location) {
    while (RefHandle *h = tc->refs()) {
        // A reference held from inside tc's own subtree does not keep it alive.
        Chunk *hc = Chunk::from_payload(h);
        if (!linked_chunk_ok(hc)) return Begin::Refused;
        bool from_inside = is_ancestor_or_self(hc, tc->payload());
        free_handle(tc->ext(), h, location);
        if (!from_inside) return Begin::Refused;
    }
    if (tc->has(kFlagLoop)) return Begin::AlreadyFreeing;
    if (run_destructor(tc) == Begin::Refused) return Begin::Refused;
    detach_dying(tc);
    return Begin::Proceed;
}

// Releases tc's leading run of plain-leaf children; true when that was all
// of them.  Plain leaves run no code, so the list is mended once at the end.
__attribute__((always_inline)) inline bool release_plain_children(Chunk *tc, const char *location) {
    Chunk *c = tc->child;
    // The batch with the process-wide tests made once (release.hpp).
    if (TAL_LIKELY(!limits_active() && !g_free_fill.enabled)) c = release_plain_leaves(c, location);
    while (c != nullptr && chunk_intact(c) && is_plain_leaf(c)) {
        Chunk *next = c->next;
        release_plain(c, location);
        c = next;
    }
    tc->child = c;
    if (c == nullptr) return true;
    // Not verified yet, c is not written to: free_subtree() reports it.
    if (chunk_intact(c)) c->set_first_of(tc);
    return false;
}

void finish_free(Chunk *tc, const char *location) {
    if (tc->has(kFlagExt)) release_ext(tc);
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
            Chunk *up = top->free_link();
            top->set_free_link(nullptr);
            finish_free(top, location);
            top = up;
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
        if (is_plain_leaf(c)) {
            release_plain_children(top, location);
            continue;
        }
        if (is_plain_but_children(c)) {
            // begin_free() for a chunk with nothing to wait for but its
            // children (no references, destructor, limits, or free of it
            // in progress): out of the list, and down into it.
            detach_dying(c);
            c->set_free_link(top);
            top = c;
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
        if (RefHandle *h = c->refs(); h != nullptr && handle_ok(h)) {
            if (Chunk *p = parent_of(Chunk::from_payload(h))) new_parent = p->payload();
        }
        switch (begin_free(c, location)) {
        case Begin::Proceed:
            c->set_free_link(top);
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

// The rest of a free once begun: tc's children, then tc.  Most chunks have
// no children but plain leaves (or none at all).
inline void end_free(Chunk *tc, const char *location) {
    if (tc->child == nullptr || release_plain_children(tc, location)) finish_free(tc, location);
    else free_subtree(tc, location, true);
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
    end_free(tc, location);
    return 0;
}

void free_children(void *ptr) {
    if (ptr == nullptr) return;
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return;
    // A dynamic name (".name" child) survives: it is set aside and put back.
    Chunk *name_chunk = nullptr;
    for (Chunk *c = tc->child; c != nullptr && linked_ok(c); c = c->next) {
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

// Frees tc, plain but for its children: what begin_free() would do for it
// is only taking it out of its parent (no references, destructor or limits
// to look at).
inline void free_plain_parent(Chunk *tc, const char *location) {
    unlink_keep_parent(tc);
    if (release_plain_children(tc, location)) {
        release_plain(tc, location);
        return;
    }
    tc->flags |= kFlagLoop | kFlagDying;
    free_subtree(tc, location, true);
}

// A leaf that is plain but for an Ext holding nothing any more (its last
// reference was unlinked; the Ext stays for the next one): what
// free_chunk() would do for it is unlinking it and releasing the Ext.
inline bool is_plain_leaf_but_empty_ext(const Chunk *tc) {
    if (tc->child != nullptr || tc->has_destructor() || limits_active() ||
        (tc->flags & (kPlainFlagsMask & ~kFlagExt)) != 0)
        return false;
    const Ext *e = tc->ext();
    return e != nullptr && e->refs == nullptr && e->limit == nullptr;
}

// A leaf whose free needs of begin_free() only the destructor step and
// the unlinking: no references (no Ext), no free of it in progress, no
// memory limits.  tevent's events and requests (pooled objects) are such.
inline bool is_leaf_without_refs(const Chunk *tc) {
    return tc->child == nullptr && (tc->flags & (kFlagExt | kFlagLoop | kFlagDying)) == 0 && !limits_active();
}

// free_chunk() for such a leaf.  Its destructor may give it children,
// which end_free() then frees.
__attribute__((noinline)) int free_leaf_without_refs(Chunk *tc, const char *location) {
    if (run_destructor(tc) == Begin::Refused) return -1;
    detach_dying(tc);
    end_free(tc, location);
    return 0;
}

// free_ptr() for a chunk with references, a destructor or memory limits.
__attribute__((noinline)) int free_guarded(Chunk *tc, const char *location) {
    if (RefHandle *h = tc->refs()) {
        if (!handle_ok(h)) return -1;
        Chunk *parent = parent_of(tc);
        void *parent_payload = parent != nullptr ? parent->payload() : nullptr;
        if (parent_payload == g_null_context && h->next == nullptr) {
            // Only one owner is left besides the null context: hand it over.
            return unlink_ptr(g_null_context, tc->payload());
        }
        if (has_log_fn()) {   // nothing is formatted for nobody
            log("ERROR: talloc_free with references at %s\n", location);
            for (; h != nullptr && handle_ok(h); h = h->next) log("\treference at %s\n", h->location);
        }
        return -1;
    }
    if (is_plain_leaf_but_empty_ext(tc)) {
        unlink_keep_parent(tc);
        finish_free(tc, location);
        return 0;
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
    if (!is_plain_but_children(tc)) {
        if (is_leaf_without_refs(tc)) return free_leaf_without_refs(tc, location);
        return free_guarded(tc, location);
    }
    // A pooled parent whose plain children are all its pool holds: one
    // reset (pool.hpp).  The payloads are not filled, so not with
    // TALLOC_FREE_FILL.
    if (tc->has(kFlagPoolMem) && !g_free_fill.enabled && pool_release_family(tc, location, is_plain_member_of)) {
        unlink_keep_parent(tc);
        tc->child = nullptr;
        return 0;
    }
    free_plain_parent(tc, location);
    return 0;
}

void set_destructor(const void *ptr, Destructor d) {
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return;
    // Past its destructor, a dying chunk's slot belongs to the free loop.
    if (tc->has(kFlagDying)) return;
    tc->set_destructor(d);
}

}  // namespace tal

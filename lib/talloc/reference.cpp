// References: extra owners of a chunk, each held by a ".reference" handle
// chunk allocated under the referencing context.
#include "core.hpp"
#include "diagnostics.hpp"
#include "ext.hpp"
#include "release.hpp"

namespace tal {

namespace {

// Takes h off the list of references e keeps (its own links are left).
inline void unhook_from(Ext *e, RefHandle *h) {
    RefHandle *prev = h->prev, *next = h->next;
    if (!handle_ok(prev) || !handle_ok(next)) return;
    if (e->refs == h) e->refs = next;
    if (prev != nullptr) prev->next = next;
    if (next != nullptr) next->prev = prev;
}

// The referenced chunk loses the owner h stands for.
inline void unhook_handle(RefHandle *h) {
    Chunk *target = Chunk::from_payload(h->ptr);
    if (!linked_ok(target)) return;
    if (Ext *e = target->ext()) unhook_from(e, h);
    h->next = h->prev = nullptr;
}

// Runs when a handle is freed.
int handle_destructor(void *payload) {
    unhook_handle(static_cast<RefHandle *>(payload));
    return 0;
}

// free_handle(), inlined into unreference().
__attribute__((always_inline)) inline int release_handle(Ext *e, RefHandle *h, const char *location) {
    Chunk *hc = Chunk::from_payload(h);
    if (hc->destructor() == handle_destructor && is_plain_leaf_but_destructor(hc)) {
        // What free_chunk() does for such a handle, without its general
        // steps: the destructor never refuses and touches only the list of
        // references (e's, known here), and the handle has nothing else to
        // free.  Its own links die with it.  Its memory goes where
        // release_dead() says, as every chunk's does.
        hc->set_destructor(nullptr);
        unhook_from(e, h);
        free_plain_leaf(hc, location);
        return 0;
    }
    return free_chunk(hc, location);
}

// Frees the reference to tc held by ctx (NULL: the null context / none).
// Inlined into unlink_ptr(), whose first step it is on every call.
__attribute__((always_inline)) inline int unreference(const void *ctx, Chunk *tc) {
    ctx = effective_ctx(ctx);
    Ext *e = tc->ext();
    if (e == nullptr) return -1;
    RefHandle *h = e->refs;
    for (; h != nullptr && handle_ok(h); h = h->next) {
        Chunk *owner = parent_of(Chunk::from_payload(h));
        if (owner == nullptr ? ctx == nullptr : owner->payload() == ctx) break;
    }
    if (h == nullptr || !handle_ok(h)) return -1;
    return release_handle(e, h, "talloc_unlink");
}

}  // namespace

int free_handle(Ext *e, RefHandle *h, const char *location) { return release_handle(e, h, location); }

void *reference(const void *ctx, const void *ptr, const char *location) {
    if (ptr == nullptr) return nullptr;
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return nullptr;
    Ext *e = ensure_ext(tc);
    if (e == nullptr) return nullptr;
    auto *h = static_cast<RefHandle *>(allocate(ctx, sizeof(RefHandle), kReferenceName));
    if (h == nullptr) return nullptr;
    Chunk::from_payload(h)->set_destructor(handle_destructor);
    h->ptr = const_cast<void *>(ptr);
    h->location = location;
    h->prev = nullptr;
    h->next = handle_ok(e->refs) ? e->refs : nullptr;
    if (h->next != nullptr) h->next->prev = h;
    e->refs = h;
    return h->ptr;
}

size_t reference_count(const void *ptr) {
    if (ptr == nullptr) return 0;
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return 0;
    size_t n = 0;
    for (RefHandle *h = tc->refs(); h != nullptr && handle_ok(h); h = h->next) n++;
    return n;
}

int unlink_ptr(const void *ctx, void *ptr) {
    if (ptr == nullptr) return -1;
    ctx = effective_ctx(ctx);
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return -1;
    if (unreference(ctx, tc) == 0) return 0;
    Chunk *ctx_chunk = nullptr;
    if (ctx != nullptr) {
        ctx_chunk = checked(ctx);
        if (ctx_chunk == nullptr) return -1;
    }
    if (ctx_chunk != parent_of(tc)) return -1;
    RefHandle *h = tc->refs();
    if (h == nullptr) return free_chunk(tc, "talloc_unlink");
    if (!handle_ok(h)) return -1;
    // Other owners remain: the owner of the newest reference takes over.
    Chunk *owner = parent_of(Chunk::from_payload(h));
    void *new_parent = owner != nullptr ? owner->payload() : nullptr;
    if (unreference(new_parent, tc) != 0) return -1;
    steal_chunk(new_parent, tc);
    return 0;
}

namespace {

__attribute__((noinline)) void *reparent_general(const void *old_parent, const void *new_parent, const void *ptr) {
    if (ptr == nullptr) return nullptr;
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return nullptr;
    if (old_parent == parent_ptr(ptr)) return steal_chunk(new_parent, tc);
    for (RefHandle *h = tc->refs(); h != nullptr && handle_ok(h); h = h->next) {
        Chunk *hc = Chunk::from_payload(h);
        if (parent_ptr(h) == old_parent) {
            if (steal_chunk(new_parent, hc) != h) return nullptr;
            return const_cast<void *>(ptr);
        }
    }
    return nullptr;  // old_parent owned it neither directly nor by reference
}

}  // namespace

// Without a stack frame when the chunk has no references (no Ext): it is
// old_parent's child or not old_parent's at all.
void *reparent(const void *old_parent, const void *new_parent, const void *ptr) {
    if (TAL_LIKELY(ptr != nullptr)) {
        Chunk *tc = Chunk::from_payload(ptr);
        if (TAL_LIKELY(chunk_intact(tc) && !tc->has(kFlagExt))) {
            Chunk *parent = parent_of(tc);
            if (old_parent != (parent != nullptr ? parent->payload() : nullptr)) return nullptr;
            return steal_chunk(new_parent, tc);
        }
    }
    return reparent_general(old_parent, new_parent, ptr);
}

}  // namespace tal

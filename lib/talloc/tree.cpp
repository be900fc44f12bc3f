// Moving chunks between parents, and questions about ancestry and size.
#include "tree.hpp"

#include <cstring>

#include "core.hpp"
#include "diagnostics.hpp"
#include "memlimit.hpp"

namespace tal {

bool is_ancestor_or_self(const Chunk *tc, const void *ancestor_payload, int max_depth) {
    for (int depth = max_depth; tc != nullptr && depth > 0; depth--) {
        if (const_cast<Chunk *>(tc)->payload() == ancestor_payload) return true;
        tc = parent_of(tc);
    }
    return false;
}

namespace {

// nullptr, or a chunk whose header is intact (not reported: the general
// paths report).
inline bool linked_intact(const Chunk *tc) { return tc == nullptr || header_intact(tc); }

// steal_chunk() and steal_ptr() in full; the functions below take the
// common case (steal_linked(): a live new parent and neighbours, no memory
// limits, no references) inline and hand everything else to these.
__attribute__((noinline)) void *steal_chunk_general(const void *new_ctx, Chunk *tc) {
    new_ctx = effective_ctx(new_ctx);
    Chunk *new_parent = nullptr;
    if (new_ctx != nullptr) {
        new_parent = checked(new_ctx);
        if (new_parent == nullptr) return nullptr;
        // Like the reference, only the first child is known to be in place.
        if (tc == new_parent || (tc->is_first() && tc->stored_parent() == new_parent)) return tc->payload();
    }
    size_t moved_bytes = 0;
    bool limits = limits_active();
    if (limits) {
        moved_bytes = accounted_subtree(tc);
        if (Chunk *old_parent = parent_of(tc)) memlimit_shrink(old_parent, moved_bytes);
    }
    unlink_detached(tc);
    if (new_parent != nullptr) {
        link_first(new_parent, tc);
        if (limits) memlimit_grow(new_parent, moved_bytes);
    }
    return tc->payload();
}

__attribute__((noinline)) void *steal_ptr_general(const void *new_ctx, const void *ptr, const char *location) {
    if (ptr == nullptr) return nullptr;
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return nullptr;
    if (RefHandle *h = tc->refs(); h != nullptr && parent_ptr(ptr) != new_ctx) {
        log("WARNING: talloc_steal with references at %s\n", location);
        for (; h != nullptr && handle_ok(h); h = h->next) log("\treference at %s\n", h->location);
    }
    return steal_chunk(new_ctx, tc);
}

// The common case of a steal: tc (verified) moves under a live new parent
// with no memory limits, out of a list whose neighbours are intact.  Every
// chunk written to is verified before the first write.  nullptr hands the
// steal to the general path, which repeats the checks and reports what
// fails.
__attribute__((always_inline)) inline void *steal_linked(const void *new_ctx, Chunk *tc) {
    if (TAL_UNLIKELY(new_ctx == nullptr || limits_active())) return nullptr;
    Chunk *new_parent = Chunk::from_payload(new_ctx);
    if (TAL_UNLIKELY(!chunk_intact(new_parent))) return nullptr;
    bool first = tc->is_first();
    Chunk *before = tc->before();
    // Like the reference, only the first child is known to be in place.
    if (tc == new_parent || (first && before == new_parent)) return tc->payload();
    Chunk *next = tc->next;
    if (TAL_UNLIKELY((!first && before == nullptr) || !linked_intact(before) || !linked_intact(next))) return nullptr;
    unlink_between(tc, before, next);
    Chunk *youngest = new_parent->child;
    if (TAL_UNLIKELY(!linked_intact(youngest))) {
        // tc is out of its old list: made top-level, it goes to the general
        // path, which links it in and reports the youngest child.
        tc->set_first_of(nullptr);
        return nullptr;
    }
    link_before(new_parent, tc, youngest);
    return tc->payload();
}

}  // namespace

void *steal_chunk(const void *new_ctx, Chunk *tc) {
    if (void *moved = steal_linked(new_ctx, tc)) return moved;
    return steal_chunk_general(new_ctx, tc);
}

void *steal_ptr(const void *new_ctx, const void *ptr, const char *location) {
    if (TAL_LIKELY(ptr != nullptr)) {
        Chunk *tc = Chunk::from_payload(ptr);
        if (TAL_LIKELY(chunk_intact(tc) && !tc->has(kFlagExt))) {
            if (void *moved = steal_linked(new_ctx, tc)) return moved;
            return steal_chunk_general(new_ctx, tc);
        }
    }
    return steal_ptr_general(new_ctx, ptr, location);
}

namespace {

__attribute__((noinline)) void *parent_ptr_general(const void *ptr) {
    if (ptr == nullptr) return nullptr;
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return nullptr;
    Chunk *p = parent_of(tc);
    return p != nullptr ? p->payload() : nullptr;
}

}  // namespace

// The common case straight through, with no stack frame: an intact first
// child (or top-level chunk) whose parent, if any, is intact.  Anything
// else, a damaged chunk included, is decided and reported by the general
// path, which repeats the same checks.
void *parent_ptr(const void *ptr) {
    if (TAL_LIKELY(ptr != nullptr)) {
        const Chunk *tc = Chunk::from_payload(ptr);
        uintptr_t link = tc->prev_link;
        if (TAL_LIKELY(chunk_intact(tc) && (link & kFirstTag) != 0)) {
            Chunk *p = reinterpret_cast<Chunk *>(link & ~kFirstTag);
            if (p == nullptr) return nullptr;
            if (TAL_LIKELY(header_intact(p))) return p->payload();
        }
    }
    return parent_ptr_general(ptr);
}

int is_parent(const void *ctx, const void *ptr) {
    if (ctx == nullptr) return 0;
    Chunk *tc = checked(ctx);
    if (tc == nullptr) return 0;
    return is_ancestor_or_self(tc, ptr) ? 1 : 0;
}

void *find_parent_byname(const void *ctx, const char *name) {
    if (ctx == nullptr || name == nullptr) return nullptr;
    Chunk *tc = checked(ctx);
    for (; tc != nullptr; tc = parent_of(tc)) {
        const char *n = tc->raw_name();
        if (n != nullptr && n != kReferenceName && strcmp(n, name) == 0) return tc->payload();
    }
    return nullptr;
}

namespace {

template <class Count>
size_t total_of(const void *ptr, Count &&count) {
    ptr = effective_ctx(ptr);
    if (ptr == nullptr) return 0;
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return 0;
    size_t total = 0;
    walk(tc, 0, [&](Chunk *c, int) {
        total += count(c);
        return true;
    });
    return total;
}

}  // namespace

size_t total_size(const void *ptr) {
    return total_of(ptr, [](const Chunk *c) -> size_t { return c->raw_name() == kReferenceName ? 0 : c->size; });
}

size_t total_blocks(const void *ptr) {
    return total_of(ptr, [](const Chunk *) -> size_t { return 1; });
}

}  // namespace tal

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

// steal_chunk() and steal_ptr() in full; the functions below take the
// common case (a live new parent, no memory limits, no references) without
// a stack frame and hand everything else to these.
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

}  // namespace

void *steal_chunk(const void *new_ctx, Chunk *tc) {
    new_ctx = effective_ctx(new_ctx);
    if (TAL_LIKELY(new_ctx != nullptr && !limits_active())) {
        Chunk *new_parent = Chunk::from_payload(new_ctx);
        if (TAL_LIKELY(chunk_intact(new_parent))) {
            if (tc != new_parent && !(tc->is_first() && tc->stored_parent() == new_parent)) {
                unlink_detached(tc);
                link_first(new_parent, tc);
            }
            return tc->payload();
        }
    }
    return steal_chunk_general(new_ctx, tc);
}

void *steal_ptr(const void *new_ctx, const void *ptr, const char *location) {
    if (TAL_LIKELY(ptr != nullptr)) {
        Chunk *tc = Chunk::from_payload(ptr);
        if (TAL_LIKELY(chunk_intact(tc) && !tc->has(kFlagExt))) return steal_chunk(new_ctx, tc);
    }
    return steal_ptr_general(new_ctx, ptr, location);
}

void *parent_ptr(const void *ptr) {
    if (ptr == nullptr) return nullptr;
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return nullptr;
    Chunk *p = parent_of(tc);
    return p != nullptr ? p->payload() : nullptr;
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

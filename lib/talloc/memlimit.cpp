#include "memlimit.hpp"

#include <cstdlib>

#include "diagnostics.hpp"
#include "ext.hpp"
#include "pool.hpp"
#include "tree.hpp"

namespace tal {

std::atomic<size_t> g_live_limits{0};

size_t accounted_bytes(const Chunk *tc) {
    if (tc->has(kFlagPoolMem | kFlagNested)) return 0;   // carved from a pool, which was charged
    if (tc->has(kFlagPool)) {
        auto *hdr = pool_of_pool_chunk(const_cast<Chunk *>(tc));
        return pool_area_bytes(hdr) + kRefHeaderSize + kRefPoolHeaderSize;
    }
    return tc->size + kRefHeaderSize;
}

size_t accounted_subtree(Chunk *root) {
    if (MemLimit *own = owned_limit(root)) return own->cur_size;
    size_t total = 0;
    walk(root, 0, [&](Chunk *c, int depth) {
        if (depth > 0) {
            if (MemLimit *l = owned_limit(c)) {
                total += l->cur_size;
                return false;
            }
        }
        total += accounted_bytes(c);
        return true;
    });
    return total;
}

namespace {

// Calls fn(limit) for every limit covering `from`, nearest first; stops
// early when fn returns false.
template <class Fn>
bool for_each_limit(Chunk *from, Fn &&fn) {
    // A dying chunk's usage was taken off the limits above it when its free
    // began, so the walk ends there.
    for (Chunk *c = from; c != nullptr && !c->has(kFlagDying); c = parent_of(c)) {
        if (MemLimit *l = owned_limit(c)) {
            if (!fn(l)) return false;
        }
    }
    return true;
}

}  // namespace

bool memlimit_fits_slow(Chunk *from, size_t amount) {
    if (from == nullptr) return true;
    return for_each_limit(from, [&](MemLimit *l) {
        return l->max_size == 0 || (l->max_size > l->cur_size && l->max_size - l->cur_size >= amount);
    });
}

void memlimit_grow_slow(Chunk *from, size_t amount) {
    if (from == nullptr) return;
    for_each_limit(from, [&](MemLimit *l) {
        if (l->cur_size + amount < l->cur_size) {
            abort_with("logic error in talloc_memlimit_grow\n");
            return false;
        }
        l->cur_size += amount;
        return true;
    });
}

void memlimit_shrink_slow(Chunk *from, size_t amount) {
    if (from == nullptr) return;
    // A chunk that left its pool by realloc was charged its size, as the
    // reference charges it, and gives back its size and header when freed,
    // as the reference does: the books may then run below zero, where the
    // reference aborts with "logic error in talloc_memlimit_shrink".  They
    // stop at zero instead, which lets through what the reference would.
    for_each_limit(from, [&](MemLimit *l) {
        l->cur_size = l->cur_size < amount ? 0 : l->cur_size - amount;
        return true;
    });
}

bool covered_by_limit_slow(Chunk *tc) {
    return !for_each_limit(tc, [](MemLimit *) { return false; });
}

bool memlimit_charge(Chunk *from, size_t amount) {
    if (!memlimit_fits(from, amount)) return false;
    memlimit_grow(from, amount);
    return true;
}

int set_memlimit(Chunk *tc, size_t max_size) {
    if (MemLimit *l = owned_limit(tc)) {
        l->max_size = max_size;
        return 0;
    }
    Ext *e = ensure_ext(tc);
    if (e == nullptr) return 1;
    auto *limit = static_cast<MemLimit *>(malloc(sizeof(MemLimit)));
    if (limit == nullptr) return 1;
    limit->max_size = max_size;
    limit->cur_size = accounted_subtree(tc);  // counted before it is attached
    e->limit = limit;
    g_live_limits.fetch_add(1, std::memory_order_relaxed);
    return 0;
}

void memlimit_destroy(MemLimit *limit) {
    if (limit == nullptr) return;
    free(limit);
    g_live_limits.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace tal

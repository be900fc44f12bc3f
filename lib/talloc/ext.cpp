#include "ext.hpp"

#include <cstdlib>

#include "cache.hpp"
#include "memlimit.hpp"

namespace tal {

// An Ext lives in a block of the smallest chunk class, from the thread's
// cache: an object referenced once and freed (the common life of a
// reference) then costs no malloc and free of its own.  The record covers
// the block's first words only; the state word at the end of the block,
// which tells a slab cell from a malloc'd block, is left as the cache
// handed it out.
constexpr size_t kExtBlock = block_bytes(0);
static_assert(sizeof(Ext) <= offsetof(Chunk, dtor_low), "an Ext leaves the block's state word alone");

Ext *create_ext(Chunk *tc) {
    auto *e = reinterpret_cast<Ext *>(chunk_alloc(kExtBlock));
    if (e == nullptr) return nullptr;
    e->name = static_cast<const char *>(tc->name_or_ext);
    e->refs = nullptr;
    e->limit = nullptr;
    tc->name_or_ext = e;
    tc->flags |= kFlagExt;
    return e;
}

void release_ext(Chunk *tc) {
    Ext *e = tc->ext();
    if (e == nullptr) return;
    tc->name_or_ext = e->name;
    tc->flags &= ~kFlagExt;
    memlimit_destroy(e->limit);
    cache_free(e, kExtBlock);
}

}  // namespace tal

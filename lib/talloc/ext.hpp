// The optional per-chunk extension record (references, owned memlimit).
#pragma once

#include "chunk.hpp"

namespace tal {

// Creates the Ext of a chunk that has none; nullptr when out of memory.
Ext *create_ext(Chunk *tc);

// The chunk's Ext, created on first use; nullptr when out of memory.
// Inline: a chunk referenced in a loop keeps its Ext, so this is one test.
inline Ext *ensure_ext(Chunk *tc) {
    if (Ext *e = tc->ext()) return e;
    return create_ext(tc);
}

// Frees the Ext (and the limit it owns) of a dying chunk, leaving its name.
void release_ext(Chunk *tc);

}  // namespace tal

// The optional per-chunk extension record (references, owned memlimit).
#pragma once

#include "chunk.hpp"

namespace tal {

// The chunk's Ext, created on first use; nullptr when out of memory.
Ext *ensure_ext(Chunk *tc);

// Frees the Ext (and the limit it owns) of a dying chunk, leaving its name.
void release_ext(Chunk *tc);

}  // namespace tal

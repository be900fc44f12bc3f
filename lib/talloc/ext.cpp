#include "ext.hpp"

#include <cstdlib>

#include "memlimit.hpp"

namespace tal {

Ext *create_ext(Chunk *tc) {
    auto *e = static_cast<Ext *>(malloc(sizeof(Ext)));
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
    free(e);
}

}  // namespace tal

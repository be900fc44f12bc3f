// The operations the public API is made of, shared between the lib/talloc
// files and the thin C exports in compat/.
#pragma once

#include <cstdarg>
#include <cstddef>

#include "chunk.hpp"

namespace tal {

struct RefHandle {   // payload of a ".reference" chunk
    RefHandle *next;
    RefHandle *prev;
    void *ptr;              // what it references
    const char *location;   // where talloc_reference was called
};

// A handle reached through a list of references is a live chunk (a
// damaged one is reported): verified whole before its links are followed,
// as handles are freed from there.
inline bool handle_ok(const RefHandle *h) { return h == nullptr || linked_chunk_ok(Chunk::from_payload(h)); }

extern TAL_HIDDEN void *g_null_context;
extern TAL_HIDDEN void *g_autofree_context;

// Where a NULL context puts new chunks (the null context, if tracking).
inline const void *effective_ctx(const void *ctx) { return ctx != nullptr ? ctx : g_null_context; }

// Allocation; name is stored as given (may be nullptr).
void *allocate(const void *ctx, size_t size, const char *name);
void *allocate_zero(const void *ctx, size_t size, const char *name);
void *reallocate(const void *ctx, void *ptr, size_t size, const char *name);
void *allocate_pool(const void *ctx, size_t poolsize);
void *allocate_pooled_object(const void *ctx, size_t type_size, const char *type_name,
                             unsigned num_subobjects, size_t total_subobjects_size);
// el_size * count, or false when it does not fit a talloc chunk.  The
// reference refuses count >= kMaxSize / el_size; this is the same condition
// without a division on every array call.
inline bool array_bytes(size_t el_size, size_t count, size_t *out) {
    size_t limit_probe;
    if (__builtin_mul_overflow(count + 1, el_size, &limit_probe) || limit_probe > kMaxSize) return false;
    *out = el_size * count;
    return true;
}

// Freeing.
int free_ptr(void *ptr, const char *location);       // talloc_free
int free_chunk(Chunk *tc, const char *location);     // the internal free
void free_children(void *ptr);
void set_destructor(const void *ptr, Destructor d);

// Reparenting and references.
void *steal_chunk(const void *new_ctx, Chunk *tc);
void *steal_ptr(const void *new_ctx, const void *ptr, const char *location);
void *reparent(const void *old_parent, const void *new_parent, const void *ptr);
int unlink_ptr(const void *ctx, void *ptr);
// Frees the reference handle h (verified) on the references of e, target's
// Ext, as free_chunk() would.
int free_handle(Ext *e, RefHandle *h, const char *location);
void *reference(const void *ctx, const void *ptr, const char *location);
size_t reference_count(const void *ptr);

// Names.
// Never nullptr.  Inline: type checks (talloc_get_type_abort) run for
// nearly every object a Samba call touches, and this keeps them call-free.
inline const char *name_text(const char *raw_name) {
    if (__builtin_expect(raw_name == kReferenceName, 0)) return ".reference";
    return raw_name != nullptr ? raw_name : "UNNAMED";
}
inline const char *name_of(const Chunk *tc) { return name_text(tc->raw_name()); }
const char *set_name_v(Chunk *tc, const char *fmt, va_list ap);
// A chunk named by a format (talloc_named, talloc_init); nullptr, with
// nothing left allocated, when the name cannot be made.
void *allocate_named_v(const void *ctx, size_t size, const char *location, const char *fmt, va_list ap);

// Lookups.
void *parent_ptr(const void *ptr);
int is_parent(const void *ctx, const void *ptr);
void *find_parent_byname(const void *ctx, const char *name);

// Totals.
size_t total_size(const void *ptr);
size_t total_blocks(const void *ptr);

}  // namespace tal

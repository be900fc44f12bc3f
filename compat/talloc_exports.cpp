// The C ABI of libtalloc.so.2: thin extern "C" entry points over lib/talloc.
// Every function here is listed in abi/talloc.map at its version node.
#include "talloc.h"

#include <cstdarg>
#include <cstdio>

#include "talloc/core.hpp"
#include "talloc/diagnostics.hpp"
#include "talloc/memlimit.hpp"
#include "talloc/report.hpp"
#include "talloc/strings.hpp"
#include "talloc/thread_check.hpp"

#define TALLOC_API extern "C" __attribute__((visibility("default")))

using namespace tal;
using tal::threads::Scope;

namespace {

const char *name_or_null_text(const void *ptr) {
    if (ptr == nullptr) return "NULL";
    Chunk *tc = checked(ptr);
    return tc != nullptr ? name_of(tc) : "UNNAMED";
}

void type_mismatch(const char *location, const char *name, const char *expected) {
    // Formatted on the stack: an abort function may longjmp out, and the
    // report must not depend on being able to allocate.
    char reason[1024];
    snprintf(reason, sizeof(reason), "%s: Type mismatch: name[%s] expected[%s]", location,
             name != nullptr ? name : "NULL", expected);
    abort_with(reason);
}

}  // namespace

// --- versions -------------------------------------------------------------
TALLOC_API int talloc_version_major(void) { return TALLOC_VERSION_MAJOR; }
TALLOC_API int talloc_version_minor(void) { return TALLOC_VERSION_MINOR; }
TALLOC_API int talloc_test_get_magic(void) { return static_cast<int>(public_magic()); }

// --- allocation -------------------------------------------------------------
TALLOC_API void *_talloc(const void *context, size_t size) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Under, "_talloc", context), {
        return allocate(context, size, nullptr);
    });
}

TALLOC_API void *talloc_named_const(const void *context, size_t size, const char *name) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Under, "talloc_named_const", context, nullptr, name), {
        return allocate(context, size, name);
    });
}

TALLOC_API void *talloc_named(const void *context, size_t size, const char *fmt, ...) {
    TAL_THREAD_GUARD(nullptr, Scope::Under, "talloc_named", context, nullptr, fmt);
    va_list ap;
    va_start(ap, fmt);
    void *ptr = allocate_named_v(context, size, "talloc_named", fmt, ap);
    va_end(ap);
    return ptr;
}

TALLOC_API void *talloc_init(const char *fmt, ...) {
    TAL_THREAD_GUARD(nullptr, Scope::Under, "talloc_init", nullptr, nullptr, fmt);
    va_list ap;
    va_start(ap, fmt);
    void *ptr = allocate_named_v(nullptr, 0, "talloc_init", fmt, ap);
    va_end(ap);
    return ptr;
}

TALLOC_API void *_talloc_zero(const void *ctx, size_t size, const char *name) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Under, "_talloc_zero", ctx, nullptr, name), {
        return allocate_zero(ctx, size, name);
    });
}

TALLOC_API void *_talloc_memdup(const void *t, const void *p, size_t size, const char *name) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Under, "_talloc_memdup", t, nullptr, name), {
        void *copy = allocate(t, size, name);
        if (copy != nullptr && size != 0) __builtin_memcpy(copy, p, size);
        return copy;
    });
}

TALLOC_API void *_talloc_array(const void *ctx, size_t el_size, unsigned count, const char *name) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Under, "_talloc_array", ctx, nullptr, name), {
        size_t bytes;
        if (!array_bytes(el_size, count, &bytes)) return nullptr;
        return allocate(ctx, bytes, name);
    });
}

TALLOC_API void *_talloc_zero_array(const void *ctx, size_t el_size, unsigned count, const char *name) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Under, "_talloc_zero_array", ctx, nullptr, name), {
        size_t bytes;
        if (!array_bytes(el_size, count, &bytes)) return nullptr;
        return allocate_zero(ctx, bytes, name);
    });
}

TALLOC_API void *_talloc_realloc(const void *context, void *ptr, size_t size, const char *name) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Realloc, "_talloc_realloc", context, ptr, name), {
        return reallocate(context, ptr, size, name);
    });
}

TALLOC_API void *_talloc_realloc_array(const void *ctx, void *ptr, size_t el_size, unsigned count, const char *name) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Realloc, "_talloc_realloc_array", ctx, ptr, name), {
        size_t bytes;
        if (!array_bytes(el_size, count, &bytes)) return nullptr;
        return reallocate(ctx, ptr, bytes, name);
    });
}

TALLOC_API void *_talloc_realloc_array_zero(const void *ctx, void *ptr, size_t el_size, unsigned count,
                                            const char *name) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Realloc, "_talloc_realloc_array_zero", ctx, ptr, name), {
        size_t bytes;
        if (!array_bytes(el_size, count, &bytes)) return nullptr;
        size_t old_bytes = ptr != nullptr ? talloc_get_size(ptr) : 0;
        auto *grown = static_cast<char *>(reallocate(ctx, ptr, bytes, name));
        if (grown != nullptr && bytes > old_bytes) __builtin_memset(grown + old_bytes, 0, bytes - old_bytes);
        return grown;
    });
}

TALLOC_API void *talloc_realloc_fn(const void *context, void *ptr, size_t size) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Realloc, "talloc_realloc_fn", context, ptr), {
        return reallocate(context, ptr, size, nullptr);
    });
}

TALLOC_API void *talloc_pool(const void *context, size_t size) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Under, "talloc_pool", context, nullptr, "talloc_pool"), {
        return allocate_pool(context, size);
    });
}

TALLOC_API void *_talloc_pooled_object(const void *ctx, size_t type_size, const char *type_name,
                                       unsigned num_subobjects, size_t total_subobjects_size) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Under, "_talloc_pooled_object", ctx, nullptr, type_name), {
        return allocate_pooled_object(ctx, type_size, type_name, num_subobjects, total_subobjects_size);
    });
}

TALLOC_API size_t talloc_get_size(const void *ctx) {
    if (ctx == nullptr) return 0;
    Chunk *tc = checked(ctx);
    return tc != nullptr ? tc->size : 0;
}

// --- freeing ----------------------------------------------------------------
TALLOC_API int _talloc_free(void *ptr, const char *location) {
    TAL_THREAD_CHECKED(int, -1, (Scope::Release, "talloc_free", ptr), {
        return free_ptr(ptr, location);
    });
}
TALLOC_API void talloc_free_children(void *ptr) {
    TAL_THREAD_CHECKED_VOID((Scope::Self, "talloc_free_children", ptr), {
        free_children(ptr);
    });
}
TALLOC_API void _talloc_set_destructor(const void *ptr, int (*destructor)(void *)) { set_destructor(ptr, destructor); }

// --- reparenting and references --------------------------------------------
TALLOC_API void *_talloc_steal_loc(const void *new_ctx, const void *ptr, const char *location) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Move, "talloc_steal", new_ctx, ptr), {
        return steal_ptr(new_ctx, ptr, location);
    });
}

TALLOC_API void *_talloc_move(const void *new_ctx, const void *pptr) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Move, "talloc_move", new_ctx, pptr != nullptr ? *static_cast<void *const *>(pptr) : nullptr), {
        if (pptr == nullptr) return nullptr;
        auto **slot = static_cast<const void **>(const_cast<void *>(pptr));
        void *moved = steal_ptr(new_ctx, *slot, __location__);
        *slot = nullptr;
        return moved;
    });
}

TALLOC_API void *talloc_reparent(const void *old_parent, const void *new_parent, const void *ptr) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Move, "talloc_reparent", new_parent, ptr), {
        return reparent(old_parent, new_parent, ptr);
    });
}

TALLOC_API void *_talloc_reference_loc(const void *context, const void *ptr, const char *location) {
    TAL_THREAD_CHECKED(void *, nullptr, (Scope::Pair, "talloc_reference", context, ptr), {
        return reference(context, ptr, location);
    });
}

TALLOC_API int talloc_increase_ref_count(const void *ptr) {
    TAL_THREAD_CHECKED(int, -1, (Scope::Pair, "talloc_increase_ref_count", nullptr, ptr), {
        return reference(g_null_context, ptr, "talloc_increase_ref_count") != nullptr ? 0 : -1;
    });
}

TALLOC_API size_t talloc_reference_count(const void *ptr) { return reference_count(ptr); }
TALLOC_API int talloc_unlink(const void *context, void *ptr) {
    TAL_THREAD_CHECKED(int, -1, (Scope::Under, "talloc_unlink", context), {
        return unlink_ptr(context, ptr);
    });
}

// --- names --------------------------------------------------------------------
TALLOC_API const char *talloc_set_name(const void *ptr, const char *fmt, ...) {
    TAL_THREAD_GUARD(nullptr, Scope::Chunk, "talloc_set_name", ptr);
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return nullptr;
    va_list ap;
    va_start(ap, fmt);
    const char *name = set_name_v(tc, fmt, ap);
    va_end(ap);
    return name;
}

namespace {

// ptr's chunk when it is live and has no Ext, which is most chunks: its
// name is the name slot itself.  One flags test sends chunks without a
// guard (all but pool members) on at once; that is chunk_intact() plus the
// Ext test, two instructions shorter than writing it so on the type
// checks' path.  nullptr sends the caller to the general path.
inline Chunk *plain_named(const void *ptr) {
    if (TAL_UNLIKELY(ptr == nullptr)) return nullptr;
    Chunk *tc = Chunk::from_payload(ptr);
    if (TAL_UNLIKELY(!header_intact(tc))) return nullptr;
    uint32_t f = tc->flags;
    if (TAL_LIKELY((f & (kFlagGuarded | kFlagExt)) == 0)) return tc;
    return (f & kFlagExt) == 0 && member_guard_ok(tc) ? tc : nullptr;
}

__attribute__((noinline)) void set_name_const_checked(const void *ptr, const char *name) {
    if (Chunk *tc = checked(ptr)) tc->set_raw_name(name);
}

}  // namespace

// A plain live chunk is renamed without a stack frame; the others, NULL
// and a bad pointer (reported) go through checked() out of line.
TALLOC_API void talloc_set_name_const(const void *ptr, const char *name) {
    TAL_THREAD_CHECKED_VOID((Scope::Rename, "talloc_set_name_const", ptr), {
        if (Chunk *tc = plain_named(ptr); TAL_LIKELY(tc != nullptr)) {
            tc->name_or_ext = name;
            return;
        }
        set_name_const_checked(ptr, name);
    });
}

TALLOC_API const char *talloc_get_name(const void *ptr) {
    // No Ext here: the name is the slot itself.
    if (const Chunk *tc = plain_named(ptr); TAL_LIKELY(tc != nullptr)) {
        return name_text(static_cast<const char *>(tc->name_or_ext));
    }
    return name_or_null_text(ptr);
}

namespace {

// The type checks' string comparison, out of line so that the pointer
// comparison before it needs no stack frame: pname is the live chunk's
// name.  A NULL name matches nothing (the reference crashes on it).
__attribute__((noinline)) void *check_name_compare(const void *ptr, const char *pname, const char *name) {
    if (name == nullptr) return nullptr;
    return __builtin_strcmp(pname, name) == 0 ? const_cast<void *>(ptr) : nullptr;
}

__attribute__((noinline)) void *type_compare(const void *ptr, const char *pname, const char *name,
                                             const char *location) {
    if (name != nullptr && __builtin_strcmp(pname, name) == 0) return const_cast<void *>(ptr);
    type_mismatch(location, pname, name);
    return nullptr;
}

__attribute__((noinline)) void *check_name_slow(const void *ptr, const char *name) {
    if (ptr == nullptr || name == nullptr) return nullptr;
    Chunk *tc = checked(ptr);   // reports a chunk that is not intact
    if (tc == nullptr) return nullptr;
    return check_name_compare(ptr, name_of(tc), name);
}

__attribute__((noinline)) void *get_type_abort_slow(const void *ptr, const char *name, const char *location) {
    if (ptr == nullptr) {
        type_mismatch(location, nullptr, name);
        return nullptr;
    }
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return nullptr;
    return type_compare(ptr, name_of(tc), name, location);
}

}  // namespace

// A type check takes the call-free path when the name is the same pointer
// (names are mostly the literal the type macro passed); the comparison of
// strings (a name set in another library), Ext chunks and reports are
// tail calls.
TALLOC_API void *talloc_check_name(const void *ptr, const char *name) {
    if (const Chunk *tc = plain_named(ptr); TAL_LIKELY(tc != nullptr)) {
        const char *raw = static_cast<const char *>(tc->name_or_ext);
        if (raw == name && name != nullptr) return const_cast<void *>(ptr);
        return check_name_compare(ptr, name_text(raw), name);
    }
    return check_name_slow(ptr, name);
}

TALLOC_API void *_talloc_get_type_abort(const void *ptr, const char *name, const char *location) {
    if (const Chunk *tc = plain_named(ptr); TAL_LIKELY(tc != nullptr)) {
        const char *raw = static_cast<const char *>(tc->name_or_ext);
        if (raw == name && name != nullptr) return const_cast<void *>(ptr);
        return type_compare(ptr, name_text(raw), name, location);
    }
    return get_type_abort_slow(ptr, name, location);
}

// --- lookups and totals -------------------------------------------------------
TALLOC_API void *talloc_parent(const void *ptr) { return parent_ptr(ptr); }

TALLOC_API const char *talloc_parent_name(const void *ptr) {
    void *parent = parent_ptr(ptr);
    return parent != nullptr ? name_of(Chunk::from_payload(parent)) : nullptr;
}

TALLOC_API int talloc_is_parent(const void *context, const void *ptr) { return is_parent(context, ptr); }
TALLOC_API void *talloc_find_parent_byname(const void *ctx, const char *name) { return find_parent_byname(ctx, name); }
TALLOC_API size_t talloc_total_size(const void *ptr) { return total_size(ptr); }
TALLOC_API size_t talloc_total_blocks(const void *ptr) { return total_blocks(ptr); }

TALLOC_API int talloc_set_memlimit(const void *ctx, size_t max_size) {
    Chunk *tc = checked(ctx);
    return tc != nullptr ? set_memlimit(tc, max_size) : 1;
}

// --- reports ------------------------------------------------------------------
TALLOC_API void talloc_report_depth_cb(const void *ptr, int depth, int max_depth,
                                       void (*callback)(const void *, int, int, int, void *), void *private_data) {
    report_depth_cb(ptr, depth, max_depth, callback, private_data);
}

TALLOC_API void talloc_report_depth_file(const void *ptr, int depth, int max_depth, FILE *f) {
    report_to_file(ptr, depth, max_depth, f);
}

TALLOC_API void talloc_report_full(const void *ptr, FILE *f) { report_to_file(ptr, 0, -1, f); }
TALLOC_API void talloc_report(const void *ptr, FILE *f) { report_to_file(ptr, 0, 1, f); }
TALLOC_API void talloc_show_parents(const void *context, FILE *file) { show_parents(context, file); }

// --- global state -------------------------------------------------------------
TALLOC_API void talloc_enable_null_tracking(void) { enable_null_tracking(true); }
TALLOC_API void talloc_enable_null_tracking_no_autofree(void) { enable_null_tracking(false); }
TALLOC_API void talloc_disable_null_tracking(void) { disable_null_tracking(); }
TALLOC_API void talloc_enable_leak_report(void) { enable_leak_report(false); }
TALLOC_API void talloc_enable_leak_report_full(void) { enable_leak_report(true); }
TALLOC_API void *talloc_autofree_context(void) { return autofree_context(); }
TALLOC_API void talloc_set_log_fn(void (*log_fn)(const char *message)) { set_log_fn(log_fn); }
TALLOC_API void talloc_set_log_stderr(void) { set_log_stderr(); }
TALLOC_API void talloc_set_abort_fn(void (*abort_fn)(const char *reason)) { set_abort_fn(abort_fn); }

// --- strings ------------------------------------------------------------------
TALLOC_API char *talloc_strdup(const void *t, const char *p) {
    TAL_THREAD_CHECKED(char *, nullptr, (Scope::Under, "talloc_strdup", t, nullptr, "talloc_strdup"), {
        return str_dup(t, p);
    });
}
TALLOC_API char *talloc_strndup(const void *t, const char *p, size_t n) {
    TAL_THREAD_CHECKED(char *, nullptr, (Scope::Under, "talloc_strndup", t, nullptr, "talloc_strndup"), {
        return str_ndup(t, p, n);
    });
}
TALLOC_API char *talloc_strdup_append(char *s, const char *a) {
    TAL_THREAD_CHECKED(char *, nullptr, (Scope::Realloc, "talloc_strdup_append", nullptr, s), {
        return str_append(s, a, SIZE_MAX, false);
    });
}
TALLOC_API char *talloc_strdup_append_buffer(char *s, const char *a) {
    TAL_THREAD_CHECKED(char *, nullptr, (Scope::Realloc, "talloc_strdup_append_buffer", nullptr, s), {
        return str_append(s, a, SIZE_MAX, true);
    });
}
TALLOC_API char *talloc_strndup_append(char *s, const char *a, size_t n) {
    TAL_THREAD_CHECKED(char *, nullptr, (Scope::Realloc, "talloc_strndup_append", nullptr, s), {
        return str_append(s, a, n, false);
    });
}
TALLOC_API char *talloc_strndup_append_buffer(char *s, const char *a, size_t n) {
    TAL_THREAD_CHECKED(char *, nullptr, (Scope::Realloc, "talloc_strndup_append_buffer", nullptr, s), {
        return str_append(s, a, n, true);
    });
}

TALLOC_API char *talloc_vasprintf(const void *t, const char *fmt, va_list ap) {
    TAL_THREAD_CHECKED(char *, nullptr, (Scope::Under, "talloc_vasprintf", t, nullptr, fmt), {
        return str_vformat(t, fmt, ap);
    });
}
TALLOC_API char *talloc_vasprintf_append(char *s, const char *fmt, va_list ap) {
    TAL_THREAD_CHECKED(char *, nullptr, (Scope::Realloc, "talloc_vasprintf_append", nullptr, s), {
        return str_vformat_append(s, fmt, ap, false);
    });
}
TALLOC_API char *talloc_vasprintf_append_buffer(char *s, const char *fmt, va_list ap) {
    TAL_THREAD_CHECKED(char *, nullptr, (Scope::Realloc, "talloc_vasprintf_append_buffer", nullptr, s), {
        return str_vformat_append(s, fmt, ap, true);
    });
}

TALLOC_API char *talloc_asprintf(const void *t, const char *fmt, ...) {
    TAL_THREAD_GUARD(nullptr, Scope::Under, "talloc_asprintf", t, nullptr, fmt);
    va_list ap;
    va_start(ap, fmt);
    char *s = str_vformat(t, fmt, ap);
    va_end(ap);
    return s;
}

TALLOC_API char *talloc_asprintf_append(char *s, const char *fmt, ...) {
    TAL_THREAD_GUARD(nullptr, Scope::Realloc, "talloc_asprintf_append", nullptr, s);
    va_list ap;
    va_start(ap, fmt);
    s = str_vformat_append(s, fmt, ap, false);
    va_end(ap);
    return s;
}

TALLOC_API char *talloc_asprintf_append_buffer(char *s, const char *fmt, ...) {
    TAL_THREAD_GUARD(nullptr, Scope::Realloc, "talloc_asprintf_append_buffer", nullptr, s);
    va_list ap;
    va_start(ap, fmt);
    s = str_vformat_append(s, fmt, ap, true);
    va_end(ap);
    return s;
}

TALLOC_API void talloc_asprintf_addbuf(char **ps, const char *fmt, ...) {
    TAL_THREAD_GUARD(, Scope::Realloc, "talloc_asprintf_addbuf", nullptr, ps != nullptr ? *ps : nullptr);
    va_list ap;
    va_start(ap, fmt);
    str_addbuf(ps, nullptr, fmt, ap);
    va_end(ap);
}

TALLOC_API void talloc_asprintf_addsep(char **ps, const char *sep, const char *fmt, ...) {
    TAL_THREAD_GUARD(, Scope::Realloc, "talloc_asprintf_addsep", nullptr, ps != nullptr ? *ps : nullptr);
    va_list ap;
    va_start(ap, fmt);
    str_addbuf(ps, sep, fmt, ap);
    va_end(ap);
}

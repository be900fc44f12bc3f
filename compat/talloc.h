/*
 * talloc.h - public interface of the C++ talloc drop-in (talloc 2.5.0 ABI).
 *
 * Hierarchical allocator: every allocation may have a parent context, and
 * freeing a context frees everything below it.  Declarations, types and
 * macros follow the upstream 2.5.0 header so that existing C and C++ code
 * builds unchanged; see talloc(3) for the documented behaviour.
 *
 * Only C89-style comments in here: the header has to stay valid for strict
 * C dialects as well as for every C++ standard.
 */
#ifndef _TALLOC_H_
#define _TALLOC_H_

#include <stdlib.h>
#include <stdio.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the API this header describes. */
#define TALLOC_VERSION_MAJOR 2
#define TALLOC_VERSION_MINOR 5

int talloc_version_major(void);
int talloc_version_minor(void);
/* Magic value of the running library (for tests only). */
int talloc_test_get_magic(void);

/* A context is just a pointer to any talloc chunk. */
typedef void TALLOC_CTX;

/* "file:line" string literal of the call site. */
#ifndef __location__
#define __TALLOC_STRING_LINE1__(s) #s
#define __TALLOC_STRING_LINE2__(s) __TALLOC_STRING_LINE1__(s)
#define __TALLOC_STRING_LINE3__ __TALLOC_STRING_LINE2__(__LINE__)
#define __location__ __FILE__ ":" __TALLOC_STRING_LINE3__
#endif

/* Define TALLOC_DEPRECATED to 1 to get the old *_p helper macros. */
#ifndef TALLOC_DEPRECATED
#define TALLOC_DEPRECATED 0
#endif

/* Attribute helpers; callers may provide their own definitions. */
#if defined(__GNUC__) && (__GNUC__ >= 3)
#define _TALLOC_HAVE_GNU_ATTRS 1
#elif defined(__has_attribute)
#if __has_attribute(format) && __has_attribute(deprecated)
#define _TALLOC_HAVE_GNU_ATTRS 1
#endif
#endif

#ifndef PRINTF_ATTRIBUTE
#ifdef _TALLOC_HAVE_GNU_ATTRS
#define PRINTF_ATTRIBUTE(a1, a2) __attribute__((format(__printf__, a1, a2)))
#else
#define PRINTF_ATTRIBUTE(a1, a2)
#endif
#endif

#ifndef _DEPRECATED_
#ifdef _TALLOC_HAVE_GNU_ATTRS
#define _DEPRECATED_ __attribute__((deprecated))
#else
#define _DEPRECATED_
#endif
#endif

/* __typeof__ lets several macros keep the caller's pointer type. */
#if defined(__GNUC__) && (__GNUC__ >= 3)
#define _TALLOC_TYPEOF(ptr) __typeof__(ptr)
#else
#define _TALLOC_TYPEOF(ptr) void *
#endif

/* ---- creating chunks ---------------------------------------------------- */

/* Allocate one object of the given type, named after the type. */
#define talloc(ctx, type) (type *)talloc_named_const(ctx, sizeof(type), #type)
void *_talloc(const void *context, size_t size);

/* New top-level context named by a format string. */
void *talloc_init(const char *fmt, ...) PRINTF_ATTRIBUTE(1, 2);

void *talloc_named(const void *context, size_t size, const char *fmt, ...) PRINTF_ATTRIBUTE(3, 4);
void *talloc_named_const(const void *context, size_t size, const char *name);

/* Untyped allocation, named after the call site. */
#define talloc_size(ctx, size) talloc_named_const(ctx, size, __location__)
/* One object of the type ptr points to. */
#define talloc_ptrtype(ctx, ptr) (_TALLOC_TYPEOF(ptr))talloc_size(ctx, sizeof(*(ptr)))
/* Empty chunk, useful as a context. */
#define talloc_new(ctx) talloc_named_const(ctx, 0, "talloc_new: " __location__)

/* Zero-filled allocations. */
#define talloc_zero(ctx, type) (type *)_talloc_zero(ctx, sizeof(type), #type)
#define talloc_zero_size(ctx, size) _talloc_zero(ctx, size, __location__)
void *_talloc_zero(const void *ctx, size_t size, const char *name);

/* Copy of size bytes at p. */
#define talloc_memdup(t, p, size) _talloc_memdup(t, p, size, __location__)
void *_talloc_memdup(const void *t, const void *p, size_t size, const char *name);

/* Arrays: count elements of a type or of a given element size. */
#define talloc_array(ctx, type, count) (type *)_talloc_array(ctx, sizeof(type), count, #type)
void *_talloc_array(const void *ctx, size_t el_size, unsigned count, const char *name);
#define talloc_array_size(ctx, size, count) _talloc_array(ctx, size, count, __location__)
#define talloc_array_ptrtype(ctx, ptr, count) \
	(_TALLOC_TYPEOF(ptr))talloc_array_size(ctx, sizeof(*(ptr)), count)
/* Number of elements of an array chunk. */
#define talloc_array_length(ctx) (talloc_get_size(ctx) / sizeof(*ctx))

#define talloc_zero_array(ctx, type, count) \
	(type *)_talloc_zero_array(ctx, sizeof(type), count, #type)
void *_talloc_zero_array(const void *ctx, size_t el_size, unsigned count, const char *name);

/* Resizing.  talloc_realloc_zero clears the bytes added by growing. */
#define talloc_realloc(ctx, p, type, count) \
	(type *)_talloc_realloc_array(ctx, p, sizeof(type), count, #type)
void *_talloc_realloc_array(const void *ctx, void *ptr, size_t el_size, unsigned count, const char *name);
#define talloc_realloc_zero(ctx, p, type, count) \
	(type *)_talloc_realloc_array_zero(ctx, p, sizeof(type), count, #type)
void *_talloc_realloc_array_zero(const void *ctx, void *ptr, size_t el_size, unsigned count, const char *name);
#define talloc_realloc_size(ctx, ptr, size) _talloc_realloc(ctx, ptr, size, __location__)
void *_talloc_realloc(const void *context, void *ptr, size_t size, const char *name);
/* realloc()-like callback: size 0 frees, ptr NULL allocates. */
void *talloc_realloc_fn(const void *context, void *ptr, size_t size);

/* Pools: one block that later children are carved from. */
void *talloc_pool(const void *context, size_t size);
#define talloc_pooled_object(_ctx, _type, _num_subobjects, _total_subobjects_size) \
	(_type *)_talloc_pooled_object((_ctx), sizeof(_type), #_type, \
				       (_num_subobjects), (_total_subobjects_size))
void *_talloc_pooled_object(const void *ctx, size_t type_size, const char *type_name,
			    unsigned num_subobjects, size_t total_subobjects_size);

/* ---- freeing ------------------------------------------------------------ */

#define talloc_free(ctx) _talloc_free(ctx, __location__)
int _talloc_free(void *ptr, const char *location);
void talloc_free_children(void *ptr);

/* Free and set the variable to NULL; NULL is left alone. */
#define TALLOC_FREE(ctx) do { if (ctx != NULL) { talloc_free(ctx); ctx = NULL; } } while (0)

/*
 * talloc_set_destructor and talloc_steal: with GNU C the destructor must take
 * exactly the pointer's type and talloc_steal returns the pointer's type.
 */
#if defined(__GNUC__) && (__GNUC__ >= 3)
#define talloc_set_destructor(ptr, function) \
	do { \
		int (*_talloc_destructor_fn)(_TALLOC_TYPEOF(ptr)) = (function); \
		_talloc_set_destructor((ptr), (int (*)(void *))_talloc_destructor_fn); \
	} while (0)
#define talloc_steal(ctx, ptr) \
	({ _TALLOC_TYPEOF(ptr) __talloc_steal_ret = \
		(_TALLOC_TYPEOF(ptr))_talloc_steal_loc((ctx), (ptr), __location__); \
	   __talloc_steal_ret; })
#else
#define talloc_set_destructor(ptr, function) \
	_talloc_set_destructor((ptr), (int (*)(void *))(function))
#define talloc_steal(ctx, ptr) (_TALLOC_TYPEOF(ptr))_talloc_steal_loc((ctx), (ptr), __location__)
#endif
void _talloc_set_destructor(const void *ptr, int (*_destructor)(void *));
void *_talloc_steal_loc(const void *new_ctx, const void *ptr, const char *location);

/* Steal *pptr into ctx and set *pptr to NULL. */
#define talloc_move(ctx, pptr) (_TALLOC_TYPEOF(*(pptr)))_talloc_move((ctx), (void *)(pptr))
void *_talloc_move(const void *new_ctx, const void *pptr);

/* ---- names and types ------------------------------------------------------ */

const char *talloc_set_name(const void *ptr, const char *fmt, ...) PRINTF_ATTRIBUTE(2, 3);
void talloc_set_name_const(const void *ptr, const char *name);
const char *talloc_get_name(const void *ptr);
void *talloc_check_name(const void *ptr, const char *name);

#define talloc_set_type(ptr, type) talloc_set_name_const(ptr, #type)
#define talloc_get_type(ptr, type) (type *)talloc_check_name(ptr, #type)
/* Like talloc_get_type, but a mismatch calls the abort function. */
#ifdef TALLOC_GET_TYPE_ABORT_NOOP
#define talloc_get_type_abort(ptr, type) (type *)(ptr)
#else
#define talloc_get_type_abort(ptr, type) (type *)_talloc_get_type_abort(ptr, #type, __location__)
#endif
void *_talloc_get_type_abort(const void *ptr, const char *name, const char *location);

/* ---- the hierarchy -------------------------------------------------------- */

void *talloc_parent(const void *ptr);
const char *talloc_parent_name(const void *ptr);
void *talloc_find_parent_byname(const void *ctx, const char *name);
#define talloc_find_parent_bytype(ptr, type) (type *)talloc_find_parent_byname(ptr, #type)
int talloc_is_parent(const void *context, const void *ptr);
void *talloc_reparent(const void *old_parent, const void *new_parent, const void *ptr);

size_t talloc_total_size(const void *ptr);
size_t talloc_total_blocks(const void *ptr);
size_t talloc_get_size(const void *ctx);

/* ---- references ------------------------------------------------------------- */

int talloc_increase_ref_count(const void *ptr);
size_t talloc_reference_count(const void *ptr);
#define talloc_reference(ctx, ptr) \
	(_TALLOC_TYPEOF(ptr))_talloc_reference_loc((ctx), (ptr), __location__)
void *_talloc_reference_loc(const void *context, const void *ptr, const char *location);
int talloc_unlink(const void *context, void *ptr);

/* Context freed at exit; deprecated upstream. */
void *talloc_autofree_context(void) _DEPRECATED_;

/* ---- strings ---------------------------------------------------------------- */

char *talloc_strdup(const void *t, const char *p);
char *talloc_strdup_append(char *s, const char *a);
char *talloc_strdup_append_buffer(char *s, const char *a);
char *talloc_strndup(const void *t, const char *p, size_t n);
char *talloc_strndup_append(char *s, const char *a, size_t n);
char *talloc_strndup_append_buffer(char *s, const char *a, size_t n);

char *talloc_vasprintf(const void *t, const char *fmt, va_list ap) PRINTF_ATTRIBUTE(2, 0);
char *talloc_vasprintf_append(char *s, const char *fmt, va_list ap) PRINTF_ATTRIBUTE(2, 0);
char *talloc_vasprintf_append_buffer(char *s, const char *fmt, va_list ap) PRINTF_ATTRIBUTE(2, 0);

/* Append to *ps; on failure *ps is freed and set to NULL. */
void talloc_asprintf_addbuf(char **ps, const char *fmt, ...) PRINTF_ATTRIBUTE(2, 3);
/* Same, with sep put in between when *ps already holds text. */
void talloc_asprintf_addsep(char **ps, const char *sep, const char *fmt, ...) PRINTF_ATTRIBUTE(3, 4);

char *talloc_asprintf(const void *t, const char *fmt, ...) PRINTF_ATTRIBUTE(2, 3);
char *talloc_asprintf_append(char *s, const char *fmt, ...) PRINTF_ATTRIBUTE(2, 3);
char *talloc_asprintf_append_buffer(char *s, const char *fmt, ...) PRINTF_ATTRIBUTE(2, 3);

/* ---- reports and debugging ---------------------------------------------------- */

void talloc_report_depth_cb(const void *ptr, int depth, int max_depth,
			    void (*callback)(const void *ptr, int depth, int max_depth,
					     int is_ref, void *private_data),
			    void *private_data);
void talloc_report_depth_file(const void *ptr, int depth, int max_depth, FILE *f);
void talloc_report_full(const void *ptr, FILE *f);
void talloc_report(const void *ptr, FILE *f);
void talloc_show_parents(const void *context, FILE *file);

void talloc_enable_null_tracking(void);
void talloc_enable_null_tracking_no_autofree(void);
void talloc_disable_null_tracking(void);
void talloc_enable_leak_report(void);
void talloc_enable_leak_report_full(void);

void talloc_set_abort_fn(void (*abort_fn)(const char *reason));
void talloc_set_log_fn(void (*log_fn)(const char *message));
void talloc_set_log_stderr(void);

/* Cap the total size of ctx and its children; deprecated upstream. */
int talloc_set_memlimit(const void *ctx, size_t max_size) _DEPRECATED_;

/* ---- old spellings ------------------------------------------------------------- */

#if TALLOC_DEPRECATED
#define talloc_zero_p(ctx, type) talloc_zero(ctx, type)
#define talloc_p(ctx, type) talloc(ctx, type)
#define talloc_array_p(ctx, type, count) talloc_array(ctx, type, count)
#define talloc_realloc_p(ctx, p, type, count) talloc_realloc(ctx, p, type, count)
#define talloc_destroy(ctx) talloc_free(ctx)
#define talloc_append_string(c, s, a) (s ? talloc_strdup_append(s, a) : talloc_strdup(c, a))
#endif

/* Depth limit of recursive walks in upstream (kept for callers that use it). */
#ifndef TALLOC_MAX_DEPTH
#define TALLOC_MAX_DEPTH 10000
#endif

#ifdef __cplusplus
}
#endif

#endif /* _TALLOC_H_ */

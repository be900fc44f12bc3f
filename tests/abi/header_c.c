/*
 * Uses every macro and declaration of talloc.h from C.  Compiled by
 * header_check.py for several C dialects (-Wall -Wextra -Werror), and built
 * and run against libtalloc by meson (abi-header-c).  Written in C89 style.
 */
#include <string.h>
#include <talloc.h>

/*
 * HEADER_TEST_ON_REFERENCE: build against Debian's talloc 2.4.0 instead, to
 * show the expectations below are the reference's; skips the 2.4.4+ API.
 */
#ifdef HEADER_TEST_ON_REFERENCE
#define NEWER_API 0
#else
#define NEWER_API 1
#if !defined(TALLOC_VERSION_MAJOR) || TALLOC_VERSION_MAJOR != 2 || TALLOC_VERSION_MINOR != 5
#error "talloc.h must describe talloc 2.5"
#endif
#endif
#ifndef __location__
#error "__location__ missing"
#endif
#ifndef TALLOC_MAX_DEPTH
#error "TALLOC_MAX_DEPTH missing"
#endif

struct item {
	int value;
	char *label;
};

static int failures;

#define EXPECT(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s: check failed: %s\n", __location__, #cond); failures++; } } while (0)

static int destructor_calls;

static int item_destructor(struct item *it)
{
	destructor_calls += it->value;
	return 0;
}

static int depth_cb_calls;

static void depth_cb(const void *ptr, int depth, int max_depth, int is_ref, void *priv)
{
	(void)ptr; (void)depth; (void)max_depth; (void)is_ref; (void)priv;
	depth_cb_calls++;
}

static void log_fn(const char *message)
{
	(void)message;
}

static void abort_fn(const char *reason)
{
	(void)reason;
}

static char *vformat(const void *ctx, const char *fmt, ...) PRINTF_ATTRIBUTE(2, 3);
static char *vformat(const void *ctx, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	s = talloc_vasprintf(ctx, fmt, ap);
	va_end(ap);
	return s;
}

static char *vappend(char *s, int buffer, const char *fmt, ...) PRINTF_ATTRIBUTE(3, 4);
static char *vappend(char *s, int buffer, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	s = buffer ? talloc_vasprintf_append_buffer(s, fmt, ap) : talloc_vasprintf_append(s, fmt, ap);
	va_end(ap);
	return s;
}

int main(void)
{
	TALLOC_CTX *root;
	TALLOC_CTX *other;
	struct item *it, *it2, *moved, *ref;
	struct item *arr;
	int *ints;
	char *s;
	char *buf = NULL;
	void *raw;
	void *pool;
	const char *name;
	struct item proto;

	EXPECT(talloc_version_major() == TALLOC_VERSION_MAJOR);
	EXPECT(talloc_version_minor() == TALLOC_VERSION_MINOR);
	(void)talloc_test_get_magic();

	root = talloc_init("root %d", 1);
	EXPECT(root != NULL);
	EXPECT(strcmp(talloc_get_name(root), "root 1") == 0);
	other = talloc_new(root);
	EXPECT(talloc_parent(other) == root);

	/* typed allocation and names */
	it = talloc(root, struct item);
	EXPECT(it != NULL && strcmp(talloc_get_name(it), "struct item") == 0);
	it->value = 3;
	it->label = talloc_strdup(it, "label");
	it2 = talloc_zero(root, struct item);
	EXPECT(it2 != NULL && it2->value == 0 && it2->label == NULL);
	EXPECT(talloc_get_type(it, struct item) == it);
	EXPECT(talloc_get_type_abort(it, struct item) == it);
	EXPECT(talloc_check_name(it, "struct item") == it);
	talloc_set_type(it2, struct item);
	EXPECT(talloc_get_type(it2, struct item) == it2);
	EXPECT(talloc_find_parent_bytype(it->label, struct item) == it);
	EXPECT(talloc_find_parent_byname(it->label, "struct item") == it);
	name = talloc_set_name(it2, "item %s", "two");
	EXPECT(name != NULL && strcmp(name, "item two") == 0);
	talloc_set_name_const(it2, "struct item");
	EXPECT(strcmp(talloc_parent_name(it->label), "struct item") == 0);
	EXPECT(talloc_is_parent(it->label, root) == 1);

	/* untyped allocation */
	raw = talloc_size(root, 10);
	EXPECT(talloc_get_size(raw) == 10);
	raw = talloc_zero_size(root, 12);
	EXPECT(raw != NULL && ((char *)raw)[11] == 0);
	raw = talloc_named(root, 4, "named %d", 4);
	EXPECT(strcmp(talloc_get_name(raw), "named 4") == 0);
	raw = talloc_named_const(root, 4, "const name");
	EXPECT(strcmp(talloc_get_name(raw), "const name") == 0);
	raw = _talloc(root, 5);
	EXPECT(talloc_get_size(raw) == 5);
	ref = talloc_ptrtype(root, ref);
	EXPECT(talloc_get_size(ref) == sizeof(struct item));
	proto.value = 7;
	proto.label = NULL;
	ref = (struct item *)talloc_memdup(root, &proto, sizeof(proto));
	EXPECT(ref->value == 7);

	/* arrays */
	arr = talloc_array(root, struct item, 4);
	EXPECT(talloc_array_length(arr) == 4);
	ints = talloc_zero_array(root, int, 3);
	EXPECT(ints[2] == 0 && talloc_array_length(ints) == 3);
	ints = talloc_realloc(root, ints, int, 6);
	EXPECT(talloc_array_length(ints) == 6);
#if NEWER_API
	ints = talloc_realloc_zero(root, ints, int, 9);
	EXPECT(talloc_array_length(ints) == 9 && ints[8] == 0);
#endif
	raw = talloc_array_size(root, 3, 5);
	EXPECT(talloc_get_size(raw) == 15);
	raw = talloc_realloc_size(root, raw, 20);
	EXPECT(talloc_get_size(raw) == 20);
	arr = talloc_array_ptrtype(root, arr, 2);
	EXPECT(talloc_array_length(arr) == 2);
	raw = talloc_realloc_fn(root, NULL, 8);
	EXPECT(talloc_get_size(raw) == 8);
	raw = talloc_realloc_fn(root, raw, 0);
	EXPECT(raw == NULL);

	/* pools */
	pool = talloc_pool(root, 1024);
	EXPECT(pool != NULL);
	it2 = talloc_pooled_object(root, struct item, 1, 32);
	EXPECT(it2 != NULL);
	it2->label = talloc_strdup(it2, "in pool");

	/* destructors, steal, move, reparent, references */
	talloc_set_destructor(it, item_destructor);
	EXPECT(talloc_steal(other, it) == it);
	EXPECT(talloc_parent(it) == other);
	moved = it;
	EXPECT(talloc_move(root, &moved) == it && moved == NULL);
	EXPECT(talloc_reparent(root, other, it) == it);
	ref = talloc_reference(root, it);
	EXPECT(ref == it && talloc_reference_count(it) == 1);
	EXPECT(talloc_unlink(root, it) == 0);
	EXPECT(talloc_increase_ref_count(it) == 0);
	EXPECT(talloc_unlink(NULL, it) == 0);
	TALLOC_FREE(it);
	EXPECT(it == NULL && destructor_calls == 3);
	TALLOC_FREE(it);
	talloc_set_destructor(it2, NULL);

	/* strings */
	s = talloc_strdup(root, "ab");
	s = talloc_strdup_append(s, "cd");
	s = talloc_strdup_append_buffer(s, "ef");
	s = talloc_strndup_append(s, "ghXX", 2);
	s = talloc_strndup_append_buffer(s, "ijXX", 2);
	EXPECT(strcmp(s, "abcdefghij") == 0);
	s = talloc_strndup(root, "hello", 4);
	EXPECT(strcmp(s, "hell") == 0);
	s = talloc_asprintf(root, "%d-%s", 1, "x");
	s = talloc_asprintf_append(s, "+%d", 2);
	s = talloc_asprintf_append_buffer(s, "+%d", 3);
	EXPECT(strcmp(s, "1-x+2+3") == 0);
	s = vformat(root, "%s", "v");
	s = vappend(s, 0, "%d", 1);
	s = vappend(s, 1, "%d", 2);
	EXPECT(strcmp(s, "v12") == 0);
	talloc_asprintf_addbuf(&buf, "%s", "dropped");
	EXPECT(buf == NULL); /* a NULL buffer stays NULL */
	buf = talloc_strdup(root, "");
	talloc_asprintf_addbuf(&buf, "%s", "a");
	talloc_asprintf_addbuf(&buf, "%d", 1);
	EXPECT(buf != NULL && strcmp(buf, "a1") == 0);
	TALLOC_FREE(buf);
#if NEWER_API
	buf = talloc_strdup(root, "");
	talloc_asprintf_addsep(&buf, ", ", "%s", "x");
	talloc_asprintf_addsep(&buf, ", ", "%s", "y");
	EXPECT(buf != NULL && strcmp(buf, "x, y") == 0);
	TALLOC_FREE(buf);
#endif

#if TALLOC_DEPRECATED
	/* old spellings */
	it = talloc_p(root, struct item);
	it2 = talloc_zero_p(root, struct item);
	arr = talloc_array_p(root, struct item, 2);
	arr = talloc_realloc_p(root, arr, struct item, 3);
	EXPECT(it != NULL && it2 != NULL && talloc_array_length(arr) == 3);
	s = talloc_append_string(root, NULL, "one");
	s = talloc_append_string(root, s, "two");
	EXPECT(strcmp(s, "onetwo") == 0);
	EXPECT(talloc_destroy(it) == 0);
#endif

	/* reports and global settings */
	EXPECT(talloc_total_blocks(other) >= 1);
	EXPECT(talloc_total_size(root) > 0);
	talloc_report_depth_cb(root, 0, -1, depth_cb, NULL);
	EXPECT(depth_cb_calls > 0);
	{
		FILE *devnull = fopen("/dev/null", "w");
		if (devnull != NULL) {
			talloc_report_depth_file(root, 0, 1, devnull);
			talloc_report_full(root, devnull);
			talloc_report(root, devnull);
			talloc_show_parents(ints, devnull);
			fclose(devnull);
		}
	}
	talloc_set_log_fn(log_fn);
	talloc_set_log_stderr();
	talloc_set_log_fn(NULL);
	talloc_set_abort_fn(abort_fn);
	talloc_set_abort_fn(NULL);
	talloc_enable_null_tracking();
	talloc_enable_null_tracking_no_autofree();
	talloc_disable_null_tracking();
	if (0) {
		/* registered only, they print at exit */
		talloc_enable_leak_report();
		talloc_enable_leak_report_full();
	}
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
	EXPECT(talloc_set_memlimit(other, 1 << 20) == 0);
	EXPECT(talloc_autofree_context() != NULL);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

	talloc_free_children(other);
	EXPECT(talloc_total_blocks(other) == 1);
	EXPECT(talloc_free(root) == 0);
	return failures == 0 ? 0 : 1;
}

/* The string family: strdup, strndup, asprintf, the _append and _buffer
 * variants, talloc_asprintf_addbuf. */
#include "tt_common.h"

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wformat-zero-length"
#pragma GCC diagnostic ignored "-Wformat-overflow"
#endif

static void *ctx;

static int str_setup(void **state)
{
	tt_setup(state);
	ctx = talloc_named_const(NULL, 0, "strings");
	return 0;
}

static int str_teardown(void **state)
{
	talloc_free(ctx);
	ctx = NULL;
	return tt_teardown(state);
}

#define STR_TEST(f) cmocka_unit_test_setup_teardown(f, str_setup, str_teardown)

static void test_strdup(void **state)
{
	char *s;
	(void)state;

	s = talloc_strdup(ctx, "hello");
	assert_string_equal(s, "hello");
	assert_int_equal(talloc_get_size(s), 6);
	assert_ptr_equal(talloc_parent(s), ctx);
	assert_string_equal(talloc_get_name(s), "hello");

	s = talloc_strdup(ctx, "");
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(talloc_get_size(s), 1);

	assert_null(talloc_strdup(ctx, NULL));
}

static void test_strndup(void **state)
{
	char *s;
	(void)state;

	s = talloc_strndup(ctx, "abcdef", 3);
	assert_string_equal(s, "abc");
	assert_int_equal(talloc_get_size(s), 4);

	/* n beyond the string stops at its end */
	s = talloc_strndup(ctx, "abc", 100);
	assert_string_equal(s, "abc");
	assert_int_equal(talloc_get_size(s), 4);

	s = talloc_strndup(ctx, "abc", 0);
	assert_string_equal(s, "");
	assert_int_equal(talloc_get_size(s), 1);

	/* the source need not be terminated within n */
	{
		char raw[4] = {'w', 'x', 'y', 'z'};
		s = talloc_strndup(ctx, raw, 4);
		assert_string_equal(s, "wxyz");
	}
	assert_null(talloc_strndup(ctx, NULL, 3));
}

static char *call_vasprintf(const void *t, const char *fmt, ...)
{
	va_list ap;
	char *r;
	va_start(ap, fmt);
	r = talloc_vasprintf(t, fmt, ap);
	va_end(ap);
	return r;
}

static void test_asprintf(void **state)
{
	char *s;
	(void)state;

	s = talloc_asprintf(ctx, "%s=%d [%5.2f] %c%%", "x", -42, 3.14159, 'q');
	assert_string_equal(s, "x=-42 [ 3.14] q%");
	assert_int_equal(talloc_get_size(s), strlen(s) + 1);
	assert_string_equal(talloc_get_name(s), s);

	s = talloc_asprintf(ctx, "%s", "");
	assert_string_equal(s, "");
	assert_int_equal(talloc_get_size(s), 1);

	s = call_vasprintf(ctx, "%d-%d-%d", 1, 2, 3);
	assert_string_equal(s, "1-2-3");
	assert_int_equal(talloc_get_size(s), 6);

	/* long output */
	s = talloc_asprintf(ctx, "%05000d|", 7);
	assert_int_equal(strlen(s), 5001);
	assert_int_equal(s[4999], '7');
	assert_int_equal(s[5000], '|');
}

static void test_strdup_append(void **state)
{
	char *s;
	(void)state;

	s = talloc_strdup(ctx, "abc");
	s = talloc_strdup_append(s, "def");
	assert_string_equal(s, "abcdef");
	assert_int_equal(talloc_get_size(s), 7);
	assert_ptr_equal(talloc_parent(s), ctx);
	assert_string_equal(talloc_get_name(s), "abcdef");

	/* appending NULL leaves the string alone */
	s = talloc_strdup_append(s, NULL);
	assert_string_equal(s, "abcdef");
	assert_int_equal(talloc_get_size(s), 7);

	/* appending to NULL makes a new top level string */
	{
		char *n = talloc_strdup_append(NULL, "fresh");
		assert_string_equal(n, "fresh");
		assert_null(talloc_parent(n));
		assert_int_equal(talloc_get_size(n), 6);
		talloc_free(n);
	}
	assert_null(talloc_strdup_append(NULL, NULL));

	s = talloc_strdup_append(s, "");
	assert_string_equal(s, "abcdef");
	assert_int_equal(talloc_get_size(s), 7);
}

static void test_append_uses_strlen_buffer_uses_size(void **state)
{
	char *s;
	(void)state;

	/* a buffer whose string ends before the buffer does */
	s = talloc_strdup(ctx, "hello world");
	s[5] = '\0';

	/* _append works from strlen(): writes at index 5 */
	s = talloc_strdup_append(s, "!");
	assert_string_equal(s, "hello!");
	assert_int_equal(talloc_get_size(s), 7);

	/* _append_buffer works from the buffer size: writes after it */
	s = talloc_strdup(ctx, "hello world");
	s[5] = '\0';
	s = talloc_strdup_append_buffer(s, "!");
	assert_int_equal(talloc_get_size(s), 13);
	assert_memory_equal(s, "hello\0world!\0", 13);

	/* the same for strndup */
	s = talloc_strdup(ctx, "abcdef");
	s[2] = '\0';
	s = talloc_strndup_append(s, "XYZ", 2);
	assert_string_equal(s, "abXY");
	assert_int_equal(talloc_get_size(s), 5);

	s = talloc_strdup(ctx, "abcdef");
	s[2] = '\0';
	s = talloc_strndup_append_buffer(s, "XYZ", 2);
	assert_int_equal(talloc_get_size(s), 9);
	assert_memory_equal(s, "ab\0defXY\0", 9);

	/* and for asprintf */
	s = talloc_strdup(ctx, "12345");
	s[1] = '\0';
	s = talloc_asprintf_append(s, "<%d>", 9);
	assert_string_equal(s, "1<9>");
	assert_int_equal(talloc_get_size(s), 5);

	s = talloc_strdup(ctx, "12345");
	s[1] = '\0';
	s = talloc_asprintf_append_buffer(s, "<%d>", 9);
	assert_int_equal(talloc_get_size(s), 9);
	assert_memory_equal(s, "1\0" "345<9>\0", 9);
}

static void test_append_buffer_on_plain_strings(void **state)
{
	char *s;
	(void)state;

	/* on an ordinary string both variants agree */
	s = talloc_strdup(ctx, "x");
	for (int i = 0; i < 100; i++) {
		s = talloc_strdup_append_buffer(s, "y");
	}
	assert_int_equal(strlen(s), 101);
	assert_int_equal(talloc_get_size(s), 102);
	s = talloc_asprintf_append_buffer(s, "%s", "END");
	assert_int_equal(strlen(s), 104);
	assert_string_equal(s + 101, "END");

	/* NULL string: like strdup/asprintf on the NULL context */
	{
		char *n = talloc_strdup_append_buffer(NULL, "new");
		assert_string_equal(n, "new");
		assert_null(talloc_parent(n));
		talloc_free(n);
		n = talloc_asprintf_append_buffer(NULL, "%d", 5);
		assert_string_equal(n, "5");
		talloc_free(n);
		n = talloc_asprintf_append(NULL, "%d", 6);
		assert_string_equal(n, "6");
		talloc_free(n);
		n = talloc_strndup_append(NULL, "abcdef", 2);
		assert_string_equal(n, "ab");
		talloc_free(n);
	}

	/* appending NULL with the buffer variants leaves the string */
	s = talloc_strdup(ctx, "keep");
	assert_ptr_equal(talloc_strdup_append_buffer(s, NULL), s);
	assert_ptr_equal(talloc_strndup_append_buffer(s, NULL, 3), s);
	assert_ptr_equal(talloc_strndup_append(s, NULL, 3), s);
	assert_string_equal(s, "keep");
}

static void test_asprintf_append_renames(void **state)
{
	char *s;
	(void)state;

	s = talloc_asprintf(ctx, "a%d", 1);
	s = talloc_asprintf_append(s, "b%d", 2);
	s = talloc_asprintf_append_buffer(s, "c%d", 3);
	assert_string_equal(s, "a1b2c3");
	assert_string_equal(talloc_get_name(s), "a1b2c3");
	assert_int_equal(talloc_get_size(s), 7);

	/* appending an empty format still gives a valid string */
	s = talloc_asprintf_append(s, "%s", "");
	assert_string_equal(s, "a1b2c3");
}

static void test_addbuf(void **state)
{
	char *buf;
	(void)state;

	buf = talloc_strdup(ctx, "");
	talloc_asprintf_addbuf(&buf, "%d", 1);
	talloc_asprintf_addbuf(&buf, ",%s", "two");
	talloc_asprintf_addbuf(&buf, ",%c", '3');
	assert_string_equal(buf, "1,two,3");
	assert_int_equal(talloc_get_size(buf), 8);
	assert_ptr_equal(talloc_parent(buf), ctx);

	/* a NULL buffer stays NULL, so error checks can wait until the end */
	buf = NULL;
	talloc_asprintf_addbuf(&buf, "%d", 1);
	assert_null(buf);
}

static void test_addbuf_failure_frees(void **state)
{
	void *limited;
	char *buf;
	int destroyed = 0;
	(void)state;

	/* make the append fail with a memory limit */
	limited = talloc_named_const(ctx, 0, "limited");
	talloc_set_memlimit(limited, 400);
	buf = talloc_strdup(limited, "start");
	assert_non_null(buf);
	assert_int_equal(talloc_total_blocks(limited), 2);
	(void)destroyed;

	talloc_asprintf_addbuf(&buf, "%0500d", 0);
	assert_null(buf);
	/* the old buffer was freed */
	assert_int_equal(talloc_total_blocks(limited), 1);
	/* and later calls keep it NULL */
	talloc_asprintf_addbuf(&buf, "%s", "more");
	assert_null(buf);
}

static void test_strings_on_null_context(void **state)
{
	char *s;
	(void)state;

	s = talloc_strdup(NULL, "top");
	assert_null(talloc_parent(s));
	talloc_free(s);
	s = talloc_asprintf(NULL, "%s", "top");
	assert_null(talloc_parent(s));
	talloc_free(s);
}

static void test_append_after_realloc_of_shared_buffer(void **state)
{
	char *s, *child;
	(void)state;

	/* growing keeps the children attached to the string */
	s = talloc_strdup(ctx, "parent");
	child = talloc_strdup(s, "child");
	for (int i = 0; i < 50; i++) {
		s = talloc_asprintf_append(s, "%02d", i);
	}
	assert_ptr_equal(talloc_parent(child), s);
	assert_int_equal(strlen(s), 6 + 100);
	assert_int_equal(talloc_total_blocks(s), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		STR_TEST(test_strdup),
		STR_TEST(test_strndup),
		STR_TEST(test_asprintf),
		STR_TEST(test_strdup_append),
		STR_TEST(test_append_uses_strlen_buffer_uses_size),
		STR_TEST(test_append_buffer_on_plain_strings),
		STR_TEST(test_asprintf_append_renames),
		STR_TEST(test_addbuf),
		STR_TEST(test_addbuf_failure_frees),
		STR_TEST(test_strings_on_null_context),
		STR_TEST(test_append_after_realloc_of_shared_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

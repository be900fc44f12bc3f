/*
 * API newer than the reference (Debian's 2.4.0): talloc_realloc_zero
 * (TALLOC_2.4.4) and talloc_asprintf_addsep (TALLOC_2.5.0).  Ours only.
 * Expectations follow the documented behaviour (reference/newer-api.md).
 */
#include "tt_common.h"

static void test_symbol_versions(void **state)
{
	void *h;
	(void)state;

	h = dlopen("libtalloc.so.2", RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(h);
	assert_non_null(dlvsym(h, "_talloc_realloc_array_zero", "TALLOC_2.4.4"));
	assert_non_null(dlvsym(h, "talloc_asprintf_addsep", "TALLOC_2.5.0"));
	assert_non_null(dlvsym(h, "talloc_asprintf_addbuf", "TALLOC_2.3.5"));
	assert_non_null(dlvsym(h, "talloc_test_get_magic", "TALLOC_2.1.4"));
	assert_non_null(dlvsym(h, "_talloc_pooled_object", "TALLOC_2.1.0"));
	assert_non_null(dlvsym(h, "talloc_set_memlimit", "TALLOC_2.0.8"));
	assert_non_null(dlvsym(h, "talloc_named_const", "TALLOC_2.0.2"));
	/* the resolved default versions are the same functions */
	assert_ptr_equal(dlvsym(h, "talloc_asprintf_addsep", "TALLOC_2.5.0"),
			 (void *)talloc_asprintf_addsep);
	assert_ptr_equal(dlvsym(h, "_talloc_realloc_array_zero", "TALLOC_2.4.4"),
			 (void *)_talloc_realloc_array_zero);
	dlclose(h);
}

static void test_realloc_zero_from_null(void **state)
{
	void *ctx;
	int *a;
	(void)state;

	ctx = talloc_new(NULL);
	a = talloc_realloc_zero(ctx, NULL, int, 100);
	assert_non_null(a);
	assert_ptr_equal(talloc_parent(a), ctx);
	assert_string_equal(talloc_get_name(a), "int");
	assert_int_equal(talloc_array_length(a), 100);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(a[i], 0);
	}
	talloc_free(ctx);
}

static void test_realloc_zero_grow(void **state)
{
	void *ctx;
	unsigned char *a;
	(void)state;

	ctx = talloc_new(NULL);
	a = talloc_array(ctx, unsigned char, 8);
	memset(a, 0xee, 8);
	/* dirty the heap so a fresh block is unlikely to be zero by luck */
	{
		void *junk = talloc_size(ctx, 100000);
		memset(junk, 0xcd, 100000);
		talloc_free(junk);
	}
	a = talloc_realloc_zero(ctx, a, unsigned char, 100000);
	assert_non_null(a);
	assert_int_equal(talloc_get_size(a), 100000);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(a[i], 0xee);
	}
	for (int i = 8; i < 100000; i++) {
		if (a[i] != 0) {
			fail_msg("byte %d is 0x%02x after growing", i, a[i]);
		}
	}
	talloc_free(ctx);
}

static void test_realloc_zero_shrink_then_grow(void **state)
{
	void *ctx;
	unsigned char *a;
	(void)state;

	/* bytes cut off by a shrink must not come back on the next growth */
	ctx = talloc_new(NULL);
	a = talloc_array(ctx, unsigned char, 64);
	memset(a, 0xab, 64);
	a = talloc_realloc_zero(ctx, a, unsigned char, 4);
	assert_int_equal(talloc_get_size(a), 4);
	a = talloc_realloc_zero(ctx, a, unsigned char, 64);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(a[i], 0xab);
	}
	for (int i = 4; i < 64; i++) {
		assert_int_equal(a[i], 0);
	}
	talloc_free(ctx);
}

static void test_realloc_zero_in_pool(void **state)
{
	void *pool;
	unsigned char *a, *b;
	(void)state;

	pool = talloc_pool(NULL, 4096);
	/* fill the pool with garbage first, then free it */
	b = talloc_size(pool, 2000);
	memset(b, 0x77, 2000);
	talloc_free(b);
	a = talloc_array(pool, unsigned char, 16);
	memset(a, 0x11, 16);
	a = talloc_realloc_zero(NULL, a, unsigned char, 1000);
	assert_non_null(a);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(a[i], 0x11);
	}
	for (int i = 16; i < 1000; i++) {
		assert_int_equal(a[i], 0);
	}
	/* and out of the pool */
	a = talloc_realloc_zero(NULL, a, unsigned char, 10000);
	for (int i = 16; i < 10000; i++) {
		assert_int_equal(a[i], 0);
	}
	talloc_free(pool);
}

static void test_realloc_zero_edge_cases(void **state)
{
	void *ctx, *r;
	int *a;
	(void)state;

	ctx = talloc_new(NULL);
	a = talloc_array(ctx, int, 4);
	/* overflow */
	assert_null(_talloc_realloc_array_zero(ctx, a, (size_t)0x8000000000000001ULL, 2, "x"));
	assert_int_equal(talloc_array_length(a), 4);
	/* references refuse, like talloc_realloc */
	r = talloc_new(NULL);
	talloc_reference(r, a);
	assert_null(talloc_realloc_zero(ctx, a, int, 8));
	assert_int_equal(talloc_array_length(a), 4);
	talloc_free(r);
	/* count 0 frees, like talloc_realloc */
	assert_null(talloc_realloc_zero(ctx, a, int, 0));
	assert_int_equal(talloc_total_blocks(ctx), 1);
	talloc_free(ctx);
}

static void test_addsep(void **state)
{
	void *ctx;
	char *s;
	(void)state;

	ctx = talloc_new(NULL);
	s = talloc_strdup(ctx, "");
	/* empty: no separator before the first item */
	talloc_asprintf_addsep(&s, ", ", "%s", "alpha");
	assert_string_equal(s, "alpha");
	talloc_asprintf_addsep(&s, ", ", "%d", 2);
	assert_string_equal(s, "alpha, 2");
	talloc_asprintf_addsep(&s, "|", "%c%c", 'x', 'y');
	assert_string_equal(s, "alpha, 2|xy");
	assert_int_equal(talloc_get_size(s), strlen("alpha, 2|xy") + 1);
	assert_ptr_equal(talloc_parent(s), ctx);

	/* existing text: the separator goes in even before empty text */
	talloc_asprintf_addsep(&s, ";", "%s", "");
	assert_string_equal(s, "alpha, 2|xy;");

	/* an empty separator is plain addbuf */
	talloc_asprintf_addsep(&s, "", "%s", "end");
	assert_string_equal(s, "alpha, 2|xy;end");

	/* starting with text */
	s = talloc_strdup(ctx, "a");
	talloc_asprintf_addsep(&s, " ", "b");
	talloc_asprintf_addsep(&s, " ", "c");
	assert_string_equal(s, "a b c");

	/* NULL stays NULL */
	s = NULL;
	talloc_asprintf_addsep(&s, ", ", "%s", "x");
	assert_null(s);
	talloc_free(ctx);
}

static void test_addsep_failure_frees(void **state)
{
	void *limited;
	char *s;
	(void)state;

	limited = talloc_named_const(NULL, 0, "limited");
	talloc_set_memlimit(limited, 400);
	s = talloc_strdup(limited, "start");
	assert_int_equal(talloc_total_blocks(limited), 2);
	talloc_asprintf_addsep(&s, ", ", "%0500d", 0);
	assert_null(s);
	assert_int_equal(talloc_total_blocks(limited), 1);
	talloc_asprintf_addsep(&s, ", ", "%s", "more");
	assert_null(s);
	talloc_free(limited);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_symbol_versions),
		TT_TEST(test_realloc_zero_from_null),
		TT_TEST(test_realloc_zero_grow),
		TT_TEST(test_realloc_zero_shrink_then_grow),
		TT_TEST(test_realloc_zero_in_pool),
		TT_TEST(test_realloc_zero_edge_cases),
		TT_TEST(test_addsep),
		TT_TEST(test_addsep_failure_frees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

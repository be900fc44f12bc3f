/* talloc_realloc and friends; array size limits. */
#include "tt_common.h"

/* the reference refuses any single chunk of 256 MiB or more */
#define MAX_TALLOC_SIZE 0x10000000UL

static int destroyed;

static int count_destructor(void *p)
{
	(void)p;
	destroyed++;
	return 0;
}

static void test_realloc_null_is_alloc(void **state)
{
	void *ctx;
	int *a;
	(void)state;

	ctx = talloc_new(NULL);
	a = talloc_realloc(ctx, NULL, int, 5);
	assert_non_null(a);
	assert_ptr_equal(talloc_parent(a), ctx);
	assert_int_equal(talloc_array_length(a), 5);
	assert_string_equal(talloc_get_name(a), "int");
	talloc_free(ctx);
}

static void test_realloc_grow_and_shrink(void **state)
{
	void *ctx, *other;
	int *a, *b;
	char *child;
	(void)state;

	ctx = talloc_new(NULL);
	other = talloc_new(NULL);
	a = talloc_array(ctx, int, 4);
	for (int i = 0; i < 4; i++) {
		a[i] = i * 11;
	}
	child = talloc_strdup(a, "child");
	talloc_set_destructor((void *)a, count_destructor);

	/* the context argument is ignored for an existing pointer */
	b = talloc_realloc(other, a, int, 10000);
	assert_non_null(b);
	assert_int_equal(talloc_array_length(b), 10000);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(b[i], i * 11);
	}
	assert_ptr_equal(talloc_parent(b), ctx);
	/* children follow the chunk */
	assert_ptr_equal(talloc_parent(child), b);
	assert_int_equal(talloc_total_blocks(ctx), 3);
	assert_int_equal(talloc_total_size(ctx), 10000 * sizeof(int) + 6);

	b = talloc_realloc(NULL, b, int, 2);
	assert_int_equal(talloc_array_length(b), 2);
	assert_int_equal(b[1], 11);
	assert_int_equal(destroyed, 0);

	/* the destructor stays with the chunk */
	destroyed = 0;
	talloc_free(b);
	assert_int_equal(destroyed, 1);
	talloc_free(ctx);
	talloc_free(other);
}

static void test_realloc_names(void **state)
{
	void *ctx;
	char *p;
	int line;
	char expect[128];
	(void)state;

	ctx = talloc_new(NULL);
	p = talloc_strdup(ctx, "name me");
	/* the typed form names the chunk after the type */
	p = talloc_realloc(ctx, p, char, 20);
	assert_string_equal(talloc_get_name(p), "char");
	/* the size form after the location */
	line = __LINE__ + 1;
	p = talloc_realloc_size(ctx, p, 30);
	snprintf(expect, sizeof(expect), "%s:%d", __FILE__, line);
	assert_string_equal(talloc_get_name(p), expect);
	talloc_free(ctx);
}

static void test_realloc_zero_frees(void **state)
{
	void *ctx;
	char *p;
	(void)state;

	ctx = talloc_new(NULL);
	destroyed = 0;
	p = talloc_size(ctx, 10);
	talloc_set_destructor((void *)p, count_destructor);
	assert_null(talloc_realloc(ctx, p, char, 0));
	assert_int_equal(destroyed, 1);
	assert_int_equal(talloc_total_blocks(ctx), 1);

	/* the same through talloc_realloc_fn */
	p = talloc_size(ctx, 10);
	talloc_set_destructor((void *)p, count_destructor);
	assert_null(talloc_realloc_fn(ctx, p, 0));
	assert_int_equal(destroyed, 2);
	assert_int_equal(talloc_total_blocks(ctx), 1);
	talloc_free(ctx);
}

static void test_realloc_zero_unlinks_reference(void **state)
{
	void *parent, *r;
	char *p;
	(void)state;

	/* size 0 means "unlink from ctx": with ctx a reference owner only that
	 * reference goes */
	destroyed = 0;
	parent = talloc_new(NULL);
	r = talloc_new(NULL);
	p = talloc_strdup(parent, "shared");
	talloc_set_destructor((void *)p, count_destructor);
	talloc_reference(r, p);
	assert_null(talloc_realloc(r, p, char, 0));
	assert_int_equal(destroyed, 0);
	assert_int_equal(talloc_reference_count(p), 0);
	assert_ptr_equal(talloc_parent(p), parent);
	talloc_free(parent);
	assert_int_equal(destroyed, 1);
	talloc_free(r);
}

static void test_realloc_refused_with_references(void **state)
{
	void *parent, *r;
	char *p;
	(void)state;

	parent = talloc_new(NULL);
	r = talloc_new(NULL);
	p = talloc_strdup(parent, "shared");
	talloc_reference(r, p);
	assert_null(talloc_realloc(parent, p, char, 100));
	/* untouched */
	assert_string_equal(p, "shared");
	assert_int_equal(talloc_get_size(p), 7);
	assert_null(talloc_realloc_fn(parent, p, 100));
	assert_null(talloc_realloc_size(parent, p, 100));
	talloc_free(r);
	/* without the reference it works */
	p = talloc_realloc(parent, p, char, 100);
	assert_non_null(p);
	assert_string_equal(p, "shared");
	talloc_free(parent);
}

static void test_realloc_fn(void **state)
{
	void *ctx;
	char *p;
	(void)state;

	ctx = talloc_new(NULL);
	p = talloc_realloc_fn(ctx, NULL, 8);
	assert_non_null(p);
	assert_ptr_equal(talloc_parent(p), ctx);
	assert_int_equal(talloc_get_size(p), 8);
	memcpy(p, "1234567", 8);
	p = talloc_realloc_fn(ctx, p, 4096);
	assert_non_null(p);
	assert_string_equal(p, "1234567");
	assert_int_equal(talloc_get_size(p), 4096);
	talloc_free(ctx);
}

static void test_array_overflow(void **state)
{
	void *ctx;
	int *a;
	(void)state;

	ctx = talloc_new(NULL);
	/* element size * count does not fit size_t; a wrapped product would
	 * be tiny (2 and 4 bytes) */
	assert_null(talloc_array_size(ctx, (size_t)0x8000000000000001ULL, 2));
	assert_null(_talloc_zero_array(ctx, (size_t)0x4000000000000001ULL, 4, "x"));
	assert_null(_talloc_array(ctx, SIZE_MAX / 2, 3, "x"));
	assert_null(_talloc_zero_array(ctx, SIZE_MAX, 0xffffffffU, "x"));
	/* big but not overflowing */
	assert_null(talloc_array(ctx, uint64_t, 0xffffffffU));

	a = talloc_array(ctx, int, 4);
	assert_null(_talloc_realloc_array(ctx, a, (size_t)0x8000000000000001ULL, 2, "x"));
	assert_null(_talloc_realloc_array(ctx, a, (size_t)0x4000000000000001ULL, 4, "x"));
	/* the failed realloc left the array alone */
	assert_int_equal(talloc_array_length(a), 4);
	assert_int_equal(talloc_total_blocks(ctx), 2);
	talloc_free(ctx);
}

static void test_max_talloc_size(void **state)
{
	void *ctx;
	char *p;
	(void)state;

	ctx = talloc_new(NULL);
	assert_null(talloc_size(ctx, MAX_TALLOC_SIZE));
	assert_null(talloc_zero_size(ctx, MAX_TALLOC_SIZE));
	assert_null(talloc_array(ctx, char, MAX_TALLOC_SIZE));
	assert_null(talloc_array(ctx, uint32_t, MAX_TALLOC_SIZE / 4));
	assert_null(talloc_named_const(ctx, MAX_TALLOC_SIZE, "big"));
	assert_null(talloc_pool(ctx, MAX_TALLOC_SIZE));
	assert_int_equal(talloc_total_blocks(ctx), 1);

	p = talloc_size(ctx, 16);
	assert_null(talloc_realloc_size(ctx, p, MAX_TALLOC_SIZE));
	assert_int_equal(talloc_get_size(p), 16);

	/* one byte less is allowed (memory is only reserved, not touched) */
	p = talloc_size(ctx, MAX_TALLOC_SIZE - 1);
	assert_non_null(p);
	talloc_free(p);
	p = talloc_array(ctx, char, MAX_TALLOC_SIZE - 1);
	assert_non_null(p);
	talloc_free(p);
	talloc_free(ctx);
}

static void test_realloc_many_steps(void **state)
{
	void *ctx;
	unsigned *a = NULL;
	(void)state;

	ctx = talloc_new(NULL);
	for (unsigned n = 1; n <= 2000; n++) {
		a = talloc_realloc(ctx, a, unsigned, n);
		assert_non_null(a);
		a[n - 1] = n * 3;
	}
	for (unsigned n = 1; n <= 2000; n++) {
		assert_int_equal(a[n - 1], n * 3);
	}
	assert_int_equal(talloc_total_blocks(ctx), 2);
	talloc_free(ctx);
}

static void test_memdup_and_zero(void **state)
{
	void *ctx;
	unsigned char *z;
	(void)state;

	ctx = talloc_new(NULL);
	z = talloc_zero_size(ctx, 4096);
	for (int i = 0; i < 4096; i++) {
		assert_int_equal(z[i], 0);
	}
	assert_null(talloc_memdup(ctx, "x", MAX_TALLOC_SIZE));
	talloc_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_realloc_null_is_alloc),
		TT_TEST(test_realloc_grow_and_shrink),
		TT_TEST(test_realloc_names),
		TT_TEST(test_realloc_zero_frees),
		TT_TEST(test_realloc_zero_unlinks_reference),
		TT_TEST(test_realloc_refused_with_references),
		TT_TEST(test_realloc_fn),
		TT_TEST(test_array_overflow),
		TT_TEST(test_max_talloc_size),
		TT_TEST(test_realloc_many_steps),
		TT_TEST(test_memdup_and_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

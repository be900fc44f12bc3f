/*
 * Memory limits, with the reference's exact accounting.
 *
 * The reference charges every chunk as its size plus its 96-byte header
 * (TC_HDR_SIZE of talloc 2.x on 64-bit), a pool as its pool size plus the
 * chunk and pool headers (96 + 32), and nothing for objects carved out of a
 * pool.  A request succeeds while limit - used >= charge.  These units are
 * part of the observable behaviour (how many allocations fit, the cur_size
 * in reports), so a drop-in must count the same way whatever its real
 * header size is.
 */
#include "tt_common.h"

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

#define HDR 96
#define POOL_HDR 32

static size_t fill(void *ctx, size_t n)
{
	size_t k = 0;
	while (talloc_size(ctx, n) != NULL) {
		k++;
		assert_true(k < 100000);
	}
	return k;
}

/* cur_size of a memlimit context, read back from its report line */
static long cur_size(const void *ctx, long *max_size)
{
	struct tt_capture cap;
	char *text, *p;
	long cur = -1, max = -1;

	talloc_report_depth_file(ctx, 0, 0, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	p = strstr(text, " is a memlimit context (max_size = ");
	if (p != NULL) {
		assert_int_equal(sscanf(p, " is a memlimit context (max_size = %ld bytes, cur_size = %ld bytes)",
					&max, &cur), 2);
	}
	free(text);
	if (max_size != NULL) {
		*max_size = max;
	}
	return cur;
}

static void test_fit_counts(void **state)
{
	static const size_t limits[] = {500, 1000, 4096, 10000};
	static const size_t sizes[] = {0, 1, 10, 100, 1000};
	(void)state;

	for (size_t li = 0; li < sizeof(limits) / sizeof(limits[0]); li++) {
		for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			size_t l = limits[li], n = sizes[si];
			void *ctx = talloc_named_const(NULL, 0, "lim");
			size_t expect = (l - HDR) / (HDR + n);
			assert_int_equal(talloc_set_memlimit(ctx, l), 0);
			errno = 0;
			assert_int_equal(fill(ctx, n), expect);
			assert_int_equal(errno, ENOMEM);
			assert_int_equal(cur_size(ctx, NULL), HDR + expect * (HDR + n));
			assert_int_equal(talloc_total_blocks(ctx), expect + 1);
			talloc_free(ctx);
		}
	}
}

static void test_own_size_counts(void **state)
{
	void *ctx;
	(void)state;

	ctx = talloc_named_const(NULL, 100, "lim100");
	assert_int_equal(talloc_set_memlimit(ctx, 1000), 0);
	assert_int_equal(cur_size(ctx, NULL), HDR + 100);
	assert_int_equal(fill(ctx, 10), (1000 - HDR - 100) / (HDR + 10));
	talloc_free(ctx);
}

static void test_existing_children_count(void **state)
{
	void *ctx;
	(void)state;

	ctx = talloc_named_const(NULL, 0, "pre");
	talloc_size(ctx, 500);
	talloc_strdup(ctx, "abc");
	/* the limit may be set below what is already in use */
	assert_int_equal(talloc_set_memlimit(ctx, 300), 0);
	assert_int_equal(cur_size(ctx, NULL), HDR + (HDR + 500) + (HDR + 4));
	errno = 0;
	assert_null(talloc_size(ctx, 0));
	assert_int_equal(errno, ENOMEM);
	assert_null(talloc_strdup(ctx, ""));
	/* 0 lifts the limit */
	assert_int_equal(talloc_set_memlimit(ctx, 0), 0);
	assert_non_null(talloc_size(ctx, 100000));
	talloc_free(ctx);
}

static void test_exact_boundary(void **state)
{
	void *ctx;
	(void)state;

	ctx = talloc_named_const(NULL, 0, "edge");
	talloc_set_memlimit(ctx, 1000);
	/* a single allocation may use the budget up to the last byte */
	assert_null(talloc_size(ctx, 1000 - 2 * HDR + 1));
	assert_non_null(talloc_size(ctx, 1000 - 2 * HDR));
	assert_int_equal(cur_size(ctx, NULL), 1000);
	assert_null(talloc_size(ctx, 0));
	talloc_free(ctx);
}

static void test_raise_and_lower_limit(void **state)
{
	void *ctx;
	long max;
	(void)state;

	ctx = talloc_named_const(NULL, 0, "twice");
	talloc_set_memlimit(ctx, 500);
	talloc_size(ctx, 100);
	assert_int_equal(talloc_set_memlimit(ctx, 1000), 0);
	assert_int_equal(cur_size(ctx, &max), HDR + HDR + 100);
	assert_int_equal(max, 1000);
	assert_int_equal(fill(ctx, 100), (1000 - (2 * HDR + 100)) / (HDR + 100));
	assert_int_equal(talloc_set_memlimit(ctx, 400), 0);
	assert_int_equal(cur_size(ctx, &max), HDR + 4 * (HDR + 100));
	assert_int_equal(max, 400);
	talloc_free(ctx);
}

static void test_free_gives_budget_back(void **state)
{
	void *ctx, *p;
	size_t n;
	(void)state;

	ctx = talloc_named_const(NULL, 0, "lim");
	talloc_set_memlimit(ctx, 1000);
	p = talloc_size(ctx, 10);
	n = fill(ctx, 10);
	assert_int_equal(n + 1, (1000 - HDR) / (HDR + 10));
	assert_null(talloc_size(ctx, 10));
	talloc_free(p);
	assert_non_null(talloc_size(ctx, 10));
	assert_null(talloc_size(ctx, 10));

	talloc_free_children(ctx);
	assert_int_equal(cur_size(ctx, NULL), HDR);
	assert_int_equal(fill(ctx, 10), (1000 - HDR) / (HDR + 10));
	talloc_free(ctx);
}

static void test_subtree_counts(void **state)
{
	void *ctx, *child;
	(void)state;

	/* grandchildren are charged to the limit of an ancestor */
	ctx = talloc_named_const(NULL, 0, "lim");
	talloc_set_memlimit(ctx, 1000);
	child = talloc_named_const(ctx, 0, "child");
	assert_int_equal(fill(child, 10), (1000 - 2 * HDR) / (HDR + 10));
	assert_int_equal(cur_size(ctx, NULL), 2 * HDR + (1000 - 2 * HDR) / (HDR + 10) * (HDR + 10));
	talloc_free(child);
	assert_int_equal(cur_size(ctx, NULL), HDR);
	talloc_free(ctx);
}

static void test_nested_limits(void **state)
{
	void *outer, *inner;
	size_t in_fit, out_fit;
	(void)state;

	/* inner is tighter */
	outer = talloc_named_const(NULL, 0, "outer");
	talloc_set_memlimit(outer, 2000);
	inner = talloc_named_const(outer, 0, "inner");
	talloc_set_memlimit(inner, 500);
	assert_int_equal(cur_size(inner, NULL), HDR);
	assert_int_equal(cur_size(outer, NULL), 2 * HDR);
	in_fit = fill(inner, 10);
	assert_int_equal(in_fit, (500 - HDR) / (HDR + 10));
	assert_int_equal(cur_size(inner, NULL), HDR + in_fit * (HDR + 10));
	assert_int_equal(cur_size(outer, NULL), 2 * HDR + in_fit * (HDR + 10));
	out_fit = fill(outer, 10);
	assert_int_equal(out_fit, (2000 - 2 * HDR - in_fit * (HDR + 10)) / (HDR + 10));
	/* freeing the inner context credits the outer one */
	talloc_free(inner);
	assert_int_equal(cur_size(outer, NULL), HDR + out_fit * (HDR + 10));
	talloc_free(outer);

	/* outer is tighter: it wins */
	outer = talloc_named_const(NULL, 0, "outer");
	talloc_set_memlimit(outer, 500);
	inner = talloc_named_const(outer, 0, "inner");
	talloc_set_memlimit(inner, 2000);
	assert_int_equal(fill(inner, 10), (500 - 2 * HDR) / (HDR + 10));
	talloc_free(outer);
}

static void test_report_lines(void **state)
{
	void *outer, *inner;
	struct tt_capture cap;
	char *text;
	(void)state;

	outer = talloc_named_const(NULL, 0, "outer");
	talloc_set_memlimit(outer, 2000);
	inner = talloc_named_const(outer, 0, "inner");
	talloc_set_memlimit(inner, 500);
	talloc_named_const(inner, 50, "data");

	talloc_report_full(outer, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	assert_string_equal(text,
		"outer                          is a memlimit context (max_size = 2000 bytes, cur_size = 338 bytes)\n"
		"full talloc report on 'outer' (total     50 bytes in   3 blocks)\n"
		"    inner                          is a memlimit context (max_size = 500 bytes, cur_size = 242 bytes)\n"
		"    inner                          contains     50 bytes in   2 blocks (ref 0) ADDR\n"
		"        data                           contains     50 bytes in   1 blocks (ref 0) ADDR\n");
	free(text);
	talloc_free(outer);
}

static void test_realloc_under_limit(void **state)
{
	void *ctx;
	char *p, *q;
	(void)state;

	ctx = talloc_named_const(NULL, 0, "r");
	talloc_set_memlimit(ctx, 1000);
	p = talloc_size(ctx, 100);
	errno = 0;
	/* growth is charged by the difference */
	assert_null(talloc_realloc_size(ctx, p, 1000 - 2 * HDR + 1));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(talloc_get_size(p), 100);
	q = talloc_realloc_size(ctx, p, 1000 - 2 * HDR);
	assert_non_null(q);
	assert_int_equal(cur_size(ctx, NULL), 1000);
	/* shrinking credits it */
	p = talloc_realloc_size(ctx, q, 10);
	assert_non_null(p);
	assert_int_equal(cur_size(ctx, NULL), 2 * HDR + 10);
	talloc_free(ctx);
}

static void test_strings_under_limit(void **state)
{
	void *ctx;
	char *s;
	(void)state;

	ctx = talloc_named_const(NULL, 0, "s");
	talloc_set_memlimit(ctx, 1000);
	s = talloc_strdup(ctx, "hello");
	assert_int_equal(cur_size(ctx, NULL), 2 * HDR + 6);
	s = talloc_strdup_append(s, " world");
	assert_non_null(s);
	assert_int_equal(cur_size(ctx, NULL), 2 * HDR + 12);
	/* 2*96 + 12 + 96 + 701 = 1001 does not fit; 700 bytes do */
	assert_null(talloc_asprintf(ctx, "%0700d", 1));
	s = talloc_asprintf(ctx, "%0699d", 1);
	assert_non_null(s);
	assert_int_equal(cur_size(ctx, NULL), 1000);
	talloc_free(ctx);
}

static void test_pool_under_limit(void **state)
{
	void *ctx, *pool, *child;
	long before;
	(void)state;

	ctx = talloc_named_const(NULL, 0, "pl");
	talloc_set_memlimit(ctx, 2000);
	pool = talloc_pool(ctx, 1000);
	assert_non_null(pool);
	/* the pool is charged as a whole */
	before = cur_size(ctx, NULL);
	assert_int_equal(before, HDR + 1000 + HDR + POOL_HDR);
	/* objects carved from it are not charged again */
	child = talloc_size(pool, 10);
	assert_non_null(child);
	assert_int_equal(cur_size(ctx, NULL), before);
	talloc_free(child);
	assert_int_equal(cur_size(ctx, NULL), before);
	talloc_free(pool);
#ifdef TT_REFERENCE
	/* reference quirk: freeing the pool credits only its two headers,
	 * the pool's memory stays charged for good */
	assert_int_equal(cur_size(ctx, NULL), HDR + 1000);
#else
	/* ours gives back everything the pool was charged */
	assert_int_equal(cur_size(ctx, NULL), HDR);
#endif
	talloc_free(ctx);

	/* a pool bigger than the budget is refused */
	ctx = talloc_named_const(NULL, 0, "pl");
	talloc_set_memlimit(ctx, 2000);
	errno = 0;
	assert_null(talloc_pool(ctx, 2000 - HDR - HDR - POOL_HDR + 1));
	assert_int_equal(errno, ENOMEM);
	assert_non_null(talloc_pool(ctx, 2000 - HDR - HDR - POOL_HDR));
	assert_int_equal(cur_size(ctx, NULL), 2000);
	talloc_free(ctx);
}

static void test_limit_on_pool_itself(void **state)
{
	void *pool;
	(void)state;

	/* the limit counts the pool itself; in-pool objects are free */
	pool = talloc_pool(NULL, 4000);
	talloc_set_memlimit(pool, 1000);
	assert_int_equal(cur_size(pool, NULL), 4000 + HDR + POOL_HDR);
	assert_non_null(talloc_size(pool, 10));
	assert_int_equal(cur_size(pool, NULL), 4000 + HDR + POOL_HDR);
	/* anything that does not fit in the pool hits the (exceeded) limit */
	assert_null(talloc_size(pool, 5000));
	talloc_free(pool);
}

#ifdef TT_REFERENCE
/*
 * Reference quirk: stealing an ordinary chunk out of a limited context does
 * not credit the old context's limit (the reference shrinks the limit above
 * it instead); the new parent's limit is charged, and a later free credits
 * the new one.
 */
static void test_steal_between_limited_contexts(void **state)
{
	void *a, *b, *c;
	char *x;
	(void)state;

	a = talloc_named_const(NULL, 0, "A");
	b = talloc_named_const(NULL, 0, "B");
	c = talloc_named_const(NULL, 0, "C");
	talloc_set_memlimit(a, 1000);
	talloc_set_memlimit(b, 1000);

	x = talloc_size(a, 200);
	assert_int_equal(cur_size(a, NULL), HDR + HDR + 200);
	assert_ptr_equal(talloc_steal(b, x), x);
	assert_int_equal(cur_size(b, NULL), HDR + HDR + 200);
	assert_int_equal(cur_size(a, NULL), HDR + HDR + 200);
	talloc_free(x);
	assert_int_equal(cur_size(b, NULL), HDR);
	assert_int_equal(cur_size(a, NULL), HDR + HDR + 200);

	/* to an unlimited context: same, A is not credited */
	x = talloc_size(a, 200);
	talloc_steal(c, x);
	talloc_free(x);
	assert_int_equal(cur_size(a, NULL), HDR + 2 * (HDR + 200));

	/* from an unlimited context: A is charged, and credited on free */
	x = talloc_size(c, 200);
	talloc_steal(a, x);
	assert_int_equal(cur_size(a, NULL), HDR + 3 * (HDR + 200));
	talloc_free(x);
	assert_int_equal(cur_size(a, NULL), HDR + 2 * (HDR + 200));
	assert_int_equal(fill(a, 100), (1000 - (HDR + 2 * (HDR + 200))) / (HDR + 100));

	talloc_free(a);
	talloc_free(b);
	talloc_free(c);
}

/*
 * Reference quirk: a memlimit context stolen into another limited context
 * loses its own limit; from then on only the new parent's limit applies.
 */
static void test_steal_limited_context(void **state)
{
	void *outer, *o2, *inner, *u;
	(void)state;

	outer = talloc_named_const(NULL, 0, "outer");
	o2 = talloc_named_const(NULL, 0, "o2");
	talloc_set_memlimit(outer, 1000);
	talloc_set_memlimit(o2, 1000);
	inner = talloc_named_const(outer, 0, "inner");
	talloc_set_memlimit(inner, 500);
	talloc_size(inner, 50);
	assert_int_equal(cur_size(outer, NULL), HDR + HDR + HDR + 50);

	talloc_steal(o2, inner);
	/* the old parent is credited here (it is the limit above inner's) */
	assert_int_equal(cur_size(outer, NULL), HDR);
	assert_int_equal(cur_size(o2, NULL), HDR + HDR + HDR + 50);
	assert_int_equal(cur_size(inner, NULL), -1);
	assert_int_equal(fill(inner, 10), (1000 - (3 * HDR + 50)) / (HDR + 10));
	talloc_free(inner);
	assert_int_equal(cur_size(o2, NULL), HDR);

	/* stolen to an unlimited parent, nothing limits it any more */
	u = talloc_named_const(NULL, 0, "u");
	inner = talloc_named_const(outer, 0, "inner");
	talloc_set_memlimit(inner, 500);
	talloc_steal(u, inner);
	assert_int_equal(cur_size(outer, NULL), HDR);
	assert_int_equal(cur_size(inner, NULL), -1);
	for (int i = 0; i < 10; i++) {
		assert_non_null(talloc_size(inner, 100));
	}
	talloc_free(u);

	talloc_free(outer);
	talloc_free(o2);
}
#else
/*
 * Ours keeps the books straight where the reference's drift (see the
 * reference variant above): a steal credits every limit the subtree leaves
 * and charges every limit it enters, and a context keeps its own limit
 * wherever it goes.
 */
static void test_steal_between_limited_contexts(void **state)
{
	void *a, *b, *c;
	char *x;
	(void)state;

	a = talloc_named_const(NULL, 0, "A");
	b = talloc_named_const(NULL, 0, "B");
	c = talloc_named_const(NULL, 0, "C");
	talloc_set_memlimit(a, 1000);
	talloc_set_memlimit(b, 1000);

	x = talloc_size(a, 200);
	assert_int_equal(cur_size(a, NULL), HDR + HDR + 200);
	assert_ptr_equal(talloc_steal(b, x), x);
	assert_int_equal(cur_size(b, NULL), HDR + HDR + 200);
	assert_int_equal(cur_size(a, NULL), HDR);
	talloc_free(x);
	assert_int_equal(cur_size(b, NULL), HDR);
	assert_int_equal(cur_size(a, NULL), HDR);

	/* to an unlimited context */
	x = talloc_size(a, 200);
	talloc_steal(c, x);
	assert_int_equal(cur_size(a, NULL), HDR);
	talloc_free(x);
	assert_int_equal(cur_size(a, NULL), HDR);

	/* from an unlimited context: charged, and credited on free */
	x = talloc_size(c, 200);
	talloc_steal(a, x);
	assert_int_equal(cur_size(a, NULL), HDR + HDR + 200);
	talloc_free(x);
	assert_int_equal(cur_size(a, NULL), HDR);
	assert_int_equal(fill(a, 100), (1000 - HDR) / (HDR + 100));

	talloc_free(a);
	talloc_free(b);
	talloc_free(c);
}

static void test_steal_limited_context(void **state)
{
	void *outer, *o2, *inner, *u;
	(void)state;

	outer = talloc_named_const(NULL, 0, "outer");
	o2 = talloc_named_const(NULL, 0, "o2");
	talloc_set_memlimit(outer, 1000);
	talloc_set_memlimit(o2, 1000);
	inner = talloc_named_const(outer, 0, "inner");
	talloc_set_memlimit(inner, 500);
	talloc_size(inner, 50);
	assert_int_equal(cur_size(outer, NULL), HDR + HDR + HDR + 50);

	talloc_steal(o2, inner);
	assert_int_equal(cur_size(outer, NULL), HDR);
	assert_int_equal(cur_size(o2, NULL), HDR + HDR + HDR + 50);
	assert_int_equal(cur_size(inner, NULL), HDR + HDR + 50);
	/* both limits apply: inner's own is the tighter one */
	assert_int_equal(fill(inner, 10), (500 - (HDR + HDR + 50)) / (HDR + 10));
	talloc_free(inner);
	assert_int_equal(cur_size(o2, NULL), HDR);

	/* stolen to an unlimited parent, its own limit still holds */
	u = talloc_named_const(NULL, 0, "u");
	inner = talloc_named_const(outer, 0, "inner");
	talloc_set_memlimit(inner, 500);
	talloc_steal(u, inner);
	assert_int_equal(cur_size(outer, NULL), HDR);
	assert_int_equal(cur_size(inner, NULL), HDR);
	assert_int_equal(fill(inner, 100), (500 - HDR) / (HDR + 100));
	talloc_free(u);

	talloc_free(outer);
	talloc_free(o2);
}
#endif

/*
 * A pool made under pool memory is carved from that pool, as upstream
 * does, and costs nothing; only one that does not fit there is malloc'd
 * and charged.  (Ours used to charge every pool: the second pool below
 * failed.)
 */
struct nested_obj {
	long a, b;
};

static void test_nested_pool_under_limit(void **state)
{
	void *root, *outer, *inner, *pooled, *big;
	(void)state;

	root = talloc_new(NULL);
	assert_int_equal(talloc_set_memlimit(root, 10000), 0);
	outer = talloc_pool(root, 6000);
	assert_non_null(outer);
	assert_int_equal(cur_size(root, NULL), HDR + 6000 + HDR + POOL_HDR);

	inner = talloc_pool(outer, 2000);
	assert_non_null(inner);
	pooled = talloc_pooled_object(outer, struct nested_obj, 1, 100);
	assert_non_null(pooled);
	/* members of the nested pool, and a pool in the nested pool */
	assert_non_null(talloc_size(inner, 500));
	assert_non_null(talloc_pool(inner, 300));
	assert_int_equal(cur_size(root, NULL), HDR + 6000 + HDR + POOL_HDR);

	/* 5000 more does not fit in what is left of outer: malloc'd, and over
	 * the limit */
	errno = 0;
	big = talloc_pool(outer, 5000);
	assert_null(big);
	assert_int_equal(errno, ENOMEM);
	/* one that fits the limit (but not the 3328 bytes outer has left) is
	 * malloc'd and charged */
	big = talloc_pool(outer, 3500);
	assert_non_null(big);
	assert_int_equal(cur_size(root, NULL), HDR + 6000 + 2 * (HDR + POOL_HDR) + 3500);

	talloc_free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_fit_counts),
		TT_TEST(test_own_size_counts),
		TT_TEST(test_existing_children_count),
		TT_TEST(test_exact_boundary),
		TT_TEST(test_raise_and_lower_limit),
		TT_TEST(test_free_gives_budget_back),
		TT_TEST(test_subtree_counts),
		TT_TEST(test_nested_limits),
		TT_TEST(test_report_lines),
		TT_TEST(test_realloc_under_limit),
		TT_TEST(test_strings_under_limit),
		TT_TEST(test_pool_under_limit),
		TT_TEST(test_limit_on_pool_itself),
		TT_TEST(test_steal_between_limited_contexts),
		TT_TEST(test_steal_limited_context),
		TT_TEST(test_nested_pool_under_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

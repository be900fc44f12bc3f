/*
 * Misuse the reference detects deterministically: use of a freed pool
 * object (pool memory stays mapped, so the freed header is still there),
 * and pointers talloc never handed out whose "header" bytes are known.
 *
 * Misuse where the reference's result depends on what malloc did with the
 * freed memory is in test_strict.c (ours only).
 */
#include "tt_common.h"
#include <signal.h>

static void expect_after_free_messages(const char *free_location)
{
	char expect[512];
	snprintf(expect, sizeof(expect),
		 "talloc: access after free error - first free may be at %s\n"
		 "Bad talloc magic value - access after free\n",
		 free_location);
	assert_string_equal(tt_log_buf, expect);
	assert_string_equal(tt_abort_msg, "Bad talloc magic value - access after free");
}

static void test_pool_object_used_after_free(void **state)
{
	void *pool;
	char *p;
	char loc[128];
	int line;
	(void)state;

	pool = talloc_pool(NULL, 1024);
	p = talloc_strdup(pool, "x");
	talloc_strdup(pool, "keeps the pool busy");
	line = __LINE__ + 1;
	talloc_free(p);
	snprintf(loc, sizeof(loc), "%s:%d", __FILE__, line);

	tt_log_reset();
	TT_EXPECT_ABORT((void)talloc_get_name(p));
	expect_after_free_messages(loc);

	tt_log_reset();
	TT_EXPECT_ABORT((void)talloc_get_size(p));
	expect_after_free_messages(loc);

	tt_log_reset();
	TT_EXPECT_ABORT((void)talloc_parent(p));
	expect_after_free_messages(loc);

	tt_log_reset();
	TT_EXPECT_ABORT((void)talloc_named_const(p, 1, "child of freed"));
	expect_after_free_messages(loc);

	talloc_free(pool);
}

static void test_pool_object_double_free(void **state)
{
	void *pool;
	char *p;
	(void)state;

	pool = talloc_pool(NULL, 1024);
	p = talloc_strdup(pool, "x");
	talloc_strdup(pool, "keeps the pool busy");
	assert_int_equal(_talloc_free(p, "first-free-site"), 0);

	tt_log_reset();
	TT_EXPECT_ABORT((void)_talloc_free(p, "second-free-site"));
	expect_after_free_messages("first-free-site");
	talloc_free(pool);
}

static void test_steal_freed_pool_object(void **state)
{
	void *pool, *ctx;
	char *p;
	(void)state;

	pool = talloc_pool(NULL, 1024);
	ctx = talloc_new(NULL);
	p = talloc_strdup(pool, "x");
	talloc_strdup(pool, "keeps the pool busy");
	_talloc_free(p, "freed-here");
	tt_log_reset();
	TT_EXPECT_ABORT((void)talloc_steal(ctx, p));
	expect_after_free_messages("freed-here");
	assert_int_equal(talloc_total_blocks(ctx), 1);
	talloc_free(ctx);
	talloc_free(pool);
}

/* A region of memory talloc never allocated; ptr is in the middle so the
 * bytes before it (where a header would be) are all `fill`. */
static void *foreign(unsigned char *region, size_t size, int fill)
{
	memset(region, fill, size);
	return region + size / 2;
}

static void test_foreign_pointer_unknown_magic(void **state)
{
	static unsigned char heap_like[512];
	unsigned char *volatile m;
	void *volatile p;
	(void)state;

	p = foreign(heap_like, sizeof(heap_like), 0);
	tt_log_reset();
	TT_EXPECT_ABORT((void)talloc_get_name(p));
	assert_string_equal(tt_abort_msg, "Bad talloc magic value - unknown value");
	assert_string_equal(tt_log_buf, "Bad talloc magic value - unknown value\n");

	tt_log_reset();
	TT_EXPECT_ABORT((void)talloc_free(p));
	assert_string_equal(tt_abort_msg, "Bad talloc magic value - unknown value");
	assert_string_equal(tt_log_buf, "Bad talloc magic value - unknown value\n");

	/* other garbage */
	p = foreign(heap_like, sizeof(heap_like), 0x5a);
	TT_EXPECT_ABORT((void)talloc_steal(NULL, p));
	assert_string_equal(tt_abort_msg, "Bad talloc magic value - unknown value");

	/* a malloc'd block, zeroed */
	m = calloc(1, 512);
	assert_non_null(m);
	TT_EXPECT_ABORT((void)talloc_get_size(m + 256));
	assert_string_equal(tt_abort_msg, "Bad talloc magic value - unknown value");
	TT_EXPECT_ABORT((void)talloc_strdup(m + 256, "child"));
	assert_string_equal(tt_abort_msg, "Bad talloc magic value - unknown value");
	free(m);

	/* a stack buffer */
	{
		unsigned char stack[512];
		p = foreign(stack, sizeof(stack), 0xff);
		TT_EXPECT_ABORT((void)talloc_set_name_const(p, "x"));
		assert_string_equal(tt_abort_msg, "Bad talloc magic value - unknown value");
	}
}

static void child_unknown_default_abort(void *arg)
{
	static unsigned char region[512];
	(void)arg;
	talloc_set_log_stderr();
	talloc_set_abort_fn(NULL);
	talloc_free(foreign(region, sizeof(region), 0));
	printf("survived\n");
}

static void test_foreign_pointer_default_abort(void **state)
{
	static struct tt_child res;
	(void)state;

	/* without an abort function: logged, then abort() */
	tt_run_child(&res, child_unknown_default_abort, NULL);
	assert_int_equal(res.exited, 0);
	assert_int_equal(res.status, SIGABRT);
	assert_string_equal(res.out, "Bad talloc magic value - unknown value\n");
}

static void child_after_free_default_abort(void *arg)
{
	void *pool = talloc_pool(NULL, 1024);
	char *p = talloc_strdup(pool, "x");
	(void)arg;
	talloc_strdup(pool, "busy");
	talloc_set_log_stderr();
	talloc_set_abort_fn(NULL);
	_talloc_free(p, "loc-one");
	_talloc_free(p, "loc-two");
	printf("survived\n");
}

static void test_after_free_default_abort(void **state)
{
	static struct tt_child res;
	(void)state;

	tt_run_child(&res, child_after_free_default_abort, NULL);
	assert_int_equal(res.exited, 0);
	assert_int_equal(res.status, SIGABRT);
	assert_string_equal(res.out,
		"talloc: access after free error - first free may be at loc-one\n"
		"Bad talloc magic value - access after free\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_pool_object_used_after_free),
		TT_TEST(test_pool_object_double_free),
		TT_TEST(test_steal_freed_pool_object),
		TT_TEST(test_foreign_pointer_unknown_magic),
		TT_TEST(test_foreign_pointer_default_abort),
		TT_TEST(test_after_free_default_abort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

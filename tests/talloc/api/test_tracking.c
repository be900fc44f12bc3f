/* Null tracking, the autofree context, leak reports at exit. */
#include "tt_common.h"

static void test_null_tracking_toggle(void **state)
{
	void *before, *b, *nc;
	struct tt_capture cap;
	char *text;
	(void)state;

	/* off by default */
	before = talloc_named_const(NULL, 1, "before");
	assert_null(talloc_parent(before));
	assert_int_equal(talloc_total_blocks(NULL), 0);
	assert_int_equal(talloc_total_size(NULL), 0);
	assert_null(talloc_parent_name(before));

	talloc_enable_null_tracking();
	b = talloc_named_const(NULL, 5, "b");
	nc = talloc_parent(b);
	assert_non_null(nc);
	assert_string_equal(talloc_get_name(nc), "null_context");
	assert_string_equal(talloc_parent_name(b), "null_context");
	assert_int_equal(talloc_get_size(nc), 0);
	/* chunks made before tracking started are not adopted */
	assert_null(talloc_parent(before));
	assert_int_equal(talloc_total_blocks(NULL), 2);
	assert_int_equal(talloc_total_size(NULL), 5);

	talloc_report(NULL, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	assert_string_equal(text,
		"talloc report on 'null_context' (total      5 bytes in   2 blocks)\n"
		"    b                              contains      5 bytes in   1 blocks (ref 0) ADDR\n");
	free(text);

	/* enabling twice changes nothing */
	talloc_enable_null_tracking();
	assert_ptr_equal(talloc_parent(b), nc);

	talloc_disable_null_tracking();
	/* tracked chunks become real top level chunks */
	assert_null(talloc_parent(b));
	assert_int_equal(talloc_total_blocks(NULL), 0);
	talloc_report(NULL, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	assert_string_equal(text, "");
	free(text);

	talloc_free(before);
	talloc_free(b);
}

static void test_null_tracking_steal_and_free(void **state)
{
	void *a, *b;
	(void)state;

	talloc_enable_null_tracking();
	a = talloc_named_const(NULL, 0, "a");
	b = talloc_named_const(a, 3, "b");
	/* stealing to NULL puts it under the null context */
	talloc_steal(NULL, b);
	assert_string_equal(talloc_parent_name(b), "null_context");
	assert_int_equal(talloc_total_blocks(NULL), 3);
	talloc_free(a);
	talloc_free(b);
	assert_int_equal(talloc_total_blocks(NULL), 1);
	talloc_disable_null_tracking();
}

static void test_null_tracking_no_autofree(void **state)
{
	void *c;
	(void)state;

	talloc_enable_null_tracking_no_autofree();
	c = talloc_named_const(NULL, 7, "c");
	assert_string_equal(talloc_parent_name(c), "null_context");
	assert_int_equal(talloc_total_size(NULL), 7);
	talloc_free(c);
	talloc_disable_null_tracking();
}

/* Destructors that run at exit write with write(2): nothing is buffered. */
static int write_destructor(void *p)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "destructor %s\n", talloc_get_name(p));
	if (write(1, line, (size_t)n) != n) {
		return -1;
	}
	return 0;
}

static void child_autofree(void *arg)
{
	void *af, *k;
	(void)arg;
	af = talloc_autofree_context();
	if (af != talloc_autofree_context()) {
		printf("autofree context changed\n");
	}
	k = talloc_named_const(af, 1, "kid");
	printf("af=%s parent=%s\n", talloc_get_name(af),
	       talloc_parent(af) == NULL ? "none" : "some");
	talloc_set_destructor(af, write_destructor);
	talloc_set_destructor(k, write_destructor);
	printf("exiting\n");
}

static void test_autofree_context(void **state)
{
	static struct tt_child res;
	(void)state;

	tt_run_child(&res, child_autofree, NULL);
	assert_int_equal(res.exited, 1);
	assert_int_equal(res.status, 0);
	/* freed at exit: its own destructor first, then its children */
	assert_string_equal(res.out,
		"af=autofree_context parent=none\n"
		"exiting\n"
		"destructor autofree_context\n"
		"destructor kid\n");
}

static void child_leak_report(void *arg)
{
	void *x;
	int full = *(int *)arg;
	if (full) {
		talloc_enable_leak_report_full();
	} else {
		talloc_enable_leak_report();
	}
	x = talloc_named_const(NULL, 10, "leaked x");
	talloc_named_const(x, 5, "leaked child");
	talloc_named_const(NULL, 3, "leaked y");
	/* freed chunks are not reported */
	talloc_free(talloc_named_const(NULL, 100, "freed"));
	printf("main done\n");
}

static void test_leak_report_at_exit(void **state)
{
	static struct tt_child res;
	char *masked;
	int full = 0;
	(void)state;

	tt_run_child(&res, child_leak_report, &full);
	assert_int_equal(res.exited, 1);
	assert_int_equal(res.status, 0);
	masked = tt_mask_addresses(res.out);
	assert_string_equal(masked,
		"main done\n"
		"talloc report on 'null_context' (total     18 bytes in   4 blocks)\n"
		"    leaked y                       contains      3 bytes in   1 blocks (ref 0) ADDR\n"
		"    leaked x                       contains     15 bytes in   2 blocks (ref 0) ADDR\n");
	free(masked);
}

static void test_leak_report_full_at_exit(void **state)
{
	static struct tt_child res;
	char *masked;
	int full = 1;
	(void)state;

	tt_run_child(&res, child_leak_report, &full);
	assert_int_equal(res.exited, 1);
	masked = tt_mask_addresses(res.out);
	assert_string_equal(masked,
		"main done\n"
		"full talloc report on 'null_context' (total     18 bytes in   4 blocks)\n"
		"    leaked y                       contains      3 bytes in   1 blocks (ref 0) ADDR\n"
		"    leaked x                       contains     15 bytes in   2 blocks (ref 0) ADDR\n"
		"        leaked child                   contains      5 bytes in   1 blocks (ref 0) ADDR\n");
	free(masked);
}

static void child_no_leak(void *arg)
{
	int variant = *(int *)arg;
	talloc_enable_leak_report();
	if (variant == 0) {
		talloc_free(talloc_named_const(NULL, 10, "x"));
	} else {
		/* leaked chunks of size 0 do not trigger the report */
		void *p = talloc_named_const(NULL, 0, "zero leak");
		talloc_named_const(p, 0, "zero kid");
	}
	printf("done\n");
}

static void test_leak_report_silent_without_leaks(void **state)
{
	static struct tt_child res;
	int variant;
	(void)state;

	variant = 0;
	tt_run_child(&res, child_no_leak, &variant);
	assert_int_equal(res.exited, 1);
	assert_string_equal(res.out, "done\n");

	variant = 1;
	tt_run_child(&res, child_no_leak, &variant);
	assert_int_equal(res.exited, 1);
	assert_string_equal(res.out, "done\n");
}

static void child_leak_and_autofree(void *arg)
{
	void *af;
	(void)arg;
	talloc_enable_leak_report();
	af = talloc_autofree_context();
	talloc_named_const(af, 4, "af kid");
	talloc_named_const(NULL, 3, "leaked");
}

static void test_autofree_not_reported_as_leak(void **state)
{
	static struct tt_child res;
	char *masked;
	(void)state;

	tt_run_child(&res, child_leak_and_autofree, NULL);
	assert_int_equal(res.exited, 1);
	masked = tt_mask_addresses(res.out);
	assert_string_equal(masked,
		"talloc report on 'null_context' (total      3 bytes in   2 blocks)\n"
		"    leaked                         contains      3 bytes in   1 blocks (ref 0) ADDR\n");
	free(masked);
}

static void child_autofree_under_tracking(void *arg)
{
	void *af;
	(void)arg;
	talloc_enable_null_tracking_no_autofree();
	af = talloc_autofree_context();
	talloc_named_const(NULL, 7, "c");
	printf("af parent=%s\n", talloc_parent_name(af));
	talloc_report_full(NULL, stdout);
}

static void test_autofree_under_null_tracking(void **state)
{
	static struct tt_child res;
	char *masked;
	(void)state;

	tt_run_child(&res, child_autofree_under_tracking, NULL);
	assert_int_equal(res.exited, 1);
	masked = tt_mask_addresses(res.out);
	assert_string_equal(masked,
		"af parent=null_context\n"
		"full talloc report on 'null_context' (total      7 bytes in   3 blocks)\n"
		"    c                              contains      7 bytes in   1 blocks (ref 0) ADDR\n"
		"    autofree_context               contains      0 bytes in   1 blocks (ref 0) ADDR\n");
	free(masked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_null_tracking_toggle),
		TT_TEST(test_null_tracking_steal_and_free),
		TT_TEST(test_null_tracking_no_autofree),
		TT_TEST(test_autofree_context),
		TT_TEST(test_leak_report_at_exit),
		TT_TEST(test_leak_report_full_at_exit),
		TT_TEST(test_leak_report_silent_without_leaks),
		TT_TEST(test_autofree_not_reported_as_leak),
		TT_TEST(test_autofree_under_null_tracking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Names: set_name, set_name_const, check_name, get_type, get_type_abort. */
#include "tt_common.h"
#include <signal.h>

struct foo {
	int x;
};
struct bar {
	int y;
};

static void test_default_names(void **state)
{
	void *ctx, *p;
	struct foo *f;
	(void)state;

	ctx = talloc_new(NULL);
	f = talloc(ctx, struct foo);
	assert_string_equal(talloc_get_name(f), "struct foo");
	p = talloc_named_const(ctx, 1, NULL);
	assert_string_equal(talloc_get_name(p), "UNNAMED");
	/* "UNNAMED" is what a nameless chunk is checked against */
	assert_ptr_equal(talloc_check_name(p, "UNNAMED"), p);
	p = talloc_named_const(ctx, 1, "constant");
	assert_string_equal(talloc_get_name(p), "constant");
	talloc_free(ctx);
}

static void test_set_name_printf(void **state)
{
	void *p;
	const char *n1, *n2;
	(void)state;

	p = talloc_size(NULL, 3);
	n1 = talloc_set_name(p, "%s-%d-%c", "name", 17, 'x');
	assert_non_null(n1);
	assert_string_equal(n1, "name-17-x");
	assert_ptr_equal(talloc_get_name(p), n1);

	/* the formatted name is a child chunk called ".name" */
	assert_ptr_equal(talloc_parent(n1), p);
	assert_string_equal(talloc_get_name(n1), ".name");
	assert_int_equal(talloc_total_blocks(p), 2);
	assert_int_equal(talloc_total_size(p), 3 + strlen("name-17-x") + 1);

	/* renaming keeps the old name chunk around until the owner goes */
	n2 = talloc_set_name(p, "n%d", 2);
	assert_string_equal(n2, "n2");
	assert_string_equal(talloc_get_name(p), "n2");
	assert_int_equal(talloc_total_blocks(p), 3);
	assert_string_equal(n1, "name-17-x");

	talloc_free(p);
}

static void test_set_name_const(void **state)
{
	void *p;
	static const char fixed[] = "fixed name";
	(void)state;

	p = talloc_size(NULL, 3);
	talloc_set_name_const(p, fixed);
	/* the very same pointer is kept, nothing is allocated */
	assert_ptr_equal(talloc_get_name(p), fixed);
	assert_int_equal(talloc_total_blocks(p), 1);
	talloc_set_name_const(p, NULL);
	assert_string_equal(talloc_get_name(p), "UNNAMED");
	talloc_free(p);
}

static void test_check_name(void **state)
{
	struct foo *f;
	(void)state;

	f = talloc(NULL, struct foo);
	assert_ptr_equal(talloc_check_name(f, "struct foo"), f);
	assert_null(talloc_check_name(f, "struct bar"));
	assert_null(talloc_check_name(f, "struct fo"));
	assert_null(talloc_check_name(NULL, "struct foo"));
	assert_ptr_equal(talloc_get_type(f, struct foo), f);
	assert_null(talloc_get_type(f, struct bar));

	/* names are compared by content */
	{
		char buf[32];
		strcpy(buf, "struct foo");
		assert_ptr_equal(talloc_check_name(f, buf), f);
	}
	talloc_free(f);
}

static void test_get_type_abort_ok(void **state)
{
	struct foo *f;
	void *v;
	(void)state;

	f = talloc(NULL, struct foo);
	v = f;
	assert_ptr_equal(talloc_get_type_abort(v, struct foo), f);
	assert_int_equal(tt_abort_calls, 0);
	assert_int_equal(tt_log_len, 0);
	talloc_free(f);
}

static void test_get_type_abort_mismatch(void **state)
{
	struct foo *f;
	void *v;
	char expect[256];
	volatile int line = 0;
	(void)state;

	f = talloc(NULL, struct foo);
	v = f;
	tt_log_reset();
	TT_EXPECT_ABORT({
		line = __LINE__ + 1;
		(void)talloc_get_type_abort(v, struct bar);
	});
	snprintf(expect, sizeof(expect),
		 "%s:%d: Type mismatch: name[struct foo] expected[struct bar]",
		 __FILE__, line);
	assert_string_equal(tt_abort_msg, expect);
	/* the same text went to the log first, with a newline */
	strcat(expect, "\n");
	assert_string_equal(tt_log_buf, expect);

	/* a renamed chunk reports its current name */
	talloc_set_name(f, "renamed %d", 3);
	TT_EXPECT_ABORT((void)talloc_get_type_abort(v, struct foo));
	assert_non_null(strstr(tt_abort_msg, ": Type mismatch: name[renamed 3] expected[struct foo]"));
	talloc_free(f);
}

static void test_get_type_abort_null(void **state)
{
	void *v = NULL;
	char expect[256];
	volatile int line = 0;
	(void)state;

	TT_EXPECT_ABORT({
		line = __LINE__ + 1;
		(void)talloc_get_type_abort(v, struct foo);
	});
	snprintf(expect, sizeof(expect),
		 "%s:%d: Type mismatch: name[NULL] expected[struct foo]", __FILE__, line);
	assert_string_equal(tt_abort_msg, expect);
}

static void child_type_abort_default(void *arg)
{
	struct foo *f = talloc(NULL, struct foo);
	void *v = f;
	(void)arg;
	talloc_set_log_stderr();
	talloc_set_abort_fn(NULL);
	(void)talloc_get_type_abort(v, struct bar);
	printf("still running\n");
}

static void test_get_type_abort_default_aborts(void **state)
{
	static struct tt_child res;
	(void)state;

	/* without an abort function the process aborts, after logging */
	tt_run_child(&res, child_type_abort_default, NULL);
	assert_int_equal(res.exited, 0);
	assert_int_equal(res.status, SIGABRT);
	assert_non_null(strstr(res.out, ": Type mismatch: name[struct foo] expected[struct bar]\n"));
	assert_null(strstr(res.out, "still running"));
}

static void child_type_abort_silent(void *arg)
{
	struct foo *f = talloc(NULL, struct foo);
	void *v = f;
	(void)arg;
	talloc_set_log_fn(NULL);
	talloc_set_abort_fn(NULL);
	(void)talloc_get_type_abort(v, struct bar);
	printf("still running\n");
}

static void test_get_type_abort_no_log(void **state)
{
	static struct tt_child res;
	(void)state;

	/* no log function: aborts without printing anything */
	tt_run_child(&res, child_type_abort_silent, NULL);
	assert_int_equal(res.exited, 0);
	assert_int_equal(res.status, SIGABRT);
	assert_string_equal(res.out, "");
}

static void test_names_of_string_functions(void **state)
{
	void *ctx;
	char *s;
	(void)state;

	ctx = talloc_new(NULL);
	/* string functions name the chunk after its content */
	s = talloc_strdup(ctx, "hello");
	assert_string_equal(talloc_get_name(s), "hello");
	s = talloc_asprintf(ctx, "v=%d", 5);
	assert_string_equal(talloc_get_name(s), "v=5");
	s = talloc_strndup(ctx, "abcdef", 3);
	assert_string_equal(talloc_get_name(s), "abc");
	/* ... and appending renames it */
	s = talloc_strdup_append(s, "XY");
	assert_string_equal(talloc_get_name(s), "abcXY");
	talloc_free(ctx);
}

static void test_find_parent_byname(void **state)
{
	void *top, *mid, *leaf;
	(void)state;

	top = talloc_named_const(NULL, 0, "top");
	mid = talloc_named_const(top, 0, "mid");
	leaf = talloc_named_const(mid, 0, "leaf");
	assert_ptr_equal(talloc_find_parent_byname(leaf, "mid"), mid);
	assert_ptr_equal(talloc_find_parent_byname(leaf, "top"), top);
	/* the chunk itself counts */
	assert_ptr_equal(talloc_find_parent_byname(leaf, "leaf"), leaf);
	assert_null(talloc_find_parent_byname(leaf, "nowhere"));
	assert_null(talloc_find_parent_byname(NULL, "top"));
	/* the typed macro */
	talloc_set_name_const(mid, "struct foo");
	assert_ptr_equal(talloc_find_parent_bytype(leaf, struct foo), mid);
	talloc_free(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_default_names),
		TT_TEST(test_set_name_printf),
		TT_TEST(test_set_name_const),
		TT_TEST(test_check_name),
		TT_TEST(test_get_type_abort_ok),
		TT_TEST(test_get_type_abort_mismatch),
		TT_TEST(test_get_type_abort_null),
		TT_TEST(test_get_type_abort_default_aborts),
		TT_TEST(test_get_type_abort_no_log),
		TT_TEST(test_names_of_string_functions),
		TT_TEST(test_find_parent_byname),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

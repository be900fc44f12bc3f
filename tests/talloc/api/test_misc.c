/* Ancestry queries, versions, magic, log/abort plumbing, NULL arguments
 * where the reference defines a result. */
#include "tt_common.h"
#include <signal.h>

static int dummy_destructor(void *p)
{
	(void)p;
	return 0;
}

static void test_is_parent(void **state)
{
	void *top, *mid, *leaf, *other;
	(void)state;

	top = talloc_named_const(NULL, 0, "top");
	mid = talloc_named_const(top, 0, "mid");
	leaf = talloc_named_const(mid, 0, "leaf");
	other = talloc_named_const(top, 0, "other");

	/* talloc_is_parent(context, ptr): is ptr context itself or one of
	 * its ancestors? */
	assert_int_equal(talloc_is_parent(leaf, mid), 1);
	assert_int_equal(talloc_is_parent(leaf, top), 1);
	assert_int_equal(talloc_is_parent(leaf, leaf), 1);
	assert_int_equal(talloc_is_parent(mid, leaf), 0);
	assert_int_equal(talloc_is_parent(top, leaf), 0);
	assert_int_equal(talloc_is_parent(leaf, other), 0);
	assert_int_equal(talloc_is_parent(other, mid), 0);
	assert_int_equal(talloc_is_parent(NULL, top), 0);
	assert_int_equal(talloc_is_parent(top, NULL), 0);
	assert_int_equal(talloc_is_parent(NULL, NULL), 0);
	talloc_free(top);
}

/*
 * Reference behaviour: talloc_is_parent gives up after 10000 steps up the
 * tree (TALLOC_MAX_DEPTH) and answers 0; talloc_find_parent_byname has no
 * such limit.
 */
static void test_is_parent_depth_limit(void **state)
{
	(void)state;
	for (int depth = 9998; depth <= 10001; depth++) {
		void *root = talloc_named_const(NULL, 0, "root");
		void *p = root;
		for (int i = 0; i < depth; i++) {
			p = talloc_named_const(p, 0, "link");
		}
		assert_int_equal(talloc_is_parent(p, root), depth < 10000 ? 1 : 0);
		assert_ptr_equal(talloc_find_parent_byname(p, "root"), root);
		talloc_free(root);
	}
}

static void test_parent_of_every_sibling(void **state)
{
	void *top, *kids[20];
	(void)state;

	top = talloc_named_const(NULL, 0, "top");
	for (int i = 0; i < 20; i++) {
		kids[i] = talloc_size(top, (size_t)i);
	}
	for (int i = 0; i < 20; i++) {
		assert_ptr_equal(talloc_parent(kids[i]), top);
		assert_string_equal(talloc_parent_name(kids[i]), "top");
	}
	/* and after removing some in the middle */
	talloc_free(kids[10]);
	talloc_free(kids[0]);
	talloc_free(kids[19]);
	assert_ptr_equal(talloc_parent(kids[11]), top);
	assert_ptr_equal(talloc_parent(kids[1]), top);
	assert_ptr_equal(talloc_parent(kids[18]), top);
	talloc_free(top);
}

static void test_versions(void **state)
{
	(void)state;
	assert_int_equal(talloc_version_major(), TALLOC_VERSION_MAJOR);
	assert_int_equal(talloc_version_minor(), TALLOC_VERSION_MINOR);
}

static unsigned magic_of_fresh_process(void)
{
	char buf[64] = {0};
	int fds[2];
	pid_t pid;
	int st;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/proc/self/exe", "magic", "--print-magic", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(n > 0);
	return (unsigned)strtoul(buf, NULL, 10);
}

static void test_magic(void **state)
{
	unsigned m1, m2, m3;
	(void)state;

	/* stable within a process */
	assert_int_equal(talloc_test_get_magic(), talloc_test_get_magic());
	assert_int_not_equal(talloc_test_get_magic(), 0);
	/* randomised per process: three fresh processes will not all agree
	 * with each other and with us unless the magic is fixed */
	m1 = magic_of_fresh_process();
	m2 = magic_of_fresh_process();
	m3 = magic_of_fresh_process();
	assert_false(m1 == m2 && m2 == m3 && m3 == (unsigned)talloc_test_get_magic());
}

static void child_log_stderr(void *arg)
{
	void *a = talloc_named_const(NULL, 0, "a");
	void *r = talloc_named_const(NULL, 0, "r");
	void *p = talloc_named_const(a, 0, "p");
	(void)arg;
	talloc_reference(r, p);
	talloc_set_log_stderr();
	_talloc_free(p, "somewhere:1");
	/* NULL disables logging */
	talloc_set_log_fn(NULL);
	_talloc_free(p, "somewhere:2");
	fflush(stderr);
}

static void test_log_stderr(void **state)
{
	static struct tt_child res;
	(void)state;

	tt_run_child(&res, child_log_stderr, NULL);
	assert_int_equal(res.exited, 1);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "ERROR: talloc_free with references at somewhere:1\n"));
	assert_null(strstr(res.out, "somewhere:2"));
}

static void test_log_fn_receives_lines(void **state)
{
	void *a, *r, *p;
	(void)state;

	a = talloc_named_const(NULL, 0, "a");
	r = talloc_named_const(NULL, 0, "r");
	p = talloc_named_const(a, 0, "p");
	_talloc_reference_loc(r, p, "ref-here");
	tt_log_reset();
	assert_int_equal(_talloc_free(p, "free-here"), -1);
	/* one call per line */
	assert_int_equal(tt_log_calls, 2);
	assert_string_equal(tt_log_buf,
		"ERROR: talloc_free with references at free-here\n"
		"\treference at ref-here\n");
	tt_log_reset();
	assert_ptr_equal(_talloc_steal_loc(r, p, "steal-here"), p);
	assert_string_equal(tt_log_buf,
		"WARNING: talloc_steal with references at steal-here\n"
		"\treference at ref-here\n");
	talloc_free(a);
	talloc_free(r);
}

static void test_null_arguments_defined_by_reference(void **state)
{
	void *x;
	(void)state;

	x = talloc_named_const(NULL, 0, "x");
	assert_null(talloc_check_name(NULL, "x"));
	assert_null(talloc_parent(NULL));
	assert_null(talloc_parent_name(NULL));
	assert_null(talloc_find_parent_byname(NULL, "x"));
	assert_int_equal(talloc_get_size(NULL), 0);
	assert_int_equal(talloc_free(NULL), -1);
	talloc_free_children(NULL);
	assert_null(talloc_steal(x, NULL));
	assert_null(talloc_steal(NULL, NULL));
	assert_null(talloc_reparent(NULL, NULL, NULL));
	assert_null(talloc_reparent(NULL, x, NULL));
	assert_int_equal(talloc_increase_ref_count(NULL), -1);
	assert_int_equal(talloc_unlink(x, NULL), -1);
	assert_null(talloc_reference(NULL, NULL));
	assert_null(talloc_reference(x, NULL));
	assert_null(talloc_realloc(NULL, NULL, char, 0));
	assert_null(talloc_realloc_fn(NULL, NULL, 0));
	assert_null(talloc_strdup(x, NULL));
	assert_null(talloc_strndup(x, NULL, 0));
	assert_null(talloc_strdup_append(NULL, NULL));
	assert_null(talloc_strndup_append(NULL, NULL, 0));
	assert_null(talloc_strdup_append_buffer(NULL, NULL));
	assert_null(talloc_strndup_append_buffer(NULL, NULL, 0));
	assert_null(talloc_get_type(NULL, int));
	assert_int_equal(talloc_total_size(NULL), 0);
	assert_int_equal(talloc_total_blocks(NULL), 0);
	/* nothing was logged or aborted for any of these */
	assert_int_equal(tt_log_calls, 0);
	assert_int_equal(tt_abort_calls, 0);
	assert_int_equal(talloc_total_blocks(x), 1);
	talloc_free(x);
}

static void test_reparent_from_null(void **state)
{
	void *x, *y;
	(void)state;

	/* a top level chunk has the NULL context as its parent */
	x = talloc_named_const(NULL, 0, "x");
	y = talloc_named_const(NULL, 0, "y");
	assert_ptr_equal(talloc_reparent(NULL, x, y), y);
	assert_ptr_equal(talloc_parent(y), x);
	talloc_free(x);
}

static void test_unlink_from_null_context(void **state)
{
	void *x;
	(void)state;

	/* a top level chunk unlinked from NULL is freed */
	x = talloc_named_const(NULL, 0, "x");
	talloc_set_destructor(x, dummy_destructor);
	assert_int_equal(talloc_unlink(NULL, x), 0);
}

static void test_pool_of_size_zero(void **state)
{
	void *pool, *p;
	(void)state;

	pool = talloc_pool(NULL, 0);
	assert_non_null(pool);
	p = talloc_size(pool, 10);
	assert_non_null(p);
	assert_ptr_equal(talloc_parent(p), pool);
	talloc_free(pool);
}

static void test_memdup_empty(void **state)
{
	void *x, *d;
	(void)state;

	x = talloc_new(NULL);
	d = talloc_memdup(x, "", 0);
	assert_non_null(d);
	assert_int_equal(talloc_get_size(d), 0);
	talloc_free(x);
}

/* Child mode: free and shrink pool objects, print the bytes left behind. */
static int free_fill_child(void)
{
	void *pool = talloc_pool(NULL, 1024);
	unsigned char *p = talloc_size(pool, 32);
	unsigned char *q = talloc_size(pool, 32);
	memset(p, 1, 32);
	memset(q, 1, 32);
	talloc_free(p);
	/* pool memory stays mapped: reading it back is well defined here */
	for (int i = 0; i < 32; i++) {
		printf("%02x", p[i]);
	}
	printf("\n");
	q = talloc_realloc_size(NULL, q, 8);
	for (int i = 0; i < 32; i++) {
		printf("%02x", q[i]);
	}
	printf("\n");
	return 0;
}

static void test_free_fill(void **state)
{
	char buf[256] = {0};
	int fds[2];
	pid_t pid;
	int st;
	ssize_t n, got = 0;
	(void)state;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		setenv("TALLOC_FREE_FILL", "0x42", 1);
		execl("/proc/self/exe", "fill", "--free-fill", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0) {
		got += n;
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* freed memory and the tail cut off by a shrink are filled */
	assert_string_equal(buf,
		"4242424242424242424242424242424242424242424242424242424242424242\n"
		"0101010101010101424242424242424242424242424242424242424242424242\n");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_is_parent),
		TT_TEST(test_is_parent_depth_limit),
		TT_TEST(test_parent_of_every_sibling),
		TT_TEST(test_versions),
		TT_TEST(test_magic),
		TT_TEST(test_log_stderr),
		TT_TEST(test_log_fn_receives_lines),
		TT_TEST(test_null_arguments_defined_by_reference),
		TT_TEST(test_reparent_from_null),
		TT_TEST(test_unlink_from_null_context),
		TT_TEST(test_pool_of_size_zero),
		TT_TEST(test_memdup_empty),
		TT_TEST(test_free_fill),
	};
	if (argc == 2 && strcmp(argv[1], "--print-magic") == 0) {
		printf("%u\n", (unsigned)talloc_test_get_magic());
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--free-fill") == 0) {
		return free_fill_child();
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}

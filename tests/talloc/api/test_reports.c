/* Reports: talloc_report, _full, _depth_cb, _depth_file, talloc_show_parents. */
#include "tt_common.h"

/*
 * The tree used throughout:
 *
 *   root (0)
 *     first (10)
 *       first.a (1)
 *         deep (7)
 *     second (20)          <- referenced by holder
 *     a name that is definitely longer than thirty characters (3)
 *   holder (0)
 *     -> reference to second
 */
struct tree {
	void *root, *first, *first_a, *deep, *second, *longname, *holder;
};

static void build(struct tree *t)
{
	t->root = talloc_named_const(NULL, 0, "root");
	t->first = talloc_named_const(t->root, 10, "first");
	t->first_a = talloc_named_const(t->first, 1, "first.a");
	t->deep = talloc_named_const(t->first_a, 7, "deep");
	t->second = talloc_named_const(t->root, 20, "second");
	t->longname = talloc_named_const(t->root, 3,
		"a name that is definitely longer than thirty characters");
	t->holder = talloc_named_const(NULL, 0, "holder");
	assert_non_null(talloc_reference(t->holder, t->second));
}

static void destroy(struct tree *t)
{
	talloc_free(t->holder);
	talloc_free(t->root);
}

static char *report(void (*fn)(const void *, FILE *), const void *ptr)
{
	struct tt_capture cap;
	fn(ptr, tt_capture_begin(&cap));
	return tt_capture_end(&cap);
}

static void test_report_full(void **state)
{
	struct tree t;
	char *text;
	(void)state;

	build(&t);
	text = report(talloc_report_full, t.root);
	assert_string_equal(text,
		"full talloc report on 'root' (total     41 bytes in   6 blocks)\n"
		"    a name that is definitely longer than thirty characters contains      3 bytes in   1 blocks (ref 0) ADDR\n"
		"    second                         contains     20 bytes in   1 blocks (ref 1) ADDR\n"
		"    first                          contains     18 bytes in   3 blocks (ref 0) ADDR\n"
		"        first.a                        contains      8 bytes in   2 blocks (ref 0) ADDR\n"
		"            deep                           contains      7 bytes in   1 blocks (ref 0) ADDR\n");
	free(text);

	text = report(talloc_report_full, t.holder);
	assert_string_equal(text,
		"full talloc report on 'holder' (total      0 bytes in   2 blocks)\n"
		"    reference to: second\n");
	free(text);
	destroy(&t);
}

static void test_report_one_level(void **state)
{
	struct tree t;
	char *text;
	(void)state;

	build(&t);
	text = report(talloc_report, t.root);
	assert_string_equal(text,
		"talloc report on 'root' (total     41 bytes in   6 blocks)\n"
		"    a name that is definitely longer than thirty characters contains      3 bytes in   1 blocks (ref 0) ADDR\n"
		"    second                         contains     20 bytes in   1 blocks (ref 1) ADDR\n"
		"    first                          contains     18 bytes in   3 blocks (ref 0) ADDR\n");
	free(text);

	text = report(talloc_report, t.first_a);
	assert_string_equal(text,
		"talloc report on 'first.a' (total      8 bytes in   2 blocks)\n"
		"    deep                           contains      7 bytes in   1 blocks (ref 0) ADDR\n");
	free(text);

	text = report(talloc_report, t.deep);
	assert_string_equal(text,
		"talloc report on 'deep' (total      7 bytes in   1 blocks)\n");
	free(text);
	destroy(&t);
}

static void test_report_depth_file(void **state)
{
	struct tree t;
	struct tt_capture cap;
	char *text;
	(void)state;

	build(&t);
	/* max_depth 2 from the top */
	talloc_report_depth_file(t.root, 0, 2, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	assert_string_equal(text,
		"talloc report on 'root' (total     41 bytes in   6 blocks)\n"
		"    a name that is definitely longer than thirty characters contains      3 bytes in   1 blocks (ref 0) ADDR\n"
		"    second                         contains     20 bytes in   1 blocks (ref 1) ADDR\n"
		"    first                          contains     18 bytes in   3 blocks (ref 0) ADDR\n"
		"        first.a                        contains      8 bytes in   2 blocks (ref 0) ADDR\n");
	free(text);

	/* starting at depth 1: the top is a "contains" line, the depth limit
	 * still counts from 0 */
	talloc_report_depth_file(t.first, 1, 2, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	assert_string_equal(text,
		"    first                          contains     18 bytes in   3 blocks (ref 0) ADDR\n"
		"        first.a                        contains      8 bytes in   2 blocks (ref 0) ADDR\n");
	free(text);

	/* negative max_depth is unlimited and says "full" */
	talloc_report_depth_file(t.first, 0, -1, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	assert_string_equal(text,
		"full talloc report on 'first' (total     18 bytes in   3 blocks)\n"
		"    first.a                        contains      8 bytes in   2 blocks (ref 0) ADDR\n"
		"        deep                           contains      7 bytes in   1 blocks (ref 0) ADDR\n");
	free(text);

	/* max_depth 0: only the header */
	talloc_report_depth_file(t.root, 0, 0, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	assert_string_equal(text, "talloc report on 'root' (total     41 bytes in   6 blocks)\n");
	free(text);
	destroy(&t);
}

struct cb_record {
	char text[2048];
	const void *ptrs[32];
	int n;
};

static void record_cb(const void *ptr, int depth, int max_depth, int is_ref, void *priv)
{
	struct cb_record *r = priv;
	char line[256];
	snprintf(line, sizeof(line), "%s/%d/%d/%d;", talloc_get_name(ptr), depth, max_depth, is_ref);
	strcat(r->text, line);
	if (r->n < 32) {
		r->ptrs[r->n++] = ptr;
	}
}

static void test_report_depth_cb(void **state)
{
	struct tree t;
	struct cb_record r;
	(void)state;

	build(&t);
	memset(&r, 0, sizeof(r));
	talloc_report_depth_cb(t.root, 0, -1, record_cb, &r);
	assert_string_equal(r.text,
		"root/0/-1/0;"
		"a name that is definitely longer than thirty characters/1/-1/0;"
		"second/1/-1/0;"
		"first/1/-1/0;"
		"first.a/2/-1/0;"
		"deep/3/-1/0;");
	assert_int_equal(r.n, 6);
	assert_ptr_equal(r.ptrs[0], t.root);
	assert_ptr_equal(r.ptrs[2], t.second);
	assert_ptr_equal(r.ptrs[5], t.deep);

	/* a reference is passed as the referenced pointer with is_ref set */
	memset(&r, 0, sizeof(r));
	talloc_report_depth_cb(t.holder, 0, -1, record_cb, &r);
	assert_string_equal(r.text, "holder/0/-1/0;second/1/-1/1;");
	assert_ptr_equal(r.ptrs[1], t.second);

	/* depth offset and limit */
	memset(&r, 0, sizeof(r));
	talloc_report_depth_cb(t.first, 5, 6, record_cb, &r);
	assert_string_equal(r.text, "first/5/6/0;first.a/6/6/0;");

	/* NULL without null tracking: nothing */
	memset(&r, 0, sizeof(r));
	talloc_report_depth_cb(NULL, 0, -1, record_cb, &r);
	assert_string_equal(r.text, "");
	destroy(&t);
}

static void test_report_null_context(void **state)
{
	char *text;
	void *a;
	(void)state;

	text = report(talloc_report_full, NULL);
	assert_string_equal(text, "");
	free(text);
	text = report(talloc_report, NULL);
	assert_string_equal(text, "");
	free(text);

	talloc_enable_null_tracking();
	a = talloc_named_const(NULL, 4, "tracked");
	text = report(talloc_report_full, NULL);
	assert_string_equal(text,
		"full talloc report on 'null_context' (total      4 bytes in   2 blocks)\n"
		"    tracked                        contains      4 bytes in   1 blocks (ref 0) ADDR\n");
	free(text);
	talloc_free(a);
	talloc_disable_null_tracking();
}

static void test_report_names_and_pointer(void **state)
{
	void *root, *s;
	struct tt_capture cap;
	char expect[256];
	(void)state;

	root = talloc_named_const(NULL, 0, "root");
	s = talloc_strdup(root, "string child");
	talloc_report_full(root, tt_capture_begin(&cap));
	fclose(cap.f);
	/* the pointer printed is the user pointer, with %p */
	snprintf(expect, sizeof(expect),
		"full talloc report on 'root' (total     13 bytes in   2 blocks)\n"
		"    string child                   contains     13 bytes in   1 blocks (ref 0) %p\n", s);
	assert_string_equal(cap.buf, expect);
	free(cap.buf);

	/* names set with talloc_set_name appear as ".name" children */
	talloc_set_name(root, "renamed %d", 1);
	talloc_report_full(root, tt_capture_begin(&cap));
	{
		char *text = tt_capture_end(&cap);
		assert_string_equal(text,
			"full talloc report on 'renamed 1' (total     23 bytes in   3 blocks)\n"
			"    .name                          contains     10 bytes in   1 blocks (ref 0) ADDR\n"
			"    string child                   contains     13 bytes in   1 blocks (ref 0) ADDR\n");
		free(text);
	}
	talloc_free(root);
}

static void test_report_flushes(void **state)
{
	char path[] = "/tmp/tt_report_XXXXXX";
	int fd;
	FILE *f;
	void *root;
	char buf[512];
	ssize_t n;
	(void)state;

	/* the report is flushed: readable through the fd without fclose */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	root = talloc_named_const(NULL, 5, "flushed");
	talloc_report_full(root, f);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "full talloc report on 'flushed' (total      5 bytes in   1 blocks)\n");
	fclose(f);
	unlink(path);
	talloc_free(root);
}

static void test_show_parents(void **state)
{
	struct tree t;
	struct tt_capture cap;
	char *text;
	(void)state;

	build(&t);
	talloc_show_parents(t.deep, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	assert_string_equal(text,
		"talloc parents of 'deep'\n"
		"\t'deep'\n"
		"\t'first.a'\n"
		"\t'first'\n"
		"\t'root'\n");
	free(text);

	talloc_show_parents(t.root, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	assert_string_equal(text, "talloc parents of 'root'\n\t'root'\n");
	free(text);

	talloc_show_parents(NULL, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	assert_string_equal(text, "talloc no parents for NULL\n");
	free(text);
	destroy(&t);
}

static void test_totals(void **state)
{
	struct tree t;
	(void)state;

	build(&t);
	assert_int_equal(talloc_total_size(t.root), 41);
	assert_int_equal(talloc_total_blocks(t.root), 6);
	/* a reference counts as a block of size 0 in its holder */
	assert_int_equal(talloc_total_size(t.holder), 0);
	assert_int_equal(talloc_total_blocks(t.holder), 2);
	assert_int_equal(talloc_total_size(t.first), 18);
	assert_int_equal(talloc_total_blocks(t.first), 3);
	assert_int_equal(talloc_total_size(NULL), 0);
	assert_int_equal(talloc_total_blocks(NULL), 0);
	destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_report_full),
		TT_TEST(test_report_one_level),
		TT_TEST(test_report_depth_file),
		TT_TEST(test_report_depth_cb),
		TT_TEST(test_report_null_context),
		TT_TEST(test_report_names_and_pointer),
		TT_TEST(test_report_flushes),
		TT_TEST(test_show_parents),
		TT_TEST(test_totals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

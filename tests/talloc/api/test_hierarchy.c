/* Hierarchy: parents, children, totals, freeing whole subtrees. */
#include "tt_common.h"

/* Destructor journal: names of destroyed chunks, space separated. */
static char journal[4096];

static void journal_reset(void)
{
	journal[0] = '\0';
}

static int journal_destructor(void *ptr)
{
	if (journal[0] != '\0') {
		strcat(journal, " ");
	}
	strcat(journal, talloc_get_name(ptr));
	return 0;
}

static void *named_with_journal(const void *parent, size_t size, const char *name)
{
	void *p = talloc_named_const(parent, size, name);
	assert_non_null(p);
	talloc_set_destructor(p, journal_destructor);
	return p;
}

static void test_parent_links(void **state)
{
	void *root, *a, *b;
	int *i;
	(void)state;

	root = talloc_new(NULL);
	assert_non_null(root);
	a = talloc_named_const(root, 10, "a");
	b = talloc_named_const(a, 20, "b");
	i = talloc(b, int);
	assert_non_null(i);

	assert_ptr_equal(talloc_parent(a), root);
	assert_ptr_equal(talloc_parent(b), a);
	assert_ptr_equal(talloc_parent(i), b);
	/* null tracking is off by default: a top level chunk has no parent */
	assert_null(talloc_parent(root));

	assert_string_equal(talloc_parent_name(i), "b");
	assert_string_equal(talloc_parent_name(b), "a");
	assert_string_equal(talloc_get_name(i), "int");

	assert_int_equal(talloc_get_size(a), 10);
	assert_int_equal(talloc_get_size(b), 20);
	assert_int_equal(talloc_get_size(i), sizeof(int));
	assert_int_equal(talloc_get_size(root), 0);

	assert_int_equal(talloc_total_blocks(root), 4);
	assert_int_equal(talloc_total_size(root), 10 + 20 + sizeof(int));
	assert_int_equal(talloc_total_blocks(a), 3);
	assert_int_equal(talloc_total_size(a), 10 + 20 + sizeof(int));
	assert_int_equal(talloc_total_blocks(i), 1);
	assert_int_equal(talloc_total_size(i), sizeof(int));

	assert_int_equal(talloc_free(root), 0);
}

static void test_talloc_new_name(void **state)
{
	void *ctx;
	char expect[128];
	int line;
	(void)state;

	line = __LINE__ + 1;
	ctx = talloc_new(NULL);
	snprintf(expect, sizeof(expect), "talloc_new: %s:%d", __FILE__, line);
	assert_string_equal(talloc_get_name(ctx), expect);
	talloc_free(ctx);

	line = __LINE__ + 1;
	ctx = talloc_size(NULL, 7);
	snprintf(expect, sizeof(expect), "%s:%d", __FILE__, line);
	assert_string_equal(talloc_get_name(ctx), expect);
	talloc_free(ctx);
}

static void test_free_subtree_order(void **state)
{
	void *root, *a, *b;
	(void)state;

	journal_reset();
	root = named_with_journal(NULL, 0, "root");
	a = named_with_journal(root, 1, "a");
	b = named_with_journal(root, 2, "b");
	named_with_journal(a, 3, "a1");
	named_with_journal(a, 4, "a2");
	named_with_journal(b, 5, "b1");

	assert_int_equal(talloc_total_blocks(root), 6);
	assert_int_equal(talloc_total_size(root), 15);

	/* destructor of a chunk runs before its children go; the newest
	 * child is freed first */
	assert_int_equal(talloc_free(root), 0);
	assert_string_equal(journal, "root b b1 a a2 a1");
}

static void test_free_middle_keeps_rest(void **state)
{
	void *root, *a, *b;
	(void)state;

	journal_reset();
	root = talloc_named_const(NULL, 0, "root");
	a = named_with_journal(root, 1, "a");
	b = named_with_journal(root, 2, "b");
	named_with_journal(a, 3, "a1");
	named_with_journal(b, 4, "b1");

	assert_int_equal(talloc_free(a), 0);
	assert_string_equal(journal, "a a1");
	assert_int_equal(talloc_total_blocks(root), 3);
	assert_int_equal(talloc_total_size(root), 6);

	journal_reset();
	assert_int_equal(talloc_free(root), 0);
	assert_string_equal(journal, "b b1");
}

static void test_free_children(void **state)
{
	void *root, *keep;
	(void)state;

	journal_reset();
	root = talloc_named_const(NULL, 100, "root");
	named_with_journal(root, 1, "x");
	keep = named_with_journal(root, 2, "y");
	named_with_journal(keep, 3, "y1");

	talloc_free_children(root);
	assert_string_equal(journal, "y y1 x");
	assert_string_equal(talloc_get_name(root), "root");
	assert_int_equal(talloc_get_size(root), 100);
	assert_int_equal(talloc_total_blocks(root), 1);
	assert_int_equal(talloc_total_size(root), 100);

	/* the context stays usable */
	assert_non_null(talloc_strdup(root, "again"));
	assert_int_equal(talloc_total_blocks(root), 2);
	talloc_free(root);

	/* NULL is a no-op */
	talloc_free_children(NULL);
}

static void test_free_children_keeps_name_string(void **state)
{
	void *root;
	(void)state;

	/* talloc_set_name stores the formatted name as a child chunk; freeing
	 * the children must not take the name away. */
	root = talloc_new(NULL);
	talloc_set_name(root, "name-%d", 42);
	talloc_named_const(root, 5, "child");
	assert_int_equal(talloc_total_blocks(root), 3);
	talloc_free_children(root);
	assert_string_equal(talloc_get_name(root), "name-42");
	assert_int_equal(talloc_total_blocks(root), 2);
	talloc_free(root);
}

static int refuse_destructor(void *ptr)
{
	(void)ptr;
	return -1;
}

static void test_refusing_child_moves_to_grandparent(void **state)
{
	void *g, *p, *c, *c2;
	(void)state;

	g = talloc_named_const(NULL, 0, "g");
	p = talloc_named_const(g, 0, "p");
	c = talloc_named_const(p, 1, "c");
	c2 = talloc_named_const(p, 2, "c2");
	(void)c2;
	talloc_set_destructor(c, refuse_destructor);

	/* freeing p succeeds; c refuses and is handed to p's parent */
	assert_int_equal(talloc_free(p), 0);
	assert_ptr_equal(talloc_parent(c), g);
	assert_int_equal(talloc_total_blocks(g), 2);
	assert_int_equal(talloc_total_size(g), 1);

	talloc_set_destructor(c, NULL);
	assert_int_equal(talloc_free(g), 0);
}

static void test_free_children_refusing_child_top_level(void **state)
{
	void *u, *uc;
	(void)state;

	u = talloc_named_const(NULL, 0, "u");
	uc = talloc_named_const(u, 0, "uc");
	talloc_set_destructor(uc, refuse_destructor);
	talloc_free_children(u);
	/* no grandparent: the refusing child ends up at the top level */
	assert_null(talloc_parent(uc));
	assert_int_equal(talloc_total_blocks(u), 1);
	talloc_set_destructor(uc, NULL);
	assert_int_equal(talloc_free(uc), 0);
	assert_int_equal(talloc_free(u), 0);
}

static void test_wide_tree(void **state)
{
	void *root;
	int i;
	(void)state;

	root = talloc_new(NULL);
	for (i = 0; i < 10000; i++) {
		int *p = talloc(root, int);
		assert_non_null(p);
		*p = i;
	}
	assert_int_equal(talloc_total_blocks(root), 10001);
	assert_int_equal(talloc_total_size(root), 10000 * sizeof(int));
	assert_int_equal(talloc_free(root), 0);
}

static void test_moderate_chain(void **state)
{
	/* deep enough to matter, shallow enough for the reference's
	 * recursive implementation */
	void *root, *p;
	int i;
	(void)state;

	journal_reset();
	root = talloc_named_const(NULL, 0, "root");
	p = root;
	for (i = 0; i < 1000; i++) {
		p = talloc_named_const(p, 1, "link");
		assert_non_null(p);
	}
	assert_int_equal(talloc_total_blocks(root), 1001);
	assert_int_equal(talloc_total_size(root), 1000);
	assert_int_equal(talloc_is_parent(p, root), 1);
	assert_ptr_equal(talloc_find_parent_byname(p, "root"), root);
	assert_int_equal(talloc_free(root), 0);
}

static void test_zero_and_array_allocations(void **state)
{
	void *root;
	int *z;
	long *arr;
	unsigned char *bytes;
	(void)state;

	root = talloc_new(NULL);
	z = talloc_zero_array(root, int, 64);
	assert_non_null(z);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(z[i], 0);
	}
	assert_int_equal(talloc_get_size(z), 64 * sizeof(int));
	assert_int_equal(talloc_array_length(z), 64);
	assert_string_equal(talloc_get_name(z), "int");

	arr = talloc_array(root, long, 3);
	assert_non_null(arr);
	assert_int_equal(talloc_array_length(arr), 3);
	assert_string_equal(talloc_get_name(arr), "long");

	bytes = talloc_zero_size(root, 33);
	assert_non_null(bytes);
	for (int i = 0; i < 33; i++) {
		assert_int_equal(bytes[i], 0);
	}

	/* memdup copies and is named after the location */
	{
		const char src[] = "abc\0def";
		char *d = talloc_memdup(root, src, sizeof(src));
		assert_non_null(d);
		assert_memory_equal(d, src, sizeof(src));
		assert_int_equal(talloc_get_size(d), sizeof(src));
	}
	/* zero-size allocations are real chunks */
	{
		void *e = talloc_size(root, 0);
		assert_non_null(e);
		assert_int_equal(talloc_get_size(e), 0);
	}
	assert_int_equal(talloc_total_blocks(root), 6);
	talloc_free(root);
}

static void test_init_and_named(void **state)
{
	void *ctx, *n;
	(void)state;

	ctx = talloc_init("init %s %d", "ctx", 7);
	assert_non_null(ctx);
	assert_string_equal(talloc_get_name(ctx), "init ctx 7");
	assert_int_equal(talloc_get_size(ctx), 0);
	assert_null(talloc_parent(ctx));

	n = talloc_named(ctx, 12, "named-%03d", 5);
	assert_non_null(n);
	assert_string_equal(talloc_get_name(n), "named-005");
	assert_int_equal(talloc_get_size(n), 12);
	assert_ptr_equal(talloc_parent(n), ctx);
	talloc_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_parent_links),
		TT_TEST(test_talloc_new_name),
		TT_TEST(test_free_subtree_order),
		TT_TEST(test_free_middle_keeps_rest),
		TT_TEST(test_free_children),
		TT_TEST(test_free_children_keeps_name_string),
		TT_TEST(test_refusing_child_moves_to_grandparent),
		TT_TEST(test_free_children_refusing_child_top_level),
		TT_TEST(test_wide_tree),
		TT_TEST(test_moderate_chain),
		TT_TEST(test_zero_and_array_allocations),
		TT_TEST(test_init_and_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

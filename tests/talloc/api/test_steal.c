/* talloc_steal, talloc_move, talloc_reparent. */
#include "tt_common.h"

static char journal[1024];

static int journal_destructor(void *ptr)
{
	if (journal[0] != '\0') {
		strcat(journal, " ");
	}
	strcat(journal, talloc_get_name(ptr));
	return 0;
}

static void test_steal_moves_subtree(void **state)
{
	void *a, *b, *p;
	(void)state;

	a = talloc_named_const(NULL, 0, "a");
	b = talloc_named_const(NULL, 0, "b");
	p = talloc_named_const(a, 10, "p");
	talloc_named_const(p, 5, "p1");

	assert_int_equal(talloc_total_blocks(a), 3);
	assert_ptr_equal(talloc_steal(b, p), p);
	assert_ptr_equal(talloc_parent(p), b);
	assert_int_equal(talloc_total_blocks(a), 1);
	assert_int_equal(talloc_total_size(a), 0);
	assert_int_equal(talloc_total_blocks(b), 3);
	assert_int_equal(talloc_total_size(b), 15);

	/* freeing the old parent leaves it alone */
	talloc_free(a);
	assert_string_equal(talloc_get_name(p), "p");
	talloc_free(b);
}

static void test_steal_to_null_and_null_ptr(void **state)
{
	void *a, *p;
	(void)state;

	a = talloc_new(NULL);
	p = talloc_size(a, 4);
	assert_ptr_equal(talloc_steal(NULL, p), p);
	assert_null(talloc_parent(p));
	assert_int_equal(talloc_total_blocks(a), 1);
	assert_null(talloc_steal(a, NULL));
	assert_int_equal(talloc_total_blocks(a), 1);
	talloc_free(a);
	talloc_free(p);
}

static void test_steal_to_same_parent(void **state)
{
	void *a, *p;
	(void)state;

	a = talloc_new(NULL);
	p = talloc_size(a, 4);
	assert_ptr_equal(talloc_steal(a, p), p);
	assert_ptr_equal(talloc_parent(p), a);
	assert_int_equal(talloc_total_blocks(a), 2);
	talloc_free(a);
}

static void test_stolen_child_is_newest(void **state)
{
	void *a, *b, *x, *y, *z;
	(void)state;

	journal[0] = '\0';
	a = talloc_named_const(NULL, 0, "a");
	b = talloc_named_const(NULL, 0, "b");
	x = talloc_named_const(a, 0, "x");
	y = talloc_named_const(a, 0, "y");
	z = talloc_named_const(b, 0, "z");
	talloc_set_destructor(x, journal_destructor);
	talloc_set_destructor(y, journal_destructor);
	talloc_set_destructor(z, journal_destructor);

	/* x joins b after z: it is now b's newest child, freed first */
	talloc_steal(b, x);
	talloc_free(b);
	assert_string_equal(journal, "x z");
	talloc_free(a);
	assert_string_equal(journal, "x z y");
}

static void test_steal_referenced_warns(void **state)
{
	void *a, *b, *r;
	char *p;
	char expect[256];
	int ref_line, steal_line;
	(void)state;

	a = talloc_new(NULL);
	b = talloc_new(NULL);
	r = talloc_new(NULL);
	p = talloc_strdup(a, "p");
	ref_line = __LINE__ + 1;
	talloc_reference(r, p);

	tt_log_reset();
	steal_line = __LINE__ + 1;
	assert_ptr_equal(talloc_steal(b, p), p);
	snprintf(expect, sizeof(expect),
		 "WARNING: talloc_steal with references at %s:%d\n"
		 "\treference at %s:%d\n",
		 __FILE__, steal_line, __FILE__, ref_line);
	assert_string_equal(tt_log_buf, expect);
	/* it was stolen all the same; the reference is untouched */
	assert_ptr_equal(talloc_parent(p), b);
	assert_int_equal(talloc_reference_count(p), 1);

	talloc_free(r);
	talloc_free(a);
	talloc_free(b);
}

static void test_move(void **state)
{
	void *a, *b;
	char *p, *orig;
	(void)state;

	a = talloc_new(NULL);
	b = talloc_new(NULL);
	p = orig = talloc_strdup(a, "moving");
	assert_ptr_equal(talloc_move(b, &p), orig);
	assert_null(p);
	assert_ptr_equal(talloc_parent(orig), b);
	assert_string_equal(orig, "moving");

	/* moving NULL gives NULL */
	p = NULL;
	assert_null(talloc_move(b, &p));
	assert_null(p);

	talloc_free(a);
	talloc_free(b);
}

static void test_reparent(void **state)
{
	void *a, *b, *c, *r;
	char *p;
	(void)state;

	a = talloc_new(NULL);
	b = talloc_new(NULL);
	c = talloc_new(NULL);
	r = talloc_new(NULL);
	p = talloc_strdup(a, "p");

	/* wrong old parent: nothing happens */
	assert_null(talloc_reparent(c, b, p));
	assert_ptr_equal(talloc_parent(p), a);

	assert_ptr_equal(talloc_reparent(a, b, p), p);
	assert_ptr_equal(talloc_parent(p), b);

	/* reparenting a reference moves the reference, not the chunk */
	talloc_reference(r, p);
	assert_int_equal(talloc_total_blocks(r), 2);
	assert_ptr_equal(talloc_reparent(r, c, p), p);
	assert_ptr_equal(talloc_parent(p), b);
	assert_int_equal(talloc_total_blocks(r), 1);
	assert_int_equal(talloc_total_blocks(c), 2);
	assert_int_equal(talloc_reference_count(p), 1);
	/* freeing c drops that reference */
	talloc_free(c);
	assert_int_equal(talloc_reference_count(p), 0);

	assert_null(talloc_reparent(a, b, NULL));

	talloc_free(a);
	talloc_free(b);
	talloc_free(r);
}

static void test_steal_then_free_old_parent_with_destructor(void **state)
{
	void *a, *b, *p;
	(void)state;

	journal[0] = '\0';
	a = talloc_named_const(NULL, 0, "a");
	b = talloc_named_const(NULL, 0, "b");
	p = talloc_named_const(a, 0, "p");
	talloc_set_destructor(a, journal_destructor);
	talloc_set_destructor(p, journal_destructor);
	talloc_steal(b, p);
	talloc_free(a);
	assert_string_equal(journal, "a");
	talloc_free(b);
	assert_string_equal(journal, "a p");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_steal_moves_subtree),
		TT_TEST(test_steal_to_null_and_null_ptr),
		TT_TEST(test_steal_to_same_parent),
		TT_TEST(test_stolen_child_is_newest),
		TT_TEST(test_steal_referenced_warns),
		TT_TEST(test_move),
		TT_TEST(test_reparent),
		TT_TEST(test_steal_then_free_old_parent_with_destructor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

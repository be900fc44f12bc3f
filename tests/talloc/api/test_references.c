/* References: talloc_reference, talloc_unlink, talloc_reference_count. */
#include "tt_common.h"

static int destroyed;

static int count_destructor(void *ptr)
{
	(void)ptr;
	destroyed++;
	return 0;
}

static void test_reference_count(void **state)
{
	void *owner, *r1, *r2, *r3;
	int *p;
	(void)state;

	owner = talloc_new(NULL);
	r1 = talloc_new(NULL);
	r2 = talloc_new(NULL);
	r3 = talloc_new(NULL);
	p = talloc(owner, int);

	assert_int_equal(talloc_reference_count(p), 0);
	assert_ptr_equal(talloc_reference(r1, p), p);
	assert_int_equal(talloc_reference_count(p), 1);
	assert_ptr_equal(talloc_reference(r2, p), p);
	assert_ptr_equal(talloc_reference(r3, p), p);
	assert_int_equal(talloc_reference_count(p), 3);

	/* the parent is still the original owner */
	assert_ptr_equal(talloc_parent(p), owner);

	/* each reference is a small block of the owner, size 0 */
	assert_int_equal(talloc_total_blocks(r1), 2);
	assert_int_equal(talloc_total_size(r1), 0);
	/* the referenced chunk counts only under its real parent */
	assert_int_equal(talloc_total_blocks(owner), 2);
	assert_int_equal(talloc_total_size(owner), sizeof(int));

	/* freeing a reference owner drops its reference */
	assert_int_equal(talloc_free(r2), 0);
	assert_int_equal(talloc_reference_count(p), 2);
	assert_int_equal(talloc_unlink(r1, p), 0);
	assert_int_equal(talloc_reference_count(p), 1);
	assert_int_equal(talloc_total_blocks(r1), 1);

	talloc_free(r1);
	talloc_free(r3);
	assert_int_equal(talloc_reference_count(p), 0);
	talloc_free(owner);
}

static void test_reference_null_arguments(void **state)
{
	void *ctx;
	(void)state;

	ctx = talloc_new(NULL);
	/* referencing NULL is a no-op that returns NULL */
	assert_null(talloc_reference(ctx, NULL));
	assert_int_equal(talloc_total_blocks(ctx), 1);
	/* unlinking NULL fails */
	assert_int_equal(talloc_unlink(ctx, NULL), -1);
	assert_int_equal(talloc_unlink(NULL, NULL), -1);
	talloc_free(ctx);
}

static void test_free_with_references_fails_and_logs(void **state)
{
	void *owner, *r1, *r2;
	char *p;
	char expect[512];
	int ref1_line, ref2_line, free_line;
	(void)state;

	destroyed = 0;
	owner = talloc_new(NULL);
	r1 = talloc_new(NULL);
	r2 = talloc_new(NULL);
	p = talloc_strdup(owner, "shared");
	talloc_set_destructor((void *)p, count_destructor);

	ref1_line = __LINE__ + 1;
	assert_non_null(talloc_reference(r1, p));
	ref2_line = __LINE__ + 1;
	assert_non_null(talloc_reference(r2, p));

	tt_log_reset();
	free_line = __LINE__ + 1;
	assert_int_equal(talloc_free(p), -1);
	/* the newest reference is listed first */
	snprintf(expect, sizeof(expect),
		 "ERROR: talloc_free with references at %s:%d\n"
		 "\treference at %s:%d\n"
		 "\treference at %s:%d\n",
		 __FILE__, free_line, __FILE__, ref2_line, __FILE__, ref1_line);
	assert_string_equal(tt_log_buf, expect);
	assert_int_equal(tt_log_calls, 3);
	assert_int_equal(destroyed, 0);
	assert_string_equal(p, "shared");
	assert_int_equal(talloc_reference_count(p), 2);
	assert_ptr_equal(talloc_parent(p), owner);

	talloc_free(r1);
	talloc_free(r2);
	/* without references a free works again */
	assert_int_equal(talloc_free(p), 0);
	assert_int_equal(destroyed, 1);
	talloc_free(owner);
}

static void test_free_top_level_with_single_reference_moves_it(void **state)
{
	void *r;
	char *p;
	(void)state;

	/* a chunk with no parent and exactly one reference: talloc_free knows
	 * which link to drop, so it succeeds and the chunk lives on under the
	 * reference's owner */
	destroyed = 0;
	r = talloc_named_const(NULL, 0, "r");
	p = talloc_strdup(NULL, "orphan");
	talloc_set_destructor((void *)p, count_destructor);
	assert_non_null(talloc_reference(r, p));

	tt_log_reset();
	assert_int_equal(talloc_free(p), 0);
	assert_int_equal(tt_log_len, 0);
	assert_int_equal(destroyed, 0);
	assert_ptr_equal(talloc_parent(p), r);
	assert_int_equal(talloc_reference_count(p), 0);
	assert_int_equal(talloc_total_blocks(r), 2);

	assert_int_equal(talloc_free(r), 0);
	assert_int_equal(destroyed, 1);
}

static void test_free_top_level_with_two_references_fails(void **state)
{
	void *r1, *r2;
	char *p;
	(void)state;

	r1 = talloc_new(NULL);
	r2 = talloc_new(NULL);
	p = talloc_strdup(NULL, "orphan");
	talloc_reference(r1, p);
	talloc_reference(r2, p);
	tt_log_reset();
	assert_int_equal(talloc_free(p), -1);
	assert_non_null(strstr(tt_log_buf, "ERROR: talloc_free with references at "));
	assert_int_equal(talloc_reference_count(p), 2);
	talloc_free(r1);
	talloc_free(r2);
	assert_int_equal(talloc_free(p), 0);
}

static void test_unlink(void **state)
{
	void *parent, *r, *stranger;
	char *p;
	(void)state;

	destroyed = 0;
	parent = talloc_named_const(NULL, 0, "parent");
	r = talloc_named_const(NULL, 0, "r");
	stranger = talloc_named_const(NULL, 0, "stranger");
	p = talloc_strdup(parent, "p");
	talloc_set_destructor((void *)p, count_destructor);
	talloc_reference(r, p);

	/* neither parent nor reference owner */
	assert_int_equal(talloc_unlink(stranger, p), -1);
	assert_int_equal(talloc_unlink(NULL, p), -1);
	assert_int_equal(talloc_reference_count(p), 1);

	/* unlinking the parent hands the chunk to the reference owner and the
	 * reference becomes the parent link */
	assert_int_equal(talloc_unlink(parent, p), 0);
	assert_int_equal(destroyed, 0);
	assert_ptr_equal(talloc_parent(p), r);
	assert_int_equal(talloc_reference_count(p), 0);
	assert_int_equal(talloc_total_blocks(parent), 1);
	assert_int_equal(talloc_total_blocks(r), 2);

	/* the last link: freed */
	assert_int_equal(talloc_unlink(r, p), 0);
	assert_int_equal(destroyed, 1);
	assert_int_equal(talloc_total_blocks(r), 1);

	talloc_free(parent);
	talloc_free(r);
	talloc_free(stranger);
}

static void test_unlink_reference_owner(void **state)
{
	void *parent, *r;
	char *p;
	(void)state;

	parent = talloc_new(NULL);
	r = talloc_new(NULL);
	p = talloc_strdup(parent, "p");
	talloc_reference(r, p);
	talloc_reference(r, p);
	assert_int_equal(talloc_reference_count(p), 2);
	/* one reference at a time */
	assert_int_equal(talloc_unlink(r, p), 0);
	assert_int_equal(talloc_reference_count(p), 1);
	assert_int_equal(talloc_unlink(r, p), 0);
	assert_int_equal(talloc_reference_count(p), 0);
	assert_int_equal(talloc_unlink(r, p), -1);
	assert_ptr_equal(talloc_parent(p), parent);
	talloc_free(parent);
	talloc_free(r);
}

static void test_free_parent_of_referenced_chunk(void **state)
{
	void *parent, *r1, *r2;
	char *p;
	(void)state;

	destroyed = 0;
	parent = talloc_named_const(NULL, 0, "parent");
	r1 = talloc_named_const(NULL, 0, "r1");
	r2 = talloc_named_const(NULL, 0, "r2");
	p = talloc_strdup(parent, "p");
	talloc_set_destructor((void *)p, count_destructor);
	talloc_reference(r1, p);
	talloc_reference(r2, p);

	/* the chunk survives its parent: it moves to the owner of the newest
	 * reference and that reference becomes the parent link */
	assert_int_equal(talloc_free(parent), 0);
	assert_int_equal(destroyed, 0);
	assert_ptr_equal(talloc_parent(p), r2);
	assert_int_equal(talloc_reference_count(p), 1);
	assert_string_equal(p, "p");

	assert_int_equal(talloc_free(r2), 0);
	assert_int_equal(destroyed, 0);
	assert_ptr_equal(talloc_parent(p), r1);
	assert_int_equal(talloc_reference_count(p), 0);

	assert_int_equal(talloc_free(r1), 0);
	assert_int_equal(destroyed, 1);
}

static void test_reference_from_own_child(void **state)
{
	void *g, *p, *c;
	(void)state;

	/* a reference held by a descendant does not keep the chunk alive when
	 * an ancestor goes */
	destroyed = 0;
	g = talloc_new(NULL);
	p = talloc_named_const(g, 1, "p");
	c = talloc_named_const(p, 1, "c");
	talloc_set_destructor((void *)p, count_destructor);
	talloc_set_destructor(c, count_destructor);
	talloc_reference(c, p);
	assert_int_equal(talloc_reference_count(p), 1);

	assert_int_equal(talloc_free(g), 0);
	assert_int_equal(destroyed, 2);
}

static void test_increase_ref_count(void **state)
{
	void *parent;
	char *p;
	(void)state;

	destroyed = 0;
	parent = talloc_new(NULL);
	p = talloc_strdup(parent, "x");
	talloc_set_destructor((void *)p, count_destructor);
	assert_int_equal(talloc_increase_ref_count(p), 0);
	assert_int_equal(talloc_reference_count(p), 1);

	/* the extra reference is owned by the NULL context */
	assert_int_equal(talloc_free(parent), 0);
	assert_int_equal(destroyed, 0);
	assert_null(talloc_parent(p));
	assert_int_equal(talloc_reference_count(p), 0);
	assert_int_equal(talloc_unlink(NULL, p), 0);
	assert_int_equal(destroyed, 1);

	assert_int_equal(talloc_increase_ref_count(NULL), -1);
}

static void test_reference_handle_name(void **state)
{
	void *parent, *r;
	char *p;
	struct tt_capture cap;
	char *text;
	(void)state;

	parent = talloc_named_const(NULL, 0, "parent");
	r = talloc_named_const(NULL, 0, "holder");
	p = talloc_strdup(parent, "p");
	talloc_set_name_const(p, "payload");
	talloc_reference(r, p);

	talloc_report_full(r, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	assert_string_equal(text,
		"full talloc report on 'holder' (total      0 bytes in   2 blocks)\n"
		"    reference to: payload\n");
	free(text);

	talloc_report_full(parent, tt_capture_begin(&cap));
	text = tt_capture_end(&cap);
	assert_string_equal(text,
		"full talloc report on 'parent' (total      2 bytes in   2 blocks)\n"
		"    payload                        contains      2 bytes in   1 blocks (ref 1) ADDR\n");
	free(text);

	talloc_free(parent);
	talloc_free(r);
}

/* A chunk whose references have all been unlinked is freed like any
 * other: its name, its siblings' links, its destructor and children. */
static void test_free_after_references_unlinked(void **state)
{
	void *parent, *r, *a, *b, *kid;
	char *p;
	(void)state;

	destroyed = 0;
	parent = talloc_named_const(NULL, 0, "parent");
	r = talloc_named_const(NULL, 0, "r");
	a = talloc_named_const(parent, 1, "a");
	p = talloc_strdup(parent, "p");
	talloc_set_name_const(p, "named p");
	b = talloc_named_const(parent, 1, "b");
	assert_ptr_equal(talloc_reference(r, p), p);
	assert_int_equal(talloc_unlink(r, p), 0);
	assert_int_equal(talloc_reference_count(p), 0);
	assert_string_equal(talloc_get_name(p), "named p");
	assert_int_equal(talloc_free(p), 0);
	assert_int_equal(talloc_total_blocks(parent), 3);
	assert_int_equal(talloc_total_blocks(r), 1);
	assert_ptr_equal(talloc_parent(a), parent);
	assert_ptr_equal(talloc_parent(b), parent);

	/* with a destructor */
	p = talloc_strdup(parent, "p");
	talloc_set_destructor((void *)p, count_destructor);
	talloc_reference(r, p);
	assert_int_equal(talloc_unlink(r, p), 0);
	assert_int_equal(talloc_free(p), 0);
	assert_int_equal(destroyed, 1);

	/* with a child */
	p = talloc_strdup(parent, "p");
	kid = talloc_strdup(p, "kid");
	talloc_set_destructor((void *)kid, count_destructor);
	talloc_reference(r, p);
	assert_int_equal(talloc_unlink(r, p), 0);
	assert_int_equal(talloc_free(p), 0);
	assert_int_equal(destroyed, 2);
	assert_int_equal(talloc_total_blocks(parent), 3);

	/* refused while referenced, with no log function set: nothing logged,
	 * nothing freed */
	p = talloc_strdup(parent, "p");
	talloc_reference(r, p);
	talloc_set_log_fn(NULL);
	assert_int_equal(talloc_free(p), -1);
	talloc_set_log_fn(tt_log_fn);
	assert_int_equal(talloc_total_blocks(parent), 4);
	assert_int_equal(talloc_unlink(r, p), 0);
	assert_int_equal(talloc_free(p), 0);

	assert_int_equal(talloc_free(parent), 0);
	assert_int_equal(talloc_free(r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_reference_count),
		TT_TEST(test_reference_null_arguments),
		TT_TEST(test_free_with_references_fails_and_logs),
		TT_TEST(test_free_top_level_with_single_reference_moves_it),
		TT_TEST(test_free_top_level_with_two_references_fails),
		TT_TEST(test_unlink),
		TT_TEST(test_free_after_references_unlinked),
		TT_TEST(test_unlink_reference_owner),
		TT_TEST(test_free_parent_of_referenced_chunk),
		TT_TEST(test_reference_from_own_child),
		TT_TEST(test_increase_ref_count),
		TT_TEST(test_reference_handle_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

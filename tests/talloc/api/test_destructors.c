/* Destructors: refusing frees, freeing other objects, reparenting. */
#include "tt_common.h"

static int calls;
static void *seen_ptr;

static int counting_destructor(void *ptr)
{
	calls++;
	seen_ptr = ptr;
	return 0;
}

static int refusing_destructor(void *ptr)
{
	calls++;
	seen_ptr = ptr;
	return -1;
}

struct obj {
	int value;
};

static int typed_calls;
static int typed_destructor(struct obj *o)
{
	typed_calls++;
	assert_int_equal(o->value, 1234);
	return 0;
}

static void test_destructor_called_once_with_pointer(void **state)
{
	struct obj *o;
	(void)state;

	calls = 0;
	typed_calls = 0;
	o = talloc(NULL, struct obj);
	o->value = 1234;
	talloc_set_destructor(o, typed_destructor);
	assert_int_equal(talloc_free(o), 0);
	assert_int_equal(typed_calls, 1);

	{
		void *p = talloc_size(NULL, 3);
		seen_ptr = NULL;
		talloc_set_destructor(p, counting_destructor);
		assert_int_equal(talloc_free(p), 0);
		assert_int_equal(calls, 1);
		assert_ptr_equal(seen_ptr, p);
	}
}

static void test_refusing_destructor(void **state)
{
	void *p, *child;
	(void)state;

	calls = 0;
	p = talloc_named_const(NULL, 8, "p");
	child = talloc_named_const(p, 4, "child");
	talloc_set_destructor(p, refusing_destructor);

	assert_int_equal(talloc_free(p), -1);
	assert_int_equal(calls, 1);
	/* nothing was freed, the destructor stays in place */
	assert_string_equal(talloc_get_name(p), "p");
	assert_ptr_equal(talloc_parent(child), p);
	assert_int_equal(talloc_total_blocks(p), 2);

	assert_int_equal(talloc_free(p), -1);
	assert_int_equal(calls, 2);

	/* TALLOC_FREE only resets the variable, whatever the result */
	{
		void *alias = p;
		TALLOC_FREE(alias);
		assert_null(alias);
		assert_int_equal(calls, 3);
	}

	talloc_set_destructor(p, NULL);
	assert_int_equal(talloc_free(p), 0);
	assert_int_equal(calls, 3);
}

static void test_refusing_child_of_freed_parent_survives(void **state)
{
	void *top, *mid, *c;
	(void)state;

	calls = 0;
	top = talloc_named_const(NULL, 0, "top");
	mid = talloc_named_const(top, 0, "mid");
	c = talloc_named_const(mid, 16, "c");
	talloc_set_destructor(c, refusing_destructor);

	assert_int_equal(talloc_free(mid), 0);
	assert_int_equal(calls, 1);
	assert_ptr_equal(talloc_parent(c), top);
	assert_string_equal(talloc_get_name(c), "c");

	/* freeing the new parent asks again; still refused, no grandparent:
	 * it becomes a top level chunk */
	assert_int_equal(talloc_free(top), 0);
	assert_int_equal(calls, 2);
	assert_null(talloc_parent(c));

	talloc_set_destructor(c, NULL);
	assert_int_equal(talloc_free(c), 0);
}

/* A destructor that frees another, unrelated object. */
static void *victim;
static int victim_freed;

static int victim_destructor(void *ptr)
{
	(void)ptr;
	victim_freed++;
	return 0;
}

static int free_victim_destructor(void *ptr)
{
	(void)ptr;
	assert_int_equal(talloc_free(victim), 0);
	victim = NULL;
	return 0;
}

static void test_destructor_frees_other_object(void **state)
{
	void *ctx, *killer;
	(void)state;

	victim_freed = 0;
	ctx = talloc_new(NULL);
	victim = talloc_named_const(ctx, 1, "victim");
	talloc_set_destructor(victim, victim_destructor);
	killer = talloc_named_const(ctx, 1, "killer");
	talloc_set_destructor(killer, free_victim_destructor);

	assert_int_equal(talloc_total_blocks(ctx), 3);
	assert_int_equal(talloc_free(killer), 0);
	assert_int_equal(victim_freed, 1);
	assert_null(victim);
	assert_int_equal(talloc_total_blocks(ctx), 1);
	talloc_free(ctx);
}

static void test_destructor_frees_sibling_during_parent_free(void **state)
{
	void *ctx, *killer;
	(void)state;

	/* killer is the newest child, so it is freed first and takes its
	 * older sibling with it while the parent's children are being freed */
	victim_freed = 0;
	ctx = talloc_new(NULL);
	victim = talloc_named_const(ctx, 1, "victim");
	talloc_set_destructor(victim, victim_destructor);
	killer = talloc_named_const(ctx, 1, "killer");
	talloc_set_destructor(killer, free_victim_destructor);

	assert_int_equal(talloc_free(ctx), 0);
	assert_int_equal(victim_freed, 1);
	assert_null(victim);
}

/* A destructor that rescues its children by moving them elsewhere. */
static void *rescue_ctx;

static int reparent_children_destructor(void *ptr)
{
	void *child;
	/* talloc has no child iteration API; the test object keeps them in a
	 * small array */
	void **kids = ptr;
	for (int i = 0; i < 3; i++) {
		child = kids[i];
		assert_non_null(talloc_steal(rescue_ctx, child));
	}
	return 0;
}

static void test_destructor_reparents_children(void **state)
{
	void **kids;
	(void)state;

	rescue_ctx = talloc_named_const(NULL, 0, "rescue");
	kids = talloc_array(NULL, void *, 3);
	for (int i = 0; i < 3; i++) {
		kids[i] = talloc_asprintf(kids, "kid%d", i);
	}
	talloc_named_const(kids, 1, "doomed");
	talloc_set_destructor((void *)kids, reparent_children_destructor);

	assert_int_equal(talloc_total_blocks(kids), 5);
	assert_int_equal(talloc_free(kids), 0);

	assert_int_equal(talloc_total_blocks(rescue_ctx), 4);
	assert_int_equal(talloc_total_size(rescue_ctx), 3 * 5);
	talloc_free(rescue_ctx);
}

static int self_free_result = 99;

static int self_freeing_destructor(void *ptr)
{
	/* freeing the object that is already being freed fails */
	self_free_result = talloc_free(ptr);
	return 0;
}

static void test_destructor_frees_itself(void **state)
{
	void *p;
	(void)state;

	p = talloc_named_const(NULL, 1, "self");
	talloc_set_destructor(p, self_freeing_destructor);
	assert_int_equal(talloc_free(p), 0);
	assert_int_equal(self_free_result, -1);
}

static void *loop_parent;
static int loop_result = 99;

static int free_parent_destructor(void *ptr)
{
	(void)ptr;
	loop_result = talloc_free(loop_parent);
	return 0;
}

static void test_child_destructor_frees_parent_being_freed(void **state)
{
	void *child;
	(void)state;

	loop_parent = talloc_named_const(NULL, 0, "loop parent");
	child = talloc_named_const(loop_parent, 0, "child");
	talloc_set_destructor(child, free_parent_destructor);
	/* the nested free of the parent that is already on its way out is
	 * a harmless no-op reported as success */
	assert_int_equal(talloc_free(loop_parent), 0);
	assert_int_equal(loop_result, 0);
}

static int grandchild_calls;

static int grandchild_destructor(void *ptr)
{
	(void)ptr;
	grandchild_calls++;
	return 0;
}

static int allocating_destructor(void *ptr)
{
	/* children created while being destroyed are freed as well */
	void *late = talloc_named_const(ptr, 5, "late");
	talloc_set_destructor(late, grandchild_destructor);
	return 0;
}

static void test_destructor_allocates_children(void **state)
{
	void *p;
	(void)state;

	grandchild_calls = 0;
	p = talloc_named_const(NULL, 1, "p");
	talloc_set_destructor(p, allocating_destructor);
	assert_int_equal(talloc_free(p), 0);
	assert_int_equal(grandchild_calls, 1);
}

static void test_destructor_replaced(void **state)
{
	void *p;
	(void)state;

	calls = 0;
	p = talloc_size(NULL, 1);
	talloc_set_destructor(p, refusing_destructor);
	talloc_set_destructor(p, counting_destructor);
	assert_int_equal(talloc_free(p), 0);
	assert_int_equal(calls, 1);
}

static void test_destructor_on_free_children(void **state)
{
	void *ctx, *a, *b;
	(void)state;

	calls = 0;
	ctx = talloc_new(NULL);
	a = talloc_size(ctx, 1);
	b = talloc_size(ctx, 1);
	talloc_set_destructor(a, counting_destructor);
	talloc_set_destructor(b, counting_destructor);
	talloc_free_children(ctx);
	assert_int_equal(calls, 2);
	assert_int_equal(talloc_total_blocks(ctx), 1);
	talloc_free(ctx);
}

static void test_destructor_on_unlink_of_last_owner(void **state)
{
	void *owner1, *owner2, *p;
	(void)state;

	calls = 0;
	owner1 = talloc_new(NULL);
	owner2 = talloc_new(NULL);
	p = talloc_size(owner1, 10);
	talloc_set_destructor(p, counting_destructor);
	assert_non_null(talloc_reference(owner2, p));

	/* dropping the parent link leaves the reference: no destructor */
	assert_int_equal(talloc_unlink(owner1, p), 0);
	assert_int_equal(calls, 0);
	assert_ptr_equal(talloc_parent(p), owner2);

	/* the last link goes: now it is freed */
	assert_int_equal(talloc_unlink(owner2, p), 0);
	assert_int_equal(calls, 1);
	talloc_free(owner1);
	talloc_free(owner2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_destructor_called_once_with_pointer),
		TT_TEST(test_refusing_destructor),
		TT_TEST(test_refusing_child_of_freed_parent_survives),
		TT_TEST(test_destructor_frees_other_object),
		TT_TEST(test_destructor_frees_sibling_during_parent_free),
		TT_TEST(test_destructor_reparents_children),
		TT_TEST(test_destructor_frees_itself),
		TT_TEST(test_child_destructor_frees_parent_being_freed),
		TT_TEST(test_destructor_allocates_children),
		TT_TEST(test_destructor_replaced),
		TT_TEST(test_destructor_on_free_children),
		TT_TEST(test_destructor_on_unlink_of_last_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

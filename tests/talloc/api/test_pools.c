/* Pools: talloc_pool, talloc_pooled_object, reuse, realloc, lifetime. */
#include "tt_common.h"

#define POOL_SIZE 1024

static int inside(const void *p, const void *pool, size_t size)
{
	const char *c = p;
	const char *base = pool;
	return c > base && c < base + size;
}

static void test_pool_basics(void **state)
{
	void *pool;
	char *a, *b;
	(void)state;

	pool = talloc_pool(NULL, POOL_SIZE);
	assert_non_null(pool);
	/* the pool itself is an empty, unnamed context from the outside */
	assert_string_equal(talloc_get_name(pool), "UNNAMED");
	assert_int_equal(talloc_get_size(pool), 0);
	assert_int_equal(talloc_total_size(pool), 0);
	assert_int_equal(talloc_total_blocks(pool), 1);

	a = talloc_size(pool, 10);
	b = talloc_strdup(pool, "in the pool");
	assert_non_null(a);
	assert_non_null(b);
	/* both are carved out of the pool's memory, in order */
	assert_true(inside(a, pool, POOL_SIZE));
	assert_true(inside(b, pool, POOL_SIZE));
	assert_true(b > a);
	assert_ptr_equal(talloc_parent(a), pool);
	assert_int_equal(talloc_total_size(pool), 10 + 12);
	assert_int_equal(talloc_total_blocks(pool), 3);
	assert_string_equal(b, "in the pool");

	assert_int_equal(talloc_free(pool), 0);
}

static void test_pool_reuse(void **state)
{
	void *pool;
	char *a, *b, *c, *d;
	(void)state;

	pool = talloc_pool(NULL, POOL_SIZE);
	a = talloc_size(pool, 10);
	/* freeing the only object rewinds the pool */
	talloc_free(a);
	b = talloc_size(pool, 10);
	assert_ptr_equal(b, a);

	/* freeing the newest object gives its space back for the next one */
	c = talloc_size(pool, 30);
	talloc_free(c);
	d = talloc_size(pool, 30);
	assert_ptr_equal(d, c);

	/* once every object is gone the pool starts from the beginning */
	talloc_free(b);
	talloc_free(d);
	a = talloc_size(pool, 50);
	assert_ptr_equal(a, b);
	talloc_free(pool);
}

static void test_pool_overflow_falls_back(void **state)
{
	void *pool;
	char *big, *small;
	(void)state;

	pool = talloc_pool(NULL, POOL_SIZE);
	big = talloc_size(pool, 2 * POOL_SIZE);
	assert_non_null(big);
	assert_false(inside(big, pool, POOL_SIZE));
	memset(big, 0xab, 2 * POOL_SIZE);
	assert_ptr_equal(talloc_parent(big), pool);
	/* the pool still serves small requests */
	small = talloc_size(pool, 16);
	assert_true(inside(small, pool, POOL_SIZE));
	assert_int_equal(talloc_total_size(pool), 2 * POOL_SIZE + 16);
	talloc_free(pool);
}

static void test_pool_exhaustion_many_objects(void **state)
{
	void *pool;
	int in = 0, out = 0;
	(void)state;

	pool = talloc_pool(NULL, POOL_SIZE);
	for (int i = 0; i < 200; i++) {
		int *p = talloc(pool, int);
		assert_non_null(p);
		*p = i;
		if (inside(p, pool, POOL_SIZE)) {
			in++;
		} else {
			out++;
		}
	}
	/* some fit, the rest come from the heap, all are children */
	assert_true(in > 0);
	assert_true(out > 0);
	assert_int_equal(talloc_total_blocks(pool), 201);
	talloc_free(pool);
}

static void test_pool_realloc(void **state)
{
	void *pool;
	char *a, *b, *a2, *b2, *b3, *small;
	(void)state;

	pool = talloc_pool(NULL, POOL_SIZE);
	a = talloc_array(pool, char, 10);
	memcpy(a, "abcdefghi", 10);
	b = talloc_array(pool, char, 20);
	memcpy(b, "0123456789012345678", 20);

	/* the newest object grows in place while the pool has room */
	b2 = talloc_realloc(NULL, b, char, 40);
	assert_ptr_equal(b2, b);
	assert_int_equal(talloc_get_size(b2), 40);
	assert_string_equal(b2, "0123456789012345678");

	/* an older object cannot grow in place: it moves, content kept,
	 * still inside the pool */
	a2 = talloc_realloc(NULL, a, char, 40);
	assert_non_null(a2);
	assert_ptr_not_equal(a2, a);
	assert_true(inside(a2, pool, POOL_SIZE));
	assert_string_equal(a2, "abcdefghi");
	assert_ptr_equal(talloc_parent(a2), pool);

	/* shrinking keeps the place */
	small = talloc_realloc(NULL, a2, char, 5);
	assert_ptr_equal(small, a2);
	assert_int_equal(talloc_get_size(small), 5);
	assert_memory_equal(small, "abcde", 5);

	/* growing past the pool moves it out to the heap */
	b3 = talloc_realloc(NULL, b2, char, 4 * POOL_SIZE);
	assert_non_null(b3);
	assert_false(inside(b3, pool, POOL_SIZE));
	assert_string_equal(b3, "0123456789012345678");
	assert_ptr_equal(talloc_parent(b3), pool);

	assert_int_equal(talloc_total_blocks(pool), 3);
	assert_int_equal(talloc_total_size(pool), 5 + 4 * POOL_SIZE);
	talloc_free(pool);
}

static void test_pool_outlives_free_while_child_stolen(void **state)
{
	void *pool, *other;
	char *keep, *gone;
	(void)state;

	pool = talloc_pool(NULL, 256);
	keep = talloc_strdup(pool, "keep me");
	gone = talloc_strdup(pool, "gone");
	(void)gone;
	other = talloc_named_const(NULL, 0, "other");
	assert_ptr_equal(talloc_steal(other, keep), keep);

	/* the pool goes away for its owner, but its memory must stay valid
	 * as long as the stolen object lives */
	assert_int_equal(talloc_free(pool), 0);
	assert_string_equal(keep, "keep me");
	assert_string_equal(talloc_get_name(keep), "keep me");
	assert_ptr_equal(talloc_parent(keep), other);
	memset(keep, 'z', 7);
	assert_int_equal(talloc_total_blocks(other), 2);
	assert_int_equal(talloc_total_size(other), 8);

	/* the object can still have children, be renamed, be freed */
	assert_non_null(talloc_strdup(keep, "child of keep"));
	talloc_set_name_const(keep, "renamed");
	assert_int_equal(talloc_free(keep), 0);
	talloc_free(other);
}

static int pool_destructor_calls;
static int pool_destructor(void *p)
{
	(void)p;
	pool_destructor_calls++;
	return 0;
}

static void test_pool_destructor_and_children(void **state)
{
	void *pool;
	char *a;
	(void)state;

	pool_destructor_calls = 0;
	pool = talloc_pool(NULL, 256);
	talloc_set_destructor(pool, pool_destructor);
	a = talloc_strdup(pool, "a");
	talloc_set_destructor((void *)a, pool_destructor);
	assert_int_equal(talloc_free(pool), 0);
	assert_int_equal(pool_destructor_calls, 2);
}

static void test_pool_free_children_rewinds(void **state)
{
	void *pool;
	char *a, *b;
	(void)state;

	pool = talloc_pool(NULL, 512);
	a = talloc_size(pool, 100);
	talloc_size(pool, 100);
	talloc_free_children(pool);
	assert_int_equal(talloc_total_blocks(pool), 1);
	b = talloc_size(pool, 100);
	assert_ptr_equal(b, a);
	talloc_free(pool);
}

/* A pooled parent freed with its pooled children, when they are all the
 * pool holds: the whole area is free again and each child is marked freed. */
static void test_pool_family_freed_together(void **state)
{
	void *pool, *parent, *again;
	char *kids[3];
	(void)state;

	pool = talloc_pool(NULL, POOL_SIZE);
	parent = talloc_named_const(pool, 0, "parent");
	kids[0] = talloc_size(parent, 16);
	kids[1] = talloc_size(parent, 32);
	kids[2] = talloc_strdup(parent, "youngest");
	assert_int_equal(talloc_total_blocks(pool), 5);
	assert_int_equal(talloc_free(parent), 0);
	assert_int_equal(talloc_total_blocks(pool), 1);

	/* a freed child's header says so: freeing it again is caught */
	TT_EXPECT_ABORT(talloc_free(kids[1]));
	assert_string_equal(tt_abort_msg, "Bad talloc magic value - access after free");

	/* the next object starts where the parent did */
	again = talloc_size(pool, 100);
	assert_ptr_equal(again, parent);
	assert_int_equal(talloc_free(pool), 0);
}

/* The same family with an older member beside it: only the family's room
 * comes back, and the older member is untouched. */
static void test_pool_family_with_older_member(void **state)
{
	void *pool, *parent, *again;
	char *older;
	(void)state;

	pool = talloc_pool(NULL, POOL_SIZE);
	older = talloc_strdup(pool, "older");
	parent = talloc_named_const(pool, 0, "parent");
	assert_non_null(talloc_size(parent, 16));
	assert_non_null(talloc_size(parent, 24));
	assert_int_equal(talloc_free(parent), 0);
	assert_int_equal(talloc_total_blocks(pool), 2);
	again = talloc_size(pool, 10);
	assert_ptr_equal(again, parent);
	assert_true(again > (void *)older);
	assert_string_equal(older, "older");
	assert_int_equal(talloc_free(pool), 0);
}

/* A family that is more than plain pooled leaves: a destructor, a
 * grandchild and a child too big for the pool are all freed, once. */
static void test_pool_family_mixed_children(void **state)
{
	void *pool, *parent, *a, *b;
	(void)state;

	pool_destructor_calls = 0;
	pool = talloc_pool(NULL, POOL_SIZE);
	parent = talloc_named_const(pool, 0, "parent");
	a = talloc_size(parent, 16);
	b = talloc_size(parent, 16);
	talloc_set_destructor(b, pool_destructor);
	assert_non_null(talloc_size(a, 8));
	assert_false(inside(talloc_size(parent, 2 * POOL_SIZE), pool, POOL_SIZE));
	assert_int_equal(talloc_total_blocks(pool), 6);
	assert_int_equal(talloc_free(parent), 0);
	assert_int_equal(pool_destructor_calls, 1);
	assert_int_equal(talloc_total_blocks(pool), 1);
	assert_ptr_equal(talloc_size(pool, 100), parent);
	assert_int_equal(talloc_free(pool), 0);
}

/* A family that outlives its pool chunk: freeing it releases the block
 * (valgrind's leak check sees whether it was). */
static void test_pool_family_outlives_pool(void **state)
{
	void *pool, *parent, *owner;
	char *kid;
	(void)state;

	pool = talloc_pool(NULL, POOL_SIZE);
	parent = talloc_named_const(pool, 0, "parent");
	kid = talloc_strdup(parent, "kid");
	owner = talloc_new(NULL);
	talloc_steal(owner, parent);
	assert_int_equal(talloc_free(pool), 0);
	assert_string_equal(kid, "kid");
	assert_int_equal(talloc_free(parent), 0);
	assert_int_equal(talloc_total_blocks(owner), 1);
	assert_int_equal(talloc_free(owner), 0);
}

struct record {
	int id;
	char *name;
	char *desc;
};

static void test_pooled_object(void **state)
{
	struct record *r;
	(void)state;

	r = talloc_pooled_object(NULL, struct record, 2, 32);
	assert_non_null(r);
	assert_string_equal(talloc_get_name(r), "struct record");
	assert_int_equal(talloc_get_size(r), sizeof(struct record));
	assert_int_equal(talloc_total_size(r), sizeof(struct record));
	assert_int_equal(talloc_total_blocks(r), 1);

	r->name = talloc_strdup(r, "0123456789");
	r->desc = talloc_strdup(r, "abcdefghijklmnopqrst");
	assert_non_null(r->name);
	assert_non_null(r->desc);
	/* both come out of the memory right behind the object */
	assert_true(r->name > (char *)r);
	assert_true(r->desc > r->name);
	assert_true(r->desc - (char *)r < 1024);
	assert_int_equal(talloc_total_size(r), sizeof(struct record) + 11 + 21);
	assert_int_equal(talloc_total_blocks(r), 3);

	/* more than announced still works */
	assert_non_null(talloc_strdup(r, "extra extra extra extra extra extra"));
	assert_int_equal(talloc_total_blocks(r), 4);

	/* the object's memory is usable and zeroing it is allowed */
	r->id = 7;
	assert_int_equal(talloc_free(r), 0);
}

static void test_pooled_object_stolen_child(void **state)
{
	struct record *r;
	void *other;
	char *s;
	(void)state;

	r = talloc_pooled_object(NULL, struct record, 1, 16);
	s = talloc_strdup(r, "survivor");
	other = talloc_new(NULL);
	talloc_steal(other, s);
	assert_int_equal(talloc_free(r), 0);
	assert_string_equal(s, "survivor");
	assert_int_equal(talloc_free(s), 0);
	talloc_free(other);
}

static void test_pool_child_of_context(void **state)
{
	void *ctx, *pool;
	char *s;
	(void)state;

	ctx = talloc_named_const(NULL, 0, "ctx");
	pool = talloc_pool(ctx, 300);
	assert_ptr_equal(talloc_parent(pool), ctx);
	s = talloc_strdup(pool, "x");
	assert_int_equal(talloc_total_blocks(ctx), 3);
	assert_int_equal(talloc_total_size(ctx), 2);
	talloc_free(ctx);
	(void)s;
}

/* A pool made under pool memory is carved from that pool (upstream's
 * nested pools): it is both a pool and a member of the outer one. */
static void test_nested_pool_carved(void **state)
{
	void *outer, *inner, *first, *again, *a, *big;
	(void)state;

	outer = talloc_pool(NULL, 4096);
	first = talloc_size(outer, 10);
	talloc_free(first);   /* the outer pool is empty again */

	inner = talloc_pool(outer, 1024);
	assert_non_null(inner);
	assert_true(inside(inner, outer, 4096));
	assert_int_equal(talloc_get_size(inner), 0);
	a = talloc_size(inner, 100);
	assert_true(inside(a, inner, 1024));
	assert_ptr_equal(talloc_parent(a), inner);
	/* under a member of the outer pool too */
	assert_true(inside(talloc_pool(a, 200), inner, 1024));
	assert_int_equal(talloc_total_blocks(outer), 4);

	/* more than the outer pool has left: a block of its own */
	big = talloc_pool(outer, 8192);
	assert_non_null(big);
	assert_false(inside(big, outer, 4096));
	assert_non_null(talloc_size(big, 5000));
	talloc_free(big);

	/* the nested pool and its members gone, the outer pool is reset */
	talloc_free(inner);
	again = talloc_size(outer, 10);
	assert_ptr_equal(again, first);
	assert_int_equal(talloc_free(outer), 0);
}

/* A nested pool's block outlives its free while a member lives elsewhere,
 * and keeps the outer pool's block alive; the last member's free gives
 * both back. */
static void test_nested_pool_outlives_free(void **state)
{
	void *outer, *inner;
	char *s;
	(void)state;

	outer = talloc_pool(NULL, 2048);
	inner = talloc_pool(outer, 512);
	s = talloc_strdup(inner, "survivor");
	assert_true(inside(s, inner, 512));
	talloc_steal(NULL, s);
	assert_int_equal(talloc_free(outer), 0);   /* frees inner too */
	assert_string_equal(s, "survivor");
	/* memory checkers see the blocks go here, not leak */
	assert_int_equal(talloc_free(s), 0);
}

/* Pools nested a few thousand deep, held by one member of the innermost:
 * freeing that member gives every level back, one after another. */
static void test_nested_pool_chain(void **state)
{
	enum { DEPTH = 3000 };
	size_t size = DEPTH * 160 + 1024;
	void *top, *p;
	char *s;
	(void)state;

	top = talloc_pool(NULL, size);
	p = top;
	for (int i = 0; i < DEPTH; i++) {
		void *next;
		size -= 144;   /* footprint: align16(96 + 32 + size) */
		next = talloc_pool(p, size);
		assert_non_null(next);
		assert_true(inside(next, p, size + 144));
		p = next;
	}
	s = talloc_strdup(p, "innermost");
	assert_true(inside(s, p, size));
	talloc_steal(NULL, s);
	assert_int_equal(talloc_free(top), 0);
	assert_string_equal(s, "innermost");
	assert_int_equal(talloc_free(s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_pool_basics),
		TT_TEST(test_pool_reuse),
		TT_TEST(test_pool_overflow_falls_back),
		TT_TEST(test_pool_exhaustion_many_objects),
		TT_TEST(test_pool_realloc),
		TT_TEST(test_pool_outlives_free_while_child_stolen),
		TT_TEST(test_pool_destructor_and_children),
		TT_TEST(test_pool_free_children_rewinds),
		TT_TEST(test_pool_family_freed_together),
		TT_TEST(test_pool_family_with_older_member),
		TT_TEST(test_pool_family_mixed_children),
		TT_TEST(test_pool_family_outlives_pool),
		TT_TEST(test_pooled_object),
		TT_TEST(test_pooled_object_stolen_child),
		TT_TEST(test_pool_child_of_context),
		TT_TEST(test_nested_pool_carved),
		TT_TEST(test_nested_pool_outlives_free),
		TT_TEST(test_nested_pool_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

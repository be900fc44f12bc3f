/* Differential transcript: pools and pooled objects — what is observable
 * through the API (reuse of freed space, realloc in place, lifetime of a
 * pool that still has objects stolen away, totals and reports). */
#include "diff_common.h"

struct rec {
	int id;
	char *a, *b;
};

static int in_pool(const void *p, const void *pool, size_t size)
{
	return (const char *)p > (const char *)pool && (const char *)p < (const char *)pool + size;
}

int main(void)
{
	void *pool, *other;
	char *a, *b, *c, *d;
	struct rec *r;

	diff_init();

	say("== basics\n");
	pool = talloc_pool(NULL, 4096);
	say("pool name=%s size=%zu total=%zu blocks=%zu\n", talloc_get_name(pool),
	    talloc_get_size(pool), talloc_total_size(pool), talloc_total_blocks(pool));
	a = talloc_strdup(pool, "first");
	b = talloc_size(pool, 100);
	say("a in pool=%d b in pool=%d b after a=%d\n", in_pool(a, pool, 4096), in_pool(b, pool, 4096), b > a);
	report("pool", pool);

	say("== reuse\n");
	talloc_free(b);
	c = talloc_size(pool, 100);
	say("newest freed space reused: %d\n", c == b);
	talloc_free(c);
	talloc_free(a);
	d = talloc_size(pool, 10);
	say("empty pool rewinds: %d\n", d == a);
	talloc_free(d);

	say("== realloc\n");
	a = talloc_array(pool, char, 10);
	strcpy(a, "abcdefghi");
	b = talloc_array(pool, char, 10);
	strcpy(b, "123456789");
	c = talloc_realloc(NULL, b, char, 200);
	say("grow newest in place: %d content=%s\n", c == b, c);
	b = c;
	c = talloc_realloc(NULL, a, char, 200);
	say("grow older moves: %d in pool=%d content=%s\n", c != a, in_pool(c, pool, 4096), c);
	a = c;
	c = talloc_realloc(NULL, a, char, 5);
	say("shrink in place: %d\n", c == a);
	a = c;
	c = talloc_realloc(NULL, b, char, 10000);
	say("grow beyond pool: in pool=%d content=%s\n", in_pool(c, pool, 4096), c);
	b = c;
	report("pool", pool);

	say("== lifetime\n");
	other = talloc_named_const(NULL, 0, "other");
	d = talloc_strdup(pool, "survivor");
	talloc_set_destructor((void *)d, say_destructor);
	talloc_set_destructor(pool, say_destructor);
	talloc_steal(other, d);
	say("free pool -> %d\n", talloc_free(pool));
	say("survivor: %s name=%s parent=%s\n", d, talloc_get_name(d), talloc_parent_name(d));
	talloc_strdup(d, "child of survivor");
	report("other", other);
	say("free other -> %d\n", talloc_free(other));

	say("== pooled object\n");
	r = talloc_pooled_object(NULL, struct rec, 2, 40);
	say("obj name=%s size=%zu total=%zu blocks=%zu\n", talloc_get_name(r),
	    talloc_get_size(r), talloc_total_size(r), talloc_total_blocks(r));
	r->a = talloc_strdup(r, "0123456789");
	r->b = talloc_asprintf(r, "%s-%d", "rec", 42);
	say("children after object: %d %d\n", r->a > (char *)r, r->b > r->a);
	talloc_strdup(r, "one more than announced");
	report("rec", r);
	talloc_set_destructor((void *)r, say_destructor);
	talloc_set_destructor((void *)r->a, say_destructor);
	say("free rec -> %d\n", talloc_free(r));

	say("== pool in a tree\n");
	other = talloc_named_const(NULL, 0, "tree");
	pool = talloc_pool(other, 512);
	talloc_set_name_const(pool, "named pool");
	for (int i = 0; i < 40; i++) {
		talloc_asprintf(pool, "item %02d", i);
	}
	talloc_report(other, stdout);
	say("blocks=%zu size=%zu\n", talloc_total_blocks(other), talloc_total_size(other));
	talloc_free_children(pool);
	say("after free_children blocks=%zu\n", talloc_total_blocks(other));
	a = talloc_size(pool, 1);
	say("rewound: %d\n", in_pool(a, pool, 512));
	talloc_free(other);
	say("== done\n");
	return 0;
}

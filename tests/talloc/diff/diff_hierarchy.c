/* Differential transcript: hierarchy, destructors, names, references,
 * steal/reparent, reports and show_parents. */
#include "diff_common.h"

static int refuse(void *ptr)
{
	say("refusing: %s\n", talloc_get_name(ptr));
	return -1;
}

static void *victim;
static int free_victim(void *ptr)
{
	say("destructor %s frees victim -> %d\n", talloc_get_name(ptr), talloc_free(victim));
	return 0;
}

static void *named(const void *parent, size_t size, const char *name)
{
	void *p = talloc_named_const(parent, size, name);
	talloc_set_destructor(p, say_destructor);
	return p;
}

static void section_tree(void)
{
	void *root, *a, *b, *a1, *a2, *b1;

	say("== tree\n");
	root = named(NULL, 0, "root");
	a = named(root, 10, "a");
	b = named(root, 20, "b");
	a1 = named(a, 1, "a1");
	a2 = named(a, 2, "a2");
	b1 = named(b, 3, "b1");
	(void)a1;
	totals("root", root);
	totals("a", a);
	report("root", root);
	talloc_report(root, stdout);
	talloc_report_depth_file(root, 1, 2, stdout);
	talloc_show_parents(b1, stdout);
	say("parent(a2)=%s parent_name(b1)=%s\n", talloc_get_name(talloc_parent(a2)), talloc_parent_name(b1));
	say("is_parent(b1, root)=%d is_parent(root, b1)=%d\n", talloc_is_parent(b1, root), talloc_is_parent(root, b1));
	say("find_parent_byname(a2, root)=%d\n", talloc_find_parent_byname(a2, "root") == root);
	say("free a -> %d\n", talloc_free(a));
	totals("root", root);
	talloc_free_children(root);
	totals("root after free_children", root);
	say("free root -> %d\n", talloc_free(root));
}

static void section_destructors(void)
{
	void *g, *p, *c, *t;

	say("== destructors\n");
	g = named(NULL, 0, "g");
	p = named(g, 0, "p");
	c = talloc_named_const(p, 4, "c");
	talloc_set_destructor(c, refuse);
	named(p, 5, "c2");
	say("free p -> %d\n", talloc_free(p));
	say("c now under %s\n", talloc_parent_name(c));
	report("g", g);
	talloc_set_destructor(c, say_destructor);

	victim = named(g, 1, "victim");
	t = talloc_named_const(g, 1, "killer");
	talloc_set_destructor(t, free_victim);
	say("free killer -> %d\n", talloc_free(t));
	report("g", g);

	t = talloc_named_const(NULL, 0, "stubborn");
	named(t, 0, "stubborn child");
	talloc_set_destructor(t, refuse);
	say("free stubborn -> %d\n", talloc_free(t));
	talloc_set_destructor(t, NULL);
	say("free stubborn -> %d\n", talloc_free(t));
	say("free g -> %d\n", talloc_free(g));
}

static void section_names(void)
{
	void *ctx, *p;
	const char *n;

	say("== names\n");
	ctx = talloc_init("init %d", 1);
	say("init name: %s\n", talloc_get_name(ctx));
	p = talloc_named(ctx, 3, "named %s %03d", "x", 7);
	say("named: %s size=%zu\n", talloc_get_name(p), talloc_get_size(p));
	n = talloc_set_name(p, "set %d", 2);
	say("set_name returned %s, name now %s\n", n, talloc_get_name(p));
	talloc_set_name(p, "set %d", 3);
	talloc_set_name_const(ctx, "const name");
	p = talloc_named_const(ctx, 0, NULL);
	say("unnamed: %s\n", talloc_get_name(p));
	say("check_name ok=%d bad=%d\n", talloc_check_name(ctx, "const name") == ctx,
	    talloc_check_name(ctx, "other") == ctx);
	p = talloc(ctx, int);
	say("type name: %s\n", talloc_get_name(p));
	report("names", ctx);
	talloc_free(ctx);
}

static void section_references(void)
{
	void *parent, *r1, *r2, *p, *top;
	int rc;

	say("== references\n");
	parent = named(NULL, 0, "parent");
	r1 = named(NULL, 0, "r1");
	r2 = named(NULL, 0, "r2");
	p = named(parent, 8, "shared");
	_talloc_reference_loc(r1, p, "ref-one");
	_talloc_reference_loc(r2, p, "ref-two");
	say("refcount=%zu\n", talloc_reference_count(p));
	report("parent", parent);
	report("r1", r1);
	say("free shared -> %d\n", _talloc_free(p, "free-site"));
	say("steal -> %d\n", _talloc_steal_loc(r1, p, "steal-site") == p);
	say("unlink(stranger) -> %d\n", talloc_unlink(parent, p));
	say("unlink(r1) -> %d\n", talloc_unlink(r1, p));
	report("r1", r1);
	say("refcount=%zu parent=%s\n", talloc_reference_count(p), talloc_parent_name(p));
	say("free r2 -> %d\n", talloc_free(r2));
	say("refcount=%zu parent=%s\n", talloc_reference_count(p), talloc_parent_name(p));
	say("free r1 -> %d\n", talloc_free(r1));
	say("free parent -> %d\n", talloc_free(parent));

	/* top level with a single reference */
	top = named(NULL, 1, "top");
	r1 = named(NULL, 0, "holder");
	talloc_reference(r1, top);
	rc = talloc_free(top);
	say("free top -> %d, parent now %s\n", rc, talloc_parent_name(top));
	say("free holder -> %d\n", talloc_free(r1));

	/* increase_ref_count and unlink from NULL */
	p = named(NULL, 2, "counted");
	rc = talloc_increase_ref_count(p);
	say("increase -> %d refcount=%zu\n", rc, talloc_reference_count(p));
	rc = talloc_unlink(NULL, p);
	say("unlink(NULL) -> %d refcount=%zu\n", rc, talloc_reference_count(p));
	rc = talloc_unlink(NULL, p);
	say("unlink(NULL) -> %d\n", rc);
}

static void section_steal(void)
{
	void *a, *b, *p, *r;
	char *s;

	say("== steal\n");
	a = named(NULL, 0, "A");
	b = named(NULL, 0, "B");
	p = named(a, 3, "p");
	named(p, 4, "p1");
	named(b, 5, "b-old");
	talloc_steal(b, p);
	report("B", b);
	totals("A", a);
	r = named(NULL, 0, "R");
	talloc_reference(r, p);
	say("reparent(wrong) -> %d\n", talloc_reparent(a, r, p) == p);
	say("reparent(B->A) -> %d\n", talloc_reparent(b, a, p) == p);
	say("reparent(R->B) -> %d\n", talloc_reparent(r, b, p) == p);
	report("A", a);
	report("B", b);
	report("R", r);
	s = talloc_strdup(a, "moved");
	{
		char *moved = talloc_move(b, &s);
		say("move -> %s, var now %s\n", moved, s == NULL ? "NULL" : "set");
	}
	report("B", b);
	talloc_free(r);
	talloc_free(a);
	talloc_free(b);
}

int main(void)
{
	diff_init();
	section_tree();
	section_destructors();
	section_names();
	section_references();
	section_steal();
	say("== done\n");
	return 0;
}

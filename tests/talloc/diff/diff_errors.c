/* Differential transcript: log and abort messages for misuse the reference
 * handles deterministically. */
#include "diff_common.h"

struct foo {
	int x;
};
struct bar {
	int y;
};

static unsigned char region[1024];

int main(void)
{
	void *pool, *ctx, *r1, *r2, *v;
	char *p;
	struct foo *f;

	diff_init();

	say("== type checks\n");
	f = talloc(NULL, struct foo);
	v = f;
	CATCH_ABORT((void)talloc_get_type_abort(v, struct bar));
	CATCH_ABORT((void)_talloc_get_type_abort(v, "struct foo", "here:1"));
	v = NULL;
	CATCH_ABORT((void)_talloc_get_type_abort(v, "struct foo", "here:2"));
	talloc_set_name(f, "renamed %d", 9);
	v = f;
	CATCH_ABORT((void)_talloc_get_type_abort(v, "struct foo", "here:3"));
	say("get_type ok=%d\n", talloc_get_type(f, struct foo) != NULL);
	talloc_free(f);

	say("== use after free in a pool\n");
	pool = talloc_pool(NULL, 2048);
	talloc_strdup(pool, "keeps the pool alive");
	p = talloc_strdup(pool, "doomed");
	say("free -> %d\n", _talloc_free(p, "first-free"));
	CATCH_ABORT((void)talloc_get_name(p));
	CATCH_ABORT((void)_talloc_free(p, "second-free"));
	CATCH_ABORT((void)talloc_steal(NULL, p));
	CATCH_ABORT((void)talloc_named_const(p, 1, "child"));
	CATCH_ABORT((void)talloc_realloc_size(NULL, p, 10));
	CATCH_ABORT((void)talloc_set_name_const(p, "x"));
	CATCH_ABORT((void)talloc_parent(p));
	talloc_free(pool);

	say("== not a talloc pointer\n");
	memset(region, 0, sizeof(region));
	v = region + 512;
	CATCH_ABORT((void)talloc_get_name(v));
	CATCH_ABORT((void)talloc_free(v));
	CATCH_ABORT((void)talloc_get_size(v));
	CATCH_ABORT((void)talloc_strdup(v, "x"));
	memset(region, 0xa5, sizeof(region));
	CATCH_ABORT((void)talloc_steal(NULL, v));

	say("== references\n");
	ctx = talloc_named_const(NULL, 0, "ctx");
	r1 = talloc_named_const(NULL, 0, "r1");
	r2 = talloc_named_const(NULL, 0, "r2");
	p = talloc_strdup(ctx, "shared");
	_talloc_reference_loc(r1, p, "ref-a");
	_talloc_reference_loc(r2, p, "ref-b");
	_talloc_reference_loc(r2, p, "ref-c");
	say("free -> %d\n", _talloc_free(p, "free-x"));
	say("steal -> %s\n", _talloc_steal_loc(r1, p, "steal-y") == p ? "stolen" : "NULL");
	say("realloc -> %s\n", talloc_realloc(NULL, p, char, 100) ? "ok" : "NULL");
	say("free r2 -> %d\n", talloc_free(r2));
	say("free -> %d\n", _talloc_free(p, "free-z"));
	say("free r1 -> %d\n", talloc_free(r1));
	say("free ctx -> %d\n", talloc_free(ctx));

	say("== log switched off\n");
	talloc_set_log_fn(NULL);
	ctx = talloc_named_const(NULL, 0, "ctx");
	r1 = talloc_named_const(NULL, 0, "r1");
	p = talloc_strdup(ctx, "shared");
	talloc_reference(r1, p);
	say("free -> %d (nothing logged)\n", talloc_free(p));
	CATCH_ABORT((void)talloc_get_type_abort(ctx, struct foo));
	talloc_free(r1);
	talloc_free(ctx);
	say("== done\n");
	return 0;
}

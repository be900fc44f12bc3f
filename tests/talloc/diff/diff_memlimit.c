/* Differential transcript: memory limits — fit counts, nesting, realloc,
 * strings, pools, steal between limited contexts, report lines. */
#include "diff_common.h"

static size_t fill(void *ctx, size_t n)
{
	size_t k = 0;
	while (talloc_size(ctx, n) != NULL) {
		k++;
	}
	return k;
}

static void section_counts(void)
{
	static const size_t limits[] = {1, 96, 97, 200, 500, 1000, 1234, 4096, 65536};
	static const size_t sizes[] = {0, 1, 7, 8, 9, 16, 100, 1000, 5000};

	say("== counts\n");
	for (size_t li = 0; li < sizeof(limits) / sizeof(limits[0]); li++) {
		for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			void *ctx = talloc_named_const(NULL, 0, "lim");
			int rc = talloc_set_memlimit(ctx, limits[li]);
			size_t k;
			errno = 0;
			k = fill(ctx, sizes[si]);
			say("limit %zu size %zu: set=%d fit=%zu errno=%s\n", limits[li], sizes[si], rc, k,
			    errno == ENOMEM ? "ENOMEM" : "other");
			talloc_free(ctx);
		}
	}
	for (size_t own = 0; own < 300; own += 37) {
		void *ctx = talloc_named_const(NULL, own, "own");
		talloc_set_memlimit(ctx, 1000);
		say("own %zu: fit(10)=%zu\n", own, fill(ctx, 10));
		talloc_report_depth_file(ctx, 0, 0, stdout);
		talloc_free(ctx);
	}
}

static void section_nested(void)
{
	void *outer, *inner, *mid;

	say("== nested\n");
	outer = talloc_named_const(NULL, 0, "outer");
	talloc_set_memlimit(outer, 3000);
	mid = talloc_named_const(outer, 0, "mid");
	inner = talloc_named_const(mid, 0, "inner");
	talloc_set_memlimit(inner, 700);
	say("inner fit(10)=%zu\n", fill(inner, 10));
	say("mid fit(50)=%zu\n", fill(mid, 50));
	say("outer fit(1)=%zu\n", fill(outer, 1));
	talloc_report_full(outer, stdout);
	talloc_free(inner);
	talloc_report_depth_file(outer, 0, 1, stdout);
	say("outer fit(0)=%zu\n", fill(outer, 0));
	talloc_set_memlimit(outer, 100000);
	talloc_report_depth_file(outer, 0, 0, stdout);
	talloc_free(outer);

	outer = talloc_named_const(NULL, 0, "tight outer");
	talloc_set_memlimit(outer, 600);
	inner = talloc_named_const(outer, 0, "loose inner");
	talloc_set_memlimit(inner, 5000);
	say("loose inner fit(10)=%zu\n", fill(inner, 10));
	talloc_report_full(outer, stdout);
	talloc_free(outer);
}

static void section_realloc_and_strings(void)
{
	void *ctx;
	char *p, *q, *s;

	say("== realloc and strings\n");
	ctx = talloc_named_const(NULL, 0, "r");
	talloc_set_memlimit(ctx, 1000);
	p = talloc_size(ctx, 100);
	for (size_t n = 700; n <= 820; n += 4) {
		q = talloc_realloc_size(ctx, p, n);
		say("realloc %zu -> %s\n", n, q ? "ok" : "NULL");
		if (q != NULL) {
			p = q;
		}
	}
	talloc_report_depth_file(ctx, 0, 0, stdout);
	p = talloc_realloc_size(ctx, p, 3);
	talloc_report_depth_file(ctx, 0, 0, stdout);
	s = talloc_strdup(ctx, "x");
	for (int i = 0; i < 200 && s != NULL; i++) {
		s = talloc_asprintf_append(s, "%d", i % 10);
	}
	say("appended until %s\n", s ? "the end" : "failure");
	talloc_report_depth_file(ctx, 0, 0, stdout);
	talloc_free(ctx);
}

/*
 * Only what both implementations count alike.  The reference's books drift
 * when a pool under a limit is freed (the pool's bytes stay charged) and when
 * chunks are stolen out of a limited context (the old limit is not
 * credited, a stolen memlimit context loses its limit); ours keeps them
 * exact, which tests/talloc/test_memlimit.c asserts for each side.
 */
static void section_pools(void)
{
	void *ctx, *pool, *c;

	say("== pools under limits\n");
	ctx = talloc_named_const(NULL, 0, "pl");
	talloc_set_memlimit(ctx, 5000);
	pool = talloc_pool(ctx, 1000);
	say("pool %s\n", pool ? "ok" : "NULL");
	talloc_report_full(ctx, stdout);
	c = talloc_size(pool, 10);
	talloc_report_depth_file(ctx, 0, 0, stdout);
	talloc_free(c);
	talloc_report_depth_file(ctx, 0, 0, stdout);
	say("big pool %s\n", talloc_pool(ctx, 4000) ? "ok" : "NULL");
	say("small pool %s\n", talloc_pool(ctx, 100) ? "ok" : "NULL");
	talloc_report_depth_file(ctx, 0, 0, stdout);
	talloc_free(ctx);
}

static void section_steal(void)
{
	void *a, *c, *x;

	say("== steal into a limited context\n");
	a = talloc_named_const(NULL, 0, "A");
	c = talloc_named_const(NULL, 0, "C");
	talloc_set_memlimit(a, 2000);
	x = talloc_size(c, 300);
	talloc_named_const(x, 50, "x child");
	talloc_steal(a, x);
	talloc_report_full(a, stdout);
	say("A fit(100)=%zu\n", fill(a, 100));
	talloc_free_children(a);
	talloc_report_depth_file(a, 0, 0, stdout);
	say("A fit(100)=%zu\n", fill(a, 100));
	talloc_free(a);
	talloc_free(c);
}

int main(void)
{
	diff_init();
	section_counts();
	section_nested();
	section_realloc_and_strings();
	section_pools();
	section_steal();
	say("== done\n");
	return 0;
}

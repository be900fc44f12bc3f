/*
 * Differential transcript: random scenarios under memory limits.
 *
 * usage: diff_memlimit_random SEED EPOCHS
 *
 * Each epoch builds a small hierarchy of contexts, pools and pooled objects,
 * some of them owning limits (nested, tight and loose), then runs random
 * allocations, reallocs, frees, steals, free_children and limit changes on
 * it.  Every operation prints whether it succeeded and, after it, the
 * cur_size of every live limit (read back from its report line), so the two
 * libraries are compared allocation by allocation.
 *
 * The reference's books drift in a few places (a freed pool stays charged, a
 * chunk stolen out of a limited context is not credited to the nearest
 * limit).  Ours gives that charge back, which is the one divergence allowed:
 * an operation that may make the reference drift prints a "drift:" line
 * first, and run_diff.py --memlimit-epochs then accepts, from that point of
 * the epoch on, ours succeeding where the reference fails and ours counting
 * less (never more) than the reference; the rest of the epoch is not
 * compared after the first such difference.  Everything else must be
 * identical.
 */
#include "diff_common.h"

#define MAX_OBJS 48

enum kind { K_NODE, K_POOL, K_CHUNK };

struct obj {
	void *p;
	int parent;    /* index, -1 = top level */
	enum kind kind;
	int alive;
	int limited;   /* owns a limit */
	int in_pool;   /* somewhere below a pool (its memory may come from it) */
};

static struct obj objs[MAX_OBJS];
static int nobjs;
static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: the same sequence on both runs */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

static size_t rnd_size(void)
{
	switch (rnd(6)) {
	case 0: return rnd(17);             /* slab cells on ours */
	case 1: return rnd(129);
	case 2: return 100 + rnd(900);
	case 3: return 1000 + rnd(3000);
	case 4: return 4000 + rnd(12000);   /* larger than most pools */
	default: return rnd(64) * 16;
	}
}

static int is_below(int i, int anc)
{
	/* the depth is bounded by MAX_OBJS */
	for (int d = 0; i >= 0 && d <= MAX_OBJS; d++, i = objs[i].parent) {
		if (i == anc) {
			return 1;
		}
	}
	return 0;
}

static int below_limit(int i)
{
	for (int d = 0; i >= 0 && d <= MAX_OBJS; d++, i = objs[i].parent) {
		if (objs[i].limited) {
			return 1;
		}
	}
	return 0;
}

static int below_pool(int i)
{
	for (int d = 0; i >= 0 && d <= MAX_OBJS; d++, i = objs[i].parent) {
		if (objs[i].kind == K_POOL || objs[i].in_pool) {
			return 1;
		}
	}
	return 0;
}

static int subtree_has_pool(int root)
{
	for (int i = 0; i < nobjs; i++) {
		if (objs[i].alive && (objs[i].kind == K_POOL || objs[i].in_pool) && is_below(i, root)) {
			return 1;
		}
	}
	return 0;
}

static int subtree_has_limit(int root)
{
	for (int i = 0; i < nobjs; i++) {
		if (objs[i].alive && objs[i].limited && is_below(i, root)) {
			return 1;
		}
	}
	return 0;
}

/* Forget root's subtree (root too when with_root). */
static void forget(int root, int with_root)
{
	for (int i = 0; i < nobjs; i++) {
		if (objs[i].alive && is_below(i, root) && (with_root || i != root)) {
			objs[i].alive = -1;
		}
	}
	for (int i = 0; i < nobjs; i++) {
		if (objs[i].alive == -1) {
			objs[i].alive = 0;
		}
	}
}

static int pick(int want_kind)
{
	int live[MAX_OBJS], n = 0;
	for (int i = 0; i < nobjs; i++) {
		if (objs[i].alive && (want_kind < 0 || objs[i].kind == (enum kind)want_kind)) {
			live[n++] = i;
		}
	}
	return n == 0 ? -1 : live[rnd((uint32_t)n)];
}

static int add(void *p, int parent, enum kind kind)
{
	int i;
	/* slot 0 stays the epoch's root, even once freed */
	for (i = nobjs == 0 ? 0 : 1; i < nobjs; i++) {
		if (!objs[i].alive) {
			break;
		}
	}
	if (i == nobjs) {
		if (nobjs == MAX_OBJS) {
			return -1;
		}
		nobjs++;
	}
	objs[i].p = p;
	objs[i].parent = parent;
	objs[i].kind = kind;
	objs[i].alive = 1;
	objs[i].limited = 0;
	objs[i].in_pool = parent >= 0 && below_pool(parent);
	return i;
}

static void *ctx_of(int i)
{
	return i < 0 ? NULL : objs[i].p;
}

/* cur_size of every live limit, in index order */
static void limits_line(void)
{
	say("  limits:");
	for (int i = 0; i < nobjs; i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f;
		const char *m;
		long max = -1, cur = -1;
		if (!objs[i].alive || !objs[i].limited) {
			continue;
		}
		f = open_memstream(&buf, &len);
		talloc_report_depth_file(objs[i].p, 0, 0, f);
		fclose(f);
		m = strstr(buf, "memlimit context (max_size = ");
		if (m != NULL) {
			sscanf(m, "memlimit context (max_size = %ld bytes, cur_size = %ld bytes)", &max, &cur);
		}
		say(" n%d=%ld/%ld", i, cur, max);
		free(buf);
	}
	say("\n");
}

static void drift(const char *why)
{
	say("drift: %s\n", why);
}

static void op_alloc(int k)
{
	int parent = pick(-1);
	size_t size = rnd_size();
	void *p;
	int what = (int)rnd(8);
	const char *how;

	errno = 0;
	if (what == 0) {
		p = talloc_zero_size(ctx_of(parent), size);
		how = "zero";
	} else if (what == 1) {
		p = talloc_array_size(ctx_of(parent), 8, size / 8 + 1);
		how = "array";
	} else if (what == 2) {
		char text[64];
		snprintf(text, sizeof(text), "%0*d", (int)(size % 60), 7);
		p = talloc_strdup(ctx_of(parent), text);
		how = "strdup";
	} else {
		p = talloc_size(ctx_of(parent), size);
		how = "size";
	}
	say("%d: alloc %s n%d %zu -> %s%s\n", k, how, parent, size, p ? "ok" : "NULL",
	    p == NULL && errno == ENOMEM ? " ENOMEM" : "");
	if (p != NULL && add(p, parent, K_CHUNK) < 0) {
		talloc_free(p);
	}
}

static void op_node(int k)
{
	int parent = rnd(4) == 0 ? -1 : pick(-1);
	void *p = talloc_named_const(ctx_of(parent), rnd(3) == 0 ? rnd_size() : 0, "node");
	int i;
	say("%d: node under n%d -> %s\n", k, parent, p ? "ok" : "NULL");
	if (p == NULL) {
		return;
	}
	i = add(p, parent, K_NODE);
	if (i < 0) {
		talloc_free(p);
		return;
	}
	if (rnd(2) == 0 && !objs[i].in_pool) {   /* see op_relimit() */
		size_t max = 200 + rnd(20000);
		int rc = talloc_set_memlimit(p, max);
		say("%d: limit n%d %zu -> %d\n", k, i, max, rc);
		objs[i].limited = rc == 0;
	}
}

static void op_pool(int k)
{
	int parent = rnd(3) == 0 ? -1 : pick(-1);
	/* under pool memory, pools small enough to be carved from that pool
	 * (both libraries do, free of charge) and some too large for it */
	int nested = parent >= 0 && below_pool(parent);
	size_t size = nested && rnd(4) != 0 ? rnd(3000) : 200 + rnd(12000);
	void *p;
	int i;
	errno = 0;
	if (rnd(3) == 0) {
		unsigned n = rnd(5);
		p = _talloc_pooled_object(ctx_of(parent), 24 + rnd(200), "pooled", n, n * (size_t)(16 + rnd(300)));
		say("%d: pooled object under n%d%s -> %s%s\n", k, parent, nested ? " (pool memory)" : "",
		    p ? "ok" : "NULL", p == NULL && errno == ENOMEM ? " ENOMEM" : "");
	} else {
		p = talloc_pool(ctx_of(parent), size);
		say("%d: pool under n%d%s %zu -> %s%s\n", k, parent, nested ? " (pool memory)" : "", size,
		    p ? "ok" : "NULL", p == NULL && errno == ENOMEM ? " ENOMEM" : "");
	}
	if (p == NULL) {
		return;
	}
	i = add(p, parent, K_POOL);
	if (i < 0) {
		talloc_free(p);
		return;
	}
	/* no limit on memory carved from a pool: see op_relimit() */
	if (rnd(3) == 0 && !objs[i].in_pool) {
		size_t max = 100 + rnd(16000);
		int rc = talloc_set_memlimit(p, max);
		say("%d: limit n%d %zu -> %d\n", k, i, max, rc);
		objs[i].limited = rc == 0;
	}
}

static void op_realloc(int k)
{
	int i = pick(K_CHUNK);
	size_t size;
	void *q;
	/* the reference's limit owner forgets its limit when realloc moves it */
	if (i < 0 || objs[i].limited) {
		return;
	}
	size = rnd(4) == 0 ? rnd(64) : rnd_size();
	if (size == 0) {
		size = 1;   /* realloc to 0 is a free: op_free covers it */
	}
	errno = 0;
	q = talloc_realloc_size(ctx_of(objs[i].parent), objs[i].p, size);
	say("%d: realloc n%d %zu -> %s%s\n", k, i, size, q ? "ok" : "NULL",
	    q == NULL && errno == ENOMEM ? " ENOMEM" : "");
	if (q != NULL) {
		objs[i].p = q;
	}
}

static void op_free(int k)
{
	int i = pick(rnd(4) == 0 ? -1 : K_CHUNK);
	int rc;
	if (i < 0) {
		return;
	}
	if (subtree_has_pool(i) && (below_limit(i) || subtree_has_limit(i))) {
		drift("free of pool memory under a limit");
	}
	rc = talloc_free(objs[i].p);
	say("%d: free n%d -> %d\n", k, i, rc);
	if (rc == 0) {
		forget(i, 1);
	}
}

static void op_free_children(int k)
{
	int i = pick(-1);
	if (i < 0) {
		return;
	}
	if (subtree_has_pool(i) && (below_limit(i) || subtree_has_limit(i))) {
		drift("free_children of pool memory under a limit");
	}
	talloc_free_children(objs[i].p);
	say("%d: free_children n%d\n", k, i);
	forget(i, 0);
}

static int has_children(int i)
{
	for (int c = 0; c < nobjs; c++) {
		if (objs[c].alive && objs[c].parent == i) {
			return 1;
		}
	}
	return 0;
}

/*
 * Only steals the reference survives: its steal gives a stolen limit owner's
 * chunks to the new parent's limit (the owner keeps a limit nobody points
 * at), and a subtree stolen from under a limit leaves its descendants
 * pointing at the old limit, whose chain it then links to the new one (to
 * itself when both are the same, and the next charge loops for ever).  So a
 * steal takes either a leaf that owns no limit, or a subtree with no limit
 * in or above it.
 */
static void op_steal(int k)
{
	int i = pick(-1), to = rnd(5) == 0 ? -1 : pick(-1);
	if (i < 0 || (to >= 0 && is_below(to, i))) {
		return;   /* no loops */
	}
	if (subtree_has_limit(i) || (has_children(i) && below_limit(i))) {
		return;
	}
	/* the reference credits the limits above a chunk stolen to the parent
	 * it already has, without charging them again */
	if (to == objs[i].parent) {
		return;
	}
	if (below_limit(i) || subtree_has_limit(i) || (to >= 0 && below_limit(to))) {
		drift("steal across limits");
	}
	say("%d: steal n%d%s to n%d\n", k, i, has_children(i) ? " (with children)" : "", to);
	say("%d: steal -> %s\n", k, talloc_steal(ctx_of(to), objs[i].p) ? "ok" : "NULL");
	objs[i].parent = to;
	/* a pool member stays in its pool wherever it goes */
}

static void op_relimit(int k)
{
	int i = pick(-1);
	size_t max;
	int rc;
	/* a new limit over existing descendants rewires the reference's limit
	 * chains in ways its later steals and frees do not survive; changing
	 * the maximum of an existing limit is fine */
	if (i < 0 || (!objs[i].limited && has_children(i))) {
		return;
	}
	/* nor does it survive a limit on memory carved from a pool */
	if (objs[i].in_pool) {
		return;
	}
	max = rnd(8) == 0 ? 0 : 100 + rnd(30000);
	rc = talloc_set_memlimit(objs[i].p, max);
	say("%d: limit n%d %zu -> %d\n", k, i, max, rc);
	if (rc == 0) {
		objs[i].limited = 1;
	}
}

static void op_append(int k)
{
	int i = pick(K_CHUNK);
	char *s;
	if (i < 0) {
		return;
	}
	/* a string chunk of its own, grown under the same parent; each step
	 * printed (ours may succeed where the reference failed, see
	 * run_diff.py), and the random numbers drawn whatever the outcome */
	s = talloc_strdup(objs[i].p, "s");
	say("%d: append under n%d: strdup -> %s\n", k, i, s ? "ok" : "NULL");
	for (unsigned n = rnd(40), step = 0; n > 0; n--, step++) {
		unsigned v = rnd(100000);
		if (s != NULL) {
			s = talloc_asprintf_append(s, "%u", v);
			say("%d: append %u -> %s\n", k, step, s ? "ok" : "NULL");
		}
	}
	if (s != NULL && add(s, i, K_CHUNK) < 0) {
		talloc_free(s);
	}
}

static void epoch(uint64_t seed, int e)
{
	void *root = talloc_named_const(NULL, 0, "root");
	size_t max;
	int ops;

	/* each epoch its own sequence: an epoch cut short on one side (see
	 * run_diff.py) does not shift the ones after it */
	rng_state = (seed * 1000003u + (uint64_t)e) * 0x9E3779B97F4A7C15ULL + 1;
	max = 500 + rnd(40000);
	ops = 20 + (int)rnd(60);

	say("== epoch %d\n", e);
	nobjs = 0;
	add(root, -1, K_NODE);
	if (rnd(4) != 0) {
		say("limit root %zu -> %d\n", max, talloc_set_memlimit(root, max));
		objs[0].limited = 1;
	}
	for (int k = 0; k < ops; k++) {
		switch (rnd(20)) {
		case 0: case 1: op_node(k); break;
		case 2: case 3: op_pool(k); break;
		case 4: case 5: case 6: op_realloc(k); break;
		case 7: case 8: op_free(k); break;
		case 9: op_free_children(k); break;
		case 10: op_steal(k); break;
		case 11: op_relimit(k); break;
		case 12: op_append(k); break;
		default: op_alloc(k); break;
		}
		limits_line();
	}
	/* top-level objects besides the root are freed too */
	for (int i = 1; i < nobjs; i++) {
		if (objs[i].alive && objs[i].parent < 0) {
			talloc_free(objs[i].p);
			forget(i, 1);
		}
	}
	if (objs[0].alive) {
		say("total size %zu blocks %zu\n", talloc_total_size(root), talloc_total_blocks(root));
		talloc_free(root);
	}
}

int main(int argc, char **argv)
{
	int epochs;
	diff_init();
	alarm(300);   /* a hang is a failure, not a stuck test */
	if (argc < 3) {
		fprintf(stderr, "usage: %s SEED EPOCHS\n", argv[0]);
		return 1;
	}
	epochs = atoi(argv[2]);
	for (int e = 0; e < epochs; e++) {
		epoch(strtoull(argv[1], NULL, 0), e);
	}
	say("== done\n");
	return 0;
}

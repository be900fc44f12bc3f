/*
 * Differential transcript of a long pseudo-random sequence of operations:
 * allocations (plain and pools), frees, steals, reparents, references,
 * unlinks, reallocs, free_children, destructors that refuse, reports and
 * totals.  The sequence depends only on the seed, so both runs perform the
 * same operations; every destructor call and every result is printed.
 *
 * usage: diff_random SEED STEPS
 *
 * Operations stay within what the reference defines: no steal of a chunk
 * below itself, references held only by dedicated holder contexts, no
 * realloc of a pool itself, no use of freed pointers (destructors clear
 * the slots).
 */
#include "diff_common.h"

#define NSLOTS 48
#define NHOLDERS 3

static void *slots[NSLOTS];
static int is_pool[NSLOTS];
static int refuses[NSLOTS];
static char names[NSLOTS][8];
static void *root;
static void *holders[NHOLDERS];
static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static int slot_of(const void *ptr)
{
	const char *n = talloc_get_name(ptr);
	for (int i = 0; i < NSLOTS; i++) {
		if (n == names[i]) {
			return i;
		}
	}
	return -1;
}

static int slot_destructor(void *ptr)
{
	int i = slot_of(ptr);
	if (i < 0) {
		say("destructor on an unknown chunk named %s\n", talloc_get_name(ptr));
		return 0;
	}
	if (refuses[i]) {
		say("  destructor %s refuses\n", names[i]);
		return -1;
	}
	say("  destructor %s\n", names[i]);
	slots[i] = NULL;
	return 0;
}

static const char *label(const void *p)
{
	int i;
	if (p == NULL) {
		return "NULL";
	}
	if (p == root) {
		return "root";
	}
	for (i = 0; i < NHOLDERS; i++) {
		if (p == holders[i]) {
			return talloc_get_name(p);
		}
	}
	i = slot_of(p);
	return i >= 0 ? names[i] : talloc_get_name(p);
}

static int random_live(void)
{
	int start = (int)pick(NSLOTS);
	for (int k = 0; k < NSLOTS; k++) {
		int i = (start + k) % NSLOTS;
		if (slots[i] != NULL) {
			return i;
		}
	}
	return -1;
}

static int random_empty(void)
{
	int start = (int)pick(NSLOTS);
	for (int k = 0; k < NSLOTS; k++) {
		int i = (start + k) % NSLOTS;
		if (slots[i] == NULL) {
			return i;
		}
	}
	return -1;
}

/* A context to move things to: root, a holder or a live slot. */
static void *random_target(void)
{
	unsigned r = pick(10);
	int i;
	if (r == 0) {
		return root;
	}
	if (r == 1) {
		return holders[pick(NHOLDERS)];
	}
	i = random_live();
	return i >= 0 ? slots[i] : root;
}

static void op_alloc(void)
{
	int i = random_empty();
	void *parent = random_target();
	void *p;
	if (i < 0) {
		return;
	}
	if (pick(8) == 0) {
		p = talloc_pool(parent, 128 + pick(1024));
		is_pool[i] = 1;
	} else {
		p = talloc_size(parent, pick(100));
		is_pool[i] = 0;
	}
	talloc_set_name_const(p, names[i]);
	talloc_set_destructor(p, slot_destructor);
	refuses[i] = pick(12) == 0;
	slots[i] = p;
	say("alloc %s%s under %s size=%zu%s\n", names[i], is_pool[i] ? " (pool)" : "",
	    label(parent), talloc_get_size(p), refuses[i] ? " refusing" : "");
}

static void op_free(void)
{
	int i = random_live();
	int rc;
	if (i < 0) {
		return;
	}
	say("free %s\n", names[i]);
	rc = talloc_free(slots[i]);
	say("  -> %d\n", rc);
}

static void op_steal(int reparent)
{
	int i = random_live();
	void *target = random_target();
	void *old, *res;
	if (i < 0 || target == slots[i] || talloc_is_parent(target, slots[i])) {
		return;
	}
	old = talloc_parent(slots[i]);
	if (reparent) {
		say("reparent %s from %s to %s\n", names[i], label(old), label(target));
		res = talloc_reparent(old, target, slots[i]);
	} else {
		say("steal %s from %s to %s\n", names[i], label(old), label(target));
		res = talloc_steal(target, slots[i]);
	}
	say("  -> %s, parent now %s\n", res == slots[i] ? "ok" : "NULL", label(talloc_parent(slots[i])));
}

static void op_reference(void)
{
	int i = random_live();
	void *h = holders[pick(NHOLDERS)];
	if (i < 0) {
		return;
	}
	say("reference %s from %s\n", names[i], label(h));
	say("  -> %s", talloc_reference(h, slots[i]) == slots[i] ? "ok" : "NULL");
	say(", count %zu\n", talloc_reference_count(slots[i]));
}

static void op_unlink(void)
{
	int i = random_live();
	void *ctx;
	int rc;
	unsigned r = pick(3);
	if (i < 0) {
		return;
	}
	ctx = r == 0 ? talloc_parent(slots[i]) : r == 1 ? holders[pick(NHOLDERS)] : NULL;
	say("unlink %s from %s\n", names[i], label(ctx));
	rc = talloc_unlink(ctx, slots[i]);
	say("  -> %d\n", rc);
}

static void op_realloc(void)
{
	int i = random_live();
	size_t n = 1 + pick(300);
	void *p;
	if (i < 0 || is_pool[i]) {
		return;
	}
	p = talloc_realloc_size(NULL, slots[i], n);
	if (p == NULL) {
		say("realloc %s to %zu -> NULL (refs %zu)\n", names[i], n, talloc_reference_count(slots[i]));
		return;
	}
	slots[i] = p;
	talloc_set_name_const(p, names[i]);
	say("realloc %s to %zu -> ok, size %zu\n", names[i], n, talloc_get_size(p));
}

static void op_free_children(void)
{
	int i = random_live();
	if (i < 0) {
		return;
	}
	say("free_children %s\n", names[i]);
	talloc_free_children(slots[i]);
	if (slots[i] != NULL) {
		say("  -> blocks %zu\n", talloc_total_blocks(slots[i]));
	}
}

static void op_strings(void)
{
	int i = random_live();
	char *s;
	if (i < 0) {
		return;
	}
	s = talloc_asprintf(slots[i], "text-%u", pick(1000));
	s = talloc_asprintf_append_buffer(s, "+%u", pick(10));
	say("string under %s: %s (size %zu)\n", names[i], s, talloc_get_size(s));
}

static void op_query(void)
{
	int i = random_live();
	if (i < 0) {
		return;
	}
	say("query %s: size=%zu total=%zu blocks=%zu refs=%zu parent=%s check=%d\n", names[i],
	    talloc_get_size(slots[i]), talloc_total_size(slots[i]), talloc_total_blocks(slots[i]),
	    talloc_reference_count(slots[i]), label(talloc_parent(slots[i])),
	    talloc_check_name(slots[i], names[i]) == slots[i]);
	if (pick(4) == 0) {
		talloc_show_parents(slots[i], stdout);
	}
}

static void op_report(void)
{
	report("root", root);
	for (int h = 0; h < NHOLDERS; h++) {
		talloc_report_full(holders[h], stdout);
	}
}

static void op_toggle_refuse(void)
{
	int i = random_live();
	if (i < 0) {
		return;
	}
	refuses[i] = !refuses[i];
	say("%s now %s\n", names[i], refuses[i] ? "refuses" : "accepts");
}

int main(int argc, char **argv)
{
	unsigned long steps;
	int left;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SEED STEPS\n", argv[0]);
		return 1;
	}
	diff_init();
	rng_state = strtoull(argv[1], NULL, 0) * 0x9E3779B97F4A7C15ULL + 1;
	steps = strtoul(argv[2], NULL, 0);
	for (int i = 0; i < NSLOTS; i++) {
		snprintf(names[i], sizeof(names[i]), "o%02d", i);
	}
	root = talloc_named_const(NULL, 0, "root");
	for (int h = 0; h < NHOLDERS; h++) {
		holders[h] = talloc_named_const(NULL, 0, h == 0 ? "h0" : h == 1 ? "h1" : "h2");
	}

	for (unsigned long s = 0; s < steps; s++) {
		unsigned r = pick(100);
		say("#%lu ", s);
		if (r < 28) {
			op_alloc();
		} else if (r < 40) {
			op_free();
		} else if (r < 48) {
			op_steal(0);
		} else if (r < 52) {
			op_steal(1);
		} else if (r < 60) {
			op_reference();
		} else if (r < 67) {
			op_unlink();
		} else if (r < 75) {
			op_realloc();
		} else if (r < 78) {
			op_free_children();
		} else if (r < 84) {
			op_strings();
		} else if (r < 94) {
			op_query();
		} else if (r < 96) {
			op_report();
		} else {
			op_toggle_refuse();
		}
		say("\n");
	}

	say("== final report\n");
	op_report();
	say("== teardown\n");
	for (int i = 0; i < NSLOTS; i++) {
		refuses[i] = 0;
	}
	for (int h = 0; h < NHOLDERS; h++) {
		say("free h%d\n", h);
		say("  -> %d\n", talloc_free(holders[h]));
	}
	say("free root\n");
	say("  -> %d\n", talloc_free(root));
	left = 0;
	for (int i = 0; i < NSLOTS; i++) {
		if (slots[i] != NULL) {
			left++;
			say("left over: %s parent=%s refs=%zu\n", names[i], label(talloc_parent(slots[i])),
			    talloc_reference_count(slots[i]));
		}
	}
	for (int i = 0; i < NSLOTS; i++) {
		if (slots[i] != NULL && talloc_parent(slots[i]) == NULL) {
			say("free %s\n", names[i]);
			say("  -> %d\n", talloc_free(slots[i]));
		}
	}
	say("== done, %d were left over\n", left);
	return 0;
}

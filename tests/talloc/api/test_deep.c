/*
 * Huge hierarchies — ours only (the reference recurses over the tree and
 * overflows the stack on chains this deep).
 *
 * Each test runs its work on a thread with a 64 KiB stack, so an
 * implementation that recurses per level of the tree fails here.
 *
 * Note on talloc_report_full: every line of the report carries the totals
 * of its subtree and an indentation of 4 * depth spaces, so a full report
 * of an N-deep chain is O(N^2) both in work and in output (about 2 TB for
 * N = 1,000,000) for any implementation.  The full-depth walk of the
 * million-deep chain is therefore checked through talloc_report_depth_cb;
 * talloc_report_full itself is run on a chain deep enough to overflow a
 * recursive implementation on this stack, and on the million-wide tree.
 */
#include "tt_common.h"
#include <pthread.h>

#define DEEP 1000000
#define WIDE 1000000
#define REPORT_FULL_DEPTH 10000
#define SMALL_STACK (64 * 1024)

static void run_on_small_stack(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	void *ret = NULL;

	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstacksize(&attr, SMALL_STACK), 0);
	assert_int_equal(pthread_create(&t, &attr, fn, arg), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	pthread_attr_destroy(&attr);
	/* the thread returns NULL on success or a static failure text */
	if (ret != NULL) {
		fail_msg("%s", (const char *)ret);
	}
}

static void *chain(int depth, void **leaf)
{
	void *root = talloc_named_const(NULL, 0, "root");
	void *p = root;
	for (int i = 0; i < depth; i++) {
		p = talloc_named_const(p, 1, "link");
		if (p == NULL) {
			return NULL;
		}
	}
	*leaf = p;
	return root;
}

struct walk_stats {
	size_t calls;
	int max_depth_seen;
	int ordered;
	int last_depth;
};

static void walk_cb(const void *ptr, int depth, int max_depth, int is_ref, void *priv)
{
	struct walk_stats *s = priv;
	(void)ptr;
	(void)max_depth;
	(void)is_ref;
	s->calls++;
	if (depth != s->last_depth + 1) {
		s->ordered = 0;
	}
	s->last_depth = depth;
	if (depth > s->max_depth_seen) {
		s->max_depth_seen = depth;
	}
}

static void *deep_chain_thread(void *arg)
{
	void *root, *leaf = NULL;
	struct walk_stats st = {0, -1, 1, -1};
	FILE *f;
	char line[256];
	(void)arg;

	root = chain(DEEP, &leaf);
	if (root == NULL) {
		return "allocation failed";
	}
	if (talloc_total_blocks(root) != DEEP + 1) {
		return "talloc_total_blocks";
	}
	if (talloc_total_size(root) != DEEP) {
		return "talloc_total_size";
	}
	if (talloc_find_parent_byname(leaf, "root") != root) {
		return "talloc_find_parent_byname";
	}

	talloc_report_depth_cb(root, 0, -1, walk_cb, &st);
	if (st.calls != DEEP + 1 || st.max_depth_seen != DEEP || !st.ordered) {
		return "talloc_report_depth_cb over the chain";
	}

	/* one-level report: exact text */
	f = tmpfile();
	if (f == NULL) {
		return "tmpfile";
	}
	talloc_report(root, f);
	rewind(f);
	if (fgets(line, sizeof(line), f) == NULL ||
	    strcmp(line, "talloc report on 'root' (total 1000000 bytes in 1000001 blocks)\n") != 0) {
		return "talloc_report header";
	}
	if (fgets(line, sizeof(line), f) == NULL ||
	    strncmp(line, "    link                           contains 1000000 bytes in 1000000 blocks (ref 0) 0x", 86) != 0) {
		return "talloc_report child line";
	}
	if (fgets(line, sizeof(line), f) != NULL) {
		return "talloc_report has extra lines";
	}
	fclose(f);

	if (talloc_free(root) != 0) {
		return "talloc_free";
	}
	return NULL;
}

static void test_million_deep_chain(void **state)
{
	(void)state;
	run_on_small_stack(deep_chain_thread, NULL);
}

static int destructor_seq;
static int destructor_bad;

static int ordered_destructor(int *depth)
{
	/* each node stores its depth; parents go before their children */
	if (*depth != destructor_seq) {
		destructor_bad++;
	}
	destructor_seq++;
	return 0;
}

static void *deep_destructors_thread(void *arg)
{
	int *root, *p;
	(void)arg;

	destructor_seq = 0;
	destructor_bad = 0;
	root = p = talloc(NULL, int);
	*p = 0;
	talloc_set_destructor(p, ordered_destructor);
	for (int i = 1; i <= DEEP; i++) {
		p = talloc(p, int);
		if (p == NULL) {
			return "allocation failed";
		}
		*p = i;
		talloc_set_destructor(p, ordered_destructor);
	}
	if (talloc_free(root) != 0) {
		return "talloc_free";
	}
	if (destructor_seq != DEEP + 1) {
		return "not every destructor ran";
	}
	if (destructor_bad != 0) {
		return "destructors ran out of order";
	}
	return NULL;
}

static void test_million_deep_destructors(void **state)
{
	(void)state;
	run_on_small_stack(deep_destructors_thread, NULL);
}

static void *deep_misc_thread(void *arg)
{
	void *root, *leaf = NULL, *other, *mid;
	(void)arg;

	root = chain(DEEP, &leaf);
	if (root == NULL) {
		return "allocation failed";
	}
	/* steal the whole chain below the root elsewhere and back */
	other = talloc_named_const(NULL, 0, "other");
	mid = talloc_parent(talloc_parent(leaf));
	talloc_steal(other, mid);
	if (talloc_total_blocks(other) != 4 || talloc_total_blocks(root) != DEEP - 2) {
		return "steal in a deep chain";
	}
	talloc_free(other);

	/* free_children of a deep chain */
	talloc_free_children(root);
	if (talloc_total_blocks(root) != 1) {
		return "talloc_free_children";
	}
	talloc_free(root);

	/* a chain built under a pool */
	root = talloc_pool(NULL, 1024 * 1024);
	leaf = root;
	for (int i = 0; i < DEEP; i++) {
		leaf = talloc_named_const(leaf, 0, "pooled link");
		if (leaf == NULL) {
			return "pool allocation failed";
		}
	}
	if (talloc_total_blocks(root) != DEEP + 1) {
		return "pool chain blocks";
	}
	talloc_free(root);
	return NULL;
}

static void test_million_deep_steal_and_free_children(void **state)
{
	(void)state;
	run_on_small_stack(deep_misc_thread, NULL);
}

static void *report_full_thread(void *arg)
{
	void *root, *leaf = NULL;
	FILE *f;
	long lines = 0;
	int c;
	(void)arg;

	root = chain(REPORT_FULL_DEPTH, &leaf);
	if (root == NULL) {
		return "allocation failed";
	}
	f = fopen("/dev/null", "w");
	if (f == NULL) {
		return "fopen /dev/null";
	}
	talloc_report_full(root, f);
	fclose(f);

	/* a smaller one to a file: one line per chunk */
	talloc_free(root);
	root = chain(2000, &leaf);
	f = tmpfile();
	talloc_report_full(root, f);
	rewind(f);
	while ((c = fgetc(f)) != EOF) {
		if (c == '\n') {
			lines++;
		}
	}
	fclose(f);
	if (lines != 2001) {
		return "talloc_report_full line count";
	}
	f = fopen("/dev/null", "w");
	talloc_show_parents(leaf, f);
	fclose(f);
	talloc_free(root);
	return NULL;
}

static void test_deep_report_full(void **state)
{
	(void)state;
	run_on_small_stack(report_full_thread, NULL);
}

static void *wide_thread(void *arg)
{
	void *root;
	FILE *f;
	long lines = 0;
	int c;
	(void)arg;

	root = talloc_named_const(NULL, 0, "wide");
	for (int i = 0; i < WIDE; i++) {
		if (talloc_named_const(root, 2, "leaf") == NULL) {
			return "allocation failed";
		}
	}
	if (talloc_total_blocks(root) != WIDE + 1 || talloc_total_size(root) != 2 * WIDE) {
		return "wide totals";
	}
	f = tmpfile();
	talloc_report_full(root, f);
	rewind(f);
	while ((c = fgetc(f)) != EOF) {
		if (c == '\n') {
			lines++;
		}
	}
	fclose(f);
	if (lines != WIDE + 1) {
		return "wide report line count";
	}
	if (talloc_free(root) != 0) {
		return "talloc_free wide";
	}
	return NULL;
}

static void test_million_wide(void **state)
{
	(void)state;
	run_on_small_stack(wide_thread, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT_LINKED_LIBRARY_TEST,
		TT_TEST(test_million_deep_chain),
		TT_TEST(test_million_deep_destructors),
		TT_TEST(test_million_deep_steal_and_free_children),
		TT_TEST(test_deep_report_full),
		TT_TEST(test_million_wide),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

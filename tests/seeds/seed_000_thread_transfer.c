/*
 * Seed 000: threads with talloc.
 *
 * With null tracking disabled, every thread may use its own top-level talloc
 * hierarchy without locking.  Memory is handed from a worker thread to the
 * main thread through one intermediate pointer guarded by a mutex and a
 * condition variable: the worker moves a child of its hierarchy onto the
 * intermediate pointer (making it a top-level chunk), the main thread moves
 * it onto its own context.  The worker frees its hierarchy right after.
 *
 * usage: seed_000_thread_transfer [THREADS [ROUNDS [CHURN]]]
 *   THREADS  worker threads per round (default 1000, as in the seed)
 *   ROUNDS   how many times the whole transfer is repeated (default 1)
 *   CHURN    extra allocate/free pairs each worker does in its own
 *            hierarchy while the others transfer (default 0)
 *
 * Checks: every transfer arrives exactly once, with its name, size and a
 * child of its own intact; the main context ends up with the exact number
 * of blocks and bytes; the report lists every thread's chunk.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <talloc.h>

#include "seed_common.h"

#define SUB_SIZE 100

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t condvar = PTHREAD_COND_INITIALIZER;
static void *intermediate_ptr;

static int churn;
static int worker_errors;

static void *thread_fn(void *arg)
{
	const char *ctx_name = arg;
	void *top_ctx, *sub_ctx, *payload;

	top_ctx = talloc_named_const(NULL, 0, "top");
	if (top_ctx == NULL) {
		return NULL;
	}
	sub_ctx = talloc_named_const(top_ctx, SUB_SIZE, ctx_name);
	if (sub_ctx == NULL) {
		talloc_free(top_ctx);
		return NULL;
	}
	/* something hanging off the transferred chunk travels with it */
	payload = talloc_asprintf(sub_ctx, "payload of %s", ctx_name);
	if (payload == NULL) {
		talloc_free(top_ctx);
		return NULL;
	}

	/* unrelated work in this thread's own hierarchy */
	for (int i = 0; i < churn; i++) {
		char *s = talloc_asprintf(top_ctx, "%s/%d", ctx_name, i);
		if (s == NULL || talloc_parent(s) != top_ctx) {
			__atomic_add_fetch(&worker_errors, 1, __ATOMIC_RELAXED);
		}
		if (i % 3 == 0) {
			s = talloc_realloc(top_ctx, s, char, 64);
		}
		talloc_free(s);
	}

	PTHREAD_OK(pthread_mutex_lock(&mtx));
	while (intermediate_ptr != NULL) {
		PTHREAD_OK(pthread_cond_wait(&condvar, &mtx));
	}
	intermediate_ptr = talloc_move(NULL, &sub_ctx);
	if (sub_ctx != NULL) {
		__atomic_add_fetch(&worker_errors, 1, __ATOMIC_RELAXED);
	}
	PTHREAD_OK(pthread_cond_broadcast(&condvar));
	PTHREAD_OK(pthread_mutex_unlock(&mtx));

	/* only "top" is left here */
	if (talloc_total_blocks(top_ctx) != 1) {
		__atomic_add_fetch(&worker_errors, 1, __ATOMIC_RELAXED);
	}
	talloc_free(top_ctx);
	return NULL;
}

struct seen {
	unsigned char *hits;
	int nthreads;
	int bad;
};

static void collect(const void *ptr, int depth, int max_depth, int is_ref, void *priv)
{
	struct seen *s = priv;
	int n;
	(void)max_depth;
	if (depth != 1) {
		return;
	}
	if (is_ref || sscanf(talloc_get_name(ptr), "thread:%d", &n) != 1 || n < 0 || n >= s->nthreads) {
		s->bad++;
		return;
	}
	s->hits[n]++;
}

static void run_round(int nthreads, int round)
{
	char (*names)[20];
	pthread_t *tids;
	pthread_attr_t attr;
	void *mem_ctx;
	struct seen seen;
	FILE *f;
	long lines = 0;
	int c;

	names = calloc((size_t)nthreads, sizeof(*names));
	tids = calloc((size_t)nthreads, sizeof(*tids));
	seen.hits = calloc((size_t)nthreads, 1);
	if (names == NULL || tids == NULL || seen.hits == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}

	mem_ctx = talloc_named_const(NULL, 0, "toplevel");
	CHECK(mem_ctx != NULL);

	/* all workers may be waiting at once: keep their stacks modest */
	PTHREAD_OK(pthread_attr_init(&attr));
	PTHREAD_OK(pthread_attr_setstacksize(&attr, 256 * 1024));
	for (int i = 0; i < nthreads; i++) {
		snprintf(names[i], sizeof(names[i]), "thread:%d", i);
		PTHREAD_OK(pthread_create(&tids[i], &attr, thread_fn, names[i]));
	}
	pthread_attr_destroy(&attr);

	for (int i = 0; i < nthreads; i++) {
		void *got;
		PTHREAD_OK(pthread_mutex_lock(&mtx));
		while (intermediate_ptr == NULL) {
			PTHREAD_OK(pthread_cond_wait(&condvar, &mtx));
		}
		got = intermediate_ptr;
		/* a transferred chunk arrives as a top-level chunk */
		CHECK(talloc_parent(got) == NULL);
		CHECK(talloc_move(mem_ctx, &intermediate_ptr) == got);
		CHECK(intermediate_ptr == NULL);
		CHECK(talloc_parent(got) == mem_ctx);
		PTHREAD_OK(pthread_cond_broadcast(&condvar));
		PTHREAD_OK(pthread_mutex_unlock(&mtx));
	}

	for (int i = 0; i < nthreads; i++) {
		PTHREAD_OK(pthread_join(tids[i], NULL));
	}
	CHECK_EQ(__atomic_load_n(&worker_errors, __ATOMIC_RELAXED), 0);

	/* every thread's chunk arrived exactly once, intact */
	CHECK_EQ(talloc_total_blocks(mem_ctx), 1 + 2 * (size_t)nthreads);
	{
		size_t payload_bytes = 0;
		for (int i = 0; i < nthreads; i++) {
			payload_bytes += strlen("payload of ") + strlen(names[i]) + 1;
		}
		CHECK_EQ(talloc_total_size(mem_ctx), (size_t)nthreads * SUB_SIZE + payload_bytes);
	}
	seen.nthreads = nthreads;
	seen.bad = 0;
	talloc_report_depth_cb(mem_ctx, 0, -1, collect, &seen);
	CHECK_EQ(seen.bad, 0);
	for (int i = 0; i < nthreads; i++) {
		if (seen.hits[i] != 1) {
			fprintf(stderr, "round %d: thread:%d arrived %d times\n", round, i, seen.hits[i]);
			seed_failures++;
		}
	}
	{
		void *sample = talloc_find_parent_byname(mem_ctx, "toplevel");
		CHECK(sample == mem_ctx);
	}

	/* the report lists them all: header + 2 lines per transfer */
	f = tmpfile();
	CHECK(f != NULL);
	if (f != NULL) {
		talloc_report_full(mem_ctx, f);
		rewind(f);
		while ((c = fgetc(f)) != EOF) {
			lines += c == '\n';
		}
		fclose(f);
		CHECK_EQ(lines, 1 + 2 * (long)nthreads);
	}
	if (round == 0 && nthreads <= 1000) {
		/* as in the seed: dump the hierarchy (one level) */
		talloc_report(mem_ctx, stdout);
	}

	CHECK_EQ(talloc_free(mem_ctx), 0);
	free(names);
	free(tids);
	free(seen.hits);
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 1000;
	int rounds = argc > 2 ? atoi(argv[2]) : 1;
	churn = argc > 3 ? atoi(argv[3]) : 0;

	/* Null tracking makes every thread's top-level chunk a child of one
	 * shared context: it must be off for this to be safe. */
	talloc_disable_null_tracking();

	for (int r = 0; r < rounds; r++) {
		run_round(nthreads, r);
	}
	return seed_result("seed_000_thread_transfer");
}

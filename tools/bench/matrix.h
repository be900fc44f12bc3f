/* The row table both benchmark programs (talloc_bench.c, tevent_bench.c)
 * are made of, and the loop that runs it.  A row is a function of three
 * parameters returning a checksum; it is timed whole, or it times the part
 * that counts itself (own_timer) and leaves the time in timed_part. */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Under callgrind (run.py --instructions) each row's instructions are
 * counted on their own: the counters are zeroed before the row and dumped,
 * under the row's name, after it.  Outside valgrind these are a few no-op
 * instructions. */
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name)
#endif

typedef uint64_t sum_t;

/* Rows are timed in the process's CPU time (user and system): on a machine
 * whose CPUs are shared, the time a row waits for a CPU is not its own, and
 * wall time would count it.  Rows with more than one thread (own_timer
 * WALL) are timed on the monotonic clock: their threads' CPU times add up,
 * spinning included. */
static clockid_t row_clock = CLOCK_PROCESS_CPUTIME_ID;

static double now(void)
{
	struct timespec ts;
	clock_gettime(row_clock, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double timed_part;

enum { WHOLE = 0, OWN = 1, WALL = 2 };   /* own_timer: how a row is timed */

struct row {
	char name[48];
	sum_t (*fn)(long n, long a, long b);
	long n, a, b;
	int own_timer;   /* WHOLE: the call is timed; OWN, WALL: it sets timed_part */
};

static struct row rows[256];
static int nrows;

static void add(const char *name, sum_t (*fn)(long, long, long), long n, long a, long b, int own_timer)
{
	if (nrows == (int)(sizeof(rows) / sizeof(rows[0]))) return;
	struct row *r = &rows[nrows++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->fn = fn;
	r->n = n;
	r->a = a;
	r->b = b;
	r->own_timer = own_timer;
}

static void list_rows(void)
{
	for (int i = 0; i < nrows; i++) printf("%s\n", rows[i].name);
}

/* name contains one of the comma-separated parts of filter */
static int row_selected(const char *name, const char *filter)
{
	for (const char *part = filter;;) {
		const char *comma = strchr(part, ',');
		size_t len = comma != NULL ? (size_t)(comma - part) : strlen(part);
		for (const char *p = name; strlen(p) >= len; p++)
			if (strncmp(p, part, len) == 0) return 1;
		if (comma == NULL) return 0;
		part = comma + 1;
	}
}

/* runs every row whose name contains filter, or one of its comma-separated
 * parts: "name seconds checksum" */
static void run_rows(const char *filter)
{
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		if (!row_selected(r->name, filter)) continue;
		row_clock = r->own_timer == WALL ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID;
		CALLGRIND_ZERO_STATS;
		double t = now();
		sum_t h = r->fn(r->n, r->a, r->b);
		t = now() - t;
		CALLGRIND_DUMP_STATS_AT(r->name);
		if (r->own_timer) t = timed_part;
		printf("%s %.9f %llu\n", r->name, t, (unsigned long long)h);
		fflush(stdout);
	}
}

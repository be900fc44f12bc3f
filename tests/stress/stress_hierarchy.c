/* Huge hierarchies: a chain N deep and a context with M children, each
 * allocated, counted, reported (into a stream that only counts lines, so
 * the report is produced in full without storing it) and freed.
 *
 * usage: stress_hierarchy [DEPTH [WIDTH]]   defaults 1000000 and 10000000
 *
 * The deep chain runs on a thread with a 64 KiB stack: no walk may recurse
 * per level. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <talloc.h>

#include "stress_common.h"

struct line_count {
	size_t lines;
	size_t bytes;
};

static ssize_t count_write(void *cookie, const char *buf, size_t size)
{
	struct line_count *c = cookie;
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n') c->lines++;
	}
	c->bytes += size;
	return (ssize_t)size;
}

static FILE *counting_stream(struct line_count *c)
{
	cookie_io_functions_t io = {.write = count_write};
	memset(c, 0, sizeof(*c));
	FILE *f = fopencookie(c, "w", io);
	REQUIRE(f != NULL);
	return f;
}

static size_t g_depth, g_width;

struct visit {
	size_t count;
	int max_depth;
	int in_order;   /* each visit one level deeper than the one before */
};

static void visit_cb(const void *ptr, int depth, int max_depth, int is_ref, void *priv)
{
	(void)ptr;
	(void)max_depth;
	struct visit *v = priv;
	if (is_ref || depth != (int)v->count) v->in_order = 0;
	if (depth > v->max_depth) v->max_depth = depth;
	v->count++;
}

static void *deep(void *arg)
{
	(void)arg;
	void *top = talloc_named_const(NULL, 0, "deep top");
	void *cur = top;
	for (size_t i = 0; i < g_depth; i++) {
		cur = talloc_named_const(cur, 1, "link");
		REQUIRE(cur != NULL);
	}
	CHECK(talloc_total_blocks(top) == g_depth + 1);
	CHECK(talloc_total_size(top) == g_depth);

	/* A full report of a chain is quadratic by its format (every line
	 * carries its subtree's totals and 4 * depth spaces of indentation):
	 * the chain is reported through talloc_report_depth_cb, which visits
	 * each chunk once with its depth, and talloc_report (one level). */
	struct visit v = {0, 0, 1};
	talloc_report_depth_cb(top, 0, -1, visit_cb, &v);
	CHECK(v.count == g_depth + 1);
	CHECK(v.max_depth == (int)g_depth);
	CHECK(v.in_order);

	struct line_count c;
	FILE *f = counting_stream(&c);
	talloc_report(top, f);
	fclose(f);
	CHECK(c.lines == 2);  /* header and the one child */

	/* The innermost chunk knows its ancestry: by name all the way up;
	 * talloc_is_parent gives up after 10000 levels, as the reference's
	 * (TALLOC_MAX_DEPTH) does. */
	CHECK(talloc_is_parent(cur, talloc_parent(talloc_parent(cur))));
	CHECK(talloc_is_parent(cur, top) == (g_depth < 10000));
	CHECK(talloc_find_parent_byname(cur, "deep top") == top);

	CHECK(talloc_free(top) == 0);
	return NULL;
}

static void wide(void)
{
	void *top = talloc_named_const(NULL, 0, "wide top");
	for (size_t i = 0; i < g_width; i++) {
		REQUIRE(talloc_named_const(top, 8, "leaf") != NULL);
	}
	CHECK(talloc_total_blocks(top) == g_width + 1);
	CHECK(talloc_total_size(top) == 8 * g_width);

	struct line_count c;
	FILE *f = counting_stream(&c);
	talloc_report_full(top, f);
	fclose(f);
	CHECK(c.lines == g_width + 1);

	/* Half the children, then the rest with the parent. */
	talloc_free_children(top);
	CHECK(talloc_total_blocks(top) == 1);
	for (size_t i = 0; i < g_width / 2; i++) {
		REQUIRE(talloc_named_const(top, 8, "leaf") != NULL);
	}
	CHECK(talloc_total_blocks(top) == g_width / 2 + 1);
	CHECK(talloc_free(top) == 0);
}

int main(int argc, char **argv)
{
	g_depth = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	g_width = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000;

	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_t t;
	REQUIRE(pthread_create(&t, &attr, deep, NULL) == 0);
	pthread_join(t, NULL);
	pthread_attr_destroy(&attr);

	wide();
	return stress_result("stress_hierarchy");
}

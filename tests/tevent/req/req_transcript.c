/*
 * Differential transcript of the request layer: requests, cleanup and
 * cancel functions, printing, timeouts, tevent_wakeup, profiles and queues.
 *
 * Built once against Debian's tevent 0.14 headers and libraries (so it uses
 * only that API) and run twice by ../diff/run-tevent-diff.sh: as built, and
 * with LD_LIBRARY_PATH pointing at our libraries.  The two transcripts must be
 * identical.  Pointers and source locations inside the library differ
 * legitimately and are masked; everything else is printed as is.
 *
 * With TEVENT_DIFF_EXPECT_LIB (and TEVENT_DIFF_EXPECT_TALLOC) set, the
 * program first checks that the library it runs on is that file, so the
 * comparison never silently compares the reference with itself.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>
#include <tevent.h>

static TALLOC_CTX *g_mem;
static struct tevent_context *g_ev;

/* ---- output helpers ------------------------------------------------------ */

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Prints s with addresses (hex numbers of 8+ digits) replaced by ADDR. */
static void print_masked(const char *prefix, const char *s)
{
	printf("%s", prefix);
	if (s == NULL) {
		printf("NULL\n");
		return;
	}
	for (const char *p = s; *p != '\0';) {
		if (p[0] == '0' && p[1] == 'x') {
			size_t n = 0;
			while (is_hex(p[2 + n])) {
				n++;
			}
			if (n >= 8) {
				printf("ADDR");
				p += 2 + n;
				continue;
			}
		}
		putchar(*p++);
	}
	putchar('\n');
}

/* Replaces library-internal locations in a print string by LIBLOC. */
static char *mask_locations(TALLOC_CTX *ctx, const char *s)
{
	if (s == NULL) {
		return NULL;
	}
	char *out = talloc_strdup(ctx, "");
	const char *p = s;
	while (*p != '\0') {
		/* Locations follow '/' or '[' in the print format. */
		if ((*p == '/' || *p == '[') && p[1] != '\0') {
			const char *end = strchr(p + 1, ']');
			if (end != NULL) {
				size_t len = (size_t)(end - (p + 1));
				char *tok = talloc_strndup(ctx, p + 1, len);
				bool loc = (strstr(tok, ".c:") != NULL || strstr(tok, ".cpp:") != NULL);
				if (loc && strstr(tok, "req_transcript.c:") == NULL) {
					out = talloc_asprintf_append_buffer(out, "%cLIBLOC]", *p);
					p = end + 1;
					continue;
				}
			}
		}
		out = talloc_asprintf_append_buffer(out, "%c", *p);
		p++;
	}
	return out;
}

static void print_req(const char *what, struct tevent_req *req)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char *s = tevent_req_print(tmp, req);
	printf("%s: ", what);
	print_masked("", mask_locations(tmp, s));
	talloc_free(tmp);
}

static const char *loc(const char *l)
{
	if (l == NULL) {
		return "NULL";
	}
	if (strstr(l, "req_transcript.c:") != NULL) {
		return strstr(l, "req_transcript.c:");
	}
	if (strstr(l, ".c:") != NULL || strstr(l, ".cpp:") != NULL) {
		return "LIBLOC";
	}
	return l;
}

static void show(const char *what, struct tevent_req *req)
{
	enum tevent_req_state st = 99;
	uint64_t err = 777;
	bool is_err = tevent_req_is_error(req, &st, &err);
	printf("%s: in_progress=%d is_error=%d state=%d error=%llu\n", what, tevent_req_is_in_progress(req),
	       is_err, (int)st, (unsigned long long)err);
}

/* Loops until `*flag` or at most `max` iterations. */
static void loop_until(bool *flag, int max)
{
	for (int i = 0; i < max && !*flag; i++) {
		if (tevent_loop_once(g_ev) != 0) {
			printf("loop_once failed\n");
			return;
		}
	}
}

/* ---- requests ---------------------------------------------------------- */

struct foo_state {
	int value;
	char pad[20];
};

struct bar_state {
	uint64_t big[4];
};

static int g_cb_count;
static bool g_flag;

static void count_cb(struct tevent_req *req)
{
	g_cb_count++;
	g_flag = true;
	void *pvt = tevent_req_callback_data_void(req);
	printf("  callback #%d pvt=%s in_progress=%d\n", g_cb_count, pvt ? (const char *)pvt : "NULL",
	       tevent_req_is_in_progress(req));
}

static void cleanup_print(struct tevent_req *req, enum tevent_req_state state)
{
	struct foo_state *s = _tevent_req_data(req);
	printf("  cleanup state=%d data=%s", (int)state, s ? "set" : "NULL");
	if (s != NULL && talloc_get_size(s) == sizeof(struct foo_state)) {
		printf(" value=%d", s->value);
	}
	printf("\n");
	print_req("  in cleanup", req);
}

static void cleanup_refinish(struct tevent_req *req, enum tevent_req_state state)
{
	printf("  cleanup_refinish state=%d\n", (int)state);
	if (state == TEVENT_REQ_DONE) {
		tevent_req_error(req, 44);
		show("  after nested error", req);
	}
}

static void section_basic(void)
{
	printf("== basic\n");
	struct foo_state *state = (struct foo_state *)0x1;
	struct tevent_req *req = tevent_req_create(g_mem, &state, struct foo_state);
	printf("req name=%s state name=%s state parent is req=%d size=%zu zeroed=%d\n", talloc_get_name(req),
	       talloc_get_name(state), talloc_parent(state) == req, talloc_get_size(state),
	       state->value == 0 && state->pad[19] == 0);
	printf("data==state %d cbdata=%p\n", tevent_req_data(req, struct foo_state) == state,
	       tevent_req_callback_data_void(req));
	printf("parent of req is mem %d\n", talloc_parent(req) == g_mem);
	show("fresh", req);
	print_req("fresh", req);

	tevent_req_set_callback(req, count_cb, "pvt1");
	printf("callback data=%s\n", (const char *)tevent_req_callback_data_void(req));
	state->value = 7;
	g_cb_count = 0;
	tevent_req_done(req);
	show("done", req);
	print_req("done", req);

	printf("done again (tolerated, calls back again)\n");
	tevent_req_done(req);
	show("done twice", req);
	tevent_req_received(req);
	show("received", req);
	print_req("received", req);
	printf("data after received=%p\n", _tevent_req_data(req));
	printf("callback on received request\n");
	tevent_req_set_callback(req, count_cb, "pvt2");
	tevent_req_notify_callback(req);
	talloc_free(req);

	printf("-- error\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	printf("error(0)=%d\n", tevent_req_error(req, 0));
	show("after error 0", req);
	printf("error(1234)=%d\n", tevent_req_error(req, 1234));
	show("after error", req);
	print_req("error", req);
	printf("error(UINT64_MAX)=%d\n", tevent_req_error(req, UINT64_MAX));
	print_req("error max", req);
	talloc_free(req);

	printf("-- nomem/oom\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	printf("nomem(ptr)=%d\n", tevent_req_nomem(state, req));
	show("after nomem(ptr)", req);
	printf("nomem(NULL)=%d\n", tevent_req_nomem(NULL, req));
	show("after nomem(NULL)", req);
	talloc_free(req);
	req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_oom(req);
	show("after oom", req);
	print_req("oom", req);
	talloc_free(req);

	printf("-- is_error with NULL outputs untouched cases\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_error(req, 9);
	tevent_req_done(req);
	show("error then done", req);
	talloc_free(req);

	printf("-- odd sizes\n");
	void *p = (void *)0x1;
	req = _tevent_req_create(g_mem, &p, 0, "zero_state", "here:1");
	printf("zero: req=%d name=%s size=%zu\n", req != NULL, talloc_get_name(p), talloc_get_size(p));
	print_req("zero", req);
	talloc_free(req);
	p = (void *)0x1;
	req = _tevent_req_create(g_mem, &p, SIZE_MAX, "huge", "here:2");
	printf("huge: req=%d p untouched=%d\n", req != NULL, p == (void *)0x1);
	req = _tevent_req_create(g_mem, &p, SIZE_MAX - 64, "huge", "here:3");
	printf("huge-64: req=%d\n", req != NULL);
	req = _tevent_req_create(NULL, &p, 8, "nullctx", "here:4");
	printf("NULL ctx: req=%d parent=%p\n", req != NULL, talloc_parent(req));
	talloc_free(req);
	printf("print(NULL)=%s\n", tevent_req_print(g_mem, NULL));
}

static void section_post_defer(void)
{
	printf("== post / defer / notify\n");
	struct foo_state *state;
	struct tevent_req *req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_set_callback(req, count_cb, "post");
	g_cb_count = 0;
	tevent_req_done(req);
	printf("posting\n");
	struct tevent_req *r = tevent_req_post(req, g_ev);
	printf("post returned req=%d, callbacks so far=%d\n", r == req, g_cb_count);
	g_flag = false;
	loop_until(&g_flag, 10);
	printf("callbacks=%d\n", g_cb_count);

	printf("post twice before the loop runs\n");
	tevent_req_post(req, g_ev);
	tevent_req_post(req, g_ev);
	g_flag = false;
	loop_until(&g_flag, 10);
	printf("callbacks=%d\n", g_cb_count);

	printf("post then free: nothing fires\n");
	tevent_req_post(req, g_ev);
	talloc_free(req);
	g_flag = false;
	struct tevent_req *w = tevent_wakeup_send(g_mem, g_ev, tevent_timeval_current_ofs(0, 2000));
	tevent_req_poll(w, g_ev);
	printf("callbacks=%d wakeup=%d\n", g_cb_count, tevent_wakeup_recv(w));
	talloc_free(w);

	printf("-- defer\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_set_callback(req, count_cb, "defer");
	g_cb_count = 0;
	tevent_req_defer_callback(req, g_ev);
	tevent_req_error(req, 3);
	printf("after error: callbacks=%d\n", g_cb_count);
	print_req("deferred", req);
	g_flag = false;
	loop_until(&g_flag, 10);
	printf("after loop: callbacks=%d\n", g_cb_count);
	printf("defer is one-shot: notify calls directly\n");
	tevent_req_notify_callback(req);
	printf("callbacks=%d\n", g_cb_count);
	print_req("notified", req);
	talloc_free(req);

	printf("-- notify without callback\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_notify_callback(req);
	show("notified w/o cb", req);
	print_req("notified w/o cb", req);
	talloc_free(req);
}

/* ---- a posted request received and freed by its caller's callback -------
 * The request's trigger immediate is freed from its own handler there; its
 * trace points must keep their order around the callbacks, and nothing may
 * be left over once the loop iteration returns. */

static const char *trace_point_name(enum tevent_event_trace_point tp)
{
	switch (tp) {
	case TEVENT_EVENT_TRACE_ATTACH: return "attach";
	case TEVENT_EVENT_TRACE_DETACH: return "detach";
	case TEVENT_EVENT_TRACE_BEFORE_HANDLER: return "before-handler";
	}
	return "?";
}

static void trace_imm_print(struct tevent_immediate *im, enum tevent_event_trace_point tp, void *pd)
{
	(void)im; (void)pd;
	printf("  immediate %s\n", trace_point_name(tp));
}

static int state_destructor_print(struct foo_state *state)
{
	printf("  state of level %d freed\n", state->value);
	return 0;
}

static void chain_cleanup_print(struct tevent_req *req, enum tevent_req_state st)
{
	struct foo_state *state = tevent_req_data(req, struct foo_state);
	printf("  cleanup level %d state=%d\n", state->value, (int)st);
}

static void chain_level_done(struct tevent_req *subreq)
{
	/* NULL on the outermost level: no typed lookup */
	struct tevent_req *req = tevent_req_callback_data_void(subreq);
	struct foo_state *sub = tevent_req_data(subreq, struct foo_state);
	int level = sub->value;
	printf("  level %d callback\n", level);
	tevent_req_received(subreq);
	printf("  level %d received\n", level);
	printf("  level %d free=%d\n", level, talloc_free(subreq));
	if (req != NULL) {
		tevent_req_done(req);
	} else {
		g_flag = true;
	}
}

/* level `depth` on top; level 1, the innermost, is done and posted */
static struct tevent_req *chain_level_send(void *mem, int depth)
{
	struct foo_state *state;
	struct tevent_req *req = tevent_req_create(mem, &state, struct foo_state);
	state->value = depth;
	talloc_set_destructor(state, state_destructor_print);
	tevent_req_set_cleanup_fn(req, chain_cleanup_print);
	if (depth == 1) {
		tevent_req_done(req);
		return tevent_req_post(req, g_ev);
	}
	struct tevent_req *sub = chain_level_send(state, depth - 1);
	tevent_req_set_callback(sub, chain_level_done, req);
	return req;
}

static void free_parent_cb(struct tevent_req *req)
{
	void *parent = tevent_req_callback_data_void(req);
	printf("  callback, freeing the parent: %d\n", talloc_free(parent));
	g_flag = true;
}

static void section_received_in_callback(void)
{
	printf("== received and freed from the posted callback\n");
	TALLOC_CTX *mem = talloc_new(g_mem);
	tevent_set_trace_immediate_callback(g_ev, trace_imm_print, NULL);
	for (int depth = 1; depth <= 3; depth++) {
		printf("-- depth %d\n", depth);
		struct tevent_req *req = chain_level_send(mem, depth);
		tevent_req_set_callback(req, chain_level_done, NULL);
		g_flag = false;
		loop_until(&g_flag, 10);
		printf("blocks left under the caller's context: %zu\n", talloc_total_blocks(mem));
	}
	printf("-- posted, the callback frees the request's parent\n");
	TALLOC_CTX *parent = talloc_new(mem);
	struct tevent_req *req = chain_level_send(parent, 1);
	tevent_req_set_callback(req, free_parent_cb, parent);
	g_flag = false;
	loop_until(&g_flag, 10);
	printf("blocks left under the caller's context: %zu\n", talloc_total_blocks(mem));
	tevent_set_trace_immediate_callback(g_ev, NULL, NULL);
	talloc_free(mem);
}

static void section_cleanup(void)
{
	printf("== cleanup functions\n");
	struct foo_state *state;
	struct tevent_req *req;

	printf("-- done, received\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	state->value = 11;
	tevent_req_set_cleanup_fn(req, cleanup_print);
	tevent_req_done(req);
	tevent_req_received(req);
	printf("free\n");
	talloc_free(req);

	printf("-- free while in progress\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	state->value = 12;
	tevent_req_set_cleanup_fn(req, cleanup_print);
	talloc_free(req);

	printf("-- error, error again, oom, done, timeout-state order\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_set_cleanup_fn(req, cleanup_print);
	tevent_req_error(req, 5);
	tevent_req_error(req, 6);
	tevent_req_oom(req);
	tevent_req_done(req);
	tevent_req_error(req, 7);
	talloc_free(req);

	printf("-- set after finishing\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_oom(req);
	tevent_req_set_cleanup_fn(req, cleanup_print);
	tevent_req_error(req, 1);
	tevent_req_done(req);
	talloc_free(req);

	printf("-- set after received\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_received(req);
	tevent_req_set_cleanup_fn(req, cleanup_print);
	tevent_req_done(req);
	talloc_free(req);

	printf("-- cleanup finishing again\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_set_callback(req, count_cb, "refinish");
	g_cb_count = 0;
	tevent_req_set_cleanup_fn(req, cleanup_refinish);
	tevent_req_done(req);
	show("after", req);
	printf("callbacks=%d\n", g_cb_count);
	talloc_free(req);

	printf("-- cleanup fn reset to NULL\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_set_cleanup_fn(req, cleanup_print);
	tevent_req_set_cleanup_fn(req, NULL);
	tevent_req_done(req);
	talloc_free(req);

	printf("-- free the parent context\n");
	TALLOC_CTX *parent = talloc_new(g_mem);
	req = tevent_req_create(parent, &state, struct foo_state);
	state->value = 13;
	tevent_req_set_cleanup_fn(req, cleanup_print);
	talloc_free(parent);
}

static bool cancel_yes(struct tevent_req *req)
{
	printf("  cancel_yes in_progress=%d\n", tevent_req_is_in_progress(req));
	tevent_req_error(req, ECANCELED);
	return true;
}

static bool cancel_no(struct tevent_req *req)
{
	(void)req;
	printf("  cancel_no\n");
	return false;
}

static char *custom_print(struct tevent_req *req, TALLOC_CTX *ctx)
{
	struct foo_state *s = tevent_req_data(req, struct foo_state);
	char *base = tevent_req_default_print(req, ctx);
	return talloc_asprintf_append_buffer(base, " value=%d", s->value);
}

static void section_cancel_print(void)
{
	printf("== cancel\n");
	struct foo_state *state;
	struct tevent_req *req = tevent_req_create(g_mem, &state, struct foo_state);
	printf("cancel without fn=%d\n", tevent_req_cancel(req));
	tevent_req_set_cancel_fn(req, cancel_no);
	printf("cancel_no=%d\n", tevent_req_cancel(req));
	show("after cancel_no", req);
	tevent_req_set_cancel_fn(req, cancel_yes);
	tevent_req_set_callback(req, count_cb, "cancel");
	g_cb_count = 0;
	printf("cancel_yes=%d\n", tevent_req_cancel(req));
	show("after cancel_yes", req);
	printf("cancel after finishing=%d\n", tevent_req_cancel(req));
	tevent_req_received(req);
	printf("cancel after received=%d\n", tevent_req_cancel(req));
	tevent_req_set_cancel_fn(req, NULL);
	printf("cancel fn NULL=%d\n", tevent_req_cancel(req));
	talloc_free(req);

	printf("== print\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	state->value = 99;
	tevent_req_set_print_fn(req, custom_print);
	print_req("custom", req);
	char *d = tevent_req_default_print(req, g_mem);
	print_masked("default: ", mask_locations(g_mem, d));
	printf("default parent is mem=%d\n", talloc_parent(d) == g_mem);
	tevent_req_set_print_fn(req, NULL);
	print_req("reset", req);
	tevent_req_set_print_fn(req, custom_print);
	tevent_req_received(req);
	print_req("custom after received (reset to default)", req);
	talloc_free(req);
}

static void section_timeouts(void)
{
	printf("== endtime\n");
	struct foo_state *state;
	struct tevent_req *req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_set_callback(req, count_cb, "timeout");
	tevent_req_set_cleanup_fn(req, cleanup_print);
	printf("set_endtime=%d\n", tevent_req_set_endtime(req, g_ev, tevent_timeval_current_ofs(0, 1000)));
	print_req("with timer", req);
	printf("timer is child of req: %d\n", talloc_total_blocks(req) >= 4);
	g_cb_count = 0;
	printf("poll=%d\n", tevent_req_poll(req, g_ev));
	show("timed out", req);
	print_req("timed out", req);
	talloc_free(req);

	printf("-- reset_endtime\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_set_callback(req, count_cb, "reset");
	tevent_req_set_endtime(req, g_ev, tevent_timeval_current_ofs(0, 500));
	tevent_req_reset_endtime(req);
	print_req("reset", req);
	tevent_req_reset_endtime(req);
	struct tevent_req *w = tevent_wakeup_send(g_mem, g_ev, tevent_timeval_current_ofs(0, 3000));
	tevent_req_poll(w, g_ev);
	talloc_free(w);
	show("still running", req);

	printf("-- replacing the end time\n");
	tevent_req_set_endtime(req, g_ev, tevent_timeval_current_ofs(100, 0));
	tevent_req_set_endtime(req, g_ev, tevent_timeval_zero());
	g_cb_count = 0;
	tevent_req_poll(req, g_ev);
	show("timed out with past time", req);
	talloc_free(req);

	printf("-- done cancels the timer\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_set_endtime(req, g_ev, tevent_timeval_zero());
	tevent_req_done(req);
	print_req("done", req);
	w = tevent_wakeup_send(g_mem, g_ev, tevent_timeval_current_ofs(0, 2000));
	tevent_req_poll(w, g_ev);
	talloc_free(w);
	show("still done", req);
	talloc_free(req);

	printf("== wakeup\n");
	req = tevent_wakeup_send(g_mem, g_ev, tevent_timeval_current_ofs(0, 1000));
	printf("wakeup name=%s state=%s\n", talloc_get_name(req), talloc_get_name(_tevent_req_data(req)));
	print_req("wakeup", req);
	printf("recv early=%d\n", tevent_wakeup_recv(req));
	printf("poll=%d\n", tevent_req_poll(req, g_ev));
	printf("recv=%d\n", tevent_wakeup_recv(req));
	show("after recv", req);
	print_req("after recv", req);
	printf("recv again=%d\n", tevent_wakeup_recv(req));
	talloc_free(req);

	for (int how = 0; how < 4; how++) {
		req = tevent_wakeup_send(g_mem, g_ev, tevent_timeval_current_ofs(100, 0));
		switch (how) {
		case 0: tevent_req_done(req); break;
		case 1: tevent_req_error(req, 2); break;
		case 2: tevent_req_oom(req); break;
		case 3: tevent_req_received(req); break;
		}
		printf("wakeup finished by %d: recv=%d\n", how, tevent_wakeup_recv(req));
		show("  ", req);
		talloc_free(req);
	}
	req = tevent_wakeup_send(g_mem, g_ev, tevent_timeval_zero());
	tevent_req_poll(req, g_ev);
	printf("wakeup at zero time: recv=%d\n", tevent_wakeup_recv(req));
	talloc_free(req);
}

/* ---- profiles ------------------------------------------------------------ */

static void print_profile(const struct tevent_req_profile *p, int depth)
{
	/* Iterative preorder walk: depth tracked through the parent chain. */
	(void)depth;
	const struct tevent_req_profile *stack[16];
	int levels[16];
	int top = 0;
	stack[top] = p;
	levels[top] = 0;
	top++;
	while (top > 0) {
		top--;
		const struct tevent_req_profile *cur = stack[top];
		int lvl = levels[top];
		const char *name = "?", *start = "?", *stop = "?";
		struct timeval t1 = {0, 0}, t2 = {0, 0};
		pid_t pid = -1;
		enum tevent_req_state st = 99;
		uint64_t ue = 777;
		tevent_req_profile_get_name(cur, &name);
		tevent_req_profile_get_start(cur, &start, &t1);
		tevent_req_profile_get_stop(cur, &stop, &t2);
		tevent_req_profile_get_status(cur, &pid, &st, &ue);
		printf("%*sprofile name=%s start=%s stop=%s pid=%s state=%d error=%llu times=%s\n", lvl * 2, "",
		       name ? name : "NULL", loc(start), loc(stop),
		       pid == 0 ? "0" : (pid == getpid() ? "self" : "other"), (int)st, (unsigned long long)ue,
		       (t1.tv_sec == 0 && t2.tv_sec == 0) ? "zero"
		       : (t2.tv_sec == 0)                 ? "start-only"
		       : timercmp(&t1, &t2, <=)           ? "ordered"
							  : "reversed");
		/* Push children in reverse so they print in list order. */
		const struct tevent_req_profile *kids[16];
		int n = 0;
		for (const struct tevent_req_profile *c = tevent_req_profile_get_subprofiles(cur); c != NULL && n < 16;
		     c = tevent_req_profile_next(c)) {
			kids[n++] = c;
		}
		while (n > 0 && top < 16) {
			n--;
			stack[top] = kids[n];
			levels[top] = lvl + 1;
			top++;
		}
	}
}

static void section_profiles(void)
{
	printf("== profiles\n");
	struct foo_state *state;
	struct bar_state *bstate;
	struct tevent_req *req = tevent_req_create(g_mem, &state, struct foo_state);
	printf("profile before set=%p\n", (const void *)tevent_req_get_profile(req));
	printf("set_profile=%d\n", tevent_req_set_profile(req));
	const struct tevent_req_profile *prof = tevent_req_get_profile(req);
	printf("profile name=%s parent is req=%d\n", talloc_get_name(prof), talloc_parent(prof) == req);
	print_profile(prof, 0);

	/* Subrequests on the state are profiled; one on mem is not. */
	struct tevent_req *sub1 = tevent_req_create(state, &bstate, struct bar_state);
	struct tevent_req *sub2 = tevent_req_create(state, &bstate, struct bar_state);
	struct tevent_req *sub3 = tevent_req_create(state, &bstate, struct bar_state);
	struct tevent_req *other = tevent_req_create(g_mem, &bstate, struct bar_state);
	struct tevent_req *subsub = tevent_req_create(_tevent_req_data(sub2), &state, struct foo_state);
	printf("sub profiles: %d %d %d other=%d subsub=%d\n", tevent_req_get_profile(sub1) != NULL,
	       tevent_req_get_profile(sub2) != NULL, tevent_req_get_profile(sub3) != NULL,
	       tevent_req_get_profile(other) != NULL, tevent_req_get_profile(subsub) != NULL);
	printf("sub1 profile parent is sub1=%d\n", talloc_parent(tevent_req_get_profile(sub1)) == sub1);
	print_profile(prof, 0);

	tevent_req_error(subsub, 17);
	printf("subsub profile after finish=%p\n", (const void *)tevent_req_get_profile(subsub));
	tevent_req_done(sub2);
	tevent_req_oom(sub3);
	printf("sub3 profile parent is the parent profile=%d\n",
	       talloc_parent(tevent_req_profile_next(tevent_req_profile_get_subprofiles(prof))) == prof);
	talloc_free(sub1); /* unfinished: its profile leaves the list */
	print_profile(prof, 0);
	talloc_free(subsub);
	talloc_free(sub2);
	talloc_free(sub3);
	talloc_free(other);

	printf("set_profile twice=%d\n", tevent_req_set_profile(req));
	show("after second set_profile", req);
	print_profile(prof, 0);

	struct tevent_req_profile *moved = tevent_req_move_profile(req, g_mem);
	printf("moved==prof %d, parent now mem=%d, get after move=%p\n", moved == prof, talloc_parent(moved) == g_mem,
	       (const void *)tevent_req_get_profile(req));
	printf("move again=%p\n", (void *)tevent_req_move_profile(req, g_mem));
	talloc_free(req);
	print_profile(moved, 0);

	printf("-- manual profiles\n");
	struct tevent_req_profile *a = tevent_req_profile_create(g_mem);
	printf("created name=%s\n", talloc_get_name(a));
	print_profile(a, 0);
	printf("set_name=%d\n", tevent_req_profile_set_name(a, "alpha"));
	printf("set_start=%d\n", tevent_req_profile_set_start(a, "start-here", (struct timeval){10, 20}));
	printf("set_stop=%d\n", tevent_req_profile_set_stop(a, "stop-here", (struct timeval){30, 40}));
	tevent_req_profile_set_status(a, 4242, TEVENT_REQ_USER_ERROR, 12);
	const char *s;
	struct timeval tv;
	pid_t pid;
	enum tevent_req_state st;
	uint64_t ue;
	tevent_req_profile_get_name(a, &s);
	printf("name=%s owned=%d\n", s, talloc_parent(s) == a);
	tevent_req_profile_get_start(a, &s, &tv);
	printf("start=%s %ld.%ld owned=%d\n", s, (long)tv.tv_sec, (long)tv.tv_usec, talloc_parent(s) == a);
	tevent_req_profile_get_stop(a, &s, &tv);
	printf("stop=%s %ld.%ld\n", s, (long)tv.tv_sec, (long)tv.tv_usec);
	tevent_req_profile_get_status(a, &pid, &st, &ue);
	printf("status pid=%d state=%d error=%llu\n", (int)pid, (int)st, (unsigned long long)ue);
	tevent_req_profile_get_name(a, NULL);
	tevent_req_profile_get_start(a, NULL, NULL);
	tevent_req_profile_get_stop(a, NULL, NULL);
	tevent_req_profile_get_status(a, NULL, NULL, NULL);
	printf("NULL outputs accepted\n");

	struct tevent_req_profile *b = tevent_req_profile_create(NULL);
	struct tevent_req_profile *c = tevent_req_profile_create(NULL);
	tevent_req_profile_set_name(b, "beta");
	tevent_req_profile_set_name(c, "gamma");
	tevent_req_profile_append_sub(a, &b);
	printf("after append b=%p parent(a's first)=%d\n", (void *)b,
	       talloc_parent(tevent_req_profile_get_subprofiles(a)) == a);
	tevent_req_profile_append_sub(a, &c);
	print_profile(a, 0);
	printf("-- freeing a subprofile unlinks it\n");
	talloc_free((void *)tevent_req_profile_get_subprofiles(a));
	print_profile(a, 0);
	talloc_free(a);
	talloc_free(moved);

	printf("-- parent freed while a profiled subrequest runs\n");
	req = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_set_profile(req);
	sub1 = tevent_req_create(state, &bstate, struct bar_state);
	talloc_steal(g_mem, sub1);
	talloc_free(req);
	tevent_req_done(sub1);
	printf("sub1 still has its profile=%d\n", tevent_req_get_profile(sub1) != NULL);
	print_profile(tevent_req_get_profile(sub1), 0);
	talloc_free(sub1);
}

/* ---- queues ---------------------------------------------------------------- */

struct qctx {
	const char *name;
	struct tevent_queue *queue;
	bool finish;
};

static struct tevent_queue_entry *g_untrigger_entry;
static int g_triggers;

static void trig(struct tevent_req *req, void *private_data)
{
	struct qctx *q = private_data;
	g_triggers++;
	printf("  trigger %s in_progress=%d len=%zu\n", q->name, tevent_req_is_in_progress(req),
	       q->queue ? tevent_queue_length(q->queue) : (size_t)0);
	if (q->finish) {
		tevent_req_done(req);
	}
}

/* First trigger: stays in the queue (stop + untrigger); second: finishes. */
static void trig_untrigger(struct tevent_req *req, void *private_data)
{
	struct qctx *q = private_data;
	g_triggers++;
	if (!q->finish) {
		printf("  trigger %s: stop + untrigger\n", q->name);
		tevent_queue_stop(q->queue);
		tevent_queue_entry_untrigger(g_untrigger_entry);
		q->finish = true;
		return;
	}
	printf("  trigger %s again: done\n", q->name);
	tevent_req_done(req);
}

static void qtrace(struct tevent_queue_entry *qe, enum tevent_event_trace_point tp, void *private_data)
{
	printf("  qtrace %s point=%d tag=%llu\n", (const char *)private_data, (int)tp,
	       (unsigned long long)tevent_queue_entry_get_tag(qe));
}

static void run_immediates(int n)
{
	/* Bounded: each loop iteration runs what is ready; a short timer
	 * keeps tevent_loop_once from blocking when nothing is pending. */
	for (int i = 0; i < n; i++) {
		struct tevent_req *w = tevent_wakeup_send(g_mem, g_ev, tevent_timeval_current_ofs(0, 200));
		tevent_req_poll(w, g_ev);
		talloc_free(w);
	}
}

static void section_queues(void)
{
	printf("== queues\n");
	struct foo_state *state;
	struct tevent_queue *q = tevent_queue_create(g_mem, "the-queue");
	printf("name=%s length=%zu running=%d\n", talloc_get_name(q), tevent_queue_length(q), tevent_queue_running(q));

	tevent_set_trace_queue_callback(g_ev, qtrace, "T");
	tevent_trace_queue_callback_t got_cb = NULL;
	void *got_pvt = NULL;
	tevent_get_trace_queue_callback(g_ev, &got_cb, &got_pvt);
	printf("trace callback registered=%d pvt=%s\n", got_cb == qtrace, (const char *)got_pvt);

	printf("-- FIFO order, each trigger finishes its request\n");
	struct qctx c[5] = {{"a", q, true}, {"b", q, true}, {"c", q, true}, {"d", q, false}, {"e", q, false}};
	struct tevent_req *r[5];
	for (int i = 0; i < 5; i++) {
		r[i] = tevent_req_create(g_mem, &state, struct foo_state);
	}
	g_triggers = 0;
	printf("add a=%d\n", tevent_queue_add(q, g_ev, r[0], trig, &c[0]));
	struct tevent_queue_entry *eb = tevent_queue_add_entry(q, g_ev, r[1], trig, &c[1]);
	tevent_queue_entry_set_tag(eb, 2);
	struct tevent_queue_entry *ec = tevent_queue_add_entry(q, g_ev, r[2], trig, &c[2]);
	tevent_queue_entry_set_tag(ec, 3);
	printf("entry name=%s parent is req=%d tag=%llu\n", talloc_get_name(eb), talloc_parent(eb) == r[1],
	       (unsigned long long)tevent_queue_entry_get_tag(eb));
	printf("length=%zu triggers=%d\n", tevent_queue_length(q), g_triggers);
	run_immediates(1);
	printf("after loop: triggers=%d length=%zu\n", g_triggers, tevent_queue_length(q));
	printf("the head stays until its request is freed\n");
	talloc_free(r[0]);
	printf("length=%zu\n", tevent_queue_length(q));
	run_immediates(1);
	printf("removing b's entry directly\n");
	talloc_free(eb);
	run_immediates(1);
	printf("length=%zu\n", tevent_queue_length(q));
	talloc_free(r[2]);
	talloc_free(r[1]);
	printf("length=%zu\n", tevent_queue_length(q));

	printf("-- stop / start\n");
	tevent_queue_stop(q);
	printf("running=%d\n", tevent_queue_running(q));
	tevent_queue_add(q, g_ev, r[3], trig, &c[3]);
	tevent_queue_add(q, g_ev, r[4], NULL, NULL); /* a blocker */
	run_immediates(1);
	printf("stopped: triggers=%d\n", g_triggers);
	tevent_queue_start(q);
	tevent_queue_start(q);
	printf("running=%d\n", tevent_queue_running(q));
	run_immediates(1);
	printf("started: triggers=%d length=%zu\n", g_triggers, tevent_queue_length(q));
	talloc_free(r[3]);
	run_immediates(1);
	printf("blocker at head: length=%zu\n", tevent_queue_length(q));
	talloc_free(r[4]);
	printf("empty: length=%zu\n", tevent_queue_length(q));

	printf("-- stop after scheduling\n");
	struct qctx cs = {"late", q, true};
	struct tevent_req *rs = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_queue_add(q, g_ev, rs, trig, &cs);
	tevent_queue_stop(q);
	g_triggers = 0;
	run_immediates(1);
	printf("triggers=%d\n", g_triggers);
	tevent_queue_start(q);
	run_immediates(1);
	printf("triggers=%d\n", g_triggers);
	talloc_free(rs);

	printf("-- untrigger\n");
	struct qctx cu = {"untrig", q, false};
	struct tevent_req *ru = tevent_req_create(g_mem, &state, struct foo_state);
	struct tevent_req *ru2 = tevent_req_create(g_mem, &state, struct foo_state);
	struct qctx cu2 = {"after-untrig", q, true};
	g_untrigger_entry = tevent_queue_add_entry(q, g_ev, ru, trig_untrigger, &cu);
	tevent_queue_add_entry(q, g_ev, ru2, trig, &cu2);
	g_triggers = 0;
	run_immediates(1);
	printf("running=%d triggers=%d\n", tevent_queue_running(q), g_triggers);
	tevent_queue_start(q);
	run_immediates(1);
	printf("triggers=%d in_progress=%d\n", g_triggers, tevent_req_is_in_progress(ru));
	talloc_free(ru);
	run_immediates(1);
	talloc_free(ru2);

	printf("-- optimize_empty\n");
	struct qctx co1 = {"direct", q, true}, co2 = {"queued", q, true};
	struct tevent_req *ro1 = tevent_req_create(g_mem, &state, struct foo_state);
	struct tevent_req *ro2 = tevent_req_create(g_mem, &state, struct foo_state);
	g_triggers = 0;
	struct tevent_queue_entry *eo1 = tevent_queue_add_optimize_empty(q, g_ev, ro1, trig, &co1);
	printf("direct: entry=%d triggers=%d in_progress=%d\n", eo1 != NULL, g_triggers, tevent_req_is_in_progress(ro1));
	tevent_queue_add_optimize_empty(q, g_ev, ro2, trig, &co2);
	printf("second: triggers=%d\n", g_triggers);
	talloc_free(ro1);
	run_immediates(1);
	printf("triggers=%d\n", g_triggers);
	talloc_free(ro2);

	printf("optimize_empty with a callback set: not direct\n");
	ro1 = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_req_set_callback(ro1, count_cb, "opt");
	g_triggers = 0;
	tevent_queue_add_optimize_empty(q, g_ev, ro1, trig, &co1);
	printf("triggers=%d\n", g_triggers);
	run_immediates(1);
	printf("triggers=%d\n", g_triggers);
	talloc_free(ro1);

	printf("optimize_empty on a stopped queue: not direct\n");
	tevent_queue_stop(q);
	ro1 = tevent_req_create(g_mem, &state, struct foo_state);
	g_triggers = 0;
	tevent_queue_add_optimize_empty(q, g_ev, ro1, trig, &co1);
	printf("triggers=%d\n", g_triggers);
	tevent_queue_start(q);
	run_immediates(1);
	printf("triggers=%d\n", g_triggers);
	talloc_free(ro1);

	printf("-- wait_send/recv\n");
	struct tevent_req *blocker = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_queue_add(q, g_ev, blocker, NULL, NULL);
	struct tevent_req *w1 = tevent_queue_wait_send(g_mem, g_ev, q);
	struct tevent_req *w2 = tevent_queue_wait_send(g_mem, g_ev, q);
	printf("wait name=%s state=%s\n", talloc_get_name(w1), talloc_get_name(_tevent_req_data(w1)));
	print_req("wait", w1);
	tevent_req_set_callback(w1, count_cb, "w1");
	tevent_req_set_callback(w2, count_cb, "w2");
	g_cb_count = 0;
	run_immediates(1);
	printf("blocked: callbacks=%d length=%zu\n", g_cb_count, tevent_queue_length(q));
	talloc_free(blocker);
	run_immediates(1);
	printf("callbacks=%d\n", g_cb_count);
	print_req("w1 done", w1);
	printf("recv w1=%d\n", tevent_queue_wait_recv(w1));
	show("w1 after recv", w1);
	printf("still holding the queue: length=%zu\n", tevent_queue_length(q));
	run_immediates(1);
	printf("callbacks=%d\n", g_cb_count);
	talloc_free(w1);
	run_immediates(1);
	printf("callbacks=%d\n", g_cb_count);
	printf("recv w2=%d\n", tevent_queue_wait_recv(w2));
	talloc_free(w2);
	struct tevent_req *w3 = tevent_queue_wait_send(g_mem, g_ev, q);
	printf("recv in progress=%d\n", tevent_queue_wait_recv(w3));
	show("w3", w3);
	talloc_free(w3);
	run_immediates(1);

	printf("-- freeing the queue with waiting entries\n");
	struct tevent_queue *q2 = tevent_queue_create(g_mem, "second");
	struct qctx cq1 = {"q2-a", NULL, false}, cq2 = {"q2-b", NULL, false};
	struct tevent_req *rq1 = tevent_req_create(g_mem, &state, struct foo_state);
	struct tevent_req *rq2 = tevent_req_create(g_mem, &state, struct foo_state);
	struct tevent_queue_entry *eq1 = tevent_queue_add_entry(q2, g_ev, rq1, trig, &cq1);
	tevent_queue_entry_set_tag(eq1, 21);
	tevent_queue_add_entry(q2, g_ev, rq2, trig, &cq2);
	g_triggers = 0;
	run_immediates(1);
	printf("triggers=%d, blocks under rq1=%zu\n", g_triggers, talloc_total_blocks(rq1));
	talloc_free(q2);
	printf("blocks under rq1 after freeing the queue=%zu\n", talloc_total_blocks(rq1));
	run_immediates(1);
	printf("triggers=%d\n", g_triggers);
	talloc_free(rq1);
	talloc_free(rq2);

	printf("-- several queues on one request\n");
	struct tevent_queue *qa = tevent_queue_create(g_mem, "qa");
	struct tevent_queue *qb = tevent_queue_create(g_mem, "qb");
	struct qctx cma = {"on-qa", NULL, false}, cmb = {"on-qb", NULL, false};
	struct tevent_req *rm = tevent_req_create(g_mem, &state, struct foo_state);
	tevent_queue_add(qa, g_ev, rm, trig, &cma);
	tevent_queue_add(qb, g_ev, rm, trig, &cmb);
	g_triggers = 0;
	run_immediates(1);
	printf("triggers=%d lengths=%zu,%zu\n", g_triggers, tevent_queue_length(qa), tevent_queue_length(qb));
	talloc_free(rm);
	printf("lengths=%zu,%zu\n", tevent_queue_length(qa), tevent_queue_length(qb));
	talloc_free(qa);
	talloc_free(qb);

	tevent_set_trace_queue_callback(g_ev, NULL, NULL);
	tevent_get_trace_queue_callback(g_ev, &got_cb, &got_pvt);
	printf("trace callback reset=%d\n", got_cb == NULL && got_pvt == NULL);
	talloc_free(q);
}

/* ---- main -------------------------------------------------------------------- */

/*
 * Reports (on stderr) which file `sym` was resolved from, and fails unless
 * it is the file named by the environment variable `env` (when set).
 */
static int check_library(const char *what, void *sym, const char *env)
{
	Dl_info info;
	const char *expect = getenv(env);
	if (dladdr(sym, &info) == 0 || info.dli_fname == NULL) {
		fprintf(stderr, "cannot tell which %s is mapped\n", what);
		return 1;
	}
	char real[PATH_MAX];
	if (realpath(info.dli_fname, real) == NULL) {
		snprintf(real, sizeof(real), "%s", info.dli_fname);
	}
	fprintf(stderr, "%s mapped from %s\n", what, real);
	if (expect != NULL && expect[0] != '\0') {
		char want[PATH_MAX];
		if (realpath(expect, want) == NULL) {
			snprintf(want, sizeof(want), "%s", expect);
		}
		if (strcmp(real, want) != 0) {
			fprintf(stderr, "expected %s to be %s\n", what, want);
			return 1;
		}
	}
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (check_library("libtevent", (void *)tevent_req_post, "TEVENT_DIFF_EXPECT_LIB") != 0 ||
	    check_library("libtalloc", (void *)talloc_named_const, "TEVENT_DIFF_EXPECT_TALLOC") != 0) {
		return 2;
	}
	g_mem = talloc_new(NULL);
	g_ev = tevent_context_init(g_mem);
	if (g_ev == NULL) {
		return 1;
	}
	section_basic();
	section_post_defer();
	section_received_in_callback();
	section_cleanup();
	section_cancel_print();
	section_timeouts();
	section_profiles();
	section_queues();
	talloc_free(g_mem);
	printf("== end\n");
	return 0;
}

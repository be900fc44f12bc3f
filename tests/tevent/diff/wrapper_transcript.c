/*
 * Differential transcript of wrapper contexts, per-event trace points and
 * tags, and requests and queues on wrappers.
 *
 * Built once against Debian's tevent 0.14 headers and libraries and run
 * twice by run-tevent-diff.sh: as linked (the reference) and with
 * LD_LIBRARY_PATH pointing at our build; the transcripts must be identical.
 *
 * What is printed: every wrapper hook call (use, fd, timer, immediate,
 * signal), every per-event trace point (fd, timer, immediate, signal,
 * queue) with the event's tag, every handler call with the context it got,
 * tevent_abort() reasons (the abort function returns, so the program sees
 * what the library does afterwards) and the debug messages about wrappers.
 * Events are printed by the names this program gave them; events the
 * library creates for requests and queues (the request's immediate and
 * timeout timer, the queue's immediate) are printed as "lib".
 *
 * What is filtered out, on purpose:
 *  - fd events this program did not create.  Both implementations register
 *    descriptors of their own to wake the loop for signals (the reference a
 *    signal pipe, poll_mt also a wakeup pipe; ours one eventfd per context),
 *    with different numbers and at different moments; their trace points
 *    and handler runs are internal.
 *  - loop iterations and loop trace points: those internal descriptors take
 *    iterations of their own, so the loop is run until an expected handler
 *    has run, and only what handlers, hooks and traces report is printed
 *    (tevent_transcript.c checks iterations where no signal is involved).
 *  - addresses (masked as ADDR) and source locations inside the library.
 *
 * Nothing here crashes either implementation: the reference crashes when
 * an immediate is scheduled on a wrapper whose main context is gone and
 * when a wrapper is freed after tevent_re_initialise() was called on it, so
 * those are covered by tests/tevent/api/api_wrapper.c (ours only).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>
#define TEVENT_DEPRECATED 1
#include <tevent.h>

#define TRANSCRIPT_NAME "wrapper_transcript"
#include "transcript.h"

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

#include "../../../compat/tevent_internal.h"

/* ---- plumbing ------------------------------------------------------------ */

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Prints s (up to its first newline) with addresses replaced by ADDR. */
static void say_masked(const char *prefix, const char *s)
{
	printf("%s", prefix);
	for (const char *p = s; *p != '\0' && *p != '\n';) {
		if (p[0] == '0' && p[1] == 'x') {
			size_t n = 0;
			while (is_hex(p[2 + n])) {
				n++;
			}
			if (n > 0) {
				printf("ADDR");
				p += 2 + n;
				continue;
			}
		}
		putchar(*p++);
	}
	putchar('\n');
	fflush(stdout);
}

/* ---- names ---------------------------------------------------------------- */

/* The events and contexts this program created, by name.  A name is
 * dropped when the object is freed, so a later library object at the same
 * address is not mistaken for it. */
static struct {
	const void *ptr;
	const char *name;
} names[512];

static void purge(void);

static void *named(void *ptr, const char *name)
{
	if (ptr == NULL) {
		return NULL;
	}
	purge();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].ptr == NULL || names[i].ptr == ptr) {
			names[i].ptr = ptr;
			names[i].name = name;
			return ptr;
		}
	}
	die("too many names");
	return NULL;
}

static const char *name_of(const void *ptr)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].ptr == ptr && ptr != NULL) {
			return names[i].name;
		}
	}
	return NULL;
}

static void unname(const void *ptr)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].ptr == ptr) {
			names[i].ptr = NULL;
		}
	}
}

static const char *lib_or_name(const void *ptr)
{
	const char *n = name_of(ptr);
	return n != NULL ? n : "lib";
}

/* Events a handler frees keep their names until purge(): the hook after
 * the handler still reports the event by name.  Purged before anything
 * else is created or named and before every loop iteration, so that a
 * library object at the same address is never mistaken for it. */
static const void *zombies[64];
static size_t nzombies;

static void purge(void)
{
	for (size_t i = 0; i < nzombies; i++) {
		unname(zombies[i]);
	}
	nzombies = 0;
}


static void zombie(const void *ptr)
{
	if (nzombies == sizeof(zombies) / sizeof(zombies[0])) {
		die("too many zombies");
	}
	zombies[nzombies++] = ptr;
}

static void release_in_handler(void *ptr)
{
	talloc_free(ptr);
	zombie(ptr);
}

static void release(void *ptr)
{
	talloc_free(ptr);
	unname(ptr);
}

/* The name for the event being created: the ATTACH trace point comes
 * before the creating call returns.  Only for an event of that kind: the
 * library may attach a descriptor of its own while adding a signal. */
enum kind { FD, TIMER, SIGNAL, QUEUE_ENTRY };
static const char *pending_name;
static enum kind pending_kind;

static const char *adopt(const void *ptr, enum tevent_event_trace_point p, enum kind kind)
{
	if (p == TEVENT_EVENT_TRACE_ATTACH && pending_name != NULL && pending_kind == kind && name_of(ptr) == NULL) {
		named((void *)ptr, pending_name);
		pending_name = NULL;
	}
	return name_of(ptr);
}

static void *created(void *ptr, const char *name)
{
	pending_name = NULL;
	return named(ptr, name);
}

#define NEW(kind, name, expr) (purge(), pending_kind = (kind), pending_name = (name), created((expr), (name)))

/* ---- abort and debug ------------------------------------------------------ */

static void abort_fn(const char *reason)
{
	say_masked("  abort: ", reason);
}

/* Fatal messages (aborts, refused wrappers) and the wrapper teardown
 * message; the many trace-level messages differ in wording and are not
 * part of the comparison. */
static void debug_fn(void *p, enum tevent_debug_level level, const char *fmt, va_list ap)
{
	(void)p;
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (level == TEVENT_DEBUG_FATAL || strncmp(buf, "Destroying wrapper context", 26) == 0) {
		say_masked("  debug: ", buf);
	}
}

/* ---- trace callbacks -------------------------------------------------------- */

static void trace_fd(struct tevent_fd *fde, enum tevent_event_trace_point p, void *priv)
{
	(void)priv;
	const char *n = adopt(fde, p, FD);
	if (n == NULL) {
		return; /* an implementation's own descriptor, see the top */
	}
	say("  trace fd %s %s tag=%llu\n", n, event_point_name(p), (unsigned long long)tevent_fd_get_tag(fde));
}

/* The timer whose handler ran last: its DETACH trace point is its last
 * sign of life. */
static struct tevent_timer *g_fired;

static void trace_timer(struct tevent_timer *te, enum tevent_event_trace_point p, void *priv)
{
	(void)priv;
	adopt(te, p, TIMER);
	say("  trace timer %s %s tag=%llu\n", lib_or_name(te), event_point_name(p),
	    (unsigned long long)tevent_timer_get_tag(te));
	if (p == TEVENT_EVENT_TRACE_DETACH && te == g_fired) {
		zombie(te); /* a fired timer is freed by the library */
		g_fired = NULL;
	}
}

static void trace_immediate(struct tevent_immediate *im, enum tevent_event_trace_point p, void *priv)
{
	(void)priv;
	say("  trace immediate %s %s tag=%llu\n", lib_or_name(im), event_point_name(p),
	    (unsigned long long)tevent_immediate_get_tag(im));
}

static void trace_signal(struct tevent_signal *se, enum tevent_event_trace_point p, void *priv)
{
	(void)priv;
	adopt(se, p, SIGNAL);
	say("  trace signal %s %s tag=%llu\n", lib_or_name(se), event_point_name(p),
	    (unsigned long long)tevent_signal_get_tag(se));
}

static void trace_queue(struct tevent_queue_entry *qe, enum tevent_event_trace_point p, void *priv)
{
	(void)priv;
	adopt(qe, p, QUEUE_ENTRY);
	say("  trace queue %s %s tag=%llu\n", lib_or_name(qe), event_point_name(p),
	    (unsigned long long)tevent_queue_entry_get_tag(qe));
}

static void set_traces(struct tevent_context *ev)
{
	tevent_set_trace_fd_callback(ev, trace_fd, NULL);
	tevent_set_trace_timer_callback(ev, trace_timer, NULL);
	tevent_set_trace_immediate_callback(ev, trace_immediate, NULL);
	tevent_set_trace_signal_callback(ev, trace_signal, NULL);
	tevent_set_trace_queue_callback(ev, trace_queue, NULL);
}

/* ---- the wrapper ------------------------------------------------------------ */

struct wstate {
	const char *name;
	bool refuse_use;
};

static const char *where(const char *location)
{
	/* Locations in this program are compared; the library's are not. */
	if (location != NULL && strstr(location, "wrapper_transcript.c") != NULL) {
		return "here";
	}
	return "lib";
}

static void check_args(struct tevent_context *wrap_ev, void *private_state, struct tevent_context *main_ev)
{
	struct wstate *st = private_state;
	if (name_of(wrap_ev) == NULL || strcmp(name_of(wrap_ev), st->name) != 0 || main_ev == NULL ||
	    tevent_context_is_wrapper(main_ev)) {
		say("  hook arguments wrong\n");
	}
}

static bool before_use(struct tevent_context *wrap_ev, void *private_state, struct tevent_context *main_ev,
		       const char *location)
{
	struct wstate *st = private_state;
	check_args(wrap_ev, private_state, main_ev);
	say("  hook %s before_use at %s -> %s\n", st->name, where(location), st->refuse_use ? "false" : "true");
	return !st->refuse_use;
}

static void after_use(struct tevent_context *wrap_ev, void *private_state, struct tevent_context *main_ev,
		      const char *location)
{
	struct wstate *st = private_state;
	check_args(wrap_ev, private_state, main_ev);
	say("  hook %s after_use at %s\n", st->name, where(location));
}

static void fd_hook(const char *when, struct tevent_context *wrap_ev, void *private_state,
		    struct tevent_context *main_ev, struct tevent_fd *fde, uint16_t flags, const char *handler_name,
		    const char *location)
{
	struct wstate *st = private_state;
	check_args(wrap_ev, private_state, main_ev);
	say("  hook %s %s_fd_handler %s %s flags=%u at %s\n", st->name, when, lib_or_name(fde), handler_name,
	    (unsigned)flags, where(location));
}

static void before_fd(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_fd *fde,
		      uint16_t flags, const char *hn, const char *loc)
{
	fd_hook("before", w, p, m, fde, flags, hn, loc);
}

static void after_fd(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_fd *fde,
		     uint16_t flags, const char *hn, const char *loc)
{
	fd_hook("after", w, p, m, fde, flags, hn, loc);
}

static void timer_hook(const char *when, struct tevent_context *wrap_ev, void *private_state,
		       struct tevent_context *main_ev, struct tevent_timer *te, struct timeval requested,
		       struct timeval trigger, const char *handler_name, const char *location)
{
	struct wstate *st = private_state;
	check_args(wrap_ev, private_state, main_ev);
	say("  hook %s %s_timer_handler %s %s requested=%s trigger=%s at %s\n", st->name, when, lib_or_name(te),
	    handler_name, tevent_timeval_is_zero(&requested) ? "zero" : "set",
	    tevent_timeval_is_zero(&trigger) ? "zero" : "set", where(location));
}

static void before_timer(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_timer *te,
			 struct timeval rq, struct timeval tr, const char *hn, const char *loc)
{
	timer_hook("before", w, p, m, te, rq, tr, hn, loc);
}

static void after_timer(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_timer *te,
			struct timeval rq, struct timeval tr, const char *hn, const char *loc)
{
	timer_hook("after", w, p, m, te, rq, tr, hn, loc);
}

static void im_hook(const char *when, struct tevent_context *wrap_ev, void *private_state,
		    struct tevent_context *main_ev, struct tevent_immediate *im, const char *handler_name,
		    const char *location)
{
	struct wstate *st = private_state;
	check_args(wrap_ev, private_state, main_ev);
	say("  hook %s %s_immediate_handler %s %s at %s\n", st->name, when, lib_or_name(im), handler_name,
	    where(location));
}

static void before_im(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_immediate *im,
		      const char *hn, const char *loc)
{
	im_hook("before", w, p, m, im, hn, loc);
}

static void after_im(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_immediate *im,
		     const char *hn, const char *loc)
{
	im_hook("after", w, p, m, im, hn, loc);
}

static void signal_hook(const char *when, struct tevent_context *wrap_ev, void *private_state,
			struct tevent_context *main_ev, struct tevent_signal *se, int signum, int count,
			void *siginfo, const char *handler_name, const char *location)
{
	struct wstate *st = private_state;
	check_args(wrap_ev, private_state, main_ev);
	say("  hook %s %s_signal_handler %s %s signum=%d count=%d siginfo=%s at %s\n", st->name, when,
	    lib_or_name(se), handler_name, signum, count, siginfo != NULL ? "yes" : "no", where(location));
}

static void before_signal(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_signal *se,
			  int signum, int count, void *siginfo, const char *hn, const char *loc)
{
	signal_hook("before", w, p, m, se, signum, count, siginfo, hn, loc);
}

static void after_signal(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_signal *se,
			 int signum, int count, void *siginfo, const char *hn, const char *loc)
{
	signal_hook("after", w, p, m, se, signum, count, siginfo, hn, loc);
}

static const struct tevent_wrapper_ops wrapper_ops = {
	.name = "transcript",
	.before_use = before_use,
	.after_use = after_use,
	.before_fd_handler = before_fd,
	.after_fd_handler = after_fd,
	.before_timer_handler = before_timer,
	.after_timer_handler = after_timer,
	.before_immediate_handler = before_im,
	.after_immediate_handler = after_im,
	.before_signal_handler = before_signal,
	.after_signal_handler = after_signal,
};

static struct tevent_context *new_main(const char *backend)
{
	struct tevent_context *ev = tevent_context_init_byname(NULL, backend);
	if (ev == NULL) {
		die("no context");
	}
	tevent_set_debug(ev, debug_fn, NULL);
	return named(ev, "main");
}

/* The private state of the wrapper created last. */
static struct wstate *last_state;

static struct tevent_context *new_wrapper(struct tevent_context *main_ev, TALLOC_CTX *mem_ctx, const char *name)
{
	struct wstate *st = NULL;
	struct tevent_context *w = tevent_context_wrapper_create(main_ev, mem_ctx, &wrapper_ops, &st, struct wstate);
	if (w == NULL || st == NULL) {
		die("no wrapper");
	}
	st->name = name;
	last_state = st;
	return named(w, name);
}

static const char *ev_name(struct tevent_context *ev)
{
	const char *n = name_of(ev);
	return n != NULL ? n : "?";
}

/* ---- handlers ------------------------------------------------------------------ */

/* What the handlers do, beyond reporting. */
enum action { NOTHING, FREE_SELF, RESCHEDULE_SELF, PUSH_USE, FREE_WRAPPER };

struct job {
	const char *name;
	enum action action;
	int runs;
	int fd;		/* fd events: the descriptor to drain */
	void *target;	/* FREE_WRAPPER: the wrapper */
};

static void fd_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	struct job *j = p;
	char c;
	j->runs++;
	say("  run fd %s ev=%s flags=%u\n", j->name, ev_name(ev), (unsigned)flags);
	if (read(j->fd, &c, 1) != 1) {
		die("read");
	}
	if (j->action == FREE_SELF) {
		release_in_handler(fde);
		say("  %s freed itself\n", j->name);
	} else if (j->action == FREE_WRAPPER) {
		say("  %s frees its wrapper: %d\n", j->name, talloc_free(j->target));
	}
}

static void timer_handler(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	struct job *j = p;
	j->runs++;
	g_fired = te;
	say("  run timer %s ev=%s now=%s\n", j->name, ev_name(ev), tevent_timeval_is_zero(&now) ? "zero" : "set");
	if (j->action == FREE_SELF) {
		release_in_handler(te);
		say("  %s freed itself\n", j->name);
	} else if (j->action == PUSH_USE) {
		bool ok = tevent_context_push_use(ev);
		say("  push_use inside the handler: %d\n", ok);
	}
}

static void im_handler(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	struct job *j = p;
	j->runs++;
	say("  run immediate %s ev=%s\n", j->name, ev_name(ev));
	if (j->action == RESCHEDULE_SELF && j->runs == 1) {
		tevent_schedule_immediate(im, ev, im_handler, j);
		say("  %s rescheduled itself on %s\n", j->name, ev_name(ev));
	}
}

static void signal_handler(struct tevent_context *ev, struct tevent_signal *se, int signum, int count,
			   void *siginfo, void *p)
{
	(void)siginfo;
	struct job *j = p;
	j->runs++;
	say("  run signal %s ev=%s signum=%d count=%d\n", j->name, ev_name(ev), signum, count);
	if (j->action == FREE_SELF) {
		release_in_handler(se);
		say("  %s freed itself\n", j->name);
	}
}

/* Loops until *runs reaches want (or gives up after many iterations). */
static void run_until(struct tevent_context *ev, const char *what, int *runs, int want)
{
	for (int i = 0; i < 200 && *runs < want; i++) {
		purge();
		int ret = tevent_loop_once(ev);
		if (ret != 0) {
			say("  loop_once failed: %d\n", ret);
			return;
		}
	}
	say("  -- %s: %s\n", what, *runs >= want ? "done" : "gave up");
}

/* A main-context timer a little later: what is still pending after it
 * fired would have run by then. */
static void fence(struct tevent_context *ev)
{
	struct job f = {"fence", NOTHING, 0, -1, NULL};
	struct tevent_timer *te =
		NEW(TIMER, "fence", tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 30000), timer_handler, &f));
	if (te == NULL) {
		die("fence");
	}
	run_until(ev, "fence", &f.runs, 1);
}

static void make_pipe(int p[2])
{
	if (pipe(p) != 0) {
		die("pipe");
	}
}

static void poke(int fd)
{
	if (write(fd, "x", 1) != 1) {
		die("write");
	}
}

/* ---- sections ------------------------------------------------------------------ */

static int nesting_hook_calls;

static int nesting_hook(struct tevent_context *ev, void *p, uint32_t level, bool begin, void *stack,
			const char *location)
{
	(void)ev;
	(void)p;
	(void)level;
	(void)begin;
	(void)stack;
	(void)location;
	nesting_hook_calls++;
	return 0;
}

static bool never(void *p)
{
	(void)p;
	return false;
}

static void section_create(void)
{
	say("== create\n");
	struct tevent_context *ev = new_main(NULL);
	struct tevent_context *w = new_wrapper(ev, NULL, "W");
	struct tevent_context *w2 = new_wrapper(ev, NULL, "W2");
	struct wstate *st_w2 = last_state;
	say("is_wrapper: W=%d main=%d\n", tevent_context_is_wrapper(w), tevent_context_is_wrapper(ev));
	say("same_loop: W,main=%d main,W=%d W,W2=%d W,W=%d main,main=%d\n", tevent_context_same_loop(w, ev),
	    tevent_context_same_loop(ev, w), tevent_context_same_loop(w, w2), tevent_context_same_loop(w, w),
	    tevent_context_same_loop(ev, ev));
	struct tevent_context *other = new_main(NULL);
	say("same_loop with another main: %d %d\n", tevent_context_same_loop(w, other),
	    tevent_context_same_loop(other, ev));
	say("talloc: wrapper=%s blocks=%zu state=%s state's grandparent is the wrapper=%d\n", talloc_get_name(w2),
	    talloc_total_blocks(w2), talloc_get_name(st_w2), talloc_parent(talloc_parent(st_w2)) == w2);

	say("-- stacking a wrapper on a wrapper\n");
	struct wstate *st2 = NULL;
	errno = 0;
	struct tevent_context *bad = tevent_context_wrapper_create(w, NULL, &wrapper_ops, &st2, struct wstate);
	say("result=%s errno=%d\n", bad == NULL ? "NULL" : "context", errno);

	say("-- wrappers and nesting\n");
	struct tevent_context *nesting = new_main(NULL);
	tevent_loop_allow_nesting(nesting);
	errno = 0;
	bad = tevent_context_wrapper_create(nesting, NULL, &wrapper_ops, &st2, struct wstate);
	say("on a nesting context: %s errno=%d\n", bad == NULL ? "NULL" : "context", errno);
	tevent_loop_allow_nesting(w);
	tevent_loop_allow_nesting(ev);
	tevent_loop_set_nesting_hook(w, nesting_hook, NULL);
	struct job j = {"im", NOTHING, 0, -1, NULL};
	struct tevent_immediate *im = named(tevent_create_immediate(ev), "im");
	tevent_schedule_immediate(im, ev, im_handler, &j);
	run_until(ev, "immediate on main", &j.runs, 1);
	say("nesting hook set on the wrapper was called %d times\n", nesting_hook_calls);

	say("-- trace and debug settings on a wrapper\n");
	tevent_set_trace_callback(w, NULL, NULL);
	tevent_set_trace_fd_callback(w, trace_fd, NULL);
	tevent_set_trace_timer_callback(w, trace_timer, NULL);
	tevent_set_trace_immediate_callback(w, trace_immediate, NULL);
	tevent_set_trace_signal_callback(w, trace_signal, NULL);
	tevent_set_trace_queue_callback(w, trace_queue, NULL);
	say("set_debug=%d\n", tevent_set_debug(w, debug_fn, NULL));
	set_traces(ev);
	tevent_trace_fd_callback_t fd_cb = trace_fd;
	tevent_trace_timer_callback_t timer_cb = trace_timer;
	tevent_trace_immediate_callback_t im_cb = trace_immediate;
	tevent_trace_signal_callback_t sig_cb = trace_signal;
	tevent_trace_queue_callback_t queue_cb = trace_queue;
	void *priv = &j;
	tevent_get_trace_fd_callback(w, &fd_cb, &priv);
	tevent_get_trace_timer_callback(w, &timer_cb, &priv);
	tevent_get_trace_immediate_callback(w, &im_cb, &priv);
	tevent_get_trace_signal_callback(w, &sig_cb, &priv);
	tevent_get_trace_queue_callback(w, &queue_cb, &priv);
	say("wrapper's own callbacks: fd=%d timer=%d immediate=%d signal=%d queue=%d private=%d\n", fd_cb != NULL,
	    timer_cb != NULL, im_cb != NULL, sig_cb != NULL, queue_cb != NULL, priv != NULL);
	tevent_get_trace_fd_callback(ev, &fd_cb, &priv);
	say("main's fd callback is the one set: %d\n", fd_cb == trace_fd);

	say("-- loops on a wrapper\n");
	errno = 0;
	int ret = tevent_loop_once(w);
	say("loop_once=%d errno=%d\n", ret, errno);
	errno = 0;
	ret = tevent_loop_wait(w);
	say("loop_wait=%d errno=%d\n", ret, errno);
	errno = 0;
	ret = tevent_loop_until(w, never, NULL);
	say("loop_until=%d errno=%d\n", ret, errno);

	say("-- other functions on a wrapper\n");
	errno = 0;
	struct tevent_thread_proxy *tp = tevent_thread_proxy_create(w);
	say("thread_proxy_create=%s errno=%d\n", tp == NULL ? "NULL" : "proxy", errno);
	say("signal_support=%d\n", tevent_signal_support(w));
	/* On a wrapper kept alive to the end: the reference leaves it broken. */
	struct tevent_context *junk = new_wrapper(ev, NULL, "junk");
	say("common_context_destructor=%d\n", tevent_common_context_destructor(junk));
	errno = 0;
	ret = tevent_re_initialise(junk);
	say("re_initialise=%d\n", ret);

	say("-- teardown\n");
	release(im);
	release(w);
	release(w2);
	release(other);
	release(nesting);
	release(ev);
	say("junk after its main context went: is_wrapper=%d same_loop=%d\n", tevent_context_is_wrapper(junk),
	    tevent_context_same_loop(junk, junk));
}

static void section_use(void)
{
	say("== push_use / pop_use\n");
	struct tevent_context *ev = new_main(NULL);
	struct tevent_context *w = new_wrapper(ev, ev, "W");
	struct tevent_context *r = new_wrapper(ev, ev, "R");
	last_state->refuse_use = true;
	say("push W=%d\n", tevent_context_push_use(w));
	say("push main=%d\n", tevent_context_push_use(ev));
	tevent_context_pop_use(ev);
	tevent_context_pop_use(w);
	say("-- before_use refusing\n");
	say("push R=%d\n", tevent_context_push_use(r));
	say("-- misuse\n");
	say("pop on an empty stack:\n");
	tevent_context_pop_use(w);
	say("pop in the wrong order:\n");
	say("push W=%d\n", tevent_context_push_use(w));
	say("push main=%d\n", tevent_context_push_use(ev));
	tevent_context_pop_use(w);
	tevent_context_pop_use(ev);
	say("push twice:\n");
	say("push W=%d\n", tevent_context_push_use(w));
	say("push W again=%d\n", tevent_context_push_use(w));
	tevent_context_pop_use(w);
	say("stack overflow:\n");
	int refused = 0;
	for (int i = 0; i < 33; i++) {
		refused += !tevent_context_push_use(ev);
	}
	say("33 pushes, %d refused\n", refused);
	for (int i = 0; i < 33; i++) {
		tevent_context_pop_use(ev);
	}
	release(ev);
}

static void section_events(const char *backend)
{
	say("== events (%s)\n", backend);
	struct tevent_context *ev = new_main(backend);
	set_traces(ev);
	struct tevent_context *w = new_wrapper(ev, ev, "W");
	int p[2], q[2];
	make_pipe(p);
	make_pipe(q);

	say("-- signals\n");
	struct job sw = {"sigW", NOTHING, 0, -1, NULL}, sm = {"sigM", NOTHING, 0, -1, NULL};
	struct tevent_signal *se_w = NEW(SIGNAL, "sigW", tevent_add_signal(w, ev, SIGUSR1, 0, signal_handler, &sw));
	struct tevent_signal *se_m = NEW(SIGNAL, "sigM", tevent_add_signal(ev, ev, SIGUSR2, 0, signal_handler, &sm));
	if (se_w == NULL || se_m == NULL) {
		die("add_signal");
	}
	tevent_signal_set_tag(se_w, 11);
	tevent_signal_set_tag(se_m, 12);
	raise(SIGUSR1);
	raise(SIGUSR2);
	run_until(ev, "signal W", &sw.runs, 1);
	run_until(ev, "signal M", &sm.runs, 1);

	say("-- immediates\n");
	struct job iw = {"imW", NOTHING, 0, -1, NULL}, im_ = {"imM", NOTHING, 0, -1, NULL};
	struct tevent_immediate *im_w = named(tevent_create_immediate(ev), "imW");
	struct tevent_immediate *im_m = named(tevent_create_immediate(ev), "imM");
	tevent_immediate_set_tag(im_w, 21);
	tevent_immediate_set_tag(im_m, 22);
	tevent_schedule_immediate(im_w, w, im_handler, &iw);
	tevent_schedule_immediate(im_m, ev, im_handler, &im_);
	run_until(ev, "both immediates", &im_.runs, 1);

	say("-- timers\n");
	struct job tw = {"tW", NOTHING, 0, -1, NULL}, tm = {"tM", NOTHING, 0, -1, NULL};
	struct tevent_timer *te = NEW(TIMER, "tW", tevent_add_timer(w, ev, tevent_timeval_zero(), timer_handler, &tw));
	tevent_timer_set_tag(te, 31);
	te = NEW(TIMER, "tM", tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 1000), timer_handler, &tm));
	tevent_timer_set_tag(te, 32);
	run_until(ev, "both timers", &tm.runs, 1);

	say("-- fds\n");
	struct job fw = {"fdW", NOTHING, 0, p[0], NULL}, fm = {"fdM", NOTHING, 0, q[0], NULL};
	struct tevent_fd *fde_w = NEW(FD, "fdW", tevent_add_fd(w, ev, p[0], TEVENT_FD_READ, fd_handler, &fw));
	struct tevent_fd *fde_m = NEW(FD, "fdM", tevent_add_fd(ev, ev, q[0], TEVENT_FD_READ, fd_handler, &fm));
	tevent_fd_set_tag(fde_w, 41);
	tevent_fd_set_tag(fde_m, 42);
	poke(p[1]);
	run_until(ev, "fd W", &fw.runs, 1);
	poke(q[1]);
	run_until(ev, "fd M", &fm.runs, 1);
	say("fd flags through the wrapper's event: %u\n", (unsigned)tevent_fd_get_flags(fde_w));
	tevent_fd_set_flags(fde_w, TEVENT_FD_READ | TEVENT_FD_WRITE);
	say("after set_flags: %u\n", (unsigned)tevent_fd_get_flags(fde_w));
	tevent_fd_set_flags(fde_w, TEVENT_FD_READ);
	release(fde_m);

	say("-- freed inside their own handlers\n");
	fw.action = FREE_SELF;
	poke(p[1]);
	run_until(ev, "fd W frees itself", &fw.runs, 2);
	struct job tf = {"tFree", FREE_SELF, 0, -1, NULL};
	te = NEW(TIMER, "tFree", tevent_add_timer(w, ev, tevent_timeval_zero(), timer_handler, &tf));
	tevent_timer_set_tag(te, 33);
	run_until(ev, "timer frees itself", &tf.runs, 1);
	sw.action = FREE_SELF;
	raise(SIGUSR1);
	run_until(ev, "signal W frees itself", &sw.runs, 2);

	say("-- rescheduled\n");
	iw.action = RESCHEDULE_SELF;
	iw.runs = 0;
	tevent_schedule_immediate(im_w, w, im_handler, &iw);
	run_until(ev, "immediate reschedules itself", &iw.runs, 2);
	iw.action = NOTHING;
	tevent_schedule_immediate(im_w, w, im_handler, &iw);
	say("pending on W, scheduled again on main:\n");
	tevent_schedule_immediate(im_w, ev, im_handler, &iw);
	run_until(ev, "immediate", &iw.runs, 3);
	say("scheduled on main after it ran:\n");
	tevent_schedule_immediate(im_w, ev, im_handler, &iw);
	run_until(ev, "immediate", &iw.runs, 4);
	say("scheduled on W, then cancelled:\n");
	tevent_schedule_immediate(im_w, w, im_handler, &iw);
	tevent_schedule_immediate(im_w, w, NULL, NULL);
	fence(ev);
	say("immediate ran %d times\n", iw.runs);
	struct job tu = {"tUpd", NOTHING, 0, -1, NULL};
	te = NEW(TIMER, "tUpd", tevent_add_timer(w, ev, tevent_timeval_current_ofs(100, 0), timer_handler, &tu));
	tevent_timer_set_tag(te, 34);
	tevent_update_timer(te, tevent_timeval_zero());
	run_until(ev, "updated timer", &tu.runs, 1);

	say("-- push_use inside a handler of the same wrapper\n");
	struct job tp = {"tPush", PUSH_USE, 0, -1, NULL};
	te = NEW(TIMER, "tPush", tevent_add_timer(w, ev, tevent_timeval_zero(), timer_handler, &tp));
	run_until(ev, "timer pushing", &tp.runs, 1);

	say("-- the wrapper freed inside one of its handlers\n");
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *w2 = new_wrapper(ev, NULL, "W2");
	struct job fx = {"fdX", FREE_WRAPPER, 0, q[0], w2};
	struct job tx = {"tX", NOTHING, 0, -1, NULL}, ix = {"imX", NOTHING, 0, -1, NULL},
		   sx = {"sigX", NOTHING, 0, -1, NULL};
	struct tevent_fd *fde_x = NEW(FD, "fdX", tevent_add_fd(w2, mem, q[0], TEVENT_FD_READ, fd_handler, &fx));
	tevent_fd_set_tag(fde_x, 51);
	struct tevent_timer *te_x =
		NEW(TIMER, "tX", tevent_add_timer(w2, mem, tevent_timeval_current_ofs(0, 10000), timer_handler, &tx));
	tevent_timer_set_tag(te_x, 52);
	struct tevent_immediate *im_x = named(tevent_create_immediate(mem), "imX");
	tevent_immediate_set_tag(im_x, 53);
	struct tevent_signal *se_x = NEW(SIGNAL, "sigX", tevent_add_signal(w2, mem, SIGHUP, 0, signal_handler, &sx));
	tevent_signal_set_tag(se_x, 54);
	poke(q[1]);
	run_until(ev, "fd frees its wrapper", &fx.runs, 1);
	tevent_schedule_immediate(im_x, ev, im_handler, &ix);
	fence(ev);
	say("fdX flags=%u; ran: tX=%d imX=%d sigX=%d\n", (unsigned)tevent_fd_get_flags(fde_x), tx.runs, ix.runs,
	    sx.runs);
	say("freeing the events:\n");
	talloc_free(mem);
	unname(fde_x);
	unname(te_x);
	unname(im_x);
	unname(se_x);

	say("-- the wrapper freed with events pending\n");
	mem = talloc_new(NULL);
	w2 = new_wrapper(ev, NULL, "W3");
	fde_x = NEW(FD, "fdY", tevent_add_fd(w2, mem, q[0], TEVENT_FD_READ, fd_handler, &fx));
	tevent_fd_set_tag(fde_x, 61);
	te_x = NEW(TIMER, "tY", tevent_add_timer(w2, mem, tevent_timeval_zero(), timer_handler, &tx));
	tevent_timer_set_tag(te_x, 62);
	im_x = named(tevent_create_immediate(mem), "imY");
	tevent_immediate_set_tag(im_x, 63);
	tevent_schedule_immediate(im_x, w2, im_handler, &ix);
	se_x = NEW(SIGNAL, "sigY", tevent_add_signal(w2, mem, SIGHUP, 0, signal_handler, &sx));
	tevent_signal_set_tag(se_x, 64);
	poke(q[1]);
	release(w2);
	fence(ev);
	say("ran: fdY=%d tY=%d imY=%d sigY=%d\n", fx.runs - 1, tx.runs, ix.runs, sx.runs);
	char c;
	if (read(q[0], &c, 1) != 1) {
		die("read");
	}
	talloc_free(mem);
	unname(fde_x);
	unname(te_x);
	unname(im_x);
	unname(se_x);

	say("-- the main context freed under a live wrapper\n");
	mem = talloc_new(NULL);
	w2 = new_wrapper(ev, NULL, "W4");
	fde_x = NEW(FD, "fdZ", tevent_add_fd(w2, mem, q[0], TEVENT_FD_READ, fd_handler, &fx));
	tevent_fd_set_tag(fde_x, 71);
	te_x = NEW(TIMER, "tZ", tevent_add_timer(w2, mem, tevent_timeval_zero(), timer_handler, &tx));
	tevent_timer_set_tag(te_x, 72);
	im_x = named(tevent_create_immediate(mem), "imZ");
	tevent_immediate_set_tag(im_x, 73);
	tevent_schedule_immediate(im_x, w2, im_handler, &ix);
	se_x = NEW(SIGNAL, "sigZ", tevent_add_signal(w2, mem, SIGHUP, 0, signal_handler, &sx));
	tevent_signal_set_tag(se_x, 74);
	release(se_m);
	release(im_w);
	release(im_m);
	release(w); /* fdW, tFree and sigW freed themselves */
	say("freeing main:\n");
	release(ev);
	say("is_wrapper=%d same_loop=%d push_use=%d\n", tevent_context_is_wrapper(w2),
	    tevent_context_same_loop(w2, w2), tevent_context_push_use(w2));
	errno = 0;
	void *r1 = tevent_add_fd(w2, mem, q[0], TEVENT_FD_READ, fd_handler, &fx);
	int e1 = errno;
	errno = 0;
	void *r2 = tevent_add_timer(w2, mem, tevent_timeval_zero(), timer_handler, &tx);
	int e2 = errno;
	errno = 0;
	void *r3 = tevent_add_signal(w2, mem, SIGHUP, 0, signal_handler, &sx);
	int e3 = errno;
	say("add_fd=%s/%d add_timer=%s/%d add_signal=%s/%d\n", r1 == NULL ? "NULL" : "event", e1,
	    r2 == NULL ? "NULL" : "event", e2, r3 == NULL ? "NULL" : "event", e3);
	say("freeing the events and the wrapper:\n");
	talloc_free(mem);
	unname(fde_x);
	unname(te_x);
	unname(im_x);
	unname(se_x);
	release(w2);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}

/* Events freed while pending, then tevent_re_initialise() of the main
 * context with events of both contexts pending. */
static void section_pending(const char *backend)
{
	say("== pending events (%s)\n", backend);
	struct tevent_context *ev = new_main(backend);
	set_traces(ev);
	struct tevent_context *w = new_wrapper(ev, ev, "W");
	int p[2];
	make_pipe(p);
	struct job j = {"never", NOTHING, 0, p[0], NULL};

	say("-- freed before they ran\n");
	struct tevent_timer *tm = NEW(TIMER, "tM", tevent_add_timer(ev, ev, tevent_timeval_current_ofs(100, 0),
								     timer_handler, &j));
	struct tevent_timer *tw = NEW(TIMER, "tW", tevent_add_timer(w, ev, tevent_timeval_current_ofs(100, 0),
								     timer_handler, &j));
	tevent_timer_set_tag(tm, 1);
	tevent_timer_set_tag(tw, 2);
	struct tevent_immediate *im_m = named(tevent_create_immediate(ev), "imM");
	struct tevent_immediate *im_w = named(tevent_create_immediate(ev), "imW");
	tevent_immediate_set_tag(im_m, 3);
	tevent_immediate_set_tag(im_w, 4);
	tevent_schedule_immediate(im_m, ev, im_handler, &j);
	tevent_schedule_immediate(im_w, w, im_handler, &j);
	struct tevent_fd *fm = NEW(FD, "fdM", tevent_add_fd(ev, ev, p[0], TEVENT_FD_READ, fd_handler, &j));
	struct tevent_fd *fw = NEW(FD, "fdW", tevent_add_fd(w, ev, p[0], TEVENT_FD_READ, fd_handler, &j));
	tevent_fd_set_tag(fm, 5);
	tevent_fd_set_tag(fw, 6);
	struct tevent_signal *sw = NEW(SIGNAL, "sigW", tevent_add_signal(w, ev, SIGUSR1, 0, signal_handler, &j));
	tevent_signal_set_tag(sw, 7);
	say("freeing:\n");
	release(tw);
	release(tm);
	release(im_w);
	release(im_m);
	release(fw);
	release(fm);
	release(sw);
	fence(ev);
	say("ran %d\n", j.runs);

	say("-- tevent_re_initialise() of the main context\n");
	TALLOC_CTX *mem = talloc_new(NULL);
	tm = NEW(TIMER, "tM2", tevent_add_timer(ev, mem, tevent_timeval_current_ofs(100, 0), timer_handler, &j));
	tw = NEW(TIMER, "tW2", tevent_add_timer(w, mem, tevent_timeval_zero(), timer_handler, &j));
	tevent_timer_set_tag(tm, 11);
	tevent_timer_set_tag(tw, 12);
	im_w = named(tevent_create_immediate(mem), "imW2");
	tevent_immediate_set_tag(im_w, 13);
	tevent_schedule_immediate(im_w, w, im_handler, &j);
	fw = NEW(FD, "fdW2", tevent_add_fd(w, mem, p[0], TEVENT_FD_READ, fd_handler, &j));
	tevent_fd_set_tag(fw, 14);
	sw = NEW(SIGNAL, "sigW2", tevent_add_signal(w, mem, SIGUSR1, 0, signal_handler, &j));
	tevent_signal_set_tag(sw, 15);
	struct tevent_signal *sm = NEW(SIGNAL, "sigM2", tevent_add_signal(ev, mem, SIGUSR2, 0, signal_handler, &j));
	tevent_signal_set_tag(sm, 16);
	say("re_initialise=%d\n", tevent_re_initialise(ev));
	say("wrapper after it: same_loop=%d push_use=%d\n", tevent_context_same_loop(w, ev),
	    tevent_context_push_use(w));
	poke(p[1]);
	fence(ev);
	say("ran %d\n", j.runs);
	say("freeing:\n");
	talloc_free(mem);
	unname(tm);
	unname(tw);
	unname(im_w);
	unname(fw);
	unname(sw);
	unname(sm);
	release(w);
	release(ev);
	close(p[0]);
	close(p[1]);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

/* ---- requests and queues ------------------------------------------------------------ */

struct req_state {
	const char *name;
	struct tevent_req *subreq;
};

static void req_done(struct tevent_req *req)
{
	struct req_state *state = tevent_req_data(req, struct req_state);
	enum tevent_req_state st = TEVENT_REQ_DONE;
	uint64_t err = 0;
	bool failed = tevent_req_is_error(req, &st, &err);
	say("  callback %s: error=%d state=%d code=%llu\n", state->name, failed, (int)st, (unsigned long long)err);
	release(req);
}

static struct tevent_req *new_req(const char *name, bool callback)
{
	struct req_state *state;
	struct tevent_req *req = tevent_req_create(NULL, &state, struct req_state);
	if (req == NULL) {
		die("req");
	}
	state->name = name;
	if (callback) {
		tevent_req_set_callback(req, req_done, NULL);
	}
	return named(req, name);
}

static struct tevent_context *g_cancel_ev;

static bool cancel_fn(struct tevent_req *req)
{
	struct req_state *state = tevent_req_data(req, struct req_state);
	say("  cancel function of %s\n", state->name);
	TALLOC_FREE(state->subreq);
	tevent_req_defer_callback(req, g_cancel_ev);
	tevent_req_error(req, ECANCELED);
	return true;
}

static void sub_done(struct tevent_req *subreq)
{
	say("  subrequest finished (unexpected)\n");
	(void)subreq;
}

static int g_triggers;

static void trigger(struct tevent_req *req, void *p)
{
	struct req_state *state = tevent_req_data(req, struct req_state);
	g_triggers++;
	say("  trigger %s (%s)\n", state->name, (const char *)p);
	tevent_req_done(req);
}

static void section_requests(void)
{
	say("== requests and queues\n");
	struct tevent_context *ev = new_main(NULL);
	set_traces(ev);
	struct tevent_context *w = new_wrapper(ev, ev, "W");

	say("-- success, posted on the wrapper\n");
	/* As a _send function does: finished before the caller sets the
	 * callback, which then runs from an immediate on the wrapper. */
	struct tevent_req *req = new_req("ok", false);
	tevent_req_done(req);
	tevent_req_set_callback(tevent_req_post(req, w), req_done, NULL);
	fence(ev);

	say("-- error, posted on the wrapper\n");
	req = new_req("error", false);
	tevent_req_error(req, 42);
	tevent_req_set_callback(tevent_req_post(req, w), req_done, NULL);
	fence(ev);

	say("-- timeout on the wrapper\n");
	req = new_req("timeout", true);
	if (!tevent_req_set_endtime(req, w, tevent_timeval_current_ofs(0, 1000))) {
		die("endtime");
	}
	fence(ev);

	say("-- cancelled, callback deferred to the wrapper\n");
	req = new_req("cancelled", true);
	struct req_state *state = tevent_req_data(req, struct req_state);
	state->subreq = tevent_wakeup_send(req, w, tevent_timeval_current_ofs(100, 0));
	tevent_req_set_callback(state->subreq, sub_done, NULL);
	g_cancel_ev = w;
	tevent_req_set_cancel_fn(req, cancel_fn);
	say("cancel=%d\n", tevent_req_cancel(req));
	fence(ev);

	say("-- tevent_wakeup on the wrapper\n");
	struct tevent_req *wake = named(tevent_wakeup_send(ev, w, tevent_timeval_current_ofs(0, 1000)), "wakeup");
	fence(ev);
	say("wakeup done=%d recv=%d\n", !tevent_req_is_in_progress(wake), tevent_wakeup_recv(wake));
	release(wake);

	say("-- a queue with entries added through the wrapper and the main context\n");
	struct tevent_queue *queue = tevent_queue_create(ev, "q");
	struct tevent_req *r1 = new_req("q1", true), *r2 = new_req("q2", true), *r3 = new_req("q3", true);
	struct tevent_queue_entry *e1 = NEW(QUEUE_ENTRY, "e1", tevent_queue_add_entry(queue, w, r1, trigger, "via W"));
	struct tevent_queue_entry *e2 = NEW(QUEUE_ENTRY, "e2", tevent_queue_add_entry(queue, ev, r2, trigger, "via main"));
	struct tevent_queue_entry *e3 = NEW(QUEUE_ENTRY, "e3", tevent_queue_add_entry(queue, w, r3, trigger, "via W"));
	if (e1 == NULL || e2 == NULL || e3 == NULL) {
		die("queue");
	}
	tevent_queue_entry_set_tag(e1, 81);
	tevent_queue_entry_set_tag(e2, 82);
	tevent_queue_entry_set_tag(e3, 83);
	say("queue length=%zu\n", tevent_queue_length(queue));
	g_triggers = 0;
	run_until(ev, "three triggers", &g_triggers, 3);
	fence(ev);
	say("queue length=%zu\n", tevent_queue_length(queue));

	say("-- queue_wait through the wrapper\n");
	struct tevent_req *qw = named(tevent_queue_wait_send(ev, w, queue), "qwait");
	fence(ev);
	say("queue_wait done=%d recv=%d\n", !tevent_req_is_in_progress(qw), tevent_queue_wait_recv(qw));
	release(qw);
	release(queue);
	release(w);
	release(ev);
}

/* ---- threads -------------------------------------------------------------------------- */

static void section_threads(void)
{
	say("== threaded context on a wrapper\n");
	talloc_disable_null_tracking();
	struct tevent_context *ev = new_main(NULL);
	set_traces(ev);
	struct tevent_context *w = new_wrapper(ev, ev, "W");
	/* Neither it nor the main context is freed: once the wrapper is gone
	 * the reference aborts freeing either. */
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(NULL, w);
	if (tctx == NULL) {
		die("threaded context");
	}
	struct job a = {"thA", NOTHING, 0, -1, NULL}, b = {"thB", NOTHING, 0, -1, NULL};
	struct tevent_immediate *im_a = named(tevent_create_immediate(ev), "thA");
	struct tevent_immediate *im_b = named(tevent_create_immediate(ev), "thB");
	tevent_threaded_schedule_immediate(tctx, im_a, im_handler, &a);
	tevent_threaded_schedule_immediate(tctx, im_b, im_handler, &b);
	run_until(ev, "both threaded immediates", &b.runs, 1);
	say("-- sent, then the wrapper freed\n");
	struct job c = {"thC", NOTHING, 0, -1, NULL};
	struct tevent_immediate *im_c = named(tevent_create_immediate(ev), "thC");
	tevent_threaded_schedule_immediate(tctx, im_c, im_handler, &c);
	release(w);
	fence(ev);
	say("thC ran %d times\n", c.runs);
}

int main(void)
{
	check_mapped((const void *)tevent_context_init, "libtevent", "TEVENT_DIFF_EXPECT_LIB");
	check_mapped((const void *)talloc_named_const, "libtalloc", "TEVENT_DIFF_EXPECT_TALLOC");
	alarm(120);
	tevent_set_abort_fn(abort_fn);

	section_create();
	section_use();
	const char *backends[] = {"epoll", "poll", "poll_mt", "standard"};
	for (int i = 0; i < 4; i++) {
		section_events(backends[i]);
		section_pending(backends[i]);
	}
	section_requests();
	/* Last: null tracking stays off from then on. */
	section_threads();
	say("== end\n");
	return 0;
}

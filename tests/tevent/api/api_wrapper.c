/*
 * Wrapper contexts: hooks around every kind of handler and their order
 * relative to the trace points, the use stack, teardown (of the wrapper,
 * inside and outside its handlers, and of its main context), threaded
 * contexts on a wrapper, and misuse, which is reported through the abort
 * function with the reference's messages.
 *
 * The abort function used here records the reason and returns, as a test
 * harness's would: the library then carries on, and what it does next is
 * asserted too.  Where the reference crashes (or corrupts its state) the
 * behaviour is ours only and compiled out of the reference build.
 */
#include "common.h"

/* ---- recording --------------------------------------------------------------- */

#define MAX_LOG 64

/* Everything hooks, trace points, handlers and tevent_abort() report, in
 * order, as short strings. */
static struct {
	char entry[MAX_LOG][160];
	int n;
} g_log;

static void log_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_add(const char *fmt, ...)
{
	if (g_log.n < MAX_LOG) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(g_log.entry[g_log.n], sizeof(g_log.entry[0]), fmt, ap);
		va_end(ap);
	}
	g_log.n++;
}

static void log_reset(void)
{
	g_log.n = 0;
}

/* Asserts the log is exactly the given entries (NULL-terminated). */
static void log_expect(const char *first, ...)
{
	va_list ap;
	va_start(ap, first);
	int i = 0;
	for (const char *want = first; want != NULL; want = va_arg(ap, const char *), i++) {
		if (i >= g_log.n) {
			fail_msg("log entry %d missing, expected \"%s\"", i, want);
		}
		if (strcmp(g_log.entry[i], want) != 0) {
			fail_msg("log entry %d is \"%s\", expected \"%s\"", i, g_log.entry[i], want);
		}
	}
	va_end(ap);
	if (g_log.n != i) {
		fail_msg("log has %d entries, expected %d (next: \"%s\")", g_log.n, i,
			 g_log.n > i && i < MAX_LOG ? g_log.entry[i] : "?");
	}
	log_reset();
}

static void abort_fn(const char *reason)
{
	log_add("abort: %s", reason);
}

#define MAX_DEBUG 16

struct debug_log {
	char text[MAX_DEBUG][160];
	int n;
};

static void debug_fn(void *context, enum tevent_debug_level level, const char *fmt, va_list ap)
{
	struct debug_log *d = context;
	if (level != TEVENT_DEBUG_FATAL || d == NULL) {
		return;
	}
	if (d->n < MAX_DEBUG) {
		vsnprintf(d->text[d->n], sizeof(d->text[0]), fmt, ap);
	}
	d->n++;
}

static void trace_fd(struct tevent_fd *fde, enum tevent_event_trace_point p, void *priv)
{
	(void)priv;
	/* The implementations' own descriptors carry no tag. */
	if (tevent_fd_get_tag(fde) != 0) {
		log_add("trace fd %d tag=%llu", (int)p, (unsigned long long)tevent_fd_get_tag(fde));
	}
}

/* The guard timers that bound the loops below are not logged. */
static bool g_quiet;
static struct tevent_timer *g_guard;

static void trace_timer(struct tevent_timer *te, enum tevent_event_trace_point p, void *priv)
{
	(void)priv;
	if (g_quiet || te == g_guard) {
		return;
	}
	log_add("trace timer %d tag=%llu", (int)p, (unsigned long long)tevent_timer_get_tag(te));
}

static void trace_immediate(struct tevent_immediate *im, enum tevent_event_trace_point p, void *priv)
{
	(void)priv;
	log_add("trace immediate %d tag=%llu", (int)p, (unsigned long long)tevent_immediate_get_tag(im));
}

static void trace_signal(struct tevent_signal *se, enum tevent_event_trace_point p, void *priv)
{
	(void)priv;
	log_add("trace signal %d tag=%llu", (int)p, (unsigned long long)tevent_signal_get_tag(se));
}

static void set_traces(struct tevent_context *ev)
{
	tevent_set_trace_fd_callback(ev, trace_fd, NULL);
	tevent_set_trace_timer_callback(ev, trace_timer, NULL);
	tevent_set_trace_immediate_callback(ev, trace_immediate, NULL);
	tevent_set_trace_signal_callback(ev, trace_signal, NULL);
}

/* ---- the wrapper ----------------------------------------------------------------- */

struct wstate {
	struct tevent_context *main_ev;
	bool refuse_use;
	int uses;
};

static struct tevent_context *g_wrap;

/* Hooks check what they are given, then log. */
static void check(struct tevent_context *wrap_ev, void *private_state, struct tevent_context *main_ev)
{
	struct wstate *st = private_state;
	assert_true(tevent_context_is_wrapper(wrap_ev));
	assert_ptr_equal(main_ev, st->main_ev);
}

static bool before_use(struct tevent_context *w, void *p, struct tevent_context *m, const char *location)
{
	struct wstate *st = p;
	check(w, p, m);
	assert_non_null(strstr(location, "api_wrapper.c"));
	log_add("before_use%s", st->refuse_use ? " (refused)" : "");
	st->uses++;
	return !st->refuse_use;
}

static void after_use(struct tevent_context *w, void *p, struct tevent_context *m, const char *location)
{
	struct wstate *st = p;
	check(w, p, m);
	assert_non_null(strstr(location, "api_wrapper.c"));
	log_add("after_use");
	st->uses--;
}

static void before_fd(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_fd *fde,
		      uint16_t flags, const char *name, const char *location)
{
	check(w, p, m);
	assert_non_null(strstr(location, "api_wrapper.c"));
	log_add("before_fd %s tag=%llu flags=%u", name, (unsigned long long)tevent_fd_get_tag(fde), (unsigned)flags);
}

static void after_fd(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_fd *fde,
		     uint16_t flags, const char *name, const char *location)
{
	check(w, p, m);
	(void)fde;
	(void)location;
	log_add("after_fd %s flags=%u", name, (unsigned)flags);
}

static void before_timer(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_timer *te,
			 struct timeval requested, struct timeval trigger, const char *name, const char *location)
{
	check(w, p, m);
	(void)location;
	log_add("before_timer %s tag=%llu zero=%d/%d", name, (unsigned long long)tevent_timer_get_tag(te),
		tevent_timeval_is_zero(&requested), tevent_timeval_is_zero(&trigger));
}

static void after_timer(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_timer *te,
			struct timeval requested, struct timeval trigger, const char *name, const char *location)
{
	check(w, p, m);
	(void)te;
	(void)requested;
	(void)trigger;
	(void)location;
	log_add("after_timer %s", name);
}

static void before_im(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_immediate *im,
		      const char *name, const char *location)
{
	check(w, p, m);
	(void)location;
	log_add("before_immediate %s tag=%llu", name, (unsigned long long)tevent_immediate_get_tag(im));
}

static void after_im(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_immediate *im,
		     const char *name, const char *location)
{
	check(w, p, m);
	(void)im;
	(void)location;
	log_add("after_immediate %s", name);
}

static void before_signal(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_signal *se,
			  int signum, int count, void *siginfo, const char *name, const char *location)
{
	check(w, p, m);
	(void)siginfo;
	(void)location;
	log_add("before_signal %s tag=%llu signum=%d count=%d", name, (unsigned long long)tevent_signal_get_tag(se),
		signum, count);
}

static void after_signal(struct tevent_context *w, void *p, struct tevent_context *m, struct tevent_signal *se,
			 int signum, int count, void *siginfo, const char *name, const char *location)
{
	check(w, p, m);
	(void)se;
	(void)siginfo;
	(void)location;
	log_add("after_signal %s signum=%d count=%d", name, signum, count);
}

static const struct tevent_wrapper_ops ops = {
	.name = "test",
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

static struct tevent_context *wrapper(struct tevent_context *main_ev, TALLOC_CTX *mem_ctx, struct wstate **pst)
{
	struct wstate *st = NULL;
	struct tevent_context *w = tevent_context_wrapper_create(main_ev, mem_ctx, &ops, &st, struct wstate);
	assert_non_null(w);
	assert_non_null(st);
	st->main_ev = main_ev;
	if (pst != NULL) {
		*pst = st;
	}
	return w;
}

static int setup(void **state)
{
	(void)state;
	log_reset();
	tevent_set_abort_fn(abort_fn);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tevent_set_abort_fn(NULL);
	return 0;
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TEST_BACKENDS(f)                                                                    \
	cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, (void *)"epoll"),      \
		cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, (void *)"poll"),   \
		cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, (void *)"poll_mt"), \
		cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, (void *)"standard")

/* ---- handlers ----------------------------------------------------------------------- */

static const char *who(struct tevent_context *ev)
{
	return ev == g_wrap ? "wrapper" : tevent_context_is_wrapper(ev) ? "other wrapper" : "main";
}

static int g_runs;

static void fd_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)fde;
	log_add("fd handler on %s flags=%u", who(ev), (unsigned)flags);
	tt_read_byte(*(int *)p);
	g_runs++;
}

static void timer_handler(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)te;
	(void)now;
	(void)p;
	log_add("timer handler on %s", who(ev));
	g_runs++;
}

static void im_handler(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)im;
	(void)p;
	log_add("immediate handler on %s", who(ev));
	g_runs++;
}

static void signal_handler(struct tevent_context *ev, struct tevent_signal *se, int signum, int count,
			   void *siginfo, void *p)
{
	(void)se;
	(void)siginfo;
	(void)p;
	log_add("signal handler on %s signum=%d count=%d", who(ev), signum, count);
	g_runs++;
}

static struct tevent_timer *add_guard(struct tevent_context *ev, TALLOC_CTX *mem_ctx, uint32_t usecs, bool *flag)
{
	g_quiet = true;
	struct tevent_timer *te =
		tevent_add_timer(ev, mem_ctx, tevent_timeval_current_ofs(usecs / 1000000, usecs % 1000000),
				 tt_deadline_handler, flag);
	g_quiet = false;
	assert_non_null(te);
	return te;
}

/* Loops until the handlers ran `runs` times (at most 5 s), then insists
 * on exactly that many. */
static void run(struct tevent_context *ev, int runs)
{
	bool expired = false;
	TALLOC_CTX *guard = talloc_new(NULL);
	g_guard = add_guard(ev, guard, 5000000, &expired);
	g_runs = 0;
	while (g_runs < runs && !expired) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	g_quiet = true;
	talloc_free(guard);
	g_quiet = false;
	g_guard = NULL;
	assert_int_equal(g_runs, runs);
}

/* Loops for a while: what is still pending then would have run. */
static void wait_a_little(struct tevent_context *ev)
{
	bool expired = false;
	TALLOC_CTX *guard = talloc_new(NULL);
	g_guard = add_guard(ev, guard, 20000, &expired);
	while (!expired) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	g_quiet = true;
	talloc_free(guard);
	g_quiet = false;
	g_guard = NULL;
}

/* ---- creation --------------------------------------------------------------------------- */

static void test_create(void **state)
{
	(void)state;
	struct tevent_context *ev = tevent_context_init(NULL);
	struct debug_log d = {.n = 0};
	tevent_set_debug(ev, debug_fn, &d);
	TALLOC_CTX *mem = talloc_new(NULL);
	struct wstate *st;
	struct tevent_context *w = wrapper(ev, mem, &st);

	assert_true(tevent_context_is_wrapper(w));
	assert_false(tevent_context_is_wrapper(ev));
	assert_true(tevent_context_same_loop(w, ev));
	assert_true(tevent_context_same_loop(ev, w));
	struct tevent_context *other = tevent_context_init(NULL);
	assert_false(tevent_context_same_loop(w, other));

	/* A context, owning the glue, owning the zeroed private state. */
	assert_ptr_equal(talloc_parent(w), mem);
	assert_string_equal(talloc_get_name(w), "struct tevent_context");
	assert_string_equal(talloc_get_name(st), "struct wstate");
	assert_string_equal(talloc_get_name(talloc_parent(st)), "struct tevent_wrapper_glue");
	assert_ptr_equal(talloc_parent(talloc_parent(st)), w);
	assert_int_equal(st->uses, 0);

	/* No wrapper of a wrapper. */
	struct wstate *st2 = NULL;
	errno = 0;
	assert_null(tevent_context_wrapper_create(w, mem, &ops, &st2, struct wstate));
	assert_int_equal(errno, EINVAL);
	assert_null(st2);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.text[0], "stacking not allowed"));

	/* Wrappers and nested loops exclude each other. */
	struct tevent_context *nesting = tevent_context_init(NULL);
	tevent_loop_allow_nesting(nesting);
	errno = 0;
	assert_null(tevent_context_wrapper_create(nesting, mem, &ops, &st2, struct wstate));
	assert_int_equal(errno, EINVAL);
	tevent_loop_allow_nesting(w);
	tevent_loop_allow_nesting(ev);
	log_expect("abort: tevent_loop_allow_nesting() on wrapper", "abort: tevent_loop_allow_nesting() with wrapper",
		   NULL);

	talloc_free(nesting);
	talloc_free(other);
	talloc_free(mem);
	talloc_free(ev);
	assert_int_equal(g_log.n, 0);
}

/* ---- hooks and trace points ------------------------------------------------------------- */

static void test_hooks(void **state)
{
	struct tevent_context *ev = tt_context(state);
	set_traces(ev);
	g_wrap = wrapper(ev, ev, NULL);
	int p[2];
	tt_pipe(p);

	/* Created through the wrapper, traced by the main context. */
	struct tevent_fd *fde = tevent_add_fd(g_wrap, ev, p[0], TEVENT_FD_READ, fd_handler, &p[0]);
	assert_non_null(fde);
	tevent_fd_set_tag(fde, 1);
	struct tevent_timer *te = tevent_add_timer(g_wrap, ev, tevent_timeval_zero(), timer_handler, NULL);
	assert_non_null(te);
	tevent_timer_set_tag(te, 2);
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_immediate_set_tag(im, 3);
	tevent_schedule_immediate(im, g_wrap, im_handler, NULL);
	struct tevent_signal *se = tevent_add_signal(g_wrap, ev, SIGUSR1, 0, signal_handler, NULL);
	assert_non_null(se);
	tevent_signal_set_tag(se, 4);
	log_expect("trace timer 0 tag=0", "trace immediate 0 tag=3", "trace signal 0 tag=0", NULL);

	raise(SIGUSR1);
	run(ev, 1);
	log_expect("before_signal signal_handler tag=4 signum=10 count=1", "trace signal 2 tag=4",
		   "signal handler on wrapper signum=10 count=1", "after_signal signal_handler signum=10 count=1",
		   NULL);
	run(ev, 1);
	log_expect("before_immediate im_handler tag=3", "trace immediate 2 tag=3", "immediate handler on wrapper",
		   "after_immediate im_handler", "trace immediate 1 tag=3", NULL);
	run(ev, 1);
	log_expect("before_timer timer_handler tag=2 zero=1/1", "trace timer 2 tag=2", "timer handler on wrapper",
		   "after_timer timer_handler", "trace timer 1 tag=2", NULL);
	tt_write_byte(p[1]);
	run(ev, 1);
	log_expect("before_fd fd_handler tag=1 flags=1", "trace fd 2 tag=1", "fd handler on wrapper flags=1",
		   "after_fd fd_handler flags=1", NULL);

	/* Events of the main context run without hooks. */
	tevent_schedule_immediate(im, ev, im_handler, NULL);
	run(ev, 1);
	log_expect("trace immediate 0 tag=3", "trace immediate 2 tag=3", "immediate handler on main",
		   "trace immediate 1 tag=3", NULL);

	/* An immediate pending on the wrapper stays the wrapper's when it is
	 * scheduled again on the main context. */
	tevent_schedule_immediate(im, g_wrap, im_handler, NULL);
	tevent_schedule_immediate(im, ev, im_handler, NULL);
	run(ev, 1);
	log_expect("trace immediate 0 tag=3", "trace immediate 1 tag=3", "trace immediate 0 tag=3",
		   "before_immediate im_handler tag=3", "trace immediate 2 tag=3", "immediate handler on wrapper",
		   "after_immediate im_handler", "trace immediate 1 tag=3", NULL);

	/* Moving a timer is a detach and an attach. */
	te = tevent_add_timer(g_wrap, ev, tevent_timeval_current_ofs(100, 0), timer_handler, NULL);
	tevent_timer_set_tag(te, 5);
	tevent_update_timer(te, tevent_timeval_zero());
	run(ev, 1);
	log_expect("trace timer 0 tag=0", "trace timer 1 tag=5", "trace timer 0 tag=5",
		   "before_timer timer_handler tag=5 zero=1/1", "trace timer 2 tag=5", "timer handler on wrapper",
		   "after_timer timer_handler", "trace timer 1 tag=5", NULL);

	talloc_free(se);
	log_expect("trace signal 1 tag=4", NULL);
	talloc_free(fde);
	log_expect("trace fd 1 tag=1", NULL);
	talloc_free(ev);
	log_expect(NULL);
	close(p[0]);
	close(p[1]);
	signal(SIGUSR1, SIG_DFL);
}

/* An event freed by its own handler: the after hook still runs, after the
 * DETACH trace point. */
static void free_fd(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	(void)flags;
	tt_read_byte(*(int *)p);
	talloc_free(fde);
	log_add("fd freed");
	g_runs++;
}

static void free_timer(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)ev;
	(void)now;
	(void)p;
	talloc_free(te);
	log_add("timer freed");
	g_runs++;
}

static void free_signal(struct tevent_context *ev, struct tevent_signal *se, int signum, int count,
			void *siginfo, void *p)
{
	(void)ev;
	(void)signum;
	(void)count;
	(void)siginfo;
	(void)p;
	talloc_free(se);
	log_add("signal freed");
	g_runs++;
}

static void test_freed_in_handler(void **state)
{
	struct tevent_context *ev = tt_context(state);
	set_traces(ev);
	g_wrap = wrapper(ev, ev, NULL);
	int p[2];
	tt_pipe(p);
	struct tevent_fd *fde = tevent_add_fd(g_wrap, ev, p[0], TEVENT_FD_READ, free_fd, &p[0]);
	tevent_fd_set_tag(fde, 1);
	tt_write_byte(p[1]);
	run(ev, 1);
	log_expect("before_fd free_fd tag=1 flags=1", "trace fd 2 tag=1", "trace fd 1 tag=1", "fd freed",
		   "after_fd free_fd flags=1", NULL);
	struct tevent_timer *te = tevent_add_timer(g_wrap, ev, tevent_timeval_zero(), free_timer, NULL);
	tevent_timer_set_tag(te, 2);
	run(ev, 1);
	log_expect("trace timer 0 tag=0", "before_timer free_timer tag=2 zero=1/1", "trace timer 2 tag=2",
		   "trace timer 1 tag=2", "timer freed", "after_timer free_timer", NULL);
	struct tevent_signal *se = tevent_add_signal(g_wrap, ev, SIGUSR2, 0, free_signal, NULL);
	tevent_signal_set_tag(se, 3);
	raise(SIGUSR2);
	run(ev, 1);
	log_expect("trace signal 0 tag=0", "before_signal free_signal tag=3 signum=12 count=1", "trace signal 2 tag=3",
		   "trace signal 1 tag=3", "signal freed", "after_signal free_signal signum=12 count=1", NULL);
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
	signal(SIGUSR2, SIG_DFL);
}

/* ---- the use stack ------------------------------------------------------------------------ */

static void test_push_pop(void **state)
{
	(void)state;
	struct tevent_context *ev = tevent_context_init(NULL);
	struct wstate *st, *rst;
	g_wrap = wrapper(ev, ev, &st);
	struct tevent_context *r = wrapper(ev, ev, &rst);
	rst->refuse_use = true;

	assert_true(tevent_context_push_use(g_wrap));
	assert_true(tevent_context_push_use(ev)); /* a main context: only a stack entry */
	tevent_context_pop_use(ev);
	tevent_context_pop_use(g_wrap);
	log_expect("before_use", "after_use", NULL);
	assert_int_equal(st->uses, 0);

	/* Refused by the hook: not on the stack, so no pop. */
	assert_false(tevent_context_push_use(r));
	log_expect("before_use (refused)", NULL);
	assert_true(tevent_context_push_use(ev));
	tevent_context_pop_use(ev);
	log_expect(NULL);

	/* Up to 32 entries. */
	for (int i = 0; i < 32; i++) {
		assert_true(tevent_context_push_use(ev));
	}
	for (int i = 0; i < 32; i++) {
		tevent_context_pop_use(ev);
	}
	log_expect(NULL);
	talloc_free(ev);
}

static void test_push_pop_misuse(void **state)
{
	(void)state;
	struct tevent_context *ev = tevent_context_init(NULL);
	struct wstate *st;
	g_wrap = wrapper(ev, ev, &st);

	/* Each is reported; the call then carries on as the reference's does. */
	tevent_context_pop_use(g_wrap);
	log_expect("abort: tevent_wrapper stack already empty", "after_use", NULL);

	assert_true(tevent_context_push_use(g_wrap));
	assert_true(tevent_context_push_use(ev));
	tevent_context_pop_use(g_wrap);
	tevent_context_pop_use(ev);
	log_expect("before_use", "abort: tevent_wrapper_pop_use mismatch ev!", "after_use",
		   "abort: tevent_wrapper_pop_use mismatch ev!", NULL);

	assert_true(tevent_context_push_use(g_wrap));
	assert_true(tevent_context_push_use(g_wrap));
	tevent_context_pop_use(g_wrap);
	log_expect("before_use", "abort: wrapper already busy!", "before_use", "after_use", NULL);

	for (int i = 0; i < 33; i++) {
		assert_true(tevent_context_push_use(ev));
	}
	log_expect("abort: TEVENT_WRAPPER_STACK_SIZE overflow", NULL);
	for (int i = 0; i < 33; i++) {
		tevent_context_pop_use(ev);
	}
	log_expect("abort: tevent_wrapper stack already empty", NULL);
	talloc_free(ev);
}

/* A wrapper's handler runs with the wrapper on the stack. */
static void push_in_handler(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)te;
	(void)now;
	(void)p;
	assert_true(tevent_context_push_use(ev));
	g_runs++;
}

static void test_push_in_handler(void **state)
{
	(void)state;
	struct tevent_context *ev = tevent_context_init(NULL);
	g_wrap = wrapper(ev, ev, NULL);
	tevent_add_timer(g_wrap, ev, tevent_timeval_zero(), push_in_handler, NULL);
	run(ev, 1);
	log_expect("before_timer push_in_handler tag=0 zero=1/1", "abort: wrapper already busy!", "before_use",
		   "after_timer push_in_handler", NULL);
	talloc_free(ev);
}

#ifndef TEVENT_TEST_REFERENCE
/* Ours keeps one stack per thread (the reference one per process): a
 * thread looping its own contexts does not see the entries of another. */
static void *push_pop_elsewhere(void *arg)
{
	struct tevent_context *ev = arg;
	tevent_context_pop_use(ev); /* this thread's stack is empty */
	for (int i = 0; i < 32; i++) {
		if (!tevent_context_push_use(ev)) {
			return NULL;
		}
	}
	for (int i = 0; i < 32; i++) {
		tevent_context_pop_use(ev);
	}
	return arg;
}

static void test_stack_per_thread(void **state)
{
	(void)state;
	struct tevent_context *ev = tevent_context_init(NULL);
	g_wrap = wrapper(ev, ev, NULL);
	assert_true(tevent_context_push_use(g_wrap));
	struct tevent_context *other = tevent_context_init(NULL);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, push_pop_elsewhere, other), 0);
	void *ret = NULL;
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_ptr_equal(ret, other);
	tevent_context_pop_use(g_wrap);
	log_expect("before_use", "abort: tevent_wrapper stack already empty", "after_use", NULL);
	talloc_free(other);
	talloc_free(ev);
}
#endif

/* ---- misuse of wrapper contexts ----------------------------------------------------------- */

static bool never(void *p)
{
	(void)p;
	return false;
}

static void test_refused_on_wrapper(void **state)
{
	(void)state;
	struct tevent_context *ev = tevent_context_init(NULL);
	struct debug_log d = {.n = 0};
	tevent_set_debug(ev, debug_fn, &d);
	g_wrap = wrapper(ev, ev, NULL);

	/* Settings belong to the main context. */
	tevent_set_trace_callback(g_wrap, NULL, NULL);
	tevent_set_trace_fd_callback(g_wrap, trace_fd, NULL);
	tevent_set_trace_timer_callback(g_wrap, trace_timer, NULL);
	tevent_set_trace_immediate_callback(g_wrap, trace_immediate, NULL);
	tevent_set_trace_signal_callback(g_wrap, trace_signal, NULL);
	tevent_set_trace_queue_callback(g_wrap, NULL, NULL);
	assert_int_equal(tevent_set_debug(g_wrap, debug_fn, &d), -1);
	log_expect("abort: tevent_set_trace_callback() on wrapper", "abort: tevent_set_trace_fd_callback() on wrapper",
		   "abort: tevent_set_trace_timer_callback() on wrapper",
		   "abort: tevent_set_trace_immediate_callback() on wrapper",
		   "abort: tevent_set_trace_signal_callback() on wrapper",
		   "abort: tevent_set_trace_queue_callback() on wrapper", "abort: tevent_set_debug() on wrapper", NULL);
	/* Reported through the main context's debug function as well. */
	assert_int_equal(d.n, 7);
	assert_non_null(strstr(d.text[0], "abort: tevent_set_trace_callback() on wrapper"));
	/* Nothing was set, on either context. */
	tevent_trace_fd_callback_t cb = trace_fd;
	void *priv = &d;
	tevent_get_trace_fd_callback(g_wrap, &cb, &priv);
	assert_null(cb);
	assert_null(priv);
	tevent_get_trace_fd_callback(ev, &cb, &priv);
	assert_null(cb);

	/* The main context is the one that loops. */
	errno = 0;
	assert_int_equal(tevent_loop_once(g_wrap), -1);
	assert_int_equal(errno, ENOSYS);
	errno = 0;
	assert_int_equal(tevent_loop_wait(g_wrap), -1);
	assert_int_equal(errno, ENOSYS);
	assert_int_equal(tevent_loop_until(g_wrap, never, NULL), -1);
	log_expect("abort: tevent_wrapper_glue_loop_once() called", "abort: tevent_wrapper_glue_loop_wait() called",
		   "abort: tevent_wrapper_glue_loop_once() called", NULL);

	/* Proxies deliver outside any wrapper. */
	errno = 0;
	assert_null(tevent_thread_proxy_create(g_wrap));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(d.text[d.n - 1], "tevent_thread_proxy_create() not allowed on a wrapper context"));

	/* The main context's teardown is not for wrappers. */
	assert_int_equal(tevent_common_context_destructor(g_wrap), 0);
	log_expect("abort: tevent_common_context_destructor() active on wrapper", NULL);
	/* ...which still works. */
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, g_wrap, im_handler, NULL);
	run(ev, 1);
	log_expect("before_immediate im_handler tag=0", "immediate handler on wrapper", "after_immediate im_handler",
		   NULL);

	talloc_free(ev);
}

static void test_re_initialise_wrapper(void **state)
{
	(void)state;
	struct tevent_context *ev = tevent_context_init(NULL);
	g_wrap = wrapper(ev, NULL, NULL);
	assert_int_equal(tevent_re_initialise(g_wrap), -1);
	log_expect("abort: tevent_common_context_destructor() active on wrapper",
		   "abort: tevent_wrapper_glue_context_init() called", NULL);
	talloc_free(ev);
#ifndef TEVENT_TEST_REFERENCE
	/* The reference has broken the wrapper by then (freeing it crashes);
	 * ours is unchanged. */
	talloc_free(g_wrap);
	log_expect(NULL);
#endif
}

/* ---- teardown ------------------------------------------------------------------------------- */

/* The wrapper is freed from one of its own handlers: that is deferred
 * until the after hook has run; its other events never run. */
static void free_wrapper(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)fde;
	(void)flags;
	tt_read_byte(*(int *)p);
	assert_int_equal(talloc_free(ev), -1);
	/* Freed but still there: adding to it is a use after free. */
	assert_null(tevent_add_fd(ev, NULL, 0, TEVENT_FD_READ, fd_handler, NULL));
	assert_null(tevent_add_timer(ev, NULL, tevent_timeval_zero(), timer_handler, NULL));
	assert_null(tevent_add_signal(ev, NULL, SIGUSR1, 0, signal_handler, NULL));
	struct tevent_immediate *im = tevent_create_immediate(NULL);
	tevent_schedule_immediate(im, ev, im_handler, NULL);
	talloc_free(im);
	log_add("wrapper freed");
	g_runs++;
}

static void test_free_wrapper_in_handler(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct debug_log d = {.n = 0};
	tevent_set_debug(ev, debug_fn, &d);
	set_traces(ev);
	g_wrap = wrapper(ev, NULL, NULL);
	int p[2];
	tt_pipe(p);
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_fd *fde = tevent_add_fd(g_wrap, mem, p[0], TEVENT_FD_READ, free_wrapper, &p[0]);
	tevent_fd_set_tag(fde, 1);
	struct tevent_timer *te = tevent_add_timer(g_wrap, mem, tevent_timeval_current_ofs(10, 0), timer_handler, NULL);
	tevent_timer_set_tag(te, 2);
	struct tevent_signal *se = tevent_add_signal(g_wrap, mem, SIGUSR1, 0, signal_handler, NULL);
	tevent_signal_set_tag(se, 4);
	log_reset();
	tt_write_byte(p[1]);
	run(ev, 1);
	log_expect("before_fd free_wrapper tag=1 flags=1", "trace fd 2 tag=1", "abort: add_fd wrapper use after free",
		   "abort: add_timer wrapper use after free", "abort: add_signal wrapper use after free",
		   "abort: scheduke_immediate wrapper use after free", "wrapper freed", "after_fd free_wrapper flags=1",
		   "trace signal 1 tag=4", NULL);
	/* Detached without trace points (signals aside), as in the reference. */
	assert_int_equal(tevent_fd_get_flags(fde), 0);
	struct tevent_immediate *im = tevent_create_immediate(mem);
	tevent_schedule_immediate(im, ev, im_handler, NULL);
	tt_write_byte(p[1]);
	run(ev, 1); /* the immediate only */
	wait_a_little(ev);
	log_expect("trace immediate 0 tag=0", "trace immediate 2 tag=0", "immediate handler on main",
		   "trace immediate 1 tag=0", NULL);
	talloc_free(mem);
	log_expect(NULL);
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
	signal(SIGUSR1, SIG_DFL);
}

/* Many timers of a wrapper leave the main context's timer queue, which
 * then still fires the others in deadline order. */
static void count_timer(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)te;
	(void)now;
	int *last = p;
	int order = (int)tevent_timer_get_tag(te);
	if (tevent_context_is_wrapper(ev) || order < *last) {
		log_add("timer out of order or on the wrapper: %d after %d", order, *last);
	}
	*last = order;
	g_runs++;
}

static void test_free_wrapper_many_timers(void **state)
{
	(void)state;
	struct tevent_context *ev = tevent_context_init(NULL);
	g_wrap = wrapper(ev, NULL, NULL);
	int last = -1;
	struct timeval base = tevent_timeval_current();
	for (int i = 0; i < 400; i++) {
		/* Deadlines interleaved and shuffled across both contexts. */
		int slot = (i * 7919) % 400;
		struct timeval at = tevent_timeval_add(&base, 0, (uint32_t)slot * 50);
		struct tevent_timer *te =
			tevent_add_timer(i % 3 == 0 ? g_wrap : ev, ev, at, count_timer, &last);
		assert_non_null(te);
		tevent_timer_set_tag(te, (uint64_t)slot);
	}
	talloc_free(g_wrap);
	run(ev, 400 - 134);
	wait_a_little(ev);
	log_expect(NULL);
	talloc_free(ev);
}

static void test_free_main_first(void **state)
{
	struct tevent_context *ev = tt_context(state);
	set_traces(ev);
	struct wstate *st;
	g_wrap = wrapper(ev, NULL, &st);
	int p[2];
	tt_pipe(p);
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_fd *fde = tevent_add_fd(g_wrap, mem, p[0], TEVENT_FD_READ, fd_handler, &p[0]);
	tevent_fd_set_tag(fde, 1);
	struct tevent_timer *te = tevent_add_timer(g_wrap, mem, tevent_timeval_zero(), timer_handler, NULL);
	tevent_timer_set_tag(te, 2);
	struct tevent_immediate *im = tevent_create_immediate(mem);
	tevent_immediate_set_tag(im, 3);
	tevent_schedule_immediate(im, g_wrap, im_handler, NULL);
	struct tevent_signal *se = tevent_add_signal(g_wrap, mem, SIGUSR1, 0, signal_handler, NULL);
	tevent_signal_set_tag(se, 4);
	log_reset();

	/* Every event is detached, in the reference's order. */
	talloc_free(ev);
	log_expect("trace fd 1 tag=1", "trace timer 1 tag=2", "trace immediate 1 tag=3", "trace signal 1 tag=4", NULL);

	/* The wrapper stays, unusable. */
	assert_true(tevent_context_is_wrapper(g_wrap));
	assert_false(tevent_context_same_loop(g_wrap, g_wrap));
	assert_false(tevent_context_push_use(g_wrap));
	errno = 0;
	assert_null(tevent_add_fd(g_wrap, mem, p[0], TEVENT_FD_READ, fd_handler, &p[0]));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(tevent_add_timer(g_wrap, mem, tevent_timeval_zero(), timer_handler, NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(tevent_add_signal(g_wrap, mem, SIGUSR1, 0, signal_handler, NULL));
	assert_int_equal(errno, EINVAL);
	log_expect(NULL);
	/* A custom backend's question still has an answer: no timers, the default tick. */
	struct timeval delay = tevent_common_loop_timer_delay(g_wrap);
	assert_int_equal(delay.tv_sec, 30);
	assert_int_equal(delay.tv_usec, 0);
#ifndef TEVENT_TEST_REFERENCE
	/* The reference crashes formatting this report. */
	tevent_schedule_immediate(im, g_wrap, im_handler, NULL);
	assert_int_equal(g_log.n, 1);
	assert_non_null(strstr(g_log.entry[0], "abort: tevent_schedule_immediate() on a wrapper without main context"));
	assert_non_null(strstr(g_log.entry[0], "api_wrapper.c"));
	log_reset();
#endif
	talloc_free(mem);
	talloc_free(g_wrap);
	log_expect(NULL);
	close(p[0]);
	close(p[1]);
	signal(SIGUSR1, SIG_DFL);
}

static void test_wrapper_double_free(void **state)
{
	(void)state;
	struct tevent_context *ev = tevent_context_init(NULL);
	TALLOC_CTX *mem = talloc_new(NULL);
	g_wrap = wrapper(ev, mem, NULL);
	assert_true(tevent_context_push_use(g_wrap));
	/* On the stack: freeing is deferred until the pop... */
	assert_int_equal(talloc_free(g_wrap), -1);
	assert_int_equal(talloc_free(g_wrap), -1);
	log_expect("before_use", "abort: tevent_context wrapper double free", NULL);
	/* ...which frees it, after its after_use hook. */
	size_t blocks = talloc_total_blocks(mem);
	tevent_context_pop_use(g_wrap);
#ifdef TEVENT_TEST_REFERENCE
	/* The reference frees the wrapper first and then reads it: whether
	 * after_use runs is chance. */
	log_reset();
#else
	log_expect("after_use", NULL);
#endif
	assert_int_equal(talloc_total_blocks(mem), blocks - 3);
	talloc_free(mem);
	talloc_free(ev);
}

/* ---- threaded contexts on a wrapper ---------------------------------------------------------- */

struct sender {
	struct tevent_threaded_context *tctx;
	struct tevent_immediate *im;
};

static void *send_from_thread(void *arg)
{
	struct sender *s = arg;
	tevent_threaded_schedule_immediate(s->tctx, s->im, im_handler, NULL);
	return NULL;
}

static void test_threaded_on_wrapper(void **state)
{
	(void)state;
	talloc_disable_null_tracking();
	struct tevent_context *ev = tevent_context_init(NULL);
	g_wrap = wrapper(ev, ev, NULL);
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(ev, g_wrap);
	assert_non_null(tctx);
	struct sender s = {tctx, tevent_create_immediate(ev)};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, send_from_thread, &s), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	run(ev, 1);
	log_expect("before_immediate im_handler tag=0", "immediate handler on wrapper", "after_immediate im_handler",
		   NULL);

	/* Sent, then the wrapper goes: like its other events, never run. */
	s.im = tevent_create_immediate(ev);
	assert_int_equal(pthread_create(&t, NULL, send_from_thread, &s), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	talloc_free(g_wrap);
	wait_a_little(ev);
	/* And what is sent later is dropped. */
	s.im = tevent_create_immediate(ev);
	assert_int_equal(pthread_create(&t, NULL, send_from_thread, &s), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	wait_a_little(ev);
	log_expect(NULL);
#ifndef TEVENT_TEST_REFERENCE
	/* The reference aborts freeing these once the wrapper is gone. */
	talloc_free(ev);
#endif
}

int main(void)
{
	alarm(120);
	const struct CMUnitTest tests[] = {
		TEST(test_create),
		TEST_BACKENDS(test_hooks),
		TEST_BACKENDS(test_freed_in_handler),
		TEST(test_push_pop),
		TEST(test_push_pop_misuse),
		TEST(test_push_in_handler),
#ifndef TEVENT_TEST_REFERENCE
		TEST(test_stack_per_thread),
#endif
		TEST(test_refused_on_wrapper),
		TEST(test_re_initialise_wrapper),
		TEST_BACKENDS(test_free_wrapper_in_handler),
		TEST(test_free_wrapper_many_timers),
		TEST_BACKENDS(test_free_main_first),
		TEST(test_wrapper_double_free),
		TEST(test_threaded_on_wrapper),
	};
	return cmocka_run_group_tests_name("tevent wrapper contexts (" TT_IMPL ")", tests, NULL, NULL);
}

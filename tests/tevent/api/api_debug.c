/*
 * Debug and trace functions: tevent_set_debug/tevent_debug, the stderr
 * debug sink, the abort function, loop trace points and the per-event
 * trace callbacks, and (0.15) tevent_set_max_debug_level.
 */
#include "common.h"

#define MAX_MSG 32

struct debug_log {
	enum tevent_debug_level level[MAX_MSG];
	char text[MAX_MSG][256];
	int n;
};

static void debug_fn(void *context, enum tevent_debug_level level, const char *fmt, va_list ap)
{
	struct debug_log *d = context;
	if (d->n < MAX_MSG) {
		d->level[d->n] = level;
		vsnprintf(d->text[d->n], sizeof(d->text[0]), fmt, ap);
	}
	d->n++;
}

static int find_msg(const struct debug_log *d, const char *needle)
{
	for (int i = 0; i < d->n && i < MAX_MSG; i++) {
		if (strstr(d->text[i], needle) != NULL) {
			return i;
		}
	}
	return -1;
}

static void test_debug_callback(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct debug_log d = {.n = 0};
	assert_int_equal(tevent_set_debug(ev, debug_fn, &d), 0);
	tevent_debug(ev, TEVENT_DEBUG_ERROR, "value %d and %s", 42, "text");
	int i = find_msg(&d, "value 42 and text");
	assert_true(i >= 0);
	assert_int_equal(d.level[i], TEVENT_DEBUG_ERROR);
	int before = d.n;
	tevent_debug(ev, TEVENT_DEBUG_FATAL, "fatal %s", "x");
	assert_int_equal(d.n, before + 1);
	assert_int_equal(d.level[before], TEVENT_DEBUG_FATAL);
	assert_string_equal(d.text[before], "fatal x");

	/* Without a debug function nothing is called and nothing breaks. */
	assert_int_equal(tevent_set_debug(ev, NULL, NULL), 0);
	tevent_debug(ev, TEVENT_DEBUG_FATAL, "dropped");
	assert_int_equal(d.n, before + 1);
	talloc_free(ev);
}

/* The library itself reports through the debug function at trace level. */
static void trace_im(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)ev;
	(void)im;
	(*(int *)p)++;
}

static void test_library_messages_reach_callback(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct debug_log d = {.n = 0};
	assert_int_equal(tevent_set_debug(ev, debug_fn, &d), 0);
	int calls = 0;
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, trace_im, &calls);
	tt_loop_until_count(ev, &calls, 1);
	assert_true(d.n > 0);
	for (int i = 0; i < d.n && i < MAX_MSG; i++) {
		assert_true(d.level[i] >= TEVENT_DEBUG_FATAL && d.level[i] <= TEVENT_DEBUG_TRACE);
	}
	/* The handler's name appears in what the library said about it. */
	assert_true(find_msg(&d, "trace_im") >= 0);
	talloc_free(ev);
}

static void test_debug_stderr(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(p[1], 2), 2);
	assert_int_equal(tevent_set_debug_stderr(ev), 0);
	tevent_debug(ev, TEVENT_DEBUG_ERROR, "to stderr %d\n", 7);
	tevent_debug(ev, TEVENT_DEBUG_TRACE, "trace is not shown\n");
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	close(p[1]);
	char buf[512] = {0};
	ssize_t got = 0, r;
	while ((r = read(p[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0) {
		got += r;
	}
	close(p[0]);
	assert_non_null(strstr(buf, "to stderr 7"));
	assert_null(strstr(buf, "trace is not shown"));
	talloc_free(ev);
}

static char abort_reason[256];
static int abort_calls;

static void record_abort(const char *reason)
{
	abort_calls++;
	snprintf(abort_reason, sizeof(abort_reason), "%s", reason);
}

static void nested(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)im;
	int *result = p;
	errno = 0;
	result[0] = tevent_loop_once(ev);
	result[1] = errno;
}

/* With an abort function set, a refused nesting reports and fails softly. */
static void test_abort_fn(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct debug_log d = {.n = 0};
	assert_int_equal(tevent_set_debug(ev, debug_fn, &d), 0);
	abort_calls = 0;
	tevent_set_abort_fn(record_abort);
	int result[2] = {0, 0};
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, nested, result);
	assert_int_equal(tevent_loop_once(ev), 0);
	tevent_set_abort_fn(NULL);
	assert_int_equal(abort_calls, 1);
	assert_non_null(strstr(abort_reason, "nesting"));
	assert_int_equal(result[0], -1);
	assert_int_equal(result[1], ELOOP);
	/* The reason also went to the debug function, as a fatal message. */
	int i = find_msg(&d, "nesting");
	assert_true(i >= 0);
	assert_int_equal(d.level[i], TEVENT_DEBUG_FATAL);
	talloc_free(ev);
}

/* tevent_abort(): the reason goes to the debug function as a fatal
 * message and to the abort function, which may return. */
static void test_tevent_abort(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct debug_log d = {.n = 0};
	assert_int_equal(tevent_set_debug(ev, debug_fn, &d), 0);
	abort_calls = 0;
	tevent_set_abort_fn(record_abort);
	tevent_abort(ev, "the reason 42");
	tevent_set_abort_fn(NULL);
	assert_int_equal(abort_calls, 1);
	assert_string_equal(abort_reason, "the reason 42");
	int i = find_msg(&d, "the reason 42");
	assert_true(i >= 0);
	assert_int_equal(d.level[i], TEVENT_DEBUG_FATAL);
	talloc_free(ev);
}

static void abort_without_fn(void *arg)
{
	(void)arg;
	struct tevent_context *ev = tevent_context_init(NULL);
	tevent_abort(ev, "no abort function");
}

/* Without an abort function, tevent_abort() ends the process. */
static void test_tevent_abort_default(void **state)
{
	(void)state;
	tt_assert_aborted(tt_run_in_child(abort_without_fn, NULL));
}

#define MAX_POINTS 32
struct points {
	int p[MAX_POINTS];
	int n;
};

static void loop_trace(enum tevent_trace_point point, void *private_data)
{
	struct points *t = private_data;
	if (t->n < MAX_POINTS) {
		t->p[t->n] = (int)point;
	}
	t->n++;
}

static void event_trace_record(struct points *t, int code)
{
	if (t->n < MAX_POINTS) {
		t->p[t->n] = code;
	}
	t->n++;
}

/* Event trace points are logged as 100 + point (fd), 200 (timer), 300 (immediate). */
static void fd_trace(struct tevent_fd *fde, enum tevent_event_trace_point point, void *p)
{
	(void)fde;
	event_trace_record(p, 100 + (int)point);
}

static void timer_trace(struct tevent_timer *te, enum tevent_event_trace_point point, void *p)
{
	(void)te;
	event_trace_record(p, 200 + (int)point);
}

static void im_trace(struct tevent_immediate *im, enum tevent_event_trace_point point, void *p)
{
	(void)im;
	event_trace_record(p, 300 + (int)point);
}

static void plain_fd(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	(void)fde;
	(void)flags;
	tt_read_byte(*(int *)p);
}

static void plain_timer(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)ev;
	(void)te;
	(void)now;
	(void)p;
}

static void plain_im(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)ev;
	(void)im;
	(void)p;
}

static void assert_points(const struct points *t, const int *expect, int n)
{
	assert_int_equal(t->n, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(t->p[i], expect[i]);
	}
}

enum {
	A = TEVENT_EVENT_TRACE_ATTACH,
	D = TEVENT_EVENT_TRACE_DETACH,
	H = TEVENT_EVENT_TRACE_BEFORE_HANDLER,
	BW = TEVENT_TRACE_BEFORE_WAIT,
	AW = TEVENT_TRACE_AFTER_WAIT,
	BL = TEVENT_TRACE_BEFORE_LOOP_ONCE,
	AL = TEVENT_TRACE_AFTER_LOOP_ONCE,
};

static void test_trace_points(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct points t = {.n = 0};
	tevent_set_trace_callback(ev, loop_trace, &t);
	tevent_trace_callback_t cb;
	void *cb_private;
	tevent_get_trace_callback(ev, &cb, &cb_private);
	assert_ptr_equal(cb, loop_trace);
	assert_ptr_equal(cb_private, &t);
	tevent_set_trace_fd_callback(ev, fd_trace, &t);
	tevent_set_trace_timer_callback(ev, timer_trace, &t);
	tevent_set_trace_immediate_callback(ev, im_trace, &t);

	/* An immediate: no waiting in the backend. */
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, plain_im, NULL);
	assert_int_equal(tevent_loop_once(ev), 0);
	const int e1[] = {300 + A, BL, 300 + H, 300 + D, AL};
	assert_points(&t, e1, 5);

	/* A timer: the iteration waits for it. */
	t.n = 0;
	assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 20000), plain_timer, NULL));
	assert_int_equal(tevent_loop_once(ev), 0);
	const int e2[] = {200 + A, BL, BW, AW, 200 + H, 200 + D, AL};
	assert_points(&t, e2, 7);

	/* An fd: attach, handler, and detach when freed. */
	int p[2];
	tt_pipe(p);
	t.n = 0;
	struct tevent_fd *fde = tevent_add_fd(ev, ev, p[0], TEVENT_FD_READ, plain_fd, &p[0]);
	assert_non_null(fde);
	tt_write_byte(p[1]);
	int rounds = 0;
	while (rounds++ < 5 && (t.n < 2 || t.p[t.n - 2] != 100 + H)) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	assert_int_equal(t.p[0], 100 + A);
	assert_int_equal(t.p[t.n - 2], 100 + H);
	assert_int_equal(t.p[t.n - 1], AL);
	t.n = 0;
	talloc_free(fde);
	const int e3[] = {100 + D};
	assert_points(&t, e3, 1);
	/* Freeing an immediate that is not scheduled reports nothing. */
	t.n = 0;
	talloc_free(im);
	assert_int_equal(t.n, 0);
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
}

#ifndef TEVENT_TEST_REFERENCE
/* tevent_set_max_debug_level is tevent 0.15 API. */
static void test_max_debug_level(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct debug_log d = {.n = 0};
	assert_int_equal(tevent_set_debug(ev, debug_fn, &d), 0);
	/* Everything passes by default. */
	assert_int_equal(tevent_set_max_debug_level(ev, TEVENT_DEBUG_WARNING), TEVENT_DEBUG_TRACE);
	tevent_debug(ev, TEVENT_DEBUG_TRACE, "trace");
	tevent_debug(ev, TEVENT_DEBUG_WARNING, "warning");
	tevent_debug(ev, TEVENT_DEBUG_ERROR, "error");
	assert_int_equal(d.n, 2);
	assert_string_equal(d.text[0], "warning");
	assert_string_equal(d.text[1], "error");
	assert_int_equal(tevent_set_max_debug_level(ev, TEVENT_DEBUG_TRACE), TEVENT_DEBUG_WARNING);
	tevent_debug(ev, TEVENT_DEBUG_TRACE, "trace again");
	assert_int_equal(d.n, 3);
	assert_string_equal(d.text[2], "trace again");
	talloc_free(ev);
}
#endif

int main(void)
{
	alarm(120);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debug_callback),
		PER_BACKEND(test_library_messages_reach_callback),
		cmocka_unit_test(test_debug_stderr),
		PER_BACKEND(test_abort_fn),
		cmocka_unit_test_prestate(test_tevent_abort, (void *)"epoll"),
		cmocka_unit_test(test_tevent_abort_default),
		/*
		 * Not on poll_mt: the reference's poll_mt watches an internal
		 * wakeup pipe with an ordinary fd event, which shows up in the
		 * fd trace and takes iterations of its own.
		 */
		cmocka_unit_test_prestate(test_trace_points, (void *)"epoll"),
		cmocka_unit_test_prestate(test_trace_points, (void *)"poll"),
		cmocka_unit_test_prestate(test_trace_points, (void *)"standard"),
#ifndef TEVENT_TEST_REFERENCE
		cmocka_unit_test(test_max_debug_level),
#endif
	};
	return cmocka_run_group_tests_name("tevent debug and trace (" TT_IMPL ")", tests, NULL, NULL);
}

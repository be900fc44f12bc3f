/*
 * fd events on every backend: readiness flags, flag changes, freeing from
 * handlers, close functions, many descriptors, several events on one
 * descriptor, descriptors closed behind the loop's back, the parent of
 * events added without a memory context, and (0.17) TEVENT_FD_ERROR.
 */
#include "common.h"

struct fd_rec {
	int calls;
	uint16_t last_flags;
	uint16_t all_flags;
	int drain_fd;		/* read one byte here on READ, -1 for none */
	int clear_after;	/* set flags to 0 after this many calls, 0 never */
	bool free_self;
	struct tevent_fd **victim;	/* freed (and NULLed) by the handler */
	int *shared_calls;
};

static void fd_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *private_data)
{
	struct fd_rec *r = private_data;
	(void)ev;
	r->calls++;
	r->last_flags = flags;
	r->all_flags |= flags;
	if (r->shared_calls != NULL) {
		(*r->shared_calls)++;
	}
	if ((flags & TEVENT_FD_READ) && r->drain_fd >= 0) {
		tt_read_byte(r->drain_fd);
	}
	if (r->clear_after != 0 && r->calls == r->clear_after) {
		tevent_fd_set_flags(fde, 0);
	}
	if (r->victim != NULL && *r->victim != NULL) {
		talloc_free(*r->victim);
		*r->victim = NULL;
	}
	if (r->free_self) {
		talloc_free(fde);
	}
}

/* An fd event owned by the context, reporting to r; creating it must work. */
static struct tevent_fd *add_rec(struct tevent_context *ev, int fd, uint16_t flags, struct fd_rec *r)
{
	struct tevent_fd *fde = tevent_add_fd(ev, ev, fd, flags, fd_handler, r);
	assert_non_null(fde);
	return fde;
}

/* Runs one iteration that is guaranteed to end: a short timer bounds it. */
static void loop_once_bounded(struct tevent_context *ev)
{
	bool fired = false;
	struct tevent_timer *te = tevent_add_timer(ev, NULL, tevent_timeval_current_ofs(0, 50 * 1000),
						   tt_deadline_handler, &fired);
	assert_non_null(te);
	assert_int_equal(tevent_loop_once(ev), 0);
	if (!fired) {
		talloc_free(te);
	}
}

static void test_read_ready(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	struct fd_rec r = {.drain_fd = p[0]};
	struct tevent_fd *fde = add_rec(ev, p[0], TEVENT_FD_READ, &r);
	assert_int_equal(tevent_fd_get_flags(fde), TEVENT_FD_READ);

	loop_once_bounded(ev);	/* nothing written: only the timer runs */
	assert_int_equal(r.calls, 0);

	tt_write_byte(p[1]);
	tt_loop_until_count(ev, &r.calls, 1);
	assert_int_equal(r.last_flags, TEVENT_FD_READ);

	loop_once_bounded(ev);	/* drained: not readable any more */
	assert_int_equal(r.calls, 1);

	tt_write_byte(p[1]);
	tt_write_byte(p[1]);
	tt_loop_until_count(ev, &r.calls, 3);
	loop_once_bounded(ev);
	assert_int_equal(r.calls, 3);

	talloc_free(ev);
	close(p[0]);
	close(p[1]);
}

static void test_write_ready(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	struct fd_rec r = {.drain_fd = -1, .clear_after = 3};
	struct tevent_fd *fde = add_rec(ev, p[1], TEVENT_FD_WRITE, &r);
	tt_loop_until_count(ev, &r.calls, 3);
	assert_int_equal(r.all_flags, TEVENT_FD_WRITE);
	/* The handler cleared the flags on its third call. */
	assert_int_equal(tevent_fd_get_flags(fde), 0);
	loop_once_bounded(ev);
	loop_once_bounded(ev);
	assert_int_equal(r.calls, 3);
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
}

static void test_read_write_flags(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int s[2];
	tt_socketpair(s);
	struct fd_rec r = {.drain_fd = -1};
	struct tevent_fd *fde = add_rec(ev, s[0], TEVENT_FD_READ | TEVENT_FD_WRITE, &r);

	tt_loop_until_count(ev, &r.calls, 1);
	assert_int_equal(r.last_flags, TEVENT_FD_WRITE);

	tt_write_byte(s[1]);
	tt_loop_until_count(ev, &r.calls, 2);
	assert_int_equal(r.last_flags, TEVENT_FD_READ | TEVENT_FD_WRITE);

	/* Only what is asked for is reported. */
	TEVENT_FD_NOT_WRITEABLE(fde);
	assert_int_equal(tevent_fd_get_flags(fde), TEVENT_FD_READ);
	tt_loop_until_count(ev, &r.calls, 3);
	assert_int_equal(r.last_flags, TEVENT_FD_READ);

	TEVENT_FD_NOT_READABLE(fde);
	TEVENT_FD_WRITEABLE(fde);
	assert_int_equal(tevent_fd_get_flags(fde), TEVENT_FD_WRITE);
	tt_loop_until_count(ev, &r.calls, 4);
	assert_int_equal(r.last_flags, TEVENT_FD_WRITE);

	talloc_free(ev);
	close(s[0]);
	close(s[1]);
}

static void test_flags_zero_then_back(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	struct fd_rec r = {.drain_fd = p[0]};
	struct tevent_fd *fde = add_rec(ev, p[0], 0, &r);
	assert_int_equal(tevent_fd_get_flags(fde), 0);
	tt_write_byte(p[1]);
	loop_once_bounded(ev);
	assert_int_equal(r.calls, 0);

	tevent_fd_set_flags(fde, TEVENT_FD_READ);
	tt_loop_until_count(ev, &r.calls, 1);
	assert_int_equal(r.last_flags, TEVENT_FD_READ);

	tevent_fd_set_flags(fde, 0);
	tt_write_byte(p[1]);
	loop_once_bounded(ev);
	assert_int_equal(r.calls, 1);
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
}

static void test_free_self_in_handler(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	struct fd_rec r = {.drain_fd = -1, .free_self = true};
	add_rec(ev, p[0], TEVENT_FD_READ, &r);
	tt_write_byte(p[1]);
	tt_loop_until_count(ev, &r.calls, 1);
	loop_once_bounded(ev);
	loop_once_bounded(ev);
	assert_int_equal(r.calls, 1);
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
}

static void test_free_other_in_handler(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int a[2], b[2];
	tt_pipe(a);
	tt_pipe(b);
	int shared = 0;
	struct tevent_fd *fa = NULL, *fb = NULL;
	/* Each frees the other: whichever runs first, the other never runs. */
	struct fd_rec ra = {.drain_fd = -1, .victim = &fb, .shared_calls = &shared};
	struct fd_rec rb = {.drain_fd = -1, .victim = &fa, .shared_calls = &shared};
	fa = tevent_add_fd(ev, ev, a[0], TEVENT_FD_READ, fd_handler, &ra);
	fb = tevent_add_fd(ev, ev, b[0], TEVENT_FD_READ, fd_handler, &rb);
	assert_non_null(fa);
	assert_non_null(fb);
	tt_write_byte(a[1]);
	tt_write_byte(b[1]);
	tt_loop_until_count(ev, &shared, 1);
	/* The survivor keeps firing (its pipe is never drained). */
	tt_loop_until_count(ev, &shared, 2);
	assert_true((ra.calls == 2 && rb.calls == 0) || (ra.calls == 0 && rb.calls == 2));
	talloc_free(ev);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static int close_fn_calls;
static int close_fn_fd;
static void *close_fn_private;

static void record_close(struct tevent_context *ev, struct tevent_fd *fde, int fd, void *private_data)
{
	(void)ev;
	(void)fde;
	close_fn_calls++;
	close_fn_fd = fd;
	close_fn_private = private_data;
}

static void test_close_fn_and_auto_close(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	struct fd_rec r = {.drain_fd = -1};
	struct tevent_fd *fde = add_rec(ev, p[0], TEVENT_FD_READ, &r);
	close_fn_calls = 0;
	tevent_fd_set_close_fn(fde, record_close);
	talloc_free(fde);
	assert_int_equal(close_fn_calls, 1);
	assert_int_equal(close_fn_fd, p[0]);
	assert_ptr_equal(close_fn_private, &r);
	/* A close function replaces closing: the descriptor is still open. */
	assert_int_not_equal(fcntl(p[0], F_GETFD), -1);

	fde = tevent_add_fd(ev, ev, p[0], TEVENT_FD_READ, fd_handler, &r);
	assert_non_null(fde);
	tevent_fd_set_auto_close(fde);
	TALLOC_CTX *parent = talloc_new(NULL);
	assert_non_null(talloc_steal(parent, fde));
	talloc_free(parent);	/* freeing the parent frees the event */
	errno = 0;
	assert_int_equal(fcntl(p[0], F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(close_fn_calls, 1);
	assert_int_equal(r.calls, 0);
	talloc_free(ev);
	close(p[1]);
}

#define MANY 64

static void test_many_descriptors(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int fds[MANY][2];
	struct fd_rec recs[MANY];
	int total = 0;
	for (int i = 0; i < MANY; i++) {
		tt_pipe(fds[i]);
		recs[i] = (struct fd_rec){.drain_fd = fds[i][0], .shared_calls = &total};
		assert_non_null(tevent_add_fd(ev, ev, fds[i][0], TEVENT_FD_READ, fd_handler, &recs[i]));
	}
	for (int i = 0; i < MANY; i += 2) {
		tt_write_byte(fds[i][1]);
	}
	tt_loop_until_count(ev, &total, MANY / 2);
	loop_once_bounded(ev);
	assert_int_equal(total, MANY / 2);
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(recs[i].calls, (i % 2 == 0) ? 1 : 0);
	}
	talloc_free(ev);
	for (int i = 0; i < MANY; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
}

static void test_invalid_fd(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct fd_rec r = {.drain_fd = -1};
	assert_null(tevent_add_fd(ev, ev, -1, TEVENT_FD_READ, fd_handler, &r));
	talloc_free(ev);
}

static bool is_epoll(void **state)
{
	const char *name = (const char *)*state;
	return strcmp(name, "epoll") == 0 || strcmp(name, "standard") == 0;
}

/* Runs the loop until `total` handler calls happened (at most 5 seconds). */
static void loop_until_total(struct tevent_context *ev, int *total, int target)
{
	tt_loop_until_count(ev, total, target);
}

/*
 * Two fd events on the first descriptor of a socket pair, their handler
 * calls also counted together in `total': the set-up that the tests of one
 * descriptor watched twice share.
 */
struct twice_watched {
	int s[2];
	int total;
	struct fd_rec a, b;
	struct tevent_fd *fa, *fb;
};

static void watch_twice(struct tevent_context *ev, struct twice_watched *t, uint16_t flags_a, uint16_t flags_b)
{
	tt_socketpair(t->s);
	t->total = 0;
	t->a = (struct fd_rec){.drain_fd = -1, .shared_calls = &t->total};
	t->b = (struct fd_rec){.drain_fd = -1, .shared_calls = &t->total};
	t->fa = add_rec(ev, t->s[0], flags_a, &t->a);
	t->fb = add_rec(ev, t->s[0], flags_b, &t->b);
}

/* Frees the context (and with it the events still there), closes the pair. */
static void unwatch_twice(struct tevent_context *ev, struct twice_watched *t)
{
	talloc_free(ev);
	close(t->s[0]);
	close(t->s[1]);
}

/*
 * Whether the backend serves several events on one descriptor as Debian's
 * 0.14.1 epoll backend does: always the same one (the writer while the
 * socket is writable, else the event changed last).  tevent 0.17, and so
 * ours, lets them take turns on every backend (upstream's multiplex
 * selection; 0.14.1's poll backends already did).
 */
static bool serves_fixed_order(void **state)
{
#ifdef TEVENT_TEST_REFERENCE
	return is_epoll(state);
#else
	(void)state;
	return false;
#endif
}

/*
 * Two fd events on one descriptor, one reading and one writing.  Each is
 * only told about what it asked for, and while both could run they take
 * turns (0.14.1's epoll: always the writer).
 */
static void test_two_events_one_descriptor(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct twice_watched t;
	watch_twice(ev, &t, TEVENT_FD_READ, TEVENT_FD_WRITE);
	struct fd_rec *r = &t.a, *w = &t.b;
	struct tevent_fd *fw = t.fb;

	/* Only writable: only the writer. */
	loop_until_total(ev, &t.total, 2);
	assert_int_equal(r->calls, 0);
	assert_int_equal(w->calls, 2);

	/* Readable and writable. */
	tt_write_byte(t.s[1]);
	loop_until_total(ev, &t.total, 6);
	assert_int_equal(r->all_flags & ~TEVENT_FD_READ, 0);
	assert_int_equal(w->all_flags, TEVENT_FD_WRITE);
	if (serves_fixed_order(state)) {
		assert_int_equal(r->calls, 0);
		assert_int_equal(w->calls, 6);
	} else {
		assert_int_equal(r->calls, 2);
		assert_int_equal(w->calls, 4);
	}

	/* The writer stops: the reader is served, and drains. */
	tevent_fd_set_flags(fw, 0);
	r->drain_fd = t.s[0];
	int before = r->calls;
	tt_loop_until_count(ev, &r->calls, before + 1);
	assert_int_equal(r->last_flags, TEVENT_FD_READ);

	/* The writer freed: the reader carries on alone. */
	talloc_free(fw);
	tt_write_byte(t.s[1]);
	tt_loop_until_count(ev, &r->calls, before + 2);
	unwatch_twice(ev, &t);
}

/* Two readers on one descriptor take turns (0.14.1's epoll: the first one
 * added, or the one whose flags changed last, every time). */
static void test_two_readers_one_descriptor(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct twice_watched t;
	watch_twice(ev, &t, TEVENT_FD_READ, TEVENT_FD_READ);
	struct fd_rec *a = &t.a, *b = &t.b;
	struct tevent_fd *fb = t.fb;
	tt_write_byte(t.s[1]);
	loop_until_total(ev, &t.total, 4);
	if (serves_fixed_order(state)) {
		assert_int_equal(a->calls, 4);
		assert_int_equal(b->calls, 0);
		/* Changing b's flags makes it the one served. */
		tevent_fd_set_flags(fb, 0);
		tevent_fd_set_flags(fb, TEVENT_FD_READ);
		loop_until_total(ev, &t.total, 6);
		assert_int_equal(a->calls, 4);
		assert_int_equal(b->calls, 2);
	} else {
		assert_int_equal(a->calls, 2);
		assert_int_equal(b->calls, 2);
		/* A flags change does not jump the queue. */
		tevent_fd_set_flags(fb, 0);
		tevent_fd_set_flags(fb, TEVENT_FD_READ);
		loop_until_total(ev, &t.total, 8);
		assert_int_equal(a->calls, 4);
		assert_int_equal(b->calls, 4);
	}
	unwatch_twice(ev, &t);
}

/* Handlers on one descriptor that log the order they run in. */
#define TURNS 9
#define TURN_ROUNDS 4
struct turn_log {
	int order[TURNS * TURN_ROUNDS * 2];
	int n;
	uint16_t flags[TURNS];	/* what each was called with, all calls */
};
struct turn {
	struct turn_log *log;
	int id;
};

static void turn_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *private_data)
{
	struct turn *t = private_data;
	(void)ev;
	(void)fde;
	if (t->log->n < (int)(sizeof(t->log->order) / sizeof(t->log->order[0]))) {
		t->log->order[t->log->n] = t->id;
	}
	t->log->n++;
	t->log->flags[t->id] |= flags;
}

/*
 * Checks that the calls logged from `from` on come in rounds of the
 * handlers in `members` (a bit per id): in each round every member runs
 * exactly once, and no one else.
 */
static void assert_rounds(const struct turn_log *log, int from, unsigned members, int rounds)
{
	int size = __builtin_popcount(members);
	for (int r = 0; r < rounds; r++) {
		unsigned seen = 0;
		for (int i = 0; i < size; i++) {
			int id = log->order[from + r * size + i];
			assert_true(members & (1u << id));
			assert_false(seen & (1u << id));
			seen |= 1u << id;
		}
		assert_int_equal(seen, members);
	}
}

/* The reference's epoll backend takes at most two events per descriptor. */
static void add_nine_on_one_descriptor(void *arg)
{
	struct tevent_context *ev = tevent_context_init_byname(NULL, "epoll");
	int *s = arg;
	struct turn_log log = {0};
	struct turn turns[TURNS];
	for (int i = 0; i < TURNS; i++) {
		turns[i] = (struct turn){.log = &log, .id = i};
		tevent_add_fd(ev, ev, s[0], TEVENT_FD_READ, turn_handler, &turns[i]);
	}
	tevent_loop_once(ev);
}

/*
 * Nine events on one descriptor (upstream's testsuite, "fd3"): three
 * readers, three writers, three both.  Each handler whose flags match what
 * is ready runs once per round, on every backend.
 */
static void test_nine_events_take_turns(void **state)
{
	int s[2];
	tt_socketpair(s);
	if (serves_fixed_order(state)) {
		/* Debian's 0.14.1 epoll: more than two events on a descriptor
		 * end the process. */
		tt_assert_aborted(tt_run_in_child(add_nine_on_one_descriptor, s));
		close(s[0]);
		close(s[1]);
		return;
	}
	struct tevent_context *ev = tt_context(state);
	static const uint16_t kinds[3] = {TEVENT_FD_READ, TEVENT_FD_WRITE, TEVENT_FD_READ | TEVENT_FD_WRITE};
	struct turn_log log = {0};
	struct turn turns[TURNS];
	unsigned writers = 0;
	for (int i = 0; i < TURNS; i++) {
		turns[i] = (struct turn){.log = &log, .id = i};
		assert_non_null(tevent_add_fd(ev, ev, s[0], kinds[i % 3], turn_handler, &turns[i]));
		if (kinds[i % 3] & TEVENT_FD_WRITE) {
			writers |= 1u << i;
		}
	}

	/* Only writable: the six that write take turns. */
	tt_loop_until_count(ev, &log.n, 6 * TURN_ROUNDS);
	assert_rounds(&log, 0, writers, TURN_ROUNDS);

	/* Readable too (nobody drains): all nine. */
	tt_write_byte(s[1]);
	int from = log.n;
	/* The first phase stopped on a round boundary (every writer ran as
	 * often as the others), so rounds of nine start at once. */
	tt_loop_until_count(ev, &log.n, from + 9 * TURN_ROUNDS);
	assert_rounds(&log, from, (1u << TURNS) - 1, TURN_ROUNDS);
	for (int i = 0; i < TURNS; i++) {
		assert_int_equal(log.flags[i] & ~kinds[i % 3], 0);
	}
	talloc_free(ev);
	close(s[0]);
	close(s[1]);
}

/*
 * A descriptor closed behind the loop's back without freeing its fd
 * event, its number reused by a new descriptor with an fd event of its
 * own: the new event's handler runs, while the stale event exists and
 * after it is freed (Debian's 0.14.1 epoll stops delivering then: freeing
 * the stale event takes the number out of its epoll set).
 */
static void test_reused_descriptor_number(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int old[2], p[2];
	tt_pipe(old);
	struct fd_rec stale = {.drain_fd = -1};
	struct tevent_fd *stale_fde = add_rec(ev, old[0], TEVENT_FD_READ, &stale);
	/* The loop has registered the old descriptor. */
	loop_once_bounded(ev);
	close(old[0]);
	close(old[1]);
	tt_pipe(p);
	if (p[0] != old[0]) {
		assert_int_equal(dup2(p[0], old[0]), old[0]);
		close(p[0]);
		p[0] = old[0];
	}
	struct fd_rec fresh = {.drain_fd = p[0]};
	add_rec(ev, p[0], TEVENT_FD_READ, &fresh);

	tt_write_byte(p[1]);
	tt_loop_until_count(ev, &fresh.calls, 1);
	assert_int_equal(fresh.last_flags, TEVENT_FD_READ);

	talloc_free(stale_fde);
	tt_write_byte(p[1]);
#ifdef TEVENT_TEST_REFERENCE
	if (is_epoll(state)) {
		for (int i = 0; i < 3; i++) {
			loop_once_bounded(ev);
		}
		assert_int_equal(fresh.calls, 1);
		talloc_free(ev);
		close(p[0]);
		close(p[1]);
		return;
	}
#endif
	tt_loop_until_count(ev, &fresh.calls, 2);
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
}

struct debug_seen {
	int disabling;
};

static void debug_fn(void *context, enum tevent_debug_level level, const char *fmt, va_list ap)
{
	struct debug_seen *d = context;
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (level <= TEVENT_DEBUG_ERROR && strstr(buf, "disabling") != NULL) {
		d->disabling++;
	}
}

static void count_iteration(enum tevent_trace_point point, void *private_data)
{
	if (point == TEVENT_TRACE_AFTER_LOOP_ONCE) {
		(*(int *)private_data)++;
	}
}

/*
 * A descriptor closed behind the loop's back while its fd event is
 * registered: its handler never runs and the loop does not spin on it;
 * other events carry on.
 */
static void test_closed_behind_the_loop(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	struct fd_rec r = {.drain_fd = -1};
	struct tevent_fd *fde = add_rec(ev, p[0], TEVENT_FD_READ, &r);
	close(p[0]);
	close(p[1]);
	int iterations = 0;
	tevent_set_trace_callback(ev, count_iteration, &iterations);
	bool fired = false;
	assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 20 * 1000), tt_deadline_handler,
					 &fired));
	while (!fired && iterations < 1000) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	assert_true(fired);
	assert_int_equal(r.calls, 0);
	/* A spinning loop would have gone round hundreds of times. */
	assert_true(iterations < 20);
	tevent_set_trace_callback(ev, NULL, NULL);
	talloc_free(fde);
	talloc_free(ev);
}

/*
 * An fd event freed and its descriptor closed right away, while a copy of
 * the descriptor (dup(), a forked child's) keeps it readable: the loop
 * must have stopped watching it when the event went (a kernel
 * registration of a closed number could not be removed any more), so it
 * neither calls anything nor spins.  Also: an event added and freed
 * before any wait, and flags changed and changed back, leave nothing
 * behind.
 */
static void test_freed_then_closed_with_a_copy(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	struct fd_rec r = {.drain_fd = -1};
	struct tevent_fd *fde = add_rec(ev, p[0], TEVENT_FD_READ, &r);
	tevent_fd_set_flags(fde, TEVENT_FD_READ | TEVENT_FD_WRITE);
	tevent_fd_set_flags(fde, TEVENT_FD_READ);
	struct fd_rec brief = {.drain_fd = -1};
	talloc_free(add_rec(ev, p[0], TEVENT_FD_READ, &brief));
	loop_once_bounded(ev);	/* registered now */
	int copy = dup(p[0]);
	assert_true(copy >= 0);
	tt_write_byte(p[1]);
	talloc_free(fde);
	close(p[0]);
	int iterations = 0;
	tevent_set_trace_callback(ev, count_iteration, &iterations);
	bool fired = false;
	assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 20 * 1000), tt_deadline_handler,
					 &fired));
	while (!fired && iterations < 1000) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	assert_true(fired);
	assert_true(iterations < 20);
	assert_int_equal(r.calls, 0);
	assert_int_equal(brief.calls, 0);
	tevent_set_trace_callback(ev, NULL, NULL);
	talloc_free(ev);
	close(copy);
	close(p[1]);
}

/* An fd event for a descriptor that is not open: reported through the
 * debug function and dropped, so tevent_loop_wait() returns. */
static void test_descriptor_not_open(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct debug_seen d = {0};
	assert_int_equal(tevent_set_debug(ev, debug_fn, &d), 0);
	int p[2];
	tt_pipe(p);
	close(p[0]);
	close(p[1]);
	struct fd_rec r = {.drain_fd = -1};
	struct tevent_fd *fde = add_rec(ev, p[0], TEVENT_FD_READ, &r);
	assert_int_equal(tevent_loop_wait(ev), 0);
	assert_int_equal(r.calls, 0);
	assert_true(d.disabling >= 1);
	talloc_free(fde);
	talloc_free(ev);
}

static void sig_nop(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *info,
		    void *private_data)
{
	(void)ev;
	(void)se;
	(void)signum;
	(void)count;
	(void)info;
	(void)private_data;
}

/* Without a memory context, events belong to their context. */
static void test_null_mem_ctx(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	struct fd_rec r = {.drain_fd = -1};
	bool fired = false;
	struct tevent_fd *fde = tevent_add_fd(ev, NULL, p[0], TEVENT_FD_READ, fd_handler, &r);
	struct tevent_timer *te =
	    tevent_add_timer(ev, NULL, tevent_timeval_current_ofs(100, 0), tt_deadline_handler, &fired);
	struct tevent_signal *se = tevent_add_signal(ev, NULL, SIGUSR2, 0, sig_nop, NULL);
	assert_ptr_equal(talloc_parent(fde), ev);
	assert_ptr_equal(talloc_parent(te), ev);
	assert_ptr_equal(talloc_parent(se), ev);
	/* And go with it (a leak would show under valgrind). */
	talloc_free(ev);
	signal(SIGUSR2, SIG_DFL);
	close(p[0]);
	close(p[1]);
}

#ifndef TEVENT_TEST_REFERENCE
/*
 * A descriptor epoll refuses (a regular file) on the "epoll" backend: the
 * reference aborts the process; ours reports it through the debug
 * function and drops the event.
 */
static void test_epoll_refused_descriptor(void **state)
{
	(void)state;
	struct tevent_context *ev = tevent_context_init_byname(NULL, "epoll");
	assert_non_null(ev);
	struct debug_seen d = {0};
	assert_int_equal(tevent_set_debug(ev, debug_fn, &d), 0);
	FILE *f = tmpfile();
	assert_non_null(f);
	struct fd_rec r = {.drain_fd = -1};
	struct tevent_fd *fde = add_rec(ev, fileno(f), TEVENT_FD_READ, &r);
	assert_int_equal(tevent_loop_wait(ev), 0);
	assert_int_equal(r.calls, 0);
	assert_true(d.disabling >= 1);
	talloc_free(fde);
	talloc_free(ev);
	fclose(f);
}
#endif

#ifndef TEVENT_TEST_REFERENCE
/* TEVENT_FD_ERROR is tevent 0.17 API: reported on hang-up even unasked. */
static void test_error_only(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	struct fd_rec r = {.drain_fd = -1, .free_self = true};
	struct tevent_fd *fde = add_rec(ev, p[0], TEVENT_FD_ERROR, &r);
	assert_int_equal(tevent_fd_get_flags(fde), TEVENT_FD_ERROR);

	tt_write_byte(p[1]);	/* readable, but READ was not asked for */
	loop_once_bounded(ev);
	assert_int_equal(r.calls, 0);

	close(p[1]);		/* hang-up */
	tt_loop_until_count(ev, &r.calls, 1);
	assert_true(r.last_flags & TEVENT_FD_ERROR);
	assert_false(r.last_flags & TEVENT_FD_WRITE);
	talloc_free(ev);
	close(p[0]);
}

/*
 * A hang-up on a descriptor with several events (0.17): those that asked
 * for TEVENT_FD_READ or TEVENT_FD_ERROR take turns, each told what it
 * asked for; one that only writes is not told at all.
 */
static void test_error_events_take_turns(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int s[2];
	tt_socketpair(s);
	static const uint16_t kinds[4] = {TEVENT_FD_READ | TEVENT_FD_ERROR, TEVENT_FD_ERROR, TEVENT_FD_WRITE,
					  TEVENT_FD_ERROR | TEVENT_FD_WRITE};
	struct turn_log log = {0};
	struct turn turns[4];
	for (int i = 0; i < 4; i++) {
		turns[i] = (struct turn){.log = &log, .id = i};
		assert_non_null(tevent_add_fd(ev, ev, s[0], kinds[i], turn_handler, &turns[i]));
	}
	/* Before the hang-up only the writers. */
	tt_loop_until_count(ev, &log.n, 2 * TURN_ROUNDS);
	assert_rounds(&log, 0, (1u << 2) | (1u << 3), TURN_ROUNDS);
	assert_int_equal(log.flags[3], TEVENT_FD_WRITE);

	close(s[1]);
	int from = log.n;
	tt_loop_until_count(ev, &log.n, from + 3 * TURN_ROUNDS);
	assert_rounds(&log, from, (1u << 0) | (1u << 1) | (1u << 3), TURN_ROUNDS);
	assert_int_equal(log.flags[0], TEVENT_FD_READ | TEVENT_FD_ERROR);
	assert_int_equal(log.flags[1], TEVENT_FD_ERROR);
	assert_true(log.flags[3] & TEVENT_FD_ERROR);
	assert_int_equal(log.flags[2], TEVENT_FD_WRITE);
	talloc_free(ev);
	close(s[0]);
}

static void test_read_error_on_peer_close(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int s[2];
	tt_socketpair(s);
	struct fd_rec r = {.drain_fd = -1, .free_self = true};
	struct tevent_fd *fde = add_rec(ev, s[0], TEVENT_FD_READ | TEVENT_FD_ERROR, &r);
	TEVENT_FD_NOT_WANTERROR(fde);
	assert_int_equal(tevent_fd_get_flags(fde), TEVENT_FD_READ);
	TEVENT_FD_WANTERROR(fde);
	assert_int_equal(tevent_fd_get_flags(fde), TEVENT_FD_READ | TEVENT_FD_ERROR);
	close(s[1]);
	tt_loop_until_count(ev, &r.calls, 1);
	assert_true(r.last_flags & TEVENT_FD_ERROR);
	talloc_free(ev);
	close(s[0]);
}
#endif

int main(void)
{
	alarm(300);
	const struct CMUnitTest tests[] = {
		PER_BACKEND(test_read_ready),
		PER_BACKEND(test_write_ready),
		PER_BACKEND(test_read_write_flags),
		PER_BACKEND(test_flags_zero_then_back),
		PER_BACKEND(test_free_self_in_handler),
		PER_BACKEND(test_free_other_in_handler),
		PER_BACKEND(test_close_fn_and_auto_close),
		PER_BACKEND(test_many_descriptors),
		PER_BACKEND(test_invalid_fd),
		PER_BACKEND(test_two_events_one_descriptor),
		PER_BACKEND(test_two_readers_one_descriptor),
		PER_BACKEND(test_nine_events_take_turns),
		PER_BACKEND(test_reused_descriptor_number),
		PER_BACKEND(test_closed_behind_the_loop),
		PER_BACKEND(test_freed_then_closed_with_a_copy),
		PER_BACKEND(test_descriptor_not_open),
		PER_BACKEND(test_null_mem_ctx),
#ifndef TEVENT_TEST_REFERENCE
		cmocka_unit_test(test_epoll_refused_descriptor),
		PER_BACKEND(test_error_only),
		PER_BACKEND(test_read_error_on_peer_close),
		PER_BACKEND(test_error_events_take_turns),
#endif
	};
	return cmocka_run_group_tests_name("tevent fd events (" TT_IMPL ")", tests, NULL, NULL);
}

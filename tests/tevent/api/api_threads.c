/*
 * Threaded immediates (tevent_threaded_context) and thread proxies
 * (tevent_thread_proxy): order, exact counts from many threads, waking a
 * sleeping loop, argument checks, lifetimes, and the ownership rules of
 * tevent_thread_proxy_schedule.
 *
 * One context per thread; talloc null tracking is off, as tevent requires
 * for threaded use.
 */
#include "common.h"

#include <stdatomic.h>

/* ---- threaded contexts ------------------------------------------------- */

struct im_log {
	int order[4096];
	int n;
	struct tevent_context *last_ev;
};

struct im_job {
	struct im_log *log;
	int id;
};

static void logged_im(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)im;
	struct im_job *j = p;
	j->log->last_ev = ev;
	j->log->order[j->log->n++] = j->id;
}

struct sender {
	pthread_t thread;
	struct tevent_threaded_context *tctx;
	struct tevent_immediate **ims;
	struct im_job *jobs;
	int count;
	useconds_t delay;
};

static void *sender_fn(void *arg)
{
	struct sender *s = arg;
	if (s->delay != 0) {
		usleep(s->delay);
	}
	for (int i = 0; i < s->count; i++) {
		tevent_threaded_schedule_immediate(s->tctx, s->ims[i], logged_im, &s->jobs[i]);
	}
	return NULL;
}

static void test_threaded_order_from_one_thread(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(ev, ev);
	assert_non_null(tctx);
	enum { N = 200 };
	struct im_log log = {.n = 0};
	struct tevent_immediate *ims[N];
	struct im_job jobs[N];
	for (int i = 0; i < N; i++) {
		ims[i] = tevent_create_immediate(ev);
		jobs[i] = (struct im_job){.log = &log, .id = i};
	}
	struct sender s = {.tctx = tctx, .ims = ims, .jobs = jobs, .count = N};
	assert_int_equal(pthread_create(&s.thread, NULL, sender_fn, &s), 0);
	tt_loop_until_count(ev, &log.n, N);
	pthread_join(s.thread, NULL);
	for (int i = 0; i < N; i++) {
		assert_int_equal(log.order[i], i);
		/* Ownership is not touched: still where it was created. */
		assert_ptr_equal(talloc_parent(ims[i]), ev);
	}
	assert_ptr_equal(log.last_ev, ev);
	talloc_free(ev);
}

static void test_threaded_many_threads(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(ev, ev);
	assert_non_null(tctx);
	enum { T = 8, M = 250 };
	static struct im_log log;
	log.n = 0;
	struct sender senders[T];
	for (int t = 0; t < T; t++) {
		senders[t] = (struct sender){.tctx = tctx, .count = M};
		senders[t].ims = talloc_array(ev, struct tevent_immediate *, M);
		senders[t].jobs = talloc_array(ev, struct im_job, M);
		for (int i = 0; i < M; i++) {
			senders[t].ims[i] = tevent_create_immediate(ev);
			senders[t].jobs[i] = (struct im_job){.log = &log, .id = t * M + i};
		}
	}
	for (int t = 0; t < T; t++) {
		assert_int_equal(pthread_create(&senders[t].thread, NULL, sender_fn, &senders[t]), 0);
	}
	tt_loop_until_count(ev, &log.n, T * M);
	for (int t = 0; t < T; t++) {
		pthread_join(senders[t].thread, NULL);
	}
	/* Each exactly once, and each sender's in the order it sent them. */
	int last[T];
	bool seen[T * M];
	memset(seen, 0, sizeof(seen));
	for (int t = 0; t < T; t++) {
		last[t] = -1;
	}
	for (int i = 0; i < T * M; i++) {
		int id = log.order[i];
		assert_false(seen[id]);
		seen[id] = true;
		assert_true(id % M > last[id / M]);
		last[id / M] = id % M;
	}
	talloc_free(ev);
}

static void test_threaded_from_own_thread(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(NULL, ev);
	assert_non_null(tctx);
	struct im_log log = {.n = 0};
	struct im_job job = {.log = &log, .id = 5};
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_threaded_schedule_immediate(tctx, im, logged_im, &job);
	tt_loop_until_count(ev, &log.n, 1);
	assert_int_equal(log.order[0], 5);
	/* The immediate can be reused, threaded or not. */
	tevent_threaded_schedule_immediate(tctx, im, logged_im, &job);
	tt_loop_until_count(ev, &log.n, 2);
	tevent_schedule_immediate(im, ev, logged_im, &job);
	tt_loop_until_count(ev, &log.n, 3);
	talloc_free(tctx);
	talloc_free(ev);
}

static void count_fd(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	(void)fde;
	(void)flags;
	(*(int *)p)++;
}

static void test_threaded_wakes_sleeping_loop(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(ev, ev);
	assert_non_null(tctx);
	int p[2];
	tt_pipe(p);
	int fd_calls = 0;
	/* Something to wait for that never becomes ready. */
	assert_non_null(tevent_add_fd(ev, ev, p[0], TEVENT_FD_READ, count_fd, &fd_calls));
	struct im_log log = {.n = 0};
	struct im_job job = {.log = &log, .id = 1};
	struct tevent_immediate *im = tevent_create_immediate(ev);
	struct sender s = {.tctx = tctx, .ims = &im, .jobs = &job, .count = 1, .delay = 100 * 1000};
	/* Without the wakeup the loop would sleep on the idle pipe forever. */
	assert_int_equal(pthread_create(&s.thread, NULL, sender_fn, &s), 0);
	tt_loop_until_count(ev, &log.n, 1);
	pthread_join(s.thread, NULL);
	assert_int_equal(fd_calls, 0);
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
}

static void schedule_scheduled(void *arg)
{
	(void)arg;
	struct tevent_context *ev = tevent_context_init(NULL);
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(ev, ev);
	struct tevent_immediate *im = tevent_create_immediate(ev);
	struct im_log log = {.n = 0};
	struct im_job job = {.log = &log};
	tevent_schedule_immediate(im, ev, logged_im, &job);
	tevent_threaded_schedule_immediate(tctx, im, logged_im, &job);
}

static void schedule_null_handler(void *arg)
{
	(void)arg;
	struct tevent_context *ev = tevent_context_init(NULL);
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(ev, ev);
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_threaded_schedule_immediate(tctx, im, NULL, NULL);
}

/* The documented pickiness: an already active immediate or no handler. */
static void test_threaded_bad_arguments_abort(void **state)
{
	(void)state;
	tt_assert_aborted(tt_run_in_child(schedule_scheduled, NULL));
	tt_assert_aborted(tt_run_in_child(schedule_null_handler, NULL));
}

static void test_threaded_context_outlived_by_ev_or_not(void **state)
{
	/* Freed before its event context. */
	struct tevent_context *ev = tt_context(state);
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(NULL, ev);
	assert_non_null(tctx);
	talloc_free(tctx);
	struct im_log log = {.n = 0};
	struct im_job job = {.log = &log, .id = 1};
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, logged_im, &job);
	tt_loop_until_count(ev, &log.n, 1);
	talloc_free(ev);

	/* The event context freed first: the threaded context stays valid. */
	ev = tt_context(state);
	tctx = tevent_threaded_context_create(NULL, ev);
	assert_non_null(tctx);
	talloc_free(ev);
	talloc_free(tctx);
}

/* ---- thread proxies ---------------------------------------------------- */

static atomic_int freed_markers;

static int marker_destructor(int *p)
{
	(void)p;
	atomic_fetch_add(&freed_markers, 1);
	return 0;
}

/* A child whose destructor tells that its parent was freed. */
static void watch(const void *parent)
{
	int *m = talloc(parent, int);
	assert_non_null(m);
	talloc_set_destructor(m, marker_destructor);
}

struct proxy_log {
	int calls;
	uint64_t seen;		/* bit i: "... i" arrived (i < 64) */
	char last_text[64];
	bool last_had_data;
	bool keep_data;		/* steal the data into the context */
	struct tevent_context *ev;
};

static struct proxy_log *g_proxy_log;

static void proxy_handler(struct tevent_context *ev, struct tevent_immediate *im, void *private_ptr)
{
	(void)im;
	struct proxy_log *l = g_proxy_log;
	l->calls++;
	l->ev = ev;
	l->last_had_data = private_ptr != NULL;
	if (private_ptr != NULL) {
		snprintf(l->last_text, sizeof(l->last_text), "%s", (const char *)private_ptr);
		const char *space = strrchr(l->last_text, ' ');
		int i = space != NULL ? atoi(space + 1) : -1;
		if (i >= 0 && i < 64) {
			l->seen |= UINT64_C(1) << i;
		}
		if (l->keep_data) {
			talloc_steal(ev, private_ptr);
		}
	}
}

struct proxy_sender {
	pthread_t thread;
	struct tevent_thread_proxy *tp;
	int count;
	bool with_data;
	bool null_pp_data;
	bool watch_objects;
	/* results, checked by the main thread */
	bool im_cleared;
	bool data_cleared;
};

static void *proxy_sender_fn(void *arg)
{
	struct proxy_sender *s = arg;
	s->im_cleared = true;
	s->data_cleared = true;
	for (int i = 0; i < s->count; i++) {
		struct tevent_immediate *im = tevent_create_immediate(NULL);
		char *text = s->with_data ? talloc_asprintf(NULL, "message %d", i) : NULL;
		if (s->watch_objects) {
			watch(im);
			if (text != NULL) {
				watch(text);
			}
		}
		tevent_thread_proxy_schedule(s->tp, &im, proxy_handler, s->null_pp_data ? NULL : &text);
		s->im_cleared = s->im_cleared && im == NULL;
		s->data_cleared = s->data_cleared && text == NULL;
		if (s->null_pp_data) {
			talloc_free(text);
		}
	}
	return NULL;
}

static void run_sender(struct proxy_sender *s)
{
	assert_int_equal(pthread_create(&s->thread, NULL, proxy_sender_fn, s), 0);
	pthread_join(s->thread, NULL);
}

static void test_proxy_moves_ownership(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_thread_proxy *tp = tevent_thread_proxy_create(ev);
	assert_non_null(tp);
	assert_ptr_equal(talloc_parent(tp), ev);
	struct proxy_log log = {.calls = 0};
	g_proxy_log = &log;
	atomic_store(&freed_markers, 0);

	struct proxy_sender s = {.tp = tp, .count = 1, .with_data = true, .watch_objects = true};
	run_sender(&s);
	assert_true(s.im_cleared);
	assert_true(s.data_cleared);
	tt_loop_until_count(ev, &log.calls, 1);
	assert_ptr_equal(log.ev, ev);
	assert_true(log.last_had_data);
	assert_string_equal(log.last_text, "message 0");
	/* Neither the immediate nor the unclaimed data outlive the handler. */
	bool expired = false;
	/* A generous guard: the loop leaves as soon as both are freed. */
	tevent_add_timer(ev, ev, tevent_timeval_current_ofs(10, 0), tt_deadline_handler, &expired);
	while (atomic_load(&freed_markers) < 2 && !expired) {
		tevent_loop_once(ev);
	}
	assert_int_equal(atomic_load(&freed_markers), 2);
	talloc_free(ev);
	assert_int_equal(atomic_load(&freed_markers), 2);
}

static void test_proxy_claimed_data_survives(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_thread_proxy *tp = tevent_thread_proxy_create(ev);
	assert_non_null(tp);
	struct proxy_log log = {.keep_data = true};
	g_proxy_log = &log;
	atomic_store(&freed_markers, 0);
	struct proxy_sender s = {.tp = tp, .count = 3, .with_data = true, .watch_objects = true};
	run_sender(&s);
	tt_loop_until_count(ev, &log.calls, 3);
	/* The reference hands a batch over newest first: no order is promised. */
	assert_int_equal(log.seen, 7);
	tt_loop_for(ev, 50000);
	/* Only the three immediates went; the stolen data lives on the context. */
	assert_int_equal(atomic_load(&freed_markers), 3);
	talloc_free(ev);
	assert_int_equal(atomic_load(&freed_markers), 6);
}

static void test_proxy_without_data(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_thread_proxy *tp = tevent_thread_proxy_create(ev);
	assert_non_null(tp);
	struct proxy_log log = {.calls = 0};
	g_proxy_log = &log;
	struct proxy_sender a = {.tp = tp, .count = 2, .with_data = false};	/* *pp == NULL */
	run_sender(&a);
	struct proxy_sender b = {.tp = tp, .count = 2, .with_data = true, .null_pp_data = true};	/* pp == NULL */
	run_sender(&b);
	assert_true(a.im_cleared);
	assert_true(b.im_cleared);
	tt_loop_until_count(ev, &log.calls, 4);
	assert_false(log.last_had_data);
	talloc_free(ev);
}

#ifndef TEVENT_TEST_REFERENCE
/*
 * Ours only: the reference takes the data and then crashes in the loop
 * when *pp_im is NULL; here the call is refused and nothing is taken.
 */
static void test_proxy_null_immediate_is_ignored(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_thread_proxy *tp = tevent_thread_proxy_create(ev);
	assert_non_null(tp);
	struct proxy_log log = {.calls = 0};
	g_proxy_log = &log;
	struct tevent_immediate *im = NULL;
	char *text = talloc_strdup(NULL, "kept");
	tevent_thread_proxy_schedule(tp, &im, proxy_handler, &text);
	assert_non_null(text);	/* nothing was taken */
	tt_loop_for(ev, 50000);
	assert_int_equal(log.calls, 0);
	talloc_free(text);
	talloc_free(ev);
}
#endif

static void test_proxy_from_own_thread(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_thread_proxy *tp = tevent_thread_proxy_create(ev);
	assert_non_null(tp);
	struct proxy_log log = {.calls = 0};
	g_proxy_log = &log;
	for (int i = 0; i < 5; i++) {
		struct tevent_immediate *im = tevent_create_immediate(NULL);
		char *text = talloc_asprintf(NULL, "self %d", i);
		tevent_thread_proxy_schedule(tp, &im, proxy_handler, &text);
		assert_null(im);
		assert_null(text);
	}
	tt_loop_until_count(ev, &log.calls, 5);
	assert_int_equal(log.seen, 0x1f);
	talloc_free(ev);
}

/* Messages still queued when the proxy (or its context) goes are freed. */
static void test_proxy_freed_with_pending(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_thread_proxy *tp = tevent_thread_proxy_create(ev);
	assert_non_null(tp);
	struct proxy_log log = {.calls = 0};
	g_proxy_log = &log;
	atomic_store(&freed_markers, 0);
	struct proxy_sender s = {.tp = tp, .count = 10, .with_data = true, .watch_objects = true};
	run_sender(&s);
	talloc_free(tp);
	assert_int_equal(atomic_load(&freed_markers), 20);
	tt_loop_for(ev, 50000);
	assert_int_equal(log.calls, 0);

	tp = tevent_thread_proxy_create(ev);
	assert_non_null(tp);
	s.tp = tp;
	run_sender(&s);
	talloc_free(ev);
	assert_int_equal(atomic_load(&freed_markers), 40);
	assert_int_equal(log.calls, 0);
}

/* Many threads into one proxy: each message exactly once. */
static void test_proxy_many_senders(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_thread_proxy *tp = tevent_thread_proxy_create(ev);
	assert_non_null(tp);
	struct proxy_log log = {.calls = 0};
	g_proxy_log = &log;
	atomic_store(&freed_markers, 0);
	enum { T = 8, M = 200 };
	struct proxy_sender s[T];
	for (int t = 0; t < T; t++) {
		s[t] = (struct proxy_sender){.tp = tp, .count = M, .with_data = true, .watch_objects = true};
		assert_int_equal(pthread_create(&s[t].thread, NULL, proxy_sender_fn, &s[t]), 0);
	}
	tt_loop_until_count(ev, &log.calls, T * M);
	for (int t = 0; t < T; t++) {
		pthread_join(s[t].thread, NULL);
		assert_true(s[t].im_cleared);
		assert_true(s[t].data_cleared);
	}
	talloc_free(ev);
	assert_int_equal(atomic_load(&freed_markers), 2 * T * M);
}

int main(void)
{
	talloc_disable_null_tracking();
	alarm(300);
	const struct CMUnitTest tests[] = {
		PER_BACKEND(test_threaded_order_from_one_thread),
		PER_BACKEND(test_threaded_many_threads),
		PER_BACKEND(test_threaded_from_own_thread),
		PER_BACKEND(test_threaded_wakes_sleeping_loop),
		cmocka_unit_test(test_threaded_bad_arguments_abort),
		PER_BACKEND(test_threaded_context_outlived_by_ev_or_not),
		PER_BACKEND(test_proxy_moves_ownership),
		PER_BACKEND(test_proxy_claimed_data_survives),
		PER_BACKEND(test_proxy_without_data),
#ifndef TEVENT_TEST_REFERENCE
		PER_BACKEND(test_proxy_null_immediate_is_ignored),
#endif
		PER_BACKEND(test_proxy_from_own_thread),
		PER_BACKEND(test_proxy_freed_with_pending),
		PER_BACKEND(test_proxy_many_senders),
	};
	return cmocka_run_group_tests_name("tevent threads (" TT_IMPL ")", tests, NULL, NULL);
}

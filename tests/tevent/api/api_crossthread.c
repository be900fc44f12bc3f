/*
 * Waking a loop from another thread can never be lost.
 *
 * Our loop lets other threads skip the wakeup write while it is not asleep
 * and may spin briefly before it sleeps (lib/tevent/threads.cpp, "Sleeping
 * and waking").  These tests drive every interleaving they can reach:
 * request/reply between two loops and a stream of threaded immediates, with
 * random short delays on both sides, and a loop deep in a long wait (its
 * only timer an hour away, so nothing but the wakeup can end the wait).
 *
 * A lost wakeup shows as a loop that never returns: every test arms an
 * alarm of a few minutes (SIGALRM fails the test).  No assertion
 * depends on how fast anything is.  Each also runs on the reference.
 */
#include "common.h"

#include <sched.h>
#include <stdatomic.h>

/* Generous: under valgrind every round trip is slow, but progress goes on. */
#define TEST_ALARM_SECONDS 240

/* A timer an hour away: the loop's wait has no other end. */
static void never_handler(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)ev;
	(void)te;
	(void)now;
	(void)p;
	fail_msg("the far timer fired");
}

static void add_far_timer(struct tevent_context *ev)
{
	assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_current_ofs(3600, 0), never_handler, NULL));
}

static bool g_tiny_pauses;

/* Random short pauses: none, a busy wait, a yield or a short sleep. */
static void random_pause(unsigned *seed)
{
	if (g_tiny_pauses) {
		/*
		 * Busy waits of up to a few microseconds: a reply then often
		 * lands while the other loop is between finding nothing to do
		 * and falling asleep, the window the protocol must close.
		 */
		volatile unsigned spin = (unsigned)(rand_r(seed) % 4000);
		while (spin > 0) {
			spin--;
		}
		return;
	}
	switch (rand_r(seed) % 8) {
	case 0:
		usleep((useconds_t)(rand_r(seed) % 200));
		break;
	case 1:
		sched_yield();
		break;
	case 2:
	case 3: {
		volatile unsigned spin = (unsigned)(rand_r(seed) % 20000);
		while (spin > 0) {
			spin--;
		}
		break;
	}
	default:
		break;
	}
}

/* ---- request/reply between two loops ----------------------------------- */

struct pingpong {
	const char *backend;
	struct tevent_thread_proxy *to_main;
	struct tevent_thread_proxy *_Atomic to_worker;
	atomic_bool stop;
	long replies;  /* main thread only */
	long target;
	unsigned main_seed;
	unsigned worker_seed;
	bool random_delays;
	/* fairness case: a descriptor of the main loop that becomes readable */
	int fd_calls;
	long fd_written_at;
};

static struct pingpong *g_pp;

static void send_to(struct tevent_thread_proxy *tp, tevent_immediate_handler_t handler)
{
	struct tevent_immediate *im = tevent_create_immediate(NULL);
	assert_non_null(im);
	tevent_thread_proxy_schedule(tp, &im, handler, NULL);
	assert_null(im);
}

static void on_reply(struct tevent_context *ev, struct tevent_immediate *im, void *pd);

static void on_request(struct tevent_context *ev, struct tevent_immediate *im, void *pd)
{
	(void)ev;
	(void)im;
	(void)pd;
	if (g_pp->random_delays) {
		random_pause(&g_pp->worker_seed);
	}
	send_to(g_pp->to_main, on_reply);
}

static void on_reply(struct tevent_context *ev, struct tevent_immediate *im, void *pd)
{
	(void)ev;
	(void)im;
	(void)pd;
	g_pp->replies++;
	if (g_pp->random_delays) {
		random_pause(&g_pp->main_seed);
	}
	if (g_pp->replies < g_pp->target) {
		send_to(atomic_load(&g_pp->to_worker), on_request);
	}
}

static void on_stop(struct tevent_context *ev, struct tevent_immediate *im, void *pd)
{
	(void)ev;
	(void)im;
	(void)pd;
	atomic_store(&g_pp->stop, true);
}

static void *pingpong_worker(void *arg)
{
	struct pingpong *pp = arg;
	struct tevent_context *ev = tevent_context_init_byname(NULL, pp->backend);
	assert_non_null(ev);
	add_far_timer(ev);
	struct tevent_thread_proxy *tp = tevent_thread_proxy_create(ev);
	assert_non_null(tp);
	atomic_store(&pp->to_worker, tp);
	while (!atomic_load(&pp->stop)) {
		assert_int_equal(tevent_loop_once(ev), 0);
		if (pp->random_delays) {
			random_pause(&pp->worker_seed);
		}
	}
	talloc_free(ev);
	return NULL;
}

static void pingpong_fd_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	(void)fde;
	(void)flags;
	tt_read_byte(*(int *)p);
	g_pp->fd_calls++;
}

/*
 * target round trips; with fd_at >= 0 a pipe of the main loop becomes
 * readable after that many, and the round trips go on until its handler
 * ran (at most target of them).
 */
static void run_pingpong(const char *backend, long target, bool random_delays, long fd_at)
{
	alarm(TEST_ALARM_SECONDS);
	struct pingpong pp = {
	    .backend = backend,
	    .target = target,
	    .main_seed = 1,
	    .worker_seed = 2,
	    .random_delays = random_delays,
	};
	atomic_init(&pp.to_worker, NULL);
	atomic_init(&pp.stop, false);
	g_pp = &pp;
	struct tevent_context *ev = tevent_context_init_byname(NULL, backend);
	assert_non_null(ev);
	add_far_timer(ev);
	pp.to_main = tevent_thread_proxy_create(ev);
	assert_non_null(pp.to_main);
	int fds[2] = {-1, -1};
	if (fd_at >= 0) {
		tt_pipe(fds);
		assert_non_null(tevent_add_fd(ev, ev, fds[0], TEVENT_FD_READ, pingpong_fd_handler, &fds[0]));
	}

	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, pingpong_worker, &pp), 0);
	while (atomic_load(&pp.to_worker) == NULL) {
		usleep(100);
	}
	send_to(atomic_load(&pp.to_worker), on_request);
	bool written = false;
	while (pp.replies < pp.target) {
		if (fd_at >= 0 && !written && pp.replies >= fd_at) {
			tt_write_byte(fds[1]);
			written = true;
			pp.fd_written_at = pp.replies;
		}
		if (fd_at >= 0 && pp.fd_calls > 0) {
			break;
		}
		assert_int_equal(tevent_loop_once(ev), 0);
		if (random_delays) {
			random_pause(&pp.main_seed);
		}
	}
	/* No more requests; a reply still in flight is freed with ev. */
	if (fd_at >= 0) {
		pp.target = pp.replies;  /* on_reply sends no more */
	}
	send_to(atomic_load(&pp.to_worker), on_stop);
	assert_int_equal(pthread_join(th, NULL), 0);
	if (fd_at >= 0) {
		/*
		 * A steady stream of messages does not starve a ready
		 * descriptor: every loop looks at its descriptors whenever it
		 * runs out of other work, so the handler runs within a round
		 * trip or two (a count, not a time: it holds on any machine).
		 */
		assert_int_equal(pp.fd_calls, 1);
		assert_true(pp.replies - pp.fd_written_at <= 100);
		close(fds[0]);
		close(fds[1]);
	} else {
		assert_int_equal(pp.replies, target);
	}
	talloc_free(ev);
	g_pp = NULL;
	alarm(0);
}

static void test_pingpong_steady(void **state)
{
	run_pingpong(*state, 20000, false, -1);
}

static void test_pingpong_random_delays(void **state)
{
	run_pingpong(*state, 5000, true, -1);
}

static void test_pingpong_tiny_random_delays(void **state)
{
	g_tiny_pauses = true;
	run_pingpong(*state, 20000, true, -1);
	g_tiny_pauses = false;
}

static void test_pingpong_does_not_starve_fds(void **state)
{
	run_pingpong(*state, 1000000, false, 1000);
}

/* ---- threaded immediates, a stream with gaps ---------------------------- */

struct stream {
	struct tevent_threaded_context *tctx;
	struct tevent_immediate **ims;
	int count;
	int ran;  /* loop thread only */
	unsigned seed;
};

static void stream_handler(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)ev;
	(void)im;
	struct stream *s = p;
	s->ran++;
}

static void *stream_producer(void *arg)
{
	struct stream *s = arg;
	for (int i = 0; i < s->count; i++) {
		tevent_threaded_schedule_immediate(s->tctx, s->ims[i], stream_handler, s);
		random_pause(&s->seed);
	}
	return NULL;
}

static void test_threaded_stream_random_delays(void **state)
{
	alarm(TEST_ALARM_SECONDS);
	struct tevent_context *ev = tt_context(state);
	add_far_timer(ev);
	struct stream s = {.count = 5000, .seed = 3};
	s.tctx = tevent_threaded_context_create(ev, ev);
	assert_non_null(s.tctx);
	s.ims = talloc_array(ev, struct tevent_immediate *, s.count);
	assert_non_null(s.ims);
	for (int i = 0; i < s.count; i++) {
		s.ims[i] = tevent_create_immediate(s.ims);
		assert_non_null(s.ims[i]);
	}
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, stream_producer, &s), 0);
	unsigned seed = 4;
	while (s.ran < s.count) {
		assert_int_equal(tevent_loop_once(ev), 0);
		random_pause(&seed);
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(s.ran, s.count);
	talloc_free(ev);
	alarm(0);
}

/* ---- a loop deep in a long wait ----------------------------------------- */

struct late_sender {
	struct tevent_threaded_context *tctx;
	struct tevent_thread_proxy *tp;
	struct tevent_immediate *im;
	int rounds;
	atomic_int sent;
	atomic_int seen;  /* handlers that ran, published by the loop thread */
};

static void late_handler(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)ev;
	(void)im;
	struct late_sender *ls = p;
	atomic_fetch_add(&ls->seen, 1);
}

static struct late_sender *g_late;

/* A proxy's handler gets no private data of ours. */
static void late_proxy_handler(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)p;
	late_handler(ev, im, g_late);
}

/*
 * Each round: waits until the previous message was handled, gives the loop
 * time to finish any spin and fall asleep, then sends one message.
 */
static void *late_sender_fn(void *arg)
{
	struct late_sender *ls = arg;
	for (int i = 0; i < ls->rounds; i++) {
		while (atomic_load(&ls->seen) < i) {
			usleep(1000);
		}
		usleep(i % 2 == 0 ? 100000 : 2000);
		if (ls->tp != NULL) {
			struct tevent_immediate *im = tevent_create_immediate(NULL);
			assert_non_null(im);
			tevent_thread_proxy_schedule(ls->tp, &im, late_proxy_handler, NULL);
		} else {
			tevent_threaded_schedule_immediate(ls->tctx, ls->im, late_handler, ls);
		}
		atomic_fetch_add(&ls->sent, 1);
	}
	return NULL;
}

static void run_deep_sleep(void **state, bool proxy)
{
	alarm(TEST_ALARM_SECONDS);
	struct tevent_context *ev = tt_context(state);
	add_far_timer(ev);
	struct late_sender ls = {.rounds = 6};
	atomic_init(&ls.sent, 0);
	atomic_init(&ls.seen, 0);
	g_late = &ls;
	if (proxy) {
		ls.tp = tevent_thread_proxy_create(ev);
		assert_non_null(ls.tp);
	} else {
		ls.tctx = tevent_threaded_context_create(ev, ev);
		assert_non_null(ls.tctx);
		ls.im = tevent_create_immediate(ev);
		assert_non_null(ls.im);
	}
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, late_sender_fn, &ls), 0);
	/*
	 * Every tevent_loop_once() returns: the only timer is an hour away, so
	 * only the senders can end its wait.
	 */
	while (atomic_load(&ls.seen) < ls.rounds) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(atomic_load(&ls.sent), ls.rounds);
	talloc_free(ev);
	g_late = NULL;
	alarm(0);
}

static void test_deep_sleep_threaded_immediate(void **state)
{
	run_deep_sleep(state, false);
}

static void test_deep_sleep_proxy(void **state)
{
	run_deep_sleep(state, true);
}

int main(void)
{
	talloc_disable_null_tracking();
	const struct CMUnitTest tests[] = {
		PER_BACKEND(test_pingpong_steady),
		PER_BACKEND(test_pingpong_random_delays),
		PER_BACKEND(test_pingpong_tiny_random_delays),
		PER_BACKEND(test_pingpong_does_not_starve_fds),
		PER_BACKEND(test_threaded_stream_random_delays),
		PER_BACKEND(test_deep_sleep_threaded_immediate),
		PER_BACKEND(test_deep_sleep_proxy),
	};
	return cmocka_run_group_tests_name("tevent cross-thread wakeup (" TT_IMPL ")", tests, NULL, NULL);
}

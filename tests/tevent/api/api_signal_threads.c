/*
 * Signal events with one context per thread (ours only: the reference calls
 * every handler from whichever thread's loop looks first, on the wrong
 * thread for all the others).
 *
 * Kept apart from api_signal.c so that it also runs under ThreadSanitizer,
 * which defers and merges signals and so cannot run the exact-count tests.
 */
#include "common.h"

#include <stdatomic.h>

#define THREADS 4
#define RAISES 50

struct listener {
	pthread_t thread;
	pthread_barrier_t *ready;
	atomic_bool *stop;
	atomic_int total;	/* sum of counts the handler saw */
	atomic_bool wrong_thread;
	pthread_t self;
};

static void listener_handler(struct tevent_context *ev, struct tevent_signal *se, int signum, int count,
			     void *siginfo, void *private_data)
{
	(void)ev;
	(void)se;
	(void)signum;
	(void)siginfo;
	struct listener *l = private_data;
	if (!pthread_equal(l->self, pthread_self())) {
		atomic_store(&l->wrong_thread, true);
	}
	atomic_fetch_add(&l->total, count);
}

static void loop_briefly(struct tevent_context *ev)
{
	bool fired = false;
	struct tevent_timer *te = tevent_add_timer(ev, NULL, tevent_timeval_current_ofs(0, 20000),
						   tt_deadline_handler, &fired);
	tevent_loop_once(ev);
	if (!fired) {
		talloc_free(te);
	}
}

static void *listener_fn(void *arg)
{
	struct listener *l = arg;
	l->self = pthread_self();
	struct tevent_context *ev = tevent_context_init(NULL);
	struct tevent_signal *se = tevent_add_signal(ev, ev, SIGUSR1, 0, listener_handler, l);
	pthread_barrier_wait(l->ready);
	while (se != NULL && atomic_load(&l->total) < RAISES && !atomic_load(l->stop)) {
		loop_briefly(ev);
	}
	pthread_barrier_wait(l->ready);	/* nobody unhooks while others still count */
	talloc_free(ev);
	return NULL;
}

/*
 * Every thread's handler sees every signal exactly once, on its own thread,
 * whoever consumed it; the signals are raised by a thread without a context.
 */
static void test_contexts_on_threads(void **state)
{
	(void)state;
	struct listener listeners[THREADS];
	pthread_barrier_t ready;
	atomic_bool stop = false;
	assert_int_equal(pthread_barrier_init(&ready, NULL, THREADS + 1), 0);
	for (int i = 0; i < THREADS; i++) {
		memset(&listeners[i], 0, sizeof(listeners[i]));
		listeners[i].ready = &ready;
		listeners[i].stop = &stop;
		atomic_init(&listeners[i].total, 0);
		atomic_init(&listeners[i].wrong_thread, false);
		assert_int_equal(pthread_create(&listeners[i].thread, NULL, listener_fn, &listeners[i]), 0);
	}
	pthread_barrier_wait(&ready);
	for (int i = 0; i < RAISES; i++) {
		raise(SIGUSR1);	/* to this thread, which has no context */
		usleep(1000);
	}
	double t0 = tt_now();
	bool all = false;
	while (!all && tt_now() - t0 < 20) {
		all = true;
		for (int i = 0; i < THREADS; i++) {
			all = all && atomic_load(&listeners[i].total) >= RAISES;
		}
		usleep(10000);
	}
	atomic_store(&stop, true);
	pthread_barrier_wait(&ready);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(listeners[i].thread, NULL);
		assert_int_equal(atomic_load(&listeners[i].total), RAISES);
		assert_false(atomic_load(&listeners[i].wrong_thread));
	}
	pthread_barrier_destroy(&ready);
	struct sigaction sa;
	assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
	assert_ptr_equal(sa.sa_handler, SIG_DFL);
}

/*
 * Threads keep adding and freeing handlers for the same signal while
 * raising it: each must see its own signal, and when all are gone the
 * original action is back.
 */
#define CHURN_ROUNDS 200

struct churner {
	pthread_t thread;
	atomic_int seen;
	int rounds_done;
	atomic_bool wrong_thread;
	pthread_t self;
};

static void churn_handler(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *siginfo,
			  void *private_data)
{
	(void)ev;
	(void)se;
	(void)signum;
	(void)siginfo;
	struct churner *c = private_data;
	if (!pthread_equal(c->self, pthread_self())) {
		atomic_store(&c->wrong_thread, true);
	}
	atomic_fetch_add(&c->seen, count);
}

static void *churn_fn(void *arg)
{
	struct churner *c = arg;
	c->self = pthread_self();
	struct tevent_context *ev = tevent_context_init(NULL);
	for (int r = 0; r < CHURN_ROUNDS; r++) {
		atomic_store(&c->seen, 0);
		struct tevent_signal *se = tevent_add_signal(ev, NULL, SIGUSR2, SA_RESTART, churn_handler, c);
		if (se == NULL) {
			break;
		}
		raise(SIGUSR2);
		double t0 = tt_now();
		while (atomic_load(&c->seen) == 0 && tt_now() - t0 < 10) {
			loop_briefly(ev);
		}
		talloc_free(se);
		if (atomic_load(&c->seen) == 0) {
			break;
		}
		c->rounds_done++;
	}
	talloc_free(ev);
	return NULL;
}

static void test_handler_churn_across_threads(void **state)
{
	(void)state;
	struct sigaction ign = {.sa_handler = SIG_IGN};
	assert_int_equal(sigaction(SIGUSR2, &ign, NULL), 0);
	struct churner churners[THREADS];
	for (int i = 0; i < THREADS; i++) {
		memset(&churners[i], 0, sizeof(churners[i]));
		atomic_init(&churners[i].seen, 0);
		atomic_init(&churners[i].wrong_thread, false);
		assert_int_equal(pthread_create(&churners[i].thread, NULL, churn_fn, &churners[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(churners[i].thread, NULL);
		assert_int_equal(churners[i].rounds_done, CHURN_ROUNDS);
		assert_false(atomic_load(&churners[i].wrong_thread));
	}
	struct sigaction sa;
	assert_int_equal(sigaction(SIGUSR2, NULL, &sa), 0);
	assert_ptr_equal(sa.sa_handler, SIG_IGN);
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigaction(SIGUSR2, &dfl, NULL);
}

int main(void)
{
	alarm(300);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contexts_on_threads),
		cmocka_unit_test(test_handler_churn_across_threads),
	};
	return cmocka_run_group_tests_name("tevent signals on threads (" TT_IMPL ")", tests, NULL, NULL);
}

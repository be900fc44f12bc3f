/* Threaded immediates from many producers: P threads each schedule K
 * immediates into one context through tevent_threaded_schedule_immediate
 * while the owner runs its loop.  Every immediate must run exactly once,
 * on the owner's thread, and each producer's immediates in the order it
 * scheduled them.
 *
 * usage: stress_threaded_immediates [PRODUCERS [EACH] [BACKEND]] */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <talloc.h>
#include <tevent.h>

#include "stress_common.h"

struct producer {
	struct tevent_threaded_context *tctx;
	int id;
	int each;
};

struct job {
	int producer;
	int seq;
};

static int *g_next_seq;        /* per producer: the sequence number expected next */
static long g_ran;
static pthread_t g_owner;

static void run_job(struct tevent_context *ev, struct tevent_immediate *im, void *priv)
{
	(void)ev;
	(void)im;
	struct job *j = priv;
	CHECK(pthread_equal(pthread_self(), g_owner));
	CHECK(j->seq == g_next_seq[j->producer]);
	g_next_seq[j->producer] = j->seq + 1;
	g_ran++;
	/* The job and its immediate belong to the owner's context now. */
	talloc_free(j);
}

static void count_timer(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *priv)
{
	(void)ev;
	(void)te;
	(void)now;
	(*(int *)priv)++;
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	/* Each producer keeps its own top-level hierarchy for the memory it
	 * hands over; null tracking is off. */
	for (int i = 0; i < p->each; i++) {
		struct job *j = talloc(NULL, struct job);
		REQUIRE(j != NULL);
		struct tevent_immediate *im = tevent_create_immediate(j);
		REQUIRE(im != NULL);
		j->producer = p->id;
		j->seq = i;
		tevent_threaded_schedule_immediate(p->tctx, im, run_job, j);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int producers = argc > 1 ? atoi(argv[1]) : 64;
	int each = argc > 2 ? atoi(argv[2]) : 2000;
	const char *backend = argc > 3 ? argv[3] : NULL;

	talloc_disable_null_tracking();
	void *mem = talloc_new(NULL);
	struct tevent_context *ev = backend ? tevent_context_init_byname(mem, backend)
					    : tevent_context_init(mem);
	REQUIRE(ev != NULL);
	g_owner = pthread_self();
	g_next_seq = calloc((size_t)producers, sizeof(int));
	struct producer *ps = calloc((size_t)producers, sizeof(*ps));
	pthread_t *ts = calloc((size_t)producers, sizeof(*ts));
	REQUIRE(g_next_seq && ps && ts);

	for (int i = 0; i < producers; i++) {
		ps[i].tctx = tevent_threaded_context_create(mem, ev);
		REQUIRE(ps[i].tctx != NULL);
		ps[i].id = i;
		ps[i].each = each;
		REQUIRE(pthread_create(&ts[i], NULL, produce, &ps[i]) == 0);
	}
	long want = (long)producers * each;
	/* The loop sleeps when nothing is queued and must be woken by the
	 * producers; a lost wakeup shows as a timeout of the test. */
	while (g_ran < want) {
		CHECK(tevent_loop_once(ev) == 0);
	}
	for (int i = 0; i < producers; i++) pthread_join(ts[i], NULL);
	/* Nothing more may arrive: one more round, ended by a zero timer. */
	int timer_ran = 0;
	tevent_add_timer(ev, ev, tevent_timeval_zero(), count_timer, &timer_ran);
	while (timer_ran == 0) CHECK(tevent_loop_once(ev) == 0);
	CHECK(g_ran == want);
	for (int i = 0; i < producers; i++) CHECK(g_next_seq[i] == each);

	talloc_free(mem);
	free(g_next_seq);
	free(ps);
	free(ts);
	return stress_result("stress_threaded_immediates");
}

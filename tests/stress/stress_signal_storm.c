/* Signal storms with exact counts.
 *
 * Realtime: S sender threads each sigqueue() N realtime signals carrying
 * (sender, sequence) to the process; the kernel queues every one, so the
 * SA_SIGINFO handler must see each exactly once (per sender in order: one
 * sender's signals are queued, and delivered, in order).
 *
 * Standard: a standard signal that is pending is not queued twice, so a
 * sender thread sends SIGUSR1 only after the loop has counted the previous
 * one; the handler's counts must add up to exactly the number sent.
 *
 * usage: stress_signal_storm [SENDERS [EACH [ROUNDS]]] */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>
#include <tevent.h>

#include "stress_common.h"

static int g_senders, g_each, g_rounds;
static int *g_next;             /* per sender: next sequence expected */
static long g_rt_seen;
static atomic_long g_usr1_seen;

static void rt_handler(struct tevent_context *ev, struct tevent_signal *se, int signum, int count,
		       void *siginfo, void *priv)
{
	(void)ev;
	(void)se;
	(void)priv;
	CHECK(signum == SIGRTMIN);
	/* With SA_SIGINFO every signal comes with its own siginfo. */
	CHECK(count == 1);
	siginfo_t *info = siginfo;
	int v = info->si_value.sival_int;
	int sender = v / g_each, seq = v % g_each;
	CHECK(info->si_code == SI_QUEUE);
	CHECK(sender >= 0 && sender < g_senders);
	if (sender >= 0 && sender < g_senders) {
		CHECK(seq == g_next[sender]);
		g_next[sender] = seq + 1;
	}
	g_rt_seen++;
}

static void *rt_sender(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < g_each; i++) {
		union sigval v = {.sival_int = id * g_each + i};
		/* EAGAIN: the queue limit (RLIMIT_SIGPENDING) is reached until
		 * the loop drains some; retry. */
		while (sigqueue(getpid(), SIGRTMIN, v) != 0) {
			REQUIRE(errno == EAGAIN);
			sched_yield();
		}
	}
	return NULL;
}

static void usr1_handler(struct tevent_context *ev, struct tevent_signal *se, int signum, int count,
			 void *siginfo, void *priv)
{
	(void)ev;
	(void)se;
	(void)siginfo;
	(void)priv;
	CHECK(signum == SIGUSR1);
	atomic_fetch_add(&g_usr1_seen, count);
}

static void *usr1_sender(void *arg)
{
	long n = (long)(intptr_t)arg;
	for (long i = 0; i < n; i++) {
		kill(getpid(), SIGUSR1);
		while (atomic_load(&g_usr1_seen) <= i) sched_yield();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	g_senders = argc > 1 ? atoi(argv[1]) : 4;
	g_each = argc > 2 ? atoi(argv[2]) : 5000;
	g_rounds = argc > 3 ? atoi(argv[3]) : 20000;

	talloc_disable_null_tracking();
	void *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	REQUIRE(ev != NULL);
	g_next = calloc((size_t)g_senders, sizeof(int));
	REQUIRE(g_next != NULL);

	/* The loop's thread is the only one that may take the signals: the
	 * senders block them (signal masks are inherited by new threads). */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGRTMIN);
	sigaddset(&block, SIGUSR1);
	REQUIRE(tevent_add_signal(ev, mem, SIGRTMIN, SA_SIGINFO, rt_handler, NULL) != NULL);
	REQUIRE(tevent_add_signal(ev, mem, SIGUSR1, 0, usr1_handler, NULL) != NULL);
	pthread_sigmask(SIG_BLOCK, &block, &old);

	pthread_t *ts = calloc((size_t)g_senders + 1, sizeof(*ts));
	REQUIRE(ts != NULL);
	for (int i = 0; i < g_senders; i++) {
		REQUIRE(pthread_create(&ts[i], NULL, rt_sender, (void *)(intptr_t)i) == 0);
	}
	REQUIRE(pthread_create(&ts[g_senders], NULL, usr1_sender, (void *)(intptr_t)g_rounds) == 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	long want_rt = (long)g_senders * g_each;
	while (g_rt_seen < want_rt || atomic_load(&g_usr1_seen) < g_rounds) {
		CHECK(tevent_loop_once(ev) == 0);
	}
	for (int i = 0; i <= g_senders; i++) pthread_join(ts[i], NULL);
	CHECK(g_rt_seen == want_rt);
	CHECK(atomic_load(&g_usr1_seen) == g_rounds);
	for (int i = 0; i < g_senders; i++) CHECK(g_next[i] == g_each);

	talloc_free(mem);
	free(g_next);
	free(ts);
	return stress_result("stress_signal_storm");
}

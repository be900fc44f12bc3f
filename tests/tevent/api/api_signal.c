/*
 * Signal events: counts, SA_SIGINFO with its siginfo, the sigaction that is
 * installed and restored, several handlers and contexts per signal, storms
 * with exact counts, delivery into a blocked loop and from other threads,
 * SA_RESETHAND, freeing from handlers, tevent_cleanup_pending_signal_handlers
 * and tevent_common_check_signal.  (Contexts on several threads:
 * api_signal_threads.c.)
 */
#include <sys/wait.h>

#include "common.h"

#define MAX_CALLS 64

struct call {
	char who;
	struct tevent_context *ev;
	int signum;
	int count;
	bool has_info;
	siginfo_t info;
};

struct log {
	struct call calls[MAX_CALLS];
	int n;
	int total;		/* sum of counts */
};

struct sig_rec {
	struct log *log;
	char who;
	bool free_self;
	struct tevent_signal **victim;
	pthread_t thread;	/* the thread the handler last ran on */
};

static void sig_handler(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *siginfo,
			void *private_data)
{
	struct sig_rec *r = private_data;
	struct log *l = r->log;
	r->thread = pthread_self();
	l->total += count;
	if (l->n < MAX_CALLS) {
		struct call *c = &l->calls[l->n];
		c->who = r->who;
		c->ev = ev;
		c->signum = signum;
		c->count = count;
		c->has_info = siginfo != NULL;
		if (siginfo != NULL) {
			c->info = *(siginfo_t *)siginfo;
		}
	}
	l->n++;
	if (r->victim != NULL && *r->victim != NULL) {
		talloc_free(*r->victim);
		*r->victim = NULL;
	}
	if (r->free_self) {
		talloc_free(se);
	}
}

static struct tevent_signal *add(struct tevent_context *ev, TALLOC_CTX *mem, int signum, int flags,
				 struct sig_rec *r, struct log *l, char who)
{
	*r = (struct sig_rec){.log = l, .who = who};
	struct tevent_signal *se = tevent_add_signal(ev, mem, signum, flags, sig_handler, r);
	assert_non_null(se);
	return se;
}

/* Iterations bounded by a short timer, for "nothing more happens". */
static void loop_once_bounded(struct tevent_context *ev)
{
	bool fired = false;
	struct tevent_timer *te = tevent_add_timer(ev, NULL, tevent_timeval_current_ofs(0, 30000),
						   tt_deadline_handler, &fired);
	assert_int_equal(tevent_loop_once(ev), 0);
	if (!fired) {
		talloc_free(te);
	}
}

static void marker_handler(int signum)
{
	(void)signum;
}

static void set_disposition(int signum, void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	assert_int_equal(sigaction(signum, &sa, NULL), 0);
}

static struct sigaction get_disposition(int signum)
{
	struct sigaction sa;
	assert_int_equal(sigaction(signum, NULL, &sa), 0);
	return sa;
}

static int destructor_calls;
static int count_destructor(int *p)
{
	(void)p;
	destructor_calls++;
	return 0;
}

/* A child chunk whose destructor tells when the signal event was freed. */
static void watch_free(struct tevent_signal *se)
{
	int *marker = talloc(se, int);
	assert_non_null(marker);
	talloc_set_destructor(marker, count_destructor);
}

static void test_constants(void **state)
{
	(void)state;
	/* The reference sizes its table as twice SIGRTMIN (34 on Linux). */
	assert_int_equal(tevent_num_signals(), 68);
	assert_true(tevent_num_signals() > (size_t)SIGRTMAX);
	assert_int_equal(tevent_sa_info_queue_count(), 256);
}

static void test_signal_support(void **state)
{
	struct tevent_context *ev = tt_context(state);
	assert_true(tevent_signal_support(ev));
	talloc_free(ev);
}

static void test_invalid_signals(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r = {.log = &l};
	assert_null(tevent_add_signal(ev, ev, (int)tevent_num_signals(), 0, sig_handler, &r));
	assert_null(tevent_add_signal(ev, ev, 1000, 0, sig_handler, &r));
	assert_null(tevent_add_signal(ev, ev, 0, 0, sig_handler, &r));
	assert_null(tevent_add_signal(ev, ev, SIGKILL, 0, sig_handler, &r));
	assert_null(tevent_add_signal(ev, ev, SIGSTOP, 0, sig_handler, &r));
	talloc_free(ev);
}

static void test_counts_coalesce(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r;
	add(ev, ev, SIGUSR1, 0, &r, &l, 'a');
	for (int i = 0; i < 5; i++) {
		raise(SIGUSR1);
	}
	tt_loop_until_count(ev, &l.n, 1);
	assert_int_equal(l.calls[0].count, 5);
	assert_int_equal(l.calls[0].signum, SIGUSR1);
	assert_ptr_equal(l.calls[0].ev, ev);
	assert_false(l.calls[0].has_info);
	loop_once_bounded(ev);
	assert_int_equal(l.n, 1);
	raise(SIGUSR1);
	tt_loop_until_count(ev, &l.n, 2);
	assert_int_equal(l.calls[1].count, 1);
	talloc_free(ev);
}

static void test_check_signal_direct(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r;
	add(ev, ev, SIGUSR2, 0, &r, &l, 'a');
	assert_int_equal(tevent_common_check_signal(ev), 0);
	raise(SIGUSR2);
	raise(SIGUSR2);
	assert_int_equal(tevent_common_check_signal(ev), 1);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.calls[0].count, 2);
	assert_int_equal(tevent_common_check_signal(ev), 0);
	assert_int_equal(l.n, 1);
	talloc_free(ev);
}

static void test_sigaction_installed_and_restored(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r1, r2;
	set_disposition(SIGUSR1, marker_handler);

	struct tevent_signal *s1 = add(ev, ev, SIGUSR1, SA_RESTART, &r1, &l, 'a');
	struct sigaction now = get_disposition(SIGUSR1);
	assert_true(now.sa_flags & SA_RESTART);
	assert_false(now.sa_flags & SA_SIGINFO);
	assert_true(now.sa_handler != marker_handler);
	assert_true(now.sa_handler != SIG_DFL && now.sa_handler != SIG_IGN);

	/* A second handler does not touch the installed action. */
	struct tevent_signal *s2 = add(ev, ev, SIGUSR1, 0, &r2, &l, 'b');
	struct sigaction again = get_disposition(SIGUSR1);
	assert_ptr_equal(again.sa_handler, now.sa_handler);
	assert_true(again.sa_flags & SA_RESTART);

	talloc_free(s2);
	assert_ptr_equal(get_disposition(SIGUSR1).sa_handler, now.sa_handler);
	talloc_free(s1);	/* the last one restores what was there before */
	assert_ptr_equal(get_disposition(SIGUSR1).sa_handler, marker_handler);

	struct tevent_signal *s3 = add(ev, ev, SIGUSR1, SA_SIGINFO, &r1, &l, 'c');
	now = get_disposition(SIGUSR1);
	assert_true(now.sa_flags & SA_SIGINFO);
	assert_false(now.sa_flags & SA_RESTART);
	talloc_free(s3);
	assert_ptr_equal(get_disposition(SIGUSR1).sa_handler, marker_handler);
	set_disposition(SIGUSR1, SIG_DFL);
	talloc_free(ev);
}

static void test_siginfo_delivered(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r;
	int sig = SIGRTMIN + 1;
	add(ev, ev, sig, SA_SIGINFO | SA_RESTART, &r, &l, 'a');
	for (int i = 0; i < 3; i++) {
		union sigval v = {.sival_int = 100 + i};
		assert_int_equal(sigqueue(getpid(), sig, v), 0);
	}
	tt_loop_until_count(ev, &l.n, 3);
	for (int i = 0; i < 3; i++) {
		struct call *c = &l.calls[i];
		assert_int_equal(c->count, 1);
		assert_int_equal(c->signum, sig);
		assert_true(c->has_info);
		assert_int_equal(c->info.si_signo, sig);
		assert_int_equal(c->info.si_code, SI_QUEUE);
		assert_int_equal(c->info.si_pid, getpid());
		assert_int_equal(c->info.si_value.sival_int, 100 + i);
	}
	loop_once_bounded(ev);
	assert_int_equal(l.n, 3);
	talloc_free(ev);
}

/*
 * Every handler of a signal runs, newest first, whichever context's loop
 * notices it; each is called with its own context.
 */
static void test_several_handlers_and_contexts(void **state)
{
	struct tevent_context *a = tt_context(state);
	struct tevent_context *b = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec ra1, ra2, rb1;
	add(a, a, SIGUSR1, 0, &ra1, &l, '1');
	add(a, a, SIGUSR1, 0, &ra2, &l, '2');
	add(b, b, SIGUSR1, 0, &rb1, &l, '3');
	raise(SIGUSR1);
	raise(SIGUSR1);
	tt_loop_until_count(a, &l.n, 3);
	assert_int_equal(l.calls[0].who, '3');
	assert_ptr_equal(l.calls[0].ev, b);
	assert_int_equal(l.calls[1].who, '2');
	assert_ptr_equal(l.calls[1].ev, a);
	assert_int_equal(l.calls[2].who, '1');
	assert_ptr_equal(l.calls[2].ev, a);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(l.calls[i].count, 2);
	}
	/* Consumed: the other context has nothing left to deliver. */
	loop_once_bounded(b);
	loop_once_bounded(a);
	assert_int_equal(l.n, 3);
	talloc_free(a);
	talloc_free(b);
}

static void test_several_siginfo_handlers(void **state)
{
	struct tevent_context *a = tt_context(state);
	struct tevent_context *b = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec ra1, ra2, rb1;
	int sig = SIGRTMIN + 2;
	add(a, a, sig, SA_SIGINFO, &ra1, &l, '1');
	add(a, a, sig, SA_SIGINFO, &ra2, &l, '2');
	add(b, b, sig, SA_SIGINFO, &rb1, &l, '3');
	for (int i = 0; i < 3; i++) {
		union sigval v = {.sival_int = i};
		assert_int_equal(sigqueue(getpid(), sig, v), 0);
	}
	tt_loop_until_count(b, &l.n, 9);
	/* Handler by handler, each sees every siginfo in order. */
	const char who[] = "333222111";
	for (int i = 0; i < 9; i++) {
		assert_int_equal(l.calls[i].who, who[i]);
		assert_int_equal(l.calls[i].count, 1);
		assert_int_equal(l.calls[i].info.si_value.sival_int, i % 3);
	}
	loop_once_bounded(a);
	assert_int_equal(l.n, 9);
	talloc_free(a);
	talloc_free(b);
}

/* Storms of queued signals: exact counts, in the order sent. */
struct storm {
	int expected_next;
	int received;
	bool in_order;
};

static void storm_handler(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *siginfo,
			  void *private_data)
{
	(void)ev;
	(void)se;
	(void)signum;
	struct storm *s = private_data;
	assert_int_equal(count, 1);
	siginfo_t *info = siginfo;
	if (info->si_value.sival_int != s->expected_next) {
		s->in_order = false;
	}
	s->expected_next = info->si_value.sival_int + 1;
	s->received++;
}

/* More siginfo signals than the queue holds, all sent before any loop. */
static void test_siginfo_storm_to_self(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int sig = SIGRTMIN + 3;
	const int n = 1000;
	struct storm s = {.in_order = true};
	assert_non_null(tevent_add_signal(ev, ev, sig, SA_SIGINFO, storm_handler, &s));
	for (int i = 0; i < n; i++) {
		union sigval v = {.sival_int = i};
		assert_int_equal(sigqueue(getpid(), sig, v), 0);
	}
	double t0 = tt_now();
	while (s.received < n && tt_now() - t0 < 20) {
		loop_once_bounded(ev);
	}
	loop_once_bounded(ev);
	assert_int_equal(s.received, n);
	assert_true(s.in_order);
	talloc_free(ev);
}

static void test_siginfo_storm_from_child(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int sig = SIGRTMIN + 4;
	const int n = 3000;
	struct storm s = {.in_order = true};
	assert_non_null(tevent_add_signal(ev, ev, sig, SA_SIGINFO | SA_RESTART, storm_handler, &s));
	pid_t parent = getpid();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < n; i++) {
			union sigval v = {.sival_int = i};
			while (sigqueue(parent, sig, v) != 0) {
				if (errno != EAGAIN) {
					_exit(1);
				}
				usleep(100);	/* the queue is full: let it drain */
			}
		}
		_exit(0);
	}
	double t0 = tt_now();
	while (s.received < n && tt_now() - t0 < 30) {
		loop_once_bounded(ev);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	loop_once_bounded(ev);
	assert_int_equal(s.received, n);
	assert_true(s.in_order);
	talloc_free(ev);
}

/*
 * A plain (coalescing) signal storm made exact by a handshake: the child
 * sends the next signal only when the parent's handler acknowledged the
 * last one, so no delivery may be lost or duplicated.
 */
struct pingpong {
	int ack_fd;
	int total;
	int calls;
};

static void ack_handler(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *siginfo,
			void *private_data)
{
	(void)ev;
	(void)se;
	(void)signum;
	(void)siginfo;
	struct pingpong *p = private_data;
	p->total += count;
	p->calls++;
	for (int i = 0; i < count; i++) {
		tt_write_byte(p->ack_fd);
	}
}

static void test_signal_handshake_storm(void **state)
{
	struct tevent_context *ev = tt_context(state);
	const int rounds = 300;
	int ack[2];
	tt_pipe(ack);
	struct pingpong p = {.ack_fd = ack[1]};
	assert_non_null(tevent_add_signal(ev, ev, SIGUSR2, SA_RESTART, ack_handler, &p));
	pid_t parent = getpid();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ack[1]);
		for (int i = 0; i < rounds; i++) {
			char c;
			kill(parent, SIGUSR2);
			if (read(ack[0], &c, 1) != 1) {
				_exit(1);
			}
		}
		_exit(0);
	}
	close(ack[0]);
	double t0 = tt_now();
	while (p.total < rounds && tt_now() - t0 < 30) {
		loop_once_bounded(ev);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(p.total, rounds);
	assert_int_equal(p.calls, rounds);
	close(ack[1]);
	talloc_free(ev);
}

/* A signal arriving while the loop sleeps in the backend wakes it up. */
static void test_wakes_blocked_loop(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r;
	add(ev, ev, SIGUSR1, SA_RESTART, &r, &l, 'a');
	pid_t parent = getpid();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		usleep(100 * 1000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	bool expired = false;
	struct tevent_timer *te = tevent_add_timer(ev, ev, tevent_timeval_current_ofs(10, 0), tt_deadline_handler,
						   &expired);
	while (l.n == 0 && !expired) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	assert_false(expired);
	assert_int_equal(l.n, 1);
	talloc_free(te);
	waitpid(pid, NULL, 0);
	talloc_free(ev);
}

/*
 * The process-directed signal lands on a helper thread (the loop's thread
 * blocks it); the loop must still be woken.
 */
static void *sleeper(void *arg)
{
	int fd = *(int *)arg;
	char c;
	/* Waits for the end of the test, signals unblocked. */
	while (read(fd, &c, 1) < 0 && errno == EINTR) {
	}
	return NULL;
}

static void test_signal_on_other_thread(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r;
	add(ev, ev, SIGUSR2, SA_RESTART, &r, &l, 'a');
	int stop[2];
	tt_pipe(stop);
	pthread_t helper;
	assert_int_equal(pthread_create(&helper, NULL, sleeper, &stop[0]), 0);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
	kill(getpid(), SIGUSR2);
	bool expired = false;
	struct tevent_timer *te = tevent_add_timer(ev, ev, tevent_timeval_current_ofs(10, 0), tt_deadline_handler,
						   &expired);
	while (l.n == 0 && !expired) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	assert_false(expired);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.calls[0].count, 1);
	/* Called on the loop's thread, not where the signal landed. */
	assert_true(pthread_equal(r.thread, pthread_self()));
	talloc_free(te);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
	tt_write_byte(stop[1]);
	pthread_join(helper, NULL);
	close(stop[0]);
	close(stop[1]);
	talloc_free(ev);
}

static void test_resethand(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r;
	set_disposition(SIGUSR1, marker_handler);
	struct tevent_signal *se = add(ev, NULL, SIGUSR1, SA_RESETHAND, &r, &l, 'a');
	watch_free(se);
	destructor_calls = 0;
	assert_true(get_disposition(SIGUSR1).sa_flags & SA_RESETHAND);
	raise(SIGUSR1);
	tt_loop_until_count(ev, &l.n, 1);
	assert_int_equal(l.calls[0].count, 1);
	/* Delivered once, then the event is gone and the old action is back. */
	assert_int_equal(destructor_calls, 1);
	assert_ptr_equal(get_disposition(SIGUSR1).sa_handler, marker_handler);
	set_disposition(SIGUSR1, SIG_DFL);
	talloc_free(ev);
}

static void test_free_self_in_handler(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r;
	set_disposition(SIGUSR2, SIG_IGN);
	struct tevent_signal *se = add(ev, NULL, SIGUSR2, 0, &r, &l, 'a');
	watch_free(se);
	destructor_calls = 0;
	r.free_self = true;
	raise(SIGUSR2);
	tt_loop_until_count(ev, &l.n, 1);
	assert_int_equal(destructor_calls, 1);
	assert_ptr_equal(get_disposition(SIGUSR2).sa_handler, SIG_IGN);
	raise(SIGUSR2);	/* ignored now */
	loop_once_bounded(ev);
	assert_int_equal(l.n, 1);
	set_disposition(SIGUSR2, SIG_DFL);
	talloc_free(ev);
}

static void test_siginfo_free_self_stops_delivery(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r1, r2;
	int sig = SIGRTMIN + 5;
	set_disposition(sig, SIG_IGN);
	struct tevent_signal *s1 = add(ev, NULL, sig, SA_SIGINFO, &r1, &l, '1');
	add(ev, ev, sig, SA_SIGINFO, &r2, &l, '2');
	(void)s1;
	r2.free_self = true;	/* newest: runs first, once, then gone */
	for (int i = 0; i < 3; i++) {
		union sigval v = {.sival_int = i};
		assert_int_equal(sigqueue(getpid(), sig, v), 0);
	}
	tt_loop_until_count(ev, &l.n, 4);
	assert_int_equal(l.calls[0].who, '2');
	assert_int_equal(l.calls[0].info.si_value.sival_int, 0);
	for (int i = 1; i < 4; i++) {
		assert_int_equal(l.calls[i].who, '1');
		assert_int_equal(l.calls[i].info.si_value.sival_int, i - 1);
	}
	loop_once_bounded(ev);
	assert_int_equal(l.n, 4);
	talloc_free(s1);
	assert_ptr_equal(get_disposition(sig).sa_handler, SIG_IGN);
	set_disposition(sig, SIG_DFL);
	talloc_free(ev);
}

static void test_cleanup_pending_signal_handlers(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r;
	set_disposition(SIGUSR1, SIG_IGN);
	struct tevent_signal *se = add(ev, NULL, SIGUSR1, 0, &r, &l, 'a');
	watch_free(se);
	destructor_calls = 0;
	tevent_cleanup_pending_signal_handlers(se);
	/* Unhooked, not freed; the previous action is back. */
	assert_int_equal(destructor_calls, 0);
	assert_ptr_equal(get_disposition(SIGUSR1).sa_handler, SIG_IGN);
	raise(SIGUSR1);
	loop_once_bounded(ev);
	assert_int_equal(l.n, 0);
	talloc_free(se);
	assert_int_equal(destructor_calls, 1);
	assert_ptr_equal(get_disposition(SIGUSR1).sa_handler, SIG_IGN);
	set_disposition(SIGUSR1, SIG_DFL);
	talloc_free(ev);
}

/* Signal events that outlive their context are never called. */
static void test_context_freed_before_signal_event(void **state)
{
	struct tevent_context *a = tt_context(state);
	struct tevent_context *b = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec ra, rb;
	TALLOC_CTX *keep = talloc_new(NULL);
	struct tevent_signal *sa = add(a, keep, SIGUSR2, 0, &ra, &l, 'a');
	add(b, b, SIGUSR2, 0, &rb, &l, 'b');
	talloc_free(a);
	raise(SIGUSR2);
	tt_loop_until_count(b, &l.n, 1);
	assert_int_equal(l.calls[0].who, 'b');
	loop_once_bounded(b);
	assert_int_equal(l.n, 1);
	talloc_free(sa);
	talloc_free(keep);
	talloc_free(b);
}

/* Freeing the context unhooks its signal events and restores the action. */
static void test_context_free_restores_action(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r1, r2;
	set_disposition(SIGUSR1, SIG_IGN);
	TALLOC_CTX *keep = talloc_new(NULL);
	struct tevent_signal *outliving = add(ev, keep, SIGUSR1, 0, &r1, &l, 'a');
	add(ev, ev, SIGUSR1, 0, &r2, &l, 'b');
	assert_ptr_not_equal(get_disposition(SIGUSR1).sa_handler, SIG_IGN);
	talloc_free(ev);
	assert_ptr_equal(get_disposition(SIGUSR1).sa_handler, SIG_IGN);
	raise(SIGUSR1);
	talloc_free(outliving);	/* still safe to free */
	assert_ptr_equal(get_disposition(SIGUSR1).sa_handler, SIG_IGN);
	assert_int_equal(l.n, 0);
	talloc_free(keep);
	set_disposition(SIGUSR1, SIG_DFL);
}

/* A context freed by one of its own signal handlers gives the action back
 * at once, as the reference does (its signal events go with it): smbd and
 * sssd free their context in the SIGTERM handler and then raise SIGTERM
 * again, expecting to die of it.  Run in a child that _exits from the
 * handler, so that neither library's loop returns into the freed context. */
static void free_context_and_check(struct tevent_context *ev, struct tevent_signal *se, int signum,
				   int count, void *siginfo, void *private_data)
{
	(void)se; (void)signum; (void)count; (void)siginfo; (void)private_data;
	talloc_free(ev);
	_exit(get_disposition(SIGUSR1).sa_handler == SIG_IGN ? 0 : 1);
}

static void test_context_freed_in_own_handler_restores_action(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		set_disposition(SIGUSR1, SIG_IGN);
		struct tevent_context *ev = tevent_context_init(NULL);
		if (ev == NULL || tevent_add_signal(ev, ev, SIGUSR1, 0, free_context_and_check, NULL) == NULL) _exit(2);
		raise(SIGUSR1);
		tevent_loop_once(ev);
		_exit(3);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_tag(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r;
	struct tevent_signal *se = add(ev, ev, SIGUSR1, 0, &r, &l, 'a');
	assert_int_equal(tevent_signal_get_tag(se), 0);
	tevent_signal_set_tag(se, 77);
	assert_int_equal(tevent_signal_get_tag(se), 77);
	talloc_free(ev);
}

#define MAX_TRACE 16
struct trace_log {
	enum tevent_event_trace_point points[MAX_TRACE];
	struct tevent_signal *events[MAX_TRACE];
	int n;
};

static void signal_trace(struct tevent_signal *se, enum tevent_event_trace_point point, void *private_data)
{
	struct trace_log *t = private_data;
	if (t->n < MAX_TRACE) {
		t->points[t->n] = point;
		t->events[t->n] = se;
	}
	t->n++;
}

static void test_trace_callback(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r;
	struct trace_log t = {.n = 0};
	tevent_set_trace_signal_callback(ev, signal_trace, &t);
	tevent_trace_signal_callback_t cb = NULL;
	void *cb_private = NULL;
	tevent_get_trace_signal_callback(ev, &cb, &cb_private);
	assert_ptr_equal(cb, signal_trace);
	assert_ptr_equal(cb_private, &t);

	struct tevent_signal *se = add(ev, ev, SIGUSR1, 0, &r, &l, 'a');
	assert_int_equal(t.n, 1);
	assert_int_equal(t.points[0], TEVENT_EVENT_TRACE_ATTACH);
	assert_ptr_equal(t.events[0], se);
	raise(SIGUSR1);
	tt_loop_until_count(ev, &l.n, 1);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.points[1], TEVENT_EVENT_TRACE_BEFORE_HANDLER);
	assert_ptr_equal(t.events[1], se);
	talloc_free(se);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.points[2], TEVENT_EVENT_TRACE_DETACH);
	assert_ptr_equal(t.events[2], se);
	talloc_free(ev);
}

#ifndef TEVENT_TEST_REFERENCE
/*
 * Ours only: the reference keeps a pointer to the next handler across the
 * call, so a handler freeing another handler of the same signal makes it
 * read freed memory.
 */
static void test_free_other_in_handler(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct log l = {.n = 0};
	struct sig_rec r1, r2, r3;
	struct tevent_signal *s1 = add(ev, ev, SIGUSR1, 0, &r1, &l, '1');
	add(ev, ev, SIGUSR1, 0, &r2, &l, '2');
	add(ev, ev, SIGUSR1, 0, &r3, &l, '3');
	struct tevent_signal *victim = s1;
	r2.victim = &victim;	/* '2' runs before '1' and frees it */
	raise(SIGUSR1);
	tt_loop_until_count(ev, &l.n, 2);
	assert_int_equal(l.calls[0].who, '3');
	assert_int_equal(l.calls[1].who, '2');
	loop_once_bounded(ev);
	assert_int_equal(l.n, 2);
	assert_null(victim);
	talloc_free(ev);
}

#endif

int main(void)
{
	alarm(600);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),
		PER_BACKEND(test_signal_support),
		cmocka_unit_test(test_invalid_signals),
		PER_BACKEND(test_counts_coalesce),
		cmocka_unit_test(test_check_signal_direct),
		cmocka_unit_test(test_sigaction_installed_and_restored),
		PER_BACKEND(test_siginfo_delivered),
		PER_BACKEND(test_several_handlers_and_contexts),
		cmocka_unit_test(test_several_siginfo_handlers),
		PER_BACKEND(test_siginfo_storm_to_self),
		PER_BACKEND(test_siginfo_storm_from_child),
		PER_BACKEND(test_signal_handshake_storm),
		PER_BACKEND(test_wakes_blocked_loop),
		PER_BACKEND(test_signal_on_other_thread),
		cmocka_unit_test(test_resethand),
		cmocka_unit_test(test_free_self_in_handler),
		cmocka_unit_test(test_siginfo_free_self_stops_delivery),
		cmocka_unit_test(test_cleanup_pending_signal_handlers),
		cmocka_unit_test(test_context_freed_before_signal_event),
		PER_BACKEND(test_context_free_restores_action),
		cmocka_unit_test(test_context_freed_in_own_handler_restores_action),
		cmocka_unit_test(test_tag),
		cmocka_unit_test(test_trace_callback),
#ifndef TEVENT_TEST_REFERENCE
		cmocka_unit_test(test_free_other_in_handler),
#endif
	};
	return cmocka_run_group_tests_name("tevent signals (" TT_IMPL ")", tests, NULL, NULL);
}

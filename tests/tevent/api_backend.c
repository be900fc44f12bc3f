/*
 * Backends by name: the registered list, a mixed workload on each, and
 * contexts surviving fork (with and without tevent_re_initialise).
 */
#include "common.h"

static void test_backend_list(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	const char **list = tevent_backend_list(mem);
	assert_non_null(list);
	assert_ptr_equal(talloc_parent(list), mem);
	const char *want[] = {"epoll", "poll", "poll_mt", "standard"};
	bool found[4] = {false, false, false, false};
	int n = 0;
	for (; list[n] != NULL; n++) {
		for (int i = 0; i < 4; i++) {
			if (strcmp(list[n], want[i]) == 0) {
				assert_false(found[i]);
				found[i] = true;
			}
		}
	}
	assert_int_equal(n, 4);
	for (int i = 0; i < 4; i++) {
		assert_true(found[i]);
	}
	talloc_free(mem);
}

static void test_unknown_backend(void **state)
{
	(void)state;
	assert_null(tevent_context_init_byname(NULL, "no-such-backend"));
	assert_null(tevent_context_init_byname(NULL, ""));
}

static void test_default_backend(void **state)
{
	(void)state;
	tevent_set_default_backend("poll");
	struct tevent_context *ev = tevent_context_init(NULL);
	assert_non_null(ev);
	talloc_free(ev);
	tevent_set_default_backend("standard");
	ev = tevent_context_init(NULL);
	assert_non_null(ev);
	talloc_free(ev);
}

/* A bit of everything, run to completion by tevent_loop_wait. */
struct workload {
	int pipe_fds[2];
	int fd_reads;
	int timer_calls;
	int im_calls;
	int signal_total;
	struct tevent_fd *fde;
	struct tevent_signal *se;
};

static void wl_fd(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	(void)flags;
	struct workload *w = p;
	tt_read_byte(w->pipe_fds[0]);
	if (++w->fd_reads == 10) {
		talloc_free(fde);
		w->fde = NULL;
	}
}

static void wl_timer(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)te;
	(void)now;
	struct workload *w = p;
	w->timer_calls++;
	if (w->timer_calls < 10) {
		tt_write_byte(w->pipe_fds[1]);
		raise(SIGUSR1);
		assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 1000), wl_timer, w));
	} else {
		tt_write_byte(w->pipe_fds[1]);
	}
}

static void wl_im(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	struct workload *w = p;
	if (++w->im_calls < 20) {
		tevent_schedule_immediate(im, ev, wl_im, w);
	}
}

static void wl_signal(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *info, void *p)
{
	(void)ev;
	(void)signum;
	(void)info;
	struct workload *w = p;
	w->signal_total += count;
	if (w->signal_total == 9) {
		talloc_free(se);
		w->se = NULL;
	}
}

static void test_workload(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct workload w = {.fd_reads = 0};
	tt_pipe(w.pipe_fds);
	w.fde = tevent_add_fd(ev, ev, w.pipe_fds[0], TEVENT_FD_READ, wl_fd, &w);
	assert_non_null(w.fde);
	w.se = tevent_add_signal(ev, ev, SIGUSR1, SA_RESTART, wl_signal, &w);
	assert_non_null(w.se);
	assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 1000), wl_timer, &w));
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, wl_im, &w);
	assert_int_equal(tevent_loop_wait(ev), 0);
	assert_int_equal(w.fd_reads, 10);
	assert_int_equal(w.timer_calls, 10);
	assert_int_equal(w.im_calls, 20);
	assert_int_equal(w.signal_total, 9);
	assert_null(w.fde);
	assert_null(w.se);
	talloc_free(ev);
	close(w.pipe_fds[0]);
	close(w.pipe_fds[1]);
}

/*
 * After fork the child changes its descriptor set and handles a signal;
 * the parent's context must be unaffected (an epoll set is shared by both
 * processes unless the child re-creates it).
 */
struct fork_state {
	int fd_calls;
	int sig_calls;
	int timer_calls;
	int im_calls;
	int read_fd;
};

static void fork_fd(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	(void)fde;
	(void)flags;
	struct fork_state *f = p;
	char c;
	if (read(f->read_fd, &c, 1) == 1) {
		f->fd_calls++;
	}
}

static void fork_sig(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *info, void *p)
{
	(void)ev;
	(void)se;
	(void)signum;
	(void)info;
	((struct fork_state *)p)->sig_calls += count;
}

static void fork_timer(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)ev;
	(void)te;
	(void)now;
	((struct fork_state *)p)->timer_calls++;
}

static void fork_im(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)ev;
	(void)im;
	((struct fork_state *)p)->im_calls++;
}

/* Loops until *counter reaches target; for children, which cannot use cmocka. */
static bool child_loop_until(struct tevent_context *ev, int *counter, int target)
{
	double t0 = tt_now();
	while (*counter < target && tt_now() - t0 < 5) {
		bool fired = false;
		struct tevent_timer *te = tevent_add_timer(ev, NULL, tevent_timeval_current_ofs(0, 50000),
							   tt_deadline_handler, &fired);
		if (tevent_loop_once(ev) != 0) {
			return false;
		}
		if (!fired) {
			talloc_free(te);
		}
	}
	return *counter == target;
}

static void child_idle(struct tevent_context *ev)
{
	bool fired = false;
	tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 50000), tt_deadline_handler, &fired);
	while (!fired) {
		if (tevent_loop_once(ev) != 0) {
			_exit(20);
		}
	}
}

static void set_disposition(int signum, void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	assert_int_equal(sigaction(signum, &sa, NULL), 0);
}

/*
 * tevent_re_initialise() starts the context afresh: every event registered
 * before is disarmed (never called again, still safe to free) and the
 * signal handlers are uninstalled.
 */
static int child_after_reinitialise(struct tevent_context *ev, struct tevent_fd *fde_a, int a_write,
				    struct fork_state *fa, int b[2])
{
	if (tevent_re_initialise(ev) != 0) {
		return 10;
	}
	struct sigaction sa;
	if (sigaction(SIGUSR2, NULL, &sa) != 0 || sa.sa_handler != SIG_IGN) {
		return 11;
	}
	tt_write_byte(a_write);
	raise(SIGUSR2);	/* ignored now */
	child_idle(ev);
	if (fa->fd_calls != 1 || fa->sig_calls != 0 || fa->timer_calls != 0) {
		return 12;
	}
	struct fork_state fb = {.read_fd = b[0]};
	if (tevent_add_fd(ev, ev, b[0], TEVENT_FD_READ, fork_fd, &fb) == NULL ||
	    tevent_add_signal(ev, ev, SIGUSR2, 0, fork_sig, &fb) == NULL) {
		return 13;
	}
	tt_write_byte(b[1]);
	if (!child_loop_until(ev, &fb.fd_calls, 1)) {
		return 14;
	}
	raise(SIGUSR2);
	if (!child_loop_until(ev, &fb.sig_calls, 1)) {
		return 15;
	}
	talloc_free(fde_a);
	return 0;
}

/* Without it, the events carry on in the child. */
static int child_without_reinitialise(struct tevent_context *ev, struct tevent_fd *fde_a, struct fork_state *fa,
				      int b[2])
{
	talloc_free(fde_a);	/* removing it must not touch the parent */
	struct fork_state fb = {.read_fd = b[0]};
	if (tevent_add_fd(ev, ev, b[0], TEVENT_FD_READ, fork_fd, &fb) == NULL) {
		return 11;
	}
	tt_write_byte(b[1]);
	if (!child_loop_until(ev, &fb.fd_calls, 1)) {
		return 12;
	}
	raise(SIGUSR2);
	if (!child_loop_until(ev, &fa->sig_calls, 1)) {
		return 13;
	}
	if (!child_loop_until(ev, &fa->timer_calls, 1)) {
		return 14;
	}
	return 0;
}

static void fork_test(void **state, bool reinit)
{
	struct tevent_context *ev = tt_context(state);
	int a[2], b[2];
	tt_pipe(a);
	tt_pipe(b);
	set_disposition(SIGUSR2, SIG_IGN);
	struct fork_state fa = {.read_fd = a[0]};
	struct tevent_fd *fde_a = tevent_add_fd(ev, ev, a[0], TEVENT_FD_READ, fork_fd, &fa);
	assert_non_null(fde_a);
	assert_non_null(tevent_add_signal(ev, ev, SIGUSR2, 0, fork_sig, &fa));
	/* Used once before the fork, so the backend has set up its state. */
	tt_write_byte(a[1]);
	tt_loop_until_count(ev, &fa.fd_calls, 1);
	assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 200000), fork_timer, &fa));

	fflush(stdout);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int code = reinit ? child_after_reinitialise(ev, fde_a, a[1], &fa, b)
				  : child_without_reinitialise(ev, fde_a, &fa, b);
		_exit(code);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* The parent still sees its descriptor, its signal and its timer. */
	tt_write_byte(a[1]);
	tt_loop_until_count(ev, &fa.fd_calls, 2);
	raise(SIGUSR2);
	tt_loop_until_count(ev, &fa.sig_calls, 1);
	tt_loop_until_count(ev, &fa.timer_calls, 1);
	talloc_free(ev);
	set_disposition(SIGUSR2, SIG_DFL);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static void test_fork_reinitialise(void **state)
{
	fork_test(state, true);
}

static void test_fork_without_reinitialise(void **state)
{
	fork_test(state, false);
}

static void test_reinitialise_drops_events(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	set_disposition(SIGUSR1, SIG_IGN);
	struct fork_state f = {.read_fd = p[0]};
	TALLOC_CTX *old = talloc_new(NULL);
	assert_non_null(tevent_add_fd(ev, old, p[0], TEVENT_FD_READ, fork_fd, &f));
	assert_non_null(tevent_add_signal(ev, old, SIGUSR1, 0, fork_sig, &f));
	assert_non_null(tevent_add_timer(ev, old, tevent_timeval_zero(), fork_timer, &f));
	struct tevent_immediate *im = tevent_create_immediate(old);
	tevent_schedule_immediate(im, ev, fork_im, &f);

	assert_int_equal(tevent_re_initialise(ev), 0);
	struct sigaction sa;
	assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
	assert_ptr_equal(sa.sa_handler, SIG_IGN);

	tt_write_byte(p[1]);
	raise(SIGUSR1);
	struct fork_state g = {.read_fd = -1};
	assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 50000), fork_timer, &g));
	tt_loop_until_count(ev, &g.timer_calls, 1);
	assert_int_equal(f.fd_calls, 0);
	assert_int_equal(f.sig_calls, 0);
	assert_int_equal(f.timer_calls, 0);
	assert_int_equal(f.im_calls, 0);

	/* Fresh events work; the disarmed ones can still be freed. */
	struct fork_state h = {.read_fd = p[0]};
	assert_non_null(tevent_add_fd(ev, ev, p[0], TEVENT_FD_READ, fork_fd, &h));
	tt_loop_until_count(ev, &h.fd_calls, 1);
	talloc_free(old);
	assert_int_equal(tevent_re_initialise(ev), 0);
	talloc_free(ev);
	set_disposition(SIGUSR1, SIG_DFL);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	alarm(300);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_list),
		cmocka_unit_test(test_unknown_backend),
		cmocka_unit_test(test_default_backend),
		PER_BACKEND(test_workload),
		PER_BACKEND(test_fork_reinitialise),
		PER_BACKEND(test_fork_without_reinitialise),
		PER_BACKEND(test_reinitialise_drops_events),
	};
	return cmocka_run_group_tests_name("tevent backends (" TT_IMPL ")", tests, NULL, NULL);
}

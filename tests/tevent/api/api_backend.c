/*
 * Backends by name: the registered list, a mixed workload on each, a
 * custom backend built on the tevent_common_* helpers, and contexts
 * surviving fork (with and without tevent_re_initialise).
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

/* ---- a custom backend on the exported tevent_common_* helpers ---------- */

/*
 * Written as a C program has to write one: only tevent.h and the helpers
 * libtevent exports.  custom_backend.h (shared with the core differential
 * test) declares them and holds the poll loop and the pass-through ops;
 * this one keeps a record per fd event as a talloc child of the event so
 * it disappears with it.
 */
#include "custom_backend.h"

#define CB_MAX 16
struct cb_rec {
	struct tevent_fd *fde;
	int fd;
};
static struct cb_rec *cb_recs[CB_MAX];	/* one custom context at a time */
static struct tevent_context *cb_ev;
static int cb_removed;

static int cb_rec_destructor(struct cb_rec *r)
{
	for (int i = 0; i < CB_MAX; i++) {
		if (cb_recs[i] == r) {
			cb_recs[i] = NULL;
		}
	}
	return 0;
}

static int cb_context_init(struct tevent_context *ev)
{
	cbk_calls.inits++;
	if (cbk_calls.fail_init) {
		return -1;
	}
	cb_ev = ev;
	return 0;
}

static struct tevent_fd *cb_add_fd_fn(struct tevent_context *ev, TALLOC_CTX *mem_ctx, int fd, uint16_t flags,
				      tevent_fd_handler_t handler, void *private_data, const char *handler_name,
				      const char *location)
{
	cbk_calls.add_fd++;
	struct tevent_fd *fde =
	    tevent_common_add_fd(ev, mem_ctx, fd, flags, handler, private_data, handler_name, location);
	if (fde == NULL) {
		return NULL;
	}
	for (int i = 0; i < CB_MAX; i++) {
		if (cb_recs[i] == NULL) {
			struct cb_rec *r = talloc(fde, struct cb_rec);
			assert_non_null(r);
			r->fde = fde;
			r->fd = fd;
			talloc_set_destructor(r, cb_rec_destructor);
			cb_recs[i] = r;
			return fde;
		}
	}
	talloc_free(fde);
	return NULL;
}

/* Every registered descriptor, asked for something or not. */
static nfds_t cb_collect(struct tevent_context *ev, struct pollfd *pfds, struct tevent_fd **fdes, nfds_t max)
{
	(void)ev;
	nfds_t n = 0;
	for (int i = 0; i < CB_MAX && n < max; i++) {
		if (cb_recs[i] == NULL) {
			continue;
		}
		pfds[n].fd = cb_recs[i]->fd;
		pfds[n].events = cbk_poll_events(tevent_common_fd_get_flags(cb_recs[i]->fde));
		pfds[n].revents = 0;
		fdes[n++] = cb_recs[i]->fde;
	}
	return n;
}

static int cb_loop_once(struct tevent_context *ev, const char *location)
{
	(void)location;
	bool removed;
	int ret = cbk_loop_once(ev, cb_collect, &removed);
	cb_removed += removed;
	return ret;
}

static const struct tevent_ops cb_ops = CBK_OPS(cb_context_init, cb_add_fd_fn, cb_loop_once);

struct cb_work {
	int reads, timer_calls, im_calls, sig_total, read_fd;
};

static void cb_fd(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	struct cb_work *w = p;
	assert_int_equal(flags, TEVENT_FD_READ);
	tt_read_byte(w->read_fd);
	if (++w->reads == 3) {
		talloc_free(fde);	/* from its own handler: "removed" */
	}
}

static void cb_timer(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)ev;
	(void)te;
	(void)now;
	((struct cb_work *)p)->timer_calls++;
}

static void cb_im(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	struct cb_work *w = p;
	if (++w->im_calls < 3) {
		tevent_schedule_immediate(im, ev, cb_im, w);
	}
}

static void cb_sig(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *info, void *p)
{
	(void)ev;
	(void)info;
	assert_int_equal(signum, SIGUSR1);
	((struct cb_work *)p)->sig_total += count;
	talloc_free(se);
}

static void test_custom_backend(void **state)
{
	(void)state;
	assert_null(tevent_find_ops_byname("cmocka_custom"));
	assert_true(tevent_register_backend("cmocka_custom", &cb_ops));
	assert_ptr_equal(tevent_find_ops_byname("cmocka_custom"), &cb_ops);
	/* A name keeps its first ops. */
	static const struct tevent_ops other;
	assert_true(tevent_register_backend("cmocka_custom", &other));
	assert_ptr_equal(tevent_find_ops_byname("cmocka_custom"), &cb_ops);
	assert_non_null(tevent_find_ops_byname("epoll"));
	const char **list = tevent_backend_list(NULL);
	bool listed = false;
	for (int i = 0; list[i] != NULL; i++) {
		listed |= strcmp(list[i], "cmocka_custom") == 0;
	}
	assert_true(listed);
	talloc_free(list);

	/* A failing context_init fails the context. */
	cbk_calls.inits = 0;
	cbk_calls.fail_init = 1;
	assert_null(tevent_context_init_byname(NULL, "cmocka_custom"));
	assert_null(tevent_context_init_ops(NULL, &cb_ops, NULL));
	assert_int_equal(cbk_calls.inits, 2);
	cbk_calls.fail_init = 0;

	/* The default backend may be a custom one. */
	tevent_set_default_backend("cmocka_custom");
	struct tevent_context *ev = tevent_context_init(NULL);
	tevent_set_default_backend(NULL);
	assert_non_null(ev);
	assert_int_equal(cbk_calls.inits, 3);
	assert_ptr_equal(cb_ev, ev);

	/* The public API goes through the ops. */
	struct cb_work w = {0};
	int p[2];
	tt_pipe(p);
	w.read_fd = p[0];
	cbk_calls.add_fd = cbk_calls.set_flags = cbk_calls.get_flags = cbk_calls.set_close_fn = cb_removed = 0;
	struct tevent_fd *fde = tevent_add_fd(ev, ev, p[0], TEVENT_FD_WRITE, cb_fd, &w);
	assert_non_null(fde);
	tevent_fd_set_flags(fde, TEVENT_FD_READ);
	assert_int_equal(tevent_fd_get_flags(fde), TEVENT_FD_READ);
	tevent_fd_set_auto_close(fde);
	assert_int_equal(cbk_calls.add_fd, 1);
	assert_int_equal(cbk_calls.set_flags, 1);
	assert_int_equal(cbk_calls.get_flags, 1);
	assert_int_equal(cbk_calls.set_close_fn, 1);

	/* A workload run by the custom loop to completion. */
	for (int i = 0; i < 3; i++) {
		tt_write_byte(p[1]);
	}
	assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 1000), cb_timer, &w));
	assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_zero(), cb_timer, &w));
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, cb_im, &w);
	set_disposition(SIGUSR1, SIG_IGN);
	assert_non_null(tevent_add_signal(ev, ev, SIGUSR1, 0, cb_sig, &w));
	raise(SIGUSR1);
	raise(SIGUSR1);
	assert_int_equal(tevent_loop_wait(ev), 0);
	assert_int_equal(w.reads, 3);
	assert_int_equal(cb_removed, 1);
	assert_int_equal(w.timer_calls, 2);
	assert_int_equal(w.im_calls, 3);
	assert_int_equal(w.sig_total, 2);
	/* Auto-close closed p[0] when the handler freed the event. */
	assert_int_equal(fcntl(p[0], F_GETFD), -1);
	close(p[1]);
	set_disposition(SIGUSR1, SIG_DFL);

	/* tevent_context_init_ops() with the same ops. */
	struct tevent_context *ev2 = tevent_context_init_ops(NULL, &cb_ops, &w);
	assert_non_null(ev2);
	assert_int_equal(cbk_calls.inits, 4);
	talloc_free(ev2);
	talloc_free(ev);
}

struct count_fd {
	int calls;
	uint16_t flags;
	int drain_fd;
};

static void count_fd_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	struct count_fd *c = p;
	c->calls++;
	c->flags = flags;
	if (c->drain_fd >= 0) {
		tt_read_byte(c->drain_fd);
	} else {
		tevent_fd_set_flags(fde, 0);
	}
}

/*
 * "standard" is epoll falling back to poll when epoll cannot do the job:
 * epoll refuses regular files (EPERM), poll reports them readable.  The
 * descriptors watched before the switch keep working.
 */
static void test_standard_falls_back_to_poll(void **state)
{
	(void)state;
	struct tevent_context *ev = tevent_context_init_byname(NULL, "standard");
	assert_non_null(ev);
	int p[2];
	tt_pipe(p);
	struct count_fd on_pipe = {.drain_fd = p[0]};
	assert_non_null(tevent_add_fd(ev, ev, p[0], TEVENT_FD_READ, count_fd_handler, &on_pipe));
	tt_write_byte(p[1]);
	tt_loop_until_count(ev, &on_pipe.calls, 1);

	FILE *f = tmpfile();
	assert_non_null(f);
	struct count_fd on_file = {.drain_fd = -1};
	assert_non_null(tevent_add_fd(ev, ev, fileno(f), TEVENT_FD_READ, count_fd_handler, &on_file));
	tt_loop_until_count(ev, &on_file.calls, 1);
	assert_int_equal(on_file.flags, TEVENT_FD_READ);

	tt_write_byte(p[1]);
	tt_loop_until_count(ev, &on_pipe.calls, 2);
	talloc_free(ev);
	fclose(f);
	close(p[0]);
	close(p[1]);
}

static void test_cached_getpid(void **state)
{
	(void)state;
	assert_int_equal(tevent_cached_getpid(), getpid());
	fflush(stdout);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(tevent_cached_getpid() == getpid() ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(tevent_cached_getpid(), getpid());
}

int main(void)
{
	alarm(300);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_list),
		cmocka_unit_test(test_unknown_backend),
		cmocka_unit_test(test_default_backend),
		cmocka_unit_test(test_custom_backend),
		cmocka_unit_test(test_cached_getpid),
		cmocka_unit_test(test_standard_falls_back_to_poll),
		PER_BACKEND(test_workload),
		PER_BACKEND(test_fork_reinitialise),
		PER_BACKEND(test_fork_without_reinitialise),
		PER_BACKEND(test_reinitialise_drops_events),
	};
	return cmocka_run_group_tests_name("tevent backends (" TT_IMPL ")", tests, NULL, NULL);
}

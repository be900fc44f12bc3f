/*
 * One tevent context per thread: each change to a context from a thread
 * other than the one running its loop, with the overlap forced (the loop's
 * thread waits inside a handler until the other thread is done), and the
 * allowed patterns beside them.
 *
 * Built once against Debian's headers (and, when installed, its libraries):
 * run as built it shows what the reference does; run with LD_LIBRARY_PATH
 * on our build every forced overlap must reach the abort function.
 *
 * usage: thread_check ours|reference timers|proxy|allowed|nested
 * Exit status 0 when every expectation held; one line per failure.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>
#define TEVENT_DEPRECATED 1 /* tevent_loop_allow_nesting(), wrappers */
#include <tevent.h>

#include "../../thread_handshake.h"

static bool ours;

/* ---- a loop held inside a handler ------------------------------------- */

static int loop_tid;

/* Runs on the loop's thread: the loop is inside this until stage 2. */
static void hold_loop(struct tevent_context *ev, struct tevent_immediate *im, void *private_data)
{
	(void)ev;
	(void)im;
	(void)private_data;
	loop_tid = tid();
	hs_set(1);
	hs_wait(2);
}

static void *loop_thread(void *arg)
{
	struct tevent_context *ev = arg;
	int ret = tevent_loop_once(ev);
	return (void *)(intptr_t)ret;
}

/* Starts a thread whose loop of ev (created here: handed over) waits. */
static pthread_t start_held_loop(struct tevent_context *ev)
{
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, hold_loop, NULL);
	hs_stage = 0;
	pthread_t th;
	pthread_create(&th, NULL, loop_thread, ev);
	hs_wait(1);
	return th;
}

static void end_held_loop(pthread_t th)
{
	hs_set(2);
	void *ret;
	pthread_join(th, &ret);
	CHECK((intptr_t)ret == 0, "the loop thread's tevent_loop_once failed");
}

/* One report naming fn, this thread, the loop's thread and the advice;
 * or, on the reference, none and the change done. */
static void expect(const char *fn, bool done)
{
	pthread_mutex_lock(&said_lock);
	if (ours) {
		char me[32], owner[32];
		snprintf(me, sizeof(me), "thread %d ", tid());
		snprintf(owner, sizeof(owner), "thread %d:", loop_tid);
		CHECK(!done, "%s: done while another thread runs the loop", fn);
		CHECK(n_aborts == 1, "%s: %d abort calls, expected 1", fn, n_aborts);
		CHECK(strstr(last_abort, fn) == last_abort, "%s: not named first in [%s]", fn, last_abort);
		CHECK(strstr(last_abort, me) != NULL, "%s: calling thread not named in [%s]", fn, last_abort);
		CHECK(strstr(last_abort, owner) != NULL, "%s: loop thread not named in [%s]", fn, last_abort);
		CHECK(strstr(last_abort, "tevent_threaded_schedule_immediate()") != NULL &&
		          strstr(last_abort, "tevent_thread_proxy_schedule()") != NULL,
		      "%s: no alternatives in [%s]", fn, last_abort);
	} else {
		CHECK(done, "%s: not done", fn);
		CHECK(n_aborts == 0, "%s: reported: [%s]", fn, last_abort);
	}
	n_aborts = 0;
	last_abort[0] = '\0';
	pthread_mutex_unlock(&said_lock);
}

static int fired;
static void count_timer(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)ev, (void)te, (void)now, (void)p;
	fired++;
}
static void count_immediate(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)ev, (void)im, (void)p;
	fired++;
}
static void ignore_immediate(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)ev, (void)im, (void)p;
}
static void ignore_fd(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev, (void)fde, (void)flags, (void)p;
}
static void ignore_signal(struct tevent_context *ev, struct tevent_signal *se, int signum, int count,
			  void *siginfo, void *p)
{
	(void)ev, (void)se, (void)signum, (void)count, (void)siginfo, (void)p;
}

static bool before_use(struct tevent_context *w, void *s, struct tevent_context *m, const char *l)
{
	(void)w, (void)s, (void)m, (void)l;
	return true;
}
static void after_use(struct tevent_context *w, void *s, struct tevent_context *m, const char *l)
{
	(void)w, (void)s, (void)m, (void)l;
}
static const struct tevent_wrapper_ops wrapper_ops = {
	.name = "thread_check",
	.before_use = before_use,
	.after_use = after_use,
};

/* Two threads racing on one context's timers (and every other change). */
static void case_timers(void)
{
	struct tevent_context *ev = tevent_context_init(NULL);
	struct timeval later = tevent_timeval_current_ofs(3600, 0);
	struct tevent_timer *te = tevent_add_timer(ev, ev, later, count_timer, NULL);
	int fds[2];
	pipe(fds);
	struct tevent_fd *fde = tevent_add_fd(ev, ev, fds[0], TEVENT_FD_READ, ignore_fd, NULL);
	struct tevent_immediate *pending = tevent_create_immediate(ev);
	pthread_t th = start_held_loop(ev);
	/* Whether it was scheduled shows once the loop is this thread's. */
	tevent_schedule_immediate(pending, ev, count_immediate, NULL);
	expect("tevent_schedule_immediate", !ours);

	struct tevent_timer *te2 = tevent_add_timer(ev, ev, later, count_timer, NULL);
	expect("tevent_add_timer", te2 != NULL);
	tevent_update_timer(te, tevent_timeval_current_ofs(7200, 0));
	expect("tevent_update_timer", !ours);
	int r = talloc_free(te);
	expect("talloc_free(struct tevent_timer)", r == 0);
	struct tevent_fd *fde2 = tevent_add_fd(ev, ev, fds[1], TEVENT_FD_WRITE, ignore_fd, NULL);
	expect("tevent_add_fd", fde2 != NULL);
	tevent_fd_set_flags(fde, 0);
	expect("tevent_fd_set_flags", tevent_fd_get_flags(fde) == 0);
	r = talloc_free(fde);
	expect("talloc_free(struct tevent_fd)", r == 0);
	struct tevent_signal *se = tevent_add_signal(ev, ev, SIGUSR2, 0, ignore_signal, NULL);
	expect("tevent_add_signal", se != NULL);
	int *wrap_state;
	struct tevent_context *wrap = tevent_context_wrapper_create(ev, NULL, &wrapper_ops, &wrap_state, int);
	expect("tevent_context_wrapper_create", wrap != NULL);
	if (ours) {
		/* On the reference these would run a second loop and free the
		 * context under the first one: not shown. */
		errno = 0;
		r = tevent_loop_once(ev);
		expect("tevent_loop_once", r == 0);
		CHECK(errno == EBUSY, "refused loop: errno %d, expected EBUSY", errno);
		r = talloc_free(ev);
		expect("talloc_free(struct tevent_context)", r == 0);
	}
	end_held_loop(th);

	/* The loop returned: the context is this thread's again.  Immediates
	 * run first, in order: `pending` only if it was scheduled. */
	struct tevent_timer *te3 = tevent_add_timer(ev, ev, later, count_timer, NULL);
	CHECK(te3 != NULL && n_aborts == 0, "use after the loop returned was reported: [%s]", last_abort);
	fired = 0;
	tevent_schedule_immediate(tevent_create_immediate(ev), ev, ignore_immediate, NULL);
	CHECK(tevent_loop_once(ev) == 0, "loop after the hand-back failed");
	CHECK(fired == (ours ? 0 : 1), "the refused immediate ran %d times", fired);
	talloc_free(wrap);
	talloc_free(ev);
	close(fds[0]);
	close(fds[1]);
	CHECK(n_aborts == 0, "teardown reported: [%s]", last_abort);
}

/* A thread proxy misused as a plain immediate: the worker has the proxy
 * but schedules on the master's context directly. */
static int proxied;
static void proxied_handler(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)ev, (void)im, (void)p;
	proxied++;
}

static bool proxied_done(void *p)
{
	(void)p;
	return proxied > 0;
}

static void case_proxy(void)
{
	struct tevent_context *master = tevent_context_init(NULL);
	struct tevent_thread_proxy *tp = tevent_thread_proxy_create(master);
	CHECK(tp != NULL, "no proxy");
	pthread_t th = start_held_loop(master);

	/* Right: through the proxy. */
	struct tevent_immediate *im = tevent_create_immediate(NULL);
	tevent_thread_proxy_schedule(tp, &im, proxied_handler, NULL);
	CHECK(im == NULL, "proxy did not take the immediate");
	CHECK(n_aborts == 0, "proxy use reported: [%s]", last_abort);
	/* Wrong: the proxy's destination context, as a plain immediate. */
	struct tevent_immediate *plain = tevent_create_immediate(NULL);
	tevent_schedule_immediate(plain, master, proxied_handler, NULL);
	expect("tevent_schedule_immediate", !ours);
	end_held_loop(th);

	/* Handed back: this thread runs the loop until the proxy's call ran. */
	tevent_loop_until(master, proxied_done, NULL);
	CHECK(proxied >= 1, "proxied immediate never ran");
	CHECK(n_aborts == 0, "reported: [%s]", last_abort);
	talloc_free(plain);
	talloc_free(master);
}

/* ---- nested loops of two contexts, and a reused thread record --------- */

static struct tevent_context *inner_ev;

/* In a loop of the outer context: a nested loop of the inner one, which
 * waits in hold_loop(). */
static void loop_inner(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)ev, (void)im, (void)p;
	struct tevent_immediate *held = tevent_create_immediate(inner_ev);
	tevent_schedule_immediate(held, inner_ev, hold_loop, NULL);
	tevent_loop_once(inner_ev);
	talloc_free(held);
}

static void case_nested(void)
{
	struct tevent_context *outer = tevent_context_init(NULL);
	inner_ev = tevent_context_init(NULL);
	struct timeval later = tevent_timeval_current_ofs(3600, 0);
	tevent_schedule_immediate(tevent_create_immediate(outer), outer, loop_inner, NULL);
	hs_stage = 0;
	pthread_t th;
	pthread_create(&th, NULL, loop_thread, outer);
	hs_wait(1);

	/* Both loops run on that thread: the outer one's too, below the
	 * nested one. */
	struct tevent_timer *te = tevent_add_timer(outer, outer, later, count_timer, NULL);
	expect("tevent_add_timer", te != NULL);
	te = tevent_add_timer(inner_ev, inner_ev, later, count_timer, NULL);
	expect("tevent_add_timer", te != NULL);
	end_held_loop(th);

	/* That thread is gone; the next one may take over whatever it left.
	 * While it runs a third context's loop, the two contexts whose last
	 * loops ran on the gone thread are free to use here. */
	struct tevent_context *third = tevent_context_init(NULL);
	th = start_held_loop(third);
	te = tevent_add_timer(outer, outer, later, count_timer, NULL);
	CHECK(te != NULL && n_aborts == 0, "context of a gone thread's loop reported: [%s]", last_abort);
	te = tevent_add_timer(inner_ev, inner_ev, later, count_timer, NULL);
	CHECK(te != NULL && n_aborts == 0, "context of a gone thread's nested loop reported: [%s]", last_abort);
	te = tevent_add_timer(third, third, later, count_timer, NULL);
	expect("tevent_add_timer", te != NULL);
	end_held_loop(th);

	/* And every one of them runs here now. */
	struct tevent_context *all[3] = {outer, inner_ev, third};
	for (int i = 0; i < 3; i++) {
		tevent_schedule_immediate(tevent_create_immediate(all[i]), all[i], ignore_immediate, NULL);
		CHECK(tevent_loop_once(all[i]) == 0, "loop %d here failed", i);
		talloc_free(all[i]);
	}
	CHECK(n_aborts == 0, "use after the loops returned was reported: [%s]", last_abort);
}

/* ---- allowed: never reported ------------------------------------------- */

static struct tevent_threaded_context *tctx;
static void *threaded_sender(void *arg)
{
	(void)arg;
	struct tevent_immediate *im = tevent_create_immediate(NULL);
	tevent_threaded_schedule_immediate(tctx, im, count_immediate, NULL);
	return im;
}

static void *free_parent(void *arg)
{
	talloc_free(arg);
	return NULL;
}

static int nested_runs;
static void nested_inner(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)ev, (void)im, (void)p;
	nested_runs++;
}
static void nested_outer(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)p;
	nested_runs++;
	tevent_schedule_immediate(im, ev, nested_inner, NULL);
	tevent_loop_once(ev);  /* nested, same thread */
	tevent_add_timer(ev, ev, tevent_timeval_current_ofs(3600, 0), count_timer, NULL);
}

static void case_allowed(void)
{
	struct tevent_context *ev = tevent_context_init(NULL);
	tctx = tevent_threaded_context_create(ev, ev);
	struct tevent_timer *te = tevent_add_timer(ev, ev, tevent_timeval_current_ofs(3600, 0), count_timer, NULL);
	pthread_t th = start_held_loop(ev);

	/* The threaded context is for other threads. */
	pthread_t sender;
	pthread_create(&sender, NULL, threaded_sender, NULL);
	void *sent;
	pthread_join(sender, &sent);

	/* A fork while the loop runs on another thread: the child owns all. */
	pid_t child = fork();
	if (child == 0) {
		struct tevent_timer *t = tevent_add_timer(ev, ev, tevent_timeval_current_ofs(1, 0), count_timer, NULL);
		talloc_free(te);
		talloc_free(ev);
		_exit(t != NULL && n_aborts == 0 ? 0 : 1);
	}
	int status = 0;
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork child reported or failed (status %d)", status);
	end_held_loop(th);

	/* Back on this thread: the threaded immediate runs here. */
	fired = 0;
	for (int i = 0; i < 100 && fired == 0; i++)
		tevent_loop_once(ev);
	CHECK(fired == 1, "threaded immediate ran %d times", fired);
	talloc_free(sent);

	/* Nested loops on the loop's own thread. */
	tevent_loop_allow_nesting(ev);
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, nested_outer, NULL);
	tevent_loop_once(ev);
	CHECK(nested_runs == 2, "nested loop ran %d handlers", nested_runs);

	/* Events freed with their parent by another thread, no loop running;
	 * then the whole context freed there. */
	void *mem = talloc_new(ev);
	tevent_add_timer(ev, mem, tevent_timeval_current_ofs(3600, 0), count_timer, NULL);
	tevent_schedule_immediate(tevent_create_immediate(mem), ev, count_immediate, NULL);
	pthread_t freer;
	pthread_create(&freer, NULL, free_parent, mem);
	pthread_join(freer, NULL);
	pthread_create(&freer, NULL, free_parent, ev);
	pthread_join(freer, NULL);
	CHECK(n_aborts == 0, "allowed use reported: [%s]", last_abort);
}

int main(int argc, char **argv)
{
	static const struct tc_case cases[] = {
		{"timers", case_timers},
		{"proxy", case_proxy},
		{"allowed", case_allowed},
		{"nested", case_nested},
	};
	ours = argc > 1 && strcmp(argv[1], "ours") == 0;
	talloc_disable_null_tracking();
	tevent_set_abort_fn(on_abort);
	return run_case(cases, 4, argc, argv);
}

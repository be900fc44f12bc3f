/*
 * Differential transcript of libtevent behaviour.
 *
 * Built once against Debian's tevent.h/talloc.h and libraries, then run by
 * run-tevent-diff.sh twice: as linked (the reference) and with
 * LD_LIBRARY_PATH pointing at our build.  Everything printed on stdout is
 * deterministic (handler order, counts, flags, return values, no pointers)
 * and must be identical in both runs.
 *
 * Before anything else the program checks that the libtevent the loader
 * mapped is the file named by $TEVENT_DIFF_EXPECT_LIB (and the libtalloc
 * the one in $TEVENT_DIFF_EXPECT_TALLOC, when set), so a mix-up cannot
 * make the runs compare equal by accident.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <talloc.h>
#define TEVENT_DEPRECATED 1
#include <tevent.h>

#define TRANSCRIPT_NAME "transcript"
#include "transcript.h"

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

#include "../../../compat/tevent_internal.h"

/* ---- plumbing ------------------------------------------------------------ */

static void iterate(struct tevent_context *ev, const char *label, int i)
{
	line[0] = '\0';
	int ret = tevent_loop_once(ev);
	say("%s %d: ret=%d ran=[%s]\n", label, i, ret, line);
}

/* ---- immediates ---------------------------------------------------------- */

struct named {
	const char *name;
	int again;
};

static void im_handler(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	struct named *n = p;
	note(" im:%s", n->name);
	if (n->again > 0) {
		n->again--;
		tevent_schedule_immediate(im, ev, im_handler, n);
	}
}

static void timer_handler(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)ev;
	(void)te;
	(void)now;
	note(" timer:%s", ((struct named *)p)->name);
}

static void section_immediates(const char *backend)
{
	say("== immediates (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	struct named a = {"a", 0}, b = {"b", 0}, c = {"c", 2}, d = {"d", 0}, t = {"T", 0};
	struct tevent_immediate *ia = tevent_create_immediate(ev), *ib = tevent_create_immediate(ev);
	struct tevent_immediate *ic = tevent_create_immediate(ev), *id = tevent_create_immediate(ev);
	tevent_add_timer(ev, ev, tevent_timeval_zero(), timer_handler, &t);
	tevent_schedule_immediate(ia, ev, im_handler, &a);
	tevent_schedule_immediate(ib, ev, im_handler, &b);
	tevent_schedule_immediate(ic, ev, im_handler, &c);
	tevent_schedule_immediate(id, ev, im_handler, &d);
	tevent_schedule_immediate(ia, ev, im_handler, &a);	/* moves to the end */
	tevent_schedule_immediate(ib, ev, NULL, NULL);		/* cancels */
	for (int i = 0; i < 6; i++) {
		iterate(ev, "iter", i);
	}
	say("loop_wait=%d\n", tevent_loop_wait(ev));
	/* Freed while pending: never runs. */
	tevent_schedule_immediate(ib, ev, im_handler, &b);
	tevent_schedule_immediate(id, ev, im_handler, &d);
	talloc_free(ib);
	iterate(ev, "after free", 0);
	talloc_free(ev);
}

/* ---- timers -------------------------------------------------------------- */

struct timed {
	const char *name;
	struct timeval deadline;
};

static void timed_handler(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)ev;
	(void)te;
	struct timed *t = p;
	note(" timer:%s(late=%d)", t->name, tevent_timeval_compare(&now, &t->deadline) >= 0);
}

static void section_timers(const char *backend)
{
	say("== timers (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	struct timeval base = tevent_timeval_current();
	struct timed t[6] = {
		{"t1", tevent_timeval_add(&base, 0, 3000)}, {"t2", tevent_timeval_add(&base, 0, 1000)},
		{"t3", tevent_timeval_add(&base, 0, 1000)}, {"t4", tevent_timeval_add(&base, 0, 2000)},
		{"t5", tevent_timeval_add(&base, 0, 2000)}, {"t6", tevent_timeval_add(&base, 0, 500)},
	};
	struct tevent_timer *te[6];
	for (int i = 0; i < 6; i++) {
		te[i] = tevent_add_timer(ev, ev, t[i].deadline, timed_handler, &t[i]);
	}
	t[3].deadline = t[1].deadline;
	tevent_update_timer(te[3], t[3].deadline);	/* joins t2/t3, behind them */
	talloc_free(te[4]);
	t[5].deadline = tevent_timeval_add(&base, 0, 4000);
	tevent_update_timer(te[5], t[5].deadline);	/* now the last */
	usleep(10 * 1000);
	for (int i = 0; i < 5; i++) {
		iterate(ev, "iter", i);
	}
	say("loop_wait=%d\n", tevent_loop_wait(ev));
	talloc_free(ev);
}

/* ---- fd events ----------------------------------------------------------- */

struct fdrec {
	const char *name;
	int fd;
	int calls;
	int max_calls;
};

static void fd_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	struct fdrec *r = p;
	r->calls++;
	note(" fd:%s(flags=%u)", r->name, (unsigned)flags);
	if (flags & TEVENT_FD_READ) {
		char c;
		if (read(r->fd, &c, 1) != 1) {
			note("(read failed)");
		}
	}
	if (r->calls >= r->max_calls) {
		tevent_fd_set_flags(fde, 0);
	}
}

static void section_fds(const char *backend)
{
	say("== fds (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	int p[2], s[2];
	if (pipe(p) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0) {
		die("pipe");
	}
	struct fdrec rp = {"pipe", p[0], 0, 1}, rs = {"sock", s[0], 0, 2};
	struct tevent_fd *fp = tevent_add_fd(ev, ev, p[0], TEVENT_FD_READ, fd_handler, &rp);
	struct tevent_fd *fs = tevent_add_fd(ev, ev, s[0], TEVENT_FD_READ | TEVENT_FD_WRITE, fd_handler, &rs);
	say("flags: pipe=%u sock=%u\n", tevent_fd_get_flags(fp), tevent_fd_get_flags(fs));
	if (write(p[1], "x", 1) != 1 || write(s[1], "y", 1) != 1) {
		die("write");
	}
	/* Not per iteration: backends may spend iterations on their own work. */
	line[0] = '\0';
	int rounds = 0;
	while ((rp.calls < 1 || rs.calls < 2) && rounds++ < 20) {
		tevent_loop_once(ev);
	}
	say("handled:%s\n", line);
	say("calls: pipe=%d sock=%d flags: pipe=%u sock=%u\n", rp.calls, rs.calls, tevent_fd_get_flags(fp),
	    tevent_fd_get_flags(fs));
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
	close(s[0]);
	close(s[1]);
}

/* ---- signals ------------------------------------------------------------- */

struct sigrec {
	const char *name;
	struct tevent_context *expect_ev;
	bool free_self;
};

static void sig_handler(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *info,
			void *p)
{
	struct sigrec *r = p;
	note(" sig:%s(signum=%s,count=%d,own_ev=%d", r->name, signum == SIGUSR1 ? "USR1" : signum == SIGUSR2 ? "USR2" : "RT",
	     count, ev == r->expect_ev);
	if (info != NULL) {
		siginfo_t *si = info;
		note(",value=%d,code_queue=%d", si->si_value.sival_int, si->si_code == SI_QUEUE);
	}
	note(")");
	if (r->free_self) {
		talloc_free(se);
	}
}

static void section_signals(const char *backend)
{
	say("== signals (%s)\n", backend);
	struct tevent_context *a = context(backend), *b = context(backend);
	say("support=%d\n", tevent_signal_support(a));
	struct sigrec a1 = {"a1", a, false}, a2 = {"a2", a, false}, b1 = {"b1", b, false};
	tevent_add_signal(a, a, SIGUSR1, 0, sig_handler, &a1);
	tevent_add_signal(a, a, SIGUSR1, SA_RESTART, sig_handler, &a2);
	tevent_add_signal(b, b, SIGUSR1, 0, sig_handler, &b1);
	raise(SIGUSR1);
	raise(SIGUSR1);
	raise(SIGUSR1);
	line[0] = '\0';
	say("check(a)=%d", tevent_common_check_signal(a));
	say(" ran=[%s]\n", line);
	line[0] = '\0';
	say("check(b)=%d ran=[%s]\n", tevent_common_check_signal(b), line);

	int rt = SIGRTMIN + 1;
	struct sigrec i1 = {"i1", a, false}, i2 = {"i2", b, true};
	struct tevent_signal *s1 = tevent_add_signal(a, a, rt, SA_SIGINFO, sig_handler, &i1);
	tevent_add_signal(b, b, rt, SA_SIGINFO, sig_handler, &i2);
	for (int i = 0; i < 3; i++) {
		union sigval v = {.sival_int = 10 + i};
		sigqueue(getpid(), rt, v);
	}
	iterate(b, "siginfo", 0);
	union sigval v = {.sival_int = 99};
	sigqueue(getpid(), rt, v);
	iterate(a, "siginfo", 1);
	talloc_free(s1);

	/* SA_RESETHAND: once, then gone. */
	struct sigrec r1 = {"reset", a, false};
	tevent_add_signal(a, a, SIGUSR2, SA_RESETHAND, sig_handler, &r1);
	raise(SIGUSR2);
	iterate(a, "resethand", 0);
	struct sigaction sa;
	sigaction(SIGUSR2, NULL, &sa);
	say("after resethand: default=%d\n", sa.sa_handler == SIG_DFL);

	/* Unhooked by tevent_cleanup_pending_signal_handlers. */
	signal(SIGUSR2, SIG_IGN);
	struct sigrec c1 = {"cleaned", a, false};
	struct tevent_signal *sc = tevent_add_signal(a, NULL, SIGUSR2, 0, sig_handler, &c1);
	tevent_cleanup_pending_signal_handlers(sc);
	sigaction(SIGUSR2, NULL, &sa);
	say("after cleanup: ignored=%d\n", sa.sa_handler == SIG_IGN);
	raise(SIGUSR2);
	line[0] = '\0';
	say("check(a)=%d", tevent_common_check_signal(a));
	say(" ran=[%s]\n", line);
	talloc_free(sc);
	signal(SIGUSR2, SIG_DFL);

	talloc_free(a);
	talloc_free(b);
}

/* ---- loops: until, nesting ----------------------------------------------- */

static int until_calls;
static bool until_fn(void *p)
{
	until_calls++;
	return *(int *)p >= 3;
}

static void count_im(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	int *n = p;
	(*n)++;
	note(" im:%d", *n);
	if (*n < 10) {
		tevent_schedule_immediate(im, ev, count_im, n);
	}
}

static int hook(struct tevent_context *ev, void *p, uint32_t level, bool begin, void *stack, const char *location)
{
	(void)ev;
	(void)p;
	(void)stack;
	note(" hook(level=%u,begin=%d,here=%d)", level, begin, location != NULL && strstr(location, "transcript") != NULL);
	return 0;
}

static void nested_im(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)im;
	(void)p;
	note(" outer");
	struct named inner = {"inner", 0};
	struct tevent_immediate *i2 = tevent_create_immediate(ev);
	tevent_schedule_immediate(i2, ev, im_handler, &inner);
	int ret = tevent_loop_once(ev);
	note(" nested_ret=%d", ret);
}

static void section_loops(const char *backend)
{
	say("== loops (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	int n = 0;
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, count_im, &n);
	until_calls = 0;
	line[0] = '\0';
	int ret = tevent_loop_until(ev, until_fn, &n);
	say("loop_until=%d n=%d checks=%d ran=[%s]\n", ret, n, until_calls, line);
	line[0] = '\0';
	ret = tevent_loop_wait(ev);
	say("loop_wait=%d n=%d ran=[%s]\n", ret, n, line);

	tevent_loop_allow_nesting(ev);
	tevent_loop_set_nesting_hook(ev, hook, NULL);
	tevent_schedule_immediate(im, ev, nested_im, NULL);
	iterate(ev, "nesting", 0);
	talloc_free(ev);
}

/* ---- trace callbacks ------------------------------------------------------ */

static const char *point_name(enum tevent_trace_point p)
{
	switch (p) {
	case TEVENT_TRACE_BEFORE_WAIT:
		return "before_wait";
	case TEVENT_TRACE_AFTER_WAIT:
		return "after_wait";
	case TEVENT_TRACE_BEFORE_LOOP_ONCE:
		return "before_loop_once";
	case TEVENT_TRACE_AFTER_LOOP_ONCE:
		return "after_loop_once";
	}
	return "?";
}

static void loop_trace(enum tevent_trace_point p, void *priv)
{
	(void)priv;
	note(" loop:%s", point_name(p));
}

static void im_trace(struct tevent_immediate *im, enum tevent_event_trace_point p, void *priv)
{
	(void)im;
	(void)priv;
	note(" immediate:%s", event_point_name(p));
}

static void timer_trace(struct tevent_timer *te, enum tevent_event_trace_point p, void *priv)
{
	(void)te;
	(void)priv;
	note(" timer:%s", event_point_name(p));
}

static void signal_trace(struct tevent_signal *se, enum tevent_event_trace_point p, void *priv)
{
	(void)se;
	(void)priv;
	note(" signal:%s", event_point_name(p));
}

static void section_trace(const char *backend)
{
	say("== trace (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	line[0] = '\0';
	tevent_set_trace_callback(ev, loop_trace, NULL);
	tevent_set_trace_immediate_callback(ev, im_trace, NULL);
	tevent_set_trace_timer_callback(ev, timer_trace, NULL);
	tevent_set_trace_signal_callback(ev, signal_trace, NULL);
	struct named a = {"a", 1}, t = {"t", 0};
	struct sigrec s = {"s", ev, false};
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, im_handler, &a);
	tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 20000), timer_handler, &t);
	struct tevent_signal *se = tevent_add_signal(ev, ev, SIGUSR1, 0, sig_handler, &s);
	say("setup: [%s]\n", line);
	for (int i = 0; i < 3; i++) {
		iterate(ev, "iter", i);
	}
	raise(SIGUSR1);
	iterate(ev, "iter", 3);
	line[0] = '\0';
	talloc_free(se);
	talloc_free(im);
	say("teardown: [%s]\n", line);
	talloc_free(ev);
}

/* ---- threads, from the owning thread --------------------------------------- */

static void section_threads(const char *backend)
{
	say("== threads (%s)\n", backend);
	talloc_disable_null_tracking();
	struct tevent_context *ev = context(backend);
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(ev, ev);
	static struct named names[5] = {{"0", 0}, {"1", 0}, {"2", 0}, {"3", 0}, {"4", 0}};
	for (int i = 0; i < 5; i++) {
		struct tevent_immediate *im = tevent_create_immediate(ev);
		tevent_threaded_schedule_immediate(tctx, im, im_handler, &names[i]);
	}
	for (int i = 0; i < 5; i++) {
		iterate(ev, "threaded", i);
	}
	struct tevent_thread_proxy *tp = tevent_thread_proxy_create(ev);
	for (int i = 0; i < 5; i++) {
		struct tevent_immediate *im = tevent_create_immediate(NULL);
		struct named *n = talloc(NULL, struct named);
		*n = (struct named){names[i].name, 0};
		tevent_thread_proxy_schedule(tp, &im, im_handler, &n);
		say("proxy schedule %d: im_cleared=%d data_cleared=%d\n", i, im == NULL, n == NULL);
	}
	line[0] = '\0';
	int rounds = 0;
	while (strlen(line) < 5 * strlen(" im:0") && rounds++ < 20) {
		tevent_loop_once(ev);
	}
	say("proxy delivered:%s\n", line);
	talloc_free(ev);
}

/* ---- tevent_re_initialise -------------------------------------------------- */

static void section_reinit(const char *backend)
{
	say("== re_initialise (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	int p[2];
	if (pipe(p) != 0) {
		die("pipe");
	}
	signal(SIGUSR2, SIG_IGN);
	TALLOC_CTX *old = talloc_new(NULL);
	struct fdrec r = {"old", p[0], 0, 100};
	struct named im_old = {"old", 0}, t_old = {"old", 0}, t_new = {"new", 0};
	struct sigrec s_old = {"old", ev, false};
	tevent_add_fd(ev, old, p[0], TEVENT_FD_READ, fd_handler, &r);
	tevent_add_timer(ev, old, tevent_timeval_zero(), timer_handler, &t_old);
	tevent_add_signal(ev, old, SIGUSR2, 0, sig_handler, &s_old);
	struct tevent_immediate *im = tevent_create_immediate(old);
	tevent_schedule_immediate(im, ev, im_handler, &im_old);
	say("re_initialise=%d\n", tevent_re_initialise(ev));
	struct sigaction sa;
	sigaction(SIGUSR2, NULL, &sa);
	say("signal handler uninstalled=%d\n", sa.sa_handler == SIG_IGN);
	if (write(p[1], "x", 1) != 1) {
		die("write");
	}
	raise(SIGUSR2);
	tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 10000), timer_handler, &t_new);
	iterate(ev, "after", 0);
	talloc_free(old);
	talloc_free(ev);
	signal(SIGUSR2, SIG_DFL);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	check_mapped((const void *)tevent_context_init, "libtevent", "TEVENT_DIFF_EXPECT_LIB");
	check_mapped((const void *)talloc_named_const, "libtalloc", "TEVENT_DIFF_EXPECT_TALLOC");
	alarm(120);

	say("== info\n");
	const char **list = tevent_backend_list(NULL);
	say("backends:");
	for (int i = 0; list != NULL && list[i] != NULL; i++) {
		say(" %s", list[i]);
	}
	say("\n");
	talloc_free(list);
	say("num_signals=%zu sa_info_queue_count=%zu\n", tevent_num_signals(), tevent_sa_info_queue_count());

	const char *backends[] = {"epoll", "poll", "poll_mt", "standard"};
	for (int i = 0; i < 4; i++) {
		const char *b = backends[i];
		section_immediates(b);
		section_timers(b);
		section_fds(b);
		section_signals(b);
		section_loops(b);
		/* The reference's poll_mt traces its internal wakeup pipe too. */
		if (strcmp(b, "poll_mt") != 0) {
			section_trace(b);
		}
		section_reinit(b);
	}
	/* Threads last: null tracking stays off from then on. */
	for (int i = 0; i < 4; i++) {
		section_threads(backends[i]);
	}
	say("== end\n");
	return 0;
}

/*
 * Differential test of the tevent core, and the drop-in check.
 *
 * Compiled against Debian's /usr/include/tevent.h and linked with Debian's
 * -ltevent -ltalloc; run-tevent-diff.sh runs the binary as linked and again
 * with LD_LIBRARY_PATH pointing at our build.  The two stdout transcripts
 * must be identical.  Before anything else the program reads
 * /proc/self/maps and exits with status 3 unless the libtevent.so.0 and
 * libtalloc.so.2 mapped are the files named by $TEVENT_DIFF_EXPECT_LIB and
 * $TEVENT_DIFF_EXPECT_TALLOC: the "ours" run cannot silently use Debian's.
 *
 * What it pins down (per backend, plus a custom backend written the way a
 * C program has to write one: only tevent.h and the exported
 * tevent_common_* helpers, no tevent_internal.h):
 *  - how much one tevent_loop_once() does: signals, then one immediate,
 *    then one due timer, then one fd handler;
 *  - immediate order when handlers schedule, reschedule and free others;
 *  - two fd events on one descriptor;
 *  - a descriptor closed behind the loop's back;
 *  - fork() with and without tevent_re_initialise(), tevent_cached_getpid();
 *  - the parent of events created with a NULL mem_ctx.
 * Only deterministic facts are printed (no pointers, no times).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>
#define TEVENT_DEPRECATED 1
#include <tevent.h>

#define TRANSCRIPT_NAME "core_diff"
#include "transcript.h"

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

/* The tevent_common_* declarations and the poll loop of the custom
 * backend, shared with api_backend.c. */
#include "../custom_backend.h"

/* ---- plumbing ------------------------------------------------------------ */

/*
 * The reference's poll_mt watches a pipe of its own, and spends an
 * iteration on it whenever fd events were added or changed; ours has no
 * such pipe.  On poll_mt an iteration that ran nothing is repeated (twice
 * at most), so the transcripts compare what the handlers see.
 */
static bool retry_empty;

static void iterate(struct tevent_context *ev, const char *label, int i)
{
	int ret;
	int tries = retry_empty ? 3 : 1;
	do {
		line[0] = '\0';
		ret = tevent_loop_once(ev);
	} while (ret == 0 && line[0] == '\0' && --tries > 0);
	say("  %s %d: ret=%d ran=[%s]\n", label, i, ret, line);
}

/*
 * The drop-in check: the loader must have mapped exactly the libraries the
 * runner expects.  /proc/self/maps names every mapped file; compare the
 * real paths of the libtevent.so* and libtalloc.so* lines.
 */
static void check_maps(const char *soname_prefix, const char *env)
{
	const char *expect = getenv(env);
	if (expect == NULL) {
		fprintf(stderr, "core_diff: $%s not set\n", env);
		exit(3);
	}
	char want[PATH_MAX];
	if (realpath(expect, want) == NULL) {
		fprintf(stderr, "core_diff: cannot resolve %s\n", expect);
		exit(3);
	}
	FILE *f = fopen("/proc/self/maps", "r");
	if (f == NULL) {
		die("open /proc/self/maps");
	}
	char buf[PATH_MAX + 256];
	int found = 0, wrong = 0;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *path = strchr(buf, '/');
		if (path == NULL) {
			continue;
		}
		path[strcspn(path, "\n")] = '\0';
		const char *base = strrchr(path, '/') + 1;
		if (strncmp(base, soname_prefix, strlen(soname_prefix)) != 0) {
			continue;
		}
		char got[PATH_MAX];
		if (realpath(path, got) != NULL && strcmp(got, want) == 0) {
			found++;
		} else {
			fprintf(stderr, "core_diff: %s mapped, expected %s\n", path, want);
			wrong++;
		}
	}
	fclose(f);
	if (found == 0 || wrong != 0) {
		fprintf(stderr, "core_diff: %s not mapped from %s\n", soname_prefix, want);
		exit(3);
	}
}

/* ---- a custom backend, as a C program writes one ------------------------- */

/*
 * "diffpoll": poll(2) over the fd events the context was given through
 * ops->add_fd.  The backend cannot see struct tevent_context, so it keeps
 * its own per-context state in a talloc child of the context and a record
 * per fd event as a talloc child of the event (freed with it).
 */
struct dp_fd;

struct dp_state {
	struct tevent_context *ev;
	struct dp_fd *fds;
	struct dp_state *next;
};

struct dp_fd {
	struct dp_state *state;
	struct tevent_fd *fde;
	int fd;
	struct dp_fd *prev, *next;
};

static struct dp_state *dp_states;

static int dp_state_destructor(struct dp_state *s)
{
	for (struct dp_state **pp = &dp_states; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	/* The fd records outlive the context when their events do. */
	for (struct dp_fd *r = s->fds; r != NULL; r = r->next) {
		r->state = NULL;
	}
	return 0;
}

static struct dp_state *dp_find(struct tevent_context *ev)
{
	for (struct dp_state *s = dp_states; s != NULL; s = s->next) {
		if (s->ev == ev) {
			return s;
		}
	}
	return NULL;
}

static int dp_context_init(struct tevent_context *ev)
{
	cbk_calls.inits++;
	if (cbk_calls.fail_init) {
		return -1;
	}
	struct dp_state *s = dp_find(ev);
	if (s != NULL) {
		/* tevent_re_initialise(): the events were dropped. */
		s->fds = NULL;
		return 0;
	}
	s = talloc_zero(ev, struct dp_state);
	if (s == NULL) {
		return -1;
	}
	s->ev = ev;
	s->next = dp_states;
	dp_states = s;
	talloc_set_destructor(s, dp_state_destructor);
	return 0;
}

static int dp_fd_destructor(struct dp_fd *r)
{
	if (r->state != NULL) {
		if (r->prev != NULL) {
			r->prev->next = r->next;
		} else {
			r->state->fds = r->next;
		}
		if (r->next != NULL) {
			r->next->prev = r->prev;
		}
	}
	return 0;
}

static struct tevent_fd *dp_add_fd(struct tevent_context *ev, TALLOC_CTX *mem_ctx, int fd, uint16_t flags,
				   tevent_fd_handler_t handler, void *private_data, const char *handler_name,
				   const char *location)
{
	cbk_calls.add_fd++;
	struct dp_state *s = dp_find(ev);
	if (s == NULL) {
		return NULL;
	}
	struct tevent_fd *fde =
	    tevent_common_add_fd(ev, mem_ctx, fd, flags, handler, private_data, handler_name, location);
	if (fde == NULL) {
		return NULL;
	}
	struct dp_fd *r = talloc_zero(fde, struct dp_fd);
	if (r == NULL) {
		talloc_free(fde);
		return NULL;
	}
	r->state = s;
	r->fde = fde;
	r->fd = fd;
	r->next = s->fds;
	if (s->fds != NULL) {
		s->fds->prev = r;
	}
	s->fds = r;
	talloc_set_destructor(r, dp_fd_destructor);
	return fde;
}

/* The context's fd events that ask for something, for cbk_loop_once(). */
static nfds_t dp_collect(struct tevent_context *ev, struct pollfd *pfds, struct tevent_fd **fdes, nfds_t max)
{
	struct dp_state *s = dp_find(ev);
	nfds_t n = 0;
	for (struct dp_fd *r = s->fds; r != NULL && n < max; r = r->next) {
		short events = cbk_poll_events(tevent_common_fd_get_flags(r->fde));
		if (events == 0) {
			continue;
		}
		pfds[n].fd = r->fd;
		pfds[n].events = events;
		pfds[n].revents = 0;
		fdes[n] = r->fde;
		n++;
	}
	return n;
}

static int dp_loop_once(struct tevent_context *ev, const char *location)
{
	(void)location;
	if (dp_find(ev) == NULL) {
		errno = EINVAL;
		return -1;
	}
	bool removed;
	int ret = cbk_loop_once(ev, dp_collect, &removed);
	if (removed) {
		note(" (removed)");
	}
	return ret;
}

static const struct tevent_ops dp_ops = CBK_OPS(dp_context_init, dp_add_fd, dp_loop_once);

/* ---- handlers -------------------------------------------------------------- */

struct named {
	const char *name;
	int again;
	struct tevent_immediate *other; /* scheduled (or freed) by this one */
	struct named *other_named;
	bool free_other;
};

static void im_handler(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	struct named *n = p;
	note(" im:%s", n->name);
	if (n->again > 0) {
		n->again--;
		tevent_schedule_immediate(im, ev, im_handler, n);
	}
	if (n->other != NULL) {
		if (n->free_other) {
			talloc_free(n->other);
		} else {
			tevent_schedule_immediate(n->other, ev, im_handler, n->other_named);
		}
		n->other = NULL;
	}
}

struct timed {
	const char *name;
	struct tevent_immediate *im; /* scheduled from the timer */
	struct named *im_named;
	struct timed *add; /* a timer added from the timer, already due */
};

static void timed_handler(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)te;
	(void)now;
	struct timed *t = p;
	note(" timer:%s", t->name);
	if (t->im != NULL) {
		tevent_schedule_immediate(t->im, ev, im_handler, t->im_named);
		t->im = NULL;
	}
	if (t->add != NULL) {
		/* tevent_timeval_current_ofs() only goes forward. */
		struct timeval past = tevent_timeval_current();
		past.tv_sec -= 1;
		tevent_add_timer(ev, ev, past, timed_handler, t->add);
		t->add = NULL;
	}
}

struct fdrec {
	const char *name;
	int fd;
	int calls;
	int drain; /* read one byte when readable */
};

static void fd_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	(void)fde;
	struct fdrec *r = p;
	r->calls++;
	note(" fd:%s(%s%s)", r->name, (flags & TEVENT_FD_READ) ? "R" : "", (flags & TEVENT_FD_WRITE) ? "W" : "");
	if ((flags & TEVENT_FD_READ) && r->drain) {
		char c;
		if (read(r->fd, &c, 1) != 1) {
			note("(read failed)");
		}
	}
}

static void sig_handler(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *info,
			void *p);

static int debug_disabling;
static void count_debug(void *context, enum tevent_debug_level level, const char *fmt, va_list ap)
{
	(void)context;
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (level <= TEVENT_DEBUG_ERROR && strstr(buf, "disabling") != NULL) {
		debug_disabling++;
	}
}

/* ---- sections ------------------------------------------------------------- */

/*
 * How much one iteration does, with everything ready at once: two
 * immediates (one scheduling a third), three overdue timers (one of which
 * schedules an immediate and adds another overdue timer), a zero-deadline
 * timer, a readable pipe.
 */
static void section_iteration(const char *backend)
{
	say("== one iteration (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	int p[2];
	if (pipe(p) != 0) {
		die("pipe");
	}
	struct fdrec rp = {"pipe", p[0], 0, 1};
	tevent_add_fd(ev, ev, p[0], TEVENT_FD_READ, fd_handler, &rp);
	if (write(p[1], "xy", 2) != 2) {
		die("write");
	}

	struct named i3 = {"i3", 0, NULL, NULL, false}, i_t = {"from-timer", 0, NULL, NULL, false};
	struct tevent_immediate *im3 = tevent_create_immediate(ev);
	struct named i1 = {"i1", 0, im3, &i3, false}, i2 = {"i2", 0, NULL, NULL, false};
	struct tevent_immediate *im1 = tevent_create_immediate(ev), *im2 = tevent_create_immediate(ev);

	struct timed late = {"added-late", NULL, NULL, NULL};
	struct timed ta = {"a", tevent_create_immediate(ev), &i_t, &late};
	struct timed tb = {"b", NULL, NULL, NULL}, tc = {"c", NULL, NULL, NULL}, tz = {"zero", NULL, NULL, NULL};
	struct timeval base = tevent_timeval_current();
	/* In the past (tevent_timeval_add() only goes forward). */
	struct timeval t_a = tevent_timeval_set(base.tv_sec - 2, base.tv_usec);
	struct timeval t_b = tevent_timeval_set(base.tv_sec - 3, base.tv_usec);
	tevent_add_timer(ev, ev, t_a, timed_handler, &ta);
	tevent_add_timer(ev, ev, t_b, timed_handler, &tb);
	tevent_add_timer(ev, ev, t_a, timed_handler, &tc); /* same deadline as a: after it */
	tevent_add_timer(ev, ev, tevent_timeval_zero(), timed_handler, &tz);
	tevent_schedule_immediate(im1, ev, im_handler, &i1);
	tevent_schedule_immediate(im2, ev, im_handler, &i2);

	for (int i = 0; i < 11; i++) {
		iterate(ev, "iter", i);
	}
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
}

/*
 * Timers that become due while the loop sleeps: two with the same deadline
 * in the near future.  The wait times out, then one of them runs; the other
 * needs the next iteration.
 */
static void section_sleeping_timers(const char *backend)
{
	say("== timers after a wait (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	struct timed t1 = {"first", NULL, NULL, NULL}, t2 = {"second", NULL, NULL, NULL};
	struct timeval when = tevent_timeval_current_ofs(0, 20 * 1000);
	tevent_add_timer(ev, ev, when, timed_handler, &t1);
	tevent_add_timer(ev, ev, when, timed_handler, &t2);
	iterate(ev, "iter", 0);
	iterate(ev, "iter", 1);
	line[0] = '\0';
	say("  loop_wait=%d ran=[%s]\n", tevent_loop_wait(ev), line);
	talloc_free(ev);
}

/* Immediates: order when handlers reschedule themselves, schedule others
 * and free pending ones; cancel by free and by a NULL handler. */
static void section_immediates(const char *backend)
{
	say("== immediates (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	struct tevent_immediate *ia = tevent_create_immediate(ev), *ib = tevent_create_immediate(ev);
	struct tevent_immediate *ic = tevent_create_immediate(ev), *id = tevent_create_immediate(ev);
	struct tevent_immediate *ie = tevent_create_immediate(ev), *ix = tevent_create_immediate(ev);
	struct named e = {"e", 0, NULL, NULL, false}, x = {"x", 0, NULL, NULL, false};
	struct named d = {"d", 0, NULL, NULL, false};
	struct named a = {"a", 1, ie, &e, false};  /* reschedules itself, then schedules e */
	struct named b = {"b", 0, ix, NULL, true};  /* frees x, pending behind it */
	struct named c = {"c", 2, NULL, NULL, false};
	tevent_schedule_immediate(ia, ev, im_handler, &a);
	tevent_schedule_immediate(ib, ev, im_handler, &b);
	tevent_schedule_immediate(ic, ev, im_handler, &c);
	tevent_schedule_immediate(id, ev, im_handler, &d);
	tevent_schedule_immediate(ix, ev, im_handler, &x);
	tevent_schedule_immediate(id, ev, NULL, NULL); /* cancelled */
	line[0] = '\0';
	int rounds = 0;
	while (tevent_common_have_events(ev) && rounds++ < 20) {
		if (tevent_loop_once(ev) != 0) {
			note(" (loop_once failed)");
		}
		note(" |");
	}
	say("  ran=[%s]\n", line);
	line[0] = '\0';
	say("  loop_wait=%d ran=[%s]\n", tevent_loop_wait(ev), line);
	talloc_free(ev);
}

/* Two fd events on one socket: one reading, one writing; then both
 * reading.  Which handler runs, with which flags, over a few iterations. */
static void section_shared_fd(const char *backend)
{
	say("== two events on one descriptor (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	int s[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0) {
		die("socketpair");
	}
	struct fdrec r = {"reader", s[0], 0, 0}, w = {"writer", s[0], 0, 0};
	struct tevent_fd *fr = tevent_add_fd(ev, ev, s[0], TEVENT_FD_READ, fd_handler, &r);
	struct tevent_fd *fw = tevent_add_fd(ev, ev, s[0], TEVENT_FD_WRITE, fd_handler, &w);
	for (int i = 0; i < 2; i++) {
		iterate(ev, "writable", i);
	}
	if (write(s[1], "a", 1) != 1) {
		die("write");
	}
	for (int i = 0; i < 3; i++) {
		iterate(ev, "both", i);
	}
	tevent_fd_set_flags(fw, 0);
	for (int i = 0; i < 2; i++) {
		iterate(ev, "writer off", i);
	}
	r.drain = 1;
	iterate(ev, "drained", 0);
	tevent_fd_set_flags(fw, TEVENT_FD_WRITE);
	tevent_fd_set_flags(fr, 0);
	iterate(ev, "reader off", 0);
	talloc_free(fw);
	tevent_fd_set_flags(fr, TEVENT_FD_READ);
	if (write(s[1], "b", 1) != 1) {
		die("write");
	}
	iterate(ev, "writer freed", 0);
	say("  calls: reader=%d writer=%d\n", r.calls, w.calls);

	/* Two readers: which one, and does it rotate?  Changing the flags
	 * of one makes it the most recent on epoll. */
	struct fdrec r2 = {"reader2", s[0], 0, 0};
	struct tevent_fd *fr2 = tevent_add_fd(ev, ev, s[0], TEVENT_FD_READ, fd_handler, &r2);
	r.drain = 0;
	if (write(s[1], "c", 1) != 1) {
		die("write");
	}
	for (int i = 0; i < 3; i++) {
		iterate(ev, "two readers", i);
	}
	tevent_fd_set_flags(fr, 0);
	tevent_fd_set_flags(fr, TEVENT_FD_READ);
	for (int i = 0; i < 3; i++) {
		iterate(ev, "first touched", i);
	}
	tevent_fd_set_flags(fr2, TEVENT_FD_READ | TEVENT_FD_WRITE);
	for (int i = 0; i < 3; i++) {
		iterate(ev, "reader2 also writes", i);
	}
	/* The peer goes away: a hang-up, reported to readers only. */
	tevent_fd_set_flags(fr2, TEVENT_FD_WRITE);
	close(s[1]);
	s[1] = -1;
	for (int i = 0; i < 3; i++) {
		iterate(ev, "hang-up", i);
	}
	say("  flags after hang-up: reader=%u reader2=%u\n", tevent_fd_get_flags(fr), tevent_fd_get_flags(fr2));
	talloc_free(ev);
	close(s[0]);
}

/*
 * Events that join a descriptor late: added without flags, enabled later;
 * both switched off and on again; one freed and replaced.  Which one is
 * served each time.
 */
static void section_late_joiners(const char *backend)
{
	say("== late joiners (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	int s[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0) {
		die("socketpair");
	}
	struct fdrec ra = {"a", s[0], 0, 0}, rz = {"z", s[0], 0, 0}, ry = {"y", s[0], 0, 0};
	struct tevent_fd *a = tevent_add_fd(ev, ev, s[0], TEVENT_FD_READ, fd_handler, &ra);
	struct tevent_fd *z = tevent_add_fd(ev, ev, s[0], 0, fd_handler, &rz);
	if (write(s[1], "x", 1) != 1) {
		die("write");
	}
	iterate(ev, "z without flags", 0);
	tevent_fd_set_flags(z, TEVENT_FD_READ);
	iterate(ev, "z enabled", 0);
	iterate(ev, "z enabled", 1);
	tevent_fd_set_flags(a, 0);
	tevent_fd_set_flags(z, 0);
	tevent_fd_set_flags(z, TEVENT_FD_READ);
	tevent_fd_set_flags(a, TEVENT_FD_READ);
	iterate(ev, "both again", 0);
	iterate(ev, "both again", 1);
	tevent_fd_set_flags(a, 0);
	tevent_fd_set_flags(a, TEVENT_FD_READ);
	iterate(ev, "a touched", 0);
	talloc_free(z);
	struct tevent_fd *y = tevent_add_fd(ev, ev, s[0], 0, fd_handler, &ry);
	tevent_fd_set_flags(y, TEVENT_FD_READ);
	iterate(ev, "y enabled", 0);
	tevent_fd_set_flags(a, 0);
	iterate(ev, "a off", 0);
	tevent_fd_set_flags(a, TEVENT_FD_READ);
	iterate(ev, "a on", 0);
	talloc_free(ev);
	close(s[0]);
	close(s[1]);
}

/*
 * A descriptor closed while its fd event is registered, and an fd event
 * added for a descriptor that is not open.  Neither may make the loop
 * spin: the handler is never called, the loop goes on with other events,
 * and tevent_loop_wait() returns once nothing else is left.
 */
static void section_closed_fd(const char *backend)
{
	say("== closed descriptors (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	debug_disabling = 0;
	tevent_set_debug(ev, count_debug, NULL);

	int p[2];
	if (pipe(p) != 0) {
		die("pipe");
	}
	struct fdrec r = {"closed-later", p[0], 0, 1};
	struct tevent_fd *fde = tevent_add_fd(ev, ev, p[0], TEVENT_FD_READ, fd_handler, &r);
	close(p[0]);
	close(p[1]);
	struct timed t = {"after-close", NULL, NULL, NULL};
	tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 5000), timed_handler, &t);
	line[0] = '\0';
	int rounds = 0;
	while (strstr(line, "timer:") == NULL && rounds < 50) {
		rounds++;
		if (tevent_loop_once(ev) != 0) {
			note(" (loop_once failed)");
			break;
		}
	}
	say("  closed later: ran=[%s] handler_calls=%d spun=%d\n", line, r.calls, rounds >= 50);
	talloc_free(fde);

	int q[2];
	if (pipe(q) != 0) {
		die("pipe");
	}
	close(q[0]);
	close(q[1]);
	struct fdrec n = {"never-open", q[0], 0, 1};
	tevent_add_fd(ev, ev, q[0], TEVENT_FD_READ, fd_handler, &n);
	line[0] = '\0';
	unsigned left = alarm(10); /* a spinning loop_wait must fail the test, not hang it */
	int ret = tevent_loop_wait(ev);
	alarm(left);
	say("  not open: loop_wait=%d ran=[%s] handler_calls=%d reported=%d\n", ret, line, n.calls,
	    debug_disabling > 0);
	talloc_free(ev);
}

static void file_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	note(" fd:%s(%s)", (const char *)p, (flags & TEVENT_FD_READ) ? "R" : "");
	tevent_fd_set_flags(fde, 0);
}

/*
 * "standard" starts on epoll and falls back to poll when epoll refuses a
 * descriptor (a regular file): how two readers on one socket are served
 * before and after.
 */
static void section_fallback(const char *backend)
{
	(void)backend;
	say("== standard falling back to poll\n");
	struct tevent_context *ev = context("standard");
	int s[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0) {
		die("socketpair");
	}
	struct fdrec a = {"a", s[0], 0, 0}, b = {"b", s[0], 0, 0};
	tevent_add_fd(ev, ev, s[0], TEVENT_FD_READ, fd_handler, &a);
	tevent_add_fd(ev, ev, s[0], TEVENT_FD_READ, fd_handler, &b);
	if (write(s[1], "x", 1) != 1) {
		die("write");
	}
	for (int i = 0; i < 3; i++) {
		iterate(ev, "epoll", i);
	}
	FILE *f = tmpfile();
	if (f == NULL) {
		die("tmpfile");
	}
	tevent_add_fd(ev, ev, fileno(f), TEVENT_FD_READ, file_handler, (void *)"file");
	for (int i = 0; i < 5; i++) {
		iterate(ev, "poll", i);
	}
	talloc_free(ev);
	fclose(f);
	close(s[0]);
	close(s[1]);
}

/* NULL as mem_ctx: the events hang off the context. */
static void section_parents(const char *backend)
{
	say("== NULL mem_ctx (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	int p[2];
	if (pipe(p) != 0) {
		die("pipe");
	}
	struct fdrec r = {"x", p[0], 0, 1};
	struct timed t = {"x", NULL, NULL, NULL};
	struct tevent_fd *fde = tevent_add_fd(ev, NULL, p[0], TEVENT_FD_READ, fd_handler, &r);
	struct tevent_timer *te = tevent_add_timer(ev, NULL, tevent_timeval_current_ofs(10, 0), timed_handler, &t);
	struct tevent_signal *se = tevent_add_signal(ev, NULL, SIGUSR2, 0, sig_handler, NULL);
	struct tevent_immediate *im = tevent_create_immediate(NULL);
	say("  fd=%d timer=%d signal=%d immediate_top_level=%d\n", talloc_parent(fde) == ev,
	    talloc_parent(te) == ev, talloc_parent(se) == ev, talloc_parent(im) == NULL);
	talloc_free(im);
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
}

/*
 * fork(): the child goes on with the parent's context, once as it is and
 * once after tevent_re_initialise(); the parent's context keeps working.
 */
static void child_pipe_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	(void)fde;
	struct fdrec *r = p;
	char c = '?';
	r->calls++;
	if ((flags & TEVENT_FD_READ) && read(r->fd, &c, 1) != 1) {
		c = '!';
	}
	note(" fd:%s(%c)", r->name, c);
}

static void section_fork(const char *backend)
{
	say("== fork (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	int a[2], b[2];
	if (pipe(a) != 0 || pipe(b) != 0) {
		die("pipe");
	}
	struct fdrec ra = {"a", a[0], 0, 0}, rb = {"b", b[0], 0, 0};
	struct tevent_fd *fa = tevent_add_fd(ev, ev, a[0], TEVENT_FD_READ, child_pipe_handler, &ra);
	struct timed tp = {"parent-timer", NULL, NULL, NULL};
	tevent_add_timer(ev, ev, tevent_timeval_current_ofs(30, 0), timed_handler, &tp);
	say("  cached_getpid=%d\n", tevent_cached_getpid() == getpid());

	for (int reinit = 0; reinit < 2; reinit++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			die("fork");
		}
		if (pid == 0) {
			/* The child: its transcript goes to stdout before the
			 * parent's next line, which waits for it. */
			alarm(20);
			say("  child%s: cached_getpid=%d\n", reinit ? " (re_initialise)" : "",
			    tevent_cached_getpid() == getpid());
			if (reinit) {
				say("  child: re_initialise=%d\n", tevent_re_initialise(ev));
				struct fdrec rn = {"new", b[0], 0, 0};
				struct tevent_fd *fn =
				    tevent_add_fd(ev, ev, b[0], TEVENT_FD_READ, child_pipe_handler, &rn);
				if (write(b[1], "n", 1) != 1 || write(a[1], "o", 1) != 1) {
					_exit(5);
				}
				iterate(ev, "child", 0);
				/* The old fd and timer events are gone: with the
				 * new one freed nothing is left to wait for. */
				say("  child: have_events=%d", tevent_common_have_events(ev));
				talloc_free(fn);
				say(" then %d\n", tevent_common_have_events(ev));
				talloc_free(fa);
			} else {
				if (write(a[1], "c", 1) != 1) {
					_exit(5);
				}
				iterate(ev, "child", 0);
			}
			fflush(stdout);
			_exit(0);
		}
		int status = 0;
		if (waitpid(pid, &status, 0) != pid) {
			die("waitpid");
		}
		say("  child exited=%d status=%d\n", WIFEXITED(status), WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		/* The child's byte on a[0] may have been read by the child;
		 * whatever is left is drained, then the parent's loop must
		 * still see new data. */
		char c;
		while (poll(&(struct pollfd){.fd = a[0], .events = POLLIN}, 1, 0) == 1 && read(a[0], &c, 1) == 1) {
		}
		if (write(a[1], "p", 1) != 1) {
			die("write");
		}
		iterate(ev, "parent", reinit);
	}
	(void)rb;
	talloc_free(ev);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

/* The custom backend's registration and ops plumbing. */
static void section_custom_registry(void)
{
	say("== custom backend registry\n");
	say("  find before=%d\n", tevent_find_ops_byname("diffpoll") != NULL);
	say("  register=%d\n", tevent_register_backend("diffpoll", &dp_ops));
	static const struct tevent_ops other = {0};
	say("  register again=%d find=%d\n", tevent_register_backend("diffpoll", &other),
	    tevent_find_ops_byname("diffpoll") == &dp_ops);
	say("  find epoll=%d find nope=%d\n", tevent_find_ops_byname("epoll") != NULL,
	    tevent_find_ops_byname("nope") != NULL);
	const char **list = tevent_backend_list(NULL);
	say("  list:");
	for (int i = 0; list != NULL && list[i] != NULL; i++) {
		say(" %s", list[i]);
	}
	say("\n");
	talloc_free(list);

	cbk_calls.inits = 0;
	struct tevent_context *ev = tevent_context_init_ops(NULL, &dp_ops, NULL);
	say("  init_ops=%d inits=%d\n", ev != NULL, cbk_calls.inits);
	cbk_calls.fail_init = 1;
	struct tevent_context *bad = tevent_context_init_byname(NULL, "diffpoll");
	say("  failing init: ctx=%d inits=%d\n", bad != NULL, cbk_calls.inits);
	cbk_calls.fail_init = 0;

	/* The public API goes through the context's ops. */
	int p[2];
	if (pipe(p) != 0) {
		die("pipe");
	}
	cbk_calls.add_fd = cbk_calls.set_flags = cbk_calls.get_flags = cbk_calls.set_close_fn = 0;
	struct fdrec r = {"x", p[0], 0, 1};
	struct tevent_fd *fde = tevent_add_fd(ev, ev, p[0], TEVENT_FD_READ, fd_handler, &r);
	tevent_fd_set_flags(fde, TEVENT_FD_READ | TEVENT_FD_WRITE);
	uint16_t flags = tevent_fd_get_flags(fde);
	tevent_fd_set_auto_close(fde);
	say("  add_fd=%d set_flags=%d get_flags=%d (flags=%u) close_fn=%d\n", cbk_calls.add_fd, cbk_calls.set_flags,
	    cbk_calls.get_flags, (unsigned)flags, cbk_calls.set_close_fn);
	talloc_free(fde);
	/* Auto-close closed p[0]: writing to the pipe now fails. */
	signal(SIGPIPE, SIG_IGN);
	say("  auto-closed=%d\n", write(p[1], "x", 1) < 0 && errno == EPIPE);
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);

	/* The default backend can be a custom one. */
	tevent_set_default_backend("diffpoll");
	cbk_calls.inits = 0;
	struct tevent_context *def = tevent_context_init(NULL);
	say("  default=diffpoll: ctx=%d inits=%d\n", def != NULL, cbk_calls.inits);
	talloc_free(def);
	tevent_set_default_backend(NULL);
	cbk_calls.inits = 0;
	def = tevent_context_init(NULL);
	say("  default reset: ctx=%d inits=%d\n", def != NULL, cbk_calls.inits);
	talloc_free(def);

	/* A signal through the custom backend. */
	struct tevent_immediate *im = tevent_create_immediate(ev);
	struct named n = {"on-custom", 0, NULL, NULL, false};
	tevent_schedule_immediate(im, ev, im_handler, &n);
	iterate(ev, "custom", 0);
	talloc_free(ev);
}

static void sig_handler(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *info,
			void *p)
{
	(void)ev;
	(void)se;
	(void)info;
	(void)p;
	note(" sig:%s(count=%d)", signum == SIGUSR1 ? "USR1" : "?", count);
}

/* Signals first in an iteration, on every backend. */
static void section_signal_first(const char *backend)
{
	say("== signal before the rest (%s)\n", backend);
	struct tevent_context *ev = context(backend);
	struct tevent_signal *se = tevent_add_signal(ev, ev, SIGUSR1, 0, sig_handler, NULL);
	struct named i1 = {"i1", 0, NULL, NULL, false};
	struct tevent_immediate *im = tevent_create_immediate(ev);
	struct timed t = {"due", NULL, NULL, NULL};
	tevent_add_timer(ev, ev, tevent_timeval_zero(), timed_handler, &t);
	tevent_schedule_immediate(im, ev, im_handler, &i1);
	raise(SIGUSR1);
	raise(SIGUSR1);
	for (int i = 0; i < 3; i++) {
		iterate(ev, "iter", i);
	}
	talloc_free(se);
	talloc_free(ev);
}

/*
 * Several events on one descriptor, on epoll ("standard" is epoll too):
 * where the releases differ on purpose.  Debian's 0.14.1 serves the same
 * event every time (on writability the first writer, else the event whose
 * flags changed last, or the first added); 0.17 lets them take turns
 * (upstream's multiplex selection: the first matching event, oldest first,
 * runs and moves behind the others).  The program checks the transcript
 * of each section against what the release it runs on specifies, both
 * written out here, and prints only the verdict, so the reference's and
 * our transcripts still compare line by line.
 */
struct by_release {
	void (*section)(const char *backend);
	const char *v0_14;
	const char *v0_17;
};

static const struct by_release shared_fd_by_release = {
	section_shared_fd,
	/* 0.14.1 */
	"  writable 0: ret=0 ran=[ fd:writer(W)]\n"
	"  writable 1: ret=0 ran=[ fd:writer(W)]\n"
	"  both 0: ret=0 ran=[ fd:writer(W)]\n"
	"  both 1: ret=0 ran=[ fd:writer(W)]\n"
	"  both 2: ret=0 ran=[ fd:writer(W)]\n"
	"  writer off 0: ret=0 ran=[ fd:reader(R)]\n"
	"  writer off 1: ret=0 ran=[ fd:reader(R)]\n"
	"  drained 0: ret=0 ran=[ fd:reader(R)]\n"
	"  reader off 0: ret=0 ran=[ fd:writer(W)]\n"
	"  writer freed 0: ret=0 ran=[ fd:reader(R)]\n"
	"  calls: reader=4 writer=6\n"
	"  two readers 0: ret=0 ran=[ fd:reader(R)]\n"
	"  two readers 1: ret=0 ran=[ fd:reader(R)]\n"
	"  two readers 2: ret=0 ran=[ fd:reader(R)]\n"
	"  first touched 0: ret=0 ran=[ fd:reader(R)]\n"
	"  first touched 1: ret=0 ran=[ fd:reader(R)]\n"
	"  first touched 2: ret=0 ran=[ fd:reader(R)]\n"
	"  reader2 also writes 0: ret=0 ran=[ fd:reader2(RW)]\n"
	"  reader2 also writes 1: ret=0 ran=[ fd:reader2(RW)]\n"
	"  reader2 also writes 2: ret=0 ran=[ fd:reader2(RW)]\n"
	"  hang-up 0: ret=0 ran=[ fd:reader(R)]\n"
	"  hang-up 1: ret=0 ran=[ fd:reader(R)]\n"
	"  hang-up 2: ret=0 ran=[ fd:reader(R)]\n"
	"  flags after hang-up: reader=1 reader2=0\n",
	/* 0.17 */
	"  writable 0: ret=0 ran=[ fd:writer(W)]\n"
	"  writable 1: ret=0 ran=[ fd:writer(W)]\n"
	"  both 0: ret=0 ran=[ fd:reader(R)]\n"
	"  both 1: ret=0 ran=[ fd:writer(W)]\n"
	"  both 2: ret=0 ran=[ fd:reader(R)]\n"
	"  writer off 0: ret=0 ran=[ fd:reader(R)]\n"
	"  writer off 1: ret=0 ran=[ fd:reader(R)]\n"
	"  drained 0: ret=0 ran=[ fd:reader(R)]\n"
	"  reader off 0: ret=0 ran=[ fd:writer(W)]\n"
	"  writer freed 0: ret=0 ran=[ fd:reader(R)]\n"
	"  calls: reader=6 writer=4\n"
	"  two readers 0: ret=0 ran=[ fd:reader(R)]\n"
	"  two readers 1: ret=0 ran=[ fd:reader2(R)]\n"
	"  two readers 2: ret=0 ran=[ fd:reader(R)]\n"
	"  first touched 0: ret=0 ran=[ fd:reader2(R)]\n"
	"  first touched 1: ret=0 ran=[ fd:reader(R)]\n"
	"  first touched 2: ret=0 ran=[ fd:reader2(R)]\n"
	"  reader2 also writes 0: ret=0 ran=[ fd:reader(R)]\n"
	"  reader2 also writes 1: ret=0 ran=[ fd:reader2(RW)]\n"
	"  reader2 also writes 2: ret=0 ran=[ fd:reader(R)]\n"
	"  hang-up 0: ret=0 ran=[ fd:reader(R)]\n"
	"  hang-up 1: ret=0 ran=[ fd:reader(R)]\n"
	"  hang-up 2: ret=0 ran=[ fd:reader(R)]\n"
	"  flags after hang-up: reader=1 reader2=0\n",
};

/* The same before "standard" falls back to poll; after it, both releases
 * serve the events in turn, in the context's order. */
#define FALLBACK_ON_POLL                                   \
	"  poll 0: ret=0 ran=[ fd:file(R)]\n"              \
	"  poll 1: ret=0 ran=[ fd:b(R)]\n"                 \
	"  poll 2: ret=0 ran=[ fd:a(R)]\n"                 \
	"  poll 3: ret=0 ran=[ fd:b(R)]\n"                 \
	"  poll 4: ret=0 ran=[ fd:a(R)]\n"

static const struct by_release fallback_by_release = {
	section_fallback,
	/* 0.14.1 */
	"  epoll 0: ret=0 ran=[ fd:a(R)]\n"
	"  epoll 1: ret=0 ran=[ fd:a(R)]\n"
	"  epoll 2: ret=0 ran=[ fd:a(R)]\n" FALLBACK_ON_POLL,
	/* 0.17 */
	"  epoll 0: ret=0 ran=[ fd:a(R)]\n"
	"  epoll 1: ret=0 ran=[ fd:b(R)]\n"
	"  epoll 2: ret=0 ran=[ fd:a(R)]\n" FALLBACK_ON_POLL,
};

static const struct by_release late_joiners_by_release = {
	section_late_joiners,
	/* 0.14.1 */
	"  z without flags 0: ret=0 ran=[ fd:a(R)]\n"
	"  z enabled 0: ret=0 ran=[ fd:a(R)]\n"
	"  z enabled 1: ret=0 ran=[ fd:a(R)]\n"
	"  both again 0: ret=0 ran=[ fd:a(R)]\n"
	"  both again 1: ret=0 ran=[ fd:a(R)]\n"
	"  a touched 0: ret=0 ran=[ fd:a(R)]\n"
	"  y enabled 0: ret=0 ran=[ fd:a(R)]\n"
	"  a off 0: ret=0 ran=[ fd:y(R)]\n"
	"  a on 0: ret=0 ran=[ fd:a(R)]\n",
	/* 0.17 */
	"  z without flags 0: ret=0 ran=[ fd:a(R)]\n"
	"  z enabled 0: ret=0 ran=[ fd:z(R)]\n"
	"  z enabled 1: ret=0 ran=[ fd:a(R)]\n"
	"  both again 0: ret=0 ran=[ fd:z(R)]\n"
	"  both again 1: ret=0 ran=[ fd:a(R)]\n"
	"  a touched 0: ret=0 ran=[ fd:z(R)]\n"
	"  y enabled 0: ret=0 ran=[ fd:a(R)]\n"
	"  a off 0: ret=0 ran=[ fd:y(R)]\n"
	"  a on 0: ret=0 ran=[ fd:a(R)]\n",
};

/* tevent 0.17 exports tevent_context_set_wait_timeout(); 0.14.1 does not. */
static bool runs_on_0_17(void)
{
	return dlsym(RTLD_DEFAULT, "tevent_context_set_wait_timeout") != NULL;
}

/* Runs a section with its transcript held back, and prints its first line
 * (the heading) and whether the rest is what the release specifies; when
 * it is not, the transcript itself, which the comparison then shows. */
static void run_by_release(const struct by_release *r, const char *backend)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL) {
		die("open_memstream");
	}
	say_to = f;
	r->section(backend);
	say_to = NULL;
	fclose(f);
	char *body = strchr(text, '\n');
	body = body != NULL ? body + 1 : text;
	fwrite(text, 1, (size_t)(body - text), stdout);
	const char *expect = runs_on_0_17() ? r->v0_17 : r->v0_14;
	if (strcmp(body, expect) == 0) {
		say("  as its release specifies\n");
	} else {
		say("  NOT as its release specifies:\n%s", body);
	}
	free(text);
}

int main(void)
{
	check_maps("libtevent.so", "TEVENT_DIFF_EXPECT_LIB");
	check_maps("libtalloc.so", "TEVENT_DIFF_EXPECT_TALLOC");
	alarm(120);

	section_custom_registry();
	run_by_release(&fallback_by_release, "standard");
	const char *backends[] = {"epoll", "poll", "poll_mt", "standard", "diffpoll"};
	for (int i = 0; i < 5; i++) {
		const char *b = backends[i];
		retry_empty = strcmp(b, "poll_mt") == 0;
		section_iteration(b);
		section_sleeping_timers(b);
		section_immediates(b);
		if (strcmp(b, "epoll") == 0 || strcmp(b, "standard") == 0) {
			run_by_release(&shared_fd_by_release, b);
			run_by_release(&late_joiners_by_release, b);
		} else {
			section_shared_fd(b);
			section_late_joiners(b);
		}
		/* What a custom backend does with a closed descriptor is its
		 * own business (this one would spin). */
		if (strcmp(b, "diffpoll") != 0) {
			section_closed_fd(b);
		}
		section_parents(b);
		section_signal_first(b);
		section_fork(b);
	}
	say("== end\n");
	return 0;
}

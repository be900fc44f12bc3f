/* tevent misuse: each case ends as the reference's does.  Built twice, on
 * our libraries and on Debian's (suite 'misuse-reference'), so the
 * expectations below are shown to be the reference's own.
 *
 * - an invalid descriptor: tevent_add_fd fails with NULL;
 * - tevent_loop_wait with nothing to wait for: returns 0 after saying so;
 * - a threaded schedule of an immediate that is already scheduled, or
 *   without a handler: abort() (SIGABRT), checked in a child process;
 * - talloc_get_type_abort on a tevent object of the wrong type: talloc's
 *   abort function gets the reason naming both types (so the objects carry
 *   the reference's talloc names);
 * - NULL where an fd event is expected: flags read as 0, setting is a no-op;
 * - the context freed with every kind of event pending (the events owned
 *   elsewhere): nothing fires, nothing is left behind (valgrind suite). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>
#include <tevent.h>

static int failures;
#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                      \
		}                                                                        \
	} while (0)

static char debug_text[4096];
static void collect_debug(void *priv, enum tevent_debug_level level, const char *fmt, va_list ap)
{
	(void)priv;
	if (level > TEVENT_DEBUG_WARNING) return;
	size_t len = strlen(debug_text);
	vsnprintf(debug_text + len, sizeof(debug_text) - len, fmt, ap);
}

static int fired;
static void on_fd(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *priv)
{
	(void)ev; (void)fde; (void)flags; (void)priv;
	fired++;
}
static void on_timer(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *priv)
{
	(void)ev; (void)te; (void)now; (void)priv;
	fired++;
}
static void on_immediate(struct tevent_context *ev, struct tevent_immediate *im, void *priv)
{
	(void)ev; (void)im; (void)priv;
	fired++;
}
static void on_signal(struct tevent_context *ev, struct tevent_signal *se, int signum, int count,
		      void *info, void *priv)
{
	(void)ev; (void)se; (void)signum; (void)count; (void)info; (void)priv;
	fired++;
}

/* Runs fn in a child; returns the signal that ended it, or 0. */
static int child_signal(void (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* No core files from the aborts this expects. */
		signal(SIGABRT, SIG_DFL);
		fn();
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid) return -1;
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void threaded_schedule_scheduled(void)
{
	void *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(mem, ev);
	struct tevent_immediate *im = tevent_create_immediate(mem);
	tevent_schedule_immediate(im, ev, on_immediate, NULL);
	tevent_threaded_schedule_immediate(tctx, im, on_immediate, NULL);
}

static void threaded_schedule_no_handler(void)
{
	void *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(mem, ev);
	struct tevent_immediate *im = tevent_create_immediate(mem);
	tevent_threaded_schedule_immediate(tctx, im, NULL, NULL);
}

static jmp_buf abort_jmp;
static char abort_reason[512];
static void talloc_abort_to_test(const char *reason)
{
	snprintf(abort_reason, sizeof(abort_reason), "%s", reason);
	longjmp(abort_jmp, 1);
}

/* talloc_get_type_abort(p, want), which must abort with the reason. */
static void expect_type_abort(const void *p, const char *want, const char *reason)
{
	abort_reason[0] = '\0';
	if (setjmp(abort_jmp) == 0) {
		(void)_talloc_get_type_abort(p, want, "misuse");
		CHECK(!"talloc_get_type_abort returned");
	}
	CHECK(strcmp(abort_reason, reason) == 0);
	if (strcmp(abort_reason, reason) != 0) fprintf(stderr, "  reason: %s\n  wanted: %s\n", abort_reason, reason);
}

int main(void)
{
	void *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	tevent_set_debug(ev, collect_debug, NULL);

	/* An invalid descriptor. */
	CHECK(tevent_add_fd(ev, mem, -1, TEVENT_FD_READ, on_fd, NULL) == NULL);

	/* Nothing to wait for. */
	debug_text[0] = '\0';
	CHECK(tevent_loop_wait(ev) == 0);
	CHECK(strstr(debug_text, "tevent_common_loop_wait() out of events") != NULL);

	/* Threaded scheduling misuse aborts. */
	CHECK(child_signal(threaded_schedule_scheduled) == SIGABRT);
	CHECK(child_signal(threaded_schedule_no_handler) == SIGABRT);

	/* Wrong types, through talloc's abort function. */
	int fds[2];
	CHECK(pipe(fds) == 0);
	struct tevent_fd *fde = tevent_add_fd(ev, mem, fds[0], TEVENT_FD_READ, on_fd, NULL);
	struct tevent_timer *te = tevent_add_timer(ev, mem, tevent_timeval_current_ofs(1000, 0), on_timer, NULL);
	struct tevent_immediate *im = tevent_create_immediate(mem);
	struct tevent_signal *se = tevent_add_signal(ev, mem, SIGUSR2, 0, on_signal, NULL);
	CHECK(fde != NULL && te != NULL && im != NULL && se != NULL);
	talloc_set_abort_fn(talloc_abort_to_test);
	expect_type_abort(ev, "struct tevent_timer",
			  "misuse: Type mismatch: name[struct tevent_context] expected[struct tevent_timer]");
	expect_type_abort(fde, "struct tevent_context",
			  "misuse: Type mismatch: name[struct tevent_fd] expected[struct tevent_context]");
	expect_type_abort(te, "struct tevent_fd",
			  "misuse: Type mismatch: name[struct tevent_timer] expected[struct tevent_fd]");
	expect_type_abort(im, "struct tevent_signal",
			  "misuse: Type mismatch: name[struct tevent_immediate] expected[struct tevent_signal]");
	expect_type_abort(se, "struct tevent_immediate",
			  "misuse: Type mismatch: name[struct tevent_signal] expected[struct tevent_immediate]");
	talloc_set_abort_fn(NULL);

	/* NULL for an fd event. */
	CHECK(tevent_fd_get_flags(NULL) == 0);
	tevent_fd_set_flags(NULL, TEVENT_FD_READ);

	/* The context goes with every kind of event pending (events owned by
	 * another context survive, inert): nothing fires. */
	CHECK(write(fds[1], "x", 1) == 1);
	tevent_schedule_immediate(im, ev, on_immediate, NULL);
	tevent_add_timer(ev, mem, tevent_timeval_zero(), on_timer, NULL);
	fired = 0;
	talloc_free(ev);
	CHECK(fired == 0);
	talloc_free(mem);
	close(fds[0]);
	close(fds[1]);

	printf("misuse_tevent: %s\n", failures == 0 ? "ok" : "FAILED");
	return failures == 0 ? 0 : 1;
}

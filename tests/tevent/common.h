/*
 * Helpers shared by the tevent API tests (cmocka, plain C).
 *
 * Every test program is built twice when Debian's libtevent is present: once
 * against our headers and library, once against the reference (with
 * TEVENT_TEST_REFERENCE defined).  The reference build proves that the
 * assertions encode the reference's behaviour; API that only exists in
 * tevent >= 0.15 (which Debian's 0.14 lacks) is compiled into our build only.
 */
#ifndef TEVENT_TEST_COMMON_H
#define TEVENT_TEST_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <talloc.h>
/* Declares tevent_loop_allow_nesting() and friends. */
#define TEVENT_DEPRECATED 1
#include <tevent.h>

/* Exported by every libtevent but not declared in the installed tevent.h. */
#include "../../compat/tevent_internal.h"

#ifdef TEVENT_TEST_REFERENCE
#define TT_IMPL "reference"
#else
#define TT_IMPL "ours"
#endif

/* A test run once on each of the four backends every libtevent registers. */
#define PER_BACKEND(f)                                                   \
	cmocka_unit_test_prestate(f, (void *)"epoll"),                   \
	    cmocka_unit_test_prestate(f, (void *)"poll"),                \
	    cmocka_unit_test_prestate(f, (void *)"poll_mt"),             \
	    cmocka_unit_test_prestate(f, (void *)"standard")

/* cmocka's prestate carries the backend name; NULL means the default. */
static inline struct tevent_context *tt_context(void **state)
{
	const char *name = (state != NULL) ? (const char *)*state : NULL;
	struct tevent_context *ev = (name != NULL) ? tevent_context_init_byname(NULL, name)
						  : tevent_context_init(NULL);
	assert_non_null(ev);
	return ev;
}

static inline double tt_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void tt_pipe(int fds[2])
{
	assert_int_equal(pipe(fds), 0);
}

static inline void tt_socketpair(int fds[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
}

static inline void tt_write_byte(int fd)
{
	char c = 'x';
	assert_int_equal(write(fd, &c, 1), 1);
}

static inline void tt_read_byte(int fd)
{
	char c;
	assert_int_equal(read(fd, &c, 1), 1);
}

/* A timer that marks a deadline: loops guarded by it cannot hang forever. */
static inline void tt_deadline_handler(struct tevent_context *ev, struct tevent_timer *te,
				       struct timeval now, void *private_data)
{
	(void)ev;
	(void)te;
	(void)now;
	*(bool *)private_data = true;
}

/*
 * Runs the loop until *flag becomes true or `seconds` pass; returns whether
 * the flag was set.
 */
static inline bool tt_loop_until_flag(struct tevent_context *ev, volatile bool *flag, int seconds)
{
	bool expired = false;
	TALLOC_CTX *guard = talloc_new(NULL);
	struct tevent_timer *te = tevent_add_timer(ev, guard, tevent_timeval_current_ofs(seconds, 0),
						   tt_deadline_handler, &expired);
	assert_non_null(te);
	while (!*flag && !expired) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	talloc_free(guard);
	return *flag;
}

/*
 * Runs the loop until *counter reaches target (at most 5 seconds), then
 * insists it is exactly target.  Used instead of counting iterations: a
 * backend may spend an iteration on internal work (poll_mt wakes itself up
 * after the descriptor set changes), so "one handler per tevent_loop_once"
 * is not a promise.
 */
static inline void tt_loop_until_count(struct tevent_context *ev, const int *counter, int target)
{
	bool expired = false;
	TALLOC_CTX *guard = talloc_new(NULL);
	struct tevent_timer *te = tevent_add_timer(ev, guard, tevent_timeval_current_ofs(5, 0),
						   tt_deadline_handler, &expired);
	assert_non_null(te);
	while (*counter < target && !expired) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	talloc_free(guard);
	assert_int_equal(*counter, target);
}

/*
 * Runs the loop for `usec` microseconds; for checking that nothing (more)
 * happens in that time.
 */
static inline void tt_loop_for(struct tevent_context *ev, uint32_t usec)
{
	bool expired = false;
	TALLOC_CTX *guard = talloc_new(NULL);
	struct tevent_timer *te = tevent_add_timer(ev, guard, tevent_timeval_current_ofs(0, usec),
						   tt_deadline_handler, &expired);
	assert_non_null(te);
	while (!expired) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	talloc_free(guard);
}

/*
 * Runs fn(arg) in a forked child and returns its wait status; for the
 * behaviour that must end the process (tevent_abort, fatal misuse).
 */
static inline int tt_run_in_child(void (*fn)(void *), void *arg)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Silence the abort message the child is expected to print. */
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0) {
			dup2(devnull, 2);
		}
		alarm(20);
		fn(arg);
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static inline void tt_assert_aborted(int status)
{
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

#endif

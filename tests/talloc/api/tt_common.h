/*
 * Shared helpers for the cmocka talloc API tests.
 *
 * Every test file includes this header once.  The helpers are static so each
 * test executable is self-contained.  The same sources are built twice:
 * against our libtalloc (talloc_dep) and, when Debian's libtalloc is
 * installed, against the reference (TT_REFERENCE defined), which proves the
 * expectations are the reference's behaviour and not just ours.
 */
#ifndef TT_COMMON_H
#define TT_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>

/* ------------------------------------------------------------------------ */
/* Log capture                                                              */
/* ------------------------------------------------------------------------ */

static char tt_log_buf[1 << 16];
static size_t tt_log_len;
static int tt_log_calls;

static void tt_log_fn(const char *msg)
{
	size_t n = strlen(msg);
	tt_log_calls++;
	if (tt_log_len + n >= sizeof(tt_log_buf)) {
		n = sizeof(tt_log_buf) - 1 - tt_log_len;
	}
	memcpy(tt_log_buf + tt_log_len, msg, n);
	tt_log_len += n;
	tt_log_buf[tt_log_len] = '\0';
}

static void tt_log_reset(void)
{
	tt_log_len = 0;
	tt_log_buf[0] = '\0';
	tt_log_calls = 0;
}

/* ------------------------------------------------------------------------ */
/* Abort capture: the abort function records the reason and, when a        */
/* TT_EXPECT_ABORT is active, jumps back to it (the reference dereferences  */
/* NULL if the abort function returns, so jumping is the only portable way) */
/* ------------------------------------------------------------------------ */

static char tt_abort_msg[1024];
static int tt_abort_calls;
static jmp_buf *tt_abort_jmp;

static void tt_abort_fn(const char *reason)
{
	tt_abort_calls++;
	snprintf(tt_abort_msg, sizeof(tt_abort_msg), "%s", reason ? reason : "(null)");
	if (tt_abort_jmp != NULL) {
		jmp_buf *j = tt_abort_jmp;
		tt_abort_jmp = NULL;
		longjmp(*j, 1);
	}
}

static void tt_abort_reset(void)
{
	tt_abort_msg[0] = '\0';
	tt_abort_calls = 0;
	tt_abort_jmp = NULL;
}

/*
 * Run `stmt`; it must reach the abort function.  Afterwards tt_abort_msg
 * holds the reason.  Fails the test if the statement completes normally.
 */
#define TT_EXPECT_ABORT(stmt)                                              \
	do {                                                                   \
		jmp_buf tt_jb_;                                                    \
		int tt_before_ = tt_abort_calls;                                   \
		tt_abort_jmp = &tt_jb_;                                            \
		if (setjmp(tt_jb_) == 0) {                                         \
			stmt;                                                          \
			tt_abort_jmp = NULL;                                           \
			fail_msg("expected the abort function to be called by: %s",   \
				 #stmt);                                                   \
		}                                                                  \
		tt_abort_jmp = NULL;                                               \
		assert_int_equal(tt_abort_calls, tt_before_ + 1);                  \
	} while (0)

/* Install the capturing log and abort functions and clear the buffers. */
static int tt_setup(void **state)
{
	(void)state;
	tt_log_reset();
	tt_abort_reset();
	talloc_set_log_fn(tt_log_fn);
	talloc_set_abort_fn(tt_abort_fn);
	return 0;
}

static int tt_teardown(void **state)
{
	(void)state;
	tt_abort_jmp = NULL;
	return 0;
}

#define TT_TEST(f) cmocka_unit_test_setup_teardown(f, tt_setup, tt_teardown)

/* ------------------------------------------------------------------------ */
/* Capturing FILE * output (reports) into a string                          */
/* ------------------------------------------------------------------------ */

struct tt_capture {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *tt_capture_begin(struct tt_capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	return c->f;
}

/* Returns a malloc'd string (caller frees) with 0x... addresses masked. */
static char *tt_mask_addresses(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 1);
	size_t o = 0;
	assert_non_null(out);
	for (size_t i = 0; i < n;) {
		if (in[i] == '0' && in[i + 1] == 'x' &&
		    ((in[i + 2] >= '0' && in[i + 2] <= '9') ||
		     (in[i + 2] >= 'a' && in[i + 2] <= 'f'))) {
			i += 2;
			while ((in[i] >= '0' && in[i] <= '9') || (in[i] >= 'a' && in[i] <= 'f')) {
				i++;
			}
			memcpy(out + o, "ADDR", 4);
			o += 4;
			continue;
		}
		out[o++] = in[i++];
	}
	out[o] = '\0';
	return out;
}

static char *tt_capture_end(struct tt_capture *c)
{
	char *masked;
	fclose(c->f);
	masked = tt_mask_addresses(c->buf ? c->buf : "");
	free(c->buf);
	return masked;
}

/* ------------------------------------------------------------------------ */
/* Running a piece of code in a child process and collecting its output    */
/* ------------------------------------------------------------------------ */

struct tt_child {
	char out[1 << 16]; /* stdout and stderr merged */
	int exited;        /* 1 if it exited normally */
	int status;        /* exit status, or signal number */
};

static void tt_run_child(struct tt_child *res, void (*fn)(void *), void *arg)
{
	int fds[2];
	pid_t pid;
	size_t got = 0;
	int st;

	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[1]);
		fn(arg);
		fflush(stdout);
		fflush(stderr);
		exit(0);
	}
	close(fds[1]);
	for (;;) {
		ssize_t r = read(fds[0], res->out + got, sizeof(res->out) - 1 - got);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			break;
		}
		got += (size_t)r;
		if (got == sizeof(res->out) - 1) {
			/* drain the rest so the child cannot block */
			char sink[4096];
			while (read(fds[0], sink, sizeof(sink)) > 0) {
			}
			break;
		}
	}
	res->out[got] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st)) {
		res->exited = 1;
		res->status = WEXITSTATUS(st);
	} else {
		res->exited = 0;
		res->status = WIFSIGNALED(st) ? WTERMSIG(st) : -1;
	}
}

/* ------------------------------------------------------------------------ */
/* Which library are we running on?                                         */
/* ------------------------------------------------------------------------ */

/*
 * The reference build must really run Debian's 2.4.x, ours must run 2.5:
 * otherwise the "proves the expectations match the reference" claim would be
 * hollow (e.g. if LD_LIBRARY_PATH leaked our library into the reference run).
 */
static void tt_test_linked_library(void **state)
{
	Dl_info info;
	(void)state;
	assert_int_equal(talloc_version_major(), 2);
#ifdef TT_REFERENCE
	assert_int_equal(talloc_version_minor(), 4);
#else
	assert_int_equal(talloc_version_minor(), 5);
#endif
	assert_true(dladdr((void *)talloc_named_const, &info) != 0);
	assert_non_null(info.dli_fname);
	assert_non_null(strstr(info.dli_fname, "libtalloc.so.2"));
}

#define TT_LINKED_LIBRARY_TEST cmocka_unit_test(tt_test_linked_library)

#endif

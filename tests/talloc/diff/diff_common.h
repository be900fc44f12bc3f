/*
 * Shared helpers for the differential programs.
 *
 * Each program is built ONCE, against Debian's talloc.h and libtalloc.so.2,
 * and run twice by run_diff.py: as built (the reference) and with
 * LD_LIBRARY_PATH pointing at our libtalloc.so.2.  It prints a transcript on
 * stdout; the runner masks addresses and compares both runs exactly.
 *
 * Before anything else each program checks which libtalloc the dynamic
 * loader mapped against $TALLOC_DIFF_EXPECT_LIB, so a mix-up of the two
 * runs cannot make them compare equal by accident.
 */
#ifndef DIFF_COMMON_H
#define DIFF_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

/* ---- which library is mapped ------------------------------------------ */

static void diff_check_library(void)
{
	const char *expect = getenv("TALLOC_DIFF_EXPECT_LIB");
	Dl_info info;
	char got_real[PATH_MAX], want_real[PATH_MAX];

	if (dladdr((void *)talloc_named_const, &info) == 0 || info.dli_fname == NULL) {
		fprintf(stderr, "diff: dladdr failed on talloc_named_const\n");
		exit(2);
	}
	if (expect == NULL) {
		/* run by hand: just say what we got, on stderr */
		fprintf(stderr, "diff: libtalloc mapped from %s\n", info.dli_fname);
		return;
	}
	if (realpath(info.dli_fname, got_real) == NULL ||
	    realpath(expect, want_real) == NULL ||
	    strcmp(got_real, want_real) != 0) {
		fprintf(stderr, "diff: expected libtalloc %s, but %s is mapped\n",
			expect, info.dli_fname);
		exit(2);
	}
}

/* ---- transcript --------------------------------------------------------- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void diff_log(const char *msg)
{
	/* messages end with '\n' already */
	say("LOG: %s", msg);
}

static jmp_buf *diff_abort_jmp;

static void diff_abort(const char *reason)
{
	say("ABORT: %s\n", reason);
	if (diff_abort_jmp != NULL) {
		jmp_buf *j = diff_abort_jmp;
		diff_abort_jmp = NULL;
		longjmp(*j, 1);
	}
	/* not expected: the reference would crash after returning */
	say("ABORT without a catcher, exiting\n");
	exit(3);
}

/* Run a statement that may reach the abort function. */
#define CATCH_ABORT(stmt)                                   \
	do {                                                    \
		jmp_buf diff_jb_;                                   \
		diff_abort_jmp = &diff_jb_;                         \
		if (setjmp(diff_jb_) == 0) {                        \
			stmt;                                           \
			say("no abort: %s\n", #stmt);                   \
		}                                                   \
		diff_abort_jmp = NULL;                              \
	} while (0)

static void diff_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	diff_check_library();
	talloc_set_log_fn(diff_log);
	talloc_set_abort_fn(diff_abort);
}

static void report(const char *title, const void *ctx)
{
	say("--- %s\n", title);
	talloc_report_full(ctx, stdout);
}

static void totals(const char *title, const void *ctx)
{
	say("%s: size=%zu blocks=%zu refs=%zu\n", title,
	    talloc_total_size(ctx), talloc_total_blocks(ctx),
	    ctx ? talloc_reference_count(ctx) : (size_t)0);
}

/* Destructor that logs the chunk's name. */
static int say_destructor(void *ptr)
{
	say("destructor: %s\n", talloc_get_name(ptr));
	return 0;
}

#endif

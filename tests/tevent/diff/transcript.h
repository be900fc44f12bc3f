/*
 * Plumbing shared by the differential transcript programs in this folder
 * (tevent_transcript.c, tevent_core_diff.c, wrapper_transcript.c).
 *
 * Each program is one translation unit built against Debian's headers, so
 * the helpers are static and live here rather than in a library: a
 * separately built object would have to be compiled once per program
 * anyway.  Not every program uses every helper, hence the `unused'
 * attributes.
 *
 * Define TRANSCRIPT_NAME (the prefix of the messages on stderr) before
 * including this file, after <talloc.h> and <tevent.h>.
 */
#ifndef TESTS_TEVENT_DIFF_TRANSCRIPT_H
#define TESTS_TEVENT_DIFF_TRANSCRIPT_H

#ifndef TRANSCRIPT_NAME
#error "define TRANSCRIPT_NAME before including transcript.h"
#endif

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRANSCRIPT_UNUSED __attribute__((unused))

/* Where say() writes when not to stdout: a section whose transcript is
 * checked before it is printed. */
static FILE *say_to TRANSCRIPT_UNUSED;

/* Prints one line of the transcript; flushed at once so that it stands
 * before anything a forked child or a crash writes. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2))) TRANSCRIPT_UNUSED;
static void say(const char *fmt, ...)
{
	FILE *out = say_to != NULL ? say_to : stdout;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fflush(out);
}

/* A setup step failed: the run is void.  Exit 4 tells the runner it is the
 * program, not a difference in the transcript.  errno may be stale for
 * failures that do not set it; it is only a hint. */
static TRANSCRIPT_UNUSED void die(const char *what)
{
	int err = errno;
	fflush(stdout);
	fprintf(stderr, TRANSCRIPT_NAME ": %s (errno %d)\n", what, err);
	exit(4);
}

/*
 * The drop-in check by dladdr(): the file that defines `symbol' must be the
 * one named by $env, so a mix-up of libraries cannot make both runs compare
 * equal by accident.  With $env unset only says which file it is.
 */
static TRANSCRIPT_UNUSED void check_mapped(const void *symbol, const char *what, const char *env)
{
	const char *expect = getenv(env);
	Dl_info info;
	char got[PATH_MAX], want[PATH_MAX];
	if (dladdr(symbol, &info) == 0 || info.dli_fname == NULL) {
		fprintf(stderr, TRANSCRIPT_NAME ": dladdr failed for %s\n", what);
		exit(3);
	}
	if (expect == NULL) {
		fprintf(stderr, TRANSCRIPT_NAME ": %s mapped from %s\n", what, info.dli_fname);
		return;
	}
	if (realpath(info.dli_fname, got) == NULL || realpath(expect, want) == NULL || strcmp(got, want) != 0) {
		fprintf(stderr, TRANSCRIPT_NAME ": expected %s %s, but %s is mapped\n", what, expect,
			info.dli_fname);
		exit(3);
	}
}

/* What handlers did during one loop iteration: they append with note(),
 * the program prints and clears it after the iteration. */
static TRANSCRIPT_UNUSED char line[4096];

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2))) TRANSCRIPT_UNUSED;
static void note(const char *fmt, ...)
{
	size_t used = strlen(line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + used, sizeof(line) - used, fmt, ap);
	va_end(ap);
}

/* How per-event trace points are printed. */
static TRANSCRIPT_UNUSED const char *event_point_name(enum tevent_event_trace_point p)
{
	switch (p) {
	case TEVENT_EVENT_TRACE_ATTACH:
		return "attach";
	case TEVENT_EVENT_TRACE_DETACH:
		return "detach";
	case TEVENT_EVENT_TRACE_BEFORE_HANDLER:
		return "before_handler";
	}
	return "?";
}

/* A context on the named backend, owned by nobody (freed by the section). */
static TRANSCRIPT_UNUSED struct tevent_context *context(const char *backend)
{
	struct tevent_context *ev = tevent_context_init_byname(NULL, backend);
	if (ev == NULL) {
		die("no context");
	}
	return ev;
}

#endif

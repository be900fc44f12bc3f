/*
 * Shared by the thread-check programs (tests/talloc/thread_check.c,
 * tests/tevent/threads/thread_check.c): a failure counter, and a handshake that
 * parks one thread inside a library call (in a handler or a destructor)
 * until another thread is done, so that an overlap happens every run.
 */
#ifndef THREAD_HANDSHAKE_H
#define THREAD_HANDSHAKE_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int failures;
#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			failures++;                                        \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
		}                                                          \
	} while (0)

static inline int tid(void) { return (int)syscall(SYS_gettid); }

/* Stage 1: the parked thread is inside; stage 2: the other one is done. */
static pthread_mutex_t hs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hs_cond = PTHREAD_COND_INITIALIZER;
static int hs_stage;

static inline void hs_set(int stage)
{
	pthread_mutex_lock(&hs_lock);
	hs_stage = stage;
	pthread_cond_broadcast(&hs_cond);
	pthread_mutex_unlock(&hs_lock);
}

static inline void hs_wait(int stage)
{
	pthread_mutex_lock(&hs_lock);
	while (hs_stage < stage)
		pthread_cond_wait(&hs_cond, &hs_lock);
	pthread_mutex_unlock(&hs_lock);
}

/* What the library's abort function was given (a fixed buffer: no talloc). */
static pthread_mutex_t said_lock = PTHREAD_MUTEX_INITIALIZER;
static int n_aborts;
static char last_abort[2048];

/* Returns: the library then refuses the operation. */
static inline void on_abort(const char *reason)
{
	pthread_mutex_lock(&said_lock);
	n_aborts++;
	snprintf(last_abort, sizeof(last_abort), "%s", reason);
	pthread_mutex_unlock(&said_lock);
}

/* argv: MODE CASE; runs the named case, says "MODE CASE: ok" on success. */
struct tc_case {
	const char *name;
	void (*run)(void);
};

static inline int run_case(const struct tc_case *cases, int n, int argc, char **argv)
{
	if (argc == 3) {
		for (int i = 0; i < n; i++) {
			if (strcmp(argv[2], cases[i].name) != 0)
				continue;
			cases[i].run();
			if (failures == 0)
				printf("%s %s: ok\n", argv[1], argv[2]);
			return failures == 0 ? 0 : 1;
		}
	}
	fprintf(stderr, "usage: %s MODE CASE (CASE one of:", argv[0]);
	for (int i = 0; i < n; i++)
		fprintf(stderr, " %s", cases[i].name);
	fprintf(stderr, ")\n");
	return 2;
}

#endif

/*
 * Seed 002: thread-specific data, created race-free with pthread_once, used
 * for a per-thread result buffer of a getenv()-like function.  The buffer is
 * talloc memory on a top-level context of its own; the key's destructor
 * frees it with talloc_free when the thread exits.
 *
 * Checks (exact): the key is created once although every thread races to
 * create it; each thread gets its own buffer and keeps getting the same
 * one; results are right; the key destructor runs once per thread that
 * used the buffer and never for threads that did not; every buffer is
 * really freed (its talloc destructor ran), including buffers of threads
 * that exit through pthread_exit().
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <talloc.h>
#include <unistd.h>

#include "seed_common.h"

#define NTHREADS 64
#define CALLS 200
#define BUFSIZE 4096

extern char **environ;

static pthread_key_t key;
/* all threads are alive at once when they compare notes */
static pthread_barrier_t all_alive;
static pthread_once_t init_done = PTHREAD_ONCE_INIT;
static pthread_mutex_t env_mutex = PTHREAD_MUTEX_INITIALIZER;

static int init_calls;
static int key_destructor_calls;
static int buffer_frees;
static int buffer_allocs;

static int buffer_destructor(char *buf)
{
	(void)buf;
	__atomic_add_fetch(&buffer_frees, 1, __ATOMIC_RELAXED);
	return 0;
}

/* the key's destructor: the value is a talloc buffer */
static void free_buffer(void *value)
{
	__atomic_add_fetch(&key_destructor_calls, 1, __ATOMIC_RELAXED);
	if (talloc_free(value) != 0) {
		fprintf(stderr, "talloc_free of a thread buffer failed\n");
		abort();
	}
}

static void thread_init(void)
{
	init_calls++;
	PTHREAD_OK(pthread_key_create(&key, free_buffer));
}

/* thread-safe getenv: the result lives in this thread's own buffer */
static char *my_getenv(const char *name)
{
	size_t len = strlen(name);
	char *envbuf;

	pthread_once(&init_done, thread_init);
	PTHREAD_OK(pthread_mutex_lock(&env_mutex));
	envbuf = pthread_getspecific(key);
	if (envbuf == NULL) {
		envbuf = talloc_named_const(NULL, BUFSIZE, "envbuf");
		if (envbuf == NULL) {
			PTHREAD_OK(pthread_mutex_unlock(&env_mutex));
			return NULL;
		}
		talloc_set_destructor(envbuf, buffer_destructor);
		__atomic_add_fetch(&buffer_allocs, 1, __ATOMIC_RELAXED);
		PTHREAD_OK(pthread_setspecific(key, envbuf));
	}
	for (int i = 0; environ[i] != NULL; i++) {
		if (strncmp(name, environ[i], len) == 0 && environ[i][len] == '=') {
			strncpy(envbuf, &environ[i][len + 1], BUFSIZE - 1);
			envbuf[BUFSIZE - 1] = '\0';
			PTHREAD_OK(pthread_mutex_unlock(&env_mutex));
			return envbuf;
		}
	}
	PTHREAD_OK(pthread_mutex_unlock(&env_mutex));
	return NULL;
}

struct job {
	int id;
	int use_buffer;
	int use_pthread_exit;
	int errors;
	void *buf;
};

static void *thread_fn(void *arg)
{
	struct job *job = arg;
	char *first = NULL;
	char expect[64];
	void *scratch;

	/* every thread races to create the key */
	pthread_once(&init_done, thread_init);
	if (!job->use_buffer) {
		/* a thread that never sets a value: no destructor call for it */
		scratch = talloc_named_const(NULL, 10, "scratch");
		talloc_free(scratch);
		pthread_barrier_wait(&all_alive);
		return NULL;
	}
	for (int i = 0; i < CALLS; i++) {
		const char *var = (i % 2) ? "SEED002_B" : "SEED002_A";
		char *v = my_getenv(var);
		snprintf(expect, sizeof(expect), "%s", (i % 2) ? "value-b" : "value-a");
		if (v == NULL || strcmp(v, expect) != 0) {
			job->errors++;
		}
		if (first == NULL) {
			first = v;
		} else if (v != first) {
			/* the per-thread buffer is the same on every call */
			job->errors++;
		}
		if (talloc_get_size(v) != BUFSIZE || talloc_parent(v) != NULL) {
			job->errors++;
		}
		if (my_getenv("SEED002_UNSET") != NULL) {
			job->errors++;
		}
	}
	job->buf = first;
	/* keep the buffer alive until every thread has one */
	pthread_barrier_wait(&all_alive);
	if (job->use_pthread_exit) {
		pthread_exit(NULL);
	}
	return NULL;
}

int main(void)
{
	pthread_t tids[NTHREADS];
	struct job jobs[NTHREADS];
	int users = 0;
	int shared = 0;

	talloc_disable_null_tracking();
	setenv("SEED002_A", "value-a", 1);
	setenv("SEED002_B", "value-b", 1);
	unsetenv("SEED002_UNSET");
	PTHREAD_OK(pthread_barrier_init(&all_alive, NULL, NTHREADS));

	for (int i = 0; i < NTHREADS; i++) {
		jobs[i].id = i;
		jobs[i].use_buffer = i % 4 != 3;
		jobs[i].use_pthread_exit = i % 2;
		jobs[i].errors = 0;
		jobs[i].buf = NULL;
		users += jobs[i].use_buffer;
		PTHREAD_OK(pthread_create(&tids[i], NULL, thread_fn, &jobs[i]));
	}
	for (int i = 0; i < NTHREADS; i++) {
		PTHREAD_OK(pthread_join(tids[i], NULL));
		CHECK_EQ(jobs[i].errors, 0);
	}

	CHECK_EQ(init_calls, 1);
	CHECK_EQ(buffer_allocs, users);
	CHECK_EQ(key_destructor_calls, users);
	CHECK_EQ(buffer_frees, users);
	/* different threads had different buffers (all alive at once) */
	for (int i = 0; i < NTHREADS; i++) {
		CHECK(jobs[i].use_buffer == (jobs[i].buf != NULL));
		for (int j = i + 1; j < NTHREADS; j++) {
			shared += jobs[i].buf != NULL && jobs[i].buf == jobs[j].buf;
		}
	}
	CHECK_EQ(shared, 0);

	/* the main thread uses it too; its buffer goes with the key value at
	 * the end (main never exits through the thread path here) */
	{
		char *v = my_getenv("SEED002_A");
		CHECK(v != NULL && strcmp(v, "value-a") == 0);
		CHECK_EQ(key_destructor_calls, users);
		PTHREAD_OK(pthread_setspecific(key, NULL));
		talloc_free(v);
		CHECK_EQ(buffer_frees, users + 1);
	}
	PTHREAD_OK(pthread_key_delete(key));
	pthread_barrier_destroy(&all_alive);
	return seed_result("seed_002_tsd_getenv");
}

/*
 * Seed 004: thread-specific data with destructors, every value being talloc
 * memory.
 *
 *  1. grep-like per-thread state: a data_t {stream, buffer} on its own
 *     top-level talloc context, the buffer a talloc child; the key's
 *     destructor talloc_free()s the state, whose talloc destructor closes
 *     the stream.  Threads exit by return and by pthread_exit().
 *  2. the "correct code" from the seed: a thread frees its data itself and
 *     sets the value to NULL, so the key's destructor is not called.
 *  3. a destructor that stores a new value: the system calls it again
 *     (destructor iterations), and that second value is freed as well.
 *  4. several keys, each with its own destructor.
 *  5. swap_specific() from the seed: the old value comes back to the caller,
 *     who frees it.
 *  6. pthread_key_delete() does not run destructors: the application frees
 *     the values itself.
 *
 * All counts are exact.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <talloc.h>
#include <unistd.h>

#include "seed_common.h"

#define NTHREADS 48

typedef struct {
	FILE *stream;
	char *buffer;
	int owner;
} data_t;

static pthread_key_t state_key, retry_key, count_key, name_key, deleted_key;

static int streams_closed;
static int state_key_calls;
static int retry_key_calls;
static int retry_chunks_freed;
static int count_key_calls;
static int name_key_calls;
static int deleted_key_calls;
static int counters_freed;

static void bump(int *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static int data_destructor(data_t *d)
{
	if (d->stream != NULL) {
		fclose(d->stream);
		bump(&streams_closed);
	}
	return 0;
}

/* 1: key destructor for the grep-like state */
static void state_destructor(void *value)
{
	bump(&state_key_calls);
	if (talloc_free(value) != 0) {
		abort();
	}
}

/* 3: a destructor that stores a new value once */
static int retry_chunk_destructor(void *p)
{
	(void)p;
	bump(&retry_chunks_freed);
	return 0;
}

static void retry_destructor(void *value)
{
	int *generation = value;
	bump(&retry_key_calls);
	if (*generation == 0) {
		int *next = talloc(NULL, int);
		*next = 1;
		talloc_set_destructor((void *)next, retry_chunk_destructor);
		if (pthread_setspecific(retry_key, next) != 0) {
			abort();
		}
	}
	talloc_free(value);
}

/* 4: two more keys */
static int counter_destructor(void *p)
{
	(void)p;
	bump(&counters_freed);
	return 0;
}

static void count_destructor(void *value)
{
	bump(&count_key_calls);
	talloc_free(value);
}

static void name_destructor(void *value)
{
	bump(&name_key_calls);
	/* the value is a string hanging off a per-thread context: free the
	 * whole context through it */
	talloc_free(talloc_parent(value));
}

static void deleted_destructor(void *value)
{
	(void)value;
	bump(&deleted_key_calls);
}

/* 5: from the seed */
static int swap_specific(pthread_key_t key, void **old_pt, void *new_value)
{
	*old_pt = pthread_getspecific(key);
	if (*old_pt == NULL) {
		return -1;
	}
	return pthread_setspecific(key, new_value);
}

struct job {
	int id;
	int errors;
	void *deleted_value;
};

static void *thread_fn(void *arg)
{
	struct job *job = arg;
	data_t *d;
	int *gen, *counter;
	void *ctx, *old;
	char *name;

	/* 1 */
	d = talloc_zero(NULL, data_t);
	d->owner = job->id;
	d->stream = tmpfile();
	d->buffer = talloc_array(d, char, 256);
	if (d->stream == NULL || d->buffer == NULL) {
		job->errors++;
	}
	talloc_set_destructor(d, data_destructor);
	snprintf(d->buffer, 256, "line from thread %d\n", job->id);
	fputs(d->buffer, d->stream);
	PTHREAD_OK(pthread_setspecific(state_key, d));

	/* 2: every fourth thread cleans up by itself */
	if (job->id % 4 == 0) {
		data_t *mine = pthread_getspecific(state_key);
		if (mine != d || mine->owner != job->id) {
			job->errors++;
		}
		talloc_free(mine);
		PTHREAD_OK(pthread_setspecific(state_key, NULL));
	}

	/* 3 */
	gen = talloc(NULL, int);
	*gen = 0;
	talloc_set_destructor((void *)gen, retry_chunk_destructor);
	PTHREAD_OK(pthread_setspecific(retry_key, gen));

	/* 4 and 5 */
	counter = talloc(NULL, int);
	*counter = 1;
	talloc_set_destructor((void *)counter, counter_destructor);
	PTHREAD_OK(pthread_setspecific(count_key, counter));
	{
		int *newer = talloc(NULL, int);
		*newer = 2;
		talloc_set_destructor((void *)newer, counter_destructor);
		if (swap_specific(count_key, &old, newer) != 0 || old != counter) {
			job->errors++;
		}
		if (pthread_getspecific(count_key) != newer) {
			job->errors++;
		}
		talloc_free(old);
	}
	ctx = talloc_named_const(NULL, 0, "thread name context");
	name = talloc_asprintf(ctx, "worker-%d", job->id);
	PTHREAD_OK(pthread_setspecific(name_key, name));
	if (strcmp(pthread_getspecific(name_key), name) != 0) {
		job->errors++;
	}

	/* 6: the value under the key that main deletes before we exit */
	job->deleted_value = talloc_asprintf(NULL, "deleted-key value %d", job->id);
	PTHREAD_OK(pthread_setspecific(deleted_key, job->deleted_value));

	if (job->id % 2) {
		pthread_exit(NULL);
	}
	return NULL;
}

int main(void)
{
	pthread_t tids[NTHREADS];
	struct job jobs[NTHREADS];
	int self_cleaning = 0;

	talloc_disable_null_tracking();

	PTHREAD_OK(pthread_key_create(&state_key, state_destructor));
	PTHREAD_OK(pthread_key_create(&retry_key, retry_destructor));
	PTHREAD_OK(pthread_key_create(&count_key, count_destructor));
	PTHREAD_OK(pthread_key_create(&name_key, name_destructor));
	PTHREAD_OK(pthread_key_create(&deleted_key, deleted_destructor));

	/* the key is deleted while no thread has exited yet: hold them */
	for (int i = 0; i < NTHREADS; i++) {
		jobs[i].id = i;
		jobs[i].errors = 0;
		jobs[i].deleted_value = NULL;
		self_cleaning += i % 4 == 0;
	}
	/* deleting a key before the threads store values under it would make
	 * their setspecific fail; instead create the threads, wait for them,
	 * and delete the key of an extra round afterwards (below) */
	for (int i = 0; i < NTHREADS; i++) {
		PTHREAD_OK(pthread_create(&tids[i], NULL, thread_fn, &jobs[i]));
	}
	for (int i = 0; i < NTHREADS; i++) {
		PTHREAD_OK(pthread_join(tids[i], NULL));
		CHECK_EQ(jobs[i].errors, 0);
	}

	/* 1 and 2 */
	CHECK_EQ(streams_closed, NTHREADS);
	CHECK_EQ(state_key_calls, NTHREADS - self_cleaning);
	/* 3: two calls per thread, both chunks freed */
	CHECK_EQ(retry_key_calls, 2 * NTHREADS);
	CHECK_EQ(retry_chunks_freed, 2 * NTHREADS);
	/* 4 and 5 */
	CHECK_EQ(count_key_calls, NTHREADS);
	CHECK_EQ(counters_freed, 2 * NTHREADS);
	CHECK_EQ(name_key_calls, NTHREADS);
	/* the deleted_key was still alive: its destructor ran, and it did not
	 * free anything, so the values are still ours to free */
	CHECK_EQ(deleted_key_calls, NTHREADS);
	for (int i = 0; i < NTHREADS; i++) {
		char expect[64];
		snprintf(expect, sizeof(expect), "deleted-key value %d", i);
		CHECK(jobs[i].deleted_value != NULL && strcmp(jobs[i].deleted_value, expect) == 0);
		talloc_free(jobs[i].deleted_value);
	}

	/* 6: pthread_key_delete runs no destructors */
	{
		pthread_t t;
		int before = deleted_key_calls;
		struct job extra = {NTHREADS, 0, NULL};
		PTHREAD_OK(pthread_key_delete(deleted_key));
		PTHREAD_OK(pthread_key_create(&deleted_key, deleted_destructor));
		PTHREAD_OK(pthread_create(&t, NULL, thread_fn, &extra));
		PTHREAD_OK(pthread_join(t, NULL));
		CHECK_EQ(extra.errors, 0);
		CHECK_EQ(deleted_key_calls, before + 1);
		/* a value set, then the key deleted: nothing is called, the
		 * application frees it */
		{
			char *v = talloc_strdup(NULL, "main value");
			int calls = deleted_key_calls;
			PTHREAD_OK(pthread_setspecific(deleted_key, v));
			PTHREAD_OK(pthread_key_delete(deleted_key));
			CHECK_EQ(deleted_key_calls, calls);
			CHECK_EQ(talloc_free(v), 0);
		}
		talloc_free(extra.deleted_value);
	}
	return seed_result("seed_004_tsd_destructors");
}

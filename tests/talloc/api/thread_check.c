/*
 * TALLOC_THREAD_CHECK=1: each talloc threading rule broken on purpose, with
 * the overlap forced by a handshake, and the correct patterns beside them.
 *
 * Built once against Debian's headers (and, when installed, its
 * libtalloc.so.2): run as built it shows what the reference does; run with
 * LD_LIBRARY_PATH on our build it must report every forced overlap.
 *
 * usage: thread_check ours|reference|off overlap|null-tracking|clean
 *   ours       our library, TALLOC_THREAD_CHECK=1: every overlap reported
 *   reference  the reference (or ours with the check off): nothing reported,
 *              every operation done
 * Exit status 0 when every expectation held; one line per failure.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>

#include "../../thread_handshake.h"

static bool expect_reports;

/* What the log function was given, beside the abort function's record. */
static int n_logs;
static char last_log[2048];

static void on_log(const char *message)
{
	pthread_mutex_lock(&said_lock);
	n_logs++;
	snprintf(last_log, sizeof(last_log), "%s", message);
	pthread_mutex_unlock(&said_lock);
}

static bool has_thread(const char *text, int t)
{
	char needle[32];
	snprintf(needle, sizeof(needle), "thread %d ", t);
	return strstr(text, needle) != NULL;
}

/* ---- a thread held inside talloc_free() ----------------------------------
 * The holder frees a child of the parent; the child's destructor tells the
 * main thread it is inside and waits until the main thread is done: for
 * that whole time the holder is inside talloc_free() on the parent's list. */

static int holder_tid;

static void *held_parent;

static int blocking_destructor(void *ptr)
{
	(void)ptr;
	/* Same thread, same parent, inside the outer free: never reported. */
	void *again = talloc_named_const(held_parent, 8, "allocated by the holder");
	if (again == NULL)
		return -1;
	holder_tid = tid();
	hs_set(1);
	hs_wait(2);
	return 0;
}

static void *holder(void *arg)
{
	void *held = arg;
	int ret = talloc_free(held);
	return (void *)(intptr_t)ret;
}

/* Expects one report naming this operation, or none (and `done`). */
static void expect(const char *op, bool done, const char *new_name)
{
	pthread_mutex_lock(&said_lock);
	if (expect_reports) {
		CHECK(!done, "%s: went ahead while another thread was inside", op);
		CHECK(n_aborts == 1, "%s: %d abort calls, expected 1", op, n_aborts);
		CHECK(n_logs == 1, "%s: %d log calls, expected 1 (before the abort)", op, n_logs);
		CHECK(strstr(last_log, last_abort) == last_log, "%s: log [%s] is not the abort reason", op, last_log);
		CHECK(strstr(last_abort, op) != NULL, "%s: not named in [%s]", op, last_abort);
		CHECK(strstr(last_abort, "talloc_free") != NULL, "%s: holder's operation not named in [%s]", op,
		      last_abort);
		CHECK(strstr(last_abort, "\"parent P\"") != NULL, "%s: parent not named in [%s]", op, last_abort);
		CHECK(strstr(last_abort, "\"child C\"") != NULL, "%s: holder's chunk not named in [%s]", op,
		      last_abort);
		CHECK(new_name == NULL || strstr(last_abort, new_name) != NULL, "%s: chunk %s not named in [%s]", op,
		      new_name, last_abort);
		CHECK(has_thread(last_abort, tid()), "%s: this thread (%d) not named in [%s]", op, tid(), last_abort);
		CHECK(has_thread(last_abort, holder_tid), "%s: holder (%d) not named in [%s]", op, holder_tid,
		      last_abort);
		CHECK(strstr(last_abort, "talloc_steal()") != NULL, "%s: no advice in [%s]", op, last_abort);
	} else {
		CHECK(done, "%s: refused", op);
		CHECK(n_aborts == 0 && n_logs == 0, "%s: reported: [%s]", op, last_log);
	}
	n_aborts = n_logs = 0;
	last_log[0] = last_abort[0] = '\0';
	pthread_mutex_unlock(&said_lock);
}

static void case_overlap(void)
{
	void *p = talloc_named_const(NULL, 0, "parent P");
	void *c = talloc_named_const(p, 16, "child C");
	void *d = talloc_named_const(p, 16, "child D");
	void *e = talloc_named_const(p, 16, "child E");
	void *f = talloc_named_const(p, 16, "child F");
	void *g = talloc_named_const(p, 16, "child G");
	void *top = talloc_named_const(NULL, 16, "top X");
	void *q = talloc_named_const(NULL, 0, "other Q");
	held_parent = p;
	talloc_set_destructor(c, blocking_destructor);

	pthread_t th;
	pthread_create(&th, NULL, holder, c);
	hs_wait(1);

	/* Two threads allocating under one parent. */
	void *n = talloc_named_const(p, 16, "new under P");
	expect("talloc_named_const", n != NULL, "new under P");
	char *s = talloc_strdup(p, "string under P");
	expect("talloc_strdup", s != NULL, NULL);
	/* Freeing, stealing into and out of, renaming, reallocating. */
	int r = talloc_free(d);
	expect("talloc_free", r == 0, "child D");
	void *in = talloc_steal(p, top);
	expect("talloc_steal", in != NULL, "top X");
	void *out = talloc_steal(q, e);
	expect("talloc_steal", out != NULL, "child E");
	talloc_set_name_const(f, "renamed F");
	expect("talloc_set_name_const", strcmp(talloc_get_name(f), "renamed F") == 0, "child F");
	void *grown = talloc_realloc_size(p, g, 4096);
	expect("_talloc_realloc", grown != NULL, "child G");

	hs_set(2);
	void *ret;
	pthread_join(th, &ret);
	CHECK((intptr_t)ret == 0, "holder's talloc_free failed");

	/* After the join the parent is this thread's again: handed over. */
	void *later = talloc_named_const(p, 16, "after the join");
	CHECK(later != NULL && n_aborts == 0 && n_logs == 0, "use after the holder left was reported: %s",
	      last_log);
	talloc_free(p);
	talloc_free(q);
	if (expect_reports)
		talloc_free(top);
}

/* Null tracking on: a second thread's top-level chunk is reported once. */
static void *top_level_user(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		void *top = talloc_named_const(NULL, 8, "thread top");
		talloc_free(top);
	}
	return NULL;
}

static void case_null_tracking(void)
{
	talloc_enable_null_tracking();
	for (int round = 0; round < 2; round++) {
		pthread_t th;
		pthread_create(&th, NULL, top_level_user, NULL);
		pthread_join(th, NULL);
	}
	if (expect_reports) {
		CHECK(n_logs == 1, "%d log messages, expected exactly 1", n_logs);
		CHECK(strstr(last_log, "null tracking") != NULL, "not about null tracking: [%s]", last_log);
		CHECK(strstr(last_log, "talloc_disable_null_tracking()") != NULL, "no advice: [%s]", last_log);
		CHECK(strstr(last_log, "\"thread top\"") != NULL, "chunk not named: [%s]", last_log);
	} else {
		CHECK(n_logs == 0, "reported: [%s]", last_log);
	}
	CHECK(n_aborts == 0, "null tracking aborted: [%s]", last_abort);
	talloc_disable_null_tracking();
}

/* ---- correct use: never reported ---------------------------------------- */

/* Seed 000's hand-over: a mutex-guarded pointer and talloc_steal/move. */
enum { kWorkers = 16, kPerWorker = 200 };
static pthread_mutex_t box_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t box_cond = PTHREAD_COND_INITIALIZER;
static void *box;

static void *worker(void *arg)
{
	(void)arg;
	void *top = talloc_named_const(NULL, 0, "worker top");
	for (int i = 0; i < kPerWorker; i++) {
		void *item = talloc_named_const(top, 32, "item");
		talloc_strdup(item, "payload");
		pthread_mutex_lock(&box_lock);
		while (box != NULL)
			pthread_cond_wait(&box_cond, &box_lock);
		box = talloc_move(NULL, &item);
		pthread_cond_broadcast(&box_cond);
		pthread_mutex_unlock(&box_lock);
	}
	talloc_free(top);
	return NULL;
}

static void case_clean(void)
{
	talloc_disable_null_tracking();
	void *mine = talloc_named_const(NULL, 0, "main top");
	pthread_t th[kWorkers];
	for (int i = 0; i < kWorkers; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < kWorkers * kPerWorker; i++) {
		pthread_mutex_lock(&box_lock);
		while (box == NULL)
			pthread_cond_wait(&box_cond, &box_lock);
		(void)talloc_move(mine, &box);
		pthread_cond_broadcast(&box_cond);
		pthread_mutex_unlock(&box_lock);
	}
	for (int i = 0; i < kWorkers; i++)
		pthread_join(th[i], NULL);
	CHECK(talloc_total_blocks(mine) == 1 + 2 * kWorkers * kPerWorker, "lost items: %zu blocks",
	      talloc_total_blocks(mine));
	talloc_free(mine);

	/* A fork while another thread is inside talloc_free() on P: the child
	 * has only the forking thread and may use P. */
	void *p = talloc_named_const(NULL, 0, "parent P");
	void *c = talloc_named_const(p, 16, "child C");
	held_parent = p;
	hs_stage = 0;
	talloc_set_destructor(c, blocking_destructor);
	pthread_t h;
	pthread_create(&h, NULL, holder, c);
	hs_wait(1);
	pid_t child = fork();
	if (child == 0) {
		void *n = talloc_named_const(p, 16, "child process's chunk");
		_exit(n != NULL && n_aborts == 0 && n_logs == 0 ? 0 : 1);
	}
	int status = 0;
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork child reported or failed (status %d)", status);
	hs_set(2);
	pthread_join(h, NULL);
	talloc_free(p);
	CHECK(n_aborts == 0 && n_logs == 0, "correct use reported: [%s]", last_log);
}

static void case_overlap_main(void)
{
	talloc_disable_null_tracking();
	case_overlap();
}

int main(int argc, char **argv)
{
	static const struct tc_case cases[] = {
		{"overlap", case_overlap_main},
		{"null-tracking", case_null_tracking},
		{"clean", case_clean},
	};
	expect_reports = argc > 1 && strcmp(argv[1], "ours") == 0;
	talloc_set_log_fn(on_log);
	talloc_set_abort_fn(on_abort);
	return run_case(cases, 3, argc, argv);
}

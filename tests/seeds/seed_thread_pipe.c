/*
 * Seed 001 ("Tevent with threads"): the main thread's context watches the
 * read side of a pipe; sub-threads, each with a context of its own, write
 * into the pipe and also hand immediates to the main loop through a
 * tevent_threaded_context.  Every byte and every immediate must arrive
 * exactly once, each thread's immediates in the order it sent them.
 *
 * usage: seed_thread_pipe [--threads N] [--bytes K] [--immediates M]
 *                         [--loops L] [--backend NAME]
 * Exit status 0 on success; a line per failure on stderr otherwise.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>
#include <tevent.h>

struct options {
	int threads;
	int bytes;
	int immediates;
	int loops;
	const char *backend;
};

struct job {
	struct master *m;
	int thread;
	int seq;
};

struct worker {
	pthread_t tid;
	struct master *m;
	int index;
	int write_fd;
	struct tevent_threaded_context *tctx;
	/* Created by the main thread, handed over, never touched by it again. */
	struct tevent_immediate **ims;
	struct job *jobs;
	bool ok;
};

struct master {
	struct options opt;
	int read_fd;
	long bytes_read;
	int immediates_run;
	int *next_seq;		/* per thread: the sequence number expected next */
	int errors;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(struct master *m, const char *what)
{
	fprintf(stderr, "seed_thread_pipe: %s\n", what);
	m->errors++;
}

static void pipe_read_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *private_data)
{
	(void)ev;
	(void)fde;
	struct master *m = private_data;
	if ((flags & TEVENT_FD_READ) == 0) {
		fail(m, "fd handler called without TEVENT_FD_READ");
		return;
	}
	char buf[4096];
	ssize_t n = read(m->read_fd, buf, sizeof(buf));
	if (n <= 0) {
		fail(m, "readable pipe gave no data");
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != 'p') {
			fail(m, "unexpected byte in the pipe");
		}
	}
	m->bytes_read += n;
}

static void immediate_handler(struct tevent_context *ev, struct tevent_immediate *im, void *private_data)
{
	(void)ev;
	(void)im;
	struct job *j = private_data;
	struct master *m = j->m;
	if (m->next_seq[j->thread] != j->seq) {
		fail(m, "a thread's immediates ran out of order");
	}
	m->next_seq[j->thread] = j->seq + 1;
	m->immediates_run++;
}

/* A sub-thread's own event loop ticks along while it sends. */
static void tick(struct tevent_context *ev, struct tevent_timer *te, struct timeval t, void *private_data)
{
	(void)ev;
	(void)te;
	(void)t;
	(*(int *)private_data)++;
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	const struct options *o = &w->m->opt;
	struct tevent_context *ev = tevent_context_init(NULL);
	if (ev == NULL) {
		return NULL;
	}
	int ticks = 0;
	int sent_bytes = 0, sent_ims = 0;
	while (sent_bytes < o->bytes || sent_ims < o->immediates) {
		if (sent_bytes < o->bytes) {
			char c = 'p';
			ssize_t r;
			do {
				r = write(w->write_fd, &c, 1);
			} while (r < 0 && errno == EINTR);
			if (r != 1) {
				break;
			}
			sent_bytes++;
		}
		if (sent_ims < o->immediates) {
			tevent_threaded_schedule_immediate(w->tctx, w->ims[sent_ims], immediate_handler,
							   &w->jobs[sent_ims]);
			sent_ims++;
		}
		if ((sent_bytes + sent_ims) % 64 == 0) {
			tevent_add_timer(ev, ev, tevent_timeval_zero(), tick, &ticks);
			tevent_loop_once(ev);
		}
	}
	w->ok = sent_bytes == o->bytes && sent_ims == o->immediates;
	talloc_free(ev);
	return NULL;
}

static int run_once(const struct options *opt)
{
	struct master m = {.opt = *opt};
	struct tevent_context *master_ev = opt->backend != NULL ? tevent_context_init_byname(NULL, opt->backend)
								 : tevent_context_init(NULL);
	if (master_ev == NULL) {
		fprintf(stderr, "seed_thread_pipe: no context for backend %s\n", opt->backend);
		return 1;
	}
	void *mem_ctx = talloc_new(master_ev);
	int pipefds[2];
	if (pipe(pipefds) != 0) {
		perror("pipe");
		return 1;
	}
	m.read_fd = pipefds[0];
	struct tevent_fd *fde = tevent_add_fd(master_ev, mem_ctx, pipefds[0], TEVENT_FD_READ, pipe_read_handler, &m);
	struct tevent_threaded_context *tctx = tevent_threaded_context_create(mem_ctx, master_ev);
	if (fde == NULL || tctx == NULL) {
		fprintf(stderr, "seed_thread_pipe: setup failed\n");
		return 1;
	}
	m.next_seq = talloc_zero_array(mem_ctx, int, opt->threads);
	struct worker *workers = talloc_zero_array(mem_ctx, struct worker, opt->threads);
	for (int t = 0; t < opt->threads; t++) {
		struct worker *w = &workers[t];
		w->m = &m;
		w->index = t;
		w->write_fd = pipefds[1];
		w->tctx = tctx;
		w->ims = talloc_array(mem_ctx, struct tevent_immediate *, opt->immediates);
		w->jobs = talloc_array(mem_ctx, struct job, opt->immediates);
		for (int i = 0; i < opt->immediates; i++) {
			w->ims[i] = tevent_create_immediate(mem_ctx);
			w->jobs[i] = (struct job){.m = &m, .thread = t, .seq = i};
		}
	}
	for (int t = 0; t < opt->threads; t++) {
		if (pthread_create(&workers[t].tid, NULL, worker_fn, &workers[t]) != 0) {
			fprintf(stderr, "seed_thread_pipe: pthread_create failed\n");
			return 1;
		}
	}
	const long want_bytes = (long)opt->threads * opt->bytes;
	const int want_ims = opt->threads * opt->immediates;
	double deadline = now() + 60;
	while ((m.bytes_read < want_bytes || m.immediates_run < want_ims) && now() < deadline) {
		if (tevent_loop_once(master_ev) != 0) {
			fail(&m, "tevent_loop_once failed");
			break;
		}
	}
	for (int t = 0; t < opt->threads; t++) {
		pthread_join(workers[t].tid, NULL);
		if (!workers[t].ok) {
			fail(&m, "a worker could not send everything");
		}
	}
	if (m.bytes_read != want_bytes) {
		fprintf(stderr, "seed_thread_pipe: read %ld bytes, expected %ld\n", m.bytes_read, want_bytes);
		m.errors++;
	}
	if (m.immediates_run != want_ims) {
		fprintf(stderr, "seed_thread_pipe: ran %d immediates, expected %d\n", m.immediates_run, want_ims);
		m.errors++;
	}
	for (int t = 0; t < opt->threads; t++) {
		if (m.next_seq[t] != opt->immediates) {
			fail(&m, "a thread's last immediate is missing");
		}
	}
	/* Cleanup as the seed does it: freeing the context frees everything. */
	talloc_free(master_ev);
	close(pipefds[0]);
	close(pipefds[1]);
	return m.errors == 0 ? 0 : 1;
}

static int parse_int(const char *s, const char *name)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0 || v > 1000000) {
		fprintf(stderr, "seed_thread_pipe: bad %s: %s\n", name, s);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	struct options opt = {.threads = 8, .bytes = 500, .immediates = 500, .loops = 1, .backend = NULL};
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc) {
			fprintf(stderr, "seed_thread_pipe: %s needs a value\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--threads") == 0) {
			opt.threads = parse_int(argv[++i], "thread count");
		} else if (strcmp(argv[i], "--bytes") == 0) {
			opt.bytes = parse_int(argv[++i], "byte count");
		} else if (strcmp(argv[i], "--immediates") == 0) {
			opt.immediates = parse_int(argv[++i], "immediate count");
		} else if (strcmp(argv[i], "--loops") == 0) {
			opt.loops = parse_int(argv[++i], "loop count");
		} else if (strcmp(argv[i], "--backend") == 0) {
			opt.backend = argv[++i];
		} else {
			fprintf(stderr, "seed_thread_pipe: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	/* As the seed says: before any talloc call, from the initial thread. */
	talloc_disable_null_tracking();
	for (int l = 0; l < opt.loops; l++) {
		if (run_once(&opt) != 0) {
			fprintf(stderr, "seed_thread_pipe: failed in run %d of %d\n", l + 1, opt.loops);
			return 1;
		}
	}
	printf("seed_thread_pipe: %d run(s) of %d threads x (%d bytes + %d immediates): ok\n", opt.loops,
	       opt.threads, opt.bytes, opt.immediates);
	return 0;
}

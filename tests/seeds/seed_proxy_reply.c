/*
 * Seed 003 ("Tevent with threads", request/reply): N threads each send M
 * requests to the master's tevent_thread_proxy; the master's handler takes
 * the request data and answers through the requesting thread's proxy,
 * passing back the very immediate it was called with.  Ownership moves with
 * every call: after tevent_thread_proxy_schedule() both *pp_im and
 * *pp_private_data are NULL, and data nobody claims is freed after the
 * handler.
 *
 * That reuse of the handler's own immediate races in the reference library
 * (it touches the immediate after the handler returned, when the other
 * thread may already have freed it): run it there only in a small
 * configuration.  Ours must survive the full 16 x 1000, repeatedly.
 *
 * usage: seed_proxy_reply [--threads N] [--rounds M] [--loops L]
 *                         [--backend NAME] [--reply-im own|fresh]
 * (--reply-im fresh answers with a new immediate: the variant of the
 * pattern that the reference survives at any size.)
 * Exit status 0 on success; a line per failure on stderr otherwise.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <talloc.h>
#include <tevent.h>

struct options {
	int threads;
	int rounds;
	int loops;
	const char *backend;
	bool fresh_reply_im;	/* reply with a new immediate instead */
};

/* Data passed between threads (the seed's reply_state, plus checks). */
struct reply_state {
	struct tevent_thread_proxy *reply_tp;
	pthread_t thread_id;
	bool *p_finished;
	int thread;
	int round;
	bool answered;
};

struct shared {
	struct options opt;
	struct tevent_thread_proxy *master_tp;
	struct tevent_context *master_ev;	/* only for checks in the master */
	int requests_handled;			/* master thread only */
	atomic_int errors;
	atomic_int ready;
};

static struct shared g;

static void fail(const char *what)
{
	fprintf(stderr, "seed_proxy_reply: %s\n", what);
	atomic_fetch_add(&g.errors, 1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Called in the requesting thread with the master's answer. */
static void thread_callback(struct tevent_context *ev, struct tevent_immediate *im, void *private_ptr)
{
	(void)im;
	struct reply_state *rsp = talloc_get_type_abort(private_ptr, struct reply_state);
	/* Claim the data back; the immediate is freed by the library. */
	talloc_steal(ev, rsp);
	if (!rsp->answered) {
		fail("reply without the master's mark");
	}
	if (!pthread_equal(rsp->thread_id, pthread_self())) {
		fail("reply delivered to the wrong thread");
	}
	*rsp->p_finished = true;
}

/* Called in the master thread with a request. */
static void master_callback(struct tevent_context *ev, struct tevent_immediate *im, void *private_ptr)
{
	struct reply_state *rsp = talloc_get_type_abort(private_ptr, struct reply_state);
	if (ev != g.master_ev) {
		fail("request delivered to the wrong context");
	}
	talloc_steal(ev, rsp);
	rsp->answered = true;
	g.requests_handled++;

	/* Reply, reusing the immediate this handler was called with. */
	if (g.opt.fresh_reply_im) {
		im = tevent_create_immediate(NULL);
	}
	tevent_thread_proxy_schedule(rsp->reply_tp, &im, thread_callback, &rsp);
	if (im != NULL || rsp != NULL) {
		fail("tevent_thread_proxy_schedule kept the immediate or the data");
	}
}

struct worker {
	pthread_t tid;
	int index;
	bool ok;
};

static void *thread_fn(void *arg)
{
	struct worker *w = arg;
	bool finished = false;
	struct tevent_context *ev = g.opt.backend != NULL ? tevent_context_init_byname(NULL, g.opt.backend)
							   : tevent_context_init(NULL);
	if (ev == NULL) {
		fail("no event context in a thread");
		return NULL;
	}
	struct tevent_thread_proxy *local_tp = tevent_thread_proxy_create(ev);
	if (local_tp == NULL) {
		fail("no thread proxy in a thread");
		talloc_free(ev);
		return NULL;
	}
	int done = 0;
	for (int r = 0; r < g.opt.rounds; r++) {
		struct reply_state *rsp = talloc(ev, struct reply_state);
		struct tevent_immediate *im = tevent_create_immediate(ev);
		if (rsp == NULL || im == NULL) {
			fail("out of memory");
			break;
		}
		*rsp = (struct reply_state){.reply_tp = local_tp,
					    .thread_id = pthread_self(),
					    .p_finished = &finished,
					    .thread = w->index,
					    .round = r};
		finished = false;
		tevent_thread_proxy_schedule(g.master_tp, &im, master_callback, &rsp);
		if (im != NULL || rsp != NULL) {
			fail("tevent_thread_proxy_schedule kept the immediate or the data");
			break;
		}
		double deadline = now() + 30;
		while (!finished && now() < deadline) {
			tevent_loop_once(ev);
		}
		if (!finished) {
			fail("no reply within 30 seconds");
			break;
		}
		done++;
	}
	w->ok = done == g.opt.rounds;
	/*
	 * The master is done with our proxy only once it handled every
	 * request of every thread; wait for that before freeing it.
	 */
	atomic_fetch_add(&g.ready, 1);
	while (atomic_load(&g.ready) <= g.opt.threads) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	talloc_free(ev);
	return NULL;
}

static int run_once(void)
{
	atomic_store(&g.ready, 0);
	g.requests_handled = 0;
	g.master_ev = g.opt.backend != NULL ? tevent_context_init_byname(NULL, g.opt.backend)
					    : tevent_context_init(NULL);
	if (g.master_ev == NULL) {
		fprintf(stderr, "seed_proxy_reply: no master context\n");
		return 1;
	}
	g.master_tp = tevent_thread_proxy_create(g.master_ev);
	if (g.master_tp == NULL) {
		fprintf(stderr, "seed_proxy_reply: no master proxy\n");
		return 1;
	}
	struct worker *workers = calloc((size_t)g.opt.threads, sizeof(*workers));
	for (int t = 0; t < g.opt.threads; t++) {
		workers[t].index = t;
		if (pthread_create(&workers[t].tid, NULL, thread_fn, &workers[t]) != 0) {
			fprintf(stderr, "seed_proxy_reply: pthread_create failed\n");
			return 1;
		}
	}
	const int want = g.opt.threads * g.opt.rounds;
	double deadline = now() + 120;
	while (g.requests_handled < want && now() < deadline && atomic_load(&g.errors) == 0) {
		tevent_loop_once(g.master_ev);
	}
	if (g.requests_handled != want) {
		fprintf(stderr, "seed_proxy_reply: master handled %d requests, expected %d\n", g.requests_handled,
			want);
		atomic_fetch_add(&g.errors, 1);
	}
	/* Every request was answered: the threads may free their proxies. */
	atomic_fetch_add(&g.ready, 1);
	for (int t = 0; t < g.opt.threads; t++) {
		pthread_join(workers[t].tid, NULL);
		if (!workers[t].ok) {
			fprintf(stderr, "seed_proxy_reply: thread %d did not complete its rounds\n", t);
			atomic_fetch_add(&g.errors, 1);
		}
	}
	free(workers);
	talloc_free(g.master_ev);
	return atomic_load(&g.errors) == 0 ? 0 : 1;
}

static int parse_int(const char *s, const char *name)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > 1000000) {
		fprintf(stderr, "seed_proxy_reply: bad %s: %s\n", name, s);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	g.opt = (struct options){.threads = 16, .rounds = 1000, .loops = 1, .backend = NULL};
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc) {
			fprintf(stderr, "seed_proxy_reply: %s needs a value\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--threads") == 0) {
			g.opt.threads = parse_int(argv[++i], "thread count");
		} else if (strcmp(argv[i], "--rounds") == 0) {
			g.opt.rounds = parse_int(argv[++i], "round count");
		} else if (strcmp(argv[i], "--loops") == 0) {
			g.opt.loops = parse_int(argv[++i], "loop count");
		} else if (strcmp(argv[i], "--backend") == 0) {
			g.opt.backend = argv[++i];
		} else if (strcmp(argv[i], "--reply-im") == 0) {
			i++;
			if (strcmp(argv[i], "own") != 0 && strcmp(argv[i], "fresh") != 0) {
				fprintf(stderr, "seed_proxy_reply: --reply-im takes own or fresh\n");
				return 2;
			}
			g.opt.fresh_reply_im = strcmp(argv[i], "fresh") == 0;
		} else {
			fprintf(stderr, "seed_proxy_reply: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	/* Make talloc thread-safe: before any talloc call. */
	talloc_disable_null_tracking();
	for (int l = 0; l < g.opt.loops; l++) {
		if (run_once() != 0) {
			fprintf(stderr, "seed_proxy_reply: failed in run %d of %d\n", l + 1, g.opt.loops);
			return 1;
		}
	}
	printf("seed_proxy_reply: %d run(s) of %d threads x %d rounds (%s immediate for replies): ok\n",
	       g.opt.loops, g.opt.threads, g.opt.rounds, g.opt.fresh_reply_im ? "fresh" : "own");
	return 0;
}

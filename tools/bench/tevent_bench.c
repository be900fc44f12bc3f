/* tevent workloads for the side-by-side benchmark (tools/bench/run.py).
 * Built once against Debian's tevent headers; the runner runs the same
 * binary on the reference libraries and, through LD_LIBRARY_PATH, on ours.
 * Prints one "name value unit" line per workload: seconds, or a checksum.
 *
 * usage: tevent_bench [SCALE]            all workloads
 *        tevent_bench curve COUNT...     timers_add_COUNT for each count */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <talloc.h>
#include <tevent.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "tevent_bench: %s failed\n", what);
	exit(1);
}

/* A fixed pseudo-random sequence, the same on both libraries. */
static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

/* ---- immediate rescheduling itself ------------------------------------ */

static long imm_count, imm_target;

static void imm_handler(struct tevent_context *ev, struct tevent_immediate *im, void *pd)
{
	if (++imm_count < imm_target) tevent_schedule_immediate(im, ev, imm_handler, pd);
}

static double immediate_resched(struct tevent_context *ev, long n)
{
	struct tevent_immediate *im = tevent_create_immediate(ev);
	imm_count = 0;
	imm_target = n;
	double t = now();
	tevent_schedule_immediate(im, ev, imm_handler, NULL);
	while (imm_count < imm_target) tevent_loop_once(ev);
	t = now() - t;
	talloc_free(im);
	return t;
}

/* ---- timers --------------------------------------------------------------- */

/* Deadlines are drawn from 1000 distinct values, so many timers share one:
 * equal deadlines must fire in the order they were added. */
static struct timeval random_deadline(struct timeval base)
{
	return tevent_timeval_add(&base, 0, (rng() % 1000) * 1000);
}

static void never_fires(struct tevent_context *ev, struct tevent_timer *te, struct timeval t, void *pd)
{
	(void)ev; (void)te; (void)t; (void)pd;
	die("a future timer fired");
}

static double timers_add(struct tevent_context *ev, int count)
{
	void *ctx = talloc_new(NULL);
	struct timeval base = tevent_timeval_current_ofs(3600, 0);
	rng_state = 777;
	double t = now();
	for (int i = 0; i < count; i++) {
		if (tevent_add_timer(ev, ctx, random_deadline(base), never_fires, NULL) == NULL) die("tevent_add_timer");
	}
	t = now() - t;
	talloc_free(ctx);
	return t;
}

static int fired;
static uint64_t order_hash;

static void record_fire(struct tevent_context *ev, struct tevent_timer *te, struct timeval t, void *pd)
{
	(void)ev; (void)te; (void)t;
	/* FNV-1a over the ids in firing order */
	uint64_t id = (uintptr_t)pd;
	for (int b = 0; b < 4; b++) {
		order_hash ^= (id >> (8 * b)) & 0xff;
		order_hash *= 1099511628211ull;
	}
	fired++;
}

/* Adds `count` timers that are all due already, in random order of
 * deadline, then runs the loop until every one has fired. */
static void timers_fire(struct tevent_context *ev, int count, double *add_s, double *fire_s)
{
	struct timeval base = tevent_timeval_current();
	base.tv_sec -= 100;   /* (the _ofs helpers take unsigned offsets) */
	rng_state = 4242;
	fired = 0;
	order_hash = 14695981039346656037ull;
	double t0 = now();
	for (int i = 0; i < count; i++) {
		if (tevent_add_timer(ev, ev, random_deadline(base), record_fire, (void *)(uintptr_t)i) == NULL)
			die("tevent_add_timer");
	}
	double t1 = now();
	while (fired < count) tevent_loop_once(ev);
	double t2 = now();
	*add_s = t1 - t0;
	*fire_s = t2 - t1;
}

/* ---- fd ping-pong ------------------------------------------------------- */

struct pingpong {
	int a[2], b[2];
	long count, target;
};

static void pp_a(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *pd)
{
	struct pingpong *pp = pd;
	char c;
	(void)ev; (void)fde; (void)flags;
	if (read(pp->a[0], &c, 1) != 1) die("read");
	if (write(pp->b[1], &c, 1) != 1) die("write");
}

static void pp_b(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *pd)
{
	struct pingpong *pp = pd;
	char c;
	(void)ev; (void)fde; (void)flags;
	if (read(pp->b[0], &c, 1) != 1) die("read");
	if (++pp->count < pp->target && write(pp->a[1], &c, 1) != 1) die("write");
}

static double fd_pingpong(long n, int idle)
{
	struct tevent_context *ev = tevent_context_init(NULL);
	if (ev == NULL) die("tevent_context_init");
	int *idle_fds = calloc(idle > 0 ? idle : 1, sizeof(int));
	for (int i = 0; i < idle; i++) {
		/* an eventfd at zero never becomes readable */
		idle_fds[i] = eventfd(0, EFD_CLOEXEC);
		if (idle_fds[i] < 0) die("eventfd");
		if (tevent_add_fd(ev, ev, idle_fds[i], TEVENT_FD_READ, pp_a, NULL) == NULL) die("tevent_add_fd");
	}
	struct pingpong pp = {.count = 0, .target = n};
	if (pipe(pp.a) != 0 || pipe(pp.b) != 0) die("pipe");
	tevent_add_fd(ev, ev, pp.a[0], TEVENT_FD_READ, pp_a, &pp);
	tevent_add_fd(ev, ev, pp.b[0], TEVENT_FD_READ, pp_b, &pp);
	double t = now();
	if (write(pp.a[1], "x", 1) != 1) die("write");
	while (pp.count < pp.target) tevent_loop_once(ev);
	t = now() - t;
	talloc_free(ev);
	for (int i = 0; i < 2; i++) {
		close(pp.a[i]);
		close(pp.b[i]);
	}
	for (int i = 0; i < idle; i++) close(idle_fds[i]);
	free(idle_fds);
	return t;
}

/* The same ping-pong with no event library at all: epoll_wait for one event,
 * then the handler's read and write.  These are the system calls any
 * level-triggered loop needs per hop, so this time bounds how much faster
 * than the reference any implementation can be.  The wait is the cheapest
 * one that finds a ready descriptor: without a deadline (a finite timeout,
 * such as tevent's 30 s when no timer is due, makes the kernel read its
 * clock twice per call). */
static double fd_pingpong_floor(long n)
{
	struct pingpong pp = {.count = 0, .target = n};
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || pipe(pp.a) != 0 || pipe(pp.b) != 0) die("epoll/pipe");
	struct epoll_event ea = {.events = EPOLLIN, .data.fd = pp.a[0]};
	struct epoll_event eb = {.events = EPOLLIN, .data.fd = pp.b[0]};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, pp.a[0], &ea) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, pp.b[0], &eb) != 0)
		die("epoll_ctl");
	double t = now();
	if (write(pp.a[1], "x", 1) != 1) die("write");
	while (pp.count < pp.target) {
		struct epoll_event ready;
		if (epoll_wait(ep, &ready, 1, 0) != 1) die("epoll_wait");
		if (ready.data.fd == pp.a[0]) pp_a(NULL, NULL, 0, &pp);
		else pp_b(NULL, NULL, 0, &pp);
	}
	t = now() - t;
	close(ep);
	for (int i = 0; i < 2; i++) {
		close(pp.a[i]);
		close(pp.b[i]);
	}
	return t;
}

/* ---- immediates scheduled from another thread ------------------------- */

struct threaded_job {
	struct tevent_threaded_context *tctx;
	struct tevent_immediate **ims;
	long n;
};

static long threaded_done;

static void threaded_handler(struct tevent_context *ev, struct tevent_immediate *im, void *pd)
{
	(void)ev; (void)im; (void)pd;
	threaded_done++;
}

static void *threaded_producer(void *arg)
{
	struct threaded_job *job = arg;
	for (long i = 0; i < job->n; i++) tevent_threaded_schedule_immediate(job->tctx, job->ims[i], threaded_handler, NULL);
	return NULL;
}

static double threaded_immediates(long n)
{
	struct tevent_context *ev = tevent_context_init(NULL);
	if (ev == NULL) die("tevent_context_init");
	struct threaded_job job = {.n = n};
	job.tctx = tevent_threaded_context_create(ev, ev);
	if (job.tctx == NULL) die("tevent_threaded_context_create");
	job.ims = talloc_array(ev, struct tevent_immediate *, n);
	for (long i = 0; i < n; i++) job.ims[i] = tevent_create_immediate(job.ims);
	threaded_done = 0;
	pthread_t th;
	double t = now();
	if (pthread_create(&th, NULL, threaded_producer, &job) != 0) die("pthread_create");
	while (threaded_done < n) tevent_loop_once(ev);
	t = now() - t;
	pthread_join(th, NULL);
	talloc_free(ev);
	return t;
}

/* ---- request/reply through thread proxies ----------------------------- */

struct proxy_pair {
	struct tevent_thread_proxy *to_main, *to_worker;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int worker_ready, worker_stop;
	long replies, target;
};

static struct proxy_pair proxies;

static void on_reply(struct tevent_context *ev, struct tevent_immediate *im, void *pd);

static void send_to(struct tevent_thread_proxy *tp, tevent_immediate_handler_t handler)
{
	struct tevent_immediate *im = tevent_create_immediate(NULL);
	if (im == NULL) die("tevent_create_immediate");
	tevent_thread_proxy_schedule(tp, &im, handler, NULL);
}

/* runs on the worker */
static void on_request(struct tevent_context *ev, struct tevent_immediate *im, void *pd)
{
	(void)ev; (void)im; (void)pd;
	send_to(proxies.to_main, on_reply);
}

static void on_stop(struct tevent_context *ev, struct tevent_immediate *im, void *pd)
{
	(void)ev; (void)im; (void)pd;
	proxies.worker_stop = 1;
}

/* runs on the main thread */
static void on_reply(struct tevent_context *ev, struct tevent_immediate *im, void *pd)
{
	(void)ev; (void)im; (void)pd;
	if (++proxies.replies < proxies.target) send_to(proxies.to_worker, on_request);
}

static void *proxy_worker(void *arg)
{
	(void)arg;
	struct tevent_context *ev = tevent_context_init(NULL);
	if (ev == NULL) die("tevent_context_init");
	struct tevent_thread_proxy *tp = tevent_thread_proxy_create(ev);
	if (tp == NULL) die("tevent_thread_proxy_create");
	pthread_mutex_lock(&proxies.lock);
	proxies.to_worker = tp;
	proxies.worker_ready = 1;
	pthread_cond_signal(&proxies.cond);
	pthread_mutex_unlock(&proxies.lock);
	while (!proxies.worker_stop) tevent_loop_once(ev);
	talloc_free(ev);
	return NULL;
}

static double proxy_roundtrips(long n)
{
	struct tevent_context *ev = tevent_context_init(NULL);
	if (ev == NULL) die("tevent_context_init");
	pthread_mutex_init(&proxies.lock, NULL);
	pthread_cond_init(&proxies.cond, NULL);
	proxies.to_main = tevent_thread_proxy_create(ev);
	if (proxies.to_main == NULL) die("tevent_thread_proxy_create");
	proxies.worker_ready = proxies.worker_stop = 0;
	proxies.replies = 0;
	proxies.target = n;
	pthread_t th;
	if (pthread_create(&th, NULL, proxy_worker, NULL) != 0) die("pthread_create");
	pthread_mutex_lock(&proxies.lock);
	while (!proxies.worker_ready) pthread_cond_wait(&proxies.cond, &proxies.lock);
	pthread_mutex_unlock(&proxies.lock);
	double t = now();
	send_to(proxies.to_worker, on_request);
	while (proxies.replies < proxies.target) tevent_loop_once(ev);
	t = now() - t;
	send_to(proxies.to_worker, on_stop);
	pthread_join(th, NULL);
	talloc_free(ev);
	return t;
}

int main(int argc, char **argv)
{
	/* 1000 idle descriptors and a few more must fit */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	talloc_disable_null_tracking();
	struct tevent_context *ev = tevent_context_init(NULL);
	if (ev == NULL) die("tevent_context_init");

	if (argc > 1 && strcmp(argv[1], "curve") == 0) {
		for (int i = 2; i < argc; i++) {
			int count = atoi(argv[i]);
			printf("timers_add_%d %.6f s\n", count, timers_add(ev, count));
		}
		talloc_free(ev);
		return 0;
	}

	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	long n = (long)(1000000 * scale);
	int timers = (int)(20000 * (scale < 1 ? scale : 1));
	if (timers < 100) timers = 100;

	printf("immediate_resched %.6f s\n", immediate_resched(ev, n));
	printf("timers_add_20k %.6f s\n", timers_add(ev, timers));
	double add_s, fire_s;
	timers_fire(ev, timers, &add_s, &fire_s);
	printf("timers_due_add_fire_20k %.6f s\n", add_s + fire_s);
	printf("timers_due_fire_only_20k %.6f s\n", fire_s);
	printf("timers_fire_order %llu hash\n", (unsigned long long)order_hash);
	talloc_free(ev);

	printf("fd_pingpong %.6f s\n", fd_pingpong(n / 10, 0));
	printf("fd_pingpong_1000_idle %.6f s\n", fd_pingpong(n / 10, 1000));
	printf("fd_pingpong_no_library %.6f s\n", fd_pingpong_floor(n / 10));
	printf("threaded_immediates %.6f s\n", threaded_immediates(n / 5));
	printf("proxy_roundtrips %.6f s\n", proxy_roundtrips(n / 20));
	return 0;
}

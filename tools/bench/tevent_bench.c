/* tevent benchmark matrix for the side-by-side runner (tools/bench/run.py).
 *
 * Built once against Debian's tevent headers; the runner runs the same binary
 * on the reference libraries and, through LD_LIBRARY_PATH, on ours.  Every
 * row prints "name seconds checksum"; the checksum counts handler calls or
 * hashes the order timers fired in, so both libraries must agree on it.
 * "fd_floor_..." rows do the same ping-pong with no event library at all.
 *
 * usage: tevent_bench [SCALE [SUBSTRING]]   rows whose name contains SUBSTRING
 *        tevent_bench list                  row names
 *        tevent_bench curve COUNT...        timers_add_random_COUNT per count
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <talloc.h>

#include "matrix.h"
#include <tevent.h>
#include <time.h>
#include <unistd.h>



static void die(const char *what)
{
	fprintf(stderr, "tevent_bench: %s failed\n", what);
	exit(1);
}

static struct tevent_context *new_ev(void)
{
	struct tevent_context *ev = tevent_context_init(NULL);
	if (ev == NULL) die("tevent_context_init");
	return ev;
}

/* A fixed pseudo-random sequence, the same on both libraries. */
static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}


/* ---- immediates ------------------------------------------------------------- */

static long imm_count, imm_target;

static void imm_handler(struct tevent_context *ev, struct tevent_immediate *im, void *pd)
{
	if (++imm_count < imm_target) tevent_schedule_immediate(im, ev, imm_handler, pd);
}

/* one immediate rescheduling itself n times */
static sum_t immediate_resched(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	struct tevent_context *ev = new_ev();
	struct tevent_immediate *im = tevent_create_immediate(ev);
	imm_count = 0;
	imm_target = n;
	tevent_schedule_immediate(im, ev, imm_handler, NULL);
	while (imm_count < imm_target) tevent_loop_once(ev);
	talloc_free(ev);
	return imm_count;
}

static void count_handler(struct tevent_context *ev, struct tevent_immediate *im, void *pd)
{
	(void)ev; (void)im;
	(*(long *)pd)++;
}

/* `batch` immediates scheduled at once, the loop run until all ran */
static sum_t immediate_batch(long n, long batch, long unused)
{
	(void)unused;
	struct tevent_context *ev = new_ev();
	struct tevent_immediate **ims = talloc_array(ev, struct tevent_immediate *, batch);
	for (long i = 0; i < batch; i++) ims[i] = tevent_create_immediate(ims);
	long done = 0;
	for (long r = 0; r < n / batch; r++) {
		long want = done + batch;
		for (long i = 0; i < batch; i++) tevent_schedule_immediate(ims[i], ev, count_handler, &done);
		while (done < want) tevent_loop_once(ev);
	}
	talloc_free(ev);
	return done;
}

/* create an immediate, schedule it, free it before it runs */
static sum_t immediate_cancel(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	struct tevent_context *ev = new_ev();
	long done = 0;
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		struct tevent_immediate *im = tevent_create_immediate(ev);
		tevent_schedule_immediate(im, ev, count_handler, &done);
		h += talloc_free(im) == 0;
	}
	talloc_free(ev);
	return h + done;   /* done stays 0: none may run */
}

/* ---- timers --------------------------------------------------------------- */

static void never_fires(struct tevent_context *ev, struct tevent_timer *te, struct timeval t, void *pd)
{
	(void)ev; (void)te; (void)t; (void)pd;
	die("a future timer fired");
}

/* Deadlines: random ones are drawn from 1000 distinct values, so that many
 * timers share one (equal deadlines fire in the order they were added);
 * ordered ones rise by a microsecond per timer. */
static struct timeval deadline(struct timeval base, int random_order, long i)
{
	if (random_order) return tevent_timeval_add(&base, 0, (rng() % 1000) * 1000);
	return tevent_timeval_add(&base, i / 1000000, i % 1000000);
}

/* `count` future timers added (timed), then freed (not timed) */
static sum_t timers_add(long n, long count, long random_order)
{
	(void)n;
	struct tevent_context *ev = new_ev();
	void *ctx = talloc_new(NULL);
	struct timeval base = tevent_timeval_current_ofs(3600, 0);
	rng_state = 777;
	sum_t h = 0;
	double t = now();
	for (long i = 0; i < count; i++)
		h += tevent_add_timer(ev, ctx, deadline(base, random_order, i), never_fires, NULL) != NULL;
	timed_part = now() - t;
	talloc_free(ctx);
	talloc_free(ev);
	return h;
}

/* a window of 1000 future timers: add one, free the oldest (a request's
 * timeout added and cancelled when the request finishes), n times */
static sum_t timers_add_cancel(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	struct tevent_context *ev = new_ev();
	struct tevent_timer *window[1000] = {0};
	struct timeval base = tevent_timeval_current_ofs(3600, 0);
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		struct tevent_timer **slot = &window[i % 1000];
		if (*slot != NULL) h += talloc_free(*slot) == 0;
		*slot = tevent_add_timer(ev, ev, deadline(base, 0, i), never_fires, NULL);
	}
	talloc_free(ev);
	return h;
}

/* `count` future timers, each moved by tevent_update_timer (timed) to a new
 * random deadline, or to a later one in order */
static sum_t timers_update(long n, long count, long random_order)
{
	(void)n;
	struct tevent_context *ev = new_ev();
	struct timeval base = tevent_timeval_current_ofs(3600, 0);
	struct tevent_timer **tes = talloc_array(ev, struct tevent_timer *, count);
	rng_state = 99;
	for (long i = 0; i < count; i++) tes[i] = tevent_add_timer(ev, ev, deadline(base, random_order, i), never_fires, NULL);
	struct timeval later = tevent_timeval_add(&base, 10, 0);
	double t = now();
	for (long i = 0; i < count; i++) tevent_update_timer(tes[i], deadline(random_order ? base : later, random_order, i));
	timed_part = now() - t;
	talloc_free(ev);
	return count;
}

static long fired;
static uint64_t order_hash;

static void record_fire(struct tevent_context *ev, struct tevent_timer *te, struct timeval t, void *pd)
{
	(void)ev; (void)te; (void)t;
	uint64_t id = (uintptr_t)pd;   /* FNV-1a over the ids in firing order */
	for (int b = 0; b < 4; b++) {
		order_hash ^= (id >> (8 * b)) & 0xff;
		order_hash *= 1099511628211ull;
	}
	fired++;
}

/* `count` timers all due already added (random or ordered deadlines), then
 * the loop run until every one fired.  fire_only: time the firing only. */
static sum_t timers_fire(long n, long count, long mode)
{
	(void)n;
	int random_order = mode & 1, fire_only = mode & 2;
	struct tevent_context *ev = new_ev();
	struct timeval base = tevent_timeval_current();
	base.tv_sec -= 100;   /* (the _ofs helpers take unsigned offsets) */
	rng_state = 4242;
	fired = 0;
	order_hash = 14695981039346656037ull;
	double t0 = now();
	for (long i = 0; i < count; i++) {
		if (tevent_add_timer(ev, ev, deadline(base, random_order, i), record_fire, (void *)(uintptr_t)i) == NULL)
			die("tevent_add_timer");
	}
	double t1 = now();
	while (fired < count) tevent_loop_once(ev);
	timed_part = now() - (fire_only ? t1 : t0);
	talloc_free(ev);
	return order_hash;
}

/* ---- fd events ------------------------------------------------------------ */

struct pingpong {
	int a[2], b[2];
	long count, target;
	struct tevent_fd *toggled;   /* if set, flags flipped and back per hop */
};

static void pp_a(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *pd)
{
	struct pingpong *pp = pd;
	char c;
	(void)ev; (void)fde; (void)flags;
	if (read(pp->a[0], &c, 1) != 1) die("read");
	if (pp->toggled != NULL) {
		/* a change that cancels out before the next wait */
		tevent_fd_set_flags(pp->toggled, TEVENT_FD_READ | TEVENT_FD_WRITE);
		tevent_fd_set_flags(pp->toggled, TEVENT_FD_READ);
	}
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

static void idle_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *pd)
{
	(void)ev; (void)fde; (void)flags; (void)pd;
	die("an idle descriptor became ready");
}

/* n one-byte round trips between two pipes, with `idle` descriptors that
 * never become ready; toggle: a third descriptor's flags flipped and back
 * in every hop */
static sum_t fd_pingpong(long n, long idle, long toggle)
{
	struct tevent_context *ev = new_ev();
	int *idle_fds = calloc(idle > 0 ? idle : 1, sizeof(int));
	for (long i = 0; i < idle; i++) {
		idle_fds[i] = eventfd(0, EFD_CLOEXEC);   /* at zero: never readable */
		if (idle_fds[i] < 0) die("eventfd");
		if (tevent_add_fd(ev, ev, idle_fds[i], TEVENT_FD_READ, idle_handler, NULL) == NULL) die("tevent_add_fd");
	}
	struct pingpong pp = {.count = 0, .target = n};
	if (pipe(pp.a) != 0 || pipe(pp.b) != 0) die("pipe");
	int quiet[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, quiet) != 0) die("socketpair");
	if (toggle) pp.toggled = tevent_add_fd(ev, ev, quiet[0], TEVENT_FD_READ, idle_handler, NULL);
	tevent_add_fd(ev, ev, pp.a[0], TEVENT_FD_READ, pp_a, &pp);
	tevent_add_fd(ev, ev, pp.b[0], TEVENT_FD_READ, pp_b, &pp);
	double t = now();
	if (write(pp.a[1], "x", 1) != 1) die("write");
	while (pp.count < pp.target) tevent_loop_once(ev);
	timed_part = now() - t;
	talloc_free(ev);
	for (int i = 0; i < 2; i++) {
		close(pp.a[i]);
		close(pp.b[i]);
		close(quiet[i]);
	}
	for (long i = 0; i < idle; i++) close(idle_fds[i]);
	free(idle_fds);
	return pp.count;
}

/* The same ping-pong with no event library: epoll_wait for one event, then
 * the handler's read and write, the system calls any level-triggered loop
 * needs per hop.  The wait is the cheapest that finds a ready descriptor
 * (no deadline: a finite timeout, such as tevent's 30 s when no timer is
 * due, makes the kernel read its clock twice per call). */
static sum_t fd_floor(long n, long idle, long unused)
{
	(void)unused;
	struct pingpong pp = {.count = 0, .target = n};
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || pipe(pp.a) != 0 || pipe(pp.b) != 0) die("epoll/pipe");
	int *idle_fds = calloc(idle > 0 ? idle : 1, sizeof(int));
	for (long i = 0; i < idle; i++) {
		idle_fds[i] = eventfd(0, EFD_CLOEXEC);
		struct epoll_event e = {.events = EPOLLIN, .data.fd = idle_fds[i]};
		if (idle_fds[i] < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, idle_fds[i], &e) != 0) die("idle fd");
	}
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
	timed_part = now() - t;
	close(ep);
	for (int i = 0; i < 2; i++) {
		close(pp.a[i]);
		close(pp.b[i]);
	}
	for (long i = 0; i < idle; i++) close(idle_fds[i]);
	free(idle_fds);
	return pp.count;
}

static long ready_calls;

static void count_ready(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *pd)
{
	(void)ev; (void)fde; (void)pd;
	ready_calls += (flags & TEVENT_FD_READ) != 0;
}

/* `k` descriptors all readable at once (a byte left unread in each); the
 * loop run until n handler calls */
static sum_t fd_many_ready(long n, long k, long unused)
{
	(void)unused;
	struct tevent_context *ev = new_ev();
	int (*pairs)[2] = calloc(k, sizeof(*pairs));
	for (long i = 0; i < k; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]) != 0) die("socketpair");
		if (write(pairs[i][1], "r", 1) != 1) die("write");
		tevent_add_fd(ev, ev, pairs[i][0], TEVENT_FD_READ, count_ready, NULL);
	}
	ready_calls = 0;
	double t = now();
	while (ready_calls < n) tevent_loop_once(ev);
	timed_part = now() - t;
	talloc_free(ev);
	for (long i = 0; i < k; i++) {
		close(pairs[i][0]);
		close(pairs[i][1]);
	}
	free(pairs);
	return ready_calls >= n;
}

/* Samba's way of writing: a connection's descriptor waits for READ; when
 * there is something to send, WRITE is added, the writable handler sends
 * and drops WRITE again.  Here the peer's read handler queues the next
 * message, n messages. */
struct conn {
	int s[2];
	struct tevent_fd *ours, *peer;
	long sent, got, target;
};

static void conn_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *pd)
{
	struct conn *c = pd;
	(void)ev;
	if (flags & TEVENT_FD_WRITE) {
		if (write(c->s[0], "m", 1) != 1) die("write");
		c->sent++;
		TEVENT_FD_NOT_WRITEABLE(fde);
	}
}

static void peer_handler(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *pd)
{
	struct conn *c = pd;
	char m;
	(void)ev; (void)fde; (void)flags;
	if (read(c->s[1], &m, 1) != 1) die("read");
	if (++c->got < c->target) TEVENT_FD_WRITEABLE(c->ours);
}

static sum_t fd_flags_write_on_off(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	struct tevent_context *ev = new_ev();
	struct conn c = {.target = n};
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, c.s) != 0) die("socketpair");
	c.ours = tevent_add_fd(ev, ev, c.s[0], TEVENT_FD_READ, conn_handler, &c);
	c.peer = tevent_add_fd(ev, ev, c.s[1], TEVENT_FD_READ, peer_handler, &c);
	double t = now();
	TEVENT_FD_WRITEABLE(c.ours);
	while (c.got < c.target) tevent_loop_once(ev);
	timed_part = now() - t;
	talloc_free(ev);
	close(c.s[0]);
	close(c.s[1]);
	return c.sent + c.got;
}

/* an fd event added and freed again (registration churn) */
static sum_t fd_add_free(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	struct tevent_context *ev = new_ev();
	int s[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0) die("socketpair");
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		struct tevent_fd *fde = tevent_add_fd(ev, ev, s[0], TEVENT_FD_READ, idle_handler, NULL);
		h += tevent_fd_get_flags(fde);
		talloc_free(fde);
	}
	talloc_free(ev);
	close(s[0]);
	close(s[1]);
	return h;
}

/* ---- signals ----------------------------------------------------------------- */

static long signals_seen;

static void on_signal(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *siginfo,
		      void *pd)
{
	(void)ev; (void)se; (void)signum; (void)siginfo; (void)pd;
	signals_seen += count;
}

/* raise SIGUSR1, run the loop until its handler ran, n times */
static sum_t signals(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	struct tevent_context *ev = new_ev();
	if (tevent_add_signal(ev, ev, SIGUSR1, 0, on_signal, NULL) == NULL) die("tevent_add_signal");
	signals_seen = 0;
	for (long i = 0; i < n; i++) {
		kill(getpid(), SIGUSR1);
		while (signals_seen <= i) tevent_loop_once(ev);
	}
	talloc_free(ev);
	return signals_seen;
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

static sum_t threaded_immediates(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	struct tevent_context *ev = new_ev();
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
	timed_part = now() - t;
	pthread_join(th, NULL);
	talloc_free(ev);
	return threaded_done;
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

static void on_request(struct tevent_context *ev, struct tevent_immediate *im, void *pd)   /* worker */
{
	(void)ev; (void)im; (void)pd;
	send_to(proxies.to_main, on_reply);
}

static void on_stop(struct tevent_context *ev, struct tevent_immediate *im, void *pd)
{
	(void)ev; (void)im; (void)pd;
	proxies.worker_stop = 1;
}

static void on_reply(struct tevent_context *ev, struct tevent_immediate *im, void *pd)   /* main */
{
	(void)ev; (void)im; (void)pd;
	if (++proxies.replies < proxies.target) send_to(proxies.to_worker, on_request);
}

static void *proxy_worker(void *arg)
{
	(void)arg;
	struct tevent_context *ev = new_ev();
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

static sum_t proxy_roundtrips(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	struct tevent_context *ev = new_ev();
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
	timed_part = now() - t;
	send_to(proxies.to_worker, on_stop);
	pthread_join(th, NULL);
	talloc_free(ev);
	return proxies.replies;
}

/* ---- tevent_req ------------------------------------------------------------ */

struct req_state {
	long depth;
	struct tevent_req *sub;
	char payload[40];
};

static void chain_done(struct tevent_req *subreq);

/* a request `depth` levels deep: each level waits for the one below; the
 * innermost is done at once and posted (its callback runs from the loop) */
static struct tevent_req *chain_send(void *mem, struct tevent_context *ev, long depth, int endtime)
{
	struct req_state *state;
	struct tevent_req *req = tevent_req_create(mem, &state, struct req_state);
	if (req == NULL) die("tevent_req_create");
	state->depth = depth;
	if (endtime && !tevent_req_set_endtime(req, ev, tevent_timeval_current_ofs(30, 0))) die("set_endtime");
	if (depth <= 1) {
		tevent_req_done(req);
		return tevent_req_post(req, ev);
	}
	struct tevent_req *subreq = chain_send(state, ev, depth - 1, endtime);
	tevent_req_set_callback(subreq, chain_done, req);
	return req;
}

static int chain_recv(struct tevent_req *req)
{
	enum tevent_req_state st;
	uint64_t err;
	int ret = tevent_req_is_error(req, &st, &err) ? -1 : 0;
	tevent_req_received(req);
	return ret;
}

static void chain_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	int ret = chain_recv(subreq);
	talloc_free(subreq);
	if (ret != 0) {
		tevent_req_error(req, EIO);
		return;
	}
	tevent_req_done(req);
}

static long chains_done;

static void outer_done(struct tevent_req *req)
{
	chains_done += chain_recv(req) == 0;
	talloc_free(req);
}

/* n requests `depth` deep, one after another: send, loop, receive */
static sum_t req_chain(long n, long depth, long endtime)
{
	struct tevent_context *ev = new_ev();
	chains_done = 0;
	for (long i = 0; i < n; i++) {
		struct tevent_req *req = chain_send(ev, ev, depth, (int)endtime);
		tevent_req_set_callback(req, outer_done, NULL);
		while (chains_done <= i) tevent_loop_once(ev);
	}
	talloc_free(ev);
	return chains_done;
}

/* tevent_req_create + talloc_free, no loop */
static sum_t req_create_free(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	struct tevent_context *ev = new_ev();
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		struct req_state *state;
		struct tevent_req *req = tevent_req_create(ev, &state, struct req_state);
		h += tevent_req_is_in_progress(req);
		talloc_free(req);
	}
	talloc_free(ev);
	return h;
}

/* ---- contexts --------------------------------------------------------------- */

static sum_t context_init_free(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		struct tevent_context *ev = new_ev();
		h += talloc_free(ev) == 0;
	}
	return h;
}

/* ---- the matrix ---------------------------------------------------------------- */

static long scaled(long v, double scale, long min)
{
	long s = (long)(v * scale);
	return s < min ? min : s;
}

static void build_matrix(double scale)
{
	char name[48];
	long M = scaled(1000000, scale, 1000);
	/* the shapes (how many timers) shrink only at smoke scales */
	double shape = scale < 0.1 ? scale : 1;
	add("immediate_resched", immediate_resched, M, 0, 0, 0);
	add("immediate_batch_1000", immediate_batch, M, 1000, 0, 0);
	add("immediate_create_cancel", immediate_cancel, M, 0, 0, 0);
	/* (random order stops at 20k: the reference's insert is linear, 100k
	 * would take it half a minute, 1M hours) */
	static const long random_counts[] = {1000, 10000, 20000};
	static const long ordered_counts[] = {1000, 100000, 1000000};
	static const char *const ordered_labels[] = {"1k", "100k", "1m"};
	for (int i = 0; i < 3; i++) {
		long c = scaled(random_counts[i], shape, 100);
		snprintf(name, sizeof(name), "timers_add_random_%ldk", random_counts[i] / 1000);
		add(name, timers_add, 0, c, 1, 1);
	}
	for (int i = 0; i < 3; i++) {
		long c = scaled(ordered_counts[i], shape, 100);
		snprintf(name, sizeof(name), "timers_add_ordered_%s", ordered_labels[i]);
		add(name, timers_add, 0, c, 0, 1);
	}
	add("timers_add_cancel_window1000", timers_add_cancel, M, 0, 0, 0);
	add("timers_update_random_1k", timers_update, 0, scaled(1000, shape, 100), 1, 1);
	add("timers_update_random_20k", timers_update, 0, scaled(20000, shape, 100), 1, 1);
	add("timers_update_ordered_100k", timers_update, 0, scaled(100000, shape, 100), 0, 1);
	for (int i = 0; i < 3; i++) {
		long c = scaled(random_counts[i], shape, 100);
		snprintf(name, sizeof(name), "timers_add_fire_random_%ldk", random_counts[i] / 1000);
		add(name, timers_fire, 0, c, 1, 1);
		snprintf(name, sizeof(name), "timers_fire_only_random_%ldk", random_counts[i] / 1000);
		add(name, timers_fire, 0, c, 3, 1);
	}
	for (int i = 0; i < 3; i++) {
		long c = scaled(ordered_counts[i], shape, 100);
		snprintf(name, sizeof(name), "timers_add_fire_ordered_%s", ordered_labels[i]);
		add(name, timers_fire, 0, c, 0, 1);
		snprintf(name, sizeof(name), "timers_fire_only_ordered_%s", ordered_labels[i]);
		add(name, timers_fire, 0, c, 2, 1);
	}
	long hops = M / 10;
	add("fd_pingpong", fd_pingpong, hops, 0, 0, 1);
	add("fd_floor", fd_floor, hops, 0, 0, 1);
	add("fd_pingpong_1000_idle", fd_pingpong, hops, 1000, 0, 1);
	add("fd_floor_1000_idle", fd_floor, hops, 1000, 0, 1);
	add("fd_pingpong_toggle_cancels", fd_pingpong, hops, 0, 1, 1);
	add("fd_flags_write_on_off", fd_flags_write_on_off, hops, 0, 0, 1);
	add("fd_many_ready_10", fd_many_ready, M / 5, 10, 0, 1);
	add("fd_many_ready_100", fd_many_ready, M / 5, 100, 0, 1);
	add("fd_many_ready_1000", fd_many_ready, M / 5, 1000, 0, 1);
	add("fd_add_free", fd_add_free, M / 5, 0, 0, 0);
	add("signals", signals, M / 20, 0, 0, 0);
	add("threaded_immediates", threaded_immediates, M / 5, 0, 0, WALL);
	add("proxy_roundtrips", proxy_roundtrips, M / 20, 0, 0, WALL);
	add("req_create_free", req_create_free, M, 0, 0, 0);
	add("req_chain_1", req_chain, M / 2, 1, 0, 0);
	add("req_chain_4", req_chain, M / 4, 4, 0, 0);
	add("req_chain_4_endtime", req_chain, M / 8, 4, 1, 0);
	add("context_init_free", context_init_free, M / 50, 0, 0, 0);
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

	if (argc > 1 && strcmp(argv[1], "curve") == 0) {
		for (int i = 2; i < argc; i++) {
			long count = atol(argv[i]);
			sum_t h = timers_add(0, count, 1);
			printf("timers_add_random_%ld %.6f %llu\n", count, timed_part, (unsigned long long)h);
		}
		return 0;
	}
	double scale = argc > 1 && strcmp(argv[1], "list") != 0 ? atof(argv[1]) : 1.0;
	const char *filter = argc > 2 ? argv[2] : "";
	build_matrix(scale);
	if (argc > 1 && strcmp(argv[1], "list") == 0) {
		list_rows();
		return 0;
	}
	run_rows(filter);
	return 0;
}

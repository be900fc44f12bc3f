/* Allocation-failure injection over the tevent API (see faults.h).
 *
 * Each scenario runs a call with the 1st, 2nd, ... allocation failing until
 * it completes.  A failed call returns its documented failure (NULL, false,
 * -1) and leaves no event, block, descriptor or signal disposition behind;
 * the runner checks blocks and descriptors after every run. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>
#include <tevent.h>

#include "faults.h"

static int g_fired;

static void on_timer(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *priv) {
    (void)ev;
    (void)te;
    (void)now;
    (void)priv;
    g_fired++;
}

static void on_fd(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *priv) {
    (void)ev;
    (void)fde;
    (void)flags;
    int *fd = priv;
    char c;
    if (read(*fd, &c, 1) == 1) g_fired++;
}

static void on_immediate(struct tevent_context *ev, struct tevent_immediate *im, void *priv) {
    (void)ev;
    (void)im;
    (void)priv;
    g_fired++;
}

static void on_signal(struct tevent_context *ev, struct tevent_signal *se, int signum, int count,
                      void *siginfo, void *priv) {
    (void)ev;
    (void)se;
    (void)signum;
    (void)siginfo;
    (void)priv;
    g_fired += count;
}

/* Runs the loop until `want` handlers fired (bounded, so a lost event
 * fails the check instead of hanging). */
static void run_until(struct tevent_context *ev, int want) {
    for (int i = 0; i < 50 && g_fired < want; i++) tevent_loop_once(ev);
}

static const char *const backends[] = {"epoll", "poll", "poll_mt", "standard"};

static bool init_case(void *ctx, long n, const char *backend) {
    size_t b = talloc_total_blocks(ctx);
    fault_arm(n);
    struct tevent_context *ev = backend != NULL ? tevent_context_init_byname(ctx, backend)
                                                : tevent_context_init(ctx);
    long f = fault_disarm();
    if (ev == NULL) {
        fault_check(f > 0 && talloc_total_blocks(ctx) == b);
    } else {
        /* A working context: an immediate goes through it. */
        g_fired = 0;
        struct tevent_immediate *im = tevent_create_immediate(ev);
        tevent_schedule_immediate(im, ev, on_immediate, NULL);
        run_until(ev, 1);
        fault_check(g_fired == 1);
        talloc_free(ev);
    }
    return f == 0;
}

static bool sc_init_default(void *ctx, long n) { return init_case(ctx, n, NULL); }
static bool sc_init_epoll(void *ctx, long n) { return init_case(ctx, n, backends[0]); }
static bool sc_init_poll(void *ctx, long n) { return init_case(ctx, n, backends[1]); }
static bool sc_init_poll_mt(void *ctx, long n) { return init_case(ctx, n, backends[2]); }
static bool sc_init_standard(void *ctx, long n) { return init_case(ctx, n, backends[3]); }

/* Adding events: a failed add leaves nothing that could fire. */
static bool add_case(void *ctx, long n, const char *backend) {
    struct tevent_context *ev = tevent_context_init_byname(ctx, backend);
    int fds[2];
    if (pipe(fds) != 0) abort();
    size_t b = talloc_total_blocks(ctx);
    g_fired = 0;
    fault_arm(n);
    struct tevent_timer *te = tevent_add_timer(ev, ev, tevent_timeval_zero(), on_timer, NULL);
    struct tevent_fd *fde = te ? tevent_add_fd(ev, ev, fds[0], TEVENT_FD_READ, on_fd, &fds[0]) : NULL;
    struct tevent_immediate *im = fde ? tevent_create_immediate(ev) : NULL;
    if (im != NULL) tevent_schedule_immediate(im, ev, on_immediate, NULL);
    long f = fault_disarm();
    int added = (te != NULL) + (fde != NULL) + (im != NULL);
    if (added < 3) {
        fault_check(f > 0);
        /* One block per event added before the failure, nothing else. */
        fault_check(talloc_total_blocks(ctx) == b + (size_t)added);
    }
    if (write(fds[1], "x", 1) != 1) abort();
    run_until(ev, added);
    /* One more round, ended by a fresh zero timer: nothing else fires. */
    tevent_add_timer(ev, ev, tevent_timeval_zero(), on_timer, NULL);
    run_until(ev, added + 1);
    fault_check(g_fired == added + 1);
    talloc_free(ev);
    close(fds[0]);
    close(fds[1]);
    return f == 0;
}

static bool sc_add_epoll(void *ctx, long n) { return add_case(ctx, n, backends[0]); }
static bool sc_add_poll(void *ctx, long n) { return add_case(ctx, n, backends[1]); }
static bool sc_add_poll_mt(void *ctx, long n) { return add_case(ctx, n, backends[2]); }
static bool sc_add_standard(void *ctx, long n) { return add_case(ctx, n, backends[3]); }

/* Many fds at once make the backends grow their tables inside the loop. */
static bool sc_many_fds(void *ctx, long n) {
    enum { N = 40 };
    struct tevent_context *ev = tevent_context_init_byname(ctx, "poll");
    int fds[N][2];
    g_fired = 0;
    for (int i = 0; i < N; i++) {
        if (pipe(fds[i]) != 0) abort();
        if (write(fds[i][1], "x", 1) != 1) abort();
    }
    fault_arm(n);
    int added = 0;
    for (int i = 0; i < N; i++) {
        if (tevent_add_fd(ev, ev, fds[i][0], TEVENT_FD_READ, on_fd, &fds[i][0]) == NULL) break;
        added++;
    }
    /* The loop may fail for want of memory (-1), but must not lose or
     * repeat an event: a later round picks up what is still ready. */
    /* (With no event at all the loop would sleep its 30 s default.) */
    int rc = added > 0 ? tevent_loop_once(ev) : 0;
    long f = fault_disarm();
    if (added < N) fault_check(f > 0);
    fault_check(rc == 0 || (rc == -1 && f > 0));
    for (int i = 0; i < 100 && g_fired < added; i++) tevent_loop_once(ev);
    fault_check(g_fired == added);
    talloc_free(ev);
    for (int i = 0; i < N; i++) {
        close(fds[i][0]);
        close(fds[i][1]);
    }
    return f == 0;
}

static bool sc_signal(void *ctx, long n) {
    struct tevent_context *ev = tevent_context_init(ctx);
    struct sigaction before, after;
    sigaction(SIGUSR2, NULL, &before);
    g_fired = 0;
    fault_arm(n);
    struct tevent_signal *se = tevent_add_signal(ev, ev, SIGUSR2, 0, on_signal, NULL);
    long f = fault_disarm();
    if (se == NULL) {
        fault_check(f > 0);
        sigaction(SIGUSR2, NULL, &after);
        fault_check(after.sa_handler == before.sa_handler);
    } else {
        kill(getpid(), SIGUSR2);
        run_until(ev, 1);
        fault_check(g_fired == 1);
    }
    talloc_free(ev);
    sigaction(SIGUSR2, NULL, &after);
    fault_check(after.sa_handler == before.sa_handler);
    return f == 0;
}

struct req_state {
    int value;
};

static void req_done(struct tevent_req *req) {
    g_fired += tevent_req_is_in_progress(req) ? 100 : 1;
}

static bool sc_req(void *ctx, long n) {
    struct tevent_context *ev = tevent_context_init(ctx);
    size_t b = talloc_total_blocks(ctx);
    g_fired = 0;
    struct req_state *state;
    fault_arm(n);
    struct tevent_req *req = tevent_req_create(ev, &state, struct req_state);
    bool endtime = req != NULL && tevent_req_set_endtime(req, ev, tevent_timeval_current_ofs(60, 0));
    long f = fault_disarm();
    if (req == NULL) {
        fault_check(f > 0 && talloc_total_blocks(ctx) == b);
    } else {
        if (!endtime) fault_check(f > 0);
        /* The usual _send pattern: finished at once, callback from the loop. */
        tevent_req_done(req);
        tevent_req_post(req, ev);
        tevent_req_set_callback(req, req_done, NULL);
        run_until(ev, 1);
        fault_check(g_fired == 1);
        talloc_free(req);
    }
    talloc_free(ev);
    return f == 0;
}

static bool sc_req_print(void *ctx, long n) {
    struct tevent_context *ev = tevent_context_init(ctx);
    struct req_state *state;
    struct tevent_req *req = tevent_req_create(ev, &state, struct req_state);
    size_t b = talloc_total_blocks(ctx);
    fault_arm(n);
    char *s = tevent_req_print(ctx, req);
    long f = fault_disarm();
    if (s == NULL) {
        fault_check(f > 0 && talloc_total_blocks(ctx) == b);
    } else {
        fault_check(strstr(s, "struct req_state") != NULL);
    }
    talloc_free(ev);
    return f == 0;
}

static bool sc_profile(void *ctx, long n) {
    struct tevent_context *ev = tevent_context_init(ctx);
    struct req_state *state;
    struct tevent_req *req = tevent_req_create(ev, &state, struct req_state);
    size_t b = talloc_total_blocks(ctx);
    fault_arm(n);
    bool ok = tevent_req_set_profile(req);
    struct tevent_req_profile *p = tevent_req_profile_create(ctx);
    bool named = p != NULL && tevent_req_profile_set_name(p, "a profile name");
    long f = fault_disarm();
    if (!ok || p == NULL || !named) fault_check(f > 0);
    if (!ok) fault_check(tevent_req_get_profile(req) == NULL);
    if (p == NULL) fault_check(talloc_total_blocks(ctx) == b + (ok ? 1 : 0));
    talloc_free(p);
    talloc_free(ev);
    return f == 0;
}

static bool sc_wakeup(void *ctx, long n) {
    struct tevent_context *ev = tevent_context_init(ctx);
    size_t b = talloc_total_blocks(ctx);
    g_fired = 0;
    fault_arm(n);
    struct tevent_req *req = tevent_wakeup_send(ev, ev, tevent_timeval_zero());
    long f = fault_disarm();
    if (req == NULL) {
        fault_check(f > 0 && talloc_total_blocks(ctx) == b);
    } else {
        tevent_req_set_callback(req, req_done, NULL);
        run_until(ev, 1);
        fault_check(g_fired == 1);
        if (f == 0) {
            fault_check(tevent_wakeup_recv(req));
        } else {
            /* The timer could not be added: the request was posted as
             * failed for want of memory, as the reference does. */
            enum tevent_req_state st;
            uint64_t err;
            fault_check(tevent_req_is_error(req, &st, &err) && st == TEVENT_REQ_NO_MEMORY);
        }
    }
    talloc_free(ev);
    return f == 0;
}

static void trigger(struct tevent_req *req, void *priv) {
    (void)priv;
    g_fired++;
    tevent_req_done(req);
}

/* A queue moves on when its running request is freed, as usual from the
 * request's callback. */
static void req_free(struct tevent_req *req) { talloc_free(req); }

static bool sc_queue(void *ctx, long n) {
    struct tevent_context *ev = tevent_context_init(ctx);
    struct req_state *state;
    struct tevent_req *r1 = tevent_req_create(ev, &state, struct req_state);
    struct tevent_req *r2 = tevent_req_create(ev, &state, struct req_state);
    tevent_req_set_callback(r1, req_free, NULL);
    tevent_req_set_callback(r2, req_free, NULL);
    size_t b = talloc_total_blocks(ctx);
    g_fired = 0;
    fault_arm(n);
    struct tevent_queue *q = tevent_queue_create(ev, "q");
    bool added = q != NULL && tevent_queue_add(q, ev, r1, trigger, NULL);
    struct tevent_queue_entry *e = added ? tevent_queue_add_entry(q, ev, r2, trigger, NULL) : NULL;
    long f = fault_disarm();
    if (q == NULL) {
        fault_check(f > 0 && talloc_total_blocks(ctx) == b);
    } else {
        int want = (added ? 1 : 0) + (e != NULL ? 1 : 0);
        if (want < 2) fault_check(f > 0);
        fault_check(tevent_queue_length(q) == (size_t)want);
        run_until(ev, want);
        tevent_add_timer(ev, ev, tevent_timeval_zero(), on_timer, NULL);
        run_until(ev, want + 1);
        fault_check(g_fired == want + 1);
    }
    talloc_free(ev);
    return f == 0;
}

static bool sc_threaded(void *ctx, long n) {
    struct tevent_context *ev = tevent_context_init(ctx);
    /* Outside the context: its wakeup descriptor's event is made on first
     * use and stays with it even if a later step fails (as in the
     * reference), which is no leak. */
    size_t b = talloc_total_blocks(ctx) - talloc_total_blocks(ev);
    g_fired = 0;
    fault_arm(n);
    struct tevent_threaded_context *tctx = tevent_threaded_context_create(ev, ev);
    struct tevent_thread_proxy *proxy = tctx != NULL ? tevent_thread_proxy_create(ev) : NULL;
    long f = fault_disarm();
    if (tctx == NULL) {
        fault_check(f > 0 && talloc_total_blocks(ctx) - talloc_total_blocks(ev) == b);
    } else {
        if (proxy == NULL) fault_check(f > 0);
        struct tevent_immediate *im = tevent_create_immediate(ev);
        tevent_threaded_schedule_immediate(tctx, im, on_immediate, NULL);
        run_until(ev, 1);
        fault_check(g_fired == 1);
    }
    talloc_free(ev);
    return f == 0;
}

static const struct fault_case cases[] = {
    {"tevent_context_init", sc_init_default},
    {"tevent_context_init_byname epoll", sc_init_epoll},
    {"tevent_context_init_byname poll", sc_init_poll},
    {"tevent_context_init_byname poll_mt", sc_init_poll_mt},
    {"tevent_context_init_byname standard", sc_init_standard},
    {"add timer/fd/immediate epoll", sc_add_epoll},
    {"add timer/fd/immediate poll", sc_add_poll},
    {"add timer/fd/immediate poll_mt", sc_add_poll_mt},
    {"add timer/fd/immediate standard", sc_add_standard},
    {"40 fds + tevent_loop_once poll", sc_many_fds},
    {"tevent_add_signal", sc_signal},
    {"tevent_req_create/set_endtime/post", sc_req},
    {"tevent_req_print", sc_req_print},
    {"tevent_req_set_profile/profile_create", sc_profile},
    {"tevent_wakeup_send", sc_wakeup},
    {"tevent_queue_create/add/add_entry", sc_queue},
    {"tevent_threaded_context/thread_proxy", sc_threaded},
};

int main(void) { return fault_main(cases, sizeof(cases) / sizeof(cases[0])); }

/*
 * The loop entry points: tevent_loop_once/wait/until, the nesting rules and
 * hook, and (0.17) tevent_context_set_wait_timeout.
 */
#include "common.h"

struct counters {
	int fd_calls;
	int timer_calls;
	int im_calls;
	int im_left;		/* immediates still to chain */
	int drain_fd;
};

static void fd_once(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *p)
{
	(void)ev;
	(void)flags;
	struct counters *c = p;
	c->fd_calls++;
	tt_read_byte(c->drain_fd);
	talloc_free(fde);	/* the last event of its kind */
}

static void timer_count(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)ev;
	(void)te;
	(void)now;
	((struct counters *)p)->timer_calls++;
}

static void im_chain(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	struct counters *c = p;
	c->im_calls++;
	if (c->im_left > 0) {
		c->im_left--;
		tevent_schedule_immediate(im, ev, im_chain, c);
	}
}

static void test_loop_wait_returns_when_empty(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	struct counters c = {.drain_fd = p[0], .im_left = 4};
	assert_non_null(tevent_add_fd(ev, ev, p[0], TEVENT_FD_READ, fd_once, &c));
	assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 20000), timer_count, &c));
	assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 40000), timer_count, &c));
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, im_chain, &c);
	tt_write_byte(p[1]);
	assert_int_equal(tevent_loop_wait(ev), 0);
	assert_int_equal(c.fd_calls, 1);
	assert_int_equal(c.timer_calls, 2);
	assert_int_equal(c.im_calls, 5);
	/* Nothing left: returns at once. */
	assert_int_equal(tevent_loop_wait(ev), 0);
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
}

struct until_state {
	int checks;
	int stop_at;
	struct counters *c;
};

static bool until_done(void *p)
{
	struct until_state *u = p;
	u->checks++;
	return u->c->im_calls >= u->stop_at;
}

static void test_loop_until(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct counters c = {.im_left = 100};
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, im_chain, &c);

	struct until_state u = {.stop_at = 7, .c = &c};
	assert_int_equal(tevent_loop_until(ev, until_done, &u), 0);
	assert_int_equal(c.im_calls, 7);
	assert_int_equal(u.checks, 8);	/* checked before every iteration */

	/* Already finished: no iteration at all. */
	u = (struct until_state){.stop_at = 0, .c = &c};
	assert_int_equal(tevent_loop_until(ev, until_done, &u), 0);
	assert_int_equal(c.im_calls, 7);
	assert_int_equal(u.checks, 1);
	talloc_free(ev);
}

static void nested_loop_once(struct tevent_context *ev, struct tevent_immediate *im, void *p)
{
	(void)im;
	int *result = p;
	struct counters c = {0};
	struct tevent_immediate *inner = tevent_create_immediate(ev);
	tevent_schedule_immediate(inner, ev, im_chain, &c);
	*result = tevent_loop_once(ev);
	if (c.im_calls != 1) {
		*result = -100;
	}
}

static void nest_without_permission(void *arg)
{
	struct tevent_context *ev = tevent_context_init_byname(NULL, arg);
	int result = -1;
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, nested_loop_once, &result);
	tevent_loop_once(ev);
	/* Reaching this point means nesting was not refused. */
	_exit(3);
}

static void test_nesting_forbidden_by_default(void **state)
{
	tt_assert_aborted(tt_run_in_child(nest_without_permission, *state));
}

#define MAX_HOOK 16
struct hook_log {
	uint32_t level[MAX_HOOK];
	bool begin[MAX_HOOK];
	bool location_ok[MAX_HOOK];
	int n;
};

static int nesting_hook(struct tevent_context *ev, void *private_data, uint32_t level, bool begin,
			void *stack_ptr, const char *location)
{
	(void)ev;
	(void)stack_ptr;
	struct hook_log *h = private_data;
	assert_true(h->n < MAX_HOOK);
	h->level[h->n] = level;
	h->begin[h->n] = begin;
	h->location_ok[h->n] = location != NULL && strstr(location, "api_loop.c") != NULL;
	h->n++;
	return 0;
}

static void test_nesting_allowed_with_hook(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct hook_log h = {.n = 0};
	tevent_loop_allow_nesting(ev);
	tevent_loop_set_nesting_hook(ev, nesting_hook, &h);
	int result = -1;
	struct tevent_immediate *im = tevent_create_immediate(ev);
	tevent_schedule_immediate(im, ev, nested_loop_once, &result);
	assert_int_equal(tevent_loop_once(ev), 0);
	assert_int_equal(result, 0);
	/* Called around the outer iteration too once a hook is set. */
	assert_int_equal(h.n, 4);
	const uint32_t levels[] = {1, 2, 2, 1};
	const bool begins[] = {true, true, false, false};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(h.level[i], levels[i]);
		assert_int_equal(h.begin[i], begins[i]);
		assert_true(h.location_ok[i]);
	}
	talloc_free(ev);
}

#ifndef TEVENT_TEST_REFERENCE
/* tevent_context_set_wait_timeout is tevent 0.17 API. */
static void test_wait_timeout(void **state)
{
	struct tevent_context *ev = tt_context(state);
	int p[2];
	tt_pipe(p);
	struct counters c = {.drain_fd = p[0]};
	assert_non_null(tevent_add_fd(ev, ev, p[0], TEVENT_FD_READ, fd_once, &c));

	assert_int_equal(tevent_context_set_wait_timeout(ev, 0), 30);
	/*
	 * Polling: nothing ready means EAGAIN at once (a backend may first
	 * spend an iteration on its own bookkeeping, hence the retries).
	 */
	int ret = 0;
	for (int i = 0; i < 3 && ret == 0; i++) {
		errno = 0;
		ret = tevent_loop_once(ev);
	}
	assert_int_equal(ret, -1);
	assert_int_equal(errno, EAGAIN);

	tt_write_byte(p[1]);
	int rounds = 0;
	while (c.fd_calls == 0 && rounds++ < 10) {
		(void)tevent_loop_once(ev);
	}
	assert_int_equal(c.fd_calls, 1);
	errno = 0;
	assert_int_equal(tevent_loop_once(ev), -1);
	assert_int_equal(errno, EAGAIN);

	/* A bounded sleep when no timer is pending. */
	assert_int_equal(tevent_context_set_wait_timeout(ev, 1), 0);
	int q[2];
	tt_pipe(q);
	struct counters d = {.drain_fd = q[0]};
	assert_non_null(tevent_add_fd(ev, ev, q[0], TEVENT_FD_READ, fd_once, &d));
	assert_int_equal(tevent_loop_once(ev), 0);	/* settles the new fd */
	/*
	 * Only a lower bound: the sleep really happened.  That it ends at all
	 * is shown by the test finishing; no upper bound holds on a loaded
	 * machine.
	 */
	double t0 = tt_now();
	assert_int_equal(tevent_loop_once(ev), 0);
	assert_true(tt_now() - t0 > 0.9);
	assert_int_equal(d.fd_calls, 0);

	assert_int_equal(tevent_context_set_wait_timeout(ev, UINT32_MAX), 1);
	assert_int_equal(tevent_context_set_wait_timeout(ev, 30), UINT32_MAX);
	talloc_free(ev);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}
#endif

int main(void)
{
	alarm(300);
	const struct CMUnitTest tests[] = {
		PER_BACKEND(test_loop_wait_returns_when_empty),
		PER_BACKEND(test_loop_until),
		PER_BACKEND(test_nesting_forbidden_by_default),
		PER_BACKEND(test_nesting_allowed_with_hook),
#ifndef TEVENT_TEST_REFERENCE
		PER_BACKEND(test_wait_timeout),
#endif
	};
	return cmocka_run_group_tests_name("tevent loops (" TT_IMPL ")", tests, NULL, NULL);
}

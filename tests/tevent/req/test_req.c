/*
 * cmocka tests of the request layer: every state transition, cleanup and
 * cancel functions, printing, post/defer, timeouts, tevent_wakeup, profiles,
 * queues, call-flow tracking and the misuse that must abort.
 *
 * Built against our library and, when Debian's libtevent is present, against
 * the reference too (TEVENT_TEST_REFERENCE), which proves the assertions
 * encode the reference's behaviour.  The tevent >= 0.15 API (named callbacks,
 * the call-depth callback) and the places where we deliberately differ
 * (reporting instead of crashing) are compiled into our build only.
 */
#include "common.h"

struct st {
	int value;
	char pad[12];
};

struct sub_st {
	uint64_t x;
};

/* ---- small recorders ------------------------------------------------------ */

#define MAX_EVENTS 64

static int g_cb_calls;
static struct tevent_req *g_cb_req;

static void cb_count(struct tevent_req *req)
{
	g_cb_calls++;
	g_cb_req = req;
}

static enum tevent_req_state g_cleanup_states[MAX_EVENTS];
static int g_cleanup_n;
static bool g_cleanup_saw_data[MAX_EVENTS];

static void cleanup_record(struct tevent_req *req, enum tevent_req_state state)
{
	assert_true(g_cleanup_n < MAX_EVENTS);
	g_cleanup_saw_data[g_cleanup_n] = (_tevent_req_data(req) != NULL);
	g_cleanup_states[g_cleanup_n++] = state;
}

static void reset_recorders(void)
{
	g_cb_calls = 0;
	g_cb_req = NULL;
	g_cleanup_n = 0;
}

static void check_state(struct tevent_req *req, bool in_progress, bool is_error, enum tevent_req_state want,
			uint64_t want_err)
{
	enum tevent_req_state st = (enum tevent_req_state)99;
	uint64_t err = 777;
	assert_int_equal(tevent_req_is_in_progress(req), in_progress);
	assert_int_equal(tevent_req_is_error(req, &st, &err), is_error);
	if (is_error) {
		assert_int_equal(st, want);
	} else {
		assert_int_equal(st, 99); /* untouched on success */
	}
	assert_int_equal(err, want_err);
}

/* ---- creation --------------------------------------------------------------- */

static void test_create(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct st *s = NULL;
	struct tevent_req *req = tevent_req_create(mem, &s, struct st);
	assert_non_null(req);
	assert_non_null(s);
	assert_string_equal(talloc_get_name(req), "struct tevent_req");
	assert_string_equal(talloc_get_name(s), "struct st");
	assert_ptr_equal(talloc_parent(s), req);
	assert_ptr_equal(talloc_parent(req), mem);
	assert_int_equal(talloc_get_size(s), sizeof(struct st));
	assert_int_equal(s->value, 0);
	assert_ptr_equal(tevent_req_data(req, struct st), s);
	assert_null(tevent_req_callback_data_void(req));
	check_state(req, true, true, TEVENT_REQ_IN_PROGRESS, 777);

	void *p = (void *)0x1;
	assert_null(_tevent_req_create(mem, &p, SIZE_MAX, "huge", __location__));
	assert_ptr_equal(p, (void *)0x1);
	struct tevent_req *z = _tevent_req_create(mem, &p, 0, "empty", __location__);
	assert_non_null(z);
	assert_int_equal(talloc_get_size(p), 0);
	assert_string_equal(talloc_get_name(p), "empty");
	talloc_free(mem);
}

/* ---- transitions ------------------------------------------------------------ */

static void test_done(void **state)
{
	(void)state;
	reset_recorders();
	struct st *s;
	struct tevent_req *req = tevent_req_create(NULL, &s, struct st);
	tevent_req_set_callback(req, cb_count, &g_cb_calls);
	assert_ptr_equal(tevent_req_callback_data_void(req), &g_cb_calls);
	tevent_req_done(req);
	assert_int_equal(g_cb_calls, 1);
	assert_ptr_equal(g_cb_req, req);
	check_state(req, false, false, TEVENT_REQ_DONE, 777);
	/* Finishing again is tolerated and calls back again. */
	tevent_req_done(req);
	assert_int_equal(g_cb_calls, 2);
	tevent_req_received(req);
	check_state(req, false, true, TEVENT_REQ_RECEIVED, 777);
	assert_null(_tevent_req_data(req));
	talloc_free(req);
}

static void test_error(void **state)
{
	(void)state;
	reset_recorders();
	struct st *s;
	struct tevent_req *req = tevent_req_create(NULL, &s, struct st);
	tevent_req_set_callback(req, cb_count, NULL);
	assert_false(tevent_req_error(req, 0));
	assert_int_equal(g_cb_calls, 0);
	check_state(req, true, true, TEVENT_REQ_IN_PROGRESS, 777);
	assert_true(tevent_req_error(req, 0x123456789ULL));
	assert_int_equal(g_cb_calls, 1);
	check_state(req, false, true, TEVENT_REQ_USER_ERROR, 0x123456789ULL);
	talloc_free(req);
}

static void test_nomem_oom(void **state)
{
	(void)state;
	reset_recorders();
	struct st *s;
	struct tevent_req *req = tevent_req_create(NULL, &s, struct st);
	tevent_req_set_callback(req, cb_count, NULL);
	assert_false(tevent_req_nomem(s, req));
	check_state(req, true, true, TEVENT_REQ_IN_PROGRESS, 777);
	assert_true(tevent_req_nomem(NULL, req));
	assert_int_equal(g_cb_calls, 1);
	check_state(req, false, true, TEVENT_REQ_NO_MEMORY, 777);
	talloc_free(req);

	req = tevent_req_create(NULL, &s, struct st);
	tevent_req_oom(req);
	check_state(req, false, true, TEVENT_REQ_NO_MEMORY, 777);
	talloc_free(req);
}

static void test_timed_out(void **state)
{
	reset_recorders();
	struct tevent_context *ev = tt_context(state);
	struct st *s;
	struct tevent_req *req = tevent_req_create(ev, &s, struct st);
	tevent_req_set_callback(req, cb_count, NULL);
	tevent_req_set_cleanup_fn(req, cleanup_record);
	assert_true(tevent_req_set_endtime(req, ev, tevent_timeval_current_ofs(0, 1000)));
	assert_true(tevent_req_poll(req, ev));
	assert_int_equal(g_cb_calls, 1);
	check_state(req, false, true, TEVENT_REQ_TIMED_OUT, 777);
	char *text = tevent_req_print(req, req);
	assert_non_null(strstr(text, "finish[tevent_req_timedout]"));
	assert_non_null(strstr(text, "timer[(nil)]"));
	assert_int_equal(g_cleanup_n, 1);
	assert_int_equal(g_cleanup_states[0], TEVENT_REQ_TIMED_OUT);
	talloc_free(req);

	/* reset_endtime: the timer is gone, nothing fires. */
	req = tevent_req_create(ev, &s, struct st);
	tevent_req_set_endtime(req, ev, tevent_timeval_current_ofs(0, 500));
	tevent_req_reset_endtime(req);
	tevent_req_reset_endtime(req);
	struct tevent_req *w = tevent_wakeup_send(ev, ev, tevent_timeval_current_ofs(0, 3000));
	assert_true(tevent_req_poll(w, ev));
	assert_true(tevent_wakeup_recv(w));
	check_state(req, true, true, TEVENT_REQ_IN_PROGRESS, 777);

	/* Finishing removes a pending end time. */
	tevent_req_set_endtime(req, ev, tevent_timeval_zero());
	tevent_req_done(req);
	talloc_free(w);
	w = tevent_wakeup_send(ev, ev, tevent_timeval_current_ofs(0, 2000));
	assert_true(tevent_req_poll(w, ev));
	check_state(req, false, false, TEVENT_REQ_DONE, 777);
	talloc_free(ev);
}

static void test_received_and_free(void **state)
{
	(void)state;
	reset_recorders();
	TALLOC_CTX *mem = talloc_new(NULL);
	struct st *s;
	struct tevent_req *req = tevent_req_create(mem, &s, struct st);
	tevent_req_set_cleanup_fn(req, cleanup_record);
	tevent_req_done(req);
	tevent_req_received(req);
	assert_int_equal(g_cleanup_n, 2);
	assert_int_equal(g_cleanup_states[0], TEVENT_REQ_DONE);
	assert_int_equal(g_cleanup_states[1], TEVENT_REQ_RECEIVED);
	/* The state is still there while the cleanup function runs. */
	assert_true(g_cleanup_saw_data[1]);
	assert_null(_tevent_req_data(req));
	/* Freeing a received request does not report RECEIVED again. */
	talloc_free(req);
	assert_int_equal(g_cleanup_n, 2);

	/* Freeing an unfinished request (or its parent) reports RECEIVED. */
	reset_recorders();
	req = tevent_req_create(mem, &s, struct st);
	tevent_req_set_cleanup_fn(req, cleanup_record);
	talloc_free(mem);
	assert_int_equal(g_cleanup_n, 1);
	assert_int_equal(g_cleanup_states[0], TEVENT_REQ_RECEIVED);
	assert_true(g_cleanup_saw_data[0]);
}

static void test_cleanup_order(void **state)
{
	(void)state;
	reset_recorders();
	struct st *s;
	struct tevent_req *req = tevent_req_create(NULL, &s, struct st);
	tevent_req_set_cleanup_fn(req, cleanup_record);
	/* Reported only for states later in the enum than the last one seen. */
	tevent_req_error(req, 5);
	tevent_req_error(req, 6);
	tevent_req_oom(req);
	tevent_req_done(req);
	tevent_req_error(req, 7);
	talloc_free(req);
	assert_int_equal(g_cleanup_n, 3);
	assert_int_equal(g_cleanup_states[0], TEVENT_REQ_USER_ERROR);
	assert_int_equal(g_cleanup_states[1], TEVENT_REQ_NO_MEMORY);
	assert_int_equal(g_cleanup_states[2], TEVENT_REQ_RECEIVED);

	/* Setting the function records the current state as seen. */
	reset_recorders();
	req = tevent_req_create(NULL, &s, struct st);
	tevent_req_oom(req);
	tevent_req_set_cleanup_fn(req, cleanup_record);
	tevent_req_error(req, 1);
	tevent_req_done(req);
	assert_int_equal(g_cleanup_n, 0);
	tevent_req_set_cleanup_fn(req, NULL);
	talloc_free(req);
	assert_int_equal(g_cleanup_n, 0);
}

static void cleanup_refinish(struct tevent_req *req, enum tevent_req_state state)
{
	cleanup_record(req, state);
	if (state == TEVENT_REQ_DONE) {
		tevent_req_error(req, 44);
	}
}

static void test_cleanup_refinish(void **state)
{
	(void)state;
	reset_recorders();
	struct st *s;
	struct tevent_req *req = tevent_req_create(NULL, &s, struct st);
	tevent_req_set_callback(req, cb_count, NULL);
	tevent_req_set_cleanup_fn(req, cleanup_refinish);
	tevent_req_done(req);
	/* Inner error: cleanup + callback; then the outer done's callback. */
	assert_int_equal(g_cleanup_n, 2);
	assert_int_equal(g_cleanup_states[0], TEVENT_REQ_DONE);
	assert_int_equal(g_cleanup_states[1], TEVENT_REQ_USER_ERROR);
	assert_int_equal(g_cb_calls, 2);
	check_state(req, false, true, TEVENT_REQ_USER_ERROR, 44);
	talloc_free(req);
	assert_int_equal(g_cleanup_n, 3);
}

/* ---- cancel / print ----------------------------------------------------------- */

static int g_cancel_calls;

static bool cancel_accept(struct tevent_req *req)
{
	g_cancel_calls++;
	tevent_req_error(req, ECANCELED);
	return true;
}

static bool cancel_refuse(struct tevent_req *req)
{
	(void)req;
	g_cancel_calls++;
	return false;
}

static void test_cancel(void **state)
{
	(void)state;
	g_cancel_calls = 0;
	struct st *s;
	struct tevent_req *req = tevent_req_create(NULL, &s, struct st);
	assert_false(tevent_req_cancel(req));
	tevent_req_set_cancel_fn(req, cancel_refuse);
	assert_false(tevent_req_cancel(req));
	assert_int_equal(g_cancel_calls, 1);
	check_state(req, true, true, TEVENT_REQ_IN_PROGRESS, 777);
	tevent_req_set_cancel_fn(req, cancel_accept);
	assert_true(tevent_req_cancel(req));
	check_state(req, false, true, TEVENT_REQ_USER_ERROR, ECANCELED);
	tevent_req_received(req);
	/* tevent_req_received() drops the cancel function. */
	assert_false(tevent_req_cancel(req));
	assert_int_equal(g_cancel_calls, 2);
	talloc_free(req);
}

static char *print_custom(struct tevent_req *req, TALLOC_CTX *ctx)
{
	struct st *s = tevent_req_data(req, struct st);
	char *base = tevent_req_default_print(req, ctx);
	return talloc_asprintf_append_buffer(base, " value=%d", s->value);
}

static void test_print(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct st *s;
	struct tevent_req *req = _tevent_req_create(mem, &s, sizeof(struct st), "struct st", "where.c:12");
	char expect[512];

	char *text = tevent_req_print(mem, req);
	snprintf(expect, sizeof(expect),
		 "tevent_req[%p/where.c:12]: state[1] error[0 (0x0)]  state[struct st (%p)] timer[(nil)] finish[(null)]",
		 (void *)req, (void *)s);
	assert_string_equal(text, expect);
	assert_ptr_equal(talloc_parent(text), mem);

	_tevent_req_error(req, 255, "fin.c:3");
	text = tevent_req_default_print(req, mem);
	snprintf(expect, sizeof(expect),
		 "tevent_req[%p/where.c:12]: state[3] error[255 (0xFF)]  state[struct st (%p)] timer[(nil)] finish[fin.c:3]",
		 (void *)req, (void *)s);
	assert_string_equal(text, expect);

	s->value = 31;
	tevent_req_set_print_fn(req, print_custom);
	text = tevent_req_print(mem, req);
	assert_non_null(strstr(text, "] value=31"));

	tevent_req_received(req);
	text = tevent_req_print(mem, req);
	snprintf(expect, sizeof(expect),
		 "tevent_req[%p/where.c:12]: state[6] error[255 (0xFF)]  state[struct st ((nil))] timer[(nil)] finish[fin.c:3]",
		 (void *)req);
	assert_string_equal(text, expect);

	assert_string_equal(tevent_req_print(mem, NULL), "tevent_req[NULL]");
	talloc_free(mem);
}

/* ---- post / defer / poll -------------------------------------------------------- */

static void test_post_and_defer(void **state)
{
	reset_recorders();
	struct tevent_context *ev = tt_context(state);
	struct st *s;
	struct tevent_req *req = tevent_req_create(ev, &s, struct st);
	tevent_req_set_callback(req, cb_count, NULL);
	tevent_req_done(req);
	assert_int_equal(g_cb_calls, 1);
	assert_ptr_equal(tevent_req_post(req, ev), req);
	assert_ptr_equal(tevent_req_post(req, ev), req);
	assert_int_equal(g_cb_calls, 1);
	assert_int_equal(tevent_loop_once(ev), 0);
	assert_int_equal(g_cb_calls, 2); /* rescheduling replaces, not adds */

	/* Deferred: the finish posts the callback instead of calling it. */
	reset_recorders();
	struct tevent_req *d = tevent_req_create(ev, &s, struct st);
	tevent_req_set_callback(d, cb_count, NULL);
	tevent_req_defer_callback(d, ev);
	tevent_req_error(d, 3);
	assert_int_equal(g_cb_calls, 0);
	assert_int_equal(tevent_loop_once(ev), 0);
	assert_int_equal(g_cb_calls, 1);
	/* ... once. */
	tevent_req_notify_callback(d);
	assert_int_equal(g_cb_calls, 2);

	/* A posted callback dies with its request. */
	reset_recorders();
	tevent_req_post(d, ev);
	talloc_free(d);
	struct tevent_req *w = tevent_wakeup_send(ev, ev, tevent_timeval_current_ofs(0, 2000));
	assert_true(tevent_req_poll(w, ev));
	assert_int_equal(g_cb_calls, 0);
	talloc_free(ev);
}

/* ---- wakeup ------------------------------------------------------------------------ */

static void test_wakeup(void **state)
{
	struct tevent_context *ev = tt_context(state);
	double t0 = tt_now();
	struct tevent_req *w = tevent_wakeup_send(ev, ev, tevent_timeval_current_ofs(0, 20000));
	assert_non_null(w);
	assert_string_equal(talloc_get_name(_tevent_req_data(w)), "struct tevent_wakeup_state");
	assert_false(tevent_wakeup_recv(w));
	assert_true(tevent_req_poll(w, ev));
	assert_true(tt_now() - t0 >= 0.015);
	assert_true(tevent_wakeup_recv(w));
	/* recv does not mark the request received */
	check_state(w, false, true, TEVENT_REQ_TIMED_OUT, 777);
	talloc_free(w);

	/* Finished any other way, it reports failure. */
	w = tevent_wakeup_send(ev, ev, tevent_timeval_current_ofs(10, 0));
	tevent_req_done(w);
	assert_false(tevent_wakeup_recv(w));
	talloc_free(w);
	talloc_free(ev);
}

/* ---- profiles ---------------------------------------------------------------------- */

static void test_profiles(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct st *s;
	struct sub_st *ss;
	struct tevent_req *req = tevent_req_create(mem, &s, struct st);
	assert_null(tevent_req_get_profile(req));
	assert_true(tevent_req_set_profile(req));
	const struct tevent_req_profile *p = tevent_req_get_profile(req);
	assert_non_null(p);
	assert_string_equal(talloc_get_name(p), "struct tevent_req_profile");

	const char *name, *loc;
	struct timeval tv;
	pid_t pid;
	enum tevent_req_state st;
	uint64_t err;
	tevent_req_profile_get_name(p, &name);
	assert_string_equal(name, "struct st");
	tevent_req_profile_get_start(p, &loc, &tv);
	assert_non_null(strstr(loc, "test_req.c:"));
	assert_true(tv.tv_sec > 0);
	tevent_req_profile_get_stop(p, &loc, &tv);
	assert_null(loc);

	struct tevent_req *a = tevent_req_create(s, &ss, struct sub_st);
	struct tevent_req *b = tevent_req_create(s, &ss, struct sub_st);
	struct tevent_req *unrelated = tevent_req_create(mem, &ss, struct sub_st);
	assert_non_null(tevent_req_get_profile(a));
	assert_null(tevent_req_get_profile(unrelated));
	assert_ptr_equal(tevent_req_profile_get_subprofiles(p), tevent_req_get_profile(a));
	assert_ptr_equal(tevent_req_profile_next(tevent_req_get_profile(a)), tevent_req_get_profile(b));
	assert_null(tevent_req_profile_next(tevent_req_get_profile(b)));

	/* A finished subrequest hands its profile to the parent profile. */
	const struct tevent_req_profile *bp = tevent_req_get_profile(b);
	_tevent_req_error(b, 9, "b-stop");
	assert_null(tevent_req_get_profile(b));
	assert_ptr_equal(talloc_parent(bp), p);
	tevent_req_profile_get_stop(bp, &loc, &tv);
	assert_string_equal(loc, "b-stop");
	tevent_req_profile_get_status(bp, &pid, &st, &err);
	assert_int_equal(pid, 0);
	assert_int_equal(st, TEVENT_REQ_USER_ERROR);
	assert_int_equal(err, 9);
	talloc_free(b);

	/* An unfinished one takes its profile away when freed. */
	talloc_free(a);
	assert_ptr_equal(tevent_req_profile_get_subprofiles(p), bp);
	assert_null(tevent_req_profile_next(bp));

	/* A second set_profile fails the request with EINVAL. */
	assert_false(tevent_req_set_profile(req));
	check_state(req, false, true, TEVENT_REQ_USER_ERROR, EINVAL);

	struct tevent_req_profile *moved = tevent_req_move_profile(req, mem);
	assert_ptr_equal(moved, p);
	assert_ptr_equal(talloc_parent(moved), mem);
	assert_null(tevent_req_get_profile(req));
	assert_null(tevent_req_move_profile(req, mem));
	talloc_free(req);
	talloc_free(unrelated);

	/* Hand-made profiles. */
	struct tevent_req_profile *x = tevent_req_profile_create(mem);
	struct tevent_req_profile *y = tevent_req_profile_create(NULL);
	assert_true(tevent_req_profile_set_name(x, "x"));
	assert_true(tevent_req_profile_set_start(x, "x-start", (struct timeval){1, 2}));
	assert_true(tevent_req_profile_set_stop(x, "x-stop", (struct timeval){3, 4}));
	tevent_req_profile_set_status(x, 77, TEVENT_REQ_DONE, 5);
	tevent_req_profile_get_name(x, &name);
	assert_string_equal(name, "x");
	assert_ptr_equal(talloc_parent(name), x);
	tevent_req_profile_get_start(x, &loc, &tv);
	assert_string_equal(loc, "x-start");
	assert_int_equal(tv.tv_sec, 1);
	assert_int_equal(tv.tv_usec, 2);
	tevent_req_profile_get_stop(x, &loc, &tv);
	assert_string_equal(loc, "x-stop");
	assert_int_equal(tv.tv_usec, 4);
	tevent_req_profile_get_status(x, &pid, &st, &err);
	assert_int_equal(pid, 77);
	assert_int_equal(st, TEVENT_REQ_DONE);
	assert_int_equal(err, 5);
	struct tevent_req_profile *ykeep = y;
	tevent_req_profile_append_sub(x, &y);
	assert_null(y);
	assert_ptr_equal(talloc_parent(ykeep), x);
	assert_ptr_equal(tevent_req_profile_get_subprofiles(x), ykeep);
	assert_ptr_equal(tevent_req_profile_get_subprofiles(moved), bp);
	talloc_free(mem);
}

/* ---- queues --------------------------------------------------------------------------- */

static char g_order[64];

static void trig_log(struct tevent_req *req, void *private_data)
{
	size_t n = strlen(g_order);
	g_order[n] = *(const char *)private_data;
	g_order[n + 1] = '\0';
	(void)req;
}

static void trig_done(struct tevent_req *req, void *private_data)
{
	trig_log(req, private_data);
	tevent_req_done(req);
}

static void run_pending(struct tevent_context *ev)
{
	struct tevent_req *w = tevent_wakeup_send(ev, ev, tevent_timeval_current_ofs(0, 500));
	assert_true(tevent_req_poll(w, ev));
	talloc_free(w);
}

static void test_queue_order(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_queue *q = tevent_queue_create(ev, "q");
	assert_string_equal(talloc_get_name(q), "struct tevent_queue");
	assert_true(tevent_queue_running(q));
	assert_int_equal(tevent_queue_length(q), 0);
	struct st *s;
	struct tevent_req *r[3];
	static const char names[] = "abc";
	g_order[0] = '\0';
	for (int i = 0; i < 3; i++) {
		r[i] = tevent_req_create(ev, &s, struct st);
		assert_true(tevent_queue_add(q, ev, r[i], trig_done, (void *)&names[i]));
	}
	assert_int_equal(tevent_queue_length(q), 3);
	assert_string_equal(g_order, "");
	run_pending(ev);
	/* The head stays triggered until its request is freed. */
	assert_string_equal(g_order, "a");
	assert_int_equal(tevent_queue_length(q), 3);
	talloc_free(r[0]);
	assert_int_equal(tevent_queue_length(q), 2);
	run_pending(ev);
	assert_string_equal(g_order, "ab");
	talloc_free(r[1]);
	run_pending(ev);
	assert_string_equal(g_order, "abc");
	talloc_free(r[2]);
	assert_int_equal(tevent_queue_length(q), 0);

	/* Stop/start */
	g_order[0] = '\0';
	tevent_queue_stop(q);
	assert_false(tevent_queue_running(q));
	struct tevent_req *x = tevent_req_create(ev, &s, struct st);
	struct tevent_queue_entry *e = tevent_queue_add_entry(q, ev, x, trig_log, (void *)"x");
	assert_non_null(e);
	assert_string_equal(talloc_get_name(e), "struct tevent_queue_entry");
	assert_ptr_equal(talloc_parent(e), x);
	tevent_queue_entry_set_tag(e, 0xabcdef);
	assert_int_equal(tevent_queue_entry_get_tag(e), 0xabcdef);
	run_pending(ev);
	assert_string_equal(g_order, "");
	tevent_queue_start(q);
	run_pending(ev);
	assert_string_equal(g_order, "x");
	/* Removing the entry itself releases the queue. */
	struct tevent_req *y = tevent_req_create(ev, &s, struct st);
	tevent_queue_add(q, ev, y, trig_log, (void *)"y");
	talloc_free(e);
	run_pending(ev);
	assert_string_equal(g_order, "xy");
	assert_int_equal(tevent_queue_length(q), 1);

	/* Freeing the queue frees the entries, not the requests. */
	size_t blocks = talloc_total_blocks(y);
	talloc_free(q);
	assert_int_equal(talloc_total_blocks(y), blocks - 1);
	talloc_free(ev);
}

static struct tevent_queue_entry *g_entry;
static struct tevent_queue *g_queue;
static int g_untrigger_calls;

static void trig_untrigger(struct tevent_req *req, void *private_data)
{
	(void)private_data;
	if (g_untrigger_calls++ == 0) {
		tevent_queue_stop(g_queue);
		tevent_queue_entry_untrigger(g_entry);
		return;
	}
	tevent_req_done(req);
}

static void test_queue_untrigger(void **state)
{
	struct tevent_context *ev = tt_context(state);
	g_queue = tevent_queue_create(ev, "q");
	struct st *s;
	struct tevent_req *r = tevent_req_create(ev, &s, struct st);
	g_untrigger_calls = 0;
	g_entry = tevent_queue_add_entry(g_queue, ev, r, trig_untrigger, NULL);
	run_pending(ev);
	assert_int_equal(g_untrigger_calls, 1);
	assert_false(tevent_queue_running(g_queue));
	tevent_queue_start(g_queue);
	run_pending(ev);
	assert_int_equal(g_untrigger_calls, 2);
	assert_false(tevent_req_is_in_progress(r));
	talloc_free(ev);
}

static void test_queue_optimize_empty(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_queue *q = tevent_queue_create(ev, "q");
	struct st *s;
	g_order[0] = '\0';
	struct tevent_req *a = tevent_req_create(ev, &s, struct st);
	struct tevent_req *b = tevent_req_create(ev, &s, struct st);
	/* Empty queue, no callback yet: the trigger runs at once. */
	assert_non_null(tevent_queue_add_optimize_empty(q, ev, a, trig_done, (void *)"a"));
	assert_string_equal(g_order, "a");
	assert_false(tevent_req_is_in_progress(a));
	/* Not empty: queued as usual. */
	assert_non_null(tevent_queue_add_optimize_empty(q, ev, b, trig_done, (void *)"b"));
	assert_string_equal(g_order, "a");
	talloc_free(a);
	run_pending(ev);
	assert_string_equal(g_order, "ab");
	talloc_free(b);

	/* With a callback already set the trigger is deferred. */
	struct tevent_req *c = tevent_req_create(ev, &s, struct st);
	tevent_req_set_callback(c, cb_count, NULL);
	tevent_queue_add_optimize_empty(q, ev, c, trig_done, (void *)"c");
	assert_string_equal(g_order, "ab");
	run_pending(ev);
	assert_string_equal(g_order, "abc");
	talloc_free(c);
	talloc_free(ev);
}

static void test_queue_wait(void **state)
{
	reset_recorders();
	struct tevent_context *ev = tt_context(state);
	struct tevent_queue *q = tevent_queue_create(ev, "q");
	struct st *s;
	struct tevent_req *blocker = tevent_req_create(ev, &s, struct st);
	assert_true(tevent_queue_add(q, ev, blocker, NULL, NULL)); /* NULL trigger: a pure blocker */
	struct tevent_req *w1 = tevent_queue_wait_send(ev, ev, q);
	struct tevent_req *w2 = tevent_queue_wait_send(ev, ev, q);
	assert_string_equal(talloc_get_name(_tevent_req_data(w1)), "struct tevent_queue_wait_state");
	tevent_req_set_callback(w1, cb_count, NULL);
	tevent_req_set_callback(w2, cb_count, NULL);
	run_pending(ev);
	assert_int_equal(g_cb_calls, 0);
	talloc_free(blocker);
	run_pending(ev);
	assert_int_equal(g_cb_calls, 1);
	assert_ptr_equal(g_cb_req, w1);
	assert_true(tevent_queue_wait_recv(w1));
	check_state(w1, false, true, TEVENT_REQ_RECEIVED, 777);
	/* Received but not freed: still holding the queue. */
	run_pending(ev);
	assert_int_equal(g_cb_calls, 1);
	talloc_free(w1);
	run_pending(ev);
	assert_int_equal(g_cb_calls, 2);
	assert_true(tevent_queue_wait_recv(w2));
	talloc_free(w2);

	struct tevent_req *w3 = tevent_queue_wait_send(ev, ev, q);
	assert_false(tevent_queue_wait_recv(w3)); /* not done yet; received anyway */
	check_state(w3, false, true, TEVENT_REQ_RECEIVED, 777);
	talloc_free(ev);
}

/*
 * Whether `loc` names a place in the library the way upstream's do,
 * "../../tevent_queue.c:123": its build directory's path to the source
 * file, which is short and the same on every machine; no directory of the
 * machine it was built on.
 */
static void assert_library_location(const char *loc)
{
	assert_non_null(loc);
	assert_int_equal(strncmp(loc, "../../", 6), 0);
	const char *file = loc + 6;
	const char *colon = strchr(file, ':');
	assert_non_null(colon);
	assert_true(colon > file);
	assert_null(memchr(file, '/', (size_t)(colon - file)));
	assert_true(colon[1] >= '0' && colon[1] <= '9');
	assert_int_equal(strspn(colon + 1, "0123456789"), strlen(colon + 1));
}

/* Requests the library makes (and finishes) itself name its own files. */
static void test_library_locations(void **state)
{
	reset_recorders();
	struct tevent_context *ev = tt_context(state);
	struct tevent_queue *q = tevent_queue_create(ev, "q");
	struct tevent_req *w = tevent_queue_wait_send(ev, ev, q);
	assert_non_null(w);
	assert_true(tevent_req_set_profile(w));
	tevent_req_set_callback(w, cb_count, NULL);
	run_pending(ev);
	assert_int_equal(g_cb_calls, 1);

	/* tevent_req_print(): "tevent_req[%p/<create>]: ... finish[<finish>]" */
	char *text = tevent_req_print(ev, w);
	char *create = strchr(text, '/');
	assert_non_null(create);
	create++;
	char *end = strstr(create, "]: state[");
	assert_non_null(end);
	*end = '\0';
	assert_library_location(create);
	char *finish = strstr(end + 1, "finish[");
	assert_non_null(finish);
	finish += strlen("finish[");
	assert_int_equal(finish[strlen(finish) - 1], ']');
	finish[strlen(finish) - 1] = '\0';
	assert_library_location(finish);

	/* The profile keeps the same locations. */
	const struct tevent_req_profile *p = tevent_req_get_profile(w);
	assert_non_null(p);
	const char *loc = NULL;
	struct timeval tv;
	tevent_req_profile_get_start(p, &loc, &tv);
	assert_string_equal(loc, create);
	tevent_req_profile_get_stop(p, &loc, &tv);
	assert_string_equal(loc, finish);
	assert_true(tevent_queue_wait_recv(w));
	talloc_free(ev);
}

static int g_trace_points[MAX_EVENTS];
static uint64_t g_trace_tags[MAX_EVENTS];
static int g_trace_n;

static void qtrace(struct tevent_queue_entry *qe, enum tevent_event_trace_point tp, void *private_data)
{
	assert_string_equal((const char *)private_data, "pvt");
	g_trace_tags[g_trace_n] = tevent_queue_entry_get_tag(qe);
	g_trace_points[g_trace_n++] = (int)tp;
}

static void test_queue_trace(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_queue *q = tevent_queue_create(ev, "q");
	tevent_trace_queue_callback_t cb = NULL;
	void *pvt = NULL;
	tevent_set_trace_queue_callback(ev, qtrace, "pvt");
	tevent_get_trace_queue_callback(ev, &cb, &pvt);
	assert_ptr_equal(cb, qtrace);
	assert_string_equal((const char *)pvt, "pvt");
	g_trace_n = 0;
	struct st *s;
	struct tevent_req *r = tevent_req_create(ev, &s, struct st);
	struct tevent_queue_entry *e = tevent_queue_add_entry(q, ev, r, trig_log, (void *)"t");
	tevent_queue_entry_set_tag(e, 8);
	run_pending(ev);
	talloc_free(r);
	assert_int_equal(g_trace_n, 3);
	assert_int_equal(g_trace_points[0], TEVENT_EVENT_TRACE_ATTACH);
	assert_int_equal(g_trace_tags[0], 0);
	assert_int_equal(g_trace_points[1], TEVENT_EVENT_TRACE_BEFORE_HANDLER);
	assert_int_equal(g_trace_tags[1], 8);
	assert_int_equal(g_trace_points[2], TEVENT_EVENT_TRACE_DETACH);

	/* Direct trigger: attach, then before-handler. */
	g_trace_n = 0;
	r = tevent_req_create(ev, &s, struct st);
	tevent_queue_add_optimize_empty(q, ev, r, trig_log, (void *)"t");
	assert_int_equal(g_trace_n, 2);
	assert_int_equal(g_trace_points[1], TEVENT_EVENT_TRACE_BEFORE_HANDLER);
	talloc_free(r);
	tevent_set_trace_queue_callback(ev, NULL, NULL);
	tevent_get_trace_queue_callback(ev, &cb, &pvt);
	assert_null(cb);
	assert_null(pvt);
	talloc_free(ev);
}

/* ---- misuse -------------------------------------------------------------------------------- */

static void untrigger_running(void *arg)
{
	(void)arg;
	struct tevent_context *ev = tevent_context_init(NULL);
	struct tevent_queue *q = tevent_queue_create(ev, "q");
	struct st *s;
	struct tevent_req *r = tevent_req_create(ev, &s, struct st);
	struct tevent_queue_entry *e = tevent_queue_add_entry(q, ev, r, trig_log, (void *)"u");
	tevent_queue_entry_untrigger(e); /* queue still running */
}

static void untrigger_not_head(void *arg)
{
	(void)arg;
	struct tevent_context *ev = tevent_context_init(NULL);
	struct tevent_queue *q = tevent_queue_create(ev, "q");
	struct st *s;
	struct tevent_req *r1 = tevent_req_create(ev, &s, struct st);
	struct tevent_req *r2 = tevent_req_create(ev, &s, struct st);
	tevent_queue_add_entry(q, ev, r1, trig_log, (void *)"u");
	struct tevent_queue_entry *e2 = tevent_queue_add_entry(q, ev, r2, trig_log, (void *)"v");
	tevent_queue_stop(q);
	tevent_queue_entry_untrigger(e2);
}

static void test_misuse_aborts(void **state)
{
	(void)state;
	tt_assert_aborted(tt_run_in_child(untrigger_running, NULL));
	tt_assert_aborted(tt_run_in_child(untrigger_not_head, NULL));
}

#ifndef TEVENT_TEST_REFERENCE

/*
 * The pre-0.15 exports, which the current header hides behind macros that
 * pass the callback's name; parenthesised names reach the functions.
 */
void(tevent_req_set_callback)(struct tevent_req *req, tevent_req_fn fn, void *pvt);
void(tevent_req_set_cleanup_fn)(struct tevent_req *req, tevent_req_cleanup_fn fn);
bool(tevent_queue_add)(struct tevent_queue *queue, struct tevent_context *ev, struct tevent_req *req,
		       tevent_queue_trigger_fn_t trigger, void *private_data);
void(tevent_thread_call_depth_reset_from_req)(struct tevent_req *req);

/*
 * Where the reference abort()s silently or crashes, ours names the misuse
 * through the abort function and, if that returns, carries on unharmed.
 */
static char g_abort_reason[256];
static int g_abort_calls;

static void abort_capture(const char *reason)
{
	g_abort_calls++;
	snprintf(g_abort_reason, sizeof(g_abort_reason), "%s", reason);
}

static void test_misuse_reported(void **state)
{
	(void)state;
	struct tevent_context *ev = tevent_context_init(NULL);
	tevent_set_abort_fn(abort_capture);
	g_abort_calls = 0;

	struct tevent_queue *q = tevent_queue_create(ev, "q");
	struct st *s;
	struct tevent_req *r = tevent_req_create(ev, &s, struct st);
	struct tevent_queue_entry *e = tevent_queue_add_entry(q, ev, r, trig_log, (void *)"u");
	tevent_queue_entry_untrigger(e);
	assert_int_equal(g_abort_calls, 1);
	assert_non_null(strstr(g_abort_reason, "tevent_queue_entry_untrigger"));
	assert_non_null(strstr(g_abort_reason, "running"));

	struct tevent_req *r2 = tevent_req_create(ev, &s, struct st);
	struct tevent_queue_entry *e2 = tevent_queue_add_entry(q, ev, r2, trig_log, (void *)"v");
	tevent_queue_stop(q);
	tevent_queue_entry_untrigger(e2);
	assert_int_equal(g_abort_calls, 2);
	assert_non_null(strstr(g_abort_reason, "head"));

	/* tevent_req_post() after tevent_req_received(): the reference crashes. */
	struct tevent_req *done = tevent_req_create(ev, &s, struct st);
	tevent_req_received(done);
	assert_ptr_equal(tevent_req_post(done, ev), done);
	assert_int_equal(g_abort_calls, 3);
	assert_non_null(strstr(g_abort_reason, "tevent_req_post"));

	tevent_set_abort_fn(NULL);
	talloc_free(ev);
}

static void test_null_tolerated(void **state)
{
	(void)state;
	/* The reference dereferences these; ours fails softly. */
	assert_null(_tevent_req_data(NULL));
	assert_null(_tevent_req_callback_data(NULL));
	tevent_req_done(NULL);
	assert_true(tevent_req_error(NULL, 1));
	assert_false(tevent_req_is_in_progress(NULL));
	assert_false(tevent_req_set_profile(NULL));
	assert_null(tevent_req_get_profile(NULL));
	assert_int_equal(tevent_queue_length(NULL), 0);
	assert_false(tevent_queue_running(NULL));
	assert_false(tevent_queue_wait_recv(NULL));
	assert_false(tevent_wakeup_recv(NULL));
	tevent_req_received(NULL);
	tevent_req_set_callback(NULL, cb_count, NULL);
}

/* ---- tevent >= 0.15: call-flow tracking and named callbacks -------------------------- */

struct flow_event {
	enum tevent_thread_call_depth_cmd cmd;
	struct tevent_req *req;
	size_t depth;
	char fname[64];
};

static struct flow_event g_flow[MAX_EVENTS];
static int g_flow_n;

static void flow_record(void *private_data, enum tevent_thread_call_depth_cmd cmd, struct tevent_req *req,
			size_t depth, const char *fname)
{
	assert_string_equal((const char *)private_data, "flow");
	assert_true(g_flow_n < MAX_EVENTS);
	struct flow_event *f = &g_flow[g_flow_n++];
	f->cmd = cmd;
	f->req = req;
	f->depth = depth;
	snprintf(f->fname, sizeof(f->fname), "%s", fname ? fname : "(null)");
}

static void expect_flow(int i, enum tevent_thread_call_depth_cmd cmd, struct tevent_req *req, size_t depth,
			const char *fname)
{
	assert_true(i < g_flow_n);
	assert_int_equal(g_flow[i].cmd, cmd);
	assert_ptr_equal(g_flow[i].req, req);
	assert_int_equal(g_flow[i].depth, depth);
	assert_string_equal(g_flow[i].fname, fname);
}

/* Index of the first recorded event for (cmd, req), or -1. */
static int find_flow(enum tevent_thread_call_depth_cmd cmd, struct tevent_req *req)
{
	for (int i = 0; i < g_flow_n; i++) {
		if (g_flow[i].cmd == cmd && g_flow[i].req == req) {
			return i;
		}
	}
	return -1;
}

static void test_call_depth_enum(void **state)
{
	(void)state;
	assert_int_equal(TEVENT_CALL_FLOW_REQ_RESET, 0);
	assert_int_equal(TEVENT_CALL_FLOW_REQ_CREATE, 1);
	assert_int_equal(TEVENT_CALL_FLOW_REQ_CANCEL, 2);
	assert_int_equal(TEVENT_CALL_FLOW_REQ_CLEANUP, 3);
	assert_int_equal(TEVENT_CALL_FLOW_REQ_NOTIFY_CB, 4);
	assert_int_equal(TEVENT_CALL_FLOW_REQ_QUEUE_ENTER, 5);
	assert_int_equal(TEVENT_CALL_FLOW_REQ_QUEUE_TRIGGER, 6);
	assert_int_equal(TEVENT_CALL_FLOW_REQ_QUEUE_LEAVE, 7);
}

static void parent_done_cb(struct tevent_req *subreq)
{
	(void)subreq;
}

static void sub_cleanup(struct tevent_req *req, enum tevent_req_state state)
{
	(void)req;
	(void)state;
}

static bool sub_cancel(struct tevent_req *req)
{
	(void)req;
	return false;
}

static struct tevent_req *outer_send(TALLOC_CTX *mem, struct st **ps)
{
	return tevent_req_create(mem, ps, struct st);
}

static struct tevent_req *inner_send(TALLOC_CTX *mem)
{
	struct sub_st *s;
	return tevent_req_create(mem, &s, struct sub_st);
}

static void test_call_depth(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct st *s;
	g_flow_n = 0;
	tevent_thread_call_depth_set_callback(flow_record, "flow");

	struct tevent_req *outer = outer_send(mem, &s);
	expect_flow(0, TEVENT_CALL_FLOW_REQ_CREATE, outer, 0, "outer_send");
	struct tevent_req *inner = inner_send(s);
	expect_flow(1, TEVENT_CALL_FLOW_REQ_CREATE, inner, 1, "inner_send");
	struct tevent_req *innermost = inner_send(_tevent_req_data(inner));
	expect_flow(2, TEVENT_CALL_FLOW_REQ_CREATE, innermost, 2, "inner_send");
	/* Not on a request's state: a new top level. */
	struct tevent_req *loose = inner_send(inner);
	expect_flow(3, TEVENT_CALL_FLOW_REQ_CREATE, loose, 0, "inner_send");
	talloc_free(loose);

	tevent_thread_call_depth_reset_from_req(innermost);
	expect_flow(4, TEVENT_CALL_FLOW_REQ_RESET, innermost, 2, "test_call_depth");

	tevent_req_set_cancel_fn(inner, sub_cancel);
	assert_false(tevent_req_cancel(inner));
	expect_flow(5, TEVENT_CALL_FLOW_REQ_CANCEL, inner, 1, "sub_cancel");

	tevent_req_set_cleanup_fn(inner, sub_cleanup);
	tevent_req_set_callback(inner, parent_done_cb, outer);
	tevent_req_done(inner);
	expect_flow(6, TEVENT_CALL_FLOW_REQ_CLEANUP, inner, 1, "sub_cleanup");
	/* Calling back into the parent: the parent's depth. */
	expect_flow(7, TEVENT_CALL_FLOW_REQ_NOTIFY_CB, inner, 0, "parent_done_cb");
	assert_int_equal(g_flow_n, 8);

	/* No callback, no cleanup function: nothing reported. */
	tevent_req_done(outer);
	assert_int_equal(g_flow_n, 8);

	/* Freeing reports the cleanup (RECEIVED) through the same hook. */
	talloc_free(innermost);
	assert_int_equal(g_flow_n, 8);
	talloc_free(inner);
	expect_flow(8, TEVENT_CALL_FLOW_REQ_CLEANUP, inner, 1, "sub_cleanup");
	assert_int_equal(g_flow_n, 9);

	/* The old entry points: no name, and the activate API does nothing. */
	size_t ext = 1234;
	tevent_thread_call_depth_activate(&ext);
	tevent_thread_call_depth_start(outer);
	(tevent_thread_call_depth_reset_from_req)(outer);
	expect_flow(9, TEVENT_CALL_FLOW_REQ_RESET, outer, 0, "(null)");
	tevent_thread_call_depth_deactivate();
	assert_int_equal(ext, 1234);

	tevent_thread_call_depth_set_callback(NULL, NULL);
	g_flow_n = 0;
	struct tevent_req *quiet = outer_send(mem, &s);
	tevent_thread_call_depth_reset_from_req(quiet);
	assert_int_equal(g_flow_n, 0);
	talloc_free(mem);
}

static void queue_trigger_named(struct tevent_req *req, void *private_data)
{
	(void)req;
	(void)private_data;
}

static void test_call_depth_queue(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_queue *q = tevent_queue_create(ev, "q");
	struct st *s;
	struct sub_st *ss;
	struct tevent_req *parent = tevent_req_create(ev, &s, struct st);
	struct tevent_req *sub = tevent_req_create(s, &ss, struct sub_st);
	g_flow_n = 0;
	tevent_thread_call_depth_set_callback(flow_record, "flow");
	assert_true(tevent_queue_add(q, ev, sub, queue_trigger_named, NULL));
	expect_flow(0, TEVENT_CALL_FLOW_REQ_QUEUE_ENTER, sub, 1, "queue_trigger_named");
	run_pending(ev); /* (its helper request reports its own events) */
	int t = find_flow(TEVENT_CALL_FLOW_REQ_QUEUE_TRIGGER, sub);
	assert_true(t > 0);
	expect_flow(t, TEVENT_CALL_FLOW_REQ_QUEUE_TRIGGER, sub, 1, "queue_trigger_named");
	int n = g_flow_n;
	talloc_free(sub);
	expect_flow(n, TEVENT_CALL_FLOW_REQ_QUEUE_LEAVE, sub, 1, "queue_trigger_named");

	/* Direct trigger of optimize_empty reports the trigger too. */
	g_flow_n = 0;
	struct tevent_req *d = tevent_req_create(ev, &ss, struct sub_st);
	tevent_queue_add_optimize_empty(q, ev, d, queue_trigger_named, NULL);
	expect_flow(1, TEVENT_CALL_FLOW_REQ_QUEUE_ENTER, d, 0, "queue_trigger_named");
	expect_flow(2, TEVENT_CALL_FLOW_REQ_QUEUE_TRIGGER, d, 0, "queue_trigger_named");

	/* A NULL trigger (a blocker) keeps the stringified name. */
	struct tevent_req *b = tevent_req_create(ev, &ss, struct sub_st);
	g_flow_n = 0;
	tevent_queue_add_entry(q, ev, b, NULL, NULL);
	expect_flow(0, TEVENT_CALL_FLOW_REQ_QUEUE_ENTER, b, 0, "NULL");

	/* The old unnamed entry points pass no name. */
	struct tevent_req *o = tevent_req_create(ev, &ss, struct sub_st);
	g_flow_n = 0;
	(tevent_queue_add)(q, ev, o, queue_trigger_named, NULL);
	expect_flow(0, TEVENT_CALL_FLOW_REQ_QUEUE_ENTER, o, 0, "(null)");

	tevent_thread_call_depth_set_callback(NULL, NULL);
	talloc_free(parent);
	talloc_free(ev);
}

static void *thread_creates(void *arg)
{
	(void)arg;
	struct st *s;
	struct tevent_req *r = tevent_req_create(NULL, &s, struct st);
	talloc_free(r);
	return NULL;
}

static void test_call_depth_per_thread(void **state)
{
	(void)state;
	g_flow_n = 0;
	tevent_thread_call_depth_set_callback(flow_record, "flow");
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, thread_creates, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(g_flow_n, 0);
	tevent_thread_call_depth_set_callback(NULL, NULL);
}

static void named_cb(struct tevent_req *req)
{
	(void)req;
}

static void test_named_old_and_new(void **state)
{
	(void)state;
	struct st *s;
	g_flow_n = 0;
	tevent_thread_call_depth_set_callback(flow_record, "flow");
	/* Old export: no function name. */
	struct tevent_req *r = _tevent_req_create(NULL, &s, sizeof(struct st), "struct st", __location__);
	expect_flow(0, TEVENT_CALL_FLOW_REQ_CREATE, r, 0, "(null)");
	(tevent_req_set_callback)(r, named_cb, NULL);
	(tevent_req_set_cleanup_fn)(r, sub_cleanup);
	tevent_req_done(r);
	expect_flow(1, TEVENT_CALL_FLOW_REQ_CLEANUP, r, 0, "(null)");
	expect_flow(2, TEVENT_CALL_FLOW_REQ_NOTIFY_CB, r, 0, "(null)");
	talloc_free(r);
	/* New: explicit names. */
	g_flow_n = 0;
	r = __tevent_req_create(NULL, &s, sizeof(struct st), "struct st", "my_send", __location__);
	expect_flow(0, TEVENT_CALL_FLOW_REQ_CREATE, r, 0, "my_send");
	_tevent_req_set_callback(r, named_cb, "my_cb", NULL);
	tevent_req_error(r, 1);
	expect_flow(1, TEVENT_CALL_FLOW_REQ_NOTIFY_CB, r, 0, "my_cb");
	talloc_free(r);
	tevent_thread_call_depth_set_callback(NULL, NULL);
}

#endif /* !TEVENT_TEST_REFERENCE */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_done),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_nomem_oom),
		cmocka_unit_test(test_timed_out),
		cmocka_unit_test(test_received_and_free),
		cmocka_unit_test(test_cleanup_order),
		cmocka_unit_test(test_cleanup_refinish),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_post_and_defer),
		cmocka_unit_test(test_wakeup),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_queue_order),
		cmocka_unit_test(test_queue_untrigger),
		cmocka_unit_test(test_queue_optimize_empty),
		cmocka_unit_test(test_queue_wait),
		cmocka_unit_test(test_library_locations),
		cmocka_unit_test(test_queue_trace),
		cmocka_unit_test(test_misuse_aborts),
#ifndef TEVENT_TEST_REFERENCE
		cmocka_unit_test(test_misuse_reported),
		cmocka_unit_test(test_null_tolerated),
		cmocka_unit_test(test_call_depth_enum),
		cmocka_unit_test(test_call_depth),
		cmocka_unit_test(test_call_depth_queue),
		cmocka_unit_test(test_call_depth_per_thread),
		cmocka_unit_test(test_named_old_and_new),
#endif
	};
	return cmocka_run_group_tests_name("tevent_req (" TT_IMPL ")", tests, NULL, NULL);
}

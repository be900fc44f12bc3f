/*
 * Timers on every backend: deadline order, insertion order for equal
 * deadlines, tevent_update_timer, cancellation, one expired timer per
 * iteration, and the timeval helpers.
 */
#include "common.h"

#define MAX_SEQ 32

struct seq {
	int ids[MAX_SEQ];
	int n;
};

struct timer_rec {
	struct seq *seq;
	int id;
	struct timeval deadline;
	struct timeval seen_now;
	struct tevent_timer **victim;
	struct tevent_context *add_on;	/* add a "now" timer from the handler */
};

static void timer_handler(struct tevent_context *ev, struct tevent_timer *te, struct timeval now,
			  void *private_data)
{
	struct timer_rec *r = private_data;
	(void)ev;
	(void)te;
	assert_true(r->seq->n < MAX_SEQ);
	r->seq->ids[r->seq->n++] = r->id;
	r->seen_now = now;
	if (r->victim != NULL && *r->victim != NULL) {
		talloc_free(*r->victim);
		*r->victim = NULL;
	}
}

static struct tevent_timer *add(struct tevent_context *ev, struct timer_rec *r, struct seq *s, int id,
				struct timeval tv)
{
	*r = (struct timer_rec){.seq = s, .id = id, .deadline = tv};
	struct tevent_timer *te = tevent_add_timer(ev, ev, tv, timer_handler, r);
	assert_non_null(te);
	return te;
}

static void assert_seq(const struct seq *s, const int *expect, int n)
{
	assert_int_equal(s->n, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(s->ids[i], expect[i]);
	}
}

static void test_deadline_order(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {0};
	struct timer_rec r[4];
	/* One base time, so a slow machine cannot reorder the deadlines. */
	struct timeval base = tevent_timeval_current();
	add(ev, &r[0], &s, 30, tevent_timeval_add(&base, 0, 30000));
	add(ev, &r[1], &s, 10, tevent_timeval_add(&base, 0, 10000));
	add(ev, &r[2], &s, 20, tevent_timeval_add(&base, 0, 20000));
	add(ev, &r[3], &s, 25, tevent_timeval_add(&base, 0, 25000));
	tt_loop_until_count(ev, &s.n, 4);
	const int expect[] = {10, 20, 25, 30};
	assert_seq(&s, expect, 4);
	for (int i = 0; i < 4; i++) {
		/* The handler is told a time no earlier than its deadline. */
		assert_true(tevent_timeval_compare(&r[i].seen_now, &r[i].deadline) >= 0);
	}
	talloc_free(ev);
}

static void test_equal_deadlines_in_insertion_order(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {0};
	struct timer_rec r[6];
	struct timeval tv = tevent_timeval_current_ofs(0, 5000);
	struct timeval later = tevent_timeval_add(&tv, 0, 1000);
	add(ev, &r[0], &s, 1, tv);
	add(ev, &r[1], &s, 2, tv);
	add(ev, &r[2], &s, 6, later);
	add(ev, &r[3], &s, 3, tv);
	add(ev, &r[4], &s, 4, tv);
	add(ev, &r[5], &s, 5, tv);
	tt_loop_until_count(ev, &s.n, 6);
	const int expect[] = {1, 2, 3, 4, 5, 6};
	assert_seq(&s, expect, 6);
	talloc_free(ev);
}

static void test_zero_and_past_timers(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {0};
	struct timer_rec r[4];
	add(ev, &r[0], &s, 3, tevent_timeval_current_ofs(0, 1000));
	add(ev, &r[1], &s, 1, tevent_timeval_zero());
	add(ev, &r[2], &s, 2, tevent_timeval_zero());
	add(ev, &r[3], &s, 0, tevent_timeval_set(1, 0));	/* long past */
	tt_loop_until_count(ev, &s.n, 4);
	const int expect[] = {1, 2, 0, 3};	/* zero is the earliest time of all */
	assert_seq(&s, expect, 4);
	talloc_free(ev);
}

static void test_update_timer(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {0};
	struct timer_rec r[3];
	struct timeval base = tevent_timeval_current();	/* see test_deadline_order */
	struct tevent_timer *t1 = add(ev, &r[0], &s, 1, tevent_timeval_add(&base, 0, 10000));
	add(ev, &r[1], &s, 2, tevent_timeval_add(&base, 0, 20000));
	struct tevent_timer *t3 = add(ev, &r[2], &s, 3, tevent_timeval_add(&base, 0, 30000));
	tevent_update_timer(t1, tevent_timeval_add(&base, 0, 40000));
	tevent_update_timer(t3, tevent_timeval_add(&base, 0, 5000));
	tt_loop_until_count(ev, &s.n, 3);
	const int expect[] = {3, 2, 1};
	assert_seq(&s, expect, 3);
	talloc_free(ev);
}

static void test_update_to_equal_deadline_goes_last(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {0};
	struct timer_rec r[3];
	struct timeval tv = tevent_timeval_current_ofs(0, 20000);
	struct tevent_timer *t1 = add(ev, &r[0], &s, 1, tevent_timeval_current_ofs(0, 1000));
	add(ev, &r[1], &s, 2, tv);
	add(ev, &r[2], &s, 3, tv);
	/* Moved onto an existing deadline: behind the timers already there. */
	tevent_update_timer(t1, tv);
	tt_loop_until_count(ev, &s.n, 3);
	const int expect[] = {2, 3, 1};
	assert_seq(&s, expect, 3);
	talloc_free(ev);
}

static void test_one_timer_per_iteration(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {0};
	struct timer_rec r[3];
	for (int i = 0; i < 3; i++) {
		add(ev, &r[i], &s, i, tevent_timeval_current_ofs(0, 0));
	}
	usleep(2000);
	assert_int_equal(tevent_loop_once(ev), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(tevent_loop_once(ev), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(tevent_loop_once(ev), 0);
	assert_int_equal(s.n, 3);
	talloc_free(ev);
}

static void test_free_cancels(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {0};
	struct timer_rec r[4];
	add(ev, &r[0], &s, 1, tevent_timeval_current_ofs(0, 1000));
	struct tevent_timer *t2 = add(ev, &r[1], &s, 2, tevent_timeval_current_ofs(0, 2000));
	struct tevent_timer *t3 = add(ev, &r[2], &s, 3, tevent_timeval_current_ofs(0, 3000));
	add(ev, &r[3], &s, 4, tevent_timeval_current_ofs(0, 20000));
	talloc_free(t2);
	r[0].victim = &t3;	/* timer 1 cancels timer 3 */
	tt_loop_until_count(ev, &s.n, 2);
	const int expect[] = {1, 4};
	assert_seq(&s, expect, 2);
	assert_null(t3);
	talloc_free(ev);
}

static void test_timer_added_in_handler_runs_later(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {0};
	struct timer_rec r[2];
	struct timer_rec inner;
	add(ev, &r[0], &s, 1, tevent_timeval_zero());
	add(ev, &r[1], &s, 2, tevent_timeval_zero());
	assert_int_equal(tevent_loop_once(ev), 0);
	assert_int_equal(s.n, 1);
	add(ev, &inner, &s, 3, tevent_timeval_zero());
	tt_loop_until_count(ev, &s.n, 3);
	const int expect[] = {1, 2, 3};
	assert_seq(&s, expect, 3);
	talloc_free(ev);
}

static void test_timer_waits(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {0};
	struct timer_rec r;
	double t0 = tt_now();
	add(ev, &r, &s, 1, tevent_timeval_current_ofs(0, 100 * 1000));
	tt_loop_until_count(ev, &s.n, 1);
	double elapsed = tt_now() - t0;
	assert_true(elapsed >= 0.095);
	assert_true(elapsed < 2.0);
	talloc_free(ev);
}

static void test_parent_free_and_context_free(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {0};
	struct timer_rec r[2];
	TALLOC_CTX *parent = talloc_new(NULL);
	r[0] = (struct timer_rec){.seq = &s, .id = 1};
	assert_non_null(tevent_add_timer(ev, parent, tevent_timeval_zero(), timer_handler, &r[0]));
	add(ev, &r[1], &s, 2, tevent_timeval_current_ofs(0, 2000));
	talloc_free(parent);
	tt_loop_until_count(ev, &s.n, 1);
	assert_int_equal(s.ids[0], 2);
	/* Pending timers die with their context without being called. */
	add(ev, &r[1], &s, 3, tevent_timeval_zero());
	talloc_free(ev);
	assert_int_equal(s.n, 1);
}

static void test_timeval_helpers(void **state)
{
	(void)state;
	struct timeval a = tevent_timeval_set(10, 500000);
	struct timeval b = tevent_timeval_add(&a, 1, 600000);
	assert_int_equal(b.tv_sec, 12);
	assert_int_equal(b.tv_usec, 100000);
	assert_int_equal(tevent_timeval_compare(&a, &b), -1);
	assert_int_equal(tevent_timeval_compare(&b, &a), 1);
	assert_int_equal(tevent_timeval_compare(&a, &a), 0);
	struct timeval d = tevent_timeval_until(&a, &b);
	assert_int_equal(d.tv_sec, 1);
	assert_int_equal(d.tv_usec, 600000);
	d = tevent_timeval_until(&b, &a);	/* the past: zero */
	assert_true(tevent_timeval_is_zero(&d));
	struct timeval z = tevent_timeval_zero();
	assert_true(tevent_timeval_is_zero(&z));
	assert_false(tevent_timeval_is_zero(&a));
	struct timeval now = tevent_timeval_current();
	struct timeval ofs = tevent_timeval_current_ofs(3, 0);
	assert_true(tevent_timeval_compare(&ofs, &now) > 0);
	d = tevent_timeval_until(&now, &ofs);
	assert_true(d.tv_sec == 2 || d.tv_sec == 3);
}

int main(void)
{
	alarm(300);
	const struct CMUnitTest tests[] = {
		PER_BACKEND(test_deadline_order),
		PER_BACKEND(test_equal_deadlines_in_insertion_order),
		PER_BACKEND(test_zero_and_past_timers),
		PER_BACKEND(test_update_timer),
		PER_BACKEND(test_update_to_equal_deadline_goes_last),
		PER_BACKEND(test_one_timer_per_iteration),
		PER_BACKEND(test_free_cancels),
		PER_BACKEND(test_timer_added_in_handler_runs_later),
		PER_BACKEND(test_timer_waits),
		PER_BACKEND(test_parent_free_and_context_free),
		cmocka_unit_test(test_timeval_helpers),
	};
	return cmocka_run_group_tests_name("tevent timers (" TT_IMPL ")", tests, NULL, NULL);
}

/*
 * Immediates on every backend: FIFO order, one per iteration, rescheduling
 * (also from inside the handler), cancelling by NULL handler, by free and
 * (0.17) by tevent_reset_immediate, and their precedence over timers.
 */
#include "common.h"

#define MAX_SEQ 64

struct seq {
	char names[MAX_SEQ];
	int n;
};

struct im_rec {
	struct seq *seq;
	char name;
	int again;			/* reschedule itself this many more times */
	struct tevent_immediate **victim;	/* freed by the handler */
	bool free_self;
	int calls;
};

static void im_handler(struct tevent_context *ev, struct tevent_immediate *im, void *private_data)
{
	struct im_rec *r = private_data;
	assert_true(r->seq->n < MAX_SEQ - 1);
	r->seq->names[r->seq->n++] = r->name;
	r->seq->names[r->seq->n] = '\0';
	r->calls++;
	if (r->again > 0) {
		r->again--;
		tevent_schedule_immediate(im, ev, im_handler, r);
	}
	if (r->victim != NULL && *r->victim != NULL) {
		talloc_free(*r->victim);
		*r->victim = NULL;
	}
	if (r->free_self) {
		talloc_free(im);
	}
}

static void timer_handler(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)ev;
	(void)te;
	(void)now;
	struct im_rec *r = p;
	r->seq->names[r->seq->n++] = r->name;
	r->seq->names[r->seq->n] = '\0';
}

static struct tevent_immediate *sched(struct tevent_context *ev, struct im_rec *r, struct seq *s, char name)
{
	*r = (struct im_rec){.seq = s, .name = name};
	struct tevent_immediate *im = tevent_create_immediate(ev);
	assert_non_null(im);
	tevent_schedule_immediate(im, ev, im_handler, r);
	return im;
}

/* Runs iterations until nothing more happens for a short while. */
static void drain(struct tevent_context *ev, struct seq *s)
{
	for (;;) {
		int before = s->n;
		bool fired = false;
		struct tevent_timer *te = tevent_add_timer(ev, NULL, tevent_timeval_current_ofs(0, 30000),
							   tt_deadline_handler, &fired);
		assert_int_equal(tevent_loop_once(ev), 0);
		if (fired && s->n == before) {
			return;
		}
		if (!fired) {
			talloc_free(te);
		}
	}
}

static void test_fifo_one_per_iteration(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {{0}, 0};
	struct im_rec r[3];
	sched(ev, &r[0], &s, 'a');
	sched(ev, &r[1], &s, 'b');
	sched(ev, &r[2], &s, 'c');
	assert_int_equal(tevent_loop_once(ev), 0);
	assert_string_equal(s.names, "a");
	assert_int_equal(tevent_loop_once(ev), 0);
	assert_string_equal(s.names, "ab");
	assert_int_equal(tevent_loop_once(ev), 0);
	assert_string_equal(s.names, "abc");
	drain(ev, &s);
	assert_string_equal(s.names, "abc");
	talloc_free(ev);
}

static void test_reschedule_moves_to_end(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {{0}, 0};
	struct im_rec r[3];
	struct tevent_immediate *a = sched(ev, &r[0], &s, 'a');
	sched(ev, &r[1], &s, 'b');
	sched(ev, &r[2], &s, 'c');
	tevent_schedule_immediate(a, ev, im_handler, &r[0]);
	drain(ev, &s);
	assert_string_equal(s.names, "bca");
	talloc_free(ev);
}

static void test_reschedule_from_handler(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {{0}, 0};
	struct im_rec r[2];
	sched(ev, &r[0], &s, 'a');
	r[0].again = 3;
	sched(ev, &r[1], &s, 'b');
	drain(ev, &s);
	/* Rescheduled from its handler, 'a' queues behind 'b'. */
	assert_string_equal(s.names, "abaaa");
	assert_int_equal(r[0].calls, 4);
	assert_int_equal(r[1].calls, 1);
	talloc_free(ev);
}

static void test_null_handler_cancels(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {{0}, 0};
	struct im_rec r[3];
	sched(ev, &r[0], &s, 'a');
	struct tevent_immediate *b = sched(ev, &r[1], &s, 'b');
	sched(ev, &r[2], &s, 'c');
	tevent_schedule_immediate(b, ev, NULL, NULL);
	drain(ev, &s);
	assert_string_equal(s.names, "ac");
	/* Still usable afterwards. */
	tevent_schedule_immediate(b, ev, im_handler, &r[1]);
	drain(ev, &s);
	assert_string_equal(s.names, "acb");
	talloc_free(ev);
}

static void test_free_cancels(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {{0}, 0};
	struct im_rec r[4];
	struct tevent_immediate *a = sched(ev, &r[0], &s, 'a');
	sched(ev, &r[1], &s, 'b');
	struct tevent_immediate *c = sched(ev, &r[2], &s, 'c');
	sched(ev, &r[3], &s, 'd');
	talloc_free(a);
	r[1].victim = &c;	/* 'b' frees 'c' before it runs */
	r[3].free_self = true;
	drain(ev, &s);
	assert_string_equal(s.names, "bd");
	assert_null(c);
	talloc_free(ev);
}

static void test_parent_free_and_context_free(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {{0}, 0};
	struct im_rec r[3];
	TALLOC_CTX *parent = talloc_new(NULL);
	r[0] = (struct im_rec){.seq = &s, .name = 'a'};
	struct tevent_immediate *a = tevent_create_immediate(parent);
	assert_non_null(a);
	assert_ptr_equal(talloc_parent(a), parent);
	tevent_schedule_immediate(a, ev, im_handler, &r[0]);
	sched(ev, &r[1], &s, 'b');
	talloc_free(parent);
	drain(ev, &s);
	assert_string_equal(s.names, "b");

	/* An immediate outliving its context: pending, then the context goes. */
	TALLOC_CTX *keep = talloc_new(NULL);
	r[2] = (struct im_rec){.seq = &s, .name = 'c'};
	struct tevent_immediate *c = tevent_create_immediate(keep);
	tevent_schedule_immediate(c, ev, im_handler, &r[2]);
	talloc_free(ev);
	assert_string_equal(s.names, "b");
	talloc_free(keep);	/* freeing it after the context is fine */
}

static void test_immediates_before_timers(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {{0}, 0};
	struct im_rec r[3];
	struct im_rec t = {.seq = &s, .name = 'T'};
	assert_non_null(tevent_add_timer(ev, ev, tevent_timeval_zero(), timer_handler, &t));
	sched(ev, &r[0], &s, 'a');
	sched(ev, &r[1], &s, 'b');
	drain(ev, &s);
	assert_string_equal(s.names, "abT");
	talloc_free(ev);
}

static void test_tag(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct tevent_immediate *im = tevent_create_immediate(ev);
	assert_int_equal(tevent_immediate_get_tag(im), 0);
	tevent_immediate_set_tag(im, UINT64_C(0x1122334455667788));
	assert_int_equal(tevent_immediate_get_tag(im), UINT64_C(0x1122334455667788));
	talloc_free(ev);
}

#ifndef TEVENT_TEST_REFERENCE
/* tevent_reset_immediate is tevent 0.17 API. */
static void test_reset(void **state)
{
	struct tevent_context *ev = tt_context(state);
	struct seq s = {{0}, 0};
	struct im_rec r[3];
	sched(ev, &r[0], &s, 'a');
	struct tevent_immediate *b = sched(ev, &r[1], &s, 'b');
	sched(ev, &r[2], &s, 'c');
	tevent_reset_immediate(b);
	tevent_reset_immediate(b);	/* idempotent */
	drain(ev, &s);
	assert_string_equal(s.names, "ac");
	tevent_schedule_immediate(b, ev, im_handler, &r[1]);
	drain(ev, &s);
	assert_string_equal(s.names, "acb");
	struct tevent_immediate *never = tevent_create_immediate(ev);
	tevent_reset_immediate(never);	/* never scheduled: nothing to undo */
	drain(ev, &s);
	assert_string_equal(s.names, "acb");
	talloc_free(ev);
}
#endif

int main(void)
{
	alarm(300);
	const struct CMUnitTest tests[] = {
		PER_BACKEND(test_fifo_one_per_iteration),
		PER_BACKEND(test_reschedule_moves_to_end),
		PER_BACKEND(test_reschedule_from_handler),
		PER_BACKEND(test_null_handler_cancels),
		PER_BACKEND(test_free_cancels),
		PER_BACKEND(test_parent_free_and_context_free),
		PER_BACKEND(test_immediates_before_timers),
		cmocka_unit_test(test_tag),
#ifndef TEVENT_TEST_REFERENCE
		PER_BACKEND(test_reset),
#endif
	};
	return cmocka_run_group_tests_name("tevent immediates (" TT_IMPL ")", tests, NULL, NULL);
}

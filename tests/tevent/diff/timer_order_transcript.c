/*
 * Differential transcript of the order timers fire in.
 *
 * Built against Debian's tevent.h/talloc.h and libraries, run by
 * run-tevent-diff.sh on the reference and on ours; the transcripts must be
 * identical.  Every timer is due already, so the order is the library's
 * alone: deadlines rising in order ("now + a constant"), random ones from
 * a few values (ties are common: equal deadlines fire in the order added
 * or last moved), zero deadlines added with tevent_add_timer() (its
 * last-zero shortcut), with tevent_common_add_timer() and moved to zero
 * by tevent_update_timer(), and tv_usec out of range (compared field by
 * field).  Timers are freed and moved while pending, and handlers add
 * timers (one coming again), free and move other ones.  The transcript
 * lists the ids in firing order, "x<id>" where a pending one was freed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>
#define TEVENT_DEPRECATED 1
#include <tevent.h>

#define TRANSCRIPT_NAME "timer_order_transcript"
#include "transcript.h"

#include "../../../compat/tevent_internal.h"

#define MAX_TIMERS 6000

static uint64_t rng_state;
static unsigned pick(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((rng_state >> 33) % n);
}

struct slot {
	struct tevent_timer *te;
	int id;
};

static struct slot slots[MAX_TIMERS];
static int nslots;
static int pending;
static struct timeval base;
static long rising;
static char out[120];
static size_t out_len;

static void flush_line(void)
{
	if (out_len > 0) say("%s\n", out);
	out_len = 0;
	out[0] = '\0';
}

static void note_id(const char *prefix, int id)
{
	if (out_len > 100) flush_line();
	out_len += (size_t)snprintf(out + out_len, sizeof(out) - out_len, " %s%d", prefix, id);
}

/* A deadline of one of the kinds above, all in the past. */
static struct timeval deadline(int kind)
{
	switch (kind) {
	case 0:
		return tevent_timeval_zero();
	case 1:
		/* random, from 8 values a millisecond apart */
		return tevent_timeval_add(&base, 0, pick(8) * 1000);
	case 2: {
		/* out of range: after every normal time of that second */
		struct timeval t = tevent_timeval_set((uint32_t)(base.tv_sec + pick(3)), 1000000 + pick(3) * 500000);
		return t;
	}
	default:
		/* rising, repeats too */
		rising += pick(3);
		return tevent_timeval_add(&base, 1 + rising / 1000000, rising % 1000000);
	}
}

static int random_kind(void)
{
	unsigned r = pick(10);
	return r < 2 ? 0 : r < 4 ? 1 : r < 5 ? 2 : 3;
}

static void handler(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p);

static void add_one(struct tevent_context *ev)
{
	if (nslots == MAX_TIMERS) return;
	struct slot *s = &slots[nslots];
	s->id = nslots++;
	int kind = random_kind();
	struct timeval when = deadline(kind);
	/* now and then the internal v1 entry point (no zero shortcut) */
	if (pick(8) == 0) {
		s->te = tevent_common_add_timer(ev, ev, when, handler, s, "order", "timer_order_transcript.c");
	} else {
		s->te = tevent_add_timer(ev, ev, when, handler, s);
	}
	if (s->te == NULL) die("tevent_add_timer");
	pending++;
}

/* A pending timer other than `self', or NULL. */
static struct slot *some_pending(struct slot *self)
{
	if (nslots == 0) return NULL;
	int start = (int)pick((unsigned)nslots);
	for (int k = 0; k < nslots; k++) {
		struct slot *s = &slots[(start + k) % nslots];
		if (s->te != NULL && s != self) return s;
	}
	return NULL;
}

static void act(struct tevent_context *ev, struct slot *self)
{
	struct slot *s;
	switch (pick(12)) {
	case 0:
	case 1:
		add_one(ev);
		break;
	case 2:
		s = some_pending(self);
		if (s != NULL) {
			note_id("x", s->id);
			TALLOC_FREE(s->te);
			pending--;
		}
		break;
	case 3:
	case 4:
		s = some_pending(self);
		if (s != NULL) tevent_update_timer(s->te, deadline(random_kind()));
		break;
	default:
		break;
	}
}

static void handler(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	struct slot *self = p;
	(void)now;
	note_id("", self->id);
	if (self->te != te) die("wrong timer");
	self->te = NULL;
	pending--;
	/* Comes again: a new timer from the handler (the reference frees a
	 * timer after its handler even when the handler moved it, so that is
	 * not compared). */
	if (pick(6) == 0) add_one(ev);
	act(ev, self);
}

static void run(const char *backend, unsigned seed)
{
	struct tevent_context *ev = tevent_context_init_byname(NULL, backend);
	if (ev == NULL) die("tevent_context_init_byname");
	rng_state = seed;
	nslots = 0;
	pending = 0;
	rising = 0;
	base = tevent_timeval_current();
	base.tv_sec -= 1000;
	/* On a whole second: the deadlines made from base then compare the
	 * same way in both runs (with the clock's microseconds, a deadline a
	 * few milliseconds later crossed into the next second in one run and
	 * not in the other, and the transcripts differed). */
	base.tv_usec = 0;
	say("== %s seed %u\n", backend, seed);

	/* Timers in order first (the common case), then every kind. */
	for (int i = 0; i < 300; i++) {
		struct slot *s = &slots[nslots];
		s->id = nslots++;
		s->te = tevent_add_timer(ev, ev, deadline(3), handler, s);
		if (s->te == NULL) die("tevent_add_timer");
		pending++;
	}
	for (int i = 0; i < 1500; i++) {
		add_one(ev);
		if (pick(4) == 0) act(ev, NULL);
	}
	/* Fire all, doing more of the same between iterations. */
	while (pending > 0) {
		if (tevent_loop_once(ev) != 0) die("tevent_loop_once");
		if (pick(5) == 0) act(ev, NULL);
	}
	flush_line();
	say("slots %d\n", nslots);
	talloc_free(ev);
}

int main(void)
{
	check_mapped((const void *)tevent_context_init, "libtevent", "TEVENT_DIFF_EXPECT_LIB");
	check_mapped((const void *)talloc_named_const, "libtalloc", "TEVENT_DIFF_EXPECT_TALLOC");
	alarm(120);
	const char *backends[] = {"epoll", "poll", "standard"};
	for (int i = 0; i < 3; i++) {
		run(backends[i], 17u + (unsigned)i);
		run(backends[i], 20240601u + (unsigned)i);
	}
	say("== end\n");
	return 0;
}

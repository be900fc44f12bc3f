/*
 * The parts of a custom tevent backend that every poll(2)-based one built
 * on the exported tevent_common_* helpers has in common, shared by
 * api_backend.c (cmocka, both libraries) and diff/tevent_core_diff.c
 * (differential transcript).
 *
 * Written as a C program has to write a backend: only tevent.h, talloc.h
 * and the helpers libtevent exports.  Upstream's header for those is not
 * installed; compat/tevent_internal.h declares them.
 *
 * What stays with each user: how it keeps track of its fd events (its
 * context_init and add_fd, and the `collect' callback that turns them
 * into a pollfd array), and what it does with an event that its handler
 * freed.  Include after <talloc.h> and <tevent.h>.
 */
#ifndef TESTS_TEVENT_CUSTOM_BACKEND_H
#define TESTS_TEVENT_CUSTOM_BACKEND_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

/* Exported by libtevent (every version since 0.9.x) but not declared in
 * the installed tevent.h; the project's one list of them. */
#include "../../compat/tevent_internal.h"

/*
 * How often the library called each op: what the tests check to see that
 * the public API goes through the backend.  The user's context_init and
 * add_fd count themselves here too; fail_init makes its context_init fail.
 */
static struct {
	int inits, add_fd, set_close_fn, get_flags, set_flags;
	int fail_init;
} cbk_calls;

/* The fd ops the helpers can serve as they are, counted. */
static void cbk_set_fd_close_fn(struct tevent_fd *fde, tevent_fd_close_fn_t close_fn)
{
	cbk_calls.set_close_fn++;
	tevent_common_fd_set_close_fn(fde, close_fn);
}

static uint16_t cbk_get_fd_flags(struct tevent_fd *fde)
{
	cbk_calls.get_flags++;
	return tevent_common_fd_get_flags(fde);
}

static void cbk_set_fd_flags(struct tevent_fd *fde, uint16_t flags)
{
	cbk_calls.set_flags++;
	tevent_common_fd_set_flags(fde, flags);
}

/* The helper is the _v2 one; the ops table wants the op's own name. */
static struct tevent_timer *cbk_add_timer(struct tevent_context *ev, TALLOC_CTX *mem_ctx,
					  struct timeval next_event, tevent_timer_handler_t handler,
					  void *private_data, const char *handler_name, const char *location)
{
	return tevent_common_add_timer_v2(ev, mem_ctx, next_event, handler, private_data, handler_name, location);
}

static int cbk_loop_wait(struct tevent_context *ev, const char *location)
{
	return tevent_common_loop_wait(ev, location);
}

/* The poll(2) events for what an fd event asks for. */
static short cbk_poll_events(uint16_t want)
{
	return (short)(((want & TEVENT_FD_READ) ? POLLIN : 0) | ((want & TEVENT_FD_WRITE) ? POLLOUT : 0));
}

/* The most fd events one iteration polls. */
#define CBK_MAX_FDS 64

/* Fills pfds[i] (fd and events; revents cleared) and fdes[i] for at most
 * `max' of the context's fd events, returns how many. */
typedef nfds_t (*cbk_collect_fn)(struct tevent_context *ev, struct pollfd *pfds, struct tevent_fd **fdes,
				 nfds_t max);

/*
 * One iteration in the order the built-in backends keep: pending signals,
 * then threaded immediates and one immediate, then a due timer, then one
 * ready fd event (the first collected).  *removed tells whether that fd
 * event's handler freed it.
 */
static int cbk_loop_once(struct tevent_context *ev, cbk_collect_fn collect, bool *removed)
{
	*removed = false;
	if (tevent_common_check_signal(ev)) {
		return 0;
	}
	tevent_common_threaded_activate_immediate(ev);
	if (tevent_common_loop_immediate(ev)) {
		return 0;
	}
	struct timeval tv = tevent_common_loop_timer_delay(ev);
	if (tevent_timeval_is_zero(&tv)) {
		return 0; /* a timer ran */
	}

	struct pollfd pfds[CBK_MAX_FDS];
	struct tevent_fd *fdes[CBK_MAX_FDS];
	nfds_t n = collect(ev, pfds, fdes, CBK_MAX_FDS);
	int timeout = (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
	int ret = poll(pfds, n, timeout);
	if (ret < 0) {
		if (errno == EINTR) {
			tevent_common_check_signal(ev);
			return 0;
		}
		return -1;
	}
	if (ret == 0) {
		tevent_common_loop_timer_delay(ev);
		return 0;
	}
	for (nfds_t i = 0; i < n; i++) {
		uint16_t flags = 0;
		if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
			flags |= TEVENT_FD_READ;
		}
		if (pfds[i].revents & POLLOUT) {
			flags |= TEVENT_FD_WRITE;
		}
		flags &= tevent_common_fd_get_flags(fdes[i]);
		if (flags != 0) {
			return tevent_common_invoke_fd_handler(fdes[i], flags, removed);
		}
	}
	return 0;
}

/* The ops table of such a backend: the three ops its user writes, the
 * shared ones and the helpers for the rest. */
#define CBK_OPS(context_init_fn, add_fd_fn, loop_once_fn)                \
	{                                                                 \
		.context_init = (context_init_fn),                        \
		.add_fd = (add_fd_fn),                                    \
		.set_fd_close_fn = cbk_set_fd_close_fn,                   \
		.get_fd_flags = cbk_get_fd_flags,                         \
		.set_fd_flags = cbk_set_fd_flags,                         \
		.add_timer = cbk_add_timer,                               \
		.schedule_immediate = tevent_common_schedule_immediate,   \
		.add_signal = tevent_common_add_signal,                   \
		.loop_once = (loop_once_fn),                              \
		.loop_wait = cbk_loop_wait,                               \
	}

#endif

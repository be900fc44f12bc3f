// What the public calls check, in one place: each export in compat/ that
// is more than a built-in (tevent_common_*) calls one of these.  They take
// the caller's arguments as given, refuse NULL, a detached event or a
// thread that does not loop the context (thread_check.hpp), and then go
// through the context's ops, which a custom backend may replace.  Inline:
// the exports are the only callers, and immediates and the loop pass here
// on every call.
#pragma once

#include <errno.h>

#include "context.hpp"
#include "thread_check.hpp"

namespace tev {

// The first check of the calls that add an event: true when the call must
// fail, ev being NULL (errno EINVAL) or looped by another thread (reported,
// naming fn).
inline bool add_refused(tevent_context *ev, const char *fn) {
    if (ev == nullptr) {
        errno = EINVAL;
        return true;
    }
    return thread_check_misused(ev, fn);
}

inline tevent_fd *fd_add_api(tevent_context *ev, TALLOC_CTX *mem_ctx, int fd, uint16_t flags,
                             tevent_fd_handler_t handler, void *private_data, const char *handler_name,
                             const char *location) {
    if (add_refused(ev, "tevent_add_fd")) return nullptr;
    // A wrapper's ops add the event to its main context (wrapper.cpp).
    return ev->ops->add_fd(ev, mem_ctx, fd, flags, handler, private_data, handler_name, location);
}

inline void fd_set_close_fn_api(tevent_fd *fde, tevent_fd_close_fn_t close_fn) {
    if (fde == nullptr || fde->event_ctx == nullptr) return;
    if (thread_check_misused(fde->event_ctx, "tevent_fd_set_close_fn")) return;
    fde->event_ctx->ops->set_fd_close_fn(fde, close_fn);
}

inline void fd_set_auto_close_api(tevent_fd *fde) {
    if (fde != nullptr && thread_check_misused(fde->event_ctx, "tevent_fd_set_auto_close")) return;
    fd_set_auto_close(fde);
}

inline uint16_t fd_get_flags_api(tevent_fd *fde) {
    // A detached event (its context gone or re-initialised) waits for nothing.
    if (fde == nullptr || fde->event_ctx == nullptr) return 0;
    return fde->event_ctx->ops->get_fd_flags(fde);
}

inline void fd_set_flags_api(tevent_fd *fde, uint16_t flags) {
    if (fde == nullptr || fde->event_ctx == nullptr) return;
    if (thread_check_misused(fde->event_ctx, "tevent_fd_set_flags")) return;
    fde->event_ctx->ops->set_fd_flags(fde, flags);
}

inline tevent_timer *timer_add_api(tevent_context *ev, TALLOC_CTX *mem_ctx, struct timeval next_event,
                                   tevent_timer_handler_t handler, void *private_data, const char *handler_name,
                                   const char *location) {
    if (add_refused(ev, "tevent_add_timer")) return nullptr;
    return ev->ops->add_timer(ev, mem_ctx, next_event, handler, private_data, handler_name, location);
}

inline void timer_update_api(tevent_timer *te, struct timeval next_event) {
    if (te == nullptr || thread_check_misused(te->event_ctx, "tevent_update_timer")) return;
    timer_update(te, next_event);
}

inline struct timeval timer_delay_tv_api(tevent_context *ev) {
    // A wrapper whose main context is gone has no timers to look at; its
    // own (empty) lists answer, as the reference's wrapper would.
    tevent_context *main = main_context(ev);
    return timer_delay_tv(main != nullptr ? main : ev);
}

inline void immediate_schedule_api(tevent_immediate *im, tevent_context *ev, tevent_immediate_handler_t handler,
                                   void *private_data, const char *handler_name, const char *location) {
    if (im == nullptr || ev == nullptr) return;
    if (thread_check_misused(ev, "tevent_schedule_immediate")) return;
    ev->ops->schedule_immediate(im, ev, handler, private_data, handler_name, location);
}

inline void immediate_reset_api(tevent_immediate *im) {
    if (im == nullptr || thread_check_misused(im->event_ctx, "tevent_reset_immediate")) return;
    immediate_cancel(im);
}

inline bool immediate_loop_one_api(tevent_context *ev) {
    ev = main_context(ev);
    return ev != nullptr && immediate_loop_one(ev);
}

// ENOSYS when the context's ops cannot add signal events.
inline tevent_signal *signal_add_api(tevent_context *ev, TALLOC_CTX *mem_ctx, int signum, int sa_flags,
                                     tevent_signal_handler_t handler, void *private_data, const char *handler_name,
                                     const char *location) {
    if (add_refused(ev, "tevent_add_signal")) return nullptr;
    // Through the backend, as custom backends may provide their own.
    if (!signal_support(ev)) {
        errno = ENOSYS;
        return nullptr;
    }
    return ev->ops->add_signal(ev, mem_ctx, signum, sa_flags, handler, private_data, handler_name, location);
}

// tevent_common_threaded_activate_immediate(): a wrapper's main context;
// nothing for a wrapper whose main context is gone.
inline void threads_activate_api(tevent_context *ev) {
    ev = main_context(ev);
    if (ev != nullptr) threads_activate(ev);
}

// The three loops claim the context for the calling thread while they
// run, so that another thread's changes to it are caught.
inline int loop_once_api(tevent_context *ev, const char *location) {
    LoopClaim claim(ev, "tevent_loop_once");
    if (claim.refused()) return -1;
    return loop_once(ev, location);
}

inline int loop_wait_api(tevent_context *ev, const char *location) {
    if (ev == nullptr) {
        errno = EINVAL;
        return -1;
    }
    LoopClaim claim(ev, "tevent_loop_wait");
    if (claim.refused()) return -1;
    return ev->ops->loop_wait(ev, location);
}

inline int loop_until_api(tevent_context *ev, bool (*finished)(void *), void *private_data, const char *location) {
    LoopClaim claim(ev, "tevent_loop_until");
    if (claim.refused()) return -1;
    return loop_until(ev, finished, private_data, location);
}

inline bool loop_have_events_api(tevent_context *ev) {
    ev = main_context(ev);
    return ev != nullptr && loop_have_events(ev);
}

}  // namespace tev

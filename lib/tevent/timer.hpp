// Timers (timer.cpp): the queue, adding, updating, disarming, running one.
#pragma once

#include "layout.hpp"

namespace tev {

// ---- timers (timer.cpp) ----------------------------------------------------
tevent_timer *timer_add(tevent_context *ev, TALLOC_CTX *mem_ctx, struct timeval next_event,
                        tevent_timer_handler_t handler, void *private_data, const char *handler_name,
                        const char *location);
// tevent_common_add_timer(): a zero deadline goes behind every zero timer,
// not behind the last one added (timer_add(), the built-in ops' and
// tevent_common_add_timer_v2()).
tevent_timer *timer_add_v1(tevent_context *ev, TALLOC_CTX *mem_ctx, struct timeval next_event,
                           tevent_timer_handler_t handler, void *private_data, const char *handler_name,
                           const char *location);
void timer_update(tevent_timer *te, struct timeval next_event);
// Takes a pending timer out of its context without freeing it (context
// teardown; without the DETACH trace point when its wrapper goes away, as in
// the reference).  Like fd_disarm().
void timer_disarm(tevent_timer *te, bool traced = true);
// Context teardown: every pending timer of ev, earliest first, traced;
// then (timer_fini(), last) the queue's own memory.
void timer_disarm_all(tevent_context *ev);
void timer_fini(tevent_context *ev);
// The wrapper `glue` goes away: its pending timers leave ev silently (no
// DETACH trace point, as in the reference) and never run.
void timer_detach_wrapper(tevent_context *ev, WrapperGlue *glue);
int timer_invoke(tevent_timer *te, struct timeval current_time, bool *removed);

// What one iteration does about timers: either a due timer has run, or the
// loop may sleep for `timeout_us` microseconds (-1: no limit).
struct TimerStep {
    bool ran;
    int64_t timeout_us;
};
TimerStep timer_step(tevent_context *ev);
// Whether ev has a timer waiting (its queue is timer.cpp's).
inline bool timer_any_pending(const tevent_context *ev) { return ev->timers.count() != 0; }
// tevent_common_loop_timer_delay()'s answer in its timeval form.
struct timeval timer_delay_tv(tevent_context *ev);

// tevent_timer_set_tag/get_tag (NULL: nothing, 0).
inline void timer_set_tag(tevent_timer *te, uint64_t tag) {
    if (te != nullptr) te->tag = tag;
}
inline uint64_t timer_get_tag(const tevent_timer *te) { return te != nullptr ? te->tag : 0; }

}  // namespace tev

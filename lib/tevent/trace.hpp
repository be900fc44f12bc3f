// Setters/getters behind tevent_set_trace_*_callback() (the trace points
// themselves are declared in context.hpp).
#pragma once

#include "layout.hpp"
#include "tevent.h"

namespace tev {

void set_trace_point(tevent_context *ev, tevent_trace_callback_t cb, void *p);
void get_trace_point(tevent_context *ev, tevent_trace_callback_t *cb, void *pp);
void set_trace_fd(tevent_context *ev, tevent_trace_fd_callback_t cb, void *p);
void get_trace_fd(tevent_context *ev, tevent_trace_fd_callback_t *cb, void *pp);
void set_trace_timer(tevent_context *ev, tevent_trace_timer_callback_t cb, void *p);
void get_trace_timer(tevent_context *ev, tevent_trace_timer_callback_t *cb, void *pp);
void set_trace_immediate(tevent_context *ev, tevent_trace_immediate_callback_t cb, void *p);
void get_trace_immediate(tevent_context *ev, tevent_trace_immediate_callback_t *cb, void *pp);
void set_trace_signal(tevent_context *ev, tevent_trace_signal_callback_t cb, void *p);
void get_trace_signal(tevent_context *ev, tevent_trace_signal_callback_t *cb, void *pp);
void set_trace_queue(tevent_context *ev, tevent_trace_queue_callback_t cb, void *p);
void get_trace_queue(tevent_context *ev, tevent_trace_queue_callback_t *cb, void *pp);

// ---- tracing (setters in trace.cpp) ----------------------------------------
// Inline: every loop iteration passes several trace points, nearly always
// without a callback.  (A wrapper's Tracing is all NULL: the setters refuse
// wrappers.)
inline void trace_point(tevent_context *ev, enum tevent_trace_point tp) {
    if (ev != nullptr && ev->tracing.point != nullptr) ev->tracing.point(tp, ev->tracing.point_private);
}
inline void trace_fd(tevent_context *ev, tevent_fd *fde, enum tevent_event_trace_point tp) {
    if (ev != nullptr && ev->tracing.fd != nullptr) ev->tracing.fd(fde, tp, ev->tracing.fd_private);
}
inline void trace_timer(tevent_context *ev, tevent_timer *te, enum tevent_event_trace_point tp) {
    if (ev != nullptr && ev->tracing.timer != nullptr) ev->tracing.timer(te, tp, ev->tracing.timer_private);
}
inline void trace_immediate(tevent_context *ev, tevent_immediate *im, enum tevent_event_trace_point tp) {
    if (ev != nullptr && ev->tracing.immediate != nullptr) {
        ev->tracing.immediate(im, tp, ev->tracing.immediate_private);
    }
}
inline void trace_signal(tevent_context *ev, tevent_signal *se, enum tevent_event_trace_point tp) {
    if (ev != nullptr && ev->tracing.signal != nullptr) ev->tracing.signal(se, tp, ev->tracing.signal_private);
}
inline void trace_queue(tevent_context *ev, tevent_queue_entry *qe, enum tevent_event_trace_point tp) {
    if (ev != nullptr && ev->tracing.queue != nullptr) ev->tracing.queue(qe, tp, ev->tracing.queue_private);
}

}  // namespace tev

// Setters/getters behind tevent_set_trace_*_callback() (the trace points
// themselves are declared in context.hpp).
#pragma once

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

}  // namespace tev

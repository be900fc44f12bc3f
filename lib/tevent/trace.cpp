// Trace callbacks: the loop's trace points and the per-event attach /
// detach / before-handler points.  All settings live in the main context;
// a wrapper context shares them.
#include "context.hpp"
#include "trace.hpp"

namespace tev {

void trace_point(tevent_context *ev, enum tevent_trace_point tp) {
    ev = main_context(ev);
    if (ev != nullptr && ev->tracing.point != nullptr) ev->tracing.point(tp, ev->tracing.point_private);
}

void trace_fd(tevent_context *ev, tevent_fd *fde, enum tevent_event_trace_point tp) {
    ev = main_context(ev);
    if (ev != nullptr && ev->tracing.fd != nullptr) ev->tracing.fd(fde, tp, ev->tracing.fd_private);
}

void trace_timer(tevent_context *ev, tevent_timer *te, enum tevent_event_trace_point tp) {
    ev = main_context(ev);
    if (ev != nullptr && ev->tracing.timer != nullptr) ev->tracing.timer(te, tp, ev->tracing.timer_private);
}

void trace_immediate(tevent_context *ev, tevent_immediate *im, enum tevent_event_trace_point tp) {
    ev = main_context(ev);
    if (ev != nullptr && ev->tracing.immediate != nullptr) {
        ev->tracing.immediate(im, tp, ev->tracing.immediate_private);
    }
}

void trace_signal(tevent_context *ev, tevent_signal *se, enum tevent_event_trace_point tp) {
    ev = main_context(ev);
    if (ev != nullptr && ev->tracing.signal != nullptr) ev->tracing.signal(se, tp, ev->tracing.signal_private);
}

namespace {

// Setting or reading a callback is the same for every kind of event.
template <typename Cb>
void store(tevent_context *ev, Cb tevent_context::Tracing::*cb, void *tevent_context::Tracing::*priv, Cb fn,
           void *private_data) {
    ev = main_context(ev);
    if (ev == nullptr) return;
    ev->tracing.*cb = fn;
    ev->tracing.*priv = private_data;
}

template <typename Cb>
void load(tevent_context *ev, Cb tevent_context::Tracing::*cb, void *tevent_context::Tracing::*priv, Cb *fn,
          void *p_private_data) {
    ev = main_context(ev);
    if (ev == nullptr) return;
    // The out parameter is declared void * in the C API; it points to the
    // caller's void *.
    if (fn != nullptr) *fn = ev->tracing.*cb;
    if (p_private_data != nullptr) *static_cast<void **>(p_private_data) = ev->tracing.*priv;
}

}  // namespace

void set_trace_point(tevent_context *ev, tevent_trace_callback_t cb, void *p) {
    store(ev, &tevent_context::Tracing::point, &tevent_context::Tracing::point_private, cb, p);
}
void get_trace_point(tevent_context *ev, tevent_trace_callback_t *cb, void *pp) {
    load(ev, &tevent_context::Tracing::point, &tevent_context::Tracing::point_private, cb, pp);
}
void set_trace_fd(tevent_context *ev, tevent_trace_fd_callback_t cb, void *p) {
    store(ev, &tevent_context::Tracing::fd, &tevent_context::Tracing::fd_private, cb, p);
}
void get_trace_fd(tevent_context *ev, tevent_trace_fd_callback_t *cb, void *pp) {
    load(ev, &tevent_context::Tracing::fd, &tevent_context::Tracing::fd_private, cb, pp);
}
void set_trace_timer(tevent_context *ev, tevent_trace_timer_callback_t cb, void *p) {
    store(ev, &tevent_context::Tracing::timer, &tevent_context::Tracing::timer_private, cb, p);
}
void get_trace_timer(tevent_context *ev, tevent_trace_timer_callback_t *cb, void *pp) {
    load(ev, &tevent_context::Tracing::timer, &tevent_context::Tracing::timer_private, cb, pp);
}
void set_trace_immediate(tevent_context *ev, tevent_trace_immediate_callback_t cb, void *p) {
    store(ev, &tevent_context::Tracing::immediate, &tevent_context::Tracing::immediate_private, cb, p);
}
void get_trace_immediate(tevent_context *ev, tevent_trace_immediate_callback_t *cb, void *pp) {
    load(ev, &tevent_context::Tracing::immediate, &tevent_context::Tracing::immediate_private, cb, pp);
}
void set_trace_signal(tevent_context *ev, tevent_trace_signal_callback_t cb, void *p) {
    store(ev, &tevent_context::Tracing::signal, &tevent_context::Tracing::signal_private, cb, p);
}
void get_trace_signal(tevent_context *ev, tevent_trace_signal_callback_t *cb, void *pp) {
    load(ev, &tevent_context::Tracing::signal, &tevent_context::Tracing::signal_private, cb, pp);
}
}  // namespace tev

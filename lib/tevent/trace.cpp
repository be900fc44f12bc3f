// Trace callbacks: setting and reading them (the trace points themselves
// are inline in context.hpp).
//
// Wrappers, as in the reference: setting a callback on one is a bug
// reported through tevent_abort() (the wrapper's events are traced by its
// main context, which holds their trace points), so a wrapper never has
// callbacks of its own: reading them gives NULL, and tracing through a
// wrapper context reports nothing.
#include "context.hpp"
#include "trace.hpp"

namespace tev {

namespace {

// Setting or reading a callback is the same for every kind of event.
// `misuse` is what tevent_abort() reports when ev is a wrapper.
template <typename Cb>
void store(tevent_context *ev, Cb tevent_context::Tracing::*cb, void *tevent_context::Tracing::*priv, Cb fn,
           void *private_data, const char *misuse) {
    if (ev == nullptr) return;
    if (ev->wrapper.glue != nullptr) {
        abort(ev, misuse);
        return;
    }
    ev->tracing.*cb = fn;
    ev->tracing.*priv = private_data;
}

template <typename Cb>
void load(tevent_context *ev, Cb tevent_context::Tracing::*cb, void *tevent_context::Tracing::*priv, Cb *fn,
          void *p_private_data) {
    if (ev == nullptr) return;
    // The out parameter is declared void * in the C API; it points to the
    // caller's void *.
    if (fn != nullptr) *fn = ev->tracing.*cb;
    if (p_private_data != nullptr) *static_cast<void **>(p_private_data) = ev->tracing.*priv;
}

}  // namespace

void set_trace_point(tevent_context *ev, tevent_trace_callback_t cb, void *p) {
    store(ev, &tevent_context::Tracing::point, &tevent_context::Tracing::point_private, cb, p,
          "tevent_set_trace_callback() on wrapper");
}
void get_trace_point(tevent_context *ev, tevent_trace_callback_t *cb, void *pp) {
    load(ev, &tevent_context::Tracing::point, &tevent_context::Tracing::point_private, cb, pp);
}
void set_trace_fd(tevent_context *ev, tevent_trace_fd_callback_t cb, void *p) {
    store(ev, &tevent_context::Tracing::fd, &tevent_context::Tracing::fd_private, cb, p,
          "tevent_set_trace_fd_callback() on wrapper");
}
void get_trace_fd(tevent_context *ev, tevent_trace_fd_callback_t *cb, void *pp) {
    load(ev, &tevent_context::Tracing::fd, &tevent_context::Tracing::fd_private, cb, pp);
}
void set_trace_timer(tevent_context *ev, tevent_trace_timer_callback_t cb, void *p) {
    store(ev, &tevent_context::Tracing::timer, &tevent_context::Tracing::timer_private, cb, p,
          "tevent_set_trace_timer_callback() on wrapper");
}
void get_trace_timer(tevent_context *ev, tevent_trace_timer_callback_t *cb, void *pp) {
    load(ev, &tevent_context::Tracing::timer, &tevent_context::Tracing::timer_private, cb, pp);
}
void set_trace_immediate(tevent_context *ev, tevent_trace_immediate_callback_t cb, void *p) {
    store(ev, &tevent_context::Tracing::immediate, &tevent_context::Tracing::immediate_private, cb, p,
          "tevent_set_trace_immediate_callback() on wrapper");
}
void get_trace_immediate(tevent_context *ev, tevent_trace_immediate_callback_t *cb, void *pp) {
    load(ev, &tevent_context::Tracing::immediate, &tevent_context::Tracing::immediate_private, cb, pp);
}
void set_trace_signal(tevent_context *ev, tevent_trace_signal_callback_t cb, void *p) {
    store(ev, &tevent_context::Tracing::signal, &tevent_context::Tracing::signal_private, cb, p,
          "tevent_set_trace_signal_callback() on wrapper");
}
void get_trace_signal(tevent_context *ev, tevent_trace_signal_callback_t *cb, void *pp) {
    load(ev, &tevent_context::Tracing::signal, &tevent_context::Tracing::signal_private, cb, pp);
}
void set_trace_queue(tevent_context *ev, tevent_trace_queue_callback_t cb, void *p) {
    store(ev, &tevent_context::Tracing::queue, &tevent_context::Tracing::queue_private, cb, p,
          "tevent_set_trace_queue_callback() on wrapper");
}
void get_trace_queue(tevent_context *ev, tevent_trace_queue_callback_t *cb, void *pp) {
    load(ev, &tevent_context::Tracing::queue, &tevent_context::Tracing::queue_private, cb, pp);
}
}  // namespace tev

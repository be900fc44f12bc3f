// The C ABI of libtevent's event core: contexts, backends, fd events,
// timers, immediates, the loop, debugging and tracing, and the
// tevent_common_* helpers custom backends build on.  Thin extern "C" entry
// points over lib/tevent/; the version nodes are in abi/tevent.map.
//
// The public API goes through the context's tevent_ops (a custom backend
// may replace any of them); the tevent_common_* functions are the built-in
// implementations themselves.  No checks here (tevent_export.hpp).
#include "tevent_export.hpp"

#include "tevent/api.hpp"
#include "tevent/context.hpp"
#include "tevent/debug.hpp"
#include "tevent/timeval.hpp"
#include "tevent/trace.hpp"


using namespace tev;

// ---- contexts and backends -------------------------------------------------

TEVENT_API struct tevent_context *tevent_context_init(TALLOC_CTX *mem_ctx) {
    return context_init_byname(mem_ctx, nullptr);
}

TEVENT_API struct tevent_context *tevent_context_init_byname(TALLOC_CTX *mem_ctx, const char *name) {
    return context_init_byname(mem_ctx, name);
}

TEVENT_API struct tevent_context *tevent_context_init_ops(TALLOC_CTX *mem_ctx, const struct tevent_ops *ops,
                                                          void *additional_data) {
    return context_init_ops(mem_ctx, ops, additional_data);
}

TEVENT_API const char **tevent_backend_list(TALLOC_CTX *mem_ctx) { return backend_list(mem_ctx); }

TEVENT_API void tevent_set_default_backend(const char *backend) { set_default_backend(backend); }

TEVENT_API bool tevent_register_backend(const char *name, const struct tevent_ops *ops) {
    return register_backend(name, ops);
}

TEVENT_API const struct tevent_ops *tevent_find_ops_byname(const char *name) { return find_ops(name); }

TEVENT_API int tevent_re_initialise(struct tevent_context *ev) {
    return re_initialise(ev);
}

TEVENT_API int tevent_common_context_destructor(struct tevent_context *ev) {
    return context_destructor(ev);
}

TEVENT_API uint32_t tevent_context_set_wait_timeout(struct tevent_context *ev, uint32_t secs) {
    return loop_set_wait_timeout(ev, secs);
}

TEVENT_API pid_t tevent_cached_getpid(void) { return cached_getpid(); }

// ---- fd events ------------------------------------------------------------------

TEVENT_API struct tevent_fd *_tevent_add_fd(struct tevent_context *ev, TALLOC_CTX *mem_ctx, int fd, uint16_t flags,
                                            tevent_fd_handler_t handler, void *private_data,
                                            const char *handler_name, const char *location) {
    return fd_add_api(ev, mem_ctx, fd, flags, handler, private_data, handler_name, location);
}

TEVENT_API struct tevent_fd *tevent_common_add_fd(struct tevent_context *ev, TALLOC_CTX *mem_ctx, int fd,
                                                  uint16_t flags, tevent_fd_handler_t handler, void *private_data,
                                                  const char *handler_name, const char *location) {
    return fd_add(ev, mem_ctx, fd, flags, handler, private_data, handler_name, location);
}

TEVENT_API int tevent_common_fd_destructor(struct tevent_fd *fde) { return fd_destructor(fde); }

TEVENT_API void tevent_fd_set_close_fn(struct tevent_fd *fde, tevent_fd_close_fn_t close_fn) {
    fd_set_close_fn_api(fde, close_fn);
}

TEVENT_API void tevent_common_fd_set_close_fn(struct tevent_fd *fde, tevent_fd_close_fn_t close_fn) {
    fd_set_close_fn(fde, close_fn);
}

TEVENT_API void tevent_fd_set_auto_close(struct tevent_fd *fde) {
    fd_set_auto_close_api(fde);
}

TEVENT_API uint16_t tevent_fd_get_flags(struct tevent_fd *fde) {
    return fd_get_flags_api(fde);
}

TEVENT_API uint16_t tevent_common_fd_get_flags(struct tevent_fd *fde) {
    return fd_get_flags(fde);
}

TEVENT_API void tevent_fd_set_flags(struct tevent_fd *fde, uint16_t flags) {
    fd_set_flags_api(fde, flags);
}

TEVENT_API void tevent_common_fd_set_flags(struct tevent_fd *fde, uint16_t flags) {
    fd_set_flags(fde, flags);
}

TEVENT_API int tevent_common_invoke_fd_handler(struct tevent_fd *fde, uint16_t flags, bool *removed) {
    return fd_invoke(fde, flags, removed);
}

TEVENT_API void tevent_fd_set_tag(struct tevent_fd *fde, uint64_t tag) {
    fd_set_tag(fde, tag);
}

TEVENT_API uint64_t tevent_fd_get_tag(const struct tevent_fd *fde) {
    return fd_get_tag(fde);
}

// ---- timers -----------------------------------------------------------------------

TEVENT_API struct tevent_timer *_tevent_add_timer(struct tevent_context *ev, TALLOC_CTX *mem_ctx,
                                                  struct timeval next_event, tevent_timer_handler_t handler,
                                                  void *private_data, const char *handler_name,
                                                  const char *location) {
    return timer_add_api(ev, mem_ctx, next_event, handler, private_data, handler_name, location);
}

TEVENT_API struct tevent_timer *tevent_common_add_timer(struct tevent_context *ev, TALLOC_CTX *mem_ctx,
                                                        struct timeval next_event, tevent_timer_handler_t handler,
                                                        void *private_data, const char *handler_name,
                                                        const char *location) {
    return timer_add_v1(ev, mem_ctx, next_event, handler, private_data, handler_name, location);
}

// v2 (the built-in backends' add_timer) files a zero-deadline timer behind
// the last one it filed, v1 behind all of them.
TEVENT_API struct tevent_timer *tevent_common_add_timer_v2(struct tevent_context *ev, TALLOC_CTX *mem_ctx,
                                                           struct timeval next_event,
                                                           tevent_timer_handler_t handler, void *private_data,
                                                           const char *handler_name, const char *location) {
    return timer_add(ev, mem_ctx, next_event, handler, private_data, handler_name, location);
}

TEVENT_API void tevent_update_timer(struct tevent_timer *te, struct timeval next_event) {
    timer_update_api(te, next_event);
}

TEVENT_API struct timeval tevent_common_loop_timer_delay(struct tevent_context *ev) {
    return timer_delay_tv_api(ev);
}

TEVENT_API int tevent_common_invoke_timer_handler(struct tevent_timer *te, struct timeval current_time,
                                                  bool *removed) {
    return timer_invoke(te, current_time, removed);
}

TEVENT_API void tevent_timer_set_tag(struct tevent_timer *te, uint64_t tag) {
    timer_set_tag(te, tag);
}

TEVENT_API uint64_t tevent_timer_get_tag(const struct tevent_timer *te) {
    return timer_get_tag(te);
}

// ---- immediates ---------------------------------------------------------------------

TEVENT_API struct tevent_immediate *_tevent_create_immediate(TALLOC_CTX *mem_ctx, const char *location) {
    return immediate_create(mem_ctx, location);
}

TEVENT_API void _tevent_schedule_immediate(struct tevent_immediate *im, struct tevent_context *ctx,
                                           tevent_immediate_handler_t handler, void *private_data,
                                           const char *handler_name, const char *location) {
    immediate_schedule_api(im, ctx, handler, private_data, handler_name, location);
}

TEVENT_API void tevent_common_schedule_immediate(struct tevent_immediate *im, struct tevent_context *ev,
                                                 tevent_immediate_handler_t handler, void *private_data,
                                                 const char *handler_name, const char *location) {
    immediate_schedule(im, ev, handler, private_data, handler_name, location);
}

TEVENT_API void tevent_reset_immediate(struct tevent_immediate *im) {
    immediate_reset_api(im);
}

TEVENT_API void tevent_common_immediate_cancel(struct tevent_immediate *im) {
    immediate_cancel(im);
}

TEVENT_API int tevent_common_invoke_immediate_handler(struct tevent_immediate *im, bool *removed) {
    return immediate_invoke(im, removed);
}

TEVENT_API bool tevent_common_loop_immediate(struct tevent_context *ev) {
    return immediate_loop_one_api(ev);
}

TEVENT_API void tevent_immediate_set_tag(struct tevent_immediate *im, uint64_t tag) {
    immediate_set_tag(im, tag);
}

TEVENT_API uint64_t tevent_immediate_get_tag(const struct tevent_immediate *im) {
    return immediate_get_tag(im);
}

// ---- the loop ------------------------------------------------------------------------

TEVENT_API int _tevent_loop_once(struct tevent_context *ev, const char *location) {
    return loop_once_api(ev, location);
}

TEVENT_API int _tevent_loop_wait(struct tevent_context *ev, const char *location) {
    return loop_wait_api(ev, location);
}

TEVENT_API int tevent_common_loop_wait(struct tevent_context *ev, const char *location) {
    return loop_wait(ev, location);
}

TEVENT_API int _tevent_loop_until(struct tevent_context *ev, bool (*finished)(void *private_data),
                                  void *private_data, const char *location) {
    return loop_until_api(ev, finished, private_data, location);
}

TEVENT_API void tevent_loop_allow_nesting(struct tevent_context *ev) {
    loop_allow_nesting(ev);
}

TEVENT_API void tevent_loop_set_nesting_hook(struct tevent_context *ev, tevent_nesting_hook hook,
                                             void *private_data) {
    loop_set_nesting_hook(ev, hook, private_data);
}

TEVENT_API bool tevent_common_have_events(struct tevent_context *ev) {
    return loop_have_events_api(ev);
}

TEVENT_API int tevent_common_wakeup_init(struct tevent_context *ev) { return wakeup_init(ev); }

TEVENT_API int tevent_common_wakeup_fd(int fd) { return wakeup_fd(fd); }

TEVENT_API int tevent_common_wakeup(struct tevent_context *ev) { return wakeup(ev); }

// ---- diagnostics -------------------------------------------------------------------------

TEVENT_API int tevent_set_debug(struct tevent_context *ev, tevent_debug_fn debug, void *context) {
    return set_debug(ev, debug, context);
}

TEVENT_API int tevent_set_debug_stderr(struct tevent_context *ev) { return set_debug_stderr(ev); }

TEVENT_API enum tevent_debug_level tevent_set_max_debug_level(struct tevent_context *ev,
                                                              enum tevent_debug_level max_level) {
    return set_max_debug_level(ev, max_level);
}

TEVENT_API void tevent_debug(struct tevent_context *ev, enum tevent_debug_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vdebug(ev, level, fmt, ap);
    va_end(ap);
}

TEVENT_API void tevent_set_abort_fn(void (*abort_fn)(const char *reason)) { set_abort_fn(abort_fn); }

TEVENT_API void tevent_abort(struct tevent_context *ev, const char *reason) { tev::abort(ev, reason); }

TEVENT_API void tevent_common_check_double_free(TALLOC_CTX *ptr, const char *reason) {
    check_double_free(ptr, reason);
}

// ---- tracing ---------------------------------------------------------------------------------

TEVENT_API void tevent_set_trace_callback(struct tevent_context *ev, tevent_trace_callback_t cb, void *private_data) {
    set_trace_point(ev, cb, private_data);
}
TEVENT_API void tevent_get_trace_callback(struct tevent_context *ev, tevent_trace_callback_t *cb, void *private_data) {
    get_trace_point(ev, cb, private_data);
}
TEVENT_API void tevent_trace_point_callback(struct tevent_context *ev, enum tevent_trace_point tp) {
    trace_point(ev, tp);
}

TEVENT_API void tevent_set_trace_fd_callback(struct tevent_context *ev, tevent_trace_fd_callback_t cb,
                                             void *private_data) {
    set_trace_fd(ev, cb, private_data);
}
TEVENT_API void tevent_get_trace_fd_callback(struct tevent_context *ev, tevent_trace_fd_callback_t *cb,
                                             void *p_private_data) {
    get_trace_fd(ev, cb, p_private_data);
}
TEVENT_API void tevent_trace_fd_callback(struct tevent_context *ev, struct tevent_fd *fde,
                                         enum tevent_event_trace_point tp) {
    trace_fd(ev, fde, tp);
}

TEVENT_API void tevent_set_trace_timer_callback(struct tevent_context *ev, tevent_trace_timer_callback_t cb,
                                                void *private_data) {
    set_trace_timer(ev, cb, private_data);
}
TEVENT_API void tevent_get_trace_timer_callback(struct tevent_context *ev, tevent_trace_timer_callback_t *cb,
                                                void *p_private_data) {
    get_trace_timer(ev, cb, p_private_data);
}
TEVENT_API void tevent_trace_timer_callback(struct tevent_context *ev, struct tevent_timer *te,
                                            enum tevent_event_trace_point tp) {
    trace_timer(ev, te, tp);
}

TEVENT_API void tevent_set_trace_immediate_callback(struct tevent_context *ev, tevent_trace_immediate_callback_t cb,
                                                    void *private_data) {
    set_trace_immediate(ev, cb, private_data);
}
TEVENT_API void tevent_get_trace_immediate_callback(struct tevent_context *ev,
                                                    tevent_trace_immediate_callback_t *cb, void *p_private_data) {
    get_trace_immediate(ev, cb, p_private_data);
}
TEVENT_API void tevent_trace_immediate_callback(struct tevent_context *ev, struct tevent_immediate *im,
                                                enum tevent_event_trace_point tp) {
    trace_immediate(ev, im, tp);
}

TEVENT_API void tevent_set_trace_signal_callback(struct tevent_context *ev, tevent_trace_signal_callback_t cb,
                                                 void *private_data) {
    set_trace_signal(ev, cb, private_data);
}
TEVENT_API void tevent_get_trace_signal_callback(struct tevent_context *ev, tevent_trace_signal_callback_t *cb,
                                                 void *p_private_data) {
    get_trace_signal(ev, cb, p_private_data);
}
TEVENT_API void tevent_trace_signal_callback(struct tevent_context *ev, struct tevent_signal *se,
                                             enum tevent_event_trace_point tp) {
    trace_signal(ev, se, tp);
}

// ---- timeval helpers -----------------------------------------------------------------------------

TEVENT_API int tevent_timeval_compare(const struct timeval *tv1, const struct timeval *tv2) {
    return tv_compare(*tv1, *tv2);
}
TEVENT_API struct timeval tevent_timeval_zero(void) { return tv_set(0, 0); }
TEVENT_API struct timeval tevent_timeval_current(void) { return tv_now(); }
TEVENT_API struct timeval tevent_timeval_set(uint32_t secs, uint32_t usecs) { return tv_set(secs, usecs); }
TEVENT_API struct timeval tevent_timeval_until(const struct timeval *tv1, const struct timeval *tv2) {
    return tv_until(*tv1, *tv2);
}
TEVENT_API bool tevent_timeval_is_zero(const struct timeval *tv) { return tv_is_zero(*tv); }
TEVENT_API struct timeval tevent_timeval_add(const struct timeval *tv, uint32_t secs, uint32_t usecs) {
    return tv_add(*tv, secs, usecs);
}
TEVENT_API struct timeval tevent_timeval_current_ofs(uint32_t secs, uint32_t usecs) {
    return tv_add(tv_now(), secs, usecs);
}

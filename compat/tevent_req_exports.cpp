// The C ABI of libtevent's request layer: requests, profiles, queues (with
// their trace callback), tevent_wakeup_send/recv and call-flow tracking.  Thin extern "C" entry
// points over lib/tevent/req.hpp; the version nodes are in abi/tevent.map.
//
// Both generations of the API are exported: the 0.15+ functions taking the
// stringified callback name, and the older ones (without it) that binaries
// built against earlier headers still call.  The header maps the old names
// to the new functions with macros, so those are undefined here first.
#include "tevent_export.hpp"
#include "tevent/req.hpp"
#include "tevent/context.hpp"
#include "tevent/trace.hpp"


#undef tevent_req_set_callback
#undef tevent_req_set_cancel_fn
#undef tevent_req_set_cleanup_fn
#undef tevent_queue_add
#undef tevent_queue_add_entry
#undef tevent_queue_add_optimize_empty
#undef tevent_thread_call_depth_reset_from_req

using namespace tev;

// --- requests ----------------------------------------------------------------
TEVENT_API struct tevent_req *_tevent_req_create(TALLOC_CTX *mem_ctx, void *pstate, size_t state_size,
                                               const char *type, const char *location) {
    return req_create(mem_ctx, pstate, state_size, type, nullptr, location);
}

TEVENT_API struct tevent_req *__tevent_req_create(TALLOC_CTX *mem_ctx, void *pstate, size_t state_size,
                                                const char *type, const char *func, const char *location) {
    return req_create(mem_ctx, pstate, state_size, type, func, location);
}

TEVENT_API void *_tevent_req_data(struct tevent_req *req) { return req_data(req); }
TEVENT_API void *_tevent_req_callback_data(struct tevent_req *req) { return req_callback_data(req); }

TEVENT_API void tevent_req_set_callback(struct tevent_req *req, tevent_req_fn fn, void *pvt) {
    req_set_callback(req, fn, nullptr, pvt);
}
TEVENT_API void _tevent_req_set_callback(struct tevent_req *req, tevent_req_fn fn, const char *fn_name, void *pvt) {
    req_set_callback(req, fn, fn_name, pvt);
}

TEVENT_API void tevent_req_set_cancel_fn(struct tevent_req *req, tevent_req_cancel_fn fn) {
    req_set_cancel_fn(req, fn, nullptr);
}
TEVENT_API void _tevent_req_set_cancel_fn(struct tevent_req *req, tevent_req_cancel_fn fn, const char *fn_name) {
    req_set_cancel_fn(req, fn, fn_name);
}
TEVENT_API bool _tevent_req_cancel(struct tevent_req *req, const char *location) { return req_cancel(req, location); }

TEVENT_API void tevent_req_set_cleanup_fn(struct tevent_req *req, tevent_req_cleanup_fn fn) {
    req_set_cleanup_fn(req, fn, nullptr);
}
TEVENT_API void _tevent_req_set_cleanup_fn(struct tevent_req *req, tevent_req_cleanup_fn fn, const char *fn_name) {
    req_set_cleanup_fn(req, fn, fn_name);
}

TEVENT_API void tevent_req_set_print_fn(struct tevent_req *req, tevent_req_print_fn fn) { req_set_print_fn(req, fn); }
TEVENT_API char *tevent_req_default_print(struct tevent_req *req, TALLOC_CTX *mem_ctx) {
    return req_default_print(req, mem_ctx);
}
TEVENT_API char *tevent_req_print(TALLOC_CTX *mem_ctx, struct tevent_req *req) { return req_print(mem_ctx, req); }

TEVENT_API void _tevent_req_notify_callback(struct tevent_req *req, const char *location) {
    req_notify_callback(req, location);
}
TEVENT_API void _tevent_req_done(struct tevent_req *req, const char *location) { req_done(req, location); }
TEVENT_API bool _tevent_req_error(struct tevent_req *req, uint64_t error, const char *location) {
    return req_error(req, error, location);
}
TEVENT_API void _tevent_req_oom(struct tevent_req *req, const char *location) { req_oom(req, location); }
TEVENT_API bool _tevent_req_nomem(const void *p, struct tevent_req *req, const char *location) {
    return req_nomem(p, req, location);
}

TEVENT_API struct tevent_req *tevent_req_post(struct tevent_req *req, struct tevent_context *ev) {
    return req_post(req, ev);
}
TEVENT_API void tevent_req_defer_callback(struct tevent_req *req, struct tevent_context *ev) {
    req_defer_callback(req, ev);
}
TEVENT_API bool tevent_req_is_in_progress(struct tevent_req *req) { return req_is_in_progress(req); }
TEVENT_API bool tevent_req_poll(struct tevent_req *req, struct tevent_context *ev) { return req_poll(req, ev); }
TEVENT_API bool tevent_req_is_error(struct tevent_req *req, enum tevent_req_state *state, uint64_t *error) {
    return req_is_error(req, state, error);
}
TEVENT_API void tevent_req_received(struct tevent_req *req) { req_received(req); }

TEVENT_API bool tevent_req_set_endtime(struct tevent_req *req, struct tevent_context *ev, struct timeval endtime) {
    return req_set_endtime(req, ev, endtime);
}
TEVENT_API void tevent_req_reset_endtime(struct tevent_req *req) { req_reset_endtime(req); }

// --- tevent_wakeup -------------------------------------------------------------
TEVENT_API struct tevent_req *tevent_wakeup_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
                                               struct timeval wakeup_time) {
    return wakeup_send(mem_ctx, ev, wakeup_time);
}
TEVENT_API bool tevent_wakeup_recv(struct tevent_req *req) { return wakeup_recv(req); }

// --- profiles ------------------------------------------------------------------
TEVENT_API bool tevent_req_set_profile(struct tevent_req *req) { return req_set_profile(req); }
TEVENT_API const struct tevent_req_profile *tevent_req_get_profile(struct tevent_req *req) {
    return req_get_profile(req);
}
TEVENT_API struct tevent_req_profile *tevent_req_move_profile(struct tevent_req *req, TALLOC_CTX *mem_ctx) {
    return req_move_profile(req, mem_ctx);
}
TEVENT_API struct tevent_req_profile *tevent_req_profile_create(TALLOC_CTX *mem_ctx) { return profile_create(mem_ctx); }

TEVENT_API void tevent_req_profile_get_name(const struct tevent_req_profile *profile, const char **req_name) {
    profile_get_name(profile, req_name);
}
TEVENT_API void tevent_req_profile_get_start(const struct tevent_req_profile *profile, const char **start_location,
                                           struct timeval *start_time) {
    profile_get_start(profile, start_location, start_time);
}
TEVENT_API void tevent_req_profile_get_stop(const struct tevent_req_profile *profile, const char **stop_location,
                                          struct timeval *stop_time) {
    profile_get_stop(profile, stop_location, stop_time);
}
TEVENT_API void tevent_req_profile_get_status(const struct tevent_req_profile *profile, pid_t *pid,
                                            enum tevent_req_state *state, uint64_t *user_error) {
    profile_get_status(profile, pid, state, user_error);
}
TEVENT_API const struct tevent_req_profile *tevent_req_profile_get_subprofiles(const struct tevent_req_profile *profile) {
    return profile_get_subprofiles(profile);
}
TEVENT_API const struct tevent_req_profile *tevent_req_profile_next(const struct tevent_req_profile *profile) {
    return profile_next(profile);
}

TEVENT_API bool tevent_req_profile_set_name(struct tevent_req_profile *profile, const char *req_name) {
    return profile_set_name(profile, req_name);
}
TEVENT_API bool tevent_req_profile_set_start(struct tevent_req_profile *profile, const char *start_location,
                                           struct timeval start_time) {
    return profile_set_start(profile, start_location, start_time);
}
TEVENT_API bool tevent_req_profile_set_stop(struct tevent_req_profile *profile, const char *stop_location,
                                          struct timeval stop_time) {
    return profile_set_stop(profile, stop_location, stop_time);
}
TEVENT_API void tevent_req_profile_set_status(struct tevent_req_profile *profile, pid_t pid,
                                            enum tevent_req_state state, uint64_t user_error) {
    profile_set_status(profile, pid, state, user_error);
}
TEVENT_API void tevent_req_profile_append_sub(struct tevent_req_profile *parent_profile,
                                            struct tevent_req_profile **sub_profile) {
    profile_append_sub(parent_profile, sub_profile);
}

// --- call-flow tracking ------------------------------------------------------
TEVENT_API void tevent_thread_call_depth_set_callback(tevent_call_depth_callback_t f, void *private_data) {
    call_depth_set_callback(f, private_data);
}
TEVENT_API void _tevent_thread_call_depth_reset_from_req(struct tevent_req *req, const char *fname) {
    call_depth_reset_from_req(req, fname);
}
TEVENT_API void tevent_thread_call_depth_reset_from_req(struct tevent_req *req) {
    call_depth_reset_from_req(req, nullptr);
}
// The 0.14 interface (an external depth variable) was replaced by the
// callback; these stay for old binaries and do nothing.
TEVENT_API void tevent_thread_call_depth_activate(size_t *) {}
TEVENT_API void tevent_thread_call_depth_deactivate(void) {}
TEVENT_API void tevent_thread_call_depth_start(struct tevent_req *) {}

// --- queues ----------------------------------------------------------------------
TEVENT_API struct tevent_queue *_tevent_queue_create(TALLOC_CTX *mem_ctx, const char *name, const char *location) {
    return queue_create(mem_ctx, name, location);
}

TEVENT_API bool tevent_queue_add(struct tevent_queue *queue, struct tevent_context *ev, struct tevent_req *req,
                               tevent_queue_trigger_fn_t trigger, void *private_data) {
    return queue_add(queue, ev, req, trigger, nullptr, private_data, false) != nullptr;
}
TEVENT_API bool _tevent_queue_add(struct tevent_queue *queue, struct tevent_context *ev, struct tevent_req *req,
                                tevent_queue_trigger_fn_t trigger, const char *trigger_name, void *private_data) {
    return queue_add(queue, ev, req, trigger, trigger_name, private_data, false) != nullptr;
}

TEVENT_API struct tevent_queue_entry *tevent_queue_add_entry(struct tevent_queue *queue, struct tevent_context *ev,
                                                           struct tevent_req *req, tevent_queue_trigger_fn_t trigger,
                                                           void *private_data) {
    return queue_add(queue, ev, req, trigger, nullptr, private_data, false);
}
TEVENT_API struct tevent_queue_entry *_tevent_queue_add_entry(struct tevent_queue *queue, struct tevent_context *ev,
                                                            struct tevent_req *req, tevent_queue_trigger_fn_t trigger,
                                                            const char *trigger_name, void *private_data) {
    return queue_add(queue, ev, req, trigger, trigger_name, private_data, false);
}

TEVENT_API struct tevent_queue_entry *tevent_queue_add_optimize_empty(struct tevent_queue *queue,
                                                                    struct tevent_context *ev, struct tevent_req *req,
                                                                    tevent_queue_trigger_fn_t trigger,
                                                                    void *private_data) {
    return queue_add(queue, ev, req, trigger, nullptr, private_data, true);
}
TEVENT_API struct tevent_queue_entry *_tevent_queue_add_optimize_empty(struct tevent_queue *queue,
                                                                     struct tevent_context *ev,
                                                                     struct tevent_req *req,
                                                                     tevent_queue_trigger_fn_t trigger,
                                                                     const char *trigger_name, void *private_data) {
    return queue_add(queue, ev, req, trigger, trigger_name, private_data, true);
}

TEVENT_API void tevent_queue_entry_untrigger(struct tevent_queue_entry *entry) { queue_entry_untrigger(entry); }
TEVENT_API void tevent_queue_start(struct tevent_queue *queue) { queue_start(queue); }
TEVENT_API void tevent_queue_stop(struct tevent_queue *queue) { queue_stop(queue); }
TEVENT_API size_t tevent_queue_length(struct tevent_queue *queue) { return queue_length(queue); }
TEVENT_API bool tevent_queue_running(struct tevent_queue *queue) { return queue_running(queue); }

TEVENT_API void tevent_queue_entry_set_tag(struct tevent_queue_entry *qe, uint64_t tag) { queue_entry_set_tag(qe, tag); }
TEVENT_API uint64_t tevent_queue_entry_get_tag(const struct tevent_queue_entry *qe) { return queue_entry_get_tag(qe); }

TEVENT_API void tevent_set_trace_queue_callback(struct tevent_context *ev, tevent_trace_queue_callback_t cb,
                                              void *private_data) {
    set_trace_queue(ev, cb, private_data);
}
TEVENT_API void tevent_get_trace_queue_callback(struct tevent_context *ev, tevent_trace_queue_callback_t *cb,
                                              void *p_private_data) {
    get_trace_queue(ev, cb, p_private_data);
}
TEVENT_API void tevent_trace_queue_callback(struct tevent_context *ev, struct tevent_queue_entry *qe,
                                          enum tevent_event_trace_point tp) {
    trace_queue(ev, qe, tp);
}

TEVENT_API struct tevent_req *tevent_queue_wait_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
                                                   struct tevent_queue *queue) {
    return queue_wait_send(mem_ctx, ev, queue);
}
TEVENT_API bool tevent_queue_wait_recv(struct tevent_req *req) { return queue_wait_recv(req); }

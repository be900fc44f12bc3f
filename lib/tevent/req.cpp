// tevent_req: the state machine of an asynchronous request.
//
// A request starts IN_PROGRESS and is finished once by its implementation
// (DONE, USER_ERROR, NO_MEMORY) or by its end-time timer (TIMED_OUT); the
// caller's _recv function then marks it RECEIVED, which frees the state.
// Like the reference, nothing here refuses a second finish: finishing again
// moves the state and calls the callback again, and programs rely on that
// tolerance.  Only what would crash the reference is reported through
// tevent_abort().  A NULL request is ignored instead of dereferenced.
#include "req.hpp"

#include "context.hpp"

namespace tev {
namespace {

// Room reserved in the request's talloc pool for its trigger immediate.
constexpr size_t kImmediateReserve = sizeof(tevent_immediate);

const char *or_null_text(const char *s) { return s != nullptr ? s : "(null)"; }

// Runs the cleanup function for a state it has not seen yet.
void req_cleanup(tevent_req *req) {
    if (req->cleanup.fn == nullptr) return;
    if (req->cleanup.seen >= req->state) return;
    call_depth_notify(TEVENT_CALL_FLOW_REQ_CLEANUP, req, req->call_depth, req->cleanup.fn_name);
    // Record first: the function may finish the request again.
    req->cleanup.seen = req->state;
    req->cleanup.fn(req, req->state);
}

// tevent_req_received() past its destructor: what a request that is
// received, explicitly or by being freed, no longer has.
void release_state(tevent_req *req) {
    req->print_fn = nullptr;
    req->cancel = {};
    // Called from the trigger's own handler (the callback of a posted
    // request receives it), this free is refused, as the reference's is:
    // the trigger stays under the request, moves up with each free of an
    // ancestor, and is released when its handler returns.
    TALLOC_FREE(req->trigger);
    TALLOC_FREE(req->timer);
    req->state = TEVENT_REQ_RECEIVED;
    // The cleanup function may still look at the state; free it afterwards.
    req_cleanup(req);
    TALLOC_FREE(req->data);
}

int req_destructor(void *ptr) {
    // talloc drops the destructor itself.
    release_state(static_cast<tevent_req *>(ptr));
    return 0;
}

void req_trigger(tevent_context *, tevent_immediate *, void *private_data) {
    auto *req = static_cast<tevent_req *>(private_data);
    req_notify_callback(req, req->finish_location);
}

void req_timedout(tevent_context *, tevent_timer *, struct timeval, void *private_data) {
    auto *req = static_cast<tevent_req *>(private_data);
    TALLOC_FREE(req->timer);
    // The reference reports the handler's name as the finish location.
    req_finish(req, TEVENT_REQ_TIMED_OUT, "tevent_req_timedout");
}

}  // namespace

tevent_req *req_create(TALLOC_CTX *mem_ctx, void *pstate, size_t state_size, const char *type,
                       const char *func, const char *location) {
    // One pool holds the request, its state and its trigger immediate, so
    // the common request costs a single malloc.
    size_t payload;
    if (__builtin_add_overflow(state_size, kImmediateReserve, &payload)) return nullptr;
    void *mem = _talloc_pooled_object(mem_ctx, sizeof(tevent_req), "struct tevent_req", 2, payload);
    if (mem == nullptr) return nullptr;

    auto *req = new (mem) tevent_req{};
    req->type = type;
    req->create_location = location;
    req->state = TEVENT_REQ_IN_PROGRESS;
    req->trigger = _tevent_create_immediate(req, TEV_LOCATION);
    if (req->trigger == nullptr) {
        talloc_free(req);
        return nullptr;
    }

    void *data = _talloc_zero(req, state_size, type);
    if (data == nullptr) {
        talloc_free(req);
        return nullptr;
    }
    req->data = data;
    _talloc_set_destructor(req, req_destructor);

    // By convention a subrequest is allocated on its parent's state, so the
    // parent request is the grandparent of this one in the talloc tree.
    auto *parent = static_cast<tevent_req *>(talloc_check_name(talloc_parent(mem_ctx), "struct tevent_req"));
    if (parent != nullptr && parent->profile != nullptr && !profile_attach_sub(req, parent)) {
        talloc_free(req);
        return nullptr;
    }

    *static_cast<void **>(pstate) = data;

    if (parent != nullptr) req->call_depth = parent->call_depth + 1;
    call_depth_notify(TEVENT_CALL_FLOW_REQ_CREATE, req, req->call_depth, func);
    return req;
}

void req_set_callback(tevent_req *req, tevent_req_fn fn, const char *fn_name, void *pvt) {
    if (req == nullptr) return;
    req->callback.fn = fn;
    req->callback.fn_name = fn_name;
    req->callback.private_data = pvt;
}

void req_set_cancel_fn(tevent_req *req, tevent_req_cancel_fn fn, const char *fn_name) {
    if (req == nullptr) return;
    req->cancel.fn = fn;
    req->cancel.fn_name = fn != nullptr ? fn_name : nullptr;
}

void req_set_cleanup_fn(tevent_req *req, tevent_req_cleanup_fn fn, const char *fn_name) {
    if (req == nullptr) return;
    // Only transitions after this point are reported.
    req->cleanup.seen = req->state;
    req->cleanup.fn = fn;
    req->cleanup.fn_name = fn != nullptr ? fn_name : nullptr;
}

void req_set_print_fn(tevent_req *req, tevent_req_print_fn fn) {
    if (req == nullptr) return;
    req->print_fn = fn;
}

void *req_data(tevent_req *req) { return req != nullptr ? req->data : nullptr; }

void *req_callback_data(tevent_req *req) { return req != nullptr ? req->callback.private_data : nullptr; }

void req_notify_callback(tevent_req *req, const char *location) {
    if (req == nullptr) return;
    req->finish_location = location;
    if (req->defer_callback_ev != nullptr) {
        tevent_context *ev = req->defer_callback_ev;
        req->defer_callback_ev = nullptr;
        req_post(req, ev);
        return;
    }
    if (req->callback.fn == nullptr) return;
    // Control returns to the parent's code: report the parent's depth.
    size_t depth = req->call_depth > 0 ? req->call_depth - 1 : 0;
    call_depth_notify(TEVENT_CALL_FLOW_REQ_NOTIFY_CB, req, depth, req->callback.fn_name);
    req->callback.fn(req);
}

void req_finish(tevent_req *req, enum tevent_req_state state, const char *location) {
    // A finished request must not time out later.
    TALLOC_FREE(req->timer);
    req->state = state;
    req->finish_location = location;
    req_cleanup(req);
    // Tested here: most requests are not profiled.
    if (req->profile != nullptr) profile_finish(req, state, location);
    req_notify_callback(req, location);
}

void req_done(tevent_req *req, const char *location) {
    if (req == nullptr) return;
    req_finish(req, TEVENT_REQ_DONE, location);
}

bool req_error(tevent_req *req, uint64_t error, const char *location) {
    if (error == 0) return false;
    if (req == nullptr) return true;
    req->error = error;
    req_finish(req, TEVENT_REQ_USER_ERROR, location);
    return true;
}

void req_oom(tevent_req *req, const char *location) {
    if (req == nullptr) return;
    req_finish(req, TEVENT_REQ_NO_MEMORY, location);
}

bool req_nomem(const void *p, tevent_req *req, const char *location) {
    if (p != nullptr) return false;
    req_oom(req, location);
    return true;
}

tevent_req *req_post(tevent_req *req, tevent_context *ev) {
    if (req == nullptr) return nullptr;
    if (req->trigger == nullptr) {
        // tevent_req_received() freed the trigger; the reference crashes here.
        tev::abort(ev, "tevent_req_post() called on a request that was already received");
        return req;
    }
    _tevent_schedule_immediate(req->trigger, ev, req_trigger, req, "tevent_req_trigger", TEV_LOCATION);
    return req;
}

void req_defer_callback(tevent_req *req, tevent_context *ev) {
    if (req == nullptr) return;
    req->defer_callback_ev = ev;
}

bool req_is_in_progress(tevent_req *req) { return req != nullptr && req->state == TEVENT_REQ_IN_PROGRESS; }

bool req_poll(tevent_req *req, tevent_context *ev) {
    while (req_is_in_progress(req)) {
        if (_tevent_loop_once(ev, TEV_LOCATION) != 0) return false;
    }
    return true;
}

bool req_is_error(tevent_req *req, enum tevent_req_state *state, uint64_t *error) {
    if (req == nullptr) return false;
    if (req->state == TEVENT_REQ_DONE) return false;
    // In progress and received count as "not a success" too, with the error
    // left untouched: callers look at the state.
    if (req->state == TEVENT_REQ_USER_ERROR && error != nullptr) *error = req->error;
    if (state != nullptr) *state = req->state;
    return true;
}

void req_received(tevent_req *req) {
    if (req == nullptr) return;
    // Freeing the request later must not receive it again.
    _talloc_set_destructor(req, nullptr);
    release_state(req);
}

bool req_set_endtime(tevent_req *req, tevent_context *ev, struct timeval endtime) {
    if (req == nullptr) return false;
    TALLOC_FREE(req->timer);
    req->timer = _tevent_add_timer(ev, req, endtime, req_timedout, req, "tevent_req_timedout", TEV_LOCATION);
    return !req_nomem(req->timer, req, TEV_LOCATION);
}

void req_reset_endtime(tevent_req *req) {
    if (req == nullptr) return;
    TALLOC_FREE(req->timer);
}

bool req_cancel(tevent_req *req, const char *) {
    if (req == nullptr || req->cancel.fn == nullptr) return false;
    call_depth_notify(TEVENT_CALL_FLOW_REQ_CANCEL, req, req->call_depth, req->cancel.fn_name);
    return req->cancel.fn(req);
}

char *req_default_print(tevent_req *req, TALLOC_CTX *mem_ctx) {
    if (req == nullptr) return talloc_strdup(mem_ctx, "tevent_req[NULL]");
    // The reference's layout, including the double space before "state[".
    return talloc_asprintf(mem_ctx, "tevent_req[%p/%s]: state[%d] error[%lld (0x%llX)]  state[%s (%p)] timer[%p] finish[%s]",
                           static_cast<void *>(req), or_null_text(req->create_location), static_cast<int>(req->state),
                           static_cast<long long>(req->error), static_cast<unsigned long long>(req->error),
                           or_null_text(req->type), req->data, static_cast<void *>(req->timer),
                           or_null_text(req->finish_location));
}

char *req_print(TALLOC_CTX *mem_ctx, tevent_req *req) {
    if (req == nullptr) return talloc_strdup(mem_ctx, "tevent_req[NULL]");
    if (req->print_fn == nullptr) return req_default_print(req, mem_ctx);
    return req->print_fn(req, mem_ctx);
}

}  // namespace tev

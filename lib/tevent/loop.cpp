// The backend-independent part of the loop: nesting rules and hooks, trace
// points around each iteration, tevent_loop_wait / tevent_loop_until.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "context.hpp"
#include "req.hpp"

namespace tev {
namespace {

void abort_nesting(tevent_context *ev, const char *location) {
    char reason[256];
    snprintf(reason, sizeof(reason), "tevent_loop_once() nesting at %s", location != nullptr ? location : "?");
    abort(ev, reason);
}

// The nesting hook's side of enter()/leave(): kept out of line so that the
// common iteration (no hook, not nested) pays two tests.
__attribute__((noinline)) bool enter_slow(tevent_context *ev, void *stack_ptr, const char *location, int *ret) {
    if (ev->nesting.level > 0 && !ev->nesting.allowed) {
        abort_nesting(ev, location);
        errno = ELOOP;
        *ret = -1;
        return false;
    }
    ev->nesting.level++;
    if (ev->nesting.hook != nullptr) {
        int r = ev->nesting.hook(ev, ev->nesting.hook_private, static_cast<uint32_t>(ev->nesting.level), true,
                                 stack_ptr, location);
        if (r != 0) {
            ev->nesting.level--;
            *ret = r;
            return false;
        }
    }
    return true;
}

__attribute__((noinline)) void leave_hook(tevent_context *ev, void *stack_ptr, const char *location, int *ret) {
    int r = ev->nesting.hook(ev, ev->nesting.hook_private, static_cast<uint32_t>(ev->nesting.level), false,
                             stack_ptr, location);
    if (r != 0) *ret = r;
}

// Enters one (possibly nested) level; false if that is not allowed or the
// nesting hook refused.  Pair with leave() only on success.
inline bool enter(tevent_context *ev, void *stack_ptr, const char *location, int *ret) {
    if (__builtin_expect(ev->nesting.level == 0 && ev->nesting.hook == nullptr, 1)) {
        ev->nesting.level = 1;
        return true;
    }
    return enter_slow(ev, stack_ptr, location, ret);
}

inline void leave(tevent_context *ev, void *stack_ptr, const char *location, int *ret) {
    // (A handler may have set a hook meanwhile: it sees the leaving too.)
    if (ev->nesting.hook != nullptr) leave_hook(ev, stack_ptr, location, ret);
    // The context may have been re-initialised by a handler (level reset).
    if (ev->nesting.level > 0) ev->nesting.level--;
}

inline int one_iteration(tevent_context *ev, const char *location) {
    trace_point(ev, TEVENT_TRACE_BEFORE_LOOP_ONCE);
    int ret = ev->ops->loop_once(ev, location);
    trace_point(ev, TEVENT_TRACE_AFTER_LOOP_ONCE);
    // Whatever runs next starts a new call flow.
    call_depth_notify(TEVENT_CALL_FLOW_REQ_RESET, nullptr, 0, "_tevent_loop_once");
    return ret;
}

// Marks a loop entry point as running on ev; see tevent_context::running.
class Running {
public:
    explicit Running(tevent_context *ev) : ev_(ev) { ev_->running++; }
    ~Running() {
        if (--ev_->running == 0 && ev_->free_pending) {
            ev_->free_pending = false;
            int err = errno;
            talloc_free(ev_);
            errno = err;
        }
    }
    Running(const Running &) = delete;
    Running &operator=(const Running &) = delete;

private:
    tevent_context *ev_;
};

}  // namespace

int loop_once(tevent_context *ev, const char *location) {
    if (ev == nullptr) {
        errno = EINVAL;
        return -1;
    }
    // A wrapper has no loop of its own; its ops refuse (wrapper.cpp).
    if (ev->wrapper.glue != nullptr) return ev->ops->loop_once(ev, location);
    Running running(ev);
    void *stack_marker = nullptr;
    int ret = 0;
    if (!enter(ev, &stack_marker, location, &ret)) return ret;
    ret = one_iteration(ev, location);
    leave(ev, &stack_marker, location, &ret);
    return ret;
}

int loop_until(tevent_context *ev, bool (*finished)(void *), void *private_data, const char *location) {
    if (ev == nullptr || finished == nullptr) {
        errno = EINVAL;
        return -1;
    }
    // Refused like tevent_loop_once() on a wrapper, as in the reference.
    if (ev->wrapper.glue != nullptr) return ev->ops->loop_once(ev, location);
    Running running(ev);
    void *stack_marker = nullptr;
    int ret = 0;
    if (!enter(ev, &stack_marker, location, &ret)) return ret;
    while (!finished(private_data)) {
        ret = one_iteration(ev, location);
        if (ret != 0) break;
    }
    leave(ev, &stack_marker, location, &ret);
    return ret;
}

bool have_events(tevent_context *ev) {
    return user_fd_count(ev) != 0 || ev->timers.count != 0 || !ev->immediates.empty() || ev->num_signal_events != 0;
}

int loop_wait(tevent_context *ev, const char *location) {
    if (ev == nullptr) {
        errno = EINVAL;
        return -1;
    }
    if (ev->wrapper.glue != nullptr) return ev->ops->loop_wait(ev, location);
    Running running(ev);
    // Through the public entry point: each iteration is nested, hooked and
    // traced like a tevent_loop_once() call.
    while (!ev->free_pending && have_events(ev)) {
        int ret = loop_once(ev, location);
        if (ret != 0) {
            int err = errno;
            debug(ev, TEVENT_DEBUG_FATAL, "_tevent_loop_once() failed: %d - %s\n", ret, strerror(err));
            errno = err;
            return ret;
        }
    }
    debug(ev, TEVENT_DEBUG_WARNING, "tevent_common_loop_wait() out of events\n");
    return 0;
}

}  // namespace tev

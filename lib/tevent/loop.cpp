// The loop: the phases of one iteration of a built-in backend
// (builtin_loop_once, read it first), nesting rules and hooks, trace points
// around each iteration, tevent_loop_wait / tevent_loop_until.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "context.hpp"
#include "backend.hpp"
#include "call_depth.hpp"
#include "signal.hpp"
#include "thread_check.hpp"
#include "threads.hpp"

namespace tev {

namespace {

// Step 5 of an iteration: waits for descriptors up to timeout_us.  Other
// threads only poke a loop that announced its sleep (threads.cpp,
// "Sleeping and waking"), after a short spin when they are talkative.  Work
// found then ends the wait at once, as a poke would have: the descriptors
// are still looked at, without blocking, so that a steady stream of
// messages cannot starve them; unless the wakeup descriptor is the only one
// (it would only be drained).  Returns what backend_wait() returns, and in
// *work_arrived whether other threads' work ended the wait.
int wait_for_descriptors(tevent_context *ev, Backend *b, int64_t timeout_us, bool *work_arrived) {
    trace_point(ev, TEVENT_TRACE_BEFORE_WAIT);
    bool announced = ev->threads != nullptr && timeout_us != 0;
    *work_arrived = announced && threads_wait_begin(ev, &timeout_us);
    int n = 0;
    if (!*work_arrived || user_fd_count(ev) != 0) n = backend_wait(b, *work_arrived ? 0 : timeout_us);
    int err = n < 0 ? errno : 0;
    if (announced) threads_wait_end(ev);
    trace_point(ev, TEVENT_TRACE_AFTER_WAIT);
    errno = err;
    return n;
}

// A wait that failed: interrupted by a signal (delivered now), or the
// poller broke (the backend falls back to poll() where it may).
int wait_failed(tevent_context *ev, Backend *b, int err) {
    if (err == EINTR) {
        b->nready = 0;
        if (ev->signals != nullptr) signal_check(ev);
        return 0;
    }
    if (backend_recover(b)) return 0;
    debug(ev, TEVENT_DEBUG_FATAL, "%s: wait failed: %s\n", b->poller->name, strerror(err));
    errno = err;
    return -1;
}

}  // namespace

// One iteration of a context with a built-in backend, phase by phase (as
// libuv's uv_run): the first phase that runs a handler ends the iteration,
// so exactly one handler runs, or none when nothing was due.
int builtin_loop_once(tevent_context *ev, const char *) {
    Backend *b = ev->backend;
    if (b == nullptr) {
        errno = EINVAL;
        return -1;
    }
    backend_check_fork(b);

    // 1. Signals caught since the last iteration.
    if (ev->signals != nullptr && signal_check(ev) != 0) return 0;
    // 2. Immediates other threads sent join the queue.
    if (ev->threads != nullptr) threads_activate(ev);
    // 3. One immediate.
    if (!ev->immediates.empty() && immediate_loop_one(ev)) return 0;
    // 4. One due timer; otherwise the time until the next one.
    TimerStep step = timer_step(ev);
    if (step.ran) return 0;
    // Polling mode (tevent_context_set_wait_timeout(ev, 0)): nothing may
    // be waited for.
    bool polling = step.timeout_us == 0 && !timer_any_pending(ev);

    // 5. Wait for descriptors.
    bool work_arrived = false;
    int n = wait_for_descriptors(ev, b, step.timeout_us, &work_arrived);
    if (n < 0) return wait_failed(ev, b, errno);
    if (n == 0) {
        b->nready = 0;
        // Woken by other threads: their work runs in the next iteration.
        if (work_arrived) return 0;
        if (polling) {
            errno = EAGAIN;
            return -1;
        }
        // 6a. Woken by the deadline: the timer that is now due.
        timer_step(ev);
        return 0;
    }
    // 6b. One fd handler.
    backend_dispatch(b);
    return 0;
}

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

namespace {

// What tevent_loop_once() and tevent_loop_until() share around their
// iterations (`iterate()`, returning the result): a wrapper has no loop of
// its own, its ops refuse (wrapper.cpp), as in the reference; the context
// is marked running and one nesting level entered for the whole call.
// Inlined: once per iteration for tevent_loop_once().
template <typename Iterate>
__attribute__((always_inline)) inline int run_loop(tevent_context *ev, const char *location, Iterate iterate) {
    if (ev->wrapper.glue != nullptr) return ev->ops->loop_once(ev, location);
    Running running(ev);
    void *stack_marker = nullptr;
    int ret = 0;
    if (!enter(ev, &stack_marker, location, &ret)) return ret;
    ret = iterate();
    leave(ev, &stack_marker, location, &ret);
    return ret;
}

}  // namespace

int loop_once(tevent_context *ev, const char *location) {
    if (ev == nullptr) {
        errno = EINVAL;
        return -1;
    }
    return run_loop(ev, location, [&] { return one_iteration(ev, location); });
}

int loop_until(tevent_context *ev, bool (*finished)(void *), void *private_data, const char *location) {
    if (ev == nullptr || finished == nullptr) {
        errno = EINVAL;
        return -1;
    }
    return run_loop(ev, location, [&] {
        int ret = 0;
        while (!finished(private_data)) {
            ret = one_iteration(ev, location);
            if (ret != 0) break;
        }
        return ret;
    });
}

bool loop_have_events(tevent_context *ev) {
    return user_fd_count(ev) != 0 || timer_any_pending(ev) || !ev->immediates.empty() || ev->num_signal_events != 0;
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
    while (!ev->free_pending && loop_have_events(ev)) {
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

uint32_t loop_set_wait_timeout(tevent_context *ev, uint32_t secs) {
    ev = main_context(ev);
    if (ev == nullptr) return 0;
    uint32_t old = ev->wait_timeout;
    ev->wait_timeout = secs;
    return old;
}

void loop_allow_nesting(tevent_context *ev) {
    if (ev == nullptr) return;
    // Nested loops would run a wrapper's handlers inside each other (its
    // use stack forbids that).
    if (ev->wrapper.glue != nullptr) {
        abort(ev, "tevent_loop_allow_nesting() on wrapper");
        return;
    }
    if (!ev->wrapper.list.empty()) {
        abort(ev, "tevent_loop_allow_nesting() with wrapper");
        return;
    }
    ev->nesting.allowed = true;
}

// On a wrapper the hook is stored there and never called (its loop is the
// main context's), as in the reference.
void loop_set_nesting_hook(tevent_context *ev, tevent_nesting_hook hook, void *private_data) {
    if (ev == nullptr) return;
    ev->nesting.hook = hook;
    ev->nesting.hook_private = private_data;
}

}  // namespace tev

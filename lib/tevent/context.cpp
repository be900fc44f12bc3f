// Context creation, teardown and re-initialisation; the cached pid.
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <new>

#include "backend.hpp"
#include "context.hpp"
#include "signal.hpp"
#include "thread_check.hpp"
#include "wrapper.hpp"

namespace tev {

std::atomic<pid_t> g_cached_pid{0};

namespace {

void forget_pid_in_child() { g_cached_pid.store(0, std::memory_order_relaxed); }

__attribute__((constructor)) void install_fork_handler() { pthread_atfork(nullptr, nullptr, forget_pid_in_child); }

int context_talloc_destructor(tevent_context *ev) {
    if (thread_check_context_free_refused(ev)) return -1;
    if (ev->running > 0) {
        // Freed from one of its own handlers: the loop still needs it.  It
        // is freed when the outermost loop call returns.  Its signal events
        // go now, as the reference's go with it: a program that frees its
        // context in a SIGTERM handler and then raises SIGTERM again (smbd,
        // sssd) expects the previous action back, not to survive.
        ev->free_pending = true;
        if (ev->signals != nullptr) signal_context_detach(ev);
        return -1;
    }
    return context_destructor(ev);
}

}  // namespace

pid_t cached_getpid() {
    pid_t pid = g_cached_pid.load(std::memory_order_relaxed);
    if (pid == 0) {
        pid = getpid();
        g_cached_pid.store(pid, std::memory_order_relaxed);
    }
    return pid;
}

tevent_context *context_init_ops(TALLOC_CTX *mem_ctx, const tevent_ops *ops, void *additional_data) {
    if (ops == nullptr || ops->context_init == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    void *mem = talloc_named_const(mem_ctx, sizeof(tevent_context), "struct tevent_context");
    if (mem == nullptr) return nullptr;
    auto *ev = new (mem) tevent_context{};
    ev->ops = ops;
    ev->additional_data = additional_data;
    talloc_set_destructor(ev, context_talloc_destructor);
    if (ops->context_init(ev) != 0) {
        talloc_free(ev);
        return nullptr;
    }
    ev->loop_unchecked = loop_shared_between_threads(ev);
    return ev;
}

tevent_context *context_init_byname(TALLOC_CTX *mem_ctx, const char *name) {
    const tevent_ops *ops = find_ops(name);
    if (ops == nullptr) return nullptr;
    return context_init_ops(mem_ctx, ops, nullptr);
}

int context_destructor(tevent_context *ev) {
    if (ev == nullptr) return 0;
    // Wrapper contexts have their own destructor (wrapper.cpp).
    if (ev->wrapper.glue != nullptr) {
        abort(ev, "tevent_common_context_destructor() active on wrapper");
        return 0;
    }

    // First stop other threads and signal handlers from poking the wakeup
    // descriptor, then drop it.
    if (ev->threads != nullptr) threads_context_detach(ev);
    if (ev->signals != nullptr) signal_context_silence(ev);
    wakeup_fini(ev);
    // Wrappers outlive their main context, unusable; their events are
    // torn down below with all others.
    wrappers_orphan(ev);

    // The events stay allocated (their owners free them); they only lose
    // their context, with a DETACH trace point each, in the reference's
    // order: fds, timers, immediates, signals.  A later free of an fd event
    // still runs its close function, with a NULL context.
    fd_disarm_all(ev);
    timer_disarm_all(ev);
    immediate_cancel_all(ev);
    if (ev->signals != nullptr) signal_context_detach(ev);

    // Nesting state goes (a hook would otherwise fire on a reset context);
    // whether nesting is allowed stays, as in the reference.
    ev->nesting.level = 0;
    ev->nesting.hook = nullptr;
    ev->nesting.hook_private = nullptr;

    backend_close(ev);
    timer_fini(ev);
    return 0;
}

int re_initialise(tevent_context *ev) {
    if (thread_check_misused(ev, "tevent_re_initialise")) return -1;
    if (ev == nullptr) {
        errno = EINVAL;
        return -1;
    }
    // On a wrapper both steps refuse (through tevent_abort()), as in the
    // reference.
    context_destructor(ev);
    int ret = ev->ops->context_init(ev);
    ev->loop_unchecked = loop_shared_between_threads(ev);
    return ret;
}

}  // namespace tev

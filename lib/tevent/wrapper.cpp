// Wrapper contexts (see wrapper.hpp): creation and teardown, the glue ops
// that route a wrapper's events to its main context, the hooks and the use
// stack.  The only file that knows struct tevent_wrapper_ops.
#define TEVENT_DEPRECATED 1  // struct tevent_wrapper_ops
#include "tevent.h"

#include "wrapper.hpp"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <new>

#include "lifecycle.hpp"
#include "signal.hpp"
#include "thread_check.hpp"
#include "threads.hpp"

namespace tev {

// ---- the use stack ---------------------------------------------------------

namespace {

constexpr size_t kUseStackSize = 32;  // the documented limit

struct UseStack {
    struct Entry {
        const tevent_context *ev;  // compared only: may be gone at pop time
        const WrapperGlue *glue;
    } entries[kUseStackSize];
    size_t depth;
};

// Per thread, where the reference has one stack per process: threads that
// loop their own contexts must not see each other's entries.  Only the
// pointer lives in TLS (initial-exec, so that the library needs no
// ld-linux.so); the stack is allocated by a thread's first push and freed
// when the thread exits.
constinit thread_local UseStack *t_use_stack __attribute__((tls_model("initial-exec"))) = nullptr;

pthread_key_t g_use_stack_key;
pthread_once_t g_use_stack_once = PTHREAD_ONCE_INIT;

// Runs in the exiting thread; a later thread-specific-data destructor that
// still pushes gets a fresh stack (and this runs again).
void free_use_stack(void *stack) {
    t_use_stack = nullptr;
    free(stack);
}
void create_use_stack_key() { pthread_key_create(&g_use_stack_key, free_use_stack); }

UseStack *use_stack() {
    if (t_use_stack != nullptr) return t_use_stack;
    pthread_once(&g_use_stack_once, create_use_stack_key);
    auto *stack = static_cast<UseStack *>(calloc(1, sizeof(UseStack)));
    if (stack == nullptr) return nullptr;
    pthread_setspecific(g_use_stack_key, stack);
    t_use_stack = stack;
    return stack;
}

}  // namespace

void use_push(tevent_context *ev, WrapperGlue *glue) {
    // As in the reference, a refused push reports and returns without
    // pushing; the caller goes on (its pop then reports the mismatch).
    if (ev->wrapper.glue != glue) {
        abort(ev, "tevent_wrapper_push_use_internal() invalid arguments");
        return;
    }
    if (glue != nullptr) {
        if (glue->busy) {
            abort(ev, "wrapper already busy!");
            return;
        }
        glue->busy = true;
    }
    UseStack *stack = use_stack();
    if (stack == nullptr || stack->depth >= kUseStackSize) {
        abort(ev, "TEVENT_WRAPPER_STACK_SIZE overflow");
        return;
    }
    stack->entries[stack->depth++] = UseStack::Entry{ev, glue};
}

bool use_pop(const tevent_context *ev, WrapperGlue *glue, bool free_destroyed) {
    // Reported through the main context: ev may be a freed pointer.
    tevent_context *main_ev = glue != nullptr ? glue->main_ev : nullptr;
    UseStack *stack = t_use_stack;
    if (stack == nullptr || stack->depth == 0) {
        abort(main_ev, "tevent_wrapper stack already empty");
        return false;
    }
    const UseStack::Entry top = stack->entries[--stack->depth];
    if (glue != nullptr) glue->busy = false;
    if (top.ev != ev) {
        abort(main_ev, "tevent_wrapper_pop_use mismatch ev!");
        return false;
    }
    if (top.glue != glue) {
        abort(main_ev, "tevent_wrapper_pop_use mismatch wrap!");
        return false;
    }
    if (glue == nullptr || !glue->destroyed) return false;
    // The wrapper was freed while on the stack; now it can go.
    if (free_destroyed) talloc_free(glue->wrap_ev);
    return true;
}

// ---- the hooks ---------------------------------------------------------------

void hook_fd(const WrapperGlue &g, Hook when, tevent_fd *fde, uint16_t flags) {
    auto fn = when == Hook::before ? g.ops->before_fd_handler : g.ops->after_fd_handler;
    if (fn != nullptr) fn(g.wrap_ev, g.private_state, g.main_ev, fde, flags, fde->handler_name, fde->location);
}

void hook_timer(const WrapperGlue &g, Hook when, tevent_timer *te, struct timeval trigger_time) {
    auto fn = when == Hook::before ? g.ops->before_timer_handler : g.ops->after_timer_handler;
    if (fn != nullptr) {
        fn(g.wrap_ev, g.private_state, g.main_ev, te, te->next_event, trigger_time, te->handler_name, te->location);
    }
}

void hook_immediate(const WrapperGlue &g, Hook when, tevent_immediate *im, const char *handler_name,
                    const char *location) {
    auto fn = when == Hook::before ? g.ops->before_immediate_handler : g.ops->after_immediate_handler;
    if (fn != nullptr) fn(g.wrap_ev, g.private_state, g.main_ev, im, handler_name, location);
}

void hook_signal(const WrapperGlue &g, Hook when, tevent_signal *se, int signum, int count, void *siginfo,
                 const char *handler_name, const char *location) {
    auto fn = when == Hook::before ? g.ops->before_signal_handler : g.ops->after_signal_handler;
    if (fn != nullptr) fn(g.wrap_ev, g.private_state, g.main_ev, se, signum, count, siginfo, handler_name, location);
}

// ---- teardown ----------------------------------------------------------------

namespace {

// The wrapper's events leave the main context without trace points (as in
// the reference; signals are the exception, see signal_wrapper_gone()).  They
// stay allocated for their owners and never run again.
void detach_events(tevent_context *main_ev, WrapperGlue *glue) {
    main_ev->fd_events.for_each([&](tevent_fd *fde) {
        if (fde->wrapper != glue) return;
        // Through the ops, like tevent_fd_set_flags(): a custom backend
        // stops watching the descriptor too.
        if (main_ev->ops->set_fd_flags != nullptr) main_ev->ops->set_fd_flags(fde, 0);
        fd_disarm(fde, false);
    });

    timer_detach_wrapper(main_ev, glue);

    main_ev->immediates.for_each([&](tevent_immediate *im) {
        if (im->wrapper != glue) return;
        main_ev->immediates.remove(im);
        im->event_ctx = nullptr;
        im->wrapper = nullptr;
        im->cancel_fn = nullptr;
        im->state = ImState::kIdle;
    });

    signal_wrapper_gone(main_ev, glue);
    if (main_ev->threads != nullptr) threads_wrapper_gone(main_ev, glue);
}

int wrapper_destructor(tevent_context *wrap_ev) {
    WrapperGlue *glue = wrap_ev->wrapper.glue;
    if (glue->busy && glue->destroyed) {
        check_double_free(wrap_ev, "tevent_context wrapper double free");
        return -1;
    }
    // On the use stack (one of its handlers runs): freed by use_pop().
    if (release_unless_running(glue) != 0) return -1;

    tevent_context *main_ev = glue->main_ev;
    if (main_ev == nullptr) return 0;  // its main context went first
    debug(wrap_ev, TEVENT_DEBUG_TRACE, "Destroying wrapper context %p \"%s\"\n", static_cast<void *>(wrap_ev),
          talloc_get_name(glue->private_state));
    glue->main_ev = nullptr;
    main_ev->wrapper.list.remove(glue);
    detach_events(main_ev, glue);
    return 0;
}

}  // namespace

void wrappers_orphan(tevent_context *main_ev) {
    while (WrapperGlue *glue = main_ev->wrapper.list.head) {
        glue->main_ev = nullptr;
        main_ev->wrapper.list.remove(glue);
    }
}

// ---- the glue ops ------------------------------------------------------------

namespace {

// An event added through a wrapper: refused once the wrapper was freed
// (inside one of its handlers) or lost its main context; otherwise added
// through the main context's ops and then marked as the wrapper's.
WrapperGlue *usable(tevent_context *wrap_ev, const char *use_after_free) {
    WrapperGlue *glue = wrap_ev->wrapper.glue;
    if (glue->destroyed) {
        abort(wrap_ev, use_after_free);
        return nullptr;
    }
    if (glue->main_ev == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    return glue;
}

tevent_fd *glue_add_fd(tevent_context *ev, TALLOC_CTX *mem_ctx, int fd, uint16_t flags, tevent_fd_handler_t handler,
                       void *private_data, const char *handler_name, const char *location) {
    WrapperGlue *glue = usable(ev, "add_fd wrapper use after free");
    if (glue == nullptr) return nullptr;
    tevent_context *main_ev = glue->main_ev;
    tevent_fd *fde =
        main_ev->ops->add_fd(main_ev, mem_ctx, fd, flags, handler, private_data, handler_name, location);
    if (fde != nullptr) fde->wrapper = glue;
    return fde;
}

tevent_timer *glue_add_timer(tevent_context *ev, TALLOC_CTX *mem_ctx, struct timeval next_event,
                             tevent_timer_handler_t handler, void *private_data, const char *handler_name,
                             const char *location) {
    WrapperGlue *glue = usable(ev, "add_timer wrapper use after free");
    if (glue == nullptr) return nullptr;
    tevent_context *main_ev = glue->main_ev;
    tevent_timer *te =
        main_ev->ops->add_timer(main_ev, mem_ctx, next_event, handler, private_data, handler_name, location);
    if (te != nullptr) te->wrapper = glue;
    return te;
}

void glue_schedule_immediate(tevent_immediate *im, tevent_context *ev, tevent_immediate_handler_t handler,
                             void *private_data, const char *handler_name, const char *location) {
    WrapperGlue *glue = ev->wrapper.glue;
    if (glue->destroyed) {
        // Sic: the reference's spelling, kept for abort functions that
        // match on the text.
        abort(ev, "scheduke_immediate wrapper use after free");
        return;
    }
    if (glue->main_ev == nullptr) {
        // The reference aborts with only the location (and crashes
        // formatting it); say what is wrong.
        char reason[256];
        snprintf(reason, sizeof(reason), "tevent_schedule_immediate() on a wrapper without main context at %s",
                 location != nullptr ? location : "?");
        abort(ev, reason);
        errno = EINVAL;
        return;
    }
    tevent_context *main_ev = glue->main_ev;
    main_ev->ops->schedule_immediate(im, main_ev, handler, private_data, handler_name, location);
    // Only when it was scheduled (handler == nullptr only cancels).
    if (im->event_ctx != nullptr) im->wrapper = glue;
}

tevent_signal *glue_add_signal(tevent_context *ev, TALLOC_CTX *mem_ctx, int signum, int sa_flags,
                               tevent_signal_handler_t handler, void *private_data, const char *handler_name,
                               const char *location) {
    WrapperGlue *glue = usable(ev, "add_signal wrapper use after free");
    if (glue == nullptr) return nullptr;
    tevent_context *main_ev = glue->main_ev;
    if (main_ev->ops->add_signal == nullptr) {
        errno = ENOSYS;
        return nullptr;
    }
    tevent_signal *se =
        main_ev->ops->add_signal(main_ev, mem_ctx, signum, sa_flags, handler, private_data, handler_name, location);
    if (se != nullptr) signal_set_wrapper(se, glue);
    return se;
}

// A wrapper has no loop: it is the main context that is looped.
int glue_context_init(tevent_context *ev) {
    abort(ev, "tevent_wrapper_glue_context_init() called");
    return -1;
}

int glue_loop_once(tevent_context *ev, const char *) {
    abort(ev, "tevent_wrapper_glue_loop_once() called");
    errno = ENOSYS;
    return -1;
}

int glue_loop_wait(tevent_context *ev, const char *) {
    abort(ev, "tevent_wrapper_glue_loop_wait() called");
    errno = ENOSYS;
    return -1;
}

}  // namespace

const tevent_ops kWrapperOps = {
    .context_init = glue_context_init,
    .add_fd = glue_add_fd,
    .set_fd_close_fn = fd_set_close_fn,
    .get_fd_flags = fd_get_flags,
    .set_fd_flags = fd_set_flags,
    .add_timer = glue_add_timer,
    .schedule_immediate = glue_schedule_immediate,
    .add_signal = glue_add_signal,
    .loop_once = glue_loop_once,
    .loop_wait = glue_loop_wait,
};

// ---- the API -------------------------------------------------------------------

tevent_context *wrapper_create(tevent_context *main_ev, TALLOC_CTX *mem_ctx, const tevent_wrapper_ops *ops,
                               void *pstate, size_t psize, const char *type, const char *location) {
    if (thread_check_misused(main_ev, "tevent_context_wrapper_create")) return nullptr;
    if (main_ev == nullptr || ops == nullptr || pstate == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    if (main_ev->wrapper.glue != nullptr) {
        debug(main_ev, TEVENT_DEBUG_FATAL, "%s: %s() stacking not allowed\n", "_tevent_context_wrapper_create",
              location);
        errno = EINVAL;
        return nullptr;
    }
    // A nested loop would run the wrapper's handlers inside each other.
    if (main_ev->nesting.allowed) {
        debug(main_ev, TEVENT_DEBUG_FATAL, "%s: %s() conflicts with nesting\n", "_tevent_context_wrapper_create",
              location);
        errno = EINVAL;
        return nullptr;
    }

    void *mem = talloc_named_const(mem_ctx, sizeof(tevent_context), "struct tevent_context");
    if (mem == nullptr) return nullptr;
    auto *wrap_ev = new (mem) tevent_context{};
    wrap_ev->ops = &kWrapperOps;

    void *glue_mem = talloc_named_const(wrap_ev, sizeof(WrapperGlue), "struct tevent_wrapper_glue");
    if (glue_mem == nullptr) {
        talloc_free(wrap_ev);
        return nullptr;
    }
    auto *glue = new (glue_mem) WrapperGlue{};
    glue->wrap_ev = wrap_ev;
    glue->main_ev = main_ev;
    glue->ops = ops;
    glue->private_state = talloc_zero_size(glue, psize);
    if (glue->private_state == nullptr) {
        talloc_free(wrap_ev);
        return nullptr;
    }
    talloc_set_name_const(glue->private_state, type);
    wrap_ev->wrapper.glue = glue;
    talloc_set_destructor(wrap_ev, wrapper_destructor);

    main_ev->wrapper.list.push_back(glue);

    *static_cast<void **>(pstate) = glue->private_state;
    return wrap_ev;
}

bool push_use(tevent_context *ev, const char *location) {
    // The reference crashes on NULL; refusing is the documented failure.
    if (ev == nullptr) return false;
    WrapperGlue *glue = ev->wrapper.glue;
    if (glue == nullptr) {
        use_push(ev, nullptr);
        return true;
    }
    if (glue->main_ev == nullptr) return false;
    use_push(ev, glue);
    if (glue->ops->before_use != nullptr &&
        !glue->ops->before_use(ev, glue->private_state, glue->main_ev, location)) {
        // Not pushed as far as the caller knows: no pop follows.
        use_pop(ev, glue, true);
        return false;
    }
    return true;
}

void pop_use(tevent_context *ev, const char *location) {
    if (ev == nullptr) return;
    WrapperGlue *glue = ev->wrapper.glue;
    // The after_use hook runs before a wrapper freed meanwhile goes.
    bool free_now = use_pop(ev, glue, false);
    if (glue != nullptr && glue->main_ev != nullptr && glue->ops->after_use != nullptr) {
        glue->ops->after_use(ev, glue->private_state, glue->main_ev, location);
    }
    if (free_now) talloc_free(ev);
}

bool same_loop(tevent_context *ev1, tevent_context *ev2) {
    tevent_context *main1 = main_context(ev1);
    return main1 != nullptr && main1 == main_context(ev2);
}

bool is_wrapper(tevent_context *ev) { return ev != nullptr && ev->wrapper.glue != nullptr; }

}  // namespace tev

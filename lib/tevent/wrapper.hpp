// Wrapper contexts: a tevent_context that owns no loop of its own.  Events
// created through it live in its main context and run there, with the
// wrapper's before/after hooks around their handlers (impersonation,
// profiling).  The glue (tev::WrapperGlue, context.hpp) links the two.
//
// The "use stack": every handler of a wrapper event, and every
// tevent_context_push_use(), pushes (context, glue) on a per-thread stack
// of at most 32 entries and pops it afterwards; a wrapper may be on the
// stack only once.  Freeing a wrapper that is on the stack is deferred
// until it is popped.  Misuse is reported through tevent_abort() with the
// reference's messages; when the abort function returns, the call carries
// on as the reference does.
#pragma once

#include "context.hpp"

namespace tev {

// Pushes (ev, glue); glue must be ev's own (nullptr for a main context).
void use_push(tevent_context *ev, WrapperGlue *glue);
// Pops what use_push() pushed.  ev is only compared, never dereferenced
// (it may be gone).  Returns true if glue's wrapper was freed while on the
// stack and must be freed now; with free_destroyed the pop does that
// itself.
bool use_pop(const tevent_context *ev, WrapperGlue *glue, bool free_destroyed);

// Which of a wrapper's two hooks around a handler.
enum class Hook { before, after };

// The wrapper's hooks for each kind of event (a missing hook is skipped).
void hook_fd(const WrapperGlue &glue, Hook when, tevent_fd *fde, uint16_t flags);
void hook_timer(const WrapperGlue &glue, Hook when, tevent_timer *te, struct timeval trigger_time);
void hook_immediate(const WrapperGlue &glue, Hook when, tevent_immediate *im, const char *handler_name,
                    const char *location);
void hook_signal(const WrapperGlue &glue, Hook when, tevent_signal *se, int signum, int count, void *siginfo,
                 const char *handler_name, const char *location);

// The single place where event handlers are called.  `call` describes one
// handler call of one kind of event:
//   call.hook(glue, when)  the wrapper's hook for that kind (hook_*() above)
//   call.trace(ev)         its BEFORE_HANDLER trace point
//   call(handler_ev)       the handler itself
// The order is the reference's: push, before hook, trace point, handler,
// after hook, pop.  glue is taken by the caller before the handler runs:
// the handler may free its event, and the after hook still runs.
// The wrapper case is out of line, so that the plain call is inlined into
// every dispatcher.
template <typename Call>
__attribute__((noinline)) void run_wrapped_handler(tevent_context *ev, WrapperGlue *glue, const Call &call);

template <typename Call>
__attribute__((always_inline)) inline void run_handler(tevent_context *ev, WrapperGlue *glue, const Call &call) {
    if (__builtin_expect(glue == nullptr, 1)) {
        call.trace(ev);
        call(ev);
        return;
    }
    run_wrapped_handler(ev, glue, call);
}

template <typename Call>
void run_wrapped_handler(tevent_context *ev, WrapperGlue *glue, const Call &call) {
    tevent_context *wrap_ev = glue->wrap_ev;
    use_push(wrap_ev, glue);
    call.hook(*glue, Hook::before);
    call.trace(ev);
    call(wrap_ev);
    call.hook(*glue, Hook::after);
    use_pop(wrap_ev, glue, true);
}

// ---- the API (compat/tevent_wrapper_exports.cpp) ---------------------------
tevent_context *wrapper_create(tevent_context *main_ev, TALLOC_CTX *mem_ctx, const tevent_wrapper_ops *ops,
                               void *pstate, size_t psize, const char *type, const char *location);
bool push_use(tevent_context *ev, const char *location);
void pop_use(tevent_context *ev, const char *location);
bool same_loop(tevent_context *ev1, tevent_context *ev2);
bool is_wrapper(tevent_context *ev);

// A main context is going away: its wrappers lose it (they stay allocated
// and report errors from then on).
void wrappers_orphan(tevent_context *main_ev);

// The ops of every wrapper context: events go to the main context's ops
// and are then marked as the wrapper's; loops refuse to run.
extern const tevent_ops kWrapperOps;

}  // namespace tev

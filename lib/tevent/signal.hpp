// Signal events: what signal.cpp offers the event core and the exports.
//
// A caught signal is only counted (and, for SA_SIGINFO, its siginfo kept in
// a ring) by an async-signal-safe handler, which then pokes the wakeup
// descriptor of every context listening for that signal.  The handlers of
// tevent_add_signal() run later, from tevent_common_check_signal(), on the
// thread that loops the context they belong to.
//
// The core's side of the contract is in context.hpp: it calls signal_check() at
// the start of every iteration while ev->signals is set (and after an
// interrupted wait), signal_context_detach() when a context is torn down or
// re-initialised, and signal_context_wakeup_changed() after replacing a context's
// wakeup descriptor.
#pragma once

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <talloc.h>

#include "tevent.h"

namespace tev {
struct WrapperGlue;
}

namespace tev {

// The reference sizes its table as twice SIGRTMIN as seen when it was
// configured: 68 on Linux.  signum must be below this.
constexpr int kNumSignals = 68;
// siginfo structures kept per signal between two deliveries; a power of two
// so that ring positions survive counter wrap-around.
constexpr uint32_t kSignalInfoQueue = 256;

// tevent_common_add_signal().
tevent_signal *signal_add(tevent_context *ev, TALLOC_CTX *mem_ctx, int signum, int sa_flags,
                   tevent_signal_handler_t handler, void *private_data, const char *handler_name,
                   const char *location);

// tevent_common_check_signal(): calls the handlers of what was caught since
// the last call.  1 if any signal had arrived, else 0.  Two atomic loads
// when nothing happened.
int signal_check(tevent_context *ev);

// tevent_common_invoke_signal_handler(): one handler call, with its trace
// point and a free from inside the handler taken care of.
int signal_invoke(tevent_signal *se, int signum, int count, void *siginfo, bool *removed);

// tevent_cleanup_pending_signal_handlers(): unhooks se (nothing more is
// delivered to it; the previous action is restored when it was the last
// handler of its signal).  se itself stays allocated.
void signal_cleanup_pending(tevent_signal *se);

// Forgets ev's wakeup descriptor; once this returns no signal handler
// touches it any more.  Its signal events still count what is caught.
void signal_context_silence(tevent_context *ev);

// Unhooks every signal event of ev, newest first, each with its DETACH
// trace point, and forgets its wakeup descriptor.
void signal_context_detach(tevent_context *ev);

// Every signal event of ev created through the wrapper `glue` is cleaned
// up as by signal_cleanup_pending() (the wrapper is being freed).
void signal_wrapper_gone(tevent_context *ev, WrapperGlue *glue);
// Marks se as created through a wrapper (its handler runs with the hooks).
void signal_set_wrapper(tevent_signal *se, WrapperGlue *glue);

// ev's wakeup descriptor was replaced (after fork).
void signal_context_wakeup_changed(tevent_context *ev);

void signal_set_tag(tevent_signal *se, uint64_t tag);
uint64_t signal_get_tag(const tevent_signal *se);

// tevent_signal_support(): whether ev's ops can add signal events.
bool signal_support(tevent_context *ev);

}  // namespace tev

// Signal events: the internal view shared with the event core.
//
// A caught signal is only counted (and, for SA_SIGINFO, its siginfo kept in
// a ring) by an async-signal-safe handler, which then pokes the wakeup
// descriptor of every context that listens for that signal.  Handlers run
// later, from tevent_common_check_signal(), on the thread that loops the
// context they belong to.
#pragma once

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <talloc.h>

#include "tevent.h"

namespace tev::sig {

// The reference sizes its table as twice SIGRTMIN (as seen when it was
// configured): 68 on Linux.  signum must be below this.
constexpr int kNumSignals = 68;
// siginfo structures remembered per signal between two deliveries; a power
// of two so that ring positions survive counter wrap-around.
constexpr uint32_t kInfoQueue = 256;

struct Registration;

// tevent_add_signal() and friends.
tevent_signal *add(tevent_context *ev, TALLOC_CTX *mem_ctx, int signum, int sa_flags,
                   tevent_signal_handler_t handler, void *private_data, const char *handler_name,
                   const char *location);

// Calls the pending handlers of signals caught since the last call; 1 if
// any signal had arrived, else 0.  Cheap (two atomic loads) when nothing
// happened.
int check(tevent_context *ev);

// tevent_common_invoke_signal_handler(): one handler call with the trace
// point, SA_RESETHAND and frees from inside the handler taken care of.
int invoke(tevent_signal *se, int signum, int count, void *siginfo, bool *removed);

// Unhooks se (no more deliveries; the previous action is restored when it
// was the last handler of its signal); se itself stays allocated.
void cleanup_pending(tevent_signal *se);

// For the core's context teardown and tevent_re_initialise(): unhook every
// signal event of ev and forget its wakeup descriptor.  After this returns
// no signal handler touches that descriptor any more.
void context_detach(tevent_context *ev);

// For the core after it replaced a context's wakeup descriptor (fork).
void context_wakeup_changed(tevent_context *ev);

bool supported(tevent_context *ev);

void set_tag(tevent_signal *se, uint64_t tag);
uint64_t get_tag(const tevent_signal *se);

}  // namespace tev::sig

// The event core's internal view, all of it: the layouts (layout.hpp), every
// subsystem's header, and the contexts themselves (context.cpp).  Files of
// lib/tevent include this one; a subsystem's own header is enough where
// only that subsystem is used.
#pragma once

#include <atomic>

#include <sys/types.h>

#include "debug.hpp"
#include "fd.hpp"
#include "immediate.hpp"
#include "layout.hpp"
#include "loop.hpp"
#include "registry.hpp"
#include "signal.hpp"
#include "threads.hpp"
#include "timer.hpp"
#include "trace.hpp"
#include "wakeup_fd.hpp"

namespace tev {

// ---- contexts (context.cpp) ----------------------------------------------------
tevent_context *context_init_ops(TALLOC_CTX *mem_ctx, const tevent_ops *ops, void *additional_data);
tevent_context *context_init_byname(TALLOC_CTX *mem_ctx, const char *name);
int context_destructor(tevent_context *ev);  // tevent_common_context_destructor
int re_initialise(tevent_context *ev);  // tevent_re_initialise(), with its thread check
pid_t cached_getpid();
// getpid() as last seen by cached_getpid(); 0 until then and after fork()
// (in the child).  Read directly by per-iteration checks.
extern std::atomic<pid_t> g_cached_pid;

}  // namespace tev

// Immediates from other threads: tevent_threaded_context and
// tevent_thread_proxy.
//
// Each context that receives from other threads has one ContextThreads
// (ev->threads): a mutex-guarded FIFO of immediates handed over by
// tevent_threaded_schedule_immediate(), and the context's proxies.  Senders
// poke the context's wakeup descriptor; the loop calls threads_activate() once per
// iteration, which moves what arrived into the ordinary immediate queue.
// threads_activate() costs two atomic loads when nothing arrived.
//
// Senders poke only a loop that may be asleep.  The built-in backends'
// loop announces its sleeps (threads_wait_begin()/threads_wait_end() around the poller's
// wait); until a loop has announced one (custom backends never do) every
// sender pokes as before.  See "Sleeping and waking" in threads.cpp.
//
// The core's side of the contract is in context.hpp (threads_activate() while
// ev->threads is set, threads_context_detach() on teardown and re-initialisation).
#pragma once

#include <stdint.h>

#include <talloc.h>

#include "tevent.h"

namespace tev {
struct WrapperGlue;
}

namespace tev {

struct ContextThreads;

tevent_threaded_context *threads_context_create(TALLOC_CTX *mem_ctx, tevent_context *ev);
void threads_schedule(tevent_threaded_context *tctx, tevent_immediate *im, tevent_immediate_handler_t handler,
                       void *private_data, const char *handler_name, const char *location);

tevent_thread_proxy *threads_proxy_create(tevent_context *dest_ev_ctx);
void threads_proxy_schedule(tevent_thread_proxy *tp, tevent_immediate **pp_im, tevent_immediate_handler_t handler,
                    void **pp_private_data);

void threads_activate(tevent_context *ev);
void threads_context_detach(tevent_context *ev);

// The loop of ev (ev->threads set) is about to block for up to
// *timeout_us microseconds (-1: no limit; not 0).  It may first spin for a
// few microseconds when other threads sent work recently, and then
// announces the sleep.  Returns true when cross-thread work is pending: the
// loop must not block then (only look at descriptors without waiting), and
// threads_activate() picks the work up in the next iteration.  Returns false when
// the loop may block; *timeout_us is reduced by the time spent spinning.
// Always pair with threads_wait_end() once the poller returns.
bool threads_wait_begin(tevent_context *ev, int64_t *timeout_us);
void threads_wait_end(tevent_context *ev);

// The wrapper `glue` of ev is being freed: its threaded contexts stop
// delivering, and immediates they sent that are not queued yet are dropped.
void threads_wrapper_gone(tevent_context *ev, WrapperGlue *glue);

}  // namespace tev

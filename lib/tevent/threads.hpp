// Immediates from other threads: tevent_threaded_context and
// tevent_thread_proxy.
//
// Each context that receives from other threads has one ContextThreads
// (ev->threads): a mutex-guarded FIFO of immediates handed over by
// tevent_threaded_schedule_immediate(), and the context's proxies.  Senders
// poke the context's wakeup descriptor; the loop calls activate() once per
// iteration, which moves what arrived into the ordinary immediate queue.
// activate() costs two atomic loads when nothing arrived.
//
// The core's side of the contract is in context.hpp (activate() while
// ev->threads is set, context_detach() on teardown and re-initialisation).
#pragma once

#include <talloc.h>

#include "tevent.h"

namespace tev {
struct WrapperGlue;
}

namespace tev::thr {

struct ContextThreads;

tevent_threaded_context *threaded_context_create(TALLOC_CTX *mem_ctx, tevent_context *ev);
void threaded_schedule(tevent_threaded_context *tctx, tevent_immediate *im, tevent_immediate_handler_t handler,
                       void *private_data, const char *handler_name, const char *location);

tevent_thread_proxy *proxy_create(tevent_context *dest_ev_ctx);
void proxy_schedule(tevent_thread_proxy *tp, tevent_immediate **pp_im, tevent_immediate_handler_t handler,
                    void **pp_private_data);

void activate(tevent_context *ev);
void context_detach(tevent_context *ev);
// The wrapper `glue` of ev is being freed: its threaded contexts stop
// delivering, and immediates they sent that are not queued yet are dropped.
void wrapper_gone(tevent_context *ev, WrapperGlue *glue);

}  // namespace tev::thr

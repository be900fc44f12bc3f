// Immediates: handlers queued to run on a following loop iteration, FIFO,
// one per iteration.  An immediate is reusable: it is not freed after its
// handler has run, and may be scheduled again (also from its own handler).
#include <errno.h>

#include <new>

#include "context.hpp"

namespace tev {
namespace {

int immediate_destructor(tevent_immediate *im) {
    if (im->destroyed) {
        check_double_free(im, "tevent_immediate double free");
        return -1;
    }
    immediate_cancel(im);
    im->destroyed = true;
    // Freed from its own handler (typically with the request that owns
    // it): immediate_invoke() releases the memory when the handler returns.
    return im->busy ? -1 : 0;
}

// Forgets the scheduling; what identifies the immediate itself stays.
void reset_fields(tevent_immediate *im) {
    im->event_ctx = nullptr;
    im->wrapper = nullptr;
    im->handler = nullptr;
    im->private_data = nullptr;
    im->handler_name = nullptr;
    im->schedule_location = nullptr;
    im->cancel_fn = nullptr;
    im->additional_data = nullptr;
}

}  // namespace

tevent_immediate *immediate_create(TALLOC_CTX *mem_ctx, const char *location) {
    void *mem = talloc_named_const(mem_ctx, sizeof(tevent_immediate), "struct tevent_immediate");
    if (mem == nullptr) return nullptr;
    auto *im = new (mem) tevent_immediate{};
    im->create_location = location;
    return im;
}

void immediate_cancel(tevent_immediate *im) {
    if (im->destroyed) {
        abort(main_context(im->event_ctx), "tevent_immediate use after free");
        return;
    }
    if (im->detach_ev_ctx != nullptr) {
        // Rescheduled or cancelled from its own handler: the DETACH owed
        // for the run that is in progress is reported now.
        tevent_context *owed = im->detach_ev_ctx;
        im->detach_ev_ctx = nullptr;
        trace_immediate(owed, im, TEVENT_EVENT_TRACE_DETACH);
        return;
    }
    if (im->cancel_fn != nullptr && im->event_ctx == nullptr) {
        // Waiting in someone else's queue (threads.cpp).
        void (*cancel_fn)(tevent_immediate *) = im->cancel_fn;
        im->cancel_fn = nullptr;
        cancel_fn(im);
        reset_fields(im);
        if (!im->busy) talloc_set_destructor(im, nullptr);
        return;
    }
    tevent_context *ev = im->event_ctx;
    if (ev == nullptr) return;

    if (im->handler_name != nullptr) {
        debug(ev, TEVENT_DEBUG_TRACE, "Cancel immediate event %p \"%s\"\n", static_cast<void *>(im),
              im->handler_name);
    }
    if (im->cancel_fn != nullptr) im->cancel_fn(im);

    if (im->busy && im->handler_name == nullptr) {
        // Taken off the queue to run: DETACH is reported after the handler.
        im->detach_ev_ctx = ev;
    } else {
        trace_immediate(ev, im, TEVENT_EVENT_TRACE_DETACH);
    }
    ev->immediates.remove(im);
    reset_fields(im);
    // While its handler runs the destructor stays, so that freeing it from
    // the handler is deferred.
    if (!im->busy) talloc_set_destructor(im, nullptr);
}

void immediate_schedule(tevent_immediate *im, tevent_context *ev, tevent_immediate_handler_t handler,
                        void *private_data, const char *handler_name, const char *location) {
    if (im == nullptr || ev == nullptr) return;
    WrapperGlue *glue = ev->wrapper.glue;
    ev = main_context(ev);

    immediate_cancel(im);
    if (handler == nullptr) return;

    im->event_ctx = ev;
    im->wrapper = glue;
    im->handler = handler;
    im->private_data = private_data;
    im->handler_name = handler_name;
    im->schedule_location = location;

    trace_immediate(ev, im, TEVENT_EVENT_TRACE_ATTACH);
    ev->immediates.push_back(im);
    talloc_set_destructor(im, immediate_destructor);
    debug(ev, TEVENT_DEBUG_TRACE, "Schedule immediate event \"%s\": %p\n", handler_name, static_cast<void *>(im));
}

int immediate_invoke(tevent_immediate *im, bool *removed) {
    if (removed != nullptr) *removed = false;
    tevent_context *ev = im->event_ctx;
    if (ev == nullptr) return 0;

    debug(ev, TEVENT_DEBUG_TRACE, "Run immediate event \"%s\": %p\n", im->handler_name, static_cast<void *>(im));

    // Take what the run needs, then unqueue: the handler may schedule the
    // immediate again.
    tevent_immediate_handler_t handler = im->handler;
    void *private_data = im->private_data;
    WrapperGlue *glue = im->wrapper;
    im->busy = true;
    im->handler_name = nullptr;  // marks "unqueued to run" for immediate_cancel()
    immediate_cancel(im);

    // Wrapper contexts (next issue): before/after hooks around the call.
    tevent_context *handler_ev = glue != nullptr ? glue->wrap_ev : ev;
    trace_immediate(ev, im, TEVENT_EVENT_TRACE_BEFORE_HANDLER);
    handler(handler_ev, im, private_data);
    im->busy = false;

    if (im->detach_ev_ctx != nullptr) {
        tevent_context *owed = im->detach_ev_ctx;
        im->detach_ev_ctx = nullptr;
        trace_immediate(owed, im, TEVENT_EVENT_TRACE_DETACH);
    }
    if (im->destroyed) {
        talloc_set_destructor(im, nullptr);
        talloc_free(im);
        if (removed != nullptr) *removed = true;
    } else if (im->event_ctx == nullptr) {
        // Not scheduled again: plain memory from now on.
        talloc_set_destructor(im, nullptr);
    }
    return 0;
}

bool immediate_loop_one(tevent_context *ev) {
    tevent_immediate *im = ev->immediates.head;
    if (im == nullptr) return false;
    if (immediate_invoke(im, nullptr) != 0) abort(ev, "tevent_common_invoke_immediate_handler() failed");
    return true;
}

}  // namespace tev

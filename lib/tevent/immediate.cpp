// Immediates: handlers queued to run on a following loop iteration, FIFO,
// one per iteration.  An immediate is reusable: it is not freed after its
// handler has run, and may be scheduled again (also from its own handler).
#include <errno.h>

#include <new>

#include "context.hpp"
#include "lifecycle.hpp"
#include "thread_check.hpp"
#include "wrapper.hpp"

namespace tev {
namespace {

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
    im->state = ImState::kIdle;
}

}  // namespace

tevent_immediate *immediate_create(TALLOC_CTX *mem_ctx, const char *location) {
    void *mem = talloc_named_const(mem_ctx, sizeof(tevent_immediate), "struct tevent_immediate");
    if (mem == nullptr) return nullptr;
    auto *im = new (mem) tevent_immediate{};
    im->create_location = location;
    return im;
}

namespace {

__attribute__((noinline)) void cancel_destroyed(tevent_immediate *im) {
    abort(main_context(im->event_ctx), "tevent_immediate use after free");
}

// What an unqueued immediate that is not running becomes: plain memory
// again (its destructor dropped), or, from the destructor, nothing more
// (talloc frees it next, and a call into talloc would be wasted).
enum class Unqueued { kPlain, kFreed };

// Waiting in someone else's queue (threads.cpp).
__attribute__((noinline)) void cancel_foreign(tevent_immediate *im, Unqueued then) {
    void (*cancel_fn)(tevent_immediate *) = im->cancel_fn;
    im->cancel_fn = nullptr;
    cancel_fn(im);
    reset_fields(im);
    if (then == Unqueued::kPlain && !im->busy) talloc_set_destructor(im, nullptr);
}

// Inline into schedule and invoke, which cancel on every run of an
// immediate; the rare cases are out of line.
__attribute__((always_inline)) inline void cancel(tevent_immediate *im, Unqueued then = Unqueued::kPlain) {
    if (__builtin_expect(im->destroyed, 0)) {
        cancel_destroyed(im);
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
    if (__builtin_expect(im->state == ImState::kForeign, 0)) {
        cancel_foreign(im, then);
        return;
    }
    tevent_context *ev = im->event_ctx;
    if (ev == nullptr) return;

    if (im->state != ImState::kTaken && im->handler_name != nullptr && debug_wanted(ev, TEVENT_DEBUG_TRACE)) {
        debug(ev, TEVENT_DEBUG_TRACE, "Cancel immediate event %p \"%s\"\n", static_cast<void *>(im),
              im->handler_name);
    }
    if (im->cancel_fn != nullptr) im->cancel_fn(im);

    if (im->state == ImState::kTaken) {
        // Taken off the queue to run: DETACH is reported after the handler.
        im->detach_ev_ctx = ev;
    } else {
        trace_immediate(ev, im, TEVENT_EVENT_TRACE_DETACH);
    }
    ev->immediates.remove(im);
    reset_fields(im);
    // While its handler runs the destructor stays, so that freeing it from
    // the handler is deferred.
    if (then == Unqueued::kPlain && !im->busy) talloc_set_destructor(im, nullptr);
}

int immediate_destructor(tevent_immediate *im) {
    if (thread_check_misused(im->event_ctx, "talloc_free(struct tevent_immediate)")) return -1;
    if (freed_again(im, "tevent_immediate double free")) return -1;
    cancel(im, Unqueued::kFreed);
    // Freed from its own handler (typically with the request that owns
    // it): immediate_invoke() releases the memory when the handler returns.
    return release_unless_running(im);
}

}  // namespace

void immediate_cancel(tevent_immediate *im) {
    if (im != nullptr) cancel(im);
}

void immediate_schedule(tevent_immediate *im, tevent_context *ev, tevent_immediate_handler_t handler,
                        void *private_data, const char *handler_name, const char *location) {
    if (im == nullptr || ev == nullptr) return;
    // Scheduled again on the same main context while pending, an immediate
    // stays its wrapper's, as in the reference; cancelled or run, it
    // forgets the wrapper.
    WrapperGlue *glue = ev->wrapper.glue;
    ev = main_context(ev);
    if (ev == nullptr) return;  // a wrapper whose main context is gone
    if (glue == nullptr && im->wrapper != nullptr && im->wrapper->main_ev == ev) glue = im->wrapper;

    cancel(im);
    if (handler == nullptr) return;

    im->event_ctx = ev;
    im->wrapper = glue;
    im->handler = handler;
    im->private_data = private_data;
    im->handler_name = handler_name;
    im->schedule_location = location;

    trace_immediate(ev, im, TEVENT_EVENT_TRACE_ATTACH);
    ev->immediates.push_back(im);
    im->state = ImState::kQueued;
    // Running its handler, it kept its destructor (see cancel()).
    if (!im->busy) talloc_set_destructor(im, immediate_destructor);
    if (debug_wanted(ev, TEVENT_DEBUG_TRACE)) {
        debug(ev, TEVENT_DEBUG_TRACE, "Schedule immediate event \"%s\": %p\n", handler_name,
              static_cast<void *>(im));
    }
}

namespace {

// Inline into immediate_loop_one(), the loop's way in.
__attribute__((always_inline)) inline int invoke(tevent_immediate *im, bool *removed) {
    if (removed != nullptr) *removed = false;
    tevent_context *ev = im->event_ctx;
    if (ev == nullptr) return 0;

    if (debug_wanted(ev, TEVENT_DEBUG_TRACE)) {
        debug(ev, TEVENT_DEBUG_TRACE, "Run immediate event \"%s\": %p\n", im->handler_name,
              static_cast<void *>(im));
    }

    // Take what the run needs, then unqueue: the handler may schedule the
    // immediate again.
    struct Call {
        tevent_immediate *im;
        tevent_immediate_handler_t handler;
        void *private_data;
        const char *handler_name;
        const char *location;
        void hook(const WrapperGlue &glue, Hook when) const {
            hook_immediate(glue, when, im, handler_name, location);
        }
        void trace(tevent_context *main_ev) const {
            trace_immediate(main_ev, im, TEVENT_EVENT_TRACE_BEFORE_HANDLER);
        }
        void operator()(tevent_context *handler_ev) const { handler(handler_ev, im, private_data); }
    };
    const Call call{im, im->handler, im->private_data, im->handler_name, im->schedule_location};
    WrapperGlue *glue = im->wrapper;
    im->busy = true;
    im->state = ImState::kTaken;
    cancel(im);

    // cancel() above had to see it busy (its destructor stays, so a free
    // from the handler is deferred); run_as_handler() marks it busy again.
    im->busy = false;
    bool freed = run_as_handler(
        im,
        [&] {
            run_handler(ev, glue, call);
            if (im->detach_ev_ctx != nullptr) {
                tevent_context *owed = im->detach_ev_ctx;
                im->detach_ev_ctx = nullptr;
                trace_immediate(owed, im, TEVENT_EVENT_TRACE_DETACH);
            }
        },
        removed);
    if (!freed && im->event_ctx == nullptr) {
        // Not scheduled again: plain memory from now on.
        talloc_set_destructor(im, nullptr);
    }
    return 0;
}

}  // namespace

void immediate_cancel_all(tevent_context *ev) {
    while (tevent_immediate *im = ev->immediates.head) cancel(im);
}

int immediate_invoke(tevent_immediate *im, bool *removed) { return invoke(im, removed); }

bool immediate_loop_one(tevent_context *ev) {
    tevent_immediate *im = ev->immediates.head;
    if (im == nullptr) return false;
    if (invoke(im, nullptr) != 0) abort(ev, "tevent_common_invoke_immediate_handler() failed");
    return true;
}

}  // namespace tev

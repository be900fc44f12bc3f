// Timers: a binary min-heap ordered by (deadline, insertion sequence).
//
// Adding, moving and freeing a timer cost O(log n); the due timer is the
// heap's top.  The sequence number makes timers with equal deadlines fire
// in the order they were added (or last moved), as in the reference.
#include <errno.h>
#include <stdlib.h>

#include <new>
#include <utility>

#include "context.hpp"
#include "lifecycle.hpp"
#include "thread_check.hpp"
#include "timeval.hpp"
#include "wrapper.hpp"

namespace tev {
namespace {

bool before(const tevent_timer *a, const tevent_timer *b) {
    int c = tv_compare(a->next_event, b->next_event);
    return c < 0 || (c == 0 && a->seq < b->seq);
}

}  // namespace

// ---- the heap ------------------------------------------------------------

namespace {

void place(TimerHeap &h, size_t i, tevent_timer *te) {
    h.items[i] = te;
    te->heap_index = i;
}

void sift_up(TimerHeap &h, size_t i) {
    tevent_timer *te = h.items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(te, h.items[parent])) break;
        place(h, i, h.items[parent]);
        i = parent;
    }
    place(h, i, te);
}

void sift_down(TimerHeap &h, size_t i) {
    tevent_timer *te = h.items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h.count) break;
        if (child + 1 < h.count && before(h.items[child + 1], h.items[child])) child++;
        if (!before(h.items[child], te)) break;
        place(h, i, h.items[child]);
        i = child;
    }
    place(h, i, te);
}

}  // namespace

bool TimerHeap::insert(tevent_timer *te) {
    if (count == capacity) {
        size_t cap = capacity == 0 ? 16 : capacity * 2;
        auto *grown = static_cast<tevent_timer **>(realloc(items, cap * sizeof(*items)));
        if (grown == nullptr) return false;
        items = grown;
        capacity = cap;
    }
    te->seq = next_seq++;
    items[count] = te;
    te->heap_index = count;
    count++;
    sift_up(*this, count - 1);
    return true;
}

void TimerHeap::erase(tevent_timer *te) {
    size_t i = te->heap_index;
    if (i == kNotQueued || i >= count || items[i] != te) return;
    te->heap_index = kNotQueued;
    count--;
    if (i == count) return;
    place(*this, i, items[count]);
    // The moved timer may belong above or below its new position.
    if (i > 0 && before(items[i], items[(i - 1) / 2])) {
        sift_up(*this, i);
    } else {
        sift_down(*this, i);
    }
}

void TimerHeap::release() {
    free(items);
    items = nullptr;
    count = capacity = 0;
}

// ---- timer events --------------------------------------------------------

namespace {

int timer_destructor(tevent_timer *te) {
    if (thread_check_misused(te->event_ctx, "talloc_free(struct tevent_timer)")) return -1;
    if (freed_again(te, "tevent_timer double free")) return -1;
    tevent_context *ev = te->event_ctx;
    if (ev != nullptr) {
        debug(ev, TEVENT_DEBUG_TRACE, "Destroying timer event %p \"%s\"\n", static_cast<void *>(te),
              te->handler_name);
        timer_disarm(te);
    }
    te->wrapper = nullptr;
    return release_unless_running(te);
}

}  // namespace

tevent_timer *timer_add(tevent_context *ev, TALLOC_CTX *mem_ctx, struct timeval next_event,
                        tevent_timer_handler_t handler, void *private_data, const char *handler_name,
                        const char *location) {
    if (ev == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    EventHome home = event_home(ev, mem_ctx);
    if (home.main == nullptr) return nullptr;
    ev = home.main;

    auto *te = new_event<tevent_timer>(home, "struct tevent_timer", handler, private_data, handler_name, location);
    if (te == nullptr) return nullptr;
    te->next_event = next_event;
    te->heap_index = kNotQueued;

    if (!ev->timers.insert(te)) {
        talloc_free(te);
        errno = ENOMEM;
        return nullptr;
    }
    trace_timer(ev, te, TEVENT_EVENT_TRACE_ATTACH);
    talloc_set_destructor(te, timer_destructor);
    debug(ev, TEVENT_DEBUG_TRACE, "Added timed event \"%s\": %p\n", handler_name, static_cast<void *>(te));
    return te;
}

void timer_update(tevent_timer *te, struct timeval next_event) {
    tevent_context *ev = te->event_ctx;
    if (ev == nullptr) return;
    // Also legal from the timer's own handler (it is off the heap then):
    // the timer is queued again and survives the handler.  Traced as the
    // reference does: detached, then attached again.
    trace_timer(ev, te, TEVENT_EVENT_TRACE_DETACH);
    ev->timers.erase(te);
    te->next_event = next_event;
    // A new sequence number: it goes behind timers that already have the
    // same deadline, as a newly added one would.
    if (!ev->timers.insert(te)) {
        // Only possible while its handler runs (otherwise it just gave up
        // a slot): it is then freed after the handler like a fired timer.
        debug(ev, TEVENT_DEBUG_ERROR, "tevent_update_timer: out of memory, timer %p dropped\n",
              static_cast<void *>(te));
        return;
    }
    trace_timer(ev, te, TEVENT_EVENT_TRACE_ATTACH);
}

void timer_disarm(tevent_timer *te, bool traced) {
    tevent_context *ev = te->event_ctx;
    if (ev == nullptr) return;
    if (traced) trace_timer(ev, te, TEVENT_EVENT_TRACE_DETACH);
    ev->timers.erase(te);
    te->event_ctx = nullptr;
    te->wrapper = nullptr;
}

void timer_disarm_all(tevent_context *ev) {
    while (tevent_timer *te = ev->timers.top()) timer_disarm(te);
}

void timer_fini(tevent_context *ev) { ev->timers.release(); }

void timer_detach_wrapper(tevent_context *ev, WrapperGlue *glue) {
    // Erasing moves other timers around the heap, possibly into slots
    // already looked at; so scan until a pass finds none of the wrapper's.
    TimerHeap &heap = ev->timers;
    for (bool erased = true; erased;) {
        erased = false;
        for (size_t i = 0; i < heap.count;) {
            tevent_timer *te = heap.items[i];
            if (te->wrapper != glue) {
                i++;
                continue;
            }
            timer_disarm(te, false);  // slot i now holds another timer: look again
            erased = true;
        }
    }
}

int timer_invoke(tevent_timer *te, struct timeval current_time, bool *removed) {
    if (removed != nullptr) *removed = false;
    tevent_context *ev = te->event_ctx;
    if (ev == nullptr) return 0;

    // Off the heap before the handler runs, so a nested loop in the handler
    // does not find it again.  event_ctx stays set: the handler may still
    // free or move the timer.
    ev->timers.erase(te);

    debug(ev, TEVENT_DEBUG_TRACE, "Running timer event %p \"%s\"\n", static_cast<void *>(te), te->handler_name);

    struct Call {
        tevent_timer *te;
        struct timeval current_time;
        void hook(const WrapperGlue &glue, Hook when) const { hook_timer(glue, when, te, current_time); }
        void trace(tevent_context *main_ev) const { trace_timer(main_ev, te, TEVENT_EVENT_TRACE_BEFORE_HANDLER); }
        void operator()(tevent_context *handler_ev) const {
            te->handler(handler_ev, te, current_time, te->private_data);
        }
    };
    WrapperGlue *glue = te->wrapper;
    const char *handler_name = te->handler_name;
    // Freed by its handler: the destructor has already run, DETACH trace
    // point included.
    bool freed = run_as_handler(te, [&] { run_handler(ev, glue, Call{te, current_time}); }, removed);

    debug(ev, TEVENT_DEBUG_TRACE, "Ending timer event %p \"%s\"\n", static_cast<void *>(te), handler_name);

    if (freed) return 0;
    if (te->heap_index != kNotQueued) {
        // tevent_update_timer() from the handler: the timer lives on.
        return 0;
    }
    // A fired timer is freed.
    trace_timer(ev, te, TEVENT_EVENT_TRACE_DETACH);
    te->event_ctx = nullptr;
    te->wrapper = nullptr;
    talloc_set_destructor(te, nullptr);
    talloc_free(te);
    if (removed != nullptr) *removed = true;
    return 0;
}

TimerStep timer_step(tevent_context *ev) {
    tevent_timer *te = ev->timers.top();
    if (te == nullptr) {
        if (ev->wait_timeout == UINT32_MAX) return TimerStep{false, -1};
        return TimerStep{false, static_cast<int64_t>(ev->wait_timeout) * kUsecPerSec};
    }
    // A zero deadline means "as soon as possible"; its handler is told the
    // time is zero too, which saves asking the clock.
    struct timeval now = {0, 0};
    if (!tv_is_zero(te->next_event)) {
        now = tv_now();
        struct timeval delay = tv_until(now, te->next_event);
        if (!tv_is_zero(delay)) return TimerStep{false, tv_to_usec(delay)};
    }
    if (timer_invoke(te, now, nullptr) != 0) abort(ev, "tevent_common_invoke_timer_handler() failed");
    return TimerStep{true, 0};
}

struct timeval timer_delay_tv(tevent_context *ev) {
    TimerStep step = timer_step(ev);
    if (step.ran) return tv_set(0, 0);
    if (step.timeout_us < 0) return tv_set(UINT32_MAX, 0);
    if (step.timeout_us == 0) return tv_set(0, 1);  // zero would mean "a timer ran"
    struct timeval r;
    r.tv_sec = static_cast<time_t>(step.timeout_us / kUsecPerSec);
    r.tv_usec = static_cast<suseconds_t>(step.timeout_us % kUsecPerSec);
    return r;
}

}  // namespace tev

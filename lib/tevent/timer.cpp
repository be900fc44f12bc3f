// Timers: three queues, each in (deadline, insertion) order; the next timer
// is the earliest of their heads, ties going to the one added (or last
// moved) first, as in the reference's one sorted list.
//
//  * zeros: zero deadlines ("as soon as possible", where some callers would
//    use an immediate).  Their order is the reference's, shortcut included:
//    tevent_add_timer() files a zero timer behind the last zero timer it
//    filed (last_zero, which falls back to its predecessor when that one
//    leaves), tevent_update_timer() and tevent_common_add_timer() behind
//    all of them.  They come before every other deadline.
//  * run: a sorted list that takes every timer whose deadline is no earlier
//    than its tail's: deadlines "now + a constant" come in order, so
//    adding, cancelling, moving and firing them is O(1).  A timer that
//    falls between the last two pushes the tail into the heap instead, so
//    one late timer does not keep a stream of earlier ones out of the run.
//  * heap: the others, a 4-ary min-heap whose entries hold their keys
//    (deadline and sequence number), so sifting reads no timer; each timer
//    knows its slot.  Four siblings are one aligned 128-byte block.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <new>
#include <utility>

#include "context.hpp"
#include "lifecycle.hpp"
#include "thread_check.hpp"
#include "timeval.hpp"
#include "wrapper.hpp"

namespace tev {
namespace {

TimerKey key_of(const tevent_timer *te) { return TimerKey{te->next_event.tv_sec, te->next_event.tv_usec, te->seq}; }

bool before(const TimerKey &a, const TimerKey &b) {
    if (a.sec != b.sec) return a.sec < b.sec;
    if (a.usec != b.usec) return a.usec < b.usec;
    return a.seq < b.seq;
}

// ---- the heap ------------------------------------------------------------
//
// Slot 0 is the top; the children of slot i are 4i+1 .. 4i+4.  The array
// starts kPad entries into a 128-byte aligned block, so that every group
// of siblings is one aligned block.

constexpr size_t kArity = 4;
constexpr size_t kPad = 3;
constexpr size_t kAlign = kArity * sizeof(TimerHeapEntry);
static_assert(sizeof(TimerHeapEntry) == 32, "four entries per 128 bytes");

void place(TimerHeapEntry *heap, size_t i, const TimerHeapEntry &e) {
    heap[i] = e;
    e.te->heap_index = static_cast<uint32_t>(i);
}

void sift_up(TimerHeapEntry *heap, size_t i, TimerHeapEntry e) {
    while (i > 0) {
        size_t parent = (i - 1) / kArity;
        if (!before(e.key, heap[parent].key)) break;
        place(heap, i, heap[parent]);
        i = parent;
    }
    place(heap, i, e);
}

void sift_down(TimerHeapEntry *heap, size_t count, size_t i, TimerHeapEntry e) {
    for (;;) {
        size_t first = kArity * i + 1;
        if (first >= count) break;
        size_t end = first + kArity < count ? first + kArity : count;
        size_t best = first;
        for (size_t c = first + 1; c < end; c++) {
            if (before(heap[c].key, heap[best].key)) best = c;
        }
        if (!before(heap[best].key, e.key)) break;
        place(heap, i, heap[best]);
        i = best;
    }
    place(heap, i, e);
}

bool heap_push(TimerQueue &q, tevent_timer *te) {
    if (q.heap_count == q.heap_capacity) {
        size_t cap = q.heap_capacity == 0 ? 64 : 2 * size_t{q.heap_capacity};
        if (cap > UINT32_MAX) return false;
        void *block = nullptr;
        if (posix_memalign(&block, kAlign, (cap + kPad) * sizeof(TimerHeapEntry)) != 0) return false;
        auto *grown = static_cast<TimerHeapEntry *>(block) + kPad;
        if (q.heap != nullptr) {
            memcpy(grown, q.heap, q.heap_count * sizeof(TimerHeapEntry));
            free(q.heap - kPad);
        }
        q.heap = grown;
        q.heap_capacity = static_cast<uint32_t>(cap);
    }
    te->place = TimerPlace::kHeap;
    sift_up(q.heap, q.heap_count++, TimerHeapEntry{key_of(te), te});
    return true;
}

void heap_erase(TimerQueue &q, size_t i) {
    size_t last = --q.heap_count;
    if (i == last) return;
    TimerHeapEntry moved = q.heap[last];
    // The moved entry may belong above or below slot i.
    if (i > 0 && before(moved.key, q.heap[(i - 1) / kArity].key)) {
        sift_up(q.heap, i, moved);
    } else {
        sift_down(q.heap, q.heap_count, i, moved);
    }
}

}  // namespace

// ---- the queue -------------------------------------------------------------

tevent_timer *TimerQueue::top() const {
    if (zeros.head != nullptr) return zeros.head;
    tevent_timer *first = run.head;
    if (heap_count == 0) return first;
    if (first == nullptr || before(heap[0].key, key_of(first))) return heap[0].te;
    return first;
}

bool TimerQueue::insert(tevent_timer *te, bool after_last_zero) {
    te->seq = next_seq++;
    if (tv_is_zero(te->next_event)) {
        if (!after_last_zero) {
            zeros.push_back(te);
        } else {
            if (last_zero != nullptr) {
                zeros.insert_after(last_zero, te);
            } else {
                zeros.push_front(te);
            }
            last_zero = te;
        }
        te->place = TimerPlace::kZeros;
        return true;
    }
    tevent_timer *tail = run.tail;
    if (tail != nullptr && tv_compare(te->next_event, tail->next_event) < 0) {
        tevent_timer *second = run.prev(tail);
        if (second != nullptr && tv_compare(te->next_event, second->next_event) < 0) return heap_push(*this, te);
        // It goes between the last two: the tail makes room.
        if (!heap_push(*this, tail)) return false;
        run.remove(tail);
    }
    run.push_back(te);
    te->place = TimerPlace::kRun;
    return true;
}

void TimerQueue::erase(tevent_timer *te) {
    switch (te->place) {
        case TimerPlace::kNone:
            return;
        case TimerPlace::kZeros:
            if (last_zero == te) last_zero = zeros.prev(te);
            zeros.remove(te);
            break;
        case TimerPlace::kRun:
            run.remove(te);
            break;
        case TimerPlace::kHeap:
            heap_erase(*this, te->heap_index);
            break;
    }
    te->place = TimerPlace::kNone;
}

void TimerQueue::erase_if(bool (*leaves)(tevent_timer *te, void *arg), void *arg) {
    auto from_list = [&](tevent_timer *te) {
        if (leaves(te, arg)) erase(te);
    };
    zeros.for_each(from_list);
    run.for_each(from_list);
    // The heap: the staying entries are packed to the front, then the
    // heap is built again from the bottom up.
    uint32_t kept = 0;
    for (uint32_t i = 0; i < heap_count; i++) {
        tevent_timer *te = heap[i].te;
        if (leaves(te, arg)) {
            te->place = TimerPlace::kNone;
        } else {
            heap[kept++] = heap[i];
        }
    }
    heap_count = kept;
    for (size_t i = kept; i-- > 0;) sift_down(heap, kept, i, heap[i]);
}

void TimerQueue::release() {
    if (heap != nullptr) free(heap - kPad);
    heap = nullptr;
    heap_count = heap_capacity = 0;
}

// ---- timer events --------------------------------------------------------

namespace {

int timer_destructor(tevent_timer *te) {
    if (thread_check_misused(te->event_ctx, "talloc_free(struct tevent_timer)")) return -1;
    if (freed_again(te, "tevent_timer double free")) return -1;
    tevent_context *ev = te->event_ctx;
    if (ev != nullptr) {
        if (debug_wanted(ev, TEVENT_DEBUG_TRACE)) {
            debug(ev, TEVENT_DEBUG_TRACE, "Destroying timer event %p \"%s\"\n", static_cast<void *>(te),
                  te->handler_name);
        }
        timer_disarm(te);
    }
    te->wrapper = nullptr;
    return release_unless_running(te);
}

}  // namespace

namespace {

tevent_timer *add(tevent_context *ev, TALLOC_CTX *mem_ctx, struct timeval next_event, tevent_timer_handler_t handler,
                  void *private_data, const char *handler_name, const char *location, bool after_last_zero) {
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

    if (!ev->timers.insert(te, after_last_zero)) {
        talloc_free(te);
        errno = ENOMEM;
        return nullptr;
    }
    trace_timer(ev, te, TEVENT_EVENT_TRACE_ATTACH);
    talloc_set_destructor(te, timer_destructor);
    if (debug_wanted(ev, TEVENT_DEBUG_TRACE)) {
        debug(ev, TEVENT_DEBUG_TRACE, "Added timed event \"%s\": %p\n", handler_name, static_cast<void *>(te));
    }
    return te;
}

}  // namespace

tevent_timer *timer_add(tevent_context *ev, TALLOC_CTX *mem_ctx, struct timeval next_event,
                        tevent_timer_handler_t handler, void *private_data, const char *handler_name,
                        const char *location) {
    return add(ev, mem_ctx, next_event, handler, private_data, handler_name, location, true);
}

tevent_timer *timer_add_v1(tevent_context *ev, TALLOC_CTX *mem_ctx, struct timeval next_event,
                           tevent_timer_handler_t handler, void *private_data, const char *handler_name,
                           const char *location) {
    return add(ev, mem_ctx, next_event, handler, private_data, handler_name, location, false);
}

void timer_update(tevent_timer *te, struct timeval next_event) {
    tevent_context *ev = te->event_ctx;
    if (ev == nullptr) return;
    // Also legal from the timer's own handler (it is off the queue then):
    // the timer is queued again and survives the handler.  Traced as the
    // reference does: detached, then attached again.
    trace_timer(ev, te, TEVENT_EVENT_TRACE_DETACH);
    ev->timers.erase(te);
    te->next_event = next_event;
    // A new sequence number: it goes behind timers that already have the
    // same deadline, zero included (the reference's update does not use
    // the zero timers' shortcut).
    if (!ev->timers.insert(te, false)) {
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
    auto leaves = [](tevent_timer *te, void *arg) {
        if (te->wrapper != arg) return false;
        te->event_ctx = nullptr;
        te->wrapper = nullptr;
        return true;
    };
    ev->timers.erase_if(leaves, glue);
}

int timer_invoke(tevent_timer *te, struct timeval current_time, bool *removed) {
    if (removed != nullptr) *removed = false;
    tevent_context *ev = te->event_ctx;
    if (ev == nullptr) return 0;

    // Off the queue before the handler runs, so a nested loop in the
    // handler does not find it again.  event_ctx stays set: the handler may
    // still free or move the timer.
    ev->timers.erase(te);

    if (debug_wanted(ev, TEVENT_DEBUG_TRACE)) {
        debug(ev, TEVENT_DEBUG_TRACE, "Running timer event %p \"%s\"\n", static_cast<void *>(te), te->handler_name);
    }

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

    if (debug_wanted(ev, TEVENT_DEBUG_TRACE)) {
        debug(ev, TEVENT_DEBUG_TRACE, "Ending timer event %p \"%s\"\n", static_cast<void *>(te), handler_name);
    }

    if (freed) return 0;
    if (te->place != TimerPlace::kNone) {
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

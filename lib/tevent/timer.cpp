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
//    knows its slot.  Four siblings are one aligned 128-byte block.  When
//    the top is taken from a heap at least as long as the run, the heap is
//    sorted and merged into the run instead (drain_heap_into_run()).
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <new>
#include <utility>

#include "context.hpp"
#include "lifecycle.hpp"
#include "thread_check.hpp"
#include "timeval.hpp"
#include "wrapper.hpp"

namespace tev {
namespace {

// The reference's order: deadline, then sequence number.
bool exact_before(const tevent_timer *a, const tevent_timer *b) {
    int c = tv_compare(a->next_event, b->next_event);
    return c < 0 || (c == 0 && a->seq < b->seq);
}

// ---- the heap ------------------------------------------------------------
//
// An entry's `when` is its deadline as one unsigned number in the order of
// (tv_sec, tv_usec): twice the microseconds since the epoch (so even),
// offset so that times before the epoch come first.  A deadline whose
// tv_usec is out of range, or too far from the epoch, gets the odd number
// between its neighbours; two entries on the same odd number are compared
// on their timers.  So the usual comparison is of two words, no timer read.
//
// Slot 0 is the top; the children of slot i are 4i+1 .. 4i+4.  The array
// starts kPad entries into a 128-byte aligned block, so that every group
// of siblings is one aligned block.

constexpr int64_t kSecRange = int64_t{1} << 41;  // |tv_sec| below this: exact
constexpr size_t kArity = 4;
constexpr size_t kPad = 3;
constexpr size_t kAlign = kArity * sizeof(TimerHeapEntry);
static_assert(sizeof(TimerHeapEntry) == 32, "four entries per 128 bytes");

uint64_t when_of(const struct timeval &tv) {
    int64_t w;
    if (tv.tv_sec >= kSecRange) {
        w = INT64_MAX;
    } else if (tv.tv_sec <= -kSecRange) {
        w = INT64_MIN + 1;
    } else if (tv.tv_usec < 0) {
        w = tv.tv_sec * 2 * kUsecPerSec - 1;
    } else if (tv.tv_usec >= kUsecPerSec) {
        w = (tv.tv_sec + 1) * 2 * kUsecPerSec - 1;
    } else {
        w = (tv.tv_sec * kUsecPerSec + tv.tv_usec) * 2;
    }
    return static_cast<uint64_t>(w) ^ (uint64_t{1} << 63);
}

TimerHeapEntry entry_of(tevent_timer *te) { return TimerHeapEntry{when_of(te->next_event), te->seq, te}; }

__attribute__((always_inline)) inline bool before(const TimerHeapEntry &a, const TimerHeapEntry &b) {
    if (__builtin_expect((a.when & 1) != 0 && a.when == b.when, 0)) return exact_before(a.te, b.te);
    return (static_cast<unsigned __int128>(a.when) << 64 | a.seq) <
           (static_cast<unsigned __int128>(b.when) << 64 | b.seq);
}

void place(TimerHeapEntry *heap, size_t i, const TimerHeapEntry &e) {
    heap[i] = e;
    e.te->heap_index = static_cast<uint32_t>(i);
}

void sift_up(TimerHeapEntry *heap, size_t i, TimerHeapEntry e) {
    while (i > 0) {
        size_t parent = (i - 1) / kArity;
        if (!before(e, heap[parent])) break;
        place(heap, i, heap[parent]);
        i = parent;
    }
    place(heap, i, e);
}

// The earliest of the children of slot i (count: the heap's size), or
// `count` when it has none.
__attribute__((always_inline)) inline size_t earliest_child(const TimerHeapEntry *heap, size_t count, size_t i) {
    size_t first = kArity * i + 1;
    if (first + kArity <= count) {
        size_t a = before(heap[first + 1], heap[first]) ? first + 1 : first;
        size_t b = before(heap[first + 3], heap[first + 2]) ? first + 3 : first + 2;
        return before(heap[b], heap[a]) ? b : a;
    }
    if (first >= count) return count;
    size_t best = first;
    for (size_t c = first + 1; c < count; c++) {
        if (before(heap[c], heap[best])) best = c;
    }
    return best;
}

void sift_down(TimerHeapEntry *heap, size_t count, size_t i, TimerHeapEntry e) {
    for (;;) {
        size_t best = earliest_child(heap, count, i);
        if (best == count || !before(heap[best], e)) break;
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
    sift_up(q.heap, q.heap_count++, entry_of(te));
    return true;
}

void heap_erase(TimerQueue &q, size_t i) {
    size_t count = --q.heap_count;
    if (i == count) return;
    TimerHeapEntry last = q.heap[count];
    // The hole at i goes down to the bottom, the earliest child moving up
    // each time; the last entry fills it and rises as far as it must (it
    // came from the bottom, so that is seldom far, and it may even rise
    // above i).
    for (;;) {
        size_t first = kArity * i + 1;
        // The grandchildren are asked for while the children are compared.
        size_t grand = kArity * first + 1;
        if (grand < count) {
            for (size_t g = grand; g < grand + kArity * kArity && g < count; g += 2) __builtin_prefetch(&q.heap[g]);
        }
        size_t best = earliest_child(q.heap, count, i);
        if (best == count) break;
        place(q.heap, i, q.heap[best]);
        i = best;
    }
    sift_up(q.heap, i, last);
}

// Taking the heap's top sifts over log4(n) levels, each writing a moved
// timer's slot (a cache miss per level once the heap is large).  When the
// top is taken from a large heap, the whole heap is sorted instead (its
// entries are contiguous and hold their keys, so no timer is read) and
// merged into the run, from which this and every later one of its timers
// is taken in O(1).  Only while the heap is at least as long as the run,
// so the merge's walk of the run is paid for by the timers it takes in.
constexpr uint32_t kDrainAt = 64;

void drain_heap_into_run(TimerQueue &q) {
    std::sort(q.heap, q.heap + q.heap_count,
              [](const TimerHeapEntry &a, const TimerHeapEntry &b) { return before(a, b); });
    tevent_timer *r = q.run.take_all();
    TimerHeapEntry r_entry{};
    if (r != nullptr) r_entry = entry_of(r);
    uint32_t i = 0;
    while (i < q.heap_count || r != nullptr) {
        tevent_timer *te;
        if (r == nullptr || (i < q.heap_count && before(q.heap[i], r_entry))) {
            te = q.heap[i++].te;
            te->place = TimerPlace::kRun;
        } else {
            te = r;
            r = decltype(q.run)::next(r);   // read before push_back() relinks te
            if (r != nullptr) r_entry = entry_of(r);
        }
        q.run.push_back(te);
    }
    q.heap_count = 0;
}

}  // namespace

// ---- the queue -------------------------------------------------------------

tevent_timer *TimerQueue::top() const {
    if (zeros.head != nullptr) return zeros.head;
    tevent_timer *first = run.head;
    if (heap_count == 0) return first;
    if (first == nullptr || before(heap[0], entry_of(first))) return heap[0].te;
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
            if (te->heap_index == 0 && heap_count >= kDrainAt && heap_count >= run.count) {
                drain_heap_into_run(*this);
                run.remove(te);
                break;
            }
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

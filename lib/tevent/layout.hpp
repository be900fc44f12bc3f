// The layout of struct tevent_context and of the fd, timer and immediate
// events, and where an event lives (main_context, event_home).  What each
// subsystem offers the rest of lib/tevent is in its own header (fd.hpp,
// timer.hpp, immediate.hpp, loop.hpp, wakeup_fd.hpp, debug.hpp, trace.hpp,
// registry.hpp, signal.hpp, threads.hpp); context.hpp includes them all.
//
// Contracts (keep them stable; other files depend on them):
//
//  * Everything here runs on the thread that loops the context, except
//    wakeup_fd() and reading Wakeup::fd, which are async-signal-safe and
//    may be used from any thread or signal handler while the context lives.
//
//  * Wakeup descriptor: one per context, created lazily by wakeup_init()
//    (idempotent).  It is an ordinary fd event of the context that does not
//    count as "something to wait for" (tevent_loop_wait() still returns when
//    it is the only event).  wakeup()/wakeup_fd() make a sleeping
//    tevent_loop_once() return; its handler only drains the descriptor.
//    After a fork the core replaces the descriptor in the child (and calls
//    signal_context_wakeup_changed()); tevent_re_initialise() closes it.
//
//  * Signals (signal.cpp, see signal.hpp): the core calls signal_check(ev)
//    at the start of every iteration while ev->signals != nullptr, and after
//    a wait interrupted by EINTR; signal_context_silence(ev) before dropping
//    the wakeup descriptor and signal_context_detach(ev) after the other
//    events when the context is torn down or re-initialised (the DETACH
//    trace points come in the reference's order: fds, timers, immediates,
//    signals).  signal.cpp owns ev->signals and keeps
//    ev->num_signal_events (live tevent_signal objects on ev; they keep
//    tevent_loop_wait() running).
//
//  * Threads (threads.cpp): when ev->threads != nullptr the core calls
//    threads_activate(ev) once per iteration (before the immediates run) and
//    threads_context_detach(ev) on teardown/re-initialisation.  threads.cpp owns
//    ev->threads.  threads_activate() queues what other threads sent with
//    immediate_schedule().  An immediate that waits in a list of threads.cpp
//    is in state ImState::kForeign, with its cancel_fn set, and may use its
//    prev/next links (immediate_cancel() then calls cancel_fn instead of
//    unlinking it from a context); threads.cpp sets it back to kIdle when it
//    lets go of it.
//
//  * Immediates run FIFO, one per iteration; immediate_schedule() appends
//    (re-scheduling a pending immediate moves it to the end).
//
//  * Wrappers (wrapper.hpp): events created through a wrapper context are
//    registered in the main context with `wrapper` pointing to the glue;
//    the invoke_*() functions call handlers only through run_handler(),
//    which applies the hooks.  main_context() resolves a wrapper to the
//    context that owns the events (nullptr once that context is gone).
#pragma once

#include <atomic>
#include <new>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include <talloc.h>

#include "list.hpp"
#include "tevent.h"

// Declared by tevent.h only under TEVENT_DEPRECATED.
struct tevent_wrapper_ops;

namespace tev {

struct Backend;      // built-in backends' state (backend.hpp); nullptr for custom ops
struct WrapperGlue;  // wrapper contexts (wrapper.hpp)
struct ContextSignals;  // signal.cpp's, opaque elsewhere
struct ContextThreads;  // threads.cpp's, opaque elsewhere

// Where a timer is queued (TimerQueue, timer.cpp).
enum class TimerPlace : uint8_t { kNone, kZeros, kRun, kHeap };

// Where an immediate is (immediate.cpp, threads.cpp).
enum class ImState : uint8_t {
    kIdle,     // not scheduled
    kQueued,   // in its context's queue
    kTaken,    // taken off the queue to run: DETACH is owed after the handler
    kForeign,  // waiting in another thread's hand-over list (cancel_fn set)
};

}  // namespace tev

struct tevent_fd {
    tevent_fd *prev;  // ev->fd_events
    tevent_fd *next;
    tevent_fd *fd_prev;  // the other events on the same descriptor (built-in backends)
    tevent_fd *fd_next;
    tevent_context *event_ctx;  // nullptr once detached
    tev::WrapperGlue *wrapper;
    int fd;
    uint16_t flags;
    bool busy;        // its handler is running
    bool destroyed;   // freed while busy: memory released after the handler
    bool registered;  // linked into the built-in backend's descriptor table
    tevent_fd_handler_t handler;
    tevent_fd_close_fn_t close_fn;
    void *private_data;
    const char *handler_name;
    const char *location;
    uint64_t tag;
    // For custom backends, which keep their own per-event data here.
    uint64_t additional_flags;
    void *additional_data;
};

struct tevent_timer {
    tevent_context *event_ctx;  // nullptr when not queued
    tev::WrapperGlue *wrapper;
    struct timeval next_event;
    tevent_timer_handler_t handler;
    void *private_data;
    const char *handler_name;
    const char *location;
    uint64_t tag;
    uint64_t seq;  // tie-breaker for equal deadlines
    tevent_timer *prev;  // ev->timers.zeros or .run
    tevent_timer *next;
    uint32_t heap_index;  // in ev->timers' heap
    tev::TimerPlace place;
    bool busy;
    bool destroyed;
    void *additional_data;
};

struct tevent_immediate {
    tevent_immediate *prev;
    tevent_immediate *next;
    tevent_context *event_ctx;  // nullptr when not scheduled
    tev::WrapperGlue *wrapper;
    tevent_immediate_handler_t handler;
    void *private_data;
    const char *handler_name;
    const char *create_location;
    const char *schedule_location;
    // Set by whoever keeps the immediate in a list of their own (threads.cpp);
    // immediate_cancel() calls it to take the immediate out of that list.
    void (*cancel_fn)(tevent_immediate *im);
    void *additional_data;
    // The context whose DETACH trace point is still owed: an immediate is
    // taken off the queue before its handler runs, but reported as detached
    // only after the handler (or when the handler schedules it again).
    tevent_context *detach_ev_ctx;
    uint64_t tag;
    tev::ImState state;
    bool busy;
    bool destroyed;
};

namespace tev {
// The glue between a wrapper context and its main context (wrapper.cpp).
struct WrapperGlue {
    WrapperGlue *prev;  // main_ev->wrapper.list, in creation order
    WrapperGlue *next;
    tevent_context *wrap_ev;
    tevent_context *main_ev;  // nullptr once the main context is gone
    const tevent_wrapper_ops *ops;
    void *private_state;  // talloc child of the glue, named by the caller
    bool busy;            // on the use stack
    bool destroyed;       // freed while busy: freed for real by the pop
};

// A context's pending timers, in (deadline, insertion) order: three queues,
// the next timer being the earliest of their heads (timer.cpp explains).
struct alignas(32) TimerHeapEntry {  // four siblings fill two cache lines
    uint64_t when;  // the deadline as one number (timer.cpp's when_of())
    uint64_t seq;
    tevent_timer *te;
};
struct TimerQueue {
    IList<tevent_timer> zeros;           // zero deadlines, the reference's order
    tevent_timer *last_zero = nullptr;   // where tevent_add_timer() files the next one
    IList<tevent_timer> run;             // sorted, added to at the tail only
    TimerHeapEntry *heap = nullptr;      // the others: a 4-ary min-heap (malloc()ed)
    uint32_t heap_count = 0;
    uint32_t heap_capacity = 0;
    uint64_t next_seq = 0;

    size_t count() const { return zeros.count + run.count + heap_count; }
    tevent_timer *top() const;
    // false only when the heap cannot grow.  after_last_zero: a zero
    // deadline goes behind the last zero timer added this way, not behind
    // all of them (tevent_add_timer(), not tevent_update_timer()).
    bool insert(tevent_timer *te, bool after_last_zero);
    void erase(tevent_timer *te);  // harmless when te is not queued
    // Takes out every timer for which leaves(te, arg) is true (leaves()
    // may change te, not the queue).
    void erase_if(bool (*leaves)(tevent_timer *te, void *arg), void *arg);
    void release();  // frees the heap's array (timers are left alone)
};

}  // namespace tev

struct tevent_context {
    const tevent_ops *ops;
    void *additional_data;  // tevent_context_init_ops()'s argument
    tev::Backend *backend;  // built-in backends only

    tev::IList<tevent_fd> fd_events;
    tev::TimerQueue timers;
    tev::IList<tevent_immediate> immediates;

    struct Wakeup {
        int fd = -1;  // eventfd (read and written), or a pipe's read end
        int write_fd = -1;
        tevent_fd *fde = nullptr;
    } wakeup;

    // Owned by signal.cpp.
    tev::ContextSignals *signals = nullptr;
    size_t num_signal_events = 0;

    // Owned by threads.cpp.
    tev::ContextThreads *threads = nullptr;

    struct Debug {
        void (*fn)(void *context, enum tevent_debug_level level, const char *fmt, va_list ap) = nullptr;
        void *context = nullptr;
        enum tevent_debug_level max_level = TEVENT_DEBUG_TRACE;
    } debug;

    struct Tracing {
        tevent_trace_callback_t point = nullptr;
        void *point_private = nullptr;
        tevent_trace_fd_callback_t fd = nullptr;
        void *fd_private = nullptr;
        tevent_trace_timer_callback_t timer = nullptr;
        void *timer_private = nullptr;
        tevent_trace_immediate_callback_t immediate = nullptr;
        void *immediate_private = nullptr;
        tevent_trace_signal_callback_t signal = nullptr;
        void *signal_private = nullptr;
        tevent_trace_queue_callback_t queue = nullptr;
        void *queue_private = nullptr;
    } tracing;

    struct Nesting {
        int level = 0;
        bool allowed = false;
        tevent_nesting_hook hook = nullptr;
        void *hook_private = nullptr;
    } nesting;

    // tevent_context_set_wait_timeout(): seconds one iteration may sleep
    // when no timer is pending; 0 polls, UINT32_MAX waits forever.
    uint32_t wait_timeout = 30;

    struct Wrapper {
        tev::WrapperGlue *glue = nullptr;  // set on wrapper contexts
        tev::IList<tev::WrapperGlue> list;  // main context: its wrappers, in creation order
    } wrapper;

    // Loop entry points (tevent_loop_once/wait/until) currently running on
    // this context.  Freeing the context meanwhile (from a handler) is
    // deferred until the outermost one returns.  The thread check reads it
    // from other threads (thread_check.cpp).
    int running = 0;
    bool free_pending = false;

    // Thread that entered this context's last loop, 0 if none or handed
    // over since (thread_check.hpp).
    std::atomic<uint64_t> loop_owner{0};
    // Set up with the backend: poll_mt and custom backends, whose loops the
    // thread check leaves alone (loop_shared_between_threads()).
    bool loop_unchecked = false;
};

namespace tev {

inline tevent_context *main_context(tevent_context *ev) {
    return (ev != nullptr && ev->wrapper.glue != nullptr) ? ev->wrapper.glue->main_ev : ev;
}

// Where an fd, timer or signal event added through `ev` (not null) lives:
// the loop that runs it, the wrapper whose hooks surround its handler (or
// none), and its talloc parent; without a memory context the event belongs
// to the context it was added to and goes when that is freed, as in the
// reference.  `main` is null, with errno EINVAL, for a wrapper whose main
// context is gone.
struct EventHome {
    tevent_context *main;
    WrapperGlue *wrapper;
    TALLOC_CTX *mem_ctx;
};
inline EventHome event_home(tevent_context *ev, TALLOC_CTX *mem_ctx) {
    EventHome home{main_context(ev), ev->wrapper.glue, mem_ctx != nullptr ? mem_ctx : ev};
    if (home.main == nullptr) errno = EINVAL;
    return home;
}

// A new fd, timer or signal event (talloc-named `type`) living in `home`,
// its handler set; nullptr when memory is out.  The caller sets the rest
// and links it in.
template <typename Event, typename Handler>
Event *new_event(const EventHome &home, const char *type, Handler handler, void *private_data,
                 const char *handler_name, const char *location) {
    void *mem = talloc_named_const(home.mem_ctx, sizeof(Event), type);
    if (mem == nullptr) return nullptr;
    auto *e = new (mem) Event{};
    e->event_ctx = home.main;
    e->wrapper = home.wrapper;
    e->handler = handler;
    e->private_data = private_data;
    e->handler_name = handler_name;
    e->location = location;
    return e;
}

}  // namespace tev

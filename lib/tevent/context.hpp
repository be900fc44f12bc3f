// The event core's internal view: the layout of struct tevent_context and
// of the fd, timer and immediate events, and the functions the loop offers
// to the rest of lib/tevent (signal.cpp, threads.cpp, the request layer and
// the wrapper/trace code that builds on it).
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
//    sig::context_wakeup_changed()); tevent_re_initialise() closes it.
//
//  * Signals (signal.cpp, see signal.hpp): the core calls sig::check(ev)
//    at the start of every iteration while ev->signals != nullptr, and after
//    a wait interrupted by EINTR; sig::context_silence(ev) before dropping
//    the wakeup descriptor and sig::context_detach(ev) after the other
//    events when the context is torn down or re-initialised (the DETACH
//    trace points come in the reference's order: fds, timers, immediates,
//    signals).  signal.cpp owns ev->signals and keeps
//    ev->num_signal_events (live tevent_signal objects on ev; they keep
//    tevent_loop_wait() running).
//
//  * Threads (threads.cpp): when ev->threads != nullptr the core calls
//    thr::activate(ev) once per iteration (before the immediates run) and
//    thr::context_detach(ev) on teardown/re-initialisation.  threads.cpp owns
//    ev->threads.  activate() queues what other threads sent with
//    immediate_schedule().  An immediate that waits in a list of threads.cpp
//    may use the immediate's prev/next links while im->event_ctx is nullptr
//    and its cancel_fn is set (immediate_cancel() then calls cancel_fn
//    instead of unlinking it from a context).
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

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include <talloc.h>

#include "tevent.h"

// Declared by tevent.h only under TEVENT_DEPRECATED.
struct tevent_wrapper_ops;

namespace tev {

struct Backend;      // built-in backends' state (backend.hpp); nullptr for custom ops
struct WrapperGlue;  // wrapper contexts (wrapper.hpp)
namespace sig {
struct ContextSignals;
}
namespace thr {
struct ContextThreads;
}

// An intrusive doubly linked list over T::prev / T::next.  O(1) append,
// remove and emptiness test; the element count keeps tevent_loop_wait()'s
// "anything left?" question O(1).
template <typename T>
struct IList {
    T *head = nullptr;
    T *tail = nullptr;
    size_t count = 0;

    bool empty() const { return head == nullptr; }

    void push_back(T *e) {
        e->prev = tail;
        e->next = nullptr;
        if (tail != nullptr) {
            tail->next = e;
        } else {
            head = e;
        }
        tail = e;
        ++count;
    }
    void push_front(T *e) {
        e->prev = nullptr;
        e->next = head;
        if (head != nullptr) {
            head->prev = e;
        } else {
            tail = e;
        }
        head = e;
        ++count;
    }
    void remove(T *e) {
        if (e->prev != nullptr) {
            e->prev->next = e->next;
        } else {
            head = e->next;
        }
        if (e->next != nullptr) {
            e->next->prev = e->prev;
        } else {
            tail = e->prev;
        }
        e->prev = e->next = nullptr;
        --count;
    }
    // Moves e to the end (fairness among ready events).
    void demote(T *e) {
        if (tail == e) return;
        remove(e);
        push_back(e);
    }
};

// Timers ordered by (deadline, insertion sequence): a binary min-heap with
// each timer knowing its slot, so add/update/free are O(log n) and timers
// with equal deadlines fire in the order they were added.
struct TimerHeap {
    tevent_timer **items = nullptr;  // malloc()ed
    size_t count = 0;
    size_t capacity = 0;
    uint64_t next_seq = 0;

    tevent_timer *top() const { return count != 0 ? items[0] : nullptr; }
    bool insert(tevent_timer *te);  // false only when growing fails
    void erase(tevent_timer *te);
    void release();                 // frees the array (timers are left alone)
};

constexpr size_t kNotQueued = SIZE_MAX;

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
    uint64_t seq;       // tie-breaker for equal deadlines
    size_t heap_index;  // tev::kNotQueued when not in the heap
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
    bool busy;
    bool destroyed;
};

struct tevent_context {
    const tevent_ops *ops;
    void *additional_data;  // tevent_context_init_ops()'s argument
    tev::Backend *backend;  // built-in backends only

    tev::IList<tevent_fd> fd_events;
    tev::TimerHeap timers;
    tev::IList<tevent_immediate> immediates;

    struct Wakeup {
        int fd = -1;  // eventfd (read and written), or a pipe's read end
        int write_fd = -1;
        tevent_fd *fde = nullptr;
    } wakeup;

    // Owned by signal.cpp.
    tev::sig::ContextSignals *signals = nullptr;
    size_t num_signal_events = 0;

    // Owned by threads.cpp.
    tev::thr::ContextThreads *threads = nullptr;

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
        tev::WrapperGlue *list = nullptr;  // main context: its wrappers
    } wrapper;

    // Loop entry points (tevent_loop_once/wait/until) currently running on
    // this context.  Freeing the context meanwhile (from a handler) is
    // deferred until the outermost one returns.
    int running = 0;
    bool free_pending = false;

    // Thread whose loop runs this context, 0 if none (thread_check.hpp).
    std::atomic<uint64_t> loop_owner{0};
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

// ---- diagnostics (debug.cpp) ---------------------------------------------
void debug(tevent_context *ev, enum tevent_debug_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vdebug(tevent_context *ev, enum tevent_debug_level level, const char *fmt, va_list ap);
[[noreturn]] void abort_now(const char *reason);
// tevent_abort(): logs, calls the abort function if one is set (which may
// return), else abort().
void abort(tevent_context *ev, const char *reason);
void check_double_free(TALLOC_CTX *ptr, const char *reason);

// Whether debug(ev, level, ...) would reach a debug function.  Hot paths
// test this first: the variadic debug() cannot be inlined, and a call per
// event costs more than the rest of scheduling an immediate.
inline bool debug_wanted(tevent_context *ev, enum tevent_debug_level level) {
    ev = main_context(ev);
    return ev != nullptr && ev->debug.fn != nullptr && level <= ev->debug.max_level;
}

// ---- tracing (setters in trace.cpp) ----------------------------------------
// Inline: every loop iteration passes several trace points, nearly always
// without a callback.  (A wrapper's Tracing is all NULL: the setters refuse
// wrappers.)
inline void trace_point(tevent_context *ev, enum tevent_trace_point tp) {
    if (ev != nullptr && ev->tracing.point != nullptr) ev->tracing.point(tp, ev->tracing.point_private);
}
inline void trace_fd(tevent_context *ev, tevent_fd *fde, enum tevent_event_trace_point tp) {
    if (ev != nullptr && ev->tracing.fd != nullptr) ev->tracing.fd(fde, tp, ev->tracing.fd_private);
}
inline void trace_timer(tevent_context *ev, tevent_timer *te, enum tevent_event_trace_point tp) {
    if (ev != nullptr && ev->tracing.timer != nullptr) ev->tracing.timer(te, tp, ev->tracing.timer_private);
}
inline void trace_immediate(tevent_context *ev, tevent_immediate *im, enum tevent_event_trace_point tp) {
    if (ev != nullptr && ev->tracing.immediate != nullptr) {
        ev->tracing.immediate(im, tp, ev->tracing.immediate_private);
    }
}
inline void trace_signal(tevent_context *ev, tevent_signal *se, enum tevent_event_trace_point tp) {
    if (ev != nullptr && ev->tracing.signal != nullptr) ev->tracing.signal(se, tp, ev->tracing.signal_private);
}
inline void trace_queue(tevent_context *ev, tevent_queue_entry *qe, enum tevent_event_trace_point tp) {
    if (ev != nullptr && ev->tracing.queue != nullptr) ev->tracing.queue(qe, tp, ev->tracing.queue_private);
}

// ---- wakeup descriptor (wakeup_fd.cpp) ------------------------------------
int wakeup_init(tevent_context *ev);  // 0 or an errno value
int wakeup(tevent_context *ev);       // 0, or EINVAL without wakeup_init()
int wakeup_fd(int fd);                // async-signal-safe; 0
void wakeup_fini(tevent_context *ev);
// After fork: a fresh descriptor for the child (no-op when none existed).
int wakeup_reopen(tevent_context *ev);

// ---- fd events (fd.cpp) ----------------------------------------------------
tevent_fd *fd_add(tevent_context *ev, TALLOC_CTX *mem_ctx, int fd, uint16_t flags, tevent_fd_handler_t handler,
                  void *private_data, const char *handler_name, const char *location);
int fd_destructor(tevent_fd *fde);
uint16_t fd_get_flags(tevent_fd *fde);
void fd_set_flags(tevent_fd *fde, uint16_t flags);
void fd_set_close_fn(tevent_fd *fde, tevent_fd_close_fn_t close_fn);
// tevent_fd_set_auto_close(): through the context's ops, like the API.
void fd_set_auto_close(tevent_fd *fde);
// Takes the event out of its context without freeing it (a descriptor the
// loop found closed, context teardown; without the DETACH trace point when
// its wrapper goes away, as in the reference).
void fd_disarm(tevent_fd *fde, bool traced = true);
int fd_invoke(tevent_fd *fde, uint16_t flags, bool *removed);

// ---- timers (timer.cpp) ----------------------------------------------------
tevent_timer *timer_add(tevent_context *ev, TALLOC_CTX *mem_ctx, struct timeval next_event,
                        tevent_timer_handler_t handler, void *private_data, const char *handler_name,
                        const char *location);
void timer_update(tevent_timer *te, struct timeval next_event);
// The wrapper `glue` goes away: its pending timers leave ev silently (no
// DETACH trace point, as in the reference) and never run.
void timer_detach_wrapper(tevent_context *ev, WrapperGlue *glue);
int timer_invoke(tevent_timer *te, struct timeval current_time, bool *removed);

// What one iteration does about timers: either a due timer has run, or the
// loop may sleep for `timeout_us` microseconds (-1: no limit).
struct TimerStep {
    bool ran;
    int64_t timeout_us;
};
TimerStep timer_step(tevent_context *ev);
// tevent_common_loop_timer_delay()'s answer in its timeval form.
struct timeval timer_delay_tv(tevent_context *ev);

// ---- immediates (immediate.cpp) --------------------------------------------
tevent_immediate *immediate_create(TALLOC_CTX *mem_ctx, const char *location);
// handler == nullptr only cancels.
void immediate_schedule(tevent_immediate *im, tevent_context *ev, tevent_immediate_handler_t handler,
                        void *private_data, const char *handler_name, const char *location);
void immediate_cancel(tevent_immediate *im);
int immediate_invoke(tevent_immediate *im, bool *removed);
bool immediate_loop_one(tevent_context *ev);  // runs the first pending one

// ---- the loop (loop.cpp) -----------------------------------------------------
int loop_once(tevent_context *ev, const char *location);
int loop_wait(tevent_context *ev, const char *location);  // tevent_common_loop_wait
int loop_until(tevent_context *ev, bool (*finished)(void *), void *private_data, const char *location);
bool have_events(tevent_context *ev);

// ev's fd events but its wakeup descriptor, which is plumbing, not work.
inline size_t user_fd_count(const tevent_context *ev) {
    size_t fds = ev->fd_events.count;
    if (ev->wakeup.fde != nullptr && ev->wakeup.fde->event_ctx == ev && fds > 0) fds--;
    return fds;
}

// ---- contexts (context.cpp) ----------------------------------------------------
tevent_context *context_init_ops(TALLOC_CTX *mem_ctx, const tevent_ops *ops, void *additional_data);
tevent_context *context_init_byname(TALLOC_CTX *mem_ctx, const char *name);
int context_destructor(tevent_context *ev);  // tevent_common_context_destructor
int re_initialise(tevent_context *ev);
pid_t cached_getpid();
// getpid() as last seen by cached_getpid(); 0 until then and after fork()
// (in the child).  Read directly by per-iteration checks.
extern std::atomic<pid_t> g_cached_pid;

// ---- backends registry (registry.cpp) ------------------------------------------
bool register_backend(const char *name, const tevent_ops *ops);
const tevent_ops *find_ops(const char *name);  // nullptr: the default backend
const char **backend_list(TALLOC_CTX *mem_ctx);
void set_default_backend(const char *name);

}  // namespace tev

// Implemented by threads.cpp (see the contract above).
namespace tev::thr {
void activate(tevent_context *ev);
void context_detach(tevent_context *ev);
}  // namespace tev::thr

// Signal events.
//
// Three layers:
//  - the async side: one process-wide Slot per signal number, written only
//    by the signal handler (a counter, and for SA_SIGINFO a ring of siginfo
//    copies), plus an immutable table of which wakeup descriptors to poke
//    for which signal;
//  - registrations: one per tevent_signal, linked newest first into the
//    list of its signal, under one mutex that only slow paths take (adding
//    and removing handlers, a loop that found something caught);
//  - delivery: signal_check() moves what the handler counted into the
//    registrations and calls the handlers, one at a time, unlocked.
//
// As in the reference, a caught signal is consumed once, by whichever loop
// looks first, and then given to every handler of that signal (newest
// first; SA_SIGINFO handlers once per siginfo, in arrival order).  Unlike
// the reference, a handler whose context is looped by another thread is
// not called from the consuming thread: its share is parked on its
// registration and its context woken to deliver it.
#include "signal.hpp"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <atomic>
#include <new>

#include "context.hpp"
#include "lifecycle.hpp"
#include "list.hpp"
#include "thread_check.hpp"
#include "wrapper.hpp"

namespace tev {

// Pending siginfo copies of one registration, oldest first.  malloc'd: the
// consuming thread need not be the one owning the registration's talloc
// tree.
struct InfoQueue {
    siginfo_t *items = nullptr;
    size_t head = 0;
    size_t count = 0;
    size_t capacity = 0;

    bool push(const siginfo_t &info) {
        if (count == capacity) {
            size_t cap = capacity == 0 ? 16 : capacity * 2;
            auto *grown = static_cast<siginfo_t *>(malloc(cap * sizeof(siginfo_t)));
            if (grown == nullptr) return false;
            for (size_t i = 0; i < count; i++) grown[i] = items[(head + i) % capacity];
            free(items);
            items = grown;
            head = 0;
            capacity = cap;
        }
        items[(head + count) % capacity] = info;
        count++;
        return true;
    }
    siginfo_t pop() {
        siginfo_t out = items[head];
        head = (head + 1) % capacity;
        count--;
        return out;
    }
    void clear() {
        free(items);
        items = nullptr;
        head = count = capacity = 0;
    }
};

struct ContextSignals;  // below: its list of events needs tevent_signal

struct Registration {
    tevent_signal *se;
    ContextSignals *ctx;  // nullptr once unhooked
    int signum;
    int sa_flags;
    Registration *prev;  // in g_handlers[signum], newest first
    Registration *next;
    bool linked;
    uint32_t pending;  // count not yet delivered (siginfo-less units for SA_SIGINFO)
    InfoQueue infos;   // siginfos not yet delivered (SA_SIGINFO handlers)
};

}  // namespace tev

// The event itself; opaque outside this file.
struct tevent_signal {
    tevent_context *event_ctx;  // nullptr once unhooked or its context is gone
    tev::WrapperGlue *wrapper;
    tevent_signal_handler_t handler;
    void *private_data;
    const char *handler_name;
    const char *location;
    uint64_t tag;
    int signum;
    int sa_flags;
    bool busy;       // its handler is running
    bool destroyed;  // freed while busy: finished when the handler returns
    bool counted;    // included in event_ctx->num_signal_events
    tev::Registration reg;
    tevent_signal *ctx_prev;  // in reg.ctx->events while hooked
    tevent_signal *ctx_next;
};

namespace tev {

// Per context with signal events (ev->signals).
struct ContextSignals {
    tevent_context *ev;
    int wake_fd;  // -1: none (a signal then only interrupts the wait)
    // The thread looping this context: the one that registered its first
    // handler, then whichever thread checks it for signals.
    std::atomic<pthread_t> owner;
    // Another thread parked deliveries here.
    std::atomic<bool> parked;
    int registrations;
    // Its signal events, newest first (the order the reference reports
    // them in when the context goes).
    IList<tevent_signal, &tevent_signal::ctx_prev, &tevent_signal::ctx_next> events;
    ContextSignals *prev;  // in g_contexts
    ContextSignals *next;
};

namespace {

// ---------------------------------------------------------------------------
// The async side.

struct InfoRing {
    siginfo_t info[kSignalInfoQueue];
    // n + 1 once info[n % kSignalInfoQueue] holds the n-th caught signal: a loop
    // never reads an entry that a handler on another thread still writes.
    std::atomic<uint32_t> stamp[kSignalInfoQueue];
};

struct Slot {
    // Signals caught; with SA_SIGINFO also the ring positions reserved.
    std::atomic<uint32_t> caught{0};
    // Signals taken by a loop (advanced under g_lock; the handler reads it
    // to know how much of the ring is free).
    std::atomic<uint32_t> taken{0};
    // Allocated with the first SA_SIGINFO action, never freed: a handler
    // may still run on another thread after the action is gone.
    std::atomic<InfoRing *> ring{nullptr};
    // The handler filled the ring and blocked the signal in the thread it
    // interrupted; the loop draining the ring unblocks it (in its own
    // thread, which is where it normally arrives).
    std::atomic<bool> blocked{false};
};

Slot g_slots[kNumSignals];

// Fast-path hints: the sum of the caught counters (bumped once a slot is
// complete) and its value when a loop last took everything.
std::atomic<uint32_t> g_caught_total{0};
std::atomic<uint32_t> g_taken_total{0};

// Which descriptors to poke for which signal.  Immutable once published and
// replaced wholesale under g_lock.  A handler announces itself in the
// counter of the current epoch before loading the table, so that a writer
// can wait until no handler that may have seen the old table still runs;
// only then is the old table freed, and a descriptor that left the table
// safe to close.  Handlers starting later count in the other epoch, so the
// writer never waits for more than those already running.
// A set of signal numbers, walked in ascending order.  Plain words: the
// wake table's copies are read by signal handlers.
struct SignalSet {
    uint64_t bits[2];

    bool has(int signum) const { return ((bits[signum / 64] >> (signum % 64)) & 1u) != 0; }
    void add(int signum) { bits[signum / 64] |= uint64_t{1} << (signum % 64); }
    void remove(int signum) { bits[signum / 64] &= ~(uint64_t{1} << (signum % 64)); }
    // The smallest member >= from; kNumSignals if none.
    int next(int from) const {
        for (int w = from / 64; w < 2; w++) {
            uint64_t m = bits[w] & (w == from / 64 ? ~uint64_t{0} << (from % 64) : ~uint64_t{0});
            if (m != 0) return w * 64 + __builtin_ctzll(m);
        }
        return kNumSignals;
    }
};
static_assert(kNumSignals <= 128, "SignalSet holds 128 signal numbers");

struct WakeEntry {
    int fd;
    SignalSet signals;  // those it has a handler for
};
struct WakeTable {
    size_t n;
    WakeEntry entries[1];
};

std::atomic<WakeTable *> g_wake{nullptr};
std::atomic<uint32_t> g_epoch{0};
std::atomic<uint32_t> g_in_handler[2];

void wake_listeners(int signum) {
    // The epoch must not move between reading it and counting in it: a
    // writer that flipped it meanwhile waits on the other counter, and the
    // next writer would free the table this handler then reads.  Once the
    // count is in and the epoch unchanged, the writer that next flips it
    // waits for this handler, and writers run one at a time (g_lock).
    uint32_t seen = g_epoch.load();
    uint32_t epoch = seen & 1u;
    g_in_handler[epoch].fetch_add(1);
    while (g_epoch.load() != seen) {
        g_in_handler[epoch].fetch_sub(1);
        seen = g_epoch.load();
        epoch = seen & 1u;
        g_in_handler[epoch].fetch_add(1);
    }
    const WakeTable *table = g_wake.load();
    if (table != nullptr) {
        for (size_t i = 0; i < table->n; i++) {
            if (table->entries[i].signals.has(signum)) wakeup_fd(table->entries[i].fd);
        }
    }
    g_in_handler[epoch].fetch_sub(1);
}

void caught_plain(int signum) {
    int saved_errno = errno;
    g_slots[signum].caught.fetch_add(1, std::memory_order_release);
    g_caught_total.fetch_add(1, std::memory_order_release);
    wake_listeners(signum);
    errno = saved_errno;
}

void caught_with_info(int signum, siginfo_t *info, void *uctx) {
    int saved_errno = errno;
    Slot &slot = g_slots[signum];
    InfoRing *ring = slot.ring.load(std::memory_order_acquire);
    uint32_t pos = slot.caught.load(std::memory_order_relaxed);
    for (;;) {
        uint32_t used = pos - slot.taken.load(std::memory_order_acquire);
        if (ring == nullptr || used >= kSignalInfoQueue) {
            // No room: only possible when another thread catches it while
            // the ring is full.  Lost, as the kernel loses a repeated
            // non-realtime signal.
            break;
        }
        if (slot.caught.compare_exchange_weak(pos, pos + 1, std::memory_order_acq_rel)) {
            ring->info[pos % kSignalInfoQueue] = *info;
            ring->stamp[pos % kSignalInfoQueue].store(pos + 1, std::memory_order_release);
            if (used + 1 == kSignalInfoQueue && uctx != nullptr) {
                // Full: keep further ones queued in the kernel by blocking
                // the signal in the mask the interrupted code resumes with.
                sigaddset(&static_cast<ucontext_t *>(uctx)->uc_sigmask, signum);
                slot.blocked.store(true, std::memory_order_release);
            }
            break;
        }
    }
    g_caught_total.fetch_add(1, std::memory_order_release);
    wake_listeners(signum);
    errno = saved_errno;
}

void unblock(int signum) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signum);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

// ---------------------------------------------------------------------------
// Registrations, under g_lock.

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

struct Locked {
    Locked() { pthread_mutex_lock(&g_lock); }
    ~Locked() { pthread_mutex_unlock(&g_lock); }
    Locked(const Locked &) = delete;
    Locked &operator=(const Locked &) = delete;
};

struct SignalAction {
    struct sigaction previous;
    bool installed;
    bool with_info;
};

// Each signal's registrations, newest first.
IList<Registration> g_handlers[kNumSignals];
SignalAction g_actions[kNumSignals];
// Signals whose action was ever installed: only their slots can have
// caught anything.
SignalSet g_ever_installed;
// Signals some of whose registrations may have something to deliver (a
// superset: cleared when a scan finds nothing).
SignalSet g_undelivered;
IList<ContextSignals> g_contexts;

int wakeup_fd_of(tevent_context *ev) {
    if (wakeup_init(ev) != 0) return -1;
    return ev->wakeup.write_fd >= 0 ? ev->wakeup.write_fd : ev->wakeup.fd;
}

// Rebuilds and publishes the wake table, then waits out the handlers that
// may still be reading the old one.
bool publish_wake_table() {
    size_t n = 0;
    for (ContextSignals *c = g_contexts.head; c != nullptr; c = c->next) {
        if (c->wake_fd >= 0) n++;
    }
    WakeTable *table = nullptr;
    if (n > 0) {
        table = static_cast<WakeTable *>(calloc(1, sizeof(WakeTable) + n * sizeof(WakeEntry)));
        if (table == nullptr) return false;
        for (ContextSignals *c = g_contexts.head; c != nullptr; c = c->next) {
            if (c->wake_fd < 0) continue;
            WakeEntry &e = table->entries[table->n++];
            e.fd = c->wake_fd;
            for (int s = 1; s < kNumSignals; s++) {
                for (Registration *r = g_handlers[s].head; r != nullptr; r = r->next) {
                    if (r->ctx == c) {
                        e.signals.add(s);
                        break;
                    }
                }
            }
        }
    }
    WakeTable *old = g_wake.exchange(table);
    uint32_t epoch = g_epoch.fetch_add(1) & 1u;
    while (g_in_handler[epoch].load() != 0) sched_yield();
    free(old);
    return true;
}

ContextSignals *context_for_locked(tevent_context *ev) {
    if (ev->signals != nullptr) return ev->signals;
    // Without its wakeup descriptor (no memory for it) a signal could not
    // wake the loop: tevent_add_signal fails instead (found by
    // tests/faults/fault_tevent.c).
    int wake_fd = wakeup_fd_of(ev);
    if (wake_fd < 0) return nullptr;
    auto *c = static_cast<ContextSignals *>(calloc(1, sizeof(ContextSignals)));
    if (c == nullptr) return nullptr;
    new (c) ContextSignals{};
    c->ev = ev;
    c->wake_fd = wake_fd;
    c->owner.store(pthread_self(), std::memory_order_relaxed);
    g_contexts.push_front(c);
    ev->signals = c;
    return c;
}

void drop_context_if_unused(ContextSignals *c) {
    if (c->registrations > 0) return;
    g_contexts.remove(c);
    c->ev->signals = nullptr;
    c->~ContextSignals();
    free(c);
}

bool install_action(int signum, int sa_flags) {
    SignalAction &a = g_actions[signum];
    if (a.installed) return true;
    Slot &slot = g_slots[signum];
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    act.sa_flags = sa_flags;
    // Every signal is blocked while one of these handlers runs, so none
    // interrupts another.  A handler that fills its siginfo ring blocks its
    // signal in the mask the interrupted code resumes with; were that code
    // another handler, its own return would restore the older mask, the
    // block would be lost and further realtime signals dropped (found by
    // tests/stress/stress_signal_storm.c; the reference has this hole).
    sigfillset(&act.sa_mask);
    if ((sa_flags & SA_SIGINFO) != 0) {
        if (slot.ring.load(std::memory_order_acquire) == nullptr) {
            auto *ring = static_cast<InfoRing *>(calloc(1, sizeof(InfoRing)));
            if (ring == nullptr) return false;
            slot.ring.store(ring, std::memory_order_release);
        }
        act.sa_sigaction = caught_with_info;
    } else {
        act.sa_handler = caught_plain;
    }
    // Nothing caught under an earlier action reaches the new handlers.
    slot.taken.store(slot.caught.load(std::memory_order_acquire), std::memory_order_release);
    if (sigaction(signum, &act, &a.previous) != 0) return false;
    a.installed = true;
    g_ever_installed.add(signum);
    a.with_info = (sa_flags & SA_SIGINFO) != 0;
    return true;
}

void restore_action(int signum) {
    SignalAction &a = g_actions[signum];
    if (!a.installed) return;
    sigaction(signum, &a.previous, nullptr);
    a.installed = false;
    if (g_slots[signum].blocked.exchange(false)) unblock(signum);
}

// Takes r out of its signal's list; the previous action comes back when
// the last handler of the signal leaves.  True if the wake table changed.
bool unhook_locked(Registration *r) {
    if (!r->linked) return false;
    g_handlers[r->signum].remove(r);
    r->linked = false;
    r->pending = 0;
    r->infos.clear();
    tevent_signal *se = r->se;
    if (se->counted && se->event_ctx != nullptr) {
        se->event_ctx->num_signal_events--;
        se->counted = false;
    }
    if (r->ctx != nullptr) {
        r->ctx->events.remove(se);
        r->ctx->registrations--;
        drop_context_if_unused(r->ctx);
        r->ctx = nullptr;
    }
    if (g_handlers[r->signum].empty()) restore_action(r->signum);
    return true;
}

void park(ContextSignals *c) {
    c->parked.store(true, std::memory_order_release);
    if (c->wake_fd >= 0) wakeup_fd(c->wake_fd);
}

// Moves everything caught since the last time into the registrations.
// Shares for contexts looped by other threads are parked there.  True if
// anything had been caught.
bool take_caught_locked(pthread_t self) {
    uint32_t total = g_caught_total.load(std::memory_order_acquire);
    bool any = false;
    for (int s = g_ever_installed.next(1); s < kNumSignals; s = g_ever_installed.next(s + 1)) {
        Slot &slot = g_slots[s];
        uint32_t from = slot.taken.load(std::memory_order_relaxed);
        uint32_t to = slot.caught.load(std::memory_order_acquire);
        if (from == to) continue;
        InfoRing *ring = g_actions[s].with_info ? slot.ring.load(std::memory_order_acquire) : nullptr;
        if (ring != nullptr) {
            // Only the prefix whose siginfo copies are complete.
            uint32_t end = from;
            while (end != to && ring->stamp[end % kSignalInfoQueue].load(std::memory_order_acquire) == end + 1) end++;
            to = end;
            if (from == to) continue;
        }
        any = true;
        for (Registration *r = g_handlers[s].head; r != nullptr; r = r->next) {
            if (r->ctx == nullptr) continue;
            g_undelivered.add(s);
            if (ring != nullptr && (r->sa_flags & SA_SIGINFO) != 0) {
                for (uint32_t n = from; n != to; n++) {
                    if (!r->infos.push(ring->info[n % kSignalInfoQueue])) r->pending++;
                }
            } else {
                r->pending += to - from;
            }
            if (!pthread_equal(r->ctx->owner.load(std::memory_order_relaxed), self)) park(r->ctx);
        }
        slot.taken.store(to, std::memory_order_release);
        if (slot.blocked.exchange(false)) unblock(s);  // the ring has room again
    }
    g_taken_total.store(total, std::memory_order_release);
    return any;
}

// The next registration, in delivery order, with something for this
// thread: by signal number, then newest handler first.
Registration *next_deliverable_locked(pthread_t self) {
    for (int s = g_undelivered.next(1); s < kNumSignals; s = g_undelivered.next(s + 1)) {
        bool others = false;  // something left for another thread's context
        for (Registration *r = g_handlers[s].head; r != nullptr; r = r->next) {
            if (r->ctx == nullptr || (r->pending == 0 && r->infos.count == 0)) continue;
            if (pthread_equal(r->ctx->owner.load(std::memory_order_relaxed), self)) return r;
            others = true;
        }
        if (!others) g_undelivered.remove(s);
    }
    return nullptr;
}

void unpark_own_locked(pthread_t self) {
    for (ContextSignals *c = g_contexts.head; c != nullptr; c = c->next) {
        if (pthread_equal(c->owner.load(std::memory_order_relaxed), self)) {
            c->parked.store(false, std::memory_order_relaxed);
        }
    }
}

// A forked child must not inherit a held lock, nor handler counts of
// threads that do not exist there.
void atfork_prepare() { pthread_mutex_lock(&g_lock); }
void atfork_parent() { pthread_mutex_unlock(&g_lock); }
void atfork_child() {
    g_in_handler[0].store(0);
    g_in_handler[1].store(0);
    pthread_mutex_unlock(&g_lock);
}

pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;
void register_atfork() { pthread_atfork(atfork_prepare, atfork_parent, atfork_child); }

int signal_destructor(tevent_signal *se) {
    if (thread_check_misused(se->event_ctx, "talloc_free(struct tevent_signal)")) return -1;
    if (!se->destroyed) {
        tevent_context *ev = se->event_ctx;
        {
            Locked lock;
            if (unhook_locked(&se->reg)) publish_wake_table();
        }
        se->event_ctx = nullptr;
        if (ev != nullptr) trace_signal(ev, se, TEVENT_EVENT_TRACE_DETACH);
    }
    // Freed from inside its own handler: signal_invoke() completes the free.
    if (release_unless_running(se) != 0) return -1;
    se->reg.infos.clear();
    return 0;
}

}  // namespace

// ---------------------------------------------------------------------------

tevent_signal *signal_add(tevent_context *ev, TALLOC_CTX *mem_ctx, int signum, int sa_flags,
                   tevent_signal_handler_t handler, void *private_data, const char *handler_name,
                   const char *location) {
    if (ev == nullptr || handler == nullptr || signum <= 0 || signum >= kNumSignals) {
        errno = EINVAL;
        return nullptr;
    }
    pthread_once(&g_atfork_once, register_atfork);
    EventHome home = event_home(ev, mem_ctx);
    if (home.main == nullptr) return nullptr;
    ev = home.main;

    auto *se =
        new_event<tevent_signal>(home, "struct tevent_signal", handler, private_data, handler_name, location);
    if (se == nullptr) return nullptr;
    se->signum = signum;
    se->sa_flags = sa_flags;
    se->reg.se = se;
    se->reg.signum = signum;
    se->reg.sa_flags = sa_flags;

    {
        Locked lock;
        ContextSignals *c = context_for_locked(ev);
        if (c == nullptr || !install_action(signum, sa_flags)) {
            int err = errno;
            if (c != nullptr) drop_context_if_unused(c);
            talloc_free(se);
            errno = err;
            return nullptr;
        }
        Registration *r = &se->reg;
        r->ctx = c;
        c->registrations++;
        c->events.push_front(se);
        g_handlers[signum].push_front(r);
        r->linked = true;
        se->counted = true;
        ev->num_signal_events++;
        if (!publish_wake_table()) {
            unhook_locked(r);
            talloc_free(se);
            errno = ENOMEM;
            return nullptr;
        }
    }
    talloc_set_destructor(se, signal_destructor);
    trace_signal(ev, se, TEVENT_EVENT_TRACE_ATTACH);
    return se;
}

int signal_invoke(tevent_signal *se, int signum, int count, void *siginfo, bool *removed) {
    if (removed != nullptr) *removed = false;
    tevent_context *ev = se->event_ctx;
    if (ev == nullptr) return 0;
    struct Call {
        tevent_signal *se;
        int signum;
        int count;
        void *siginfo;
        void hook(const WrapperGlue &glue, Hook when) const {
            hook_signal(glue, when, se, signum, count, siginfo, se->handler_name, se->location);
        }
        void trace(tevent_context *main_ev) const { trace_signal(main_ev, se, TEVENT_EVENT_TRACE_BEFORE_HANDLER); }
        void operator()(tevent_context *handler_ev) const {
            se->handler(handler_ev, se, signum, count, siginfo, se->private_data);
        }
    };
    WrapperGlue *glue = se->wrapper;
    // Freed from inside the handler: the destructor already unhooked it.
    run_as_handler(
        se, [&] { run_handler(ev, glue, Call{se, signum, count, siginfo}); }, removed,
        [](tevent_signal *gone) { gone->reg.infos.clear(); });
    return 0;
}

int signal_check(tevent_context *ev) {
    ContextSignals *own = ev != nullptr ? ev->signals : nullptr;
    pthread_t self = pthread_self();
    if (own != nullptr && !pthread_equal(own->owner.load(std::memory_order_relaxed), self)) {
        own->owner.store(self, std::memory_order_relaxed);
    }
    if (g_caught_total.load(std::memory_order_acquire) == g_taken_total.load(std::memory_order_acquire) &&
        (own == nullptr || !own->parked.load(std::memory_order_acquire))) {
        return 0;
    }
    pthread_mutex_lock(&g_lock);
    bool any = take_caught_locked(self);
    unpark_own_locked(self);
    // One handler at a time, without the lock: handlers add and free signal
    // events and nest loops.  The scan restarts after every call.
    while (Registration *r = next_deliverable_locked(self)) {
        tevent_signal *se = r->se;
        int signum = r->signum;
        int count = 1;
        siginfo_t info;
        bool with_info = (r->sa_flags & SA_SIGINFO) != 0;
        if (with_info) {
            if (r->infos.count != 0) {
                info = r->infos.pop();
            } else {
                // Caught under an action without SA_SIGINFO (or the copy
                // could not be kept): only the number is known.
                r->pending--;
                memset(&info, 0, sizeof(info));
                info.si_signo = signum;
                info.si_code = SI_USER;
            }
        } else {
            count = static_cast<int>(r->pending);
            r->pending = 0;
        }
        pthread_mutex_unlock(&g_lock);
        bool removed = false;
        signal_invoke(se, signum, count, with_info ? &info : nullptr, &removed);
        if (!removed && (se->sa_flags & SA_RESETHAND) != 0) talloc_free(se);
        any = true;
        pthread_mutex_lock(&g_lock);
    }
    pthread_mutex_unlock(&g_lock);
    return any ? 1 : 0;
}

void signal_cleanup_pending(tevent_signal *se) {
    if (se == nullptr) return;
    // As in the reference: what freeing it does (DETACH trace point
    // included), except that the memory stays; freed from inside its own
    // handler, it is freed when the handler returns.
    signal_destructor(se);
    talloc_set_destructor(se, nullptr);
}

void signal_context_silence(tevent_context *ev) {
    Locked lock;
    ContextSignals *c = ev->signals;
    if (c == nullptr) return;
    c->wake_fd = -1;
    publish_wake_table();
}

void signal_context_detach(tevent_context *ev) {
    // One event at a time: the DETACH trace point is reported unlocked,
    // and unhooking the last one frees ev->signals.
    for (;;) {
        tevent_signal *se;
        {
            Locked lock;
            ContextSignals *c = ev->signals;
            if (c == nullptr || c->events.empty()) break;
            se = c->events.head;
            unhook_locked(&se->reg);
            se->event_ctx = nullptr;
            se->wrapper = nullptr;
        }
        trace_signal(ev, se, TEVENT_EVENT_TRACE_DETACH);
    }
    Locked lock;
    publish_wake_table();
}

void signal_wrapper_gone(tevent_context *ev, WrapperGlue *glue) {
    // Rescanned after each one: cleaning up may free ev->signals.
    for (;;) {
        tevent_signal *found = nullptr;
        {
            Locked lock;
            ContextSignals *c = ev->signals;
            for (tevent_signal *se = c != nullptr ? c->events.head : nullptr; se != nullptr; se = se->ctx_next) {
                if (se->wrapper == glue) {
                    found = se;
                    break;
                }
            }
        }
        if (found == nullptr) return;
        found->wrapper = nullptr;
        signal_cleanup_pending(found);
    }
}

void signal_set_wrapper(tevent_signal *se, WrapperGlue *glue) { se->wrapper = glue; }

void signal_context_wakeup_changed(tevent_context *ev) {
    Locked lock;
    ContextSignals *c = ev->signals;
    if (c == nullptr) return;
    c->wake_fd = wakeup_fd_of(ev);
    publish_wake_table();
}

void signal_set_tag(tevent_signal *se, uint64_t tag) {
    if (se != nullptr) se->tag = tag;
}

uint64_t signal_get_tag(const tevent_signal *se) { return se != nullptr ? se->tag : 0; }

bool signal_support(tevent_context *ev) {
    return ev != nullptr && ev->ops != nullptr && ev->ops->add_signal != nullptr;
}

}  // namespace tev

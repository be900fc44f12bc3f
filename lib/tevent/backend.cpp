// The dispatch core shared by the built-in backends, and their ops tables.
//
// One iteration (tevent_loop_once) does exactly one of these, in order:
// deliver caught signals; run one immediate; run one due timer; wait for
// descriptors and run one fd handler (or, when the wait timed out, the
// timer that is now due).  Threaded immediates are moved into the queue
// first.  Which fd handler runs when several are ready: on poll, the first
// in the context's list of fd events (newest first), which then moves to
// the back so that busy descriptors cannot starve the others; on epoll,
// the descriptor the kernel reports (it rotates them), and among the
// events on it the reference's choice (pick_epoll()).
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <new>

#include "backend.hpp"
#include "context.hpp"
#include "signal.hpp"
#include "threads.hpp"

namespace tev {

// ---- descriptor table ------------------------------------------------------

bool Backend::reserve_slot(int fd) {
    if (fd < 0) return false;
    size_t need = static_cast<size_t>(fd) + 1;
    if (need <= nslots) return true;
    size_t n = nslots == 0 ? 64 : nslots;
    while (n < need) n *= 2;
    auto *grown = static_cast<FdSlot *>(realloc(slots, n * sizeof(FdSlot)));
    if (grown == nullptr) return false;
    for (size_t i = nslots; i < n; i++) {
        new (&grown[i]) FdSlot{};
        grown[i].poll_index = -1;
    }
    slots = grown;
    nslots = n;
    return true;
}

bool Backend::reserve_ready(size_t n) {
    if (n <= ready_cap) return true;
    size_t cap = ready_cap == 0 ? 16 : ready_cap;
    while (cap < n) cap *= 2;
    auto *grown = static_cast<int *>(realloc(ready_fds, cap * sizeof(int)));
    if (grown == nullptr) return false;
    ready_fds = grown;
    ready_cap = cap;
    return true;
}

namespace {

void chain_push_front(FdSlot &s, tevent_fd *fde) {
    fde->fd_prev = nullptr;
    fde->fd_next = s.head;
    if (s.head != nullptr) {
        s.head->fd_prev = fde;
    } else {
        s.tail = fde;
    }
    s.head = fde;
}

void chain_remove(FdSlot &s, tevent_fd *fde) {
    if (fde->fd_prev != nullptr) {
        fde->fd_prev->fd_next = fde->fd_next;
    } else {
        s.head = fde->fd_next;
    }
    if (fde->fd_next != nullptr) {
        fde->fd_next->fd_prev = fde->fd_prev;
    } else {
        s.tail = fde->fd_prev;
    }
    fde->fd_prev = fde->fd_next = nullptr;
}

void chain_push_back(FdSlot &s, tevent_fd *fde) {
    fde->fd_next = nullptr;
    fde->fd_prev = s.tail;
    if (s.tail != nullptr) {
        s.tail->fd_next = fde;
    } else {
        s.head = fde;
    }
    s.tail = fde;
}

constexpr uint16_t kAllFlags = TEVENT_FD_READ | TEVENT_FD_WRITE | TEVENT_FD_ERROR;

// tevent_fd::additional_flags bit (the built-in backends own that field,
// as the reference's do): the event has been part of its descriptor's
// epoll registration since it was added.  See pick_epoll().
constexpr uint64_t kEpollJoined = 1;

// Puts fde right behind the chain's head (which must exist).
void chain_insert_second(FdSlot &s, tevent_fd *fde) {
    fde->fd_prev = s.head;
    fde->fd_next = s.head->fd_next;
    if (s.head->fd_next != nullptr) {
        s.head->fd_next->fd_prev = fde;
    } else {
        s.tail = fde;
    }
    s.head->fd_next = fde;
}

int sync_slot(Backend *b, int fd);

// Every fd event on fd is taken out of the context: the descriptor is not
// open any more (closed behind the loop's back).  Reported, not retried, so
// the loop does not spin on it.
void disable_slot(Backend *b, int fd, const char *why) {
    FdSlot *s = b->slot(fd);
    if (s == nullptr) return;
    tevent_fd *fde = s->head;
    s->head = s->tail = nullptr;
    s->watching = 0;
    b->poller->update(b, fd, s);
    s->in_kernel = false;
    while (fde != nullptr) {
        tevent_fd *next = fde->fd_next;
        fde->fd_prev = fde->fd_next = nullptr;
        fde->registered = false;
        debug(b->ev, TEVENT_DEBUG_ERROR, "%s on fde[%p] fd[%d] - disabling\n", why, static_cast<void *>(fde), fd);
        fd_disarm(fde);
        fde = next;
    }
}

// Moves every watched descriptor to the poll() poller ("standard" after
// epoll failed).
void switch_to_poll(Backend *b) {
    debug(b->ev, TEVENT_DEBUG_WARNING, "tevent: epoll failed, falling back to poll\n");
    b->poller->close(b);
    b->poller = &kPollPoller;
    b->fallback_to_poll = false;
    b->poller->open(b);
    for (size_t fd = 0; fd < b->nslots; fd++) {
        FdSlot &s = b->slots[fd];
        s.in_kernel = false;
        s.poll_index = -1;
        if (s.watching != 0) b->poller->update(b, static_cast<int>(fd), &s);
    }
    // poll serves the events on one descriptor in the context's order,
    // which the chains kept for epoll (primary first) need not follow:
    // rebuild them from the context's list.
    for (tevent_fd *fde = b->ev->fd_events.tail; fde != nullptr; fde = fde->prev) {
        FdSlot *s = fde->registered ? b->slot(fde->fd) : nullptr;
        if (s == nullptr) continue;
        chain_remove(*s, fde);
        chain_push_front(*s, fde);
    }
}

void handle_update_error(Backend *b, int fd, int err) {
    if (err == EBADF) {
        disable_slot(b, fd, "descriptor closed behind the loop's back (EBADF)");
        return;
    }
    if (b->fallback_to_poll && b->poller == &kEpollPoller) {
        // e.g. EPERM: regular files cannot be watched by epoll.
        switch_to_poll(b);
        return;
    }
    debug(b->ev, TEVENT_DEBUG_ERROR, "%s: cannot watch fd[%d]: %s\n", b->poller->name, fd, strerror(err));
    disable_slot(b, fd, "unwatchable descriptor");
}

// Returns ENOMEM when the poller could not grow its table: nothing changed
// (the poller checks before it touches anything), so tevent_add_fd can fail
// as documented instead of returning an event that never fires.
int sync_slot(Backend *b, int fd) {
    FdSlot *s = b->slot(fd);
    if (s == nullptr) return 0;
    uint16_t want = 0;
    for (tevent_fd *fde = s->head; fde != nullptr; fde = fde->fd_next) want |= fde->flags & kAllFlags;
    if (want == s->watching) return 0;
    uint16_t before = s->watching;
    s->watching = want;
    int err = b->poller->update(b, fd, s);
    if (err == ENOMEM) {
        s->watching = before;
        return err;
    }
    if (err != 0) handle_update_error(b, fd, err);
    return 0;
}

// After fork() the child shares the parent's epoll set and wakeup
// descriptor; it gets its own.
__attribute__((noinline)) void check_fork_slow(Backend *b) {
    pid_t pid = cached_getpid();
    if (b->pid == pid) return;
    b->pid = pid;
    if (b->poller == &kEpollPoller) {
        b->poller->close(b);
        if (b->poller->open(b) != 0) {
            b->poller = &kPollPoller;
            b->poller->open(b);
        }
        for (size_t fd = 0; fd < b->nslots; fd++) {
            FdSlot &s = b->slots[fd];
            s.in_kernel = false;
            if (s.watching != 0) {
                int err = b->poller->update(b, static_cast<int>(fd), &s);
                if (err != 0) handle_update_error(b, static_cast<int>(fd), err);
            }
        }
    }
    wakeup_reopen(b->ev);
}

// Runs on every iteration: one load and compare while the process has not
// forked (the cache is 0 in a child until someone asks again).
inline void check_fork(Backend *b) {
    if (__builtin_expect(b->pid == g_cached_pid.load(std::memory_order_relaxed), 1)) return;
    check_fork_slow(b);
}

}  // namespace

bool backend_fd_attach(Backend *b, tevent_fd *fde) {
    if (!b->reserve_slot(fde->fd)) return false;
    check_fork(b);
    FdSlot &slot = b->slots[fde->fd];
    fde->additional_flags &= ~kEpollJoined;
    if (b->poller == &kEpollPoller && slot.head != nullptr && (slot.watching != 0 || fde->flags == 0)) {
        // The reference's epoll registration keeps pointing at the event
        // that was there first, and one added without flags is not part
        // of it: the new one goes second (pick_epoll()).
        chain_insert_second(slot, fde);
    } else {
        chain_push_front(slot, fde);
    }
    if (fde->flags != 0) fde->additional_flags |= kEpollJoined;
    fde->registered = true;
    if (sync_slot(b, fde->fd) == ENOMEM) {
        chain_remove(slot, fde);
        fde->registered = false;
        return false;
    }
    return true;
}

void backend_fd_detach(Backend *b, tevent_fd *fde) {
    FdSlot *s = b->slot(fde->fd);
    fde->registered = false;
    if (s == nullptr) return;
    chain_remove(*s, fde);
    check_fork(b);
    sync_slot(b, fde->fd);
}

void backend_fd_update(Backend *b, tevent_fd *fde) {
    check_fork(b);
    FdSlot *s = b->slot(fde->fd);
    if (b->poller == &kEpollPoller && s != nullptr && fde->registered) {
        // The reference's epoll registration points at the event whose
        // change it last applied; that event is served first (see
        // pick_epoll()), so it goes to the head of the chain.  Except for
        // an event joining for the first time while another one holds the
        // registration: that one stays first.
        if (fde->additional_flags & kEpollJoined) {
            chain_remove(*s, fde);
            chain_push_front(*s, fde);
        } else if (fde->flags != 0) {
            fde->additional_flags |= kEpollJoined;
            chain_remove(*s, fde);
            if (s->watching != 0 && s->head != nullptr) {
                chain_insert_second(*s, fde);
            } else {
                chain_push_front(*s, fde);
            }
        }
    }
    sync_slot(b, fde->fd);
}

// ---- dispatch --------------------------------------------------------------

namespace {

// The flags to call fde's handler with, given its descriptor's readiness;
// 0 for none.
uint16_t flags_for(tevent_fd *fde, uint8_t ready) {
    uint16_t want = fde->flags;
    uint16_t flags = 0;
    if (ready & kReadyErr) {
        if ((want & (TEVENT_FD_READ | TEVENT_FD_ERROR)) == 0) {
            // Only writing was asked for: like select(), an error is not
            // reported to writers; the event stops asking for writability,
            // or the loop would spin on the error.
            if (want & TEVENT_FD_WRITE) fd_set_flags(fde, want & ~TEVENT_FD_WRITE);
            return 0;
        }
        if (want & TEVENT_FD_ERROR) flags |= TEVENT_FD_ERROR;
        if (want & TEVENT_FD_READ) flags |= TEVENT_FD_READ;
    }
    if ((ready & kReadyIn) && (want & TEVENT_FD_READ)) flags |= TEVENT_FD_READ;
    if ((ready & kReadyOut) && (want & TEVENT_FD_WRITE)) flags |= TEVENT_FD_WRITE;
    return flags;
}

// Which of the events on one ready descriptor runs, on epoll.  The
// reference's epoll backend multiplexes (at most) two events on a
// descriptor behind one registration that points at the event most
// recently changed (or the first added; one that joins later while another
// holds the registration does not take it over), and picks: on writability the
// first event that wants to write, otherwise that primary one if it wants
// any of what is ready, else the other.  It does not rotate.  The chain
// keeps the primary first (backend_fd_attach/update), which extends the
// rule to any number of events (the reference aborts beyond two).
tevent_fd *pick_epoll(Backend *b, int fd, uint16_t *flags_out) {
    FdSlot *s = b->slot(fd);
    if (s == nullptr) return nullptr;
    uint8_t ready = s->ready;
    if (ready & kReadyErr) {
        // Errors are not reported to write-only events, which stop asking
        // for writability (as flags_for() does for one), without becoming
        // the most recent: the reference changes their flags directly.
        bool stripped = false;
        for (tevent_fd *fde = s->head; fde != nullptr; fde = fde->fd_next) {
            if ((fde->flags & (TEVENT_FD_READ | TEVENT_FD_ERROR)) == 0 && (fde->flags & TEVENT_FD_WRITE)) {
                fde->flags &= ~TEVENT_FD_WRITE;
                stripped = true;
            }
        }
        if (stripped) sync_slot(b, fd);  // may disable the slot
    }
    if (ready & kReadyOut) {
        for (tevent_fd *fde = s->head; fde != nullptr; fde = fde->fd_next) {
            if ((fde->flags & TEVENT_FD_WRITE) == 0) continue;
            uint16_t flags = flags_for(fde, ready);
            if (flags != 0) {
                *flags_out = flags;
                return fde;
            }
        }
    }
    for (tevent_fd *fde = s->head; fde != nullptr; fde = fde->fd_next) {
        uint16_t flags = flags_for(fde, ready);
        if (flags != 0) {
            *flags_out = flags;
            return fde;
        }
    }
    return nullptr;
}

void clear_ready(Backend *b) {
    for (size_t i = 0; i < b->nready; i++) {
        FdSlot *s = b->slot(b->ready_fds[i]);
        if (s != nullptr) s->ready = 0;
    }
    b->nready = 0;
}

// Runs one fd handler for the descriptors the poller reported.
void dispatch(Backend *b) {
    tevent_context *ev = b->ev;

    // Only poll() reports descriptors that are not open.
    for (size_t i = 0; i < b->nready && b->poller != &kEpollPoller; i++) {
        int fd = b->ready_fds[i];
        FdSlot *s = b->slot(fd);
        if (s != nullptr && (s->ready & kReadyNval)) {
            s->ready = 0;
            disable_slot(b, fd, "POLLNVAL (descriptor closed behind the loop's back)");
        }
    }

    tevent_fd *chosen = nullptr;
    uint16_t flags = 0;
    bool rotate = true;
    if (b->nready == 1 && b->poller == &kEpollPoller) {
        // The kernel already rotates ready descriptors (one per wait).
        chosen = pick_epoll(b, b->ready_fds[0], &flags);
        rotate = false;
    } else if (b->nready == 1) {
        // One descriptor: its own chain is in the same relative order as
        // the context's list.
        FdSlot *s = b->slot(b->ready_fds[0]);
        for (tevent_fd *fde = s != nullptr ? s->head : nullptr; fde != nullptr;) {
            tevent_fd *next = fde->fd_next;
            flags = flags_for(fde, s->ready);
            if (flags != 0) {
                chosen = fde;
                break;
            }
            fde = next;
        }
    } else if (b->nready > 1) {
        for (tevent_fd *fde = ev->fd_events.head; fde != nullptr;) {
            tevent_fd *next = fde->next;
            if (fde->registered) {
                FdSlot *s = b->slot(fde->fd);
                if (s != nullptr && s->ready != 0) {
                    flags = flags_for(fde, s->ready);
                    if (flags != 0) {
                        chosen = fde;
                        break;
                    }
                }
            }
            fde = next;
        }
    }
    clear_ready(b);
    if (chosen == nullptr) return;

    if (rotate) {
        ev->fd_events.demote(chosen);
        FdSlot *s = b->slot(chosen->fd);
        if (s != nullptr && s->tail != chosen) {
            chain_remove(*s, chosen);
            chain_push_back(*s, chosen);
        }
    }
    if (fd_invoke(chosen, flags, nullptr) != 0) abort(ev, "tevent_common_invoke_fd_handler() failed");
}

int timeout_ms_from(int64_t usec) {
    if (usec < 0) return -1;
    // Round up: waking before the deadline only costs another iteration.
    int64_t ms = (usec + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

// Asks the poller for ready descriptors, waiting up to timeout_us.  It
// first looks without waiting: a wait with a deadline makes the kernel read
// its clock twice (to set the deadline and its slack) even when a
// descriptor is ready and nothing sleeps, which a busy loop pays on every
// iteration.  A look that finds nothing costs a system call of its own, so
// looks that keep finding nothing are made rarer (backoff.hpp).
int wait_ready(Backend *b, int64_t timeout_us) {
    if (timeout_us != 0 && b->look_first.worth_trying()) {
        int n = b->poller->wait(b, 0);
        if (n != 0) {
            if (n > 0) b->look_first.succeeded();
            return n;
        }
        b->look_first.failed();
    }
    return b->poller->wait(b, timeout_ms_from(timeout_us));
}

int backend_loop_once(tevent_context *ev, const char *) {
    Backend *b = ev->backend;
    if (b == nullptr) {
        errno = EINVAL;
        return -1;
    }
    check_fork(b);

    if (ev->signals != nullptr && sig::check(ev) != 0) return 0;
    if (ev->threads != nullptr) thr::activate(ev);
    if (!ev->immediates.empty() && immediate_loop_one(ev)) return 0;

    TimerStep step = timer_step(ev);
    if (step.ran) return 0;
    // Polling mode: nothing may be waited for.
    bool polling = step.timeout_us == 0 && ev->timers.top() == nullptr;

    trace_point(ev, TEVENT_TRACE_BEFORE_WAIT);
    // Other threads only poke a loop that announced its sleep (threads.cpp,
    // "Sleeping and waking"), after a short spin when they are talkative.
    // Work found then ends the wait at once, as a poke would have: the
    // descriptors are still looked at, without blocking, so that a steady
    // stream of messages cannot starve them; unless the wakeup descriptor
    // is the only one (it would only be drained).
    bool announced = ev->threads != nullptr && step.timeout_us != 0;
    bool work_arrived = announced && thr::wait_begin(ev, &step.timeout_us);
    int n = 0;
    if (!work_arrived || user_fd_count(ev) != 0) {
        n = wait_ready(b, work_arrived ? 0 : step.timeout_us);
    }
    int err = n < 0 ? errno : 0;
    if (announced) thr::wait_end(ev);
    trace_point(ev, TEVENT_TRACE_AFTER_WAIT);

    if (n < 0) {
        b->nready = 0;
        if (err == EINTR) {
            if (ev->signals != nullptr) sig::check(ev);
            return 0;
        }
        if (b->fallback_to_poll && b->poller == &kEpollPoller) {
            switch_to_poll(b);
            return 0;
        }
        debug(ev, TEVENT_DEBUG_FATAL, "%s: wait failed: %s\n", b->poller->name, strerror(err));
        errno = err;
        return -1;
    }
    if (n == 0) {
        b->nready = 0;
        // Woken by other threads: their work runs in the next iteration.
        if (work_arrived) return 0;
        if (polling) {
            errno = EAGAIN;
            return -1;
        }
        // Woken by the deadline: run the timer that is now due.
        timer_step(ev);
        return 0;
    }
    dispatch(b);
    return 0;
}

// ---- lifetime ----------------------------------------------------------------

int backend_open(tevent_context *ev, const Poller *poller, bool fallback) {
    auto *b = static_cast<Backend *>(malloc(sizeof(Backend)));
    if (b == nullptr) {
        errno = ENOMEM;
        return -1;
    }
    new (b) Backend{};
    b->ev = ev;
    b->poller = poller;
    b->fallback_to_poll = fallback;
    b->pid = cached_getpid();
    b->epfd = -1;
    if (!b->reserve_ready(1)) {
        free(b);
        errno = ENOMEM;
        return -1;
    }
    int err = poller->open(b);
    if (err != 0) {
        free(b->ready_fds);
        free(b);
        errno = err;
        return -1;
    }
    ev->backend = b;
    return 0;
}

int epoll_context_init(tevent_context *ev) { return backend_open(ev, &kEpollPoller, false); }
int poll_context_init(tevent_context *ev) { return backend_open(ev, &kPollPoller, false); }
int standard_context_init(tevent_context *ev) {
    if (backend_open(ev, &kEpollPoller, true) == 0) return 0;
    return backend_open(ev, &kPollPoller, false);
}

// The ops members are the common helpers themselves: they keep the backend
// in step, so a custom backend derived from these tables still works.
#define TEV_BUILTIN_OPS(init)                    \
    {                                            \
        .context_init = init,                    \
        .add_fd = fd_add,                        \
        .set_fd_close_fn = fd_set_close_fn,      \
        .get_fd_flags = fd_get_flags,            \
        .set_fd_flags = fd_set_flags,            \
        .add_timer = timer_add,                  \
        .schedule_immediate = immediate_schedule, \
        .add_signal = sig::add,                  \
        .loop_once = backend_loop_once,          \
        .loop_wait = loop_wait,                  \
    }

const tevent_ops kEpollOps = TEV_BUILTIN_OPS(epoll_context_init);
const tevent_ops kPollOps = TEV_BUILTIN_OPS(poll_context_init);
const tevent_ops kPollMtOps = TEV_BUILTIN_OPS(poll_context_init);
const tevent_ops kStandardOps = TEV_BUILTIN_OPS(standard_context_init);

}  // namespace

void backend_close(tevent_context *ev) {
    Backend *b = ev->backend;
    if (b == nullptr) return;
    ev->backend = nullptr;
    // Events were detached before; only the kernel state and tables remain.
    b->poller->close(b);
    free(b->slots);
    free(b->ready_fds);
    free(b->pfds);
    b->~Backend();
    free(b);
}

// In the reference's order; the list shows the newest first.
const BuiltinBackend kBuiltinBackends[4] = {
    {"poll", &kPollOps},
    {"poll_mt", &kPollMtOps},
    {"epoll", &kEpollOps},
    {"standard", &kStandardOps},
};

}  // namespace tev

// The dispatch core shared by the built-in backends, and their ops tables.
// The phases of one iteration are in loop.cpp (builtin_loop_once); this
// file keeps the descriptor table in step with the kernel, waits, and
// picks the fd handler to run.  Which fd handler runs when several are ready is upstream 0.17's
// multiplex rule, in the poller's serving order (Poller::order): the first
// event that wants some of what is ready runs and moves behind the others,
// so that events on one descriptor, and busy descriptors, take turns.
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <new>

#include "backend.hpp"
#include "context.hpp"
#include "signal.hpp"

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
        grown[i].poller_slot = -1;
        grown[i].next_stale = kNotStale;
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

// Where a new event joins its descriptor's chain (Poller::order).
void chain_add(const Poller *p, FdSlot &s, tevent_fd *fde) {
    if (p->order == Order::kContextList) {
        s.chain.push_front(fde);
    } else {
        s.chain.push_back(fde);
    }
}

constexpr uint16_t kAllFlags = TEVENT_FD_READ | TEVENT_FD_WRITE | TEVENT_FD_ERROR;

int sync_slot(Backend *b, int fd, bool force = false);

// Every fd event on fd is taken out of the context: the descriptor is not
// open any more (closed behind the loop's back).  Reported, not retried, so
// the loop does not spin on it.
void disable_slot(Backend *b, int fd, const char *why) {
    FdSlot *s = b->slot(fd);
    if (s == nullptr) return;
    tevent_fd *fde = s->chain.take_all();
    s->watching = 0;
    b->poller->update(b, fd, s);
    while (fde != nullptr) {
        tevent_fd *next = fde->fd_next;
        fde->fd_prev = fde->fd_next = nullptr;
        fde->registered = false;
        debug(b->ev, TEVENT_DEBUG_ERROR, "%s on fde[%p] fd[%d] - disabling\n", why, static_cast<void *>(fde), fd);
        fd_disarm(fde);
        fde = next;
    }
}

// Gives every watched descriptor to a fresh kernel state of `to` (after
// fork(), or "standard" moving to poll() after epoll failed).
void reopen_poller(Backend *b, const Poller *to) {
    const Order before = b->poller->order;
    b->poller->close(b);
    for (size_t fd = 0; fd < b->nslots; fd++) b->slots[fd].poller_slot = -1;
    b->poller = to;
    if (to->open(b) != 0) {
        b->poller = b->fallback != nullptr ? b->fallback : to->reopen_fallback;
        if (b->poller->open(b) != 0) abort(b->ev, "tevent: cannot reopen the backend's poller");
    }
    if (b->poller == b->fallback) b->fallback = nullptr;
    if (b->poller->order != before) {
        // The chains follow the new poller's order: rebuild them from the
        // context's list (newest first).
        for (tevent_fd *fde = b->ev->fd_events.tail; fde != nullptr; fde = fde->prev) {
            FdSlot *s = fde->registered ? b->slot(fde->fd) : nullptr;
            if (s == nullptr) continue;
            s->chain.remove(fde);
            chain_add(b->poller, *s, fde);
        }
    }
    for (size_t fd = 0; fd < b->nslots; fd++) {
        if (b->slots[fd].watching != 0) sync_slot(b, static_cast<int>(fd), true);
    }
}

void switch_to_fallback(Backend *b) {
    debug(b->ev, TEVENT_DEBUG_WARNING, "tevent: %s failed, falling back to %s\n", b->poller->name,
          b->fallback->name);
    reopen_poller(b, b->fallback);
}

void handle_update_error(Backend *b, int fd, int err) {
    if (err == EBADF) {
        disable_slot(b, fd, "descriptor closed behind the loop's back (EBADF)");
        return;
    }
    if (b->fallback != nullptr) {
        // e.g. EPERM: regular files cannot be watched by epoll.
        switch_to_fallback(b);
        return;
    }
    debug(b->ev, TEVENT_DEBUG_ERROR, "%s: cannot watch fd[%d]: %s\n", b->poller->name, fd, strerror(err));
    disable_slot(b, fd, "unwatchable descriptor");
}

uint16_t wanted(const FdSlot &s) {
    uint16_t want = 0;
    for (tevent_fd *fde = s.chain.head; fde != nullptr; fde = fde->fd_next) want |= fde->flags & kAllFlags;
    return want;
}

// Brings the kernel in line with what fd's events want; `force` asks again
// even when that did not change (the number may name a new descriptor).
// Returns ENOMEM when the poller could not grow its table: nothing changed
// (the poller checks before it touches anything), so tevent_add_fd can fail
// as documented instead of returning an event that never fires.
//
// A poller whose updates are system calls (defers_updates) gets them just
// before the next wait, as libuv does: the slot joins the stale list and
// backend_apply_updates() compares again then.  Only a descriptor that
// nobody wants any more leaves the kernel at once: the caller may close it
// next, and the kernel cannot be told about a closed number (its
// registration would outlive it wherever the descriptor is shared).
int sync_slot(Backend *b, int fd, bool force) {
    FdSlot *s = b->slot(fd);
    if (s == nullptr) return 0;
    uint16_t want = wanted(*s);
    if (b->poller->defers_updates && want != 0) {
        s->ask_again |= force;
        if (s->next_stale == kNotStale) {
            s->next_stale = b->stale_head;
            b->stale_head = fd;
        }
        return 0;
    }
    if (want == s->watching && !force) return 0;
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

}  // namespace

bool backend_apply_updates(Backend *b) {
    size_t events = b->ev->fd_events.count;
    while (b->stale_head >= 0) {
        int fd = b->stale_head;
        FdSlot &s = b->slots[fd];
        b->stale_head = s.next_stale;
        s.next_stale = kNotStale;
        bool force = s.ask_again;
        s.ask_again = false;
        uint16_t want = wanted(s);
        if (want == s.watching && !force) continue;
        uint16_t before = s.watching;
        s.watching = want;
        int err = b->poller->update(b, fd, &s);
        if (err == ENOMEM) s.watching = before;  // (nothing changed)
        // Too late to fail the call that wanted it: reported as any other
        // descriptor the poller cannot watch.
        if (err != 0) handle_update_error(b, fd, err);
    }
    return b->ev->fd_events.count != events;
}

// After fork() a child whose poller's kernel state is shared with the
// parent (an epoll set) gets its own, and its own wakeup descriptor.
__attribute__((noinline)) void backend_after_fork(Backend *b) {
    pid_t pid = cached_getpid();
    if (b->pid == pid) return;
    b->pid = pid;
    if (b->poller->shared_across_fork) reopen_poller(b, b->poller);
    wakeup_reopen(b->ev);
}

bool backend_fd_attach(Backend *b, tevent_fd *fde) {
    if (!b->reserve_slot(fde->fd)) return false;
    backend_check_fork(b);
    FdSlot &slot = b->slots[fde->fd];
    // Events already on this number may belong to a descriptor closed
    // behind the loop's back, whose number a new one (this one) reuses:
    // the kernel forgot the old one, so it is asked again.
    bool shared = !slot.chain.empty();
    chain_add(b->poller, slot, fde);
    fde->registered = true;
    if (sync_slot(b, fde->fd, shared && fde->flags != 0) == ENOMEM) {
        slot.chain.remove(fde);
        fde->registered = false;
        return false;
    }
    return true;
}

void backend_fd_detach(Backend *b, tevent_fd *fde) {
    FdSlot *s = b->slot(fde->fd);
    fde->registered = false;
    if (s == nullptr) return;
    s->chain.remove(fde);
    backend_check_fork(b);
    sync_slot(b, fde->fd);
}

void backend_fd_update(Backend *b, tevent_fd *fde) {
    backend_check_fork(b);
    sync_slot(b, fde->fd);
}

// ---- dispatch --------------------------------------------------------------

namespace {

// The flags to call fde's handler with, given its descriptor's readiness;
// 0 for none.  An error or hang-up goes to events that read (as READ: the
// read() reports it) and to those that asked for TEVENT_FD_ERROR (as
// ERROR), never to an event that only writes.
uint16_t flags_for(const tevent_fd *fde, uint8_t ready) {
    uint16_t want = fde->flags;
    uint16_t flags = 0;
    if (ready & kReadyErr) {
        if ((want & (TEVENT_FD_READ | TEVENT_FD_ERROR)) == 0) return 0;
        flags |= want & (TEVENT_FD_READ | TEVENT_FD_ERROR);
    }
    if ((ready & kReadyIn) && (want & TEVENT_FD_READ)) flags |= TEVENT_FD_READ;
    if ((ready & kReadyOut) && (want & TEVENT_FD_WRITE)) flags |= TEVENT_FD_WRITE;
    return flags;
}

// Before anything is chosen on a descriptor in error: events that only
// write stop asking for writability, as with select() (errors are reported
// to readers), or the loop would spin on the error.  Their flags change
// directly, as in the reference.  May disable the slot (EBADF).
void quiet_writers(Backend *b, int fd) {
    FdSlot *s = b->slot(fd);
    if (s == nullptr || (s->ready & kReadyErr) == 0) return;
    bool stripped = false;
    for (tevent_fd *fde = s->chain.head; fde != nullptr; fde = fde->fd_next) {
        if ((fde->flags & (TEVENT_FD_READ | TEVENT_FD_ERROR)) == 0 && (fde->flags & TEVENT_FD_WRITE)) {
            fde->flags &= ~TEVENT_FD_WRITE;
            stripped = true;
        }
    }
    if (stripped) sync_slot(b, fd);
}

// The first event in fd's chain that wants some of what is ready.
tevent_fd *select_in_chain(FdSlot *s, uint16_t *flags_out) {
    for (tevent_fd *fde = s != nullptr ? s->chain.head : nullptr; fde != nullptr; fde = fde->fd_next) {
        uint16_t flags = flags_for(fde, s->ready);
        if (flags != 0) {
            *flags_out = flags;
            return fde;
        }
    }
    return nullptr;
}

// The first event in the context's list on a ready descriptor that wants
// some of what is ready (several descriptors ready at once).
tevent_fd *select_in_context(Backend *b, uint16_t *flags_out) {
    for (tevent_fd *fde = b->ev->fd_events.head; fde != nullptr; fde = fde->next) {
        FdSlot *s = fde->registered ? b->slot(fde->fd) : nullptr;
        if (s == nullptr || s->ready == 0) continue;
        uint16_t flags = flags_for(fde, s->ready);
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

}  // namespace

// Runs one fd handler for the descriptors the poller reported (upstream
// 0.17's multiplex selection): the first matching event in serving order
// runs, and moves behind the others.
void backend_dispatch(Backend *b) {
    tevent_context *ev = b->ev;
    for (size_t i = 0; i < b->nready; i++) {
        int fd = b->ready_fds[i];
        FdSlot *s = b->slot(fd);
        if (s == nullptr) continue;
        if (s->ready & kReadyNval) {
            s->ready = 0;
            disable_slot(b, fd, "POLLNVAL (descriptor closed behind the loop's back)");
            continue;
        }
        if (s->ready & kReadyErr) quiet_writers(b, fd);
    }

    uint16_t flags = 0;
    tevent_fd *chosen = b->nready == 1 ? select_in_chain(b->slot(b->ready_fds[0]), &flags)
                        : b->nready > 1 ? select_in_context(b, &flags)
                                        : nullptr;
    clear_ready(b);
    if (chosen == nullptr) return;

    if (b->poller->order == Order::kContextList) ev->fd_events.demote(chosen);
    b->slot(chosen->fd)->chain.demote(chosen);
    if (fd_invoke(chosen, flags, nullptr) != 0) abort(ev, "tevent_common_invoke_fd_handler() failed");
}

bool backend_recover(Backend *b) {
    b->nready = 0;
    if (b->fallback == nullptr) return false;
    switch_to_fallback(b);
    return true;
}

namespace {

// ---- lifetime ----------------------------------------------------------------

int backend_open(tevent_context *ev, const Poller *poller, const Poller *fallback) {
    auto *b = static_cast<Backend *>(malloc(sizeof(Backend)));
    if (b == nullptr) {
        errno = ENOMEM;
        return -1;
    }
    new (b) Backend{};
    b->ev = ev;
    b->poller = poller;
    b->fallback = fallback;
    b->pid = cached_getpid();
    b->stale_head = -1;
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

int epoll_context_init(tevent_context *ev) { return backend_open(ev, &kEpollPoller, nullptr); }
int poll_context_init(tevent_context *ev) { return backend_open(ev, &kPollPoller, nullptr); }
int standard_context_init(tevent_context *ev) {
    if (backend_open(ev, &kEpollPoller, &kPollPoller) == 0) return 0;
    return backend_open(ev, &kPollPoller, nullptr);
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
        .add_signal = signal_add,                  \
        .loop_once = builtin_loop_once,          \
        .loop_wait = loop_wait,                  \
    }

const tevent_ops kEpollOps = TEV_BUILTIN_OPS(epoll_context_init);
const tevent_ops kPollOps = TEV_BUILTIN_OPS(poll_context_init);
const tevent_ops kPollMtOps = TEV_BUILTIN_OPS(poll_context_init);
const tevent_ops kStandardOps = TEV_BUILTIN_OPS(standard_context_init);

}  // namespace

bool loop_shared_between_threads(const tevent_context *ev) {
    // poll_mt exists for loops that other threads add events to (under a
    // lock of their own, as upstream's threaded_poll_mt test does); custom
    // backends make their own rules.
    return ev->ops == &kPollMtOps || ev->backend == nullptr;
}

void backend_close(tevent_context *ev) {
    Backend *b = ev->backend;
    if (b == nullptr) return;
    ev->backend = nullptr;
    // Events were detached before; only the kernel state and tables remain.
    b->poller->close(b);
    free(b->slots);
    free(b->ready_fds);
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

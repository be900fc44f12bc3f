// The built-in backends ("epoll", "poll", "poll_mt", "standard") share one
// dispatch core (backend.cpp); they differ only in the Poller that asks the
// kernel which descriptors are ready.
//
// Per context the core keeps a table indexed by descriptor number.  Each
// slot chains the fd events on that descriptor and remembers what the
// kernel was asked to watch (the union of their flags).  The poller reports
// readiness into the slots; the core then picks the handler to run.  The
// core knows no poller by name: a poller owns its kernel state and states
// how it differs (ordering, fork) in its capabilities below.
#pragma once

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "backoff.hpp"
#include "context.hpp"

namespace tev {

// Readiness as the core sees it, independent of epoll/poll bit values.
enum Ready : uint8_t {
    kReadyIn = 1,
    kReadyOut = 2,
    kReadyErr = 4,   // error, hang-up, or (when asked for) peer hang-up
    kReadyNval = 8,  // the descriptor is not open (poll() says so)
};

// The fd events on one descriptor, in the poller's serving order
// (Poller::order).
using FdChain = IList<tevent_fd, &tevent_fd::fd_prev, &tevent_fd::fd_next>;

// FdSlot::next_stale when the slot is not in Backend's list of stale slots.
constexpr int32_t kNotStale = -2;

struct FdSlot {
    FdChain chain;
    uint16_t watching;    // TEVENT_FD_* flags the kernel is watching for
    uint8_t ready;        // Ready bits from the last wait, during dispatch
    bool ask_again;       // stale: asking the kernel again even if unchanged
    int32_t poller_slot;  // the poller's own per-descriptor datum; -1: none
    int32_t next_stale;   // the next stale descriptor, -1 for none; or kNotStale
};

struct Backend;

// How a poller serves several ready events, as upstream's backend of the
// same kind does (0.17, "multiplex"): either way the event that ran moves
// behind the other events on its descriptor, so each of them gets its turn.
enum class Order : uint8_t {
    // Several ready descriptors per wait, served in the context's list of
    // fd events (newest first); the event that ran also moves to the end of
    // that list.  A descriptor's chain follows the list's order.
    kContextList,
    // One ready descriptor per wait (the kernel rotates descriptors); its
    // events are chained oldest first.
    kPerDescriptor,
};

struct Poller {
    const char *name;
    Order order;
    // The kernel state is shared with the parent after fork(): the child
    // must build its own.
    bool shared_across_fork;
    // Opened instead when this poller cannot be opened again (after fork,
    // or a move to it) and the backend has no fallback of its own: a
    // poller without kernel state, which can fail only for memory.
    const Poller *reopen_fallback;
    // Each update is a system call: the core gathers them and makes them
    // just before the wait (sync_slot() in backend.cpp), so that changes
    // which cancel out before it (flags set and reset, an event added and
    // freed) cost none.
    bool defers_updates;
    int (*open)(Backend *b);  // sets b->poller_state; 0 or an errno value
    void (*close)(Backend *b);
    // Brings the kernel in line with slot.watching for descriptor fd.
    // 0 or an errno value (EBADF: the descriptor was closed behind our
    // back; ENOMEM: nothing changed).
    int (*update)(Backend *b, int fd, FdSlot *slot);
    // Sleeps up to timeout_ms (-1: no limit).  Ready descriptors get their
    // slot's `ready` bits set and are listed in b->ready_fds.  Returns the
    // number listed, or -1 with errno.
    int (*wait)(Backend *b, int timeout_ms);
};

extern const Poller kEpollPoller;
extern const Poller kPollPoller;

struct Backend {
    tevent_context *ev;
    const Poller *poller;
    void *poller_state;       // owned by the poller (open/close)
    const Poller *fallback;   // "standard": used when the poller fails; or nullptr
    pid_t pid;                // process that opened the kernel state

    FdSlot *slots;  // malloc()ed, indexed by descriptor
    size_t nslots;
    // Slots whose kernel update waits for the next wait (defers_updates),
    // chained through FdSlot::next_stale; -1: none.
    int32_t stale_head;

    // Whether a busy loop looks for ready descriptors before it waits
    // (wait_ready() in backend.cpp).
    Backoff look_first;

    // Filled by Poller::wait().
    int *ready_fds;
    size_t nready;
    size_t ready_cap;

    FdSlot *slot(int fd) { return (fd >= 0 && static_cast<size_t>(fd) < nslots) ? &slots[fd] : nullptr; }
    bool reserve_slot(int fd);
    bool reserve_ready(size_t n);
};

// Called by fd.cpp for events of contexts with a built-in backend.
bool backend_fd_attach(Backend *b, tevent_fd *fde);  // false: out of memory
void backend_fd_detach(Backend *b, tevent_fd *fde);
void backend_fd_update(Backend *b, tevent_fd *fde);  // its flags changed

// For the phases of one iteration (loop.cpp).
// After fork(): new kernel state for the child where the parent's is shared.
void backend_after_fork(Backend *b);
// Runs on every iteration and before every change: one load and compare
// while the process has not forked (the cache is 0 in a child until
// someone asks again).
inline void backend_check_fork(Backend *b) {
    if (__builtin_expect(b->pid == g_cached_pid.load(std::memory_order_relaxed), 1)) return;
    backend_after_fork(b);
}
// Waits up to timeout_us (-1: no limit, 0: only looks) for ready
// descriptors; their number, or -1 with errno.  Inline: once per iteration.
inline int timeout_ms_from(int64_t usec) {
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
// The deferred kernel updates, made now; true if that took fd events out
// of the context (a descriptor closed behind the loop's back).
bool backend_apply_updates(Backend *b);

inline int backend_wait(Backend *b, int64_t timeout_us) {
    // Events taken out may have been the last to wait for: no blocking then
    // (the iteration ends, and the caller looks again).
    if (b->stale_head >= 0 && backend_apply_updates(b)) timeout_us = 0;
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

// After a failed wait: true when the backend moved to its fallback poller
// (the iteration is over), false when there is none.
bool backend_recover(Backend *b);
// Runs one fd handler for what the last wait reported.
void backend_dispatch(Backend *b);
// The ops' loop_once of the built-in backends (loop.cpp).
int builtin_loop_once(tevent_context *ev, const char *location);

// Releases the backend's kernel state and tables (events must be detached).
void backend_close(tevent_context *ev);

// "poll", "poll_mt", "epoll", "standard", in the order they are registered.
struct BuiltinBackend {
    const char *name;
    const tevent_ops *ops;
};
extern const BuiltinBackend kBuiltinBackends[4];

}  // namespace tev

// The epoll poller: one epoll registration per descriptor, carrying the
// union of what its fd events want.  One ready descriptor per wait, as in
// the reference: the dispatch core runs one handler per iteration anyway,
// and level-triggered epoll rotates ready descriptors by itself.
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "backend.hpp"

namespace tev {
namespace {

// FdSlot::poller_slot: kInSet once the descriptor is in the epoll set.
constexpr int32_t kInSet = 0;

struct EpollState {
    int epfd;
};

int &epfd_of(Backend *b) { return static_cast<EpollState *>(b->poller_state)->epfd; }

uint32_t epoll_mask(uint16_t watching) {
    uint32_t m = 0;
    if (watching & TEVENT_FD_READ) m |= EPOLLIN;
    if (watching & TEVENT_FD_WRITE) m |= EPOLLOUT;
    // A peer's shutdown counts as a hang-up for those who asked for errors.
    if (watching & TEVENT_FD_ERROR) m |= EPOLLRDHUP;
    return m;
}

// The epoll descriptor is made when the first descriptor is watched, not
// when the context is: many contexts never watch one (ldb makes a context
// per request and only runs timers and immediates in it), and creating
// and closing an epoll instance is a good part of such a context's cost.
int epoll_open(Backend *b) {
    auto *st = static_cast<EpollState *>(malloc(sizeof(EpollState)));
    if (st == nullptr) return ENOMEM;
    st->epfd = -1;
    b->poller_state = st;
    return 0;
}

void epoll_close(Backend *b) {
    if (b->poller_state == nullptr) return;
    if (epfd_of(b) >= 0) close(epfd_of(b));
    free(b->poller_state);
    b->poller_state = nullptr;
}

// The epoll descriptor, made on first use; -1 with errno when it cannot be.
int epfd_made(Backend *b) {
    int &epfd = epfd_of(b);
    if (epfd < 0) epfd = epoll_create1(EPOLL_CLOEXEC);
    return epfd;
}

int epoll_update(Backend *b, int fd, FdSlot *slot) {
    bool in_set = slot->poller_slot == kInSet;
    if (slot->watching == 0 && !in_set) return 0;
    int epfd = epfd_made(b);
    if (epfd < 0) return errno;
    if (slot->watching == 0) {
        if (in_set) {
            struct epoll_event unused = {};
            // ENOENT/EBADF: the kernel forgot it already (closed descriptor).
            epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &unused);
            slot->poller_slot = -1;
        }
        return 0;
    }
    struct epoll_event e = {};
    e.events = epoll_mask(slot->watching);
    e.data.fd = fd;
    int op = in_set ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    int ret = epoll_ctl(epfd, op, fd, &e);
    if (ret != 0 && op == EPOLL_CTL_MOD && errno == ENOENT) {
        // Closed and reopened under the same number since it was added.
        ret = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e);
    } else if (ret != 0 && op == EPOLL_CTL_ADD && errno == EEXIST) {
        ret = epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &e);
    }
    if (ret != 0) {
        slot->poller_slot = -1;
        return errno;
    }
    slot->poller_slot = kInSet;
    return 0;
}

int epoll_wait_ready(Backend *b, int timeout_ms) {
    // Nothing was ever watched: the wait is a sleep (what epoll_wait() on
    // an empty set does), interrupted by signals alike.
    if (epfd_of(b) < 0) return poll(nullptr, 0, timeout_ms);
    struct epoll_event e;
    int n = epoll_wait(epfd_of(b), &e, 1, timeout_ms);
    if (n <= 0) return n;
    int fd = e.data.fd;
    FdSlot *slot = b->slot(fd);
    if (slot == nullptr) return 0;
    uint8_t ready = 0;
    if (e.events & EPOLLIN) ready |= kReadyIn;
    if (e.events & EPOLLOUT) ready |= kReadyOut;
    if (e.events & (EPOLLERR | EPOLLHUP)) ready |= kReadyErr;
    if ((e.events & EPOLLRDHUP) && (slot->watching & TEVENT_FD_ERROR)) ready |= kReadyErr;
    if (ready == 0) return 0;
    slot->ready = ready;
    b->ready_fds[0] = fd;
    b->nready = 1;
    return 1;
}

}  // namespace

const Poller kEpollPoller = {
    .name = "epoll",
    .order = Order::kPerDescriptor,
    .shared_across_fork = true,
    .reopen_fallback = &kPollPoller,
    .defers_updates = true,
    .open = epoll_open,
    .close = epoll_close,
    .update = epoll_update,
    .wait = epoll_wait_ready,
};

}  // namespace tev

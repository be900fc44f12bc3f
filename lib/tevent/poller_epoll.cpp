// The epoll poller: one epoll registration per descriptor, carrying the
// union of what its fd events want.  One ready descriptor per wait, as in
// the reference: the dispatch core runs one handler per iteration anyway,
// and level-triggered epoll rotates ready descriptors by itself.
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "backend.hpp"

namespace tev {
namespace {

uint32_t epoll_mask(uint16_t watching) {
    uint32_t m = 0;
    if (watching & TEVENT_FD_READ) m |= EPOLLIN;
    if (watching & TEVENT_FD_WRITE) m |= EPOLLOUT;
    // A peer's shutdown counts as a hang-up for those who asked for errors.
    if (watching & TEVENT_FD_ERROR) m |= EPOLLRDHUP;
    return m;
}

int epoll_open(Backend *b) {
    b->epfd = epoll_create1(EPOLL_CLOEXEC);
    return b->epfd < 0 ? errno : 0;
}

void epoll_close(Backend *b) {
    if (b->epfd >= 0) close(b->epfd);
    b->epfd = -1;
}

int epoll_update(Backend *b, int fd, FdSlot *slot) {
    if (slot->watching == 0) {
        if (slot->in_kernel) {
            struct epoll_event unused = {};
            // ENOENT/EBADF: the kernel forgot it already (closed descriptor).
            epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, &unused);
            slot->in_kernel = false;
        }
        return 0;
    }
    struct epoll_event e = {};
    e.events = epoll_mask(slot->watching);
    e.data.fd = fd;
    int op = slot->in_kernel ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    int ret = epoll_ctl(b->epfd, op, fd, &e);
    if (ret != 0 && op == EPOLL_CTL_MOD && errno == ENOENT) {
        // Closed and reopened under the same number since it was added.
        ret = epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &e);
    } else if (ret != 0 && op == EPOLL_CTL_ADD && errno == EEXIST) {
        ret = epoll_ctl(b->epfd, EPOLL_CTL_MOD, fd, &e);
    }
    if (ret != 0) {
        slot->in_kernel = false;
        return errno;
    }
    slot->in_kernel = true;
    return 0;
}

int epoll_wait_ready(Backend *b, int timeout_ms) {
    struct epoll_event e;
    int n = epoll_wait(b->epfd, &e, 1, timeout_ms);
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
    .open = epoll_open,
    .close = epoll_close,
    .update = epoll_update,
    .wait = epoll_wait_ready,
};

}  // namespace tev

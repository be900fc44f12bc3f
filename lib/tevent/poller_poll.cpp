// The poll() poller: one pollfd per watched descriptor (the union of what
// its fd events want), kept dense by moving the last entry into a hole.
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "backend.hpp"

namespace tev {
namespace {

short poll_mask(uint16_t watching) {
    short m = 0;
    if (watching & TEVENT_FD_READ) m |= POLLIN;
    if (watching & TEVENT_FD_WRITE) m |= POLLOUT;
    if (watching & TEVENT_FD_ERROR) m |= POLLRDHUP;
    return m;
}

int poll_open(Backend *) { return 0; }

void poll_close(Backend *b) {
    free(b->pfds);
    b->pfds = nullptr;
    b->npfds = b->pfds_cap = 0;
    for (size_t i = 0; i < b->nslots; i++) b->slots[i].poll_index = -1;
}

int poll_update(Backend *b, int fd, FdSlot *slot) {
    if (slot->watching == 0) {
        int32_t i = slot->poll_index;
        if (i < 0) return 0;
        slot->poll_index = -1;
        size_t last = b->npfds - 1;
        if (static_cast<size_t>(i) != last) {
            b->pfds[i] = b->pfds[last];
            b->slots[b->pfds[i].fd].poll_index = i;
        }
        b->npfds = last;
        return 0;
    }
    if (slot->poll_index < 0) {
        if (b->npfds == b->pfds_cap) {
            size_t cap = b->pfds_cap == 0 ? 16 : b->pfds_cap * 2;
            auto *grown = static_cast<struct pollfd *>(realloc(b->pfds, cap * sizeof(struct pollfd)));
            if (grown == nullptr) return ENOMEM;
            b->pfds = grown;
            b->pfds_cap = cap;
        }
        slot->poll_index = static_cast<int32_t>(b->npfds++);
        b->pfds[slot->poll_index].fd = fd;
    }
    struct pollfd &p = b->pfds[slot->poll_index];
    p.events = poll_mask(slot->watching);
    p.revents = 0;
    return 0;
}

int poll_wait_ready(Backend *b, int timeout_ms) {
    int n = poll(b->pfds, b->npfds, timeout_ms);
    if (n <= 0) return n;
    if (!b->reserve_ready(static_cast<size_t>(n))) {
        errno = ENOMEM;
        return -1;
    }
    size_t found = 0;
    for (size_t i = 0; i < b->npfds && found < static_cast<size_t>(n); i++) {
        const struct pollfd &p = b->pfds[i];
        if (p.revents == 0) continue;
        FdSlot &slot = b->slots[p.fd];
        uint8_t ready = 0;
        if (p.revents & POLLIN) ready |= kReadyIn;
        if (p.revents & POLLOUT) ready |= kReadyOut;
        if (p.revents & (POLLERR | POLLHUP)) ready |= kReadyErr;
        if ((p.revents & POLLRDHUP) && (slot.watching & TEVENT_FD_ERROR)) ready |= kReadyErr;
        if (p.revents & POLLNVAL) ready |= kReadyNval;
        if (ready == 0) continue;
        slot.ready = ready;
        b->ready_fds[found++] = p.fd;
    }
    b->nready = found;
    return static_cast<int>(found);
}

}  // namespace

const Poller kPollPoller = {
    .name = "poll",
    .open = poll_open,
    .close = poll_close,
    .update = poll_update,
    .wait = poll_wait_ready,
};

}  // namespace tev

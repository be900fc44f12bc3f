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

// The pollfd array poll() is given; FdSlot::poller_slot is the index of a
// descriptor's entry.
struct PollState {
    struct pollfd *pfds;  // malloc()ed
    size_t npfds;
    size_t pfds_cap;
};

PollState &state_of(Backend *b) { return *static_cast<PollState *>(b->poller_state); }

int poll_open(Backend *b) {
    auto *st = static_cast<PollState *>(calloc(1, sizeof(PollState)));
    if (st == nullptr) return ENOMEM;
    b->poller_state = st;
    return 0;
}

void poll_close(Backend *b) {
    if (b->poller_state == nullptr) return;
    free(state_of(b).pfds);
    free(b->poller_state);
    b->poller_state = nullptr;
}

int poll_update(Backend *b, int fd, FdSlot *slot) {
    PollState &st = state_of(b);
    if (slot->watching == 0) {
        int32_t i = slot->poller_slot;
        if (i < 0) return 0;
        slot->poller_slot = -1;
        size_t last = st.npfds - 1;
        if (static_cast<size_t>(i) != last) {
            st.pfds[i] = st.pfds[last];
            b->slots[st.pfds[i].fd].poller_slot = i;
        }
        st.npfds = last;
        return 0;
    }
    if (slot->poller_slot < 0) {
        if (st.npfds == st.pfds_cap) {
            size_t cap = st.pfds_cap == 0 ? 16 : st.pfds_cap * 2;
            auto *grown = static_cast<struct pollfd *>(realloc(st.pfds, cap * sizeof(struct pollfd)));
            if (grown == nullptr) return ENOMEM;
            st.pfds = grown;
            st.pfds_cap = cap;
        }
        slot->poller_slot = static_cast<int32_t>(st.npfds++);
        st.pfds[slot->poller_slot].fd = fd;
    }
    struct pollfd &p = st.pfds[slot->poller_slot];
    p.events = poll_mask(slot->watching);
    p.revents = 0;
    return 0;
}

int poll_wait_ready(Backend *b, int timeout_ms) {
    PollState &st = state_of(b);
    int n = poll(st.pfds, st.npfds, timeout_ms);
    if (n <= 0) return n;
    if (!b->reserve_ready(static_cast<size_t>(n))) {
        errno = ENOMEM;
        return -1;
    }
    size_t found = 0;
    for (size_t i = 0; i < st.npfds && found < static_cast<size_t>(n); i++) {
        const struct pollfd &p = st.pfds[i];
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
    .order = Order::kContextList,
    .shared_across_fork = false,
    .reopen_fallback = &kPollPoller,  // one more try
    .defers_updates = false,
    .open = poll_open,
    .close = poll_close,
    .update = poll_update,
    .wait = poll_wait_ready,
};

}  // namespace tev

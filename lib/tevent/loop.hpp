// The loop (loop.cpp): entry points and the "anything left to wait for?" question.
#pragma once

#include "layout.hpp"

namespace tev {

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

}  // namespace tev

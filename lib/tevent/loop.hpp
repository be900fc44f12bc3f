// The loop (loop.cpp): entry points and the "anything left to wait for?" question.
#pragma once

#include "layout.hpp"

namespace tev {

// ---- the loop (loop.cpp) -----------------------------------------------------
int loop_once(tevent_context *ev, const char *location);
int loop_wait(tevent_context *ev, const char *location);  // tevent_common_loop_wait
int loop_until(tevent_context *ev, bool (*finished)(void *), void *private_data, const char *location);
bool loop_have_events(tevent_context *ev);

// ev's fd events but its wakeup descriptor, which is plumbing, not work.
inline size_t user_fd_count(const tevent_context *ev) {
    size_t fds = ev->fd_events.count;
    if (ev->wakeup.fde != nullptr && ev->wakeup.fde->event_ctx == ev && fds > 0) fds--;
    return fds;
}

// tevent_context_set_wait_timeout(): the previous value.
uint32_t loop_set_wait_timeout(tevent_context *ev, uint32_t secs);
void loop_allow_nesting(tevent_context *ev);
void loop_set_nesting_hook(tevent_context *ev, tevent_nesting_hook hook, void *private_data);

}  // namespace tev

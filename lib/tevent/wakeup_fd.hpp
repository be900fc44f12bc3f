// The wakeup descriptor (wakeup_fd.cpp); see the contract in layout.hpp.
#pragma once

#include "layout.hpp"

namespace tev {

// ---- wakeup descriptor (wakeup_fd.cpp) ------------------------------------
int wakeup_init(tevent_context *ev);  // 0 or an errno value
int wakeup(tevent_context *ev);       // 0, or EINVAL without wakeup_init()
int wakeup_fd(int fd);                // async-signal-safe; 0
void wakeup_fini(tevent_context *ev);
// After fork: a fresh descriptor for the child (no-op when none existed).
int wakeup_reopen(tevent_context *ev);

}  // namespace tev

// The first check of the public calls that add an event through a
// context's ops (tevent_add_fd, tevent_add_timer, tevent_add_signal): the
// `_api` functions of fd.cpp, timer.cpp and signal.cpp.
#pragma once

#include <errno.h>

#include "thread_check.hpp"

namespace tev {

// True when the call must fail: ev is NULL (errno EINVAL), or another
// thread runs ev's loop (reported, naming fn).
inline bool add_refused(tevent_context *ev, const char *fn) {
    if (ev == nullptr) {
        errno = EINVAL;
        return true;
    }
    return threads::misused(ev, fn);
}

}  // namespace tev

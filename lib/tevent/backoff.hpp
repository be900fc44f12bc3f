// A shortcut worth taking only while it keeps paying off.
//
// The loop has two: spinning for cross-thread work before sleeping
// (threads.cpp) and looking for ready descriptors without a deadline before
// waiting with one (backend.cpp).  Each saves time when it succeeds and
// wastes some when it does not, and the caller cannot tell in advance.  So
// after each failure the next chances are let pass, twice as many as after
// the previous failure (up to kMaxSkip), and each success halves that: a
// shortcut that keeps failing costs little, and one that succeeds again is
// soon taken every time.
#pragma once

#include <stdint.h>

namespace tev {

class Backoff {
public:
    // Whether to take the shortcut this time (a chance let pass otherwise).
    bool worth_trying() {
        if (skip_ == 0) return true;
        skip_--;
        return false;
    }
    void succeeded() { backoff_ /= 2; }
    void failed() {
        backoff_ = backoff_ == 0 ? 1 : (backoff_ >= kMaxSkip / 2 ? kMaxSkip : backoff_ * 2);
        skip_ = backoff_;
    }

private:
    // A shortcut that could pay again is tried at least this often.
    static constexpr uint16_t kMaxSkip = 256;
    uint16_t backoff_ = 0;  // chances to let pass after the next failure
    uint16_t skip_ = 0;     // chances still to let pass
};

}  // namespace tev

// struct timeval arithmetic shared by the timers, the loop and the exported
// tevent_timeval_* helpers.  Times are normalised (0 <= tv_usec < 1e6).
#pragma once

#include <stdint.h>
#include <sys/time.h>

namespace tev {

constexpr int64_t kUsecPerSec = 1000000;

inline bool tv_is_zero(const struct timeval &t) { return t.tv_sec == 0 && t.tv_usec == 0; }

inline int tv_compare(const struct timeval &a, const struct timeval &b) {
    if (a.tv_sec != b.tv_sec) return a.tv_sec > b.tv_sec ? 1 : -1;
    if (a.tv_usec != b.tv_usec) return a.tv_usec > b.tv_usec ? 1 : -1;
    return 0;
}

inline struct timeval tv_now() {
    struct timeval t;
    gettimeofday(&t, nullptr);
    return t;
}

// b - a, or zero when b is not after a.
inline struct timeval tv_until(const struct timeval &a, const struct timeval &b) {
    struct timeval r = {0, 0};
    if (tv_compare(a, b) >= 0) return r;
    r.tv_sec = b.tv_sec - a.tv_sec;
    r.tv_usec = b.tv_usec - a.tv_usec;
    if (r.tv_usec < 0) {
        r.tv_usec += kUsecPerSec;
        r.tv_sec -= 1;
    }
    return r;
}

inline struct timeval tv_add(const struct timeval &t, uint32_t secs, uint32_t usecs) {
    struct timeval r = t;
    r.tv_sec += secs;
    r.tv_usec += usecs;
    // Also normalises a tv_usec that was out of range on input.
    r.tv_sec += r.tv_usec / kUsecPerSec;
    r.tv_usec %= kUsecPerSec;
    return r;
}

inline struct timeval tv_set(uint32_t secs, uint32_t usecs) {
    struct timeval r;
    r.tv_sec = secs;
    r.tv_usec = usecs;
    return r;
}

// Microseconds in a (non-negative) interval, saturating.
inline int64_t tv_to_usec(const struct timeval &t) {
    if (t.tv_sec >= INT64_MAX / kUsecPerSec - 1) return INT64_MAX;
    return static_cast<int64_t>(t.tv_sec) * kUsecPerSec + t.tv_usec;
}

}  // namespace tev

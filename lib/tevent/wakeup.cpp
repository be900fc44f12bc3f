// tevent_wakeup_send/recv: a request that completes at a given time.
//
// It is an ordinary request whose end time is the wakeup time, so it
// "fails" with TIMED_OUT when due; that outcome is the success recv reports.
#include "req.hpp"

namespace tev {
namespace {

// Only its talloc name is visible (as the state's name).
struct tevent_wakeup_state {
    char unused;
};

}  // namespace

tevent_req *wakeup_send(TALLOC_CTX *mem_ctx, tevent_context *ev, struct timeval wakeup_time) {
    tevent_wakeup_state *state;
    tevent_req *req = req_create(mem_ctx, &state, sizeof(*state), "struct tevent_wakeup_state", "tevent_wakeup_send",
                                 TEV_LOCATION);
    if (req == nullptr) return nullptr;
    if (!req_set_endtime(req, ev, wakeup_time)) return req_post(req, ev);
    return req;
}

bool wakeup_recv(tevent_req *req) {
    enum tevent_req_state state;
    uint64_t error;
    // Anything but the timer firing (still running, finished some other
    // way, already received) is a failure.
    return req_is_error(req, &state, &error) && state == TEVENT_REQ_TIMED_OUT;
}

}  // namespace tev

// Call-flow tracking: a per-thread callback told when requests are created,
// cancelled, cleaned up, call back their parent, and pass through queues,
// together with the request's depth below its top-level ancestor.
//
// The depth itself lives in each request (set by req_create()); the
// notifications are raised inline from req.cpp and queue.cpp through
// call_depth_notify().
#include "req.hpp"

namespace tev {

constinit thread_local CallDepthHook g_call_depth_hook TEVR_TLS_MODEL{};

void call_depth_set_callback(tevent_call_depth_callback_t cb, void *private_data) {
    g_call_depth_hook = CallDepthHook{cb, private_data};
}

void call_depth_reset_from_req(tevent_req *req, const char *fname) {
    if (req == nullptr) return;
    call_depth_notify(TEVENT_CALL_FLOW_REQ_RESET, req, req->call_depth, fname);
}

}  // namespace tev

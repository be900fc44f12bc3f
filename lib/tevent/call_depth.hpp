// The call-flow hook (tevent_thread_call_depth_set_callback), apart from
// the request layer: the loop reports a RESET after every iteration
// without knowing about requests.
#pragma once

#include <stddef.h>

#include "tevent.h"

namespace tev {

struct CallDepthHook {
    tevent_call_depth_callback_t cb;
    void *private_data;
};

// Per thread, as documented: each thread registers its own callback.
// Initial-exec TLS: reached without __tls_get_addr, so the library does not
// need ld-linux.so (only libtalloc and libc); 16 bytes of static TLS are
// always available, even when libtevent is dlopen()ed.
#define TEVR_TLS_MODEL __attribute__((tls_model("initial-exec")))
extern constinit thread_local CallDepthHook g_call_depth_hook TEVR_TLS_MODEL;

// Inline so an unhooked thread pays one TLS load per notification point.
inline void call_depth_notify(enum tevent_thread_call_depth_cmd cmd, tevent_req *req, size_t depth,
                              const char *fname) {
    const CallDepthHook hook = g_call_depth_hook;
    if (hook.cb != nullptr) hook.cb(hook.private_data, cmd, req, depth, fname);
}

}  // namespace tev

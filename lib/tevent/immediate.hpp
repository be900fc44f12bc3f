// Immediates (immediate.cpp): FIFO, one per iteration.
#pragma once

#include "layout.hpp"

namespace tev {

// ---- immediates (immediate.cpp) --------------------------------------------
tevent_immediate *immediate_create(TALLOC_CTX *mem_ctx, const char *location);
// handler == nullptr only cancels.
void immediate_schedule(tevent_immediate *im, tevent_context *ev, tevent_immediate_handler_t handler,
                        void *private_data, const char *handler_name, const char *location);
void immediate_cancel(tevent_immediate *im);
// Context teardown: every queued immediate of ev, in queue order.
void immediate_cancel_all(tevent_context *ev);
int immediate_invoke(tevent_immediate *im, bool *removed);
bool immediate_loop_one(tevent_context *ev);  // runs the first pending one

// tevent_immediate_set_tag/get_tag (NULL: nothing, 0).
inline void immediate_set_tag(tevent_immediate *im, uint64_t tag) {
    if (im != nullptr) im->tag = tag;
}
inline uint64_t immediate_get_tag(const tevent_immediate *im) { return im != nullptr ? im->tag : 0; }

}  // namespace tev

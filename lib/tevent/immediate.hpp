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
int immediate_invoke(tevent_immediate *im, bool *removed);
bool immediate_loop_one(tevent_context *ev);  // runs the first pending one

}  // namespace tev

// The C ABI of cross-thread immediates: thin extern "C" entry points over
// lib/tevent/threads.cpp.
#include "tevent_export.hpp"

#include "tevent/api.hpp"
#include "tevent/context.hpp"
#include "tevent/threads.hpp"


TEVENT_API struct tevent_threaded_context *tevent_threaded_context_create(TALLOC_CTX *mem_ctx,
                                                                          struct tevent_context *ev) {
    return tev::threads_context_create(mem_ctx, ev);
}

TEVENT_API void _tevent_threaded_schedule_immediate(struct tevent_threaded_context *tctx, struct tevent_immediate *im,
                                                    tevent_immediate_handler_t handler, void *private_data,
                                                    const char *handler_name, const char *location) {
    tev::threads_schedule(tctx, im, handler, private_data, handler_name, location);
}

TEVENT_API void tevent_common_threaded_activate_immediate(struct tevent_context *ev) {
    tev::threads_activate_api(ev);
}

TEVENT_API struct tevent_thread_proxy *tevent_thread_proxy_create(struct tevent_context *dest_ev_ctx) {
    return tev::threads_proxy_create(dest_ev_ctx);
}

// pp_private_data is declared void * for historical reasons; it is the
// address of the caller's pointer to the data.
TEVENT_API void tevent_thread_proxy_schedule(struct tevent_thread_proxy *tp, struct tevent_immediate **pp_im,
                                             tevent_immediate_handler_t handler, void *pp_private_data) {
    tev::threads_proxy_schedule(tp, pp_im, handler, static_cast<void **>(pp_private_data));
}

// The C ABI of wrapper contexts: thin extern "C" entry points over
// lib/tevent/wrapper.cpp.
#define TEVENT_DEPRECATED 1  // struct tevent_wrapper_ops and these functions
#include "tevent_export.hpp"

#include "tevent/wrapper.hpp"


TEVENT_API struct tevent_context *_tevent_context_wrapper_create(struct tevent_context *main_ev, TALLOC_CTX *mem_ctx,
                                                                 const struct tevent_wrapper_ops *ops, void *pstate,
                                                                 size_t psize, const char *type,
                                                                 const char *location) {
    return tev::wrapper_create(main_ev, mem_ctx, ops, pstate, psize, type, location);
}

TEVENT_API bool tevent_context_is_wrapper(struct tevent_context *ev) { return tev::is_wrapper(ev); }

TEVENT_API bool _tevent_context_push_use(struct tevent_context *ev, const char *location) {
    return tev::push_use(ev, location);
}

TEVENT_API void _tevent_context_pop_use(struct tevent_context *ev, const char *location) {
    tev::pop_use(ev, location);
}

TEVENT_API bool tevent_context_same_loop(struct tevent_context *ev1, struct tevent_context *ev2) {
    return tev::same_loop(ev1, ev2);
}

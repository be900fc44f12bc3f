// The C ABI of signal events: thin extern "C" entry points over
// lib/tevent/signal.cpp.
#include "tevent_export.hpp"

#include "tevent/api.hpp"
#include "tevent/context.hpp"
#include "tevent/signal.hpp"


TEVENT_API struct tevent_signal *_tevent_add_signal(struct tevent_context *ev, TALLOC_CTX *mem_ctx, int signum,
                                                    int sa_flags, tevent_signal_handler_t handler,
                                                    void *private_data, const char *handler_name,
                                                    const char *location) {
    return tev::signal_add_api(ev, mem_ctx, signum, sa_flags, handler, private_data, handler_name, location);
}

TEVENT_API struct tevent_signal *tevent_common_add_signal(struct tevent_context *ev, TALLOC_CTX *mem_ctx,
                                                          int signum, int sa_flags, tevent_signal_handler_t handler,
                                                          void *private_data, const char *handler_name,
                                                          const char *location) {
    return tev::signal_add(ev, mem_ctx, signum, sa_flags, handler, private_data, handler_name, location);
}

TEVENT_API int tevent_common_check_signal(struct tevent_context *ev) { return tev::signal_check(ev); }

TEVENT_API int tevent_common_invoke_signal_handler(struct tevent_signal *se, int signum, int count, void *siginfo,
                                                   bool *removed) {
    return tev::signal_invoke(se, signum, count, siginfo, removed);
}

TEVENT_API void tevent_cleanup_pending_signal_handlers(struct tevent_signal *se) { tev::signal_cleanup_pending(se); }

TEVENT_API size_t tevent_num_signals(void) { return tev::kNumSignals; }

TEVENT_API size_t tevent_sa_info_queue_count(void) { return tev::kSignalInfoQueue; }

TEVENT_API bool tevent_signal_support(struct tevent_context *ev) { return tev::signal_support(ev); }

TEVENT_API void tevent_signal_set_tag(struct tevent_signal *se, uint64_t tag) { tev::signal_set_tag(se, tag); }

TEVENT_API uint64_t tevent_signal_get_tag(const struct tevent_signal *se) { return tev::signal_get_tag(se); }

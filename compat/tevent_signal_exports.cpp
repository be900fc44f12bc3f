// The C ABI of signal events: thin extern "C" entry points over
// lib/tevent/signal.cpp.
#include "tevent_export.hpp"

#include <errno.h>

#include "tevent/context.hpp"
#include "tevent/signal.hpp"
#include "tevent/thread_check.hpp"


TEVENT_API struct tevent_signal *_tevent_add_signal(struct tevent_context *ev, TALLOC_CTX *mem_ctx, int signum,
                                                    int sa_flags, tevent_signal_handler_t handler,
                                                    void *private_data, const char *handler_name,
                                                    const char *location) {
    if (ev == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    if (tev::threads::misused(ev, "tevent_add_signal")) return nullptr;
    // Through the backend, as custom backends may provide their own.
    const tevent_ops *ops = ev->ops;
    if (ops == nullptr || ops->add_signal == nullptr) {
        errno = ENOSYS;
        return nullptr;
    }
    return ops->add_signal(ev, mem_ctx, signum, sa_flags, handler, private_data, handler_name, location);
}

TEVENT_API struct tevent_signal *tevent_common_add_signal(struct tevent_context *ev, TALLOC_CTX *mem_ctx,
                                                          int signum, int sa_flags, tevent_signal_handler_t handler,
                                                          void *private_data, const char *handler_name,
                                                          const char *location) {
    return tev::sig::add(ev, mem_ctx, signum, sa_flags, handler, private_data, handler_name, location);
}

TEVENT_API int tevent_common_check_signal(struct tevent_context *ev) { return tev::sig::check(ev); }

TEVENT_API int tevent_common_invoke_signal_handler(struct tevent_signal *se, int signum, int count, void *siginfo,
                                                   bool *removed) {
    return tev::sig::invoke(se, signum, count, siginfo, removed);
}

TEVENT_API void tevent_cleanup_pending_signal_handlers(struct tevent_signal *se) { tev::sig::cleanup_pending(se); }

TEVENT_API size_t tevent_num_signals(void) { return tev::sig::kNumSignals; }

TEVENT_API size_t tevent_sa_info_queue_count(void) { return tev::sig::kInfoQueue; }

TEVENT_API bool tevent_signal_support(struct tevent_context *ev) {
    if (ev == nullptr) return false;
    const tevent_ops *ops = ev->ops;
    return ops != nullptr && ops->add_signal != nullptr;
}

TEVENT_API void tevent_signal_set_tag(struct tevent_signal *se, uint64_t tag) { tev::sig::set_tag(se, tag); }

TEVENT_API uint64_t tevent_signal_get_tag(const struct tevent_signal *se) { return tev::sig::get_tag(se); }

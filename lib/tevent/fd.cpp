// fd events: creation, flags, close functions, teardown and the single
// place where fd handlers are called.
//
// These are also the tevent_common_* helpers custom backends build on, so
// they work without a built-in backend; when the context has one, the
// backend is kept in step (see backend.cpp).
#include <errno.h>
#include <unistd.h>

#include <new>

#include "backend.hpp"
#include "context.hpp"
#include "lifecycle.hpp"
#include "thread_check.hpp"
#include "wrapper.hpp"

namespace tev {
namespace {

void unlink_from_context(tevent_context *ev, tevent_fd *fde, bool traced = true) {
    if (traced) trace_fd(ev, fde, TEVENT_EVENT_TRACE_DETACH);
    ev->fd_events.remove(fde);
    if (fde->registered && ev->backend != nullptr) backend_fd_detach(ev->backend, fde);
}

void auto_closer(tevent_context *, tevent_fd *, int fd, void *) { close(fd); }

}  // namespace

tevent_fd *fd_add(tevent_context *ev, TALLOC_CTX *mem_ctx, int fd, uint16_t flags, tevent_fd_handler_t handler,
                  void *private_data, const char *handler_name, const char *location) {
    if (ev == nullptr || fd < 0) {
        errno = EINVAL;
        return nullptr;
    }
    EventHome home = event_home(ev, mem_ctx);
    if (home.main == nullptr) return nullptr;
    ev = home.main;

    auto *fde = new_event<tevent_fd>(home, "struct tevent_fd", handler, private_data, handler_name, location);
    if (fde == nullptr) return nullptr;
    fde->fd = fd;
    fde->flags = flags;

    // Newest first: with several ready descriptors the most recently added
    // one is served first, then each served event moves to the back.
    ev->fd_events.push_front(fde);
    if (ev->backend != nullptr && !backend_fd_attach(ev->backend, fde)) {
        ev->fd_events.remove(fde);
        talloc_free(fde);
        errno = ENOMEM;
        return nullptr;
    }
    talloc_set_destructor(fde, fd_destructor);
    trace_fd(ev, fde, TEVENT_EVENT_TRACE_ATTACH);
    return fde;
}

int fd_destructor(tevent_fd *fde) {
    if (thread_check_misused(fde->event_ctx, "talloc_free(struct tevent_fd)")) return -1;
    if (freed_again(fde, "tevent_fd double free")) return -1;
    tevent_context *ev = fde->event_ctx;
    if (ev != nullptr) unlink_from_context(ev, fde);

    if (fde->close_fn != nullptr) {
        tevent_fd_close_fn_t close_fn = fde->close_fn;
        fde->close_fn = nullptr;
        close_fn(ev, fde, fde->fd, fde->private_data);
        fde->fd = -1;
    }
    fde->event_ctx = nullptr;
    fde->wrapper = nullptr;
    return release_unless_running(fde);
}

uint16_t fd_get_flags(tevent_fd *fde) { return fde != nullptr ? fde->flags : 0; }

void fd_set_flags(tevent_fd *fde, uint16_t flags) {
    if (fde == nullptr || fde->flags == flags) return;
    fde->flags = flags;
    tevent_context *ev = fde->event_ctx;
    if (ev != nullptr && fde->registered && ev->backend != nullptr) backend_fd_update(ev->backend, fde);
}

void fd_set_close_fn(tevent_fd *fde, tevent_fd_close_fn_t close_fn) {
    if (fde != nullptr) fde->close_fn = close_fn;
}

void fd_set_auto_close(tevent_fd *fde) {
    if (fde == nullptr || fde->event_ctx == nullptr) return;
    fde->event_ctx->ops->set_fd_close_fn(fde, auto_closer);
}

void fd_disarm(tevent_fd *fde, bool traced) {
    tevent_context *ev = fde->event_ctx;
    if (ev == nullptr) return;
    unlink_from_context(ev, fde, traced);
    fde->event_ctx = nullptr;
    fde->wrapper = nullptr;
}

void fd_disarm_all(tevent_context *ev) {
    while (tevent_fd *fde = ev->fd_events.head) fd_disarm(fde);
}

int fd_invoke(tevent_fd *fde, uint16_t flags, bool *removed) {
    if (removed != nullptr) *removed = false;
    tevent_context *ev = fde->event_ctx;
    if (ev == nullptr || fde->handler == nullptr) return 0;

    struct Call {
        tevent_fd *fde;
        uint16_t flags;
        void hook(const WrapperGlue &glue, Hook when) const { hook_fd(glue, when, fde, flags); }
        void trace(tevent_context *main_ev) const { trace_fd(main_ev, fde, TEVENT_EVENT_TRACE_BEFORE_HANDLER); }
        void operator()(tevent_context *handler_ev) const { fde->handler(handler_ev, fde, flags, fde->private_data); }
    };
    WrapperGlue *glue = fde->wrapper;
    run_as_handler(fde, [&] { run_handler(ev, glue, Call{fde, flags}); }, removed);
    return 0;
}

}  // namespace tev

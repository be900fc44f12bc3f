// The per-context wakeup descriptor: an eventfd that other threads and
// signal handlers write to so that a sleeping loop returns.
//
// It is registered as an ordinary fd event (so every backend, custom ones
// included, watches it), but tevent_loop_wait() does not count it as work.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "context.hpp"
#include "signal.hpp"
#include "tevent.h"

namespace tev {
namespace {

void drain(tevent_context *, tevent_fd *fde, uint16_t, void *) {
    // An eventfd is emptied by one read (of 8 bytes); only a full buffer
    // from a pipe may leave more behind.  Reading until EAGAIN would cost
    // every wakeup a second system call.
    uint64_t buf[8];
    ssize_t n;
    do {
        n = read(fde->fd, buf, sizeof(buf));
    } while (n == static_cast<ssize_t>(sizeof(buf)) || (n < 0 && errno == EINTR));
}

}  // namespace

int wakeup_init(tevent_context *ev) {
    ev = main_context(ev);
    if (ev == nullptr) return EINVAL;
    if (ev->wakeup.fde != nullptr) return 0;

    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return errno;

    tevent_fd *fde = ev->ops->add_fd(ev, ev, fd, TEVENT_FD_READ, drain, nullptr, "tevent_wakeup_drain", __func__);
    if (fde == nullptr) {
        close(fd);
        return ENOMEM;
    }
    fd_set_auto_close(fde);
    ev->wakeup.fd = fd;
    ev->wakeup.write_fd = -1;  // an eventfd is written through the same descriptor
    ev->wakeup.fde = fde;
    return 0;
}

int wakeup_fd(int fd) {
    // Only write(): callable from signal handlers and any thread.  A full
    // counter (EAGAIN) already guarantees a wakeup.
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(fd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
    return 0;
}

int wakeup(tevent_context *ev) {
    ev = main_context(ev);
    if (ev == nullptr || ev->wakeup.fde == nullptr) return EINVAL;
    return wakeup_fd(ev->wakeup.write_fd >= 0 ? ev->wakeup.write_fd : ev->wakeup.fd);
}

void wakeup_fini(tevent_context *ev) {
    tevent_fd *fde = ev->wakeup.fde;
    if (fde == nullptr) return;
    ev->wakeup.fde = nullptr;
    ev->wakeup.fd = -1;
    ev->wakeup.write_fd = -1;
    talloc_free(fde);  // auto-close
}

int wakeup_reopen(tevent_context *ev) {
    if (ev->wakeup.fde == nullptr) return 0;
    wakeup_fini(ev);
    int ret = wakeup_init(ev);
    if (ev->signals != nullptr) signal_context_wakeup_changed(ev);
    return ret;
}

}  // namespace tev

// fd events (fd.cpp): creation, flags, close functions, teardown, the handler call.
#pragma once

#include "layout.hpp"

namespace tev {

// ---- fd events (fd.cpp) ----------------------------------------------------
tevent_fd *fd_add(tevent_context *ev, TALLOC_CTX *mem_ctx, int fd, uint16_t flags, tevent_fd_handler_t handler,
                  void *private_data, const char *handler_name, const char *location);
int fd_destructor(tevent_fd *fde);
uint16_t fd_get_flags(tevent_fd *fde);
void fd_set_flags(tevent_fd *fde, uint16_t flags);
void fd_set_close_fn(tevent_fd *fde, tevent_fd_close_fn_t close_fn);
// tevent_fd_set_auto_close(): through the context's ops, like the API.
void fd_set_auto_close(tevent_fd *fde);
// Takes the event out of its context without freeing it (a descriptor the
// loop found closed, context teardown; without the DETACH trace point when
// its wrapper goes away, as in the reference).
void fd_disarm(tevent_fd *fde, bool traced = true);
// Context teardown: every fd event of ev, newest first, traced.
void fd_disarm_all(tevent_context *ev);
int fd_invoke(tevent_fd *fde, uint16_t flags, bool *removed);

// tevent_fd_set_tag/get_tag (NULL: nothing, 0).
inline void fd_set_tag(tevent_fd *fde, uint64_t tag) {
    if (fde != nullptr) fde->tag = tag;
}
inline uint64_t fd_get_tag(const tevent_fd *fde) { return fde != nullptr ? fde->tag : 0; }

}  // namespace tev

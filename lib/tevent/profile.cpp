// Request profiles: start/stop records of a request and, nested below it,
// of the subrequests created on its state while it was profiled.
//
// A subrequest's profile starts as a talloc child of the subrequest and is
// linked into its parent's list at once; when the subrequest finishes, the
// profile is stolen by the parent profile so it outlives the subrequest.
// Unlinking happens in the destructor, so freeing either side at any time
// leaves no dangling list pointers.
#include "req.hpp"

#include <errno.h>

namespace tev {
namespace {

void unlink_from_parent(tevent_req_profile *p) {
    tevent_req_profile *parent = p->parent;
    if (parent == nullptr) return;
    parent->subprofiles.remove(p);
    p->parent = nullptr;
}

void link_to_parent(tevent_req_profile *p, tevent_req_profile *parent) {
    p->parent = parent;
    parent->subprofiles.push_back(p);
}

int profile_destructor(void *ptr) {
    auto *p = static_cast<tevent_req_profile *>(ptr);
    unlink_from_parent(p);
    // Subprofiles that are not our talloc children (a subrequest still
    // running) survive us; they must not point back here.
    for (tevent_req_profile *sub = p->subprofiles.take_all(); sub != nullptr;) {
        tevent_req_profile *next = sub->next;
        sub->prev = sub->next = sub->parent = nullptr;
        sub = next;
    }
    return 0;
}

}  // namespace

tevent_req_profile *profile_create(TALLOC_CTX *mem_ctx) {
    auto *p = talloc_new_zeroed<tevent_req_profile>(mem_ctx, "struct tevent_req_profile");
    if (p == nullptr) return nullptr;
    _talloc_set_destructor(p, profile_destructor);
    return p;
}

bool req_set_profile(tevent_req *req) {
    if (req == nullptr) return false;
    if (req->profile != nullptr) {
        req_error(req, EINVAL, TEV_LOCATION);
        return false;
    }
    tevent_req_profile *p = profile_create(req);
    if (req_nomem(p, req, TEV_LOCATION)) return false;
    p->req_name = talloc_get_name(req->data);
    p->start_location = req->create_location;
    p->start_time = tevent_timeval_current();
    req->profile = p;
    return true;
}

bool profile_attach_sub(tevent_req *req, tevent_req *parent) {
    if (!req_set_profile(req)) return false;
    link_to_parent(req->profile, parent->profile);
    return true;
}

void profile_finish(tevent_req *req, enum tevent_req_state state, const char *location) {
    tevent_req_profile *p = req->profile;
    p->stop_location = location;
    p->stop_time = tevent_timeval_current();
    p->state = state;
    p->user_error = req->error;
    if (p->parent != nullptr) {
        // The record now belongs to the parent's profile.
        talloc_steal(p->parent, p);
        req->profile = nullptr;
    }
}

const tevent_req_profile *req_get_profile(tevent_req *req) { return req != nullptr ? req->profile : nullptr; }

tevent_req_profile *req_move_profile(tevent_req *req, TALLOC_CTX *mem_ctx) {
    if (req == nullptr) return nullptr;
    return static_cast<tevent_req_profile *>(_talloc_move(mem_ctx, &req->profile));
}

void profile_get_name(const tevent_req_profile *p, const char **req_name) {
    if (req_name != nullptr) *req_name = p != nullptr ? p->req_name : nullptr;
}

void profile_get_start(const tevent_req_profile *p, const char **location, struct timeval *time) {
    if (location != nullptr) *location = p != nullptr ? p->start_location : nullptr;
    if (time != nullptr) *time = p != nullptr ? p->start_time : timeval{};
}

void profile_get_stop(const tevent_req_profile *p, const char **location, struct timeval *time) {
    if (location != nullptr) *location = p != nullptr ? p->stop_location : nullptr;
    if (time != nullptr) *time = p != nullptr ? p->stop_time : timeval{};
}

void profile_get_status(const tevent_req_profile *p, pid_t *pid, enum tevent_req_state *state,
                        uint64_t *user_error) {
    if (pid != nullptr) *pid = p != nullptr ? p->pid : 0;
    if (state != nullptr) *state = p != nullptr ? p->state : TEVENT_REQ_INIT;
    if (user_error != nullptr) *user_error = p != nullptr ? p->user_error : 0;
}

const tevent_req_profile *profile_get_subprofiles(const tevent_req_profile *p) {
    return p != nullptr ? p->subprofiles.head : nullptr;
}

const tevent_req_profile *profile_next(const tevent_req_profile *p) { return p != nullptr ? p->next : nullptr; }

bool profile_set_name(tevent_req_profile *p, const char *req_name) {
    if (p == nullptr) return false;
    p->req_name = talloc_strdup(p, req_name);
    return p->req_name != nullptr;
}

bool profile_set_start(tevent_req_profile *p, const char *location, struct timeval time) {
    if (p == nullptr) return false;
    p->start_location = talloc_strdup(p, location);
    p->start_time = time;
    return p->start_location != nullptr;
}

bool profile_set_stop(tevent_req_profile *p, const char *location, struct timeval time) {
    if (p == nullptr) return false;
    p->stop_location = talloc_strdup(p, location);
    p->stop_time = time;
    return p->stop_location != nullptr;
}

void profile_set_status(tevent_req_profile *p, pid_t pid, enum tevent_req_state state, uint64_t user_error) {
    if (p == nullptr) return;
    p->pid = pid;
    p->state = state;
    p->user_error = user_error;
}

void profile_append_sub(tevent_req_profile *parent, tevent_req_profile **sub_profile) {
    if (parent == nullptr || sub_profile == nullptr) return;
    auto *sub = static_cast<tevent_req_profile *>(_talloc_move(parent, sub_profile));
    if (sub == nullptr) return;
    // A profile sits in at most one list; moving it takes it out of the old one.
    unlink_from_parent(sub);
    link_to_parent(sub, parent);
}

}  // namespace tev

// The request layer's internal view: struct tevent_req, profiles, queues'
// use of requests and the per-thread call-flow hook.  Shared by req.cpp,
// queue.cpp, profile.cpp, call_depth.cpp and wakeup.cpp; everything outside
// lib/tevent sees only the opaque structs declared in tevent.h.
//
// The layer uses the event core through the public API (timers, immediates,
// tevent_loop_once); from context.hpp it takes only tev::abort(), the size
// of an immediate (to size the request's pool) and the queue trace storage.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include <new>

#include <talloc.h>

#include "call_depth.hpp"
#include "list.hpp"
#include "location.hpp"
#include "tevent.h"


struct tevent_req {
    struct Callback {
        tevent_req_fn fn;
        const char *fn_name;
        void *private_data;
    };
    struct Cancel {
        tevent_req_cancel_fn fn;
        const char *fn_name;
    };
    struct Cleanup {
        tevent_req_cleanup_fn fn;
        const char *fn_name;
        // The state the cleanup function last saw (or the state when it was
        // set): it runs only for later states, which also keeps a cleanup
        // function that finishes the request again from re-entering itself.
        enum tevent_req_state seen;
    };

    Callback callback;
    void *data;  // the caller's state: a zeroed talloc child named after its type
    tevent_req_print_fn print_fn;
    Cancel cancel;
    Cleanup cleanup;

    const char *type;  // the state's type name
    const char *create_location;
    const char *finish_location;
    enum tevent_req_state state;
    uint64_t error;

    // Allocated with the request so tevent_req_post() cannot fail.
    struct tevent_immediate *trigger;
    // Set by tevent_req_defer_callback(): the next notification is posted
    // through this context instead of calling back directly.
    struct tevent_context *defer_callback_ev;
    struct tevent_timer *timer;  // tevent_req_set_endtime()
    struct tevent_req_profile *profile;
    size_t call_depth;  // parent request's depth + 1, 0 for top-level requests
};

struct tevent_req_profile {
    // Siblings in the parent's list of subprofiles, in creation order.
    tevent_req_profile *prev;
    tevent_req_profile *next;
    tevent_req_profile *parent;
    tev::IList<tevent_req_profile> subprofiles;

    const char *req_name;
    const char *start_location;
    struct timeval start_time;
    const char *stop_location;
    struct timeval stop_time;
    pid_t pid;
    enum tevent_req_state state;
    uint64_t user_error;
};

namespace tev {

// ---- talloc helpers ------------------------------------------------------

// A zeroed, talloc-named T constructed in place (the layer's types are plain
// aggregates; talloc owns the memory, no operator new involved).
template <typename T>
T *talloc_new_zeroed(const void *ctx, const char *name) {
    void *mem = _talloc_zero(ctx, sizeof(T), name);
    return mem != nullptr ? new (mem) T{} : nullptr;
}

// ---- requests (req.cpp) --------------------------------------------------

tevent_req *req_create(TALLOC_CTX *mem_ctx, void *pstate, size_t state_size, const char *type,
                       const char *func, const char *location);
void req_set_callback(tevent_req *req, tevent_req_fn fn, const char *fn_name, void *pvt);
void req_set_cancel_fn(tevent_req *req, tevent_req_cancel_fn fn, const char *fn_name);
void req_set_cleanup_fn(tevent_req *req, tevent_req_cleanup_fn fn, const char *fn_name);
void req_set_print_fn(tevent_req *req, tevent_req_print_fn fn);

void *req_data(tevent_req *req);
void *req_callback_data(tevent_req *req);

// Moves the request to a final state and notifies the caller.
void req_finish(tevent_req *req, enum tevent_req_state state, const char *location);
void req_notify_callback(tevent_req *req, const char *location);
void req_done(tevent_req *req, const char *location);
bool req_error(tevent_req *req, uint64_t error, const char *location);
void req_oom(tevent_req *req, const char *location);
bool req_nomem(const void *p, tevent_req *req, const char *location);

tevent_req *req_post(tevent_req *req, tevent_context *ev);
void req_defer_callback(tevent_req *req, tevent_context *ev);
bool req_is_in_progress(tevent_req *req);
bool req_poll(tevent_req *req, tevent_context *ev);
bool req_is_error(tevent_req *req, enum tevent_req_state *state, uint64_t *error);
void req_received(tevent_req *req);
bool req_set_endtime(tevent_req *req, tevent_context *ev, struct timeval endtime);
void req_reset_endtime(tevent_req *req);
bool req_cancel(tevent_req *req, const char *location);

char *req_default_print(tevent_req *req, TALLOC_CTX *mem_ctx);
char *req_print(TALLOC_CTX *mem_ctx, tevent_req *req);

// ---- profiles (profile.cpp) ----------------------------------------------

bool req_set_profile(tevent_req *req);
const tevent_req_profile *req_get_profile(tevent_req *req);
tevent_req_profile *req_move_profile(tevent_req *req, TALLOC_CTX *mem_ctx);
// Called by req_create() when the new request's parent is profiled.
bool profile_attach_sub(tevent_req *req, tevent_req *parent);
// Called by req_finish() for a profiled request: records the outcome, hands
// the profile to the parent's profile if there is one.
void profile_finish(tevent_req *req, enum tevent_req_state state, const char *location);

tevent_req_profile *profile_create(TALLOC_CTX *mem_ctx);
void profile_get_name(const tevent_req_profile *p, const char **req_name);
void profile_get_start(const tevent_req_profile *p, const char **location, struct timeval *time);
void profile_get_stop(const tevent_req_profile *p, const char **location, struct timeval *time);
void profile_get_status(const tevent_req_profile *p, pid_t *pid, enum tevent_req_state *state,
                        uint64_t *user_error);
const tevent_req_profile *profile_get_subprofiles(const tevent_req_profile *p);
const tevent_req_profile *profile_next(const tevent_req_profile *p);
bool profile_set_name(tevent_req_profile *p, const char *req_name);
bool profile_set_start(tevent_req_profile *p, const char *location, struct timeval time);
bool profile_set_stop(tevent_req_profile *p, const char *location, struct timeval time);
void profile_set_status(tevent_req_profile *p, pid_t pid, enum tevent_req_state state, uint64_t user_error);
void profile_append_sub(tevent_req_profile *parent, tevent_req_profile **sub);

// ---- call-flow tracking (call_depth.cpp; the hook in call_depth.hpp) ------

void call_depth_set_callback(tevent_call_depth_callback_t cb, void *private_data);
void call_depth_reset_from_req(tevent_req *req, const char *fname);

// ---- queues (queue.cpp) --------------------------------------------------

tevent_queue *queue_create(TALLOC_CTX *mem_ctx, const char *name, const char *location);
// `allow_direct`: tevent_queue_add_optimize_empty() may run the trigger at
// once when the queue is idle instead of going through an immediate.
tevent_queue_entry *queue_add(tevent_queue *queue, tevent_context *ev, tevent_req *req,
                              tevent_queue_trigger_fn_t trigger, const char *trigger_name, void *private_data,
                              bool allow_direct);
void queue_entry_untrigger(tevent_queue_entry *entry);
void queue_start(tevent_queue *queue);
void queue_stop(tevent_queue *queue);
size_t queue_length(tevent_queue *queue);
bool queue_running(tevent_queue *queue);
void queue_entry_set_tag(tevent_queue_entry *entry, uint64_t tag);
uint64_t queue_entry_get_tag(const tevent_queue_entry *entry);
tevent_req *queue_wait_send(TALLOC_CTX *mem_ctx, tevent_context *ev, tevent_queue *queue);
bool queue_wait_recv(tevent_req *req);

// ---- tevent_wakeup_send/recv (wakeup.cpp) --------------------------------

tevent_req *wakeup_send(TALLOC_CTX *mem_ctx, tevent_context *ev, struct timeval wakeup_time);
bool wakeup_recv(tevent_req *req);

}  // namespace tev

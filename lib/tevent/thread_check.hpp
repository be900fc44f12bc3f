// One tevent context per thread, checked where it is broken.
//
// tevent_context::loop_owner names the thread that entered the context's
// last loop (tevent_loop_once/wait/until), as a (pid, tid) pair; it is
// kept after the loop returns, so that the loop calls of the thread that
// owns the context write nothing and pay one compare.  Whether a loop runs
// right now is tevent_context::running, which the loop keeps anyway.
//
// An entry point that changes the context or its events from a thread
// other than the owner, while a loop of the context runs, is reported
// through tevent_abort() and, if the abort function returns, refused.
// Without a running loop the context was handed over between loops, which
// is allowed: the owner is forgotten, so that the new thread's later calls
// take the fast path again.  A second loop entered from another thread
// while one runs is reported the same way; otherwise it takes the context
// over.
//
// After a fork the child ignores owners recorded in its parent, whose
// threads it does not have (the pid differs).
#pragma once

#include "context.hpp"

// 0 only in builds that measure the check's cost (meson option
// tevent_thread_check=false): every check is then compiled out.
#ifndef TEV_THREAD_CHECK
#define TEV_THREAD_CHECK 1
#endif

namespace tev {
// True for contexts whose backend lets other threads change them while the
// loop runs: the check leaves those alone (backend.cpp).  Called when the
// backend is set up; the answer is kept in tevent_context::loop_unchecked.
bool loop_shared_between_threads(const tevent_context *ev);

// This thread's (pid, tid), 0 until the first slow-path check computes it
// (and again in a fork child).
extern __thread uint64_t thread_check_self __attribute__((tls_model("initial-exec")));

// Wrappers, a context another thread owns, and the report: the rest of
// thread_check_misused().  Out of line and cold, so that the common case
// saves no registers.
__attribute__((noinline, cold)) bool thread_check_misused_slow(tevent_context *ev, const char *fn);

// True, after reporting, when another thread runs a loop of ev (or of the
// main context of wrapper ev): the caller must refuse the change.  The
// common case is two loads and a compare or two: the context never ran a
// loop, or this thread entered its last one.
inline bool thread_check_misused(tevent_context *ev, const char *fn) {
    if (!TEV_THREAD_CHECK || ev == nullptr) return false;
    uint64_t owner = ev->loop_owner.load(std::memory_order_relaxed);
    bool plain = ev->wrapper.glue == nullptr;
    if (__builtin_expect(plain && (owner == 0 || owner == thread_check_self), 1)) return false;
    return thread_check_misused_slow(ev, fn);
}

// The rest of a LoopClaim: true, after reporting, when the loop must be
// refused; otherwise this thread now owns the context.
__attribute__((noinline)) bool thread_check_claim_slow(tevent_context *ev, const char *fn);

// Made by a loop entry point before it runs ev's loop.
class LoopClaim {
public:
    // Inline for the common case: a plain context this thread owns.
    // Nothing is left to do when the loop returns.
    LoopClaim(tevent_context *ev, const char *fn) {
        if (!TEV_THREAD_CHECK) return;
        if (__builtin_expect(ev != nullptr && ev->wrapper.glue == nullptr, 1)) {
            uint64_t owner = ev->loop_owner.load(std::memory_order_relaxed);
            if (__builtin_expect(owner != 0 && owner == thread_check_self, 1)) return;
        }
        refused_ = thread_check_claim_slow(ev, fn);
    }
    LoopClaim(const LoopClaim &) = delete;
    LoopClaim &operator=(const LoopClaim &) = delete;

    bool refused() const { return refused_; }

private:
    bool refused_ = false;
};

// Called by the context's destructor: true, after reporting, when another
// thread runs its loop (the free is refused).
inline bool thread_check_context_free_refused(tevent_context *ev) {
    return thread_check_misused(ev, "talloc_free(struct tevent_context)");
}

}  // namespace tev

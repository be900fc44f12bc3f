// One tevent context per thread, checked where it is broken.
//
// While a loop of a context runs (tevent_loop_once/wait/until, nested
// loops included), tevent_context::loop_owner names the thread running it.
// An entry point that changes the context or its events from any other
// thread reports through tevent_abort() and, if the abort function
// returns, refuses the change.  Outside a loop the record is 0: handing a
// context to another thread between loops stays allowed.
//
// The record names a thread by (pid, tid): after a fork the child ignores
// records made in its parent, whose threads it does not have.
//
// The cost on the loop's own thread is one relaxed load (plus a
// thread-local one when a loop runs); claiming the record is a load and a
// store per outermost loop call.
#pragma once

#include "context.hpp"

namespace tev {
// True for contexts whose backend lets other threads change them while the
// loop runs: the check leaves those alone (backend.cpp).
bool loop_shared_between_threads(const tevent_context *ev);
}  // namespace tev

namespace tev::threads {

extern __thread uint64_t t_self __attribute__((tls_model("initial-exec")));
uint64_t compute_self();

inline uint64_t self() {
    uint64_t id = t_self;
    return __builtin_expect(id != 0, 1) ? id : compute_self();
}

// Reports fn on ev from a thread that does not own its running loop;
// false when the owner record is from before a fork (nothing to report).
bool report_foreign(tevent_context *ev, uint64_t owner, const char *fn);

// The rest of misused(): wrappers, a thread seen for the first time, and
// the report.  Out of line and cold, so that the common case saves no
// registers.
__attribute__((noinline, cold)) bool misused_slow(tevent_context *ev, const char *fn);

// True, after reporting, when another thread runs a loop of ev (or of the
// main context of wrapper ev): the caller must refuse the change.  The
// common case is two loads and a compare: no loop runs, or this thread
// runs it (t_self is 0 only before this thread's first loop claim or
// report, and then the slow path decides).
inline bool misused(tevent_context *ev, const char *fn) {
    if (ev == nullptr) return false;
    uint64_t owner = ev->loop_owner.load(std::memory_order_relaxed);
    bool plain = ev->wrapper.glue == nullptr;
    if (__builtin_expect(plain && (owner == 0 || owner == t_self), 1)) return false;
    return misused_slow(ev, fn);
}

class LoopClaim;

// A loop entry point running on ev for its lifetime.  The outermost one on
// a thread takes the record; a second thread's loop is reported and
// refused.  Claims form a per-thread stack so that a context freed from one
// of its own handlers is forgotten before the loop call returns.
extern __thread LoopClaim *t_claims __attribute__((tls_model("initial-exec")));

class LoopClaim {
public:
    // Inline for the common case: a plain context whose record is free or
    // already this thread's.
    LoopClaim(tevent_context *ev, const char *fn) : ev_(ev) {
        if (__builtin_expect(ev == nullptr || ev->wrapper.glue != nullptr, 0)) {
            claim_slow(fn);
            return;
        }
        uint64_t me = self();
        uint64_t owner = ev->loop_owner.load(std::memory_order_relaxed);
        if (owner == me) return;  // nested in a loop of this thread
        if (__builtin_expect(owner != 0, 0)) {
            claim_slow(fn);
            return;
        }
        take(me);
    }
    ~LoopClaim() {
        if (claimed_) release();
    }
    LoopClaim(const LoopClaim &) = delete;
    LoopClaim &operator=(const LoopClaim &) = delete;

    bool refused() const { return refused_; }

private:
    // Two threads entering at the same instant may both take the record;
    // the check then misses that overlap but never reports correct use.
    void take(uint64_t me) {
        if (loop_shared_between_threads(ev_)) return;  // record left at 0: nothing is checked
        ev_->loop_owner.store(me, std::memory_order_relaxed);
        claimed_ = true;
        outer_ = t_claims;
        t_claims = this;
    }
    void claim_slow(const char *fn);
    void release() {
        t_claims = outer_;
        // ev_ is null when the context was freed inside the loop.
        if (ev_ != nullptr) ev_->loop_owner.store(0, std::memory_order_release);
    }
    friend bool context_free_refused(tevent_context *ev);

    tevent_context *ev_;
    LoopClaim *outer_;
    bool claimed_ = false;
    bool refused_ = false;
};

// Called by the context's destructor: true, after reporting, when another
// thread runs its loop (the free is refused); otherwise the freeing
// thread's claims on ev are forgotten (the memory is about to go).
bool context_free_refused(tevent_context *ev);

}  // namespace tev::threads

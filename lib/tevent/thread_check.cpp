// The loop-owner record behind the one-context-per-thread check (see
// thread_check.hpp).
#include "thread_check.hpp"

#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tev::threads {

__thread uint64_t t_self __attribute__((tls_model("initial-exec"))) = 0;

// Innermost loop claim of this thread.
__thread LoopClaim *t_claims __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

constexpr uint64_t make_id(uint32_t pid, uint32_t tid) { return (static_cast<uint64_t>(pid) << 32) | tid; }
constexpr uint32_t pid_of(uint64_t id) { return static_cast<uint32_t>(id >> 32); }
constexpr uint32_t tid_of(uint64_t id) { return static_cast<uint32_t>(id); }

// The forking thread becomes the child's only thread, under a new pid and
// tid; its claims stay on its stack and give their records back as usual.
void forget_self_in_child() { t_self = 0; }

__attribute__((constructor)) void install_fork_handler() { pthread_atfork(nullptr, nullptr, forget_self_in_child); }

}  // namespace

uint64_t compute_self() {
    t_self = make_id(static_cast<uint32_t>(getpid()), static_cast<uint32_t>(syscall(SYS_gettid)));
    return t_self;
}

bool report_foreign(tevent_context *ev, uint64_t owner, const char *fn) {
    uint64_t me = self();
    if (pid_of(owner) != pid_of(me)) return false;  // claimed in the parent process
    char reason[768];
    snprintf(reason, sizeof(reason),
             "%s called on thread %u for tevent_context %p whose loop is running on thread %u: a tevent "
             "context and its events belong to the thread running its loop; from other threads use "
             "tevent_threaded_schedule_immediate() (tevent_threaded_context_create()) or a thread proxy "
             "(tevent_thread_proxy_schedule())",
             fn, tid_of(me), static_cast<void *>(ev), tid_of(owner));
    // Unchanged programs rarely set a debug function: say it anyway.
    if (ev->debug.fn == nullptr) fprintf(stderr, "tevent: %s\n", reason);
    abort(ev, reason);
    errno = EBUSY;
    return true;
}

bool misused_slow(tevent_context *ev, const char *fn) {
    ev = main_context(ev);
    if (ev == nullptr) return false;
    uint64_t owner = ev->loop_owner.load(std::memory_order_relaxed);
    return owner != 0 && owner != self() && report_foreign(ev, owner, fn);
}

void LoopClaim::claim_slow(const char *fn) {
    ev_ = main_context(ev_);
    if (ev_ == nullptr) return;
    uint64_t me = self();
    uint64_t owner = ev_->loop_owner.load(std::memory_order_relaxed);
    if (owner == me) return;
    if (owner != 0 && report_foreign(ev_, owner, fn)) {
        refused_ = true;
        return;
    }
    take(me);
}

bool context_free_refused(tevent_context *ev) {
    if (misused(ev, "talloc_free(struct tevent_context)")) return true;
    for (LoopClaim *c = t_claims; c != nullptr; c = c->outer_) {
        if (c->ev_ == ev) c->ev_ = nullptr;
    }
    return false;
}

}  // namespace tev::threads

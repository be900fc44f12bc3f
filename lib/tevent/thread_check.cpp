// The slow paths of the one-context-per-thread check (see thread_check.hpp).
#include "thread_check.hpp"

#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tev {

__thread uint64_t thread_check_self __attribute__((tls_model("initial-exec"))) = 0;

namespace {

constexpr uint64_t make_id(uint32_t pid, uint32_t tid) { return (static_cast<uint64_t>(pid) << 32) | tid; }
constexpr uint32_t pid_of(uint64_t id) { return static_cast<uint32_t>(id >> 32); }
constexpr uint32_t tid_of(uint64_t id) { return static_cast<uint32_t>(id); }

// The forking thread becomes the child's only thread, under a new pid and
// tid.
void forget_self_in_child() { thread_check_self = 0; }

__attribute__((constructor)) void install_fork_handler() { pthread_atfork(nullptr, nullptr, forget_self_in_child); }

uint64_t self() {
    uint64_t id = thread_check_self;
    if (id == 0) {
        id = make_id(static_cast<uint32_t>(getpid()), static_cast<uint32_t>(syscall(SYS_gettid)));
        thread_check_self = id;
    }
    return id;
}

// For main context ev whose owner is not this thread (me): true, after
// reporting, when a loop of ev runs now.  `running` is a plain counter of
// the loop's own thread; a program that hands the context over
// synchronises with that thread, and one that does not is the misuse this
// reports.
bool owner_running(tevent_context *ev, uint64_t owner, uint64_t me, const char *fn) {
    if (pid_of(owner) != pid_of(me)) return false;  // entered in the parent process
    if (__atomic_load_n(&ev->running, __ATOMIC_RELAXED) <= 0) return false;
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

}  // namespace

bool thread_check_misused_slow(tevent_context *ev, const char *fn) {
    ev = main_context(ev);
    if (ev == nullptr) return false;
    uint64_t owner = ev->loop_owner.load(std::memory_order_relaxed);
    uint64_t me = self();
    if (owner == 0 || owner == me) return false;
    if (owner_running(ev, owner, me, fn)) return true;
    // Handed over: this thread's next calls need not come here.  Unless a
    // loop claimed the context meanwhile.
    ev->loop_owner.compare_exchange_strong(owner, 0, std::memory_order_relaxed);
    return false;
}

bool thread_check_claim_slow(tevent_context *ev, const char *fn) {
    ev = main_context(ev);
    if (ev == nullptr || ev->loop_unchecked) return false;
    uint64_t owner = ev->loop_owner.load(std::memory_order_relaxed);
    uint64_t me = self();
    if (owner == me) return false;
    // Two threads entering at the same instant may both pass here; the
    // check then misses that overlap but never reports correct use.
    if (owner != 0 && owner_running(ev, owner, me, fn)) return true;
    ev->loop_owner.store(me, std::memory_order_relaxed);
    return false;
}

}  // namespace tev

// Immediates from other threads.
//
// tevent_threaded_context: the sender fills in the immediate (which the
// owning thread handed over and no longer touches), appends it to its
// target's FIFO and pokes the target's wakeup descriptor.  The target's
// loop moves the FIFO into its immediate queue (threads_activate()).
//
// tevent_thread_proxy: the sender wraps the immediate and the data in a
// message of its own making, a talloc tree with no parent (so no talloc
// tree is ever shared between threads), together with a dispatch immediate
// the target schedules for it.  The dispatcher calls the user's handler
// with the user's immediate and then frees the message: whatever the
// handler did not take (the immediate, unclaimed data) goes with it.  The
// user's immediate is never the one the loop is running, so a handler may
// pass it straight on to another thread, which may free it at once: this
// is the reply-with-your-own-immediate pattern that races in the
// reference, where the loop still touches the immediate after its handler.
//
// Locks: one per context (its FIFO), one per threaded context (against its
// context going away), one per proxy (its inbox).  None is global.
//
// Sleeping and waking.  A poke (an eventfd write, and on the loop's side
// the wakeup from epoll_wait and the read that drains it) is most of the
// cost of handing work to another thread, and it is only needed when the
// receiving loop is blocked in the kernel.  So the built-in loop keeps
// ContextThreads::wake in one of three states:
//
//   kUnknown   no sleep announced yet (or a custom backend, which never
//              announces): senders always poke, as tevent does.
//   kAwake     the loop is running and looks for pending work before it
//              blocks again: senders do not poke.
//   kSleeping  the loop may be blocked: the first sender to switch it back
//              to kAwake pokes, the others need not (one poke per sleep).
//
// This is Dekker's pattern: a sender publishes its work (the *_waiting
// flag, seq_cst) and then reads `wake` (seq_cst); the loop stores kSleeping
// (seq_cst) and then reads the *_waiting flags (seq_cst).  In the single
// order of seq_cst operations one of the two reads comes last and sees the
// other side's store: either the sender sees kSleeping and pokes, or the
// loop sees the work and does not block.  A sender that read kAwake read a
// store that precedes the loop's next kSleeping store, so that
// announcement's re-check sees its work.  Signal handlers and everything
// else that uses the wakeup descriptor still always write it.
//
// Spinning.  When work came from other threads recently (the last
// threads_activate() moved some, and no spin has come up empty since), the loop
// first watches the flags for up to kSpinNs before announcing the sleep,
// still in state kAwake.  A peer that answers within that time neither
// pokes nor is poked: a request/reply round trip then needs no system call
// at all.  A spin that finds nothing turns spinning off until work arrives
// again, so an idle loop spins at most once after its last message.  When
// spins keep failing although work keeps coming (a loaded machine, where
// the peer waits for a CPU; valgrind, which runs one thread at a time), the
// loop backs off (backoff.hpp): after each failure it lets twice as many
// sleeps pass without spinning, and each success halves that.
// The spin never outlasts the loop's own timeout, and it is skipped where
// only one CPU is usable (the peer could not run meanwhile).  A descriptor
// or signal that becomes ready during a spin is seen when the spin ends,
// at most kSpinNs later; cross-thread work found by the spin only comes
// earlier than a poke would have brought it.
#include "threads.hpp"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include <atomic>
#include <new>

#include "backoff.hpp"
#include "context.hpp"
#include "location.hpp"

namespace tev {

enum WakeState : uint32_t { kUnknown, kAwake, kSleeping };

struct ContextThreads;

}  // namespace tev

struct tevent_threaded_context {
    pthread_mutex_t lock;          // guards event_ctx against the context going away
    tevent_context *event_ctx;     // nullptr once the context is gone
    tev::ContextThreads *ct;  // owner thread only
    // Created on a wrapper: its immediates run with the wrapper's hooks.
    // Set once; read under `lock` while event_ctx is set.
    tev::WrapperGlue *wrapper;
    tevent_threaded_context *prev;  // ContextThreads::threaded
    tevent_threaded_context *next;
};

namespace tev {
namespace {

// A proxy message: a parentless talloc object owning the user's immediate,
// the user's data and the immediate that dispatches it.
struct ProxyMessage {
    ProxyMessage *prev;  // in the proxy's inbox (newest first) or scheduled list
    ProxyMessage *next;
    tevent_thread_proxy *tp;  // nullptr once the proxy is gone
    tevent_immediate *dispatch;
    tevent_immediate *im;
    tevent_immediate_handler_t handler;
    void *private_data;
};

}  // namespace
}  // namespace tev

struct tevent_thread_proxy {
    pthread_mutex_t lock;  // guards inbox and closed
    tev::IList<tev::ProxyMessage> inbox;  // newest first
    bool closed;                          // the context is gone: refuse messages
    tevent_context *dest;
    tev::ContextThreads *ct;
    // Owner thread only.
    tev::IList<tev::ProxyMessage> scheduled;  // handed to the loop, not yet run
    tev::ProxyMessage *running;               // its handler runs right now
    tevent_thread_proxy *prev;                // ContextThreads::proxies
    tevent_thread_proxy *next;
};

namespace tev {

struct ContextThreads {
    tevent_context *ev;
    pthread_mutex_t lock;  // guards the FIFO
    IList<tevent_immediate> fifo;  // handed-over immediates (their prev/next)
    std::atomic<bool> immediates_waiting;
    std::atomic<bool> messages_waiting;
    std::atomic<uint32_t> wake;  // WakeState; see "Sleeping and waking" above
    // Owner thread only.
    IList<tevent_threaded_context> threaded;
    IList<tevent_thread_proxy> proxies;
    bool hot;      // cross-thread work arrived since the last fruitless spin
    bool may_spin; // more than one CPU is usable
    Backoff spin_backoff;  // sleeps to let pass without spinning
};

namespace {

void poke(tevent_context *ev) {
    int fd = ev->wakeup.write_fd >= 0 ? ev->wakeup.write_fd : ev->wakeup.fd;
    if (fd >= 0) wakeup_fd(fd);
}

// Called by a sender after it published work (its *_waiting store, seq_cst).
void wake(ContextThreads *ct, tevent_context *ev) {
    uint32_t state = ct->wake.load(std::memory_order_seq_cst);
    if (state == kAwake) return;  // the loop re-checks before it sleeps
    // Only the sender that ends the sleep pokes.  A failed exchange means
    // the loop woke (or another sender poked) meanwhile; a later sleep is
    // announced after our work was published and its re-check sees it.
    if (state == kSleeping && !ct->wake.compare_exchange_strong(state, kAwake, std::memory_order_seq_cst)) return;
    poke(ev);
}

bool work_waiting(ContextThreads *ct, std::memory_order order) {
    return ct->immediates_waiting.load(order) || ct->messages_waiting.load(order);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

int64_t now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Long enough for a peer thread to answer a message (a round trip takes a
// few microseconds), short enough that a loop spinning in vain, under
// valgrind (threads serialised) or on a loaded machine loses little.
constexpr int64_t kSpinNs = 50 * 1000;
// Iterations between clock reads (a read costs about as much as a few
// iterations with the pause instruction).
constexpr unsigned kSpinClockEvery = 32;

// Watches ct's flags for up to limit_ns; whether work arrived.  *spent_ns
// is the time spent.
bool spin(ContextThreads *ct, int64_t limit_ns, int64_t *spent_ns) {
    int64_t start = now_ns();
    for (unsigned i = 1;; i++) {
        if (work_waiting(ct, std::memory_order_relaxed)) {
            *spent_ns = 0;  // not needed: the loop does not block
            return true;
        }
        cpu_relax();
        if (i % kSpinClockEvery == 0) {
            int64_t spent = now_ns() - start;
            if (spent >= limit_ns) {
                *spent_ns = spent;
                return false;
            }
        }
    }
}

bool several_cpus() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return true;
    return CPU_COUNT(&set) > 1;
}

ContextThreads *context_threads(tevent_context *ev) {
    if (ev->threads != nullptr) return ev->threads;
    int err = wakeup_init(ev);
    if (err != 0) {
        errno = err;
        return nullptr;
    }
    auto *ct = static_cast<ContextThreads *>(malloc(sizeof(ContextThreads)));
    if (ct == nullptr) {
        errno = ENOMEM;
        return nullptr;
    }
    new (ct) ContextThreads{};
    ct->ev = ev;
    ct->wake.store(kUnknown, std::memory_order_relaxed);
    ct->may_spin = several_cpus();
    pthread_mutex_init(&ct->lock, nullptr);
    ev->threads = ct;
    return ct;
}

// immediate_cancel() of an immediate still waiting in a FIFO (its owner
// freed or rescheduled it after all).
// Takes im out of ct's FIFO; ct->lock is held.
void unlink_waiting_locked(ContextThreads *ct, tevent_immediate *im) { ct->fifo.remove(im); }

void cancel_waiting(tevent_immediate *im) {
    auto *ct = static_cast<ContextThreads *>(im->additional_data);
    if (ct != nullptr) {
        pthread_mutex_lock(&ct->lock);
        unlink_waiting_locked(ct, im);
        pthread_mutex_unlock(&ct->lock);
    }
    im->prev = im->next = nullptr;
    im->additional_data = nullptr;
    im->cancel_fn = nullptr;
    im->state = ImState::kIdle;
}

int threaded_context_destructor(tevent_threaded_context *tctx) {
    if (tctx->ct != nullptr) tctx->ct->threaded.remove(tctx);
    // Waits for a sender still inside threads_schedule().
    pthread_mutex_lock(&tctx->lock);
    tctx->event_ctx = nullptr;
    pthread_mutex_unlock(&tctx->lock);
    pthread_mutex_destroy(&tctx->lock);
    return 0;
}

void free_messages(ProxyMessage *m) {
    while (m != nullptr) {
        ProxyMessage *next = m->next;
        m->tp = nullptr;
        talloc_free(m);
        m = next;
    }
}

void close_proxy(tevent_thread_proxy *tp) {
    pthread_mutex_lock(&tp->lock);
    tp->closed = true;
    ProxyMessage *inbox = tp->inbox.take_all();
    pthread_mutex_unlock(&tp->lock);
    free_messages(inbox);
}

int proxy_destructor(tevent_thread_proxy *tp) {
    close_proxy(tp);
    free_messages(tp->scheduled.take_all());  // their dispatch immediates are cancelled
    if (tp->running != nullptr) tp->running->tp = nullptr;  // freed by its dispatcher
    if (tp->ct != nullptr) tp->ct->proxies.remove(tp);
    pthread_mutex_destroy(&tp->lock);
    return 0;
}

void dispatch(tevent_context *ev, tevent_immediate *dispatch_im, void *private_data) {
    (void)dispatch_im;
    auto *m = static_cast<ProxyMessage *>(private_data);
    tevent_thread_proxy *tp = m->tp;
    if (tp != nullptr) {
        tp->scheduled.remove(m);
        tp->running = m;
    }
    m->handler(ev, m->im, m->private_data);
    // The handler may have freed the proxy (which then let go of m).
    if (m->tp != nullptr) m->tp->running = nullptr;
    // Also frees what the handler did not take; dispatch_im is running and
    // is finished by the loop.
    talloc_free(m);
}

}  // namespace

// ---------------------------------------------------------------------------

tevent_threaded_context *threads_context_create(TALLOC_CTX *mem_ctx, tevent_context *ev) {
    if (ev == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    tev::WrapperGlue *wrapper = ev->wrapper.glue;
    ev = main_context(ev);
    if (ev == nullptr) {  // a wrapper whose main context is gone
        errno = EINVAL;
        return nullptr;
    }
    ContextThreads *ct = context_threads(ev);
    if (ct == nullptr) return nullptr;
    auto *tctx = static_cast<tevent_threaded_context *>(talloc_zero_size(mem_ctx, sizeof(tevent_threaded_context)));
    if (tctx == nullptr) {
        errno = ENOMEM;
        return nullptr;
    }
    talloc_set_name_const(tctx, "struct tevent_threaded_context");
    pthread_mutex_init(&tctx->lock, nullptr);
    tctx->event_ctx = ev;
    tctx->ct = ct;
    tctx->wrapper = wrapper;
    ct->threaded.push_front(tctx);
    talloc_set_destructor(tctx, threaded_context_destructor);
    return tctx;
}

void threads_schedule(tevent_threaded_context *tctx, tevent_immediate *im, tevent_immediate_handler_t handler,
                       void *private_data, const char *handler_name, const char *location) {
    // As documented: an immediate that is already active, or no handler, is
    // a bug in the caller that would otherwise surface far from here.
    if (tctx == nullptr || im == nullptr || handler == nullptr || im->event_ctx != nullptr ||
        im->cancel_fn != nullptr) {
        abort_now("tevent_threaded_schedule_immediate: immediate already active or no handler");
    }
    pthread_mutex_lock(&tctx->lock);
    tevent_context *ev = tctx->event_ctx;
    if (ev == nullptr) {
        // The context is gone; nobody is left to run it.
        pthread_mutex_unlock(&tctx->lock);
        return;
    }
    ContextThreads *ct = ev->threads;
    im->handler = handler;
    im->private_data = private_data;
    im->handler_name = handler_name;
    im->schedule_location = location;
    im->cancel_fn = cancel_waiting;
    im->state = ImState::kForeign;
    im->additional_data = ct;
    // Kept by immediate_schedule() when threads_activate() queues it.
    im->wrapper = tctx->wrapper;
    pthread_mutex_lock(&ct->lock);
    // threads_activate() empties the FIFO before the loop can wait, so only the
    // first immediate after it needs to wake the loop; the rest find the
    // poke still pending (or the loop not asleep yet) and save a syscall.
    bool was_empty = ct->fifo.empty();
    ct->fifo.push_back(im);
    // The flag is cleared only together with emptying the FIFO (under the
    // lock): behind a non-empty FIFO it is set already, and the fence its
    // store makes (see wake()) is needed only by the first immediate.
    if (was_empty) ct->immediates_waiting.store(true, std::memory_order_seq_cst);
    pthread_mutex_unlock(&ct->lock);
    if (was_empty) wake(ct, ev);
    pthread_mutex_unlock(&tctx->lock);
}

tevent_thread_proxy *threads_proxy_create(tevent_context *dest_ev_ctx) {
    if (dest_ev_ctx == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    if (dest_ev_ctx->wrapper.glue != nullptr) {
        // As in the reference: a proxy's handlers get no wrapper hooks.
        debug(dest_ev_ctx, TEVENT_DEBUG_FATAL, "%s() not allowed on a wrapper context\n", "tevent_thread_proxy_create");
        errno = EINVAL;
        return nullptr;
    }
    tevent_context *ev = dest_ev_ctx;
    ContextThreads *ct = context_threads(ev);
    if (ct == nullptr) return nullptr;
    auto *tp = static_cast<tevent_thread_proxy *>(talloc_zero_size(dest_ev_ctx, sizeof(tevent_thread_proxy)));
    if (tp == nullptr) {
        errno = ENOMEM;
        return nullptr;
    }
    talloc_set_name_const(tp, "struct tevent_thread_proxy");
    pthread_mutex_init(&tp->lock, nullptr);
    tp->dest = ev;
    tp->ct = ct;
    ct->proxies.push_front(tp);
    talloc_set_destructor(tp, proxy_destructor);
    return tp;
}

void threads_proxy_schedule(tevent_thread_proxy *tp, tevent_immediate **pp_im, tevent_immediate_handler_t handler,
                    void **pp_private_data) {
    if (tp == nullptr || pp_im == nullptr || *pp_im == nullptr || handler == nullptr) return;
    // Everything the message needs is allocated here, by the sender, on a
    // tree of its own; the receiving loop allocates nothing.
    auto *m = static_cast<ProxyMessage *>(talloc_zero_size(nullptr, sizeof(ProxyMessage)));
    if (m == nullptr) return;
    talloc_set_name_const(m, "struct tevent_thread_proxy_message");
    m->dispatch = immediate_create(m, TEV_LOCATION);
    if (m->dispatch == nullptr) {
        talloc_free(m);
        return;
    }
    m->handler = handler;
    m->tp = tp;

    pthread_mutex_lock(&tp->lock);
    if (tp->closed) {
        // Its context is gone: nothing is taken from the caller.
        pthread_mutex_unlock(&tp->lock);
        talloc_free(m);
        return;
    }
    m->im = talloc_steal(m, *pp_im);
    if (pp_private_data != nullptr && *pp_private_data != nullptr) {
        m->private_data = talloc_steal(m, *pp_private_data);
    }
    // As with threaded immediates: threads_activate() empties the inbox before the
    // loop can wait, so only a message into an empty inbox wakes it.
    bool was_empty = tp->inbox.empty();
    tp->inbox.push_front(m);
    tp->ct->messages_waiting.store(true, std::memory_order_seq_cst);  // see wake()
    if (was_empty) wake(tp->ct, tp->dest);
    pthread_mutex_unlock(&tp->lock);

    *pp_im = nullptr;
    if (pp_private_data != nullptr) *pp_private_data = nullptr;
}

void threads_activate(tevent_context *ev) {
    ContextThreads *ct = ev->threads;
    if (ct == nullptr) return;
    if (ct->immediates_waiting.load(std::memory_order_acquire)) {
        pthread_mutex_lock(&ct->lock);
        tevent_immediate *im = ct->fifo.take_all();
        ct->immediates_waiting.store(false, std::memory_order_relaxed);
        pthread_mutex_unlock(&ct->lock);
        if (im != nullptr) ct->hot = true;
        while (im != nullptr) {
            tevent_immediate *next = im->next;
            im->prev = im->next = nullptr;
            im->cancel_fn = nullptr;
            im->state = ImState::kIdle;
            im->additional_data = nullptr;
            immediate_schedule(im, ev, im->handler, im->private_data, im->handler_name, im->schedule_location);
            im = next;
        }
    }
    if (ct->messages_waiting.exchange(false, std::memory_order_acq_rel)) {
        for (tevent_thread_proxy *tp = ct->proxies.head; tp != nullptr; tp = tp->next) {
            pthread_mutex_lock(&tp->lock);
            ProxyMessage *batch = tp->inbox.take_all();
            pthread_mutex_unlock(&tp->lock);
            // Newest first, as the reference hands a batch to its loop.
            if (batch != nullptr) ct->hot = true;
            while (batch != nullptr) {
                ProxyMessage *m = batch;
                batch = m->next;
                tp->scheduled.push_front(m);
                immediate_schedule(m->dispatch, ev, dispatch, m, "tevent_thread_proxy_dispatch", TEV_LOCATION);
            }
        }
    }
}

bool threads_wait_begin(tevent_context *ev, int64_t *timeout_us) {
    ContextThreads *ct = ev->threads;
    // From now on this loop re-checks before it sleeps: senders may stop
    // poking it while it runs.
    if (ct->wake.load(std::memory_order_relaxed) == kUnknown) ct->wake.store(kAwake, std::memory_order_relaxed);
    if (ct->hot && ct->may_spin && ct->spin_backoff.worth_trying()) {
        int64_t limit = kSpinNs;
        if (*timeout_us >= 0 && *timeout_us * 1000 < limit) limit = *timeout_us * 1000;
        int64_t spent = 0;
        if (spin(ct, limit, &spent)) {
            ct->spin_backoff.succeeded();
            return true;
        }
        ct->hot = false;
        ct->spin_backoff.failed();
        if (*timeout_us >= 0) {
            int64_t left = *timeout_us - spent / 1000;
            *timeout_us = left > 0 ? left : 0;
        }
    }
    ct->wake.store(kSleeping, std::memory_order_seq_cst);
    if (work_waiting(ct, std::memory_order_seq_cst)) {
        ct->wake.store(kAwake, std::memory_order_relaxed);
        return true;
    }
    return false;
}

void threads_wait_end(tevent_context *ev) {
    ContextThreads *ct = ev->threads;
    // A sender may have poked meanwhile although the poller returned for
    // another reason: the descriptor stays readable and costs one spurious
    // wakeup later, which is harmless.
    ct->wake.store(kAwake, std::memory_order_relaxed);
}

void threads_wrapper_gone(tevent_context *ev, WrapperGlue *glue) {
    ContextThreads *ct = ev->threads;
    // Its threaded contexts drop what is sent from now on...
    for (tevent_threaded_context *tctx = ct->threaded.head; tctx != nullptr; tctx = tctx->next) {
        if (tctx->wrapper != glue) continue;
        pthread_mutex_lock(&tctx->lock);  // waits for a sender still appending
        tctx->event_ctx = nullptr;
        pthread_mutex_unlock(&tctx->lock);
    }
    // ...and what was sent but not queued yet never runs, like the
    // wrapper's other events.
    pthread_mutex_lock(&ct->lock);
    ct->fifo.for_each([&](tevent_immediate *im) {
        if (im->wrapper != glue) return;
        unlink_waiting_locked(ct, im);
        im->cancel_fn = nullptr;
        im->state = ImState::kIdle;
        im->additional_data = nullptr;
        im->wrapper = nullptr;
    });
    pthread_mutex_unlock(&ct->lock);
}

void threads_context_detach(tevent_context *ev) {
    ContextThreads *ct = ev->threads;
    if (ct == nullptr) return;
    for (tevent_threaded_context *tctx = ct->threaded.take_all(); tctx != nullptr;) {
        tevent_threaded_context *next = tctx->next;
        pthread_mutex_lock(&tctx->lock);
        tctx->event_ctx = nullptr;
        pthread_mutex_unlock(&tctx->lock);
        tctx->ct = nullptr;
        tctx->prev = tctx->next = nullptr;
        tctx = next;
    }
    for (tevent_thread_proxy *tp = ct->proxies.take_all(); tp != nullptr;) {
        tevent_thread_proxy *next = tp->next;
        close_proxy(tp);
        tp->ct = nullptr;
        tp->prev = tp->next = nullptr;
        tp = next;
    }
    // No sender can reach ct any more.
    for (tevent_immediate *im = ct->fifo.take_all(); im != nullptr;) {
        tevent_immediate *next = im->next;
        im->prev = im->next = nullptr;
        im->cancel_fn = nullptr;
        im->state = ImState::kIdle;
        im->additional_data = nullptr;
        im = next;
    }
    pthread_mutex_destroy(&ct->lock);
    ev->threads = nullptr;
    ct->~ContextThreads();
    free(ct);
}

}  // namespace tev

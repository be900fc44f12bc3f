// Immediates from other threads.
//
// tevent_threaded_context: the sender fills in the immediate (which the
// owning thread handed over and no longer touches), appends it to its
// target's FIFO and pokes the target's wakeup descriptor.  The target's
// loop moves the FIFO into its immediate queue (activate()).
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
#include "threads.hpp"

#include <errno.h>
#include <pthread.h>

#include <atomic>
#include <new>

#include "context.hpp"

namespace tev::thr {

struct ContextThreads {
    tevent_context *ev;
    pthread_mutex_t lock;  // guards the FIFO
    tevent_immediate *head;  // FIFO of handed-over immediates (their prev/next)
    tevent_immediate *tail;
    std::atomic<bool> immediates_waiting;
    std::atomic<bool> messages_waiting;
    // Owner thread only.
    tevent_threaded_context *threaded;
    tevent_thread_proxy *proxies;
};

}  // namespace tev::thr

struct tevent_threaded_context {
    pthread_mutex_t lock;          // guards event_ctx against the context going away
    tevent_context *event_ctx;     // nullptr once the context is gone
    tev::thr::ContextThreads *ct;  // owner thread only
    // Created on a wrapper: its immediates run with the wrapper's hooks.
    // Set once; read under `lock` while event_ctx is set.
    tev::WrapperGlue *wrapper;
    tevent_threaded_context *prev;
    tevent_threaded_context *next;
};

namespace tev::thr {
namespace {

// A proxy message: a parentless talloc object owning the user's immediate,
// the user's data and the immediate that dispatches it.
struct Message {
    Message *prev;  // in the proxy's inbox (newest first) or scheduled list
    Message *next;
    tevent_thread_proxy *tp;  // nullptr once the proxy is gone
    tevent_immediate *dispatch;
    tevent_immediate *im;
    tevent_immediate_handler_t handler;
    void *private_data;
};

}  // namespace
}  // namespace tev::thr

struct tevent_thread_proxy {
    pthread_mutex_t lock;  // guards inbox and closed
    tev::thr::Message *inbox;  // newest first
    bool closed;               // the context is gone: refuse messages
    tevent_context *dest;
    tev::thr::ContextThreads *ct;
    // Owner thread only.
    tev::thr::Message *scheduled;  // handed to the loop, not yet run
    tev::thr::Message *running;    // its handler runs right now
    tevent_thread_proxy *prev;
    tevent_thread_proxy *next;
};

namespace tev::thr {
namespace {

template <typename T>
void list_push_front(T *&head, T *e) {
    e->prev = nullptr;
    e->next = head;
    if (head != nullptr) head->prev = e;
    head = e;
}

template <typename T>
void list_remove(T *&head, T *e) {
    if (e->prev != nullptr) {
        e->prev->next = e->next;
    } else if (head == e) {
        head = e->next;
    }
    if (e->next != nullptr) e->next->prev = e->prev;
    e->prev = e->next = nullptr;
}

void poke(tevent_context *ev) {
    int fd = ev->wakeup.write_fd >= 0 ? ev->wakeup.write_fd : ev->wakeup.fd;
    if (fd >= 0) wakeup_fd(fd);
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
    pthread_mutex_init(&ct->lock, nullptr);
    ev->threads = ct;
    return ct;
}

// immediate_cancel() of an immediate still waiting in a FIFO (its owner
// freed or rescheduled it after all).
// Takes im out of ct's FIFO; ct->lock is held.
void unlink_waiting_locked(ContextThreads *ct, tevent_immediate *im) {
    if (im->prev != nullptr) {
        im->prev->next = im->next;
    } else {
        ct->head = im->next;
    }
    if (im->next != nullptr) {
        im->next->prev = im->prev;
    } else {
        ct->tail = im->prev;
    }
}

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
}

int threaded_context_destructor(tevent_threaded_context *tctx) {
    if (tctx->ct != nullptr) list_remove(tctx->ct->threaded, tctx);
    // Waits for a sender still inside threaded_schedule().
    pthread_mutex_lock(&tctx->lock);
    tctx->event_ctx = nullptr;
    pthread_mutex_unlock(&tctx->lock);
    pthread_mutex_destroy(&tctx->lock);
    return 0;
}

void free_messages(Message *m) {
    while (m != nullptr) {
        Message *next = m->next;
        m->tp = nullptr;
        talloc_free(m);
        m = next;
    }
}

void close_proxy(tevent_thread_proxy *tp) {
    pthread_mutex_lock(&tp->lock);
    tp->closed = true;
    Message *inbox = tp->inbox;
    tp->inbox = nullptr;
    pthread_mutex_unlock(&tp->lock);
    free_messages(inbox);
}

int proxy_destructor(tevent_thread_proxy *tp) {
    close_proxy(tp);
    free_messages(tp->scheduled);  // their dispatch immediates are cancelled
    tp->scheduled = nullptr;
    if (tp->running != nullptr) tp->running->tp = nullptr;  // freed by its dispatcher
    if (tp->ct != nullptr) list_remove(tp->ct->proxies, tp);
    pthread_mutex_destroy(&tp->lock);
    return 0;
}

void dispatch(tevent_context *ev, tevent_immediate *dispatch_im, void *private_data) {
    (void)dispatch_im;
    auto *m = static_cast<Message *>(private_data);
    tevent_thread_proxy *tp = m->tp;
    if (tp != nullptr) {
        list_remove(tp->scheduled, m);
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

tevent_threaded_context *threaded_context_create(TALLOC_CTX *mem_ctx, tevent_context *ev) {
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
    list_push_front(ct->threaded, tctx);
    talloc_set_destructor(tctx, threaded_context_destructor);
    return tctx;
}

void threaded_schedule(tevent_threaded_context *tctx, tevent_immediate *im, tevent_immediate_handler_t handler,
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
    im->additional_data = ct;
    // Kept by immediate_schedule() when activate() queues it.
    im->wrapper = tctx->wrapper;
    pthread_mutex_lock(&ct->lock);
    // activate() empties the FIFO before the loop can wait, so only the
    // first immediate after it needs to wake the loop; the rest find the
    // poke still pending (or the loop not asleep yet) and save a syscall.
    bool was_empty = ct->head == nullptr;
    im->next = nullptr;
    im->prev = ct->tail;
    if (ct->tail != nullptr) {
        ct->tail->next = im;
    } else {
        ct->head = im;
    }
    ct->tail = im;
    ct->immediates_waiting.store(true, std::memory_order_release);
    pthread_mutex_unlock(&ct->lock);
    if (was_empty) poke(ev);
    pthread_mutex_unlock(&tctx->lock);
}

tevent_thread_proxy *proxy_create(tevent_context *dest_ev_ctx) {
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
    list_push_front(ct->proxies, tp);
    talloc_set_destructor(tp, proxy_destructor);
    return tp;
}

void proxy_schedule(tevent_thread_proxy *tp, tevent_immediate **pp_im, tevent_immediate_handler_t handler,
                    void **pp_private_data) {
    if (tp == nullptr || pp_im == nullptr || *pp_im == nullptr || handler == nullptr) return;
    // Everything the message needs is allocated here, by the sender, on a
    // tree of its own; the receiving loop allocates nothing.
    auto *m = static_cast<Message *>(talloc_zero_size(nullptr, sizeof(Message)));
    if (m == nullptr) return;
    talloc_set_name_const(m, "struct tevent_thread_proxy_message");
    m->dispatch = immediate_create(m, __FILE__);
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
    // As with threaded immediates: activate() empties the inbox before the
    // loop can wait, so only a message into an empty inbox wakes it.
    bool was_empty = tp->inbox == nullptr;
    list_push_front(tp->inbox, m);
    tp->ct->messages_waiting.store(true, std::memory_order_release);
    if (was_empty) poke(tp->dest);
    pthread_mutex_unlock(&tp->lock);

    *pp_im = nullptr;
    if (pp_private_data != nullptr) *pp_private_data = nullptr;
}

void activate(tevent_context *ev) {
    ContextThreads *ct = ev->threads;
    if (ct == nullptr) return;
    if (ct->immediates_waiting.load(std::memory_order_acquire)) {
        pthread_mutex_lock(&ct->lock);
        tevent_immediate *im = ct->head;
        ct->head = ct->tail = nullptr;
        ct->immediates_waiting.store(false, std::memory_order_relaxed);
        pthread_mutex_unlock(&ct->lock);
        while (im != nullptr) {
            tevent_immediate *next = im->next;
            im->prev = im->next = nullptr;
            im->cancel_fn = nullptr;
            im->additional_data = nullptr;
            immediate_schedule(im, ev, im->handler, im->private_data, im->handler_name, im->schedule_location);
            im = next;
        }
    }
    if (ct->messages_waiting.exchange(false, std::memory_order_acq_rel)) {
        for (tevent_thread_proxy *tp = ct->proxies; tp != nullptr; tp = tp->next) {
            pthread_mutex_lock(&tp->lock);
            Message *batch = tp->inbox;
            tp->inbox = nullptr;
            pthread_mutex_unlock(&tp->lock);
            // Newest first, as the reference hands a batch to its loop.
            while (batch != nullptr) {
                Message *m = batch;
                batch = m->next;
                list_push_front(tp->scheduled, m);
                immediate_schedule(m->dispatch, ev, dispatch, m, "tevent_thread_proxy_dispatch", __FILE__);
            }
        }
    }
}

void wrapper_gone(tevent_context *ev, WrapperGlue *glue) {
    ContextThreads *ct = ev->threads;
    // Its threaded contexts drop what is sent from now on...
    for (tevent_threaded_context *tctx = ct->threaded; tctx != nullptr; tctx = tctx->next) {
        if (tctx->wrapper != glue) continue;
        pthread_mutex_lock(&tctx->lock);  // waits for a sender still appending
        tctx->event_ctx = nullptr;
        pthread_mutex_unlock(&tctx->lock);
    }
    // ...and what was sent but not queued yet never runs, like the
    // wrapper's other events.
    pthread_mutex_lock(&ct->lock);
    for (tevent_immediate *im = ct->head; im != nullptr;) {
        tevent_immediate *next = im->next;
        if (im->wrapper == glue) {
            unlink_waiting_locked(ct, im);
            im->prev = im->next = nullptr;
            im->cancel_fn = nullptr;
            im->additional_data = nullptr;
            im->wrapper = nullptr;
        }
        im = next;
    }
    pthread_mutex_unlock(&ct->lock);
}

void context_detach(tevent_context *ev) {
    ContextThreads *ct = ev->threads;
    if (ct == nullptr) return;
    for (tevent_threaded_context *tctx = ct->threaded; tctx != nullptr;) {
        tevent_threaded_context *next = tctx->next;
        pthread_mutex_lock(&tctx->lock);
        tctx->event_ctx = nullptr;
        pthread_mutex_unlock(&tctx->lock);
        tctx->ct = nullptr;
        tctx->prev = tctx->next = nullptr;
        tctx = next;
    }
    for (tevent_thread_proxy *tp = ct->proxies; tp != nullptr;) {
        tevent_thread_proxy *next = tp->next;
        close_proxy(tp);
        tp->ct = nullptr;
        tp->prev = tp->next = nullptr;
        tp = next;
    }
    // No sender can reach ct any more.
    for (tevent_immediate *im = ct->head; im != nullptr;) {
        tevent_immediate *next = im->next;
        im->prev = im->next = nullptr;
        im->cancel_fn = nullptr;
        im->additional_data = nullptr;
        im = next;
    }
    pthread_mutex_destroy(&ct->lock);
    ev->threads = nullptr;
    ct->~ContextThreads();
    free(ct);
}

}  // namespace tev::thr

// Catch2 tests of lib/tevent internals, linked against the tevent_internal
// static archive: the timer queue's order (against a model of the
// reference's list) and invariants under random operations, the
// intrusive event lists, the per-descriptor chains of the built-in
// backends, the wakeup descriptor, the signal ring, the cached pid and the
// backoff policy of the loop's shortcuts.
// The C API is tested by tests/tevent/api/api_*.c; these look at the state
// behind it.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tevent.h"
#include "tevent/backend.hpp"
#include "tevent/backoff.hpp"
#include "tevent/context.hpp"
#include "tevent/signal.hpp"
#include "tevent/timeval.hpp"

using namespace tev;

namespace {

// Owns a context for one test.
struct Ctx {
    tevent_context *ev;
    explicit Ctx(const char *backend) : ev(tevent_context_init_byname(nullptr, backend)) { REQUIRE(ev != nullptr); }
    ~Ctx() { talloc_free(ev); }
    Ctx(const Ctx &) = delete;
    Ctx &operator=(const Ctx &) = delete;
};

// The reference's order: deadline, then sequence number.
bool timer_before(const tevent_timer *a, const tevent_timer *b) {
    int c = tv_compare(a->next_event, b->next_event);
    return c < 0 || (c == 0 && a->seq < b->seq);
}

// Every timer where it says it is: the zero list, the run sorted, the
// heap property with each timer knowing its slot and keys matching.
void check_queue(const TimerQueue &q) {
    size_t n = 0;
    for (tevent_timer *te = q.zeros.head; te != nullptr; te = te->next, n++) {
        REQUIRE(te->place == TimerPlace::kZeros);
        REQUIRE(tv_is_zero(te->next_event));
    }
    REQUIRE(n == q.zeros.count);
    n = 0;
    for (tevent_timer *te = q.run.head; te != nullptr; te = te->next, n++) {
        REQUIRE(te->place == TimerPlace::kRun);
        if (te->prev != nullptr) REQUIRE(timer_before(te->prev, te));
    }
    REQUIRE(n == q.run.count);
    for (size_t i = 0; i < q.heap_count; i++) {
        const TimerHeapEntry &e = q.heap[i];
        REQUIRE(e.te->place == TimerPlace::kHeap);
        REQUIRE(e.te->heap_index == i);
        REQUIRE(e.seq == e.te->seq);
        if (i > 0) {
            const TimerHeapEntry &parent = q.heap[(i - 1) / 4];
            REQUIRE_FALSE(timer_before(e.te, parent.te));
            REQUIRE(parent.when <= e.when);
        }
    }
}

// The reference's timer list, as tevent_timed.c keeps it: sorted by a scan
// from the tail (behind every timer not later), except that
// tevent_add_timer() puts a zero deadline right behind the last zero timer
// it added (last_zero), which steps back to its predecessor when it goes.
struct ReferenceList {
    std::vector<tevent_timer *> list;
    tevent_timer *last_zero = nullptr;

    void insert(tevent_timer *te, bool after_last_zero) {
        size_t at;
        if (after_last_zero && tv_is_zero(te->next_event)) {
            at = 0;
            if (last_zero != nullptr) at = static_cast<size_t>(std::find(list.begin(), list.end(), last_zero) - list.begin()) + 1;
            last_zero = te;
        } else {
            at = list.size();
            while (at > 0 && tv_compare(te->next_event, list[at - 1]->next_event) < 0) at--;
        }
        list.insert(list.begin() + static_cast<long>(at), te);
    }
    void erase(tevent_timer *te) {
        auto it = std::find(list.begin(), list.end(), te);
        REQUIRE(it != list.end());
        if (last_zero == te) last_zero = it == list.begin() ? nullptr : *(it - 1);
        list.erase(it);
    }
};

}  // namespace

// ---- timers ------------------------------------------------------------------

TEST_CASE("timer queue: the reference's order under random operations on ordered, random and zero deadlines") {
    for (unsigned seed : {20240601u, 1u, 2u, 3u, 77u}) {
        std::mt19937 rng(seed);
        TimerQueue q;
        ReferenceList ref;
        std::uniform_int_distribution<int> op(0, 19);
        std::uniform_int_distribution<int> few(1, 12);  // random deadlines: ties are common
        std::vector<tevent_timer> pool(3000);
        std::vector<tevent_timer *> queued;
        size_t next_free = 0;
        long rising = 0;  // ordered deadlines: "now + constant"
        // Deadlines the reference compares field by field although they
        // are not normalised or far from now.
        const timeval odd[] = {{3, 1000000}, {3, 2000000}, {4, -1}, {4, -7}, {3, 999999},
                               {time_t{1} << 41, 0}, {(time_t{1} << 41) - 1, 999999}, {time_t{1} << 50, 5},
                               {time_t{1} << 50, 4}, {INT64_MAX, 0}};
        auto pick = [&] {
            switch (std::uniform_int_distribution<int>(0, 6)(rng)) {
                case 0:
                    return timeval{0, 0};
                case 1:
                case 2:
                    return timeval{few(rng), 0};
                case 3:
                    if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
                        return odd[std::uniform_int_distribution<size_t>(0, std::size(odd) - 1)(rng)];
                    }
                    return timeval{few(rng), 0};
                default:
                    rising += std::uniform_int_distribution<int>(0, 2)(rng);  // repeats too
                    return timeval{5 + rising / 1000000, rising % 1000000};
            }
        };
        for (int step = 0; step < 30000; step++) {
            int o = op(rng);
            if ((o < 8 || queued.empty()) && next_free < pool.size()) {
                tevent_timer *te = &pool[next_free++];
                te->next_event = pick();
                bool v2 = o != 0;  // tevent_common_add_timer() now and then
                REQUIRE(q.insert(te, v2));
                ref.insert(te, v2);
                queued.push_back(te);
            } else if (o < 11 && !queued.empty()) {
                // Freed while pending, from anywhere.
                size_t k = std::uniform_int_distribution<size_t>(0, queued.size() - 1)(rng);
                q.erase(queued[k]);
                ref.erase(queued[k]);
                REQUIRE(queued[k]->place == TimerPlace::kNone);
                queued.erase(queued.begin() + static_cast<long>(k));
            } else if (o < 15 && !queued.empty()) {
                // tevent_update_timer(): out and in again, a new sequence
                // number, no zero shortcut.
                size_t k = std::uniform_int_distribution<size_t>(0, queued.size() - 1)(rng);
                q.erase(queued[k]);
                ref.erase(queued[k]);
                queued[k]->next_event = pick();
                REQUIRE(q.insert(queued[k], false));
                ref.insert(queued[k], false);
            } else if (!queued.empty()) {
                // Fire the next one (several in a row, as a loop does).
                for (int n = std::uniform_int_distribution<int>(1, 4)(rng); n > 0 && !ref.list.empty(); n--) {
                    tevent_timer *te = q.top();
                    REQUIRE(te == ref.list.front());
                    q.erase(te);
                    ref.erase(te);
                    queued.erase(std::find(queued.begin(), queued.end(), te));
                }
            }
            REQUIRE(q.count() == queued.size());
            REQUIRE(q.top() == (ref.list.empty() ? nullptr : ref.list.front()));
            if (step % 97 == 0) check_queue(q);
        }
        check_queue(q);

        // Some leave at once (a wrapper's timers), the rest drain in order.
        for (tevent_timer *te : queued) te->tag = std::uniform_int_distribution<int>(0, 3)(rng) == 0;
        q.erase_if([](tevent_timer *te, void *) { return te->tag == 1; }, nullptr);
        for (tevent_timer *te : queued) {
            if (te->tag == 1) ref.erase(te);
        }
        check_queue(q);
        for (tevent_timer *te : ref.list) REQUIRE(te->place != TimerPlace::kNone);
        for (tevent_timer *want : ref.list) {
            REQUIRE(q.top() == want);
            q.erase(want);
        }
        REQUIRE(q.top() == nullptr);
        REQUIRE(q.count() == 0);
        q.release();
    }
}

TEST_CASE("timer queue: a wrapper's timers leave from every queue, the others keep their order") {
    std::mt19937 rng(5);
    TimerQueue q;
    std::vector<tevent_timer> pool(500);
    std::vector<tevent_timer *> stay;
    for (size_t i = 0; i < pool.size(); i++) {
        tevent_timer *te = &pool[i];
        int kind = std::uniform_int_distribution<int>(0, 2)(rng);
        te->next_event = kind == 0 ? timeval{0, 0} : kind == 1 ? timeval{std::uniform_int_distribution<int>(1, 9)(rng), 0} : timeval{10 + static_cast<long>(i), 0};
        te->tag = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
        REQUIRE(q.insert(te, true));
        if (te->tag == 0) stay.push_back(te);
    }
    REQUIRE(q.heap_count > 0);
    REQUIRE(q.run.count > 0);
    REQUIRE(q.zeros.count > 0);
    q.erase_if([](tevent_timer *te, void *) { return te->tag == 1; }, nullptr);
    check_queue(q);
    REQUIRE(q.count() == stay.size());
    for (tevent_timer &te : pool) REQUIRE((te.place == TimerPlace::kNone) == (te.tag == 1));
    // zeros first, in order added; then by (deadline, order added)
    std::stable_sort(stay.begin(), stay.end(), [](const tevent_timer *a, const tevent_timer *b) {
        return tv_compare(a->next_event, b->next_event) < 0;
    });
    for (tevent_timer *want : stay) {
        REQUIRE(q.top() == want);
        q.erase(want);
    }
    q.release();
}

TEST_CASE("timer queue: erasing something not queued is harmless") {
    TimerQueue q;
    tevent_timer a{}, b{};
    a.next_event = {1, 0};
    b.next_event = {1, 0};
    q.erase(&a);
    REQUIRE(q.insert(&a, true));
    REQUIRE(q.insert(&b, true));
    q.erase(&a);
    q.erase(&a);  // twice
    REQUIRE(q.count() == 1);
    REQUIRE(q.top() == &b);
    q.release();
}

namespace {
std::vector<int> g_fired;
void record_timer(tevent_context *, tevent_timer *, struct timeval, void *p) {
    g_fired.push_back(static_cast<int>(reinterpret_cast<intptr_t>(p)));
}
void record_im(tevent_context *, tevent_immediate *, void *p) {
    g_fired.push_back(static_cast<int>(reinterpret_cast<intptr_t>(p)));
}
}  // namespace

TEST_CASE("timer_step runs exactly one due timer per call, equal deadlines in the order added") {
    Ctx c("poll");
    g_fired.clear();
    struct timeval past = tv_now();
    past.tv_sec -= 5;
    for (intptr_t i = 0; i < 50; i++) {
        // Two deadlines interleaved; each group keeps its insertion order.
        struct timeval when = past;
        when.tv_sec += (i % 2);
        REQUIRE(timer_add(c.ev, c.ev, when, record_timer, reinterpret_cast<void *>(i), "t", "here") != nullptr);
    }
    REQUIRE(c.ev->timers.count() == 50);
    for (int n = 1; n <= 50; n++) {
        TimerStep s = timer_step(c.ev);
        REQUIRE(s.ran);
        REQUIRE(g_fired.size() == static_cast<size_t>(n));
        REQUIRE(c.ev->timers.count() == static_cast<size_t>(50 - n));
    }
    for (int i = 0; i < 25; i++) {
        REQUIRE(g_fired[static_cast<size_t>(i)] == 2 * i);
        REQUIRE(g_fired[static_cast<size_t>(25 + i)] == 2 * i + 1);
    }
    // Nothing left: the step asks to sleep for the wait timeout.
    TimerStep s = timer_step(c.ev);
    REQUIRE_FALSE(s.ran);
    REQUIRE(s.timeout_us == static_cast<int64_t>(c.ev->wait_timeout) * 1000000);
}

TEST_CASE("a timer in the future gives the delay until it, and does not run") {
    Ctx c("poll");
    g_fired.clear();
    struct timeval when = tv_now();
    when.tv_sec += 100;
    tevent_timer *te = timer_add(c.ev, c.ev, when, record_timer, nullptr, "t", "here");
    REQUIRE(te != nullptr);
    TimerStep s = timer_step(c.ev);
    REQUIRE_FALSE(s.ran);
    // Up to the deadline, never past it (no assumption about how long
    // the lines above took).
    REQUIRE(s.timeout_us > 0);
    REQUIRE(s.timeout_us <= 100 * 1000000LL);
    REQUIRE(g_fired.empty());
    // Moved into the past: runs on the next step.
    timer_update(te, tv_set(1, 0));
    REQUIRE(timer_step(c.ev).ran);
    REQUIRE(g_fired.size() == 1);
}

// ---- immediates and the event lists ------------------------------------------------

TEST_CASE("IList: push, remove, demote keep links and count consistent") {
    struct Node {
        Node *prev, *next;
        int v;
    };
    std::vector<Node> n(6);
    IList<Node> l;
    for (int i = 0; i < 6; i++) n[static_cast<size_t>(i)].v = i;
    for (int i = 0; i < 3; i++) l.push_back(&n[static_cast<size_t>(i)]);
    for (int i = 3; i < 6; i++) l.push_front(&n[static_cast<size_t>(i)]);
    auto order = [&] {
        std::vector<int> out;
        for (Node *e = l.head; e != nullptr; e = e->next) {
            if (e->next != nullptr) REQUIRE(e->next->prev == e);
            out.push_back(e->v);
        }
        if (l.head != nullptr) REQUIRE(l.head->prev == nullptr);
        if (l.tail != nullptr) REQUIRE(l.tail->next == nullptr);
        REQUIRE(out.size() == l.count);
        return out;
    };
    REQUIRE(order() == std::vector<int>{5, 4, 3, 0, 1, 2});
    l.demote(&n[5]);
    REQUIRE(order() == std::vector<int>{4, 3, 0, 1, 2, 5});
    l.demote(&n[5]);  // already last
    REQUIRE(order() == std::vector<int>{4, 3, 0, 1, 2, 5});
    l.remove(&n[0]);
    l.remove(&n[4]);
    l.remove(&n[5]);
    REQUIRE(order() == std::vector<int>{3, 1, 2});
    l.remove(&n[3]);
    l.remove(&n[1]);
    l.remove(&n[2]);
    REQUIRE(l.empty());
    REQUIRE(l.count == 0);
    REQUIRE(l.tail == nullptr);
}

TEST_CASE("immediates: FIFO, one per immediate_loop_one, rescheduling moves to the end") {
    Ctx c("poll");
    g_fired.clear();
    std::vector<tevent_immediate *> ims;
    for (intptr_t i = 0; i < 5; i++) {
        tevent_immediate *im = immediate_create(c.ev, "here");
        REQUIRE(im != nullptr);
        immediate_schedule(im, c.ev, record_im, reinterpret_cast<void *>(i), "im", "here");
        ims.push_back(im);
    }
    immediate_schedule(ims[1], c.ev, record_im, reinterpret_cast<void *>(1), "im", "here");
    immediate_schedule(ims[3], c.ev, nullptr, nullptr, nullptr, "here");  // cancel
    REQUIRE(c.ev->immediates.count == 4);
    while (immediate_loop_one(c.ev)) {
    }
    REQUIRE(g_fired == std::vector<int>{0, 2, 4, 1});
    REQUIRE(c.ev->immediates.empty());
}

// ---- built-in backends: descriptor chains ------------------------------------------

namespace {
void nop_fd(tevent_context *, tevent_fd *, uint16_t, void *) {}

std::vector<tevent_fd *> chain(tevent_context *ev, int fd) {
    std::vector<tevent_fd *> out;
    FdSlot *s = ev->backend->slot(fd);
    REQUIRE(s != nullptr);
    for (tevent_fd *f = s->chain.head; f != nullptr; f = f->fd_next) {
        if (f->fd_next != nullptr) REQUIRE(f->fd_next->fd_prev == f);
        out.push_back(f);
    }
    REQUIRE((out.empty() ? s->chain.tail == nullptr : s->chain.tail == out.back()));
    REQUIRE(s->chain.count == out.size());
    return out;
}
}  // namespace

TEST_CASE("several fd events on one descriptor: one chain, the kernel watches the union of their flags") {
    const char *backend = GENERATE("epoll", "poll", "poll_mt", "standard");
    CAPTURE(backend);
    Ctx c(backend);
    REQUIRE(c.ev->backend != nullptr);
    int p[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0);

    tevent_fd *a = fd_add(c.ev, c.ev, p[0], TEVENT_FD_READ, nop_fd, nullptr, "a", "here");
    tevent_fd *b = fd_add(c.ev, c.ev, p[0], TEVENT_FD_WRITE, nop_fd, nullptr, "b", "here");
    tevent_fd *d = fd_add(c.ev, c.ev, p[0], 0, nop_fd, nullptr, "d", "here");
    REQUIRE((a && b && d));
    FdSlot *s = c.ev->backend->slot(p[0]);
    REQUIRE(chain(c.ev, p[0]).size() == 3);
    // (epoll's updates wait for the next wait: made here)
    Backend *be = c.ev->backend;
    backend_apply_updates(be);
    REQUIRE(s->watching == (TEVENT_FD_READ | TEVENT_FD_WRITE));

    fd_set_flags(a, 0);
    backend_apply_updates(be);
    REQUIRE(s->watching == TEVENT_FD_WRITE);
    fd_set_flags(b, 0);
    REQUIRE(s->watching == 0);      // at once, wherever the poller defers
    REQUIRE(s->poller_slot == -1);  // the kernel watches nothing for it
    fd_set_flags(d, TEVENT_FD_READ);
    backend_apply_updates(be);
    REQUIRE(s->watching == TEVENT_FD_READ);

    talloc_free(d);
    REQUIRE(chain(c.ev, p[0]).size() == 2);
    REQUIRE(s->watching == 0);
    talloc_free(a);
    talloc_free(b);
    REQUIRE(chain(c.ev, p[0]).empty());
    close(p[0]);
    close(p[1]);
}

TEST_CASE("epoll: kernel updates wait for the next wait, so changes that cancel out cost none; removals do not wait") {
    Ctx c("epoll");
    Backend *be = c.ev->backend;
    int p[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0);
    // Added and freed before a wait: the kernel never hears of it.
    tevent_fd *a = fd_add(c.ev, c.ev, p[0], TEVENT_FD_READ, nop_fd, nullptr, "a", "here");
    FdSlot *s = be->slot(p[0]);
    REQUIRE(s->watching == 0);
    REQUIRE(s->poller_slot == -1);
    REQUIRE(be->stale_head == p[0]);
    talloc_free(a);
    REQUIRE_FALSE(backend_apply_updates(be));
    REQUIRE(be->stale_head == -1);
    REQUIRE(s->next_stale == kNotStale);
    REQUIRE(s->poller_slot == -1);

    a = fd_add(c.ev, c.ev, p[0], TEVENT_FD_READ, nop_fd, nullptr, "a", "here");
    REQUIRE_FALSE(backend_apply_updates(be));
    REQUIRE(s->watching == TEVENT_FD_READ);
    REQUIRE(s->poller_slot == 0);  // in the epoll set
    // Flags set and set back: still what the kernel has.
    fd_set_flags(a, TEVENT_FD_READ | TEVENT_FD_WRITE);
    REQUIRE(s->watching == TEVENT_FD_READ);
    fd_set_flags(a, TEVENT_FD_READ);
    REQUIRE_FALSE(backend_apply_updates(be));
    REQUIRE(s->watching == TEVENT_FD_READ);
    // Nobody wants it: out of the kernel at once (the caller may close it).
    fd_set_flags(a, TEVENT_FD_WRITE);
    fd_set_flags(a, 0);
    REQUIRE(s->watching == 0);
    REQUIRE(s->poller_slot == -1);
    REQUIRE_FALSE(backend_apply_updates(be));
    REQUIRE(s->poller_slot == -1);
    talloc_free(a);

    // Closed before the update was made: taken out then, and the wait that
    // made it does not block.
    int q[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, q) == 0);
    tevent_fd *gone = fd_add(c.ev, c.ev, q[0], TEVENT_FD_READ, nop_fd, nullptr, "gone", "here");
    close(q[0]);
    close(q[1]);
    REQUIRE(backend_wait(be, -1) == 0);
    REQUIRE(gone->event_ctx == nullptr);
    talloc_free(gone);
    close(p[0]);
    close(p[1]);
}

TEST_CASE("the chain of one descriptor is in its poller's serving order; changing flags keeps it") {
    const char *backend = GENERATE("epoll", "poll");
    CAPTURE(backend);
    Ctx c(backend);
    int p[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0);
    tevent_fd *r = fd_add(c.ev, c.ev, p[0], TEVENT_FD_READ, nop_fd, nullptr, "r", "here");
    tevent_fd *w = fd_add(c.ev, c.ev, p[0], TEVENT_FD_WRITE, nop_fd, nullptr, "w", "here");
    tevent_fd *z = fd_add(c.ev, c.ev, p[0], 0, nop_fd, nullptr, "z", "here");
    // epoll: upstream's multiplex list, oldest first; poll: the context's
    // list of fd events, newest first.
    const bool epoll = std::string(backend) == "epoll";
    const std::vector<tevent_fd *> added = epoll ? std::vector<tevent_fd *>{r, w, z} : std::vector<tevent_fd *>{z, w, r};
    REQUIRE(chain(c.ev, p[0]) == added);
    // 0.14.1's epoll moved the event changed last to the front; 0.17 does not.
    fd_set_flags(w, TEVENT_FD_WRITE | TEVENT_FD_READ);
    fd_set_flags(z, TEVENT_FD_READ);
    fd_set_flags(r, 0);
    REQUIRE(chain(c.ev, p[0]) == added);
    talloc_free(z);
    talloc_free(r);
    talloc_free(w);
    close(p[0]);
    close(p[1]);
}

// ---- the wakeup descriptor ----------------------------------------------------------

namespace {
void *poke_later(void *arg) {
    // No sleep needed: whether the loop already sleeps or not, the
    // descriptor stays readable until drained.
    wakeup(static_cast<tevent_context *>(arg));
    return nullptr;
}
}  // namespace

TEST_CASE("wakeup descriptor: one per context, idempotent, not something to wait for, wakes the loop") {
    const char *backend = GENERATE("epoll", "poll", "poll_mt", "standard");
    CAPTURE(backend);
    Ctx c(backend);
    REQUIRE(wakeup(c.ev) == EINVAL);  // not initialised yet
    REQUIRE(wakeup_init(c.ev) == 0);
    int fd = c.ev->wakeup.fd;
    REQUIRE(fd >= 0);
    REQUIRE(c.ev->wakeup.fde != nullptr);
    REQUIRE(wakeup_init(c.ev) == 0);
    REQUIRE(c.ev->wakeup.fd == fd);
    REQUIRE(c.ev->fd_events.count == 1);
    REQUIRE_FALSE(loop_have_events(c.ev));

    // Poked twice: one loop iteration drains it completely.
    REQUIRE(wakeup(c.ev) == 0);
    REQUIRE(wakeup_fd(fd) == 0);
    tevent_context_set_wait_timeout(c.ev, UINT32_MAX);  // only the poke can end the wait
    REQUIRE(loop_once(c.ev, "here") == 0);
    uint64_t left = 0;
    REQUIRE(read(fd, &left, sizeof(left)) < 0);
    REQUIRE(errno == EAGAIN);

    // From another thread, while the loop sleeps with no timeout.
    pthread_t t;
    REQUIRE(pthread_create(&t, nullptr, poke_later, c.ev) == 0);
    REQUIRE(loop_once(c.ev, "here") == 0);
    pthread_join(t, nullptr);

    // The descriptor goes with the context's re-initialisation.
    REQUIRE(re_initialise(c.ev) == 0);
    REQUIRE(c.ev->wakeup.fde == nullptr);
    REQUIRE(c.ev->wakeup.fd == -1);
    REQUIRE(fcntl(fd, F_GETFD) == -1);  // closed
}

namespace {
void sig_nop(tevent_context *, tevent_signal *, int, int, void *, void *) {}
}  // namespace

TEST_CASE("threaded contexts, thread proxies and signals share the context's one wakeup descriptor") {
    Ctx c("epoll");
    tevent_threaded_context *tctx = tevent_threaded_context_create(c.ev, c.ev);
    REQUIRE(tctx != nullptr);
    int fd = c.ev->wakeup.fd;
    REQUIRE(fd >= 0);
    tevent_thread_proxy *tp = tevent_thread_proxy_create(c.ev);
    REQUIRE(tp != nullptr);
    tevent_threaded_context *tctx2 = tevent_threaded_context_create(c.ev, c.ev);
    REQUIRE(tctx2 != nullptr);
    tevent_signal *se = signal_add(c.ev, c.ev, SIGUSR2, 0, sig_nop, nullptr, "nop", "here");
    REQUIRE(se != nullptr);
    REQUIRE(c.ev->wakeup.fd == fd);
    REQUIRE(c.ev->fd_events.count == 1);  // the wakeup descriptor's event only
    talloc_free(se);
    talloc_free(tp);
    talloc_free(tctx2);
    talloc_free(tctx);
    signal(SIGUSR2, SIG_DFL);
}

// ---- signals: the siginfo ring ------------------------------------------------------

namespace {
std::vector<int> g_values;
int g_calls;
void sig_record(tevent_context *, tevent_signal *, int, int count, void *info, void *) {
    // CHECK, not REQUIRE: nothing may be thrown through the library.
    g_calls++;
    CHECK(count == 1);  // SA_SIGINFO: one call per siginfo
    if (info == nullptr) return;
    g_values.push_back(static_cast<siginfo_t *>(info)->si_value.sival_int);
}
}  // namespace

TEST_CASE("siginfo ring: more signals than it holds arrive once each, in order, across wrap-around", "[signals]") {
    STATIC_REQUIRE((kSignalInfoQueue & (kSignalInfoQueue - 1)) == 0);
    REQUIRE(tevent_sa_info_queue_count() == kSignalInfoQueue);
    Ctx c("epoll");
    int signum = SIGRTMIN + 3;
    g_values.clear();
    g_calls = 0;
    tevent_signal *se = signal_add(c.ev, c.ev, signum, SA_SIGINFO, sig_record, nullptr, "rec", "here");
    REQUIRE(se != nullptr);

    // Three and a half rings, delivered in rounds smaller and larger
    // than the ring.  A full ring blocks the signal until the loop drains
    // it; the kernel keeps the rest queued.
    const int rounds[] = {100, 256, 300, 240};
    int sent = 0;
    for (int n : rounds) {
        for (int i = 0; i < n; i++) {
            union sigval v;
            v.sival_int = sent++;
            REQUIRE(sigqueue(getpid(), signum, v) == 0);
        }
        while (g_calls < sent) {
            REQUIRE(signal_check(c.ev) == 1);
        }
        REQUIRE(g_calls == sent);
    }
    REQUIRE(signal_check(c.ev) == 0);
    for (int i = 0; i < sent; i++) REQUIRE(g_values[static_cast<size_t>(i)] == i);
    // Not left blocked.
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, nullptr, &cur);
    REQUIRE_FALSE(sigismember(&cur, signum));
    talloc_free(se);
}

TEST_CASE("plain signals coalesce into counts", "[signals]") {
    Ctx c("poll");
    int calls = 0, total = 0;
    struct Rec {
        int *calls, *total;
    } rec{&calls, &total};
    auto handler = [](tevent_context *, tevent_signal *, int, int count, void *info, void *p) {
        auto *r = static_cast<Rec *>(p);
        CHECK(info == nullptr);
        (*r->calls)++;
        *r->total += count;
    };
    tevent_signal *se = signal_add(c.ev, c.ev, SIGUSR1, 0, handler, &rec, "h", "here");
    REQUIRE(se != nullptr);
    for (int i = 0; i < 7; i++) raise(SIGUSR1);
    REQUIRE(signal_check(c.ev) == 1);
    REQUIRE(calls == 1);
    REQUIRE(total == 7);
    REQUIRE(signal_check(c.ev) == 0);
    talloc_free(se);
}

// ---- the cached pid ------------------------------------------------------------------

TEST_CASE("cached_getpid follows fork") {
    REQUIRE(cached_getpid() == getpid());
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) _exit(cached_getpid() == getpid() ? 0 : 1);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(cached_getpid() == getpid());
}

// ---- backoff (backoff.hpp) -----------------------------------------------------------

namespace {

// How many chances pass before the shortcut is worth trying again.
int chances_let_pass(Backoff &b) {
    int passed = 0;
    while (!b.worth_trying()) passed++;
    return passed;
}

}  // namespace

TEST_CASE("a shortcut that never failed is always worth trying", "[backoff]") {
    Backoff b;
    for (int i = 0; i < 1000; i++) REQUIRE(b.worth_trying());
    b.succeeded();
    REQUIRE(b.worth_trying());
}

TEST_CASE("each failure in a row lets twice as many chances pass, up to 256", "[backoff]") {
    Backoff b;
    int expected[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 256, 256};
    for (int want : expected) {
        REQUIRE(b.worth_trying());
        b.failed();
        REQUIRE(chances_let_pass(b) == want);
    }
}

TEST_CASE("each success halves what the next failure lets pass", "[backoff]") {
    Backoff b;
    for (int i = 0; i < 6; i++) {
        b.failed();
        chances_let_pass(b);
    }
    // Now at 32: one success brings the next failure's wait to 2 x 16.
    b.succeeded();
    b.failed();
    REQUIRE(chances_let_pass(b) == 32);
    // Enough successes bring it back to the start.
    for (int i = 0; i < 10; i++) b.succeeded();
    b.failed();
    REQUIRE(chances_let_pass(b) == 1);
}

TEST_CASE("alternating success and failure settles at a short wait", "[backoff]") {
    Backoff b;
    int last = 0;
    for (int i = 0; i < 100; i++) {
        b.succeeded();
        b.failed();
        last = chances_let_pass(b);
    }
    // backoff -> (backoff / 2) * 2 (or 1 from zero): it does not grow.
    REQUIRE(last == 1);
}

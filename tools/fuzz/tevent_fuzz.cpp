// libFuzzer harness for tevent: the fuzzer's bytes choose operations on
// timers, immediates and fd events (add, free, update/reschedule, change
// flags), at top level and from inside the handlers that fire, and how many
// loop iterations run.  A model predicts each iteration, following the
// reference's loop_once: the first scheduled immediate if there is one
// (immediates run in scheduling order); else the earliest due timer (equal
// times in the order added or updated); else one fd event among those whose
// descriptor is ready.  Any other handler, a handler of a freed event, or a
// memory error (ASan) is a crash.
//
// Timers are either in the past (due at once, ordered by their time) or far
// in the future (never due), so the outcome does not depend on the clock.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "talloc.h"
#include "tevent.h"

#include "fuzz_require.hpp"

namespace {

enum class Kind { Timer, Immediate, Fd };

class Fuzz;

struct Event {
    Kind kind;
    int id;
    bool live = true;
    // timers
    tevent_timer *te = nullptr;
    bool due = false;       // in the past: fires; else far future
    uint64_t when = 0;      // microseconds since the epoch, for due timers
    uint64_t order = 0;     // tie-break: when it was added or last updated
    // immediates
    tevent_immediate *im = nullptr;
    bool scheduled = false;
    // fd events
    tevent_fd *fde = nullptr;
    int rfd = -1, wfd = -1;
    bool reading = false;
    int fired = 0;
    Fuzz *owner = nullptr;
};

struct Input {
    const uint8_t *data;
    size_t left;
    size_t pick(size_t n) {
        if (n <= 1 || left == 0) return 0;
        size_t v = *data++;
        left--;
        return v % n;
    }
};

class Fuzz {
public:
    explicit Fuzz(Input in) : in_(in) {
        mem_ = talloc_new(nullptr);
        ev_ = tevent_context_init_byname(mem_, kBackends[in_.pick(4)]);
        FUZZ_REQUIRE(ev_ != nullptr);
    }

    ~Fuzz() {
        // Free the context with events still pending: none may fire.
        talloc_free(mem_);
        for (Event *e : events_) {
            if (e->rfd >= 0) {
                close(e->rfd);
                close(e->wfd);
            }
            delete e;
        }
    }

    void run() {
        int steps = 0;
        while (in_.left > 0 && steps++ < 300) {
            if (in_.pick(3) == 0) {
                iterate();
            } else {
                act(nullptr);
            }
        }
        // Drain what is due; at most a bounded number of rounds.
        for (int i = 0; i < 200 && something_ready(); i++) iterate();
    }

private:
    static constexpr const char *kBackends[4] = {"epoll", "poll", "poll_mt", "standard"};

    // ---- the model's prediction -------------------------------------------

    bool something_ready() {
        if (!imm_queue_.empty()) return true;
        for (Event *e : events_) {
            if (e->live && e->kind == Kind::Timer && e->due) return true;
            if (e->live && e->kind == Kind::Fd && e->reading) return true;
        }
        return false;
    }

    Event *next_timer() {
        Event *best = nullptr;
        for (Event *e : events_) {
            if (!e->live || e->kind != Kind::Timer || !e->due) continue;
            if (best == nullptr || e->when < best->when || (e->when == best->when && e->order < best->order)) best = e;
        }
        return best;
    }

    void iterate() {
        if (!something_ready()) {
            // Never let the loop sleep: give it a zero timer.
            add_timer(true, 0);
        }
        expected_ = nullptr;
        expect_fd_ = false;
        if (!imm_queue_.empty()) {
            expected_ = imm_queue_.front();
        } else if (Event *t = next_timer()) {
            expected_ = t;
        } else {
            expect_fd_ = true;
        }
        fired_ = nullptr;
        int rc = tevent_loop_once(ev_);
        FUZZ_REQUIRE(rc == 0);
        FUZZ_REQUIRE(fired_ != nullptr);  // exactly one handler per iteration
    }

    // ---- handlers -----------------------------------------------------------

    void fired(Event *e) {
        FUZZ_REQUIRE(e->live);
        FUZZ_REQUIRE(fired_ == nullptr);  // one handler per iteration
        fired_ = e;
        if (expect_fd_) {
            FUZZ_REQUIRE(e->kind == Kind::Fd && e->reading);
        } else {
            FUZZ_REQUIRE(e == expected_);
        }
        e->fired++;
    }

    static void on_timer(tevent_context *, tevent_timer *, struct timeval, void *priv) {
        auto *e = static_cast<Event *>(priv);
        Fuzz *f = e->owner;
        f->fired(e);
        // A timer is gone once its handler runs.
        e->live = false;
        e->te = nullptr;
        f->act_in_handler(e);
    }

    static void on_immediate(tevent_context *, tevent_immediate *, void *priv) {
        auto *e = static_cast<Event *>(priv);
        Fuzz *f = e->owner;
        f->fired(e);
        FUZZ_REQUIRE(!f->imm_queue_.empty() && f->imm_queue_.front() == e);
        f->imm_queue_.erase(f->imm_queue_.begin());
        e->scheduled = false;
        f->act_in_handler(e);
    }

    static void on_fd(tevent_context *, tevent_fd *, uint16_t flags, void *priv) {
        auto *e = static_cast<Event *>(priv);
        Fuzz *f = e->owner;
        FUZZ_REQUIRE(flags == TEVENT_FD_READ);
        f->fired(e);
        f->act_in_handler(e);
    }

    void act_in_handler(Event *self) {
        size_t n = in_.pick(4);
        for (size_t i = 0; i < n; i++) act(self);
    }

    // ---- operations -----------------------------------------------------------

    Event *new_event(Kind k) {
        auto *e = new Event;
        e->kind = k;
        e->id = static_cast<int>(events_.size());
        e->owner = this;
        events_.push_back(e);
        return e;
    }

    Event *random_live(Kind k) {
        std::vector<Event *> c;
        for (Event *e : events_) {
            if (e->live && e->kind == k) c.push_back(e);
        }
        return c.empty() ? nullptr : c[in_.pick(c.size())];
    }

    struct timeval time_of(bool due, uint64_t when) {
        if (!due) return tevent_timeval_current_ofs(100000, 0);
        return tevent_timeval_set(static_cast<uint32_t>(when / 1000000), static_cast<uint32_t>(when % 1000000));
    }

    void add_timer(bool due, uint64_t when) {
        Event *e = new_event(Kind::Timer);
        e->due = due;
        e->when = when;
        e->order = ++clock_;
        e->te = tevent_add_timer(ev_, mem_, time_of(due, when), on_timer, e);
        FUZZ_REQUIRE(e->te != nullptr);
    }

    void act(Event *self) {
        switch (in_.pick(10)) {
        case 0:
            // Past times: zero, or a few distinct microseconds after the
            // epoch, so equal times happen often.
            add_timer(in_.pick(4) != 0, in_.pick(2) == 0 ? 0 : 1 + in_.pick(5));
            break;
        case 1: {
            Event *e = random_live(Kind::Timer);
            if (e == nullptr) break;
            // Not to time zero: the reference files a timer updated to zero
            // behind zero timers added later (its last_zero_timer shortcut).
            e->due = in_.pick(3) != 0;
            e->when = 1 + in_.pick(5);
            e->order = ++clock_;
            tevent_update_timer(e->te, time_of(e->due, e->when));
            break;
        }
        case 2: {
            Event *e = random_live(Kind::Timer);
            if (e == nullptr) break;
            talloc_free(e->te);
            e->te = nullptr;
            e->live = false;
            break;
        }
        case 3: {
            Event *e = new_event(Kind::Immediate);
            e->im = tevent_create_immediate(mem_);
            FUZZ_REQUIRE(e->im != nullptr);
            schedule(e);
            break;
        }
        case 4: {
            // Scheduling a scheduled immediate again moves it to the end.
            Event *e = random_live(Kind::Immediate);
            if (e != nullptr) schedule(e);
            break;
        }
        case 5: {
            Event *e = random_live(Kind::Immediate);
            if (e == nullptr) break;
            if (in_.pick(2) == 0) {
                talloc_free(e->im);
                e->im = nullptr;
                e->live = false;
            } else {
                tevent_schedule_immediate(e->im, ev_, nullptr, nullptr);  // cancels
            }
            unqueue(e);
            break;
        }
        case 6: {
            Event *e = new_event(Kind::Fd);
            int p[2];
            FUZZ_REQUIRE(pipe2(p, O_CLOEXEC) == 0);
            e->rfd = p[0];
            e->wfd = p[1];
            e->reading = in_.pick(2) == 0;
            FUZZ_REQUIRE(write(e->wfd, "x", 1) == 1);  // never read: stays readable
            e->fde = tevent_add_fd(ev_, mem_, e->rfd, e->reading ? TEVENT_FD_READ : 0, on_fd, e);
            FUZZ_REQUIRE(e->fde != nullptr);
            break;
        }
        case 7: {
            // Data stays in the pipe: READ means ready, 0 means ignored.
            Event *e = random_live(Kind::Fd);
            if (e == nullptr) break;
            e->reading = !e->reading;
            tevent_fd_set_flags(e->fde, e->reading ? TEVENT_FD_READ : 0);
            FUZZ_REQUIRE(tevent_fd_get_flags(e->fde) == (e->reading ? TEVENT_FD_READ : 0));
            break;
        }
        case 8: {
            Event *e = random_live(Kind::Fd);
            if (e == nullptr) break;
            talloc_free(e->fde);
            e->fde = nullptr;
            e->live = false;
            break;
        }
        case 9:
            // Free the running event itself from its handler.
            if (self != nullptr && self->live) {
                if (self->kind == Kind::Immediate) {
                    talloc_free(self->im);
                    self->im = nullptr;
                    self->live = false;
                    unqueue(self);
                } else if (self->kind == Kind::Fd) {
                    talloc_free(self->fde);
                    self->fde = nullptr;
                    self->live = false;
                }
            }
            break;
        }
    }

    void unqueue(Event *e) {
        for (size_t i = 0; i < imm_queue_.size(); i++) {
            if (imm_queue_[i] == e) {
                imm_queue_.erase(imm_queue_.begin() + static_cast<long>(i));
                break;
            }
        }
        e->scheduled = false;
    }

    void schedule(Event *e) {
        unqueue(e);
        tevent_schedule_immediate(e->im, ev_, on_immediate, e);
        imm_queue_.push_back(e);
        e->scheduled = true;
    }

    Input in_;
    void *mem_ = nullptr;
    tevent_context *ev_ = nullptr;
    std::vector<Event *> events_;
    std::vector<Event *> imm_queue_;
    uint64_t clock_ = 0;
    Event *expected_ = nullptr;
    bool expect_fd_ = false;
    Event *fired_ = nullptr;

};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Fuzz f(Input{data, size});
    f.run();
    return 0;
}

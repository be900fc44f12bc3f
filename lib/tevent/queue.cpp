// tevent_queue: serialises requests.  Only the head entry is ever
// triggered; it stays at the head (blocking the rest) until its entry is
// freed, normally together with its request.  Advancing goes through the
// queue's own immediate so triggers never nest inside the code that freed
// the previous entry.
#include "req.hpp"

#include "context.hpp"
#include "list.hpp"

struct tevent_queue_entry {
    tevent_queue_entry *prev;
    tevent_queue_entry *next;
    tevent_queue *queue;  // nullptr once the queue is gone
    bool triggered;
    tevent_req *req;
    tevent_context *ev;
    tevent_queue_trigger_fn_t trigger;
    const char *trigger_name;
    void *private_data;
    uint64_t tag;
};

struct tevent_queue {
    const char *name;
    const char *location;
    bool running;
    tevent_immediate *immediate;
    // In the order added; only the head is ever triggered.  An all-zero
    // list is empty, so the zeroed allocation needs no constructor.
    tev::IList<tevent_queue_entry> entries;
};

namespace tev {
namespace {

void queue_immediate_trigger(tevent_context *ev, tevent_immediate *, void *private_data);

// A NULL trigger makes the entry a pure blocker.
void noop_trigger(tevent_req *, void *) {}

void schedule_head(tevent_queue *q) {
    _tevent_schedule_immediate(q->immediate, q->entries.head->ev, queue_immediate_trigger, q,
                               "tevent_queue_immediate_trigger",
                               TEV_LOCATION);
}

void run_head(tevent_queue *q, tevent_context *ev) {
    tevent_queue_entry *e = q->entries.head;
    trace_queue(ev, e, TEVENT_EVENT_TRACE_BEFORE_HANDLER);
    call_depth_notify(TEVENT_CALL_FLOW_REQ_QUEUE_TRIGGER, e->req, e->req->call_depth, e->trigger_name);
    e->triggered = true;
    e->trigger(e->req, e->private_data);
}

void queue_immediate_trigger(tevent_context *ev, tevent_immediate *, void *private_data) {
    auto *q = static_cast<tevent_queue *>(private_data);
    // Stopped or emptied since the immediate was scheduled.
    if (!q->running || q->entries.head == nullptr) return;
    run_head(q, ev);
}

int entry_destructor(void *ptr) {
    auto *e = static_cast<tevent_queue_entry *>(ptr);
    tevent_queue *q = e->queue;
    if (q == nullptr) return 0;

    trace_queue(e->ev, e, TEVENT_EVENT_TRACE_DETACH);
    // The request is still readable: talloc frees children before parents.
    call_depth_notify(TEVENT_CALL_FLOW_REQ_QUEUE_LEAVE, e->req, e->req->call_depth, e->trigger_name);
    q->entries.remove(e);
    e->queue = nullptr;

    if (q->running && q->entries.head != nullptr && !q->entries.head->triggered) schedule_head(q);
    return 0;
}

int queue_destructor(void *ptr) {
    auto *q = static_cast<tevent_queue *>(ptr);
    // Stopped first, so freeing the head does not schedule the next one.
    q->running = false;
    while (q->entries.head != nullptr) {
        tevent_queue_entry *e = q->entries.head;
        if (talloc_free(e) != 0) {
            // Kept alive by a talloc reference: detach it by hand so it
            // cannot touch the freed queue later.
            q->entries.remove(e);
            e->queue = nullptr;
        }
    }
    return 0;
}

}  // namespace

tevent_queue *queue_create(TALLOC_CTX *mem_ctx, const char *name, const char *location) {
    auto *q = talloc_new_zeroed<tevent_queue>(mem_ctx, "struct tevent_queue");
    if (q == nullptr) return nullptr;
    q->name = talloc_strdup(q, name);
    if (q->name == nullptr) {
        talloc_free(q);
        return nullptr;
    }
    q->immediate = _tevent_create_immediate(q, TEV_LOCATION);
    if (q->immediate == nullptr) {
        talloc_free(q);
        return nullptr;
    }
    q->location = location;
    q->running = true;
    _talloc_set_destructor(q, queue_destructor);
    return q;
}

tevent_queue_entry *queue_add(tevent_queue *queue, tevent_context *ev, tevent_req *req,
                              tevent_queue_trigger_fn_t trigger, const char *trigger_name, void *private_data,
                              bool allow_direct) {
    if (queue == nullptr || req == nullptr) return nullptr;
    // The entry belongs to the request: freeing the request leaves the queue.
    auto *e = talloc_new_zeroed<tevent_queue_entry>(req, "struct tevent_queue_entry");
    if (e == nullptr) return nullptr;
    e->queue = queue;
    e->req = req;
    e->ev = ev;
    e->trigger = trigger != nullptr ? trigger : noop_trigger;
    e->trigger_name = trigger_name;
    e->private_data = private_data;

    // Triggering directly is only safe when nothing is ahead of us and the
    // caller has not set a callback yet (the trigger may finish the request).
    if (!queue->entries.empty() || req->callback.fn != nullptr) allow_direct = false;

    queue->entries.push_back(e);
    _talloc_set_destructor(e, entry_destructor);

    trace_queue(ev, e, TEVENT_EVENT_TRACE_ATTACH);
    call_depth_notify(TEVENT_CALL_FLOW_REQ_QUEUE_ENTER, req, req->call_depth, trigger_name);

    if (!queue->running || queue->entries.head->triggered) return e;
    if (allow_direct) {
        run_head(queue, ev);
        return e;
    }
    schedule_head(queue);
    return e;
}

void queue_entry_untrigger(tevent_queue_entry *entry) {
    if (entry == nullptr) return;
    tevent_queue *q = entry->queue;
    // The reference abort()s silently on both; say why instead.
    if (q != nullptr && q->running) {
        tev::abort(entry->ev, "tevent_queue_entry_untrigger() called on a running queue");
        return;
    }
    if (q == nullptr || q->entries.head != entry) {
        tev::abort(entry->ev, "tevent_queue_entry_untrigger() called on an entry that is not the queue's head");
        return;
    }
    entry->triggered = false;
}

void queue_start(tevent_queue *queue) {
    if (queue == nullptr || queue->running) return;
    queue->running = true;
    if (queue->entries.head == nullptr || queue->entries.head->triggered) return;
    schedule_head(queue);
}

void queue_stop(tevent_queue *queue) {
    if (queue == nullptr) return;
    // A scheduled trigger stays scheduled and notices the stop when it runs.
    queue->running = false;
}

size_t queue_length(tevent_queue *queue) { return queue != nullptr ? queue->entries.count : 0; }

bool queue_running(tevent_queue *queue) { return queue != nullptr && queue->running; }

void queue_entry_set_tag(tevent_queue_entry *entry, uint64_t tag) {
    if (entry == nullptr) return;
    entry->tag = tag;
}

uint64_t queue_entry_get_tag(const tevent_queue_entry *entry) { return entry != nullptr ? entry->tag : 0; }

// The queue trace callback lives with the per-event ones (trace.cpp,
// trace_queue() in context.hpp).  An entry is reported when attached,
// before its trigger runs and when detached, through the context it was
// added with: entries added through a wrapper are not traced, as in the
// reference.

// ---- tevent_queue_wait_send/recv -----------------------------------------
//
// A request that finishes when it reaches the head of the queue.  Its entry
// stays at the head, holding the queue, until the request is freed.

namespace {

struct tevent_queue_wait_state {
    char unused;  // only the talloc name is visible
};

void queue_wait_trigger(tevent_req *req, void *) { req_done(req, TEV_LOCATION); }

}  // namespace

tevent_req *queue_wait_send(TALLOC_CTX *mem_ctx, tevent_context *ev, tevent_queue *queue) {
    tevent_queue_wait_state *state;
    tevent_req *req = req_create(mem_ctx, &state, sizeof(*state), "struct tevent_queue_wait_state",
                                 "tevent_queue_wait_send", TEV_LOCATION);
    if (req == nullptr) return nullptr;
    if (queue_add(queue, ev, req, queue_wait_trigger, "tevent_queue_wait_trigger", nullptr, false) == nullptr) {
        req_oom(req, TEV_LOCATION);
        return req_post(req, ev);
    }
    return req;
}

bool queue_wait_recv(tevent_req *req) {
    if (req == nullptr) return false;
    enum tevent_req_state state;
    uint64_t error;
    bool failed = req_is_error(req, &state, &error);
    req_received(req);
    return !failed;
}

}  // namespace tev

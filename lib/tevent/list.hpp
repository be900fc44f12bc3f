// The one intrusive doubly linked list of lib/tevent.  Elements carry their
// links; which two members those are is a template parameter, so an element
// can be on two lists at once (an fd event is on its context's list and on
// its descriptor's chain).  O(1) append, prepend, insertion behind an
// element, remove and emptiness test; the element count keeps
// tevent_loop_wait()'s "anything left?" question O(1).
//
// An all-zero IList is a valid empty list (talloc_zero'd and realloc()ed
// structures hold them).  Removing an element that is not on the list is a
// bug the list does not detect.
#pragma once

#include <stddef.h>

namespace tev {

template <typename T, T *T::*Prev = &T::prev, T *T::*Next = &T::next>
struct IList {
    T *head = nullptr;
    T *tail = nullptr;
    size_t count = 0;

    bool empty() const { return head == nullptr; }
    static T *next(const T *e) { return e->*Next; }
    static T *prev(const T *e) { return e->*Prev; }

    void push_back(T *e) {
        e->*Prev = tail;
        e->*Next = nullptr;
        if (tail != nullptr) {
            tail->*Next = e;
        } else {
            head = e;
        }
        tail = e;
        ++count;
    }
    void push_front(T *e) {
        e->*Prev = nullptr;
        e->*Next = head;
        if (head != nullptr) {
            head->*Prev = e;
        } else {
            tail = e;
        }
        head = e;
        ++count;
    }
    // Puts e right behind pos, which is on the list.
    void insert_after(T *pos, T *e) {
        T *after = pos->*Next;
        e->*Prev = pos;
        e->*Next = after;
        pos->*Next = e;
        if (after != nullptr) {
            after->*Prev = e;
        } else {
            tail = e;
        }
        ++count;
    }
    void remove(T *e) {
        if (e->*Prev != nullptr) {
            (e->*Prev)->*Next = e->*Next;
        } else {
            head = e->*Next;
        }
        if (e->*Next != nullptr) {
            (e->*Next)->*Prev = e->*Prev;
        } else {
            tail = e->*Prev;
        }
        e->*Prev = e->*Next = nullptr;
        --count;
    }
    // Moves e to the end (fairness among ready events).
    void demote(T *e) {
        if (tail == e) return;
        remove(e);
        push_back(e);
    }
    // Empties the list and returns what was on it, still linked: for
    // handing a whole batch over under a lock.  Walk it with next(); the
    // links are the caller's to reset.
    T *take_all() {
        T *first = head;
        head = tail = nullptr;
        count = 0;
        return first;
    }
    // Calls fn(e) for every element; fn may remove e (only e).
    template <typename Fn>
    void for_each(Fn fn) {
        for (T *e = head; e != nullptr;) {
            T *after = e->*Next;
            fn(e);
            e = after;
        }
    }
};

}  // namespace tev

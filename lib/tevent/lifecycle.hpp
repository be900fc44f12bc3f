// "Freed while its handler runs", one mechanism for every kind of event
// (fd, timer, immediate, signal) and for wrapper contexts.
//
// A handler may free its own event, directly or with the event's talloc
// parent, and its caller still holds the pointer.  So while the handler runs
// (`busy`) the event's destructor does its teardown, marks the event
// `destroyed` and refuses the free (returns -1); the caller releases the
// memory when the handler returns.  A second free of an event that is
// already destroyed is the caller's bug, reported as a double free.
#pragma once

#include <talloc.h>

#include "context.hpp"

namespace tev {

// First thing in a destructor: true (after reporting it) when the event was
// freed before and is only still around because its handler runs; the
// destructor then returns -1 at once.
template <typename Event>
bool freed_again(Event *e, const char *reason) {
    if (!e->destroyed) return false;
    check_double_free(e, reason);
    return true;
}

// Last thing in a destructor, after the teardown: the event is gone for
// everyone; the memory goes now, or after its handler (-1 keeps it).
template <typename Event>
int release_unless_running(Event *e) {
    e->destroyed = true;
    return e->busy ? -1 : 0;
}

// Runs call() as e's handler.  Returns true when the handler (or anything
// it called) freed e: the memory is released here, after on_release(e), and
// *removed (when given) says so; e must not be touched afterwards.  Always
// inlined: it sits on the path of every handler call (immediates, fds).
template <typename Event, typename Call, typename OnRelease>
__attribute__((always_inline)) inline bool run_as_handler(Event *e, const Call &call, bool *removed, OnRelease on_release) {
    e->busy = true;
    call();
    e->busy = false;
    if (!e->destroyed) return false;
    talloc_set_destructor(e, nullptr);
    on_release(e);
    talloc_free(e);
    if (removed != nullptr) *removed = true;
    return true;
}

template <typename Event, typename Call>
__attribute__((always_inline)) inline bool run_as_handler(Event *e, const Call &call, bool *removed) {
    return run_as_handler(e, call, removed, [](Event *) {});
}

}  // namespace tev

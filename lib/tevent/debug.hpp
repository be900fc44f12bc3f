// Setters behind tevent_set_debug() & co (the logging itself is declared
// in context.hpp).
#pragma once

#include "layout.hpp"
#include "tevent.h"

namespace tev {

int set_debug(tevent_context *ev, tevent_debug_fn fn, void *context);
int set_debug_stderr(tevent_context *ev);
enum tevent_debug_level set_max_debug_level(tevent_context *ev, enum tevent_debug_level level);
void set_abort_fn(void (*fn)(const char *reason));

// ---- diagnostics (debug.cpp) ---------------------------------------------
void debug(tevent_context *ev, enum tevent_debug_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vdebug(tevent_context *ev, enum tevent_debug_level level, const char *fmt, va_list ap);
[[noreturn]] void abort_now(const char *reason);
// tevent_abort(): logs, calls the abort function if one is set (which may
// return), else abort().
void abort(tevent_context *ev, const char *reason);
void check_double_free(TALLOC_CTX *ptr, const char *reason);

// Whether debug(ev, level, ...) would reach a debug function.  Hot paths
// test this first: the variadic debug() cannot be inlined, and a call per
// event costs more than the rest of scheduling an immediate.
inline bool debug_wanted(tevent_context *ev, enum tevent_debug_level level) {
    ev = main_context(ev);
    return ev != nullptr && ev->debug.fn != nullptr && level <= ev->debug.max_level;
}

}  // namespace tev

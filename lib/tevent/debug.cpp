// Debug messages, the abort hook and the double-free check.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <atomic>

#include "context.hpp"
#include "debug.hpp"

namespace tev {
namespace {

// Process-wide, as in the reference; set rarely, read on fatal paths only.
std::atomic<void (*)(const char *)> g_abort_fn{nullptr};

void debug_to_stderr(void *, enum tevent_debug_level level, const char *fmt, va_list ap) {
    if (level <= TEVENT_DEBUG_WARNING) vfprintf(stderr, fmt, ap);
}

}  // namespace

void vdebug(tevent_context *ev, enum tevent_debug_level level, const char *fmt, va_list ap) {
    ev = main_context(ev);
    if (ev == nullptr || ev->debug.fn == nullptr) return;
    // Cheap early exit: most messages are TRACE and most users do not want
    // them, so they are not even formatted.
    if (level > ev->debug.max_level) return;
    ev->debug.fn(ev->debug.context, level, fmt, ap);
}

void debug(tevent_context *ev, enum tevent_debug_level level, const char *fmt, ...) {
    ev = main_context(ev);
    if (ev == nullptr || ev->debug.fn == nullptr || level > ev->debug.max_level) return;
    va_list ap;
    va_start(ap, fmt);
    ev->debug.fn(ev->debug.context, level, fmt, ap);
    va_end(ap);
}

int set_debug(tevent_context *ev, tevent_debug_fn fn, void *context) {
    if (ev == nullptr) return -1;
    // A wrapper's messages go to its main context's debug function.
    if (ev->wrapper.glue != nullptr) {
        abort(ev, "tevent_set_debug() on wrapper");
        errno = EINVAL;
        return -1;
    }
    ev->debug.fn = fn;
    ev->debug.context = context;
    return 0;
}

int set_debug_stderr(tevent_context *ev) { return set_debug(ev, debug_to_stderr, nullptr); }

enum tevent_debug_level set_max_debug_level(tevent_context *ev, enum tevent_debug_level level) {
    ev = main_context(ev);
    if (ev == nullptr) return TEVENT_DEBUG_TRACE;
    enum tevent_debug_level old = ev->debug.max_level;
    ev->debug.max_level = level;
    return old;
}

void set_abort_fn(void (*fn)(const char *reason)) { g_abort_fn.store(fn, std::memory_order_release); }

void abort(tevent_context *ev, const char *reason) {
    if (ev != nullptr) debug(ev, TEVENT_DEBUG_FATAL, "abort: %s\n", reason);
    void (*fn)(const char *) = g_abort_fn.load(std::memory_order_acquire);
    if (fn == nullptr) ::abort();
    fn(reason);
}

void abort_now(const char *reason) {
    abort(nullptr, reason);
    // The abort function returned, but the caller cannot go on.
    ::abort();
}

void check_double_free(TALLOC_CTX *ptr, const char *reason) {
    // A second destructor call while the parent is being freed is talloc
    // tearing the tree down, not a double free by the caller: the parent
    // then has no blocks left to count.
    void *parent = talloc_parent(ptr);
    if (parent != nullptr && talloc_total_blocks(parent) == 0) return;
    abort(nullptr, reason);
}

}  // namespace tev

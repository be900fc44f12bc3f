// Setters behind tevent_set_debug() & co (the logging itself is declared
// in context.hpp).
#pragma once

#include "tevent.h"

namespace tev {

int set_debug(tevent_context *ev, tevent_debug_fn fn, void *context);
int set_debug_stderr(tevent_context *ev);
enum tevent_debug_level set_max_debug_level(tevent_context *ev, enum tevent_debug_level level);
void set_abort_fn(void (*fn)(const char *reason));

}  // namespace tev

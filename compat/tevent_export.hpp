// What every export file of libtevent includes: the public header, the
// declarations of the exports it does not carry (so the compiler checks
// each definition's signature against one of the two), and TEVENT_API, the
// one definition of "exported from libtevent.so.0 with C linkage" (the
// library is built with -fvisibility=hidden; abi/tevent.map assigns the
// version nodes).
#pragma once

#include "tevent.h"
#include "tevent_internal.h"

#define TEVENT_API extern "C" __attribute__((visibility("default")))

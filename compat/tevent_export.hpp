// What every export file of libtevent includes: the public header, the
// declarations of the exports it does not carry (so the compiler checks
// each definition's signature against one of the two), and TEVENT_API, the
// one definition of "exported from libtevent.so.0 with C linkage" (the
// library is built with -fvisibility=hidden; abi/tevent.map assigns the
// version nodes).
//
// An export only forwards: it calls one function of lib/tevent with its
// arguments as given (C to C++ conversions aside: a va_list, a pointer
// dereferenced into a reference).  What a NULL, a detached event or a call
// from the wrong thread does is decided in lib/tevent, by the function
// called (the `*_api` ones of lib/tevent/api.hpp for the public calls that
// go through a context's ops), so it is written once.
#pragma once

#include "tevent.h"
#include "tevent_internal.h"

#define TEVENT_API extern "C" __attribute__((visibility("default")))

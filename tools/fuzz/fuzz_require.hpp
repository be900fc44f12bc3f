// The check both libFuzzer harnesses use: a disagreement between the
// library and the harness's model must end the run as a crash, which is
// what libFuzzer records (and saves the input for), with the failed
// condition and where it stands.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_REQUIRE(cond)                                                              \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "model mismatch: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                    \
        }                                                                               \
    } while (0)

/* Allocation-failure injection for the talloc and tevent fault tests.
 *
 * faults.c defines malloc, calloc, realloc and free in the test executable,
 * so every allocation the libraries make (and libc makes for them, such as
 * vasprintf's buffers) goes through it before reaching glibc.  A thread can
 * arm a countdown: the Nth allocation it makes from then on fails.  Only the
 * arming thread is affected, so helper threads and the harness never see an
 * injected failure by accident.
 *
 * The interposer also tracks every block allocated while a thread has
 * tracking on, until it is freed (by any thread).  A scenario runs in a
 * fresh thread with tracking on; after the thread is joined (its talloc
 * block cache is released at thread exit) nothing may remain tracked. */
#ifndef FAULTS_H
#define FAULTS_H

#include <stdbool.h>
#include <stddef.h>

/* The `n`th allocation (1-based) by the calling thread fails; 0 disarms. */
void fault_arm(long n);
/* Disarms; returns how many allocations failed since fault_arm(). */
long fault_disarm(void);
/* Allocations made by the calling thread since fault_arm(). */
long fault_count(void);

/* Tracking of live blocks for the calling thread. */
void fault_track(bool on);
/* Number of tracked blocks not yet freed, and the first of them. */
size_t fault_tracked_live(void **first);

/* Open file descriptors of the process (via /proc/self/fd). */
int fault_open_fds(void);

/* A scenario: sets up in `ctx` unarmed, arms with fault_arm(n) around the
 * call under test, disarms, and checks the outcome (documented failure
 * value, nothing changed) with fault_check().  Returns true when the call
 * ran to completion without an injected failure, which ends the loop. */
typedef bool (*fault_scenario)(void *ctx, long n);

struct fault_case {
    const char *name;
    fault_scenario run;
};

/* Runs each case for n = 1, 2, ... until it completes; each run in a fresh
 * thread, checking afterwards that no tracked block and no descriptor
 * leaked.  Returns the number of failed checks. */
int fault_run_cases(const struct fault_case *cases, size_t ncases,
                    void *(*make_ctx)(void), void (*free_ctx)(void *));

/* The whole of a fault program's main(): fault_run_cases() on a fresh
 * talloc context per run, prints the number of failed checks, returns the
 * exit status (0 when none failed). */
int fault_main(const struct fault_case *cases, size_t ncases);

/* Records a failed check (printed with the case name and n). */
#define fault_check(cond) fault_check_at((cond), #cond, __FILE__, __LINE__)
void fault_check_at(bool ok, const char *what, const char *file, int line);

#endif

/* Shared by the stress programs: a failed check prints and counts; the
 * program exits 1 if any failed. */
#ifndef STRESS_COMMON_H
#define STRESS_COMMON_H

#include <stdio.h>
#include <stdlib.h>

static int stress_failures;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,   \
				__LINE__, #cond);                                \
			stress_failures++;                                       \
		}                                                                \
	} while (0)

#define REQUIRE(cond)                                                            \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: fatal: %s\n", __FILE__, __LINE__, \
				#cond);                                          \
			exit(1);                                                 \
		}                                                                \
	} while (0)

static inline int stress_result(const char *name)
{
	printf("%s: %s\n", name, stress_failures == 0 ? "ok" : "FAILED");
	return stress_failures == 0 ? 0 : 1;
}

#endif

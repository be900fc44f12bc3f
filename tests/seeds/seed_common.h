/* Tiny checking helpers for the seed programs (plain C, no test framework:
 * they are meant to be built and run by hand as well). */
#ifndef SEED_COMMON_H
#define SEED_COMMON_H

#include <stdio.h>
#include <stdlib.h>

static int seed_failures;

#define CHECK(cond)                                                          \
	do {                                                                     \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			seed_failures++;                                                 \
		}                                                                    \
	} while (0)

#define CHECK_EQ(a, b)                                                       \
	do {                                                                     \
		long long a_ = (long long)(a), b_ = (long long)(b);                  \
		if (a_ != b_) {                                                      \
			fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);                         \
			seed_failures++;                                                 \
		}                                                                    \
	} while (0)

#define PTHREAD_OK(call)                                                     \
	do {                                                                     \
		int rc_ = (call);                                                    \
		if (rc_ != 0) {                                                      \
			fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__,    \
				#call, rc_);                                                 \
			exit(1);                                                         \
		}                                                                    \
	} while (0)

static int seed_result(const char *name)
{
	if (seed_failures != 0) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, seed_failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

#endif

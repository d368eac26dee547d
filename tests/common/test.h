/* Test helpers: checks that count failures, a seeded random source whose seed is printed on
 * failure, and a GPU context with the validation layer on. */
#ifndef VKQ_TEST_H
#define VKQ_TEST_H

#include "vkq.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

extern int vkq_test_failures;
extern uint64_t vkq_test_seed;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s (seed %llu)\n", __FILE__, __LINE__, \
                    #cond, (unsigned long long)vkq_test_seed);                        \
            vkq_test_failures++;                                                      \
        }                                                                             \
    } while (0)

#define CHECK_MSG(cond, ...)                                                          \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s (seed %llu): ", __FILE__, __LINE__, \
                    #cond, (unsigned long long)vkq_test_seed);                        \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
            vkq_test_failures++;                                                      \
        }                                                                             \
    } while (0)

/* Checks that `expr` returns exactly `expected`; prints the context's message otherwise. */
#define CHECK_STATUS(ctx, expr, expected)                                             \
    do {                                                                              \
        vkq_status s_ = (expr);                                                       \
        if (s_ != (expected)) {                                                       \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s: %s\n", __FILE__, __LINE__, \
                    #expr, vkq_status_string(s_), vkq_status_string(expected),        \
                    vkq_context_last_error(ctx));                                     \
            vkq_test_failures++;                                                      \
        }                                                                             \
    } while (0)

#define CHECK_OK(ctx, expr) CHECK_STATUS(ctx, expr, VKQ_OK)

/* Seeds from VKQ_TEST_SEED if set, else from the clock; prints the seed. Call first. */
void test_init(const char *name);
/* Prints a summary line ("N passed, N failed" style) and returns the process exit code. */
int test_finish(void);

/* xoshiro-style generator on a global state seeded by test_init. */
uint64_t test_rand_u64(void);
float test_rand_uniform(float lo, float hi); /* [lo, hi) */
float test_rand_normal(void);
int test_rand_int(int lo, int hi);           /* inclusive */

/* A context on the default device with validation on and logging to stderr; NULL (and a
 * counted failure) if none: in CI a missing Vulkan device is a failure, not a skip. */
vkq_context *test_gpu_context(void);
/* Same, with extra descriptor fields (validation and log are forced on). */
vkq_context *test_gpu_context_desc(vkq_context_desc desc);
/* Fails the test if the layer reported anything, then destroys the context. */
void test_gpu_context_destroy(vkq_context *ctx);

/* Path of a file under the source tree (VKQ_TEST_SOURCE_DIR), in a static buffer. */
const char *test_source_path(const char *relative);

#endif

/* Helpers for the layer-op tests: buffers from host arrays, one-op recordings, the step buffer,
 * and a comparison that reports the worst element. */
#ifndef VKQ_OPS_TEST_H
#define VKQ_OPS_TEST_H

#include "common/test.h"
#include "ops/layers.h"

#include <stdlib.h>

/* NaN bit pattern: outputs a kernel failed to write show up as NaN. */
#define OPS_POISON 0x7fc00000u

/* A device buffer holding `bytes` of `data` (or poisoned when data is NULL). */
vkq__buffer ops_buffer(vkq_context *ctx, const void *data, uint64_t bytes);
void ops_download(vkq_context *ctx, const vkq__buffer *b, void *dst, uint64_t bytes);
/* A host-visible step buffer holding vkq__step_params with pos0 (others zero). */
vkq__buffer ops_step(vkq_context *ctx, uint32_t pos0);
void ops_step_set(const vkq__buffer *b, uint32_t pos0);

/* A started recording; ops_run submits, waits and destroys it. */
vkq__recording *ops_begin(vkq_context *ctx);
void ops_run(vkq_context *ctx, vkq__recording *rec);

float *ops_randn(uint64_t n, float scale);

/* Each |got - want| <= atol + rtol * |want|, else a failure naming `what` and the worst element.
 * Returns the largest |got - want| / (atol + rtol * |want|) seen (<= 1 passes). */
double ops_compare(const char *what, const float *got, const float *want, uint64_t n, double atol,
                   double rtol);

/* Rope error bound per unit of pair magnitude (test_rope.c explains it). */
double rope_tolerance(const vkq__rope *rope, uint32_t pos_max);

/* Verbose mode (VKQ_TEST_VERBOSE=1) prints every comparison's worst ratio. */
extern int ops_verbose;

/* Test groups, one file each; all run from test_main.c-style mains. */
void test_norm_act(vkq_context *ctx);
void test_rope(vkq_context *ctx);
void test_kv_write(vkq_context *ctx);
void test_attention(vkq_context *ctx);
void test_argmax(vkq_context *ctx);
void test_sample(vkq_context *ctx);

#endif

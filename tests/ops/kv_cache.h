/* Test-side KV cache helpers shared by test_kv_write.c and test_attention.c. */
#ifndef VKQ_OPS_KV_CACHE_H
#define VKQ_OPS_KV_CACHE_H

#include "ops_test.h"

/* Cache bytes (vkq__kv_cache_bytes) with every row 0..n_ctx-1 filled from random floats
 * (scale `scale`), converted as the GPU would (closed-form quantization, padding zeroed). */
uint8_t *kv_random_cache(const vkq__kv_layout *kv, float scale);
/* Dequantizes row (h, p) of a cache into head_dim floats. */
void kv_row_floats(const vkq__kv_layout *kv, const uint8_t *cache, uint32_t h, uint32_t p, float *out);
/* The quantization step of row (h, p) at element e: d of its block (Q8_0/Q4_0), or the half
 * ulp spacing at the value (F16). */
double kv_step(const vkq__kv_layout *kv, const uint8_t *cache, uint32_t h, uint32_t p, uint32_t e,
               float value);

#endif

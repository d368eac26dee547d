#include "kv_cache.h"
#include "quant/half.h"
#include "quant/quant.h"

#include <math.h>
#include <string.h>

static uint8_t *row_at(const vkq__kv_layout *kv, const uint8_t *cache, uint32_t h, uint32_t p) {
    return (uint8_t *)cache + ((uint64_t)h * kv->n_ctx + p) * vkq__kv_row_bytes(kv->type, kv->head_dim);
}

uint8_t *kv_random_cache(const vkq__kv_layout *kv, float scale) {
    uint8_t *c = calloc(vkq__kv_cache_bytes(kv), 1);
    float x[VKQ__KV_MAX_HEAD_DIM];
    for (uint32_t h = 0; h < kv->n_head_kv; h++) {
        for (uint32_t p = 0; p < kv->n_ctx; p++) {
            for (uint32_t e = 0; e < kv->head_dim; e++) x[e] = test_rand_normal() * scale;
            uint8_t *row = row_at(kv, c, h, p);
            if (kv->type == VKQ_TYPE_F16) {
                for (uint32_t e = 0; e < kv->head_dim; e++) vkq__wr_u16(row + 2 * e, vkq__fp32_to_fp16(x[e]));
            } else {
                vkq__quantize_row(kv->type, x, row, kv->head_dim, NULL, VKQ__QUANT_CLOSED_FORM);
            }
        }
    }
    return c;
}

void kv_row_floats(const vkq__kv_layout *kv, const uint8_t *cache, uint32_t h, uint32_t p, float *out) {
    const uint8_t *row = row_at(kv, cache, h, p);
    if (kv->type == VKQ_TYPE_F16) {
        for (uint32_t e = 0; e < kv->head_dim; e++) out[e] = vkq__rd_half(row + 2 * e);
    } else {
        vkq__dequantize_row(kv->type, row, out, kv->head_dim);
    }
}

double kv_step(const vkq__kv_layout *kv, const uint8_t *cache, uint32_t h, uint32_t p, uint32_t e,
               float value) {
    if (kv->type == VKQ_TYPE_F16) {
        double a = fabs((double)value);
        return a < 6.1e-5 ? 0x1p-24 : ldexp(1.0, ilogb(a) - 10);
    }
    uint32_t bb = kv->type == VKQ_TYPE_Q8_0 ? 34 : 18;
    return fabs((double)vkq__rd_half(row_at(kv, cache, h, p) + (e / 32) * bb));
}

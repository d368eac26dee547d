/* Row-level entry points: the internal vkq__(de)quantize_row and the public vkq_(de)quantize.
 * The search quantizer runs the closed form too and keeps whichever block reconstructs better
 * under the caller's weights, so it is never worse than the closed form block by block. */
#include "quant/blocks.h"

#include <math.h>
#include <string.h>

/* Importance is a relative weight per element. A small floor keeps elements whose column never
 * saw activation (importance 0) on the grid instead of letting them take any value. */
#define IMPORTANCE_FLOOR 1e-4

static bool is_float_type(vkq_type type) {
    return type == VKQ_TYPE_F32 || type == VKQ_TYPE_F16 || type == VKQ_TYPE_BF16;
}

static const vkq__codec *codec_get(vkq_type type) {
    const vkq__codec *c = vkq__codec_legacy(type);
    if (!c) c = vkq__codec_kquant(type);
    if (!c) c = vkq__codec_iquant(type);
    return c;
}

void vkq__dequantize_row(vkq_type type, const void *src, float *dst, int64_t n) {
    const vkq__type_info *info = vkq__type_info_get(type);
    if (!info || n <= 0) return;
    int64_t nb = n / info->block_elements;
    if (is_float_type(type)) {
        vkq__dequantize_float_row(type, src, dst, nb);
        return;
    }
    const vkq__codec *c = codec_get(type);
    if (!c) return;
    const uint8_t *s = src;
    for (int64_t b = 0; b < nb; b++) {
        c->dequantize(c->format, s + b * info->block_bytes, dst + b * info->block_elements);
    }
}

/* Weights for one block: the importance, made non-negative and finite, with a floor; uniform
 * when there is no importance or it sums to nothing. */
static void block_weights(const float *importance, int n, float *w) {
    double sum = 0.0;
    if (importance) {
        for (int j = 0; j < n; j++) {
            float v = importance[j];
            w[j] = (v > 0.0f && isfinite(v)) ? v : 0.0f;
            sum += w[j];
        }
    }
    double mean = sum / n;
    if (!importance || !(mean > 0.0) || !isfinite(mean)) {
        for (int j = 0; j < n; j++) w[j] = 1.0f;
        return;
    }
    float floor_w = (float)(IMPORTANCE_FLOOR * mean);
    for (int j = 0; j < n; j++) w[j] += floor_w;
}

static void quantize_block_search(const vkq__codec *c, const vkq__type_info *info, const float *x,
                                  const float *importance, uint8_t *out) {
    int n = (int)info->block_elements;
    float w[VKQ__MAX_BLOCK], y[VKQ__MAX_BLOCK];
    uint8_t closed[VKQ__MAX_BLOCK]; /* no block is larger than its element count */
    block_weights(importance, n, w);
    c->quantize_closed(c->format, x, closed);
    c->dequantize(c->format, closed, y);
    double err_closed = vkq__weighted_sq_error(x, y, w, n);
    c->quantize_search(c->format, x, w, out);
    c->dequantize(c->format, out, y);
    double err_search = vkq__weighted_sq_error(x, y, w, n);
    /* Also catches a NaN error from the search, which the comparison reads as "worse". */
    if (!(err_search <= err_closed)) memcpy(out, closed, info->block_bytes);
}

size_t vkq__quantize_row(vkq_type type, const float *src, void *dst, int64_t n,
                         const float *importance, vkq__quant_method method) {
    const vkq__type_info *info = vkq__type_info_get(type);
    if (!info || n <= 0) return 0;
    int64_t nb = n / info->block_elements;
    if (is_float_type(type)) {
        vkq__quantize_float_row(type, src, dst, nb);
        return (size_t)nb * info->block_bytes;
    }
    const vkq__codec *c = codec_get(type);
    if (!c) return 0;
    uint8_t *d = dst;
    for (int64_t b = 0; b < nb; b++) {
        const float *x = src + b * info->block_elements;
        uint8_t *out = d + b * info->block_bytes;
        if (method == VKQ__QUANT_CLOSED_FORM) {
            c->quantize_closed(c->format, x, out);
        } else {
            const float *imp = importance ? importance + b * info->block_elements : NULL;
            quantize_block_search(c, info, x, imp, out);
        }
    }
    return (size_t)nb * info->block_bytes;
}

/* The checks both public functions share; on success *bytes is the packed size. */
static bool valid_row(vkq_type type, uint64_t n, uint64_t *bytes) {
    if (!vkq__type_info_get(type) || n > (uint64_t)INT64_MAX) return false;
    return vkq__row_bytes(type, n, bytes) && *bytes <= (uint64_t)SIZE_MAX;
}

vkq_status vkq_dequantize(vkq_type type, const void *src, float *dst, uint64_t n) {
    uint64_t bytes = 0;
    if (!src || !dst || !valid_row(type, n, &bytes)) return VKQ_ERR_INVALID_ARGUMENT;
    vkq__dequantize_row(type, src, dst, (int64_t)n);
    return VKQ_OK;
}

vkq_status vkq_quantize(vkq_type type, const float *src, void *dst, uint64_t n,
                        const float *importance, size_t *bytes_written) {
    uint64_t bytes = 0;
    if (bytes_written) *bytes_written = 0;
    if (!src || !dst || !bytes_written || !valid_row(type, n, &bytes)) {
        return VKQ_ERR_INVALID_ARGUMENT;
    }
    *bytes_written = vkq__quantize_row(type, src, dst, (int64_t)n, importance, VKQ__QUANT_SEARCH);
    return VKQ_OK;
}

/* The unblocked float types: F32, F16 and BF16, converted element by element. */
#include "quant/blocks.h"

#include <string.h>

void vkq__dequantize_float_row(vkq_type type, const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    switch (type) {
    case VKQ_TYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case VKQ_TYPE_F16:
        for (int64_t i = 0; i < n; i++) dst[i] = vkq__fp16_to_fp32(vkq__rd_u16(s + 2 * i));
        break;
    case VKQ_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) dst[i] = vkq__bf16_to_fp32(vkq__rd_u16(s + 2 * i));
        break;
    default: break;
    }
}

void vkq__quantize_float_row(vkq_type type, const float *src, void *dst, int64_t n) {
    uint8_t *d = dst;
    switch (type) {
    case VKQ_TYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case VKQ_TYPE_F16:
        for (int64_t i = 0; i < n; i++) vkq__wr_u16(d + 2 * i, vkq__fp32_to_fp16(src[i]));
        break;
    case VKQ_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) vkq__wr_u16(d + 2 * i, vkq__fp32_to_bf16(src[i]));
        break;
    default: break;
    }
}

/* lib/quant — block formats: layouts, CPU reference (de)quantization, quantizers. Internal. */
#ifndef VKQ_QUANT_H
#define VKQ_QUANT_H

#include "base/base.h"

typedef struct vkq__type_info {
    vkq_type type;
    uint32_t gguf_id;
    const char *name;
    uint32_t block_elements;
    uint32_t block_bytes;
} vkq__type_info;

/* NULL for VKQ_TYPE_NONE and unknown values. */
const vkq__type_info *vkq__type_info_get(vkq_type type);

/* Bytes of a row of n elements; false when n is not a whole number of blocks (or overflows). */
bool vkq__row_bytes(vkq_type type, uint64_t n, uint64_t *bytes);

/* [reference (de)quantization — declarations below this line] */

/* CPU reference formats (quant/legacy.c, kquants.c, iquants.c, float.c, row.c). Decoding is
 * bit-exact with the GGUF definitions; encoding writes valid blocks for any finite input (for
 * non-finite input the bytes are valid but their values unspecified). Pure functions of their
 * arguments: no state, safe from any thread. */

/* Dequantizes n elements (a whole number of blocks) of `type` from src into dst. */
void vkq__dequantize_row(vkq_type type, const void *src, float *dst, int64_t n);

typedef enum vkq__quant_method {
    VKQ__QUANT_SEARCH = 0,
    VKQ__QUANT_CLOSED_FORM = 1
} vkq__quant_method;

/* Quantizes n elements (a whole number of blocks) into dst; importance: n weights or NULL.
 * Returns bytes written. */
size_t vkq__quantize_row(vkq_type type, const float *src, void *dst, int64_t n,
                         const float *importance, vkq__quant_method method);

/* Details of the two functions above:
 * - Only whole blocks are processed (n / block_elements of them); unknown types and n <= 0
 *   write nothing (and return 0).
 * - VKQ__QUANT_CLOSED_FORM maps each block's extreme values onto the ends of the grid and
 *   ignores importance. VKQ__QUANT_SEARCH (any other value too) searches scales by weighted
 *   least squares and keeps, block by block, whichever of its result and the closed form's has
 *   the lower importance-weighted squared error, so it is never worse than the closed form.
 * - importance[j] weights the squared error of element j; negative, NaN and infinite weights
 *   count as 0, a block whose weights sum to 0 is quantized with uniform weights, and every
 *   weight gets a floor of 1e-4 times its block's mean so that no value is left off the grid.
 * - F32, F16 and BF16 are plain conversions (round to nearest even); importance and method do
 *   not matter for them. */

#endif

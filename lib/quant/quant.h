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

#endif

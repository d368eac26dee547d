/* The table of tensor types: vkq's enum, GGUF ids, names, block geometry. */
#include "quant/quant.h"

#include <string.h>
#include <strings.h>

static const vkq__type_info type_table[VKQ_TYPE_COUNT] = {
    /*                type      gguf  name      elems bytes */
    [VKQ_TYPE_F32] = {VKQ_TYPE_F32, 0, "f32", 1, 4},
    [VKQ_TYPE_F16] = {VKQ_TYPE_F16, 1, "f16", 1, 2},
    [VKQ_TYPE_BF16] = {VKQ_TYPE_BF16, 30, "bf16", 1, 2},
    [VKQ_TYPE_Q4_0] = {VKQ_TYPE_Q4_0, 2, "q4_0", 32, 18},
    [VKQ_TYPE_Q4_1] = {VKQ_TYPE_Q4_1, 3, "q4_1", 32, 20},
    [VKQ_TYPE_Q5_0] = {VKQ_TYPE_Q5_0, 6, "q5_0", 32, 22},
    [VKQ_TYPE_Q5_1] = {VKQ_TYPE_Q5_1, 7, "q5_1", 32, 24},
    [VKQ_TYPE_Q8_0] = {VKQ_TYPE_Q8_0, 8, "q8_0", 32, 34},
    [VKQ_TYPE_Q8_1] = {VKQ_TYPE_Q8_1, 9, "q8_1", 32, 36},
    [VKQ_TYPE_Q2_K] = {VKQ_TYPE_Q2_K, 10, "q2_k", 256, 84},
    [VKQ_TYPE_Q3_K] = {VKQ_TYPE_Q3_K, 11, "q3_k", 256, 110},
    [VKQ_TYPE_Q4_K] = {VKQ_TYPE_Q4_K, 12, "q4_k", 256, 144},
    [VKQ_TYPE_Q5_K] = {VKQ_TYPE_Q5_K, 13, "q5_k", 256, 176},
    [VKQ_TYPE_Q6_K] = {VKQ_TYPE_Q6_K, 14, "q6_k", 256, 210},
    [VKQ_TYPE_IQ4_NL] = {VKQ_TYPE_IQ4_NL, 20, "iq4_nl", 32, 18},
    [VKQ_TYPE_IQ4_XS] = {VKQ_TYPE_IQ4_XS, 23, "iq4_xs", 256, 136},
};

const vkq__type_info *vkq__type_info_get(vkq_type type) {
    if ((unsigned)type >= VKQ_TYPE_COUNT || type == VKQ_TYPE_NONE) return NULL;
    return &type_table[type];
}

const char *vkq_type_name(vkq_type type) {
    const vkq__type_info *t = vkq__type_info_get(type);
    return t ? t->name : "none";
}

vkq_type vkq_type_from_name(const char *name) {
    if (!name) return VKQ_TYPE_NONE;
    for (int i = 1; i < VKQ_TYPE_COUNT; i++) {
        if (strcasecmp(type_table[i].name, name) == 0) return (vkq_type)i;
    }
    return VKQ_TYPE_NONE;
}

uint32_t vkq_type_gguf_id(vkq_type type) {
    const vkq__type_info *t = vkq__type_info_get(type);
    return t ? t->gguf_id : UINT32_MAX;
}

vkq_type vkq_type_from_gguf_id(uint32_t id) {
    for (int i = 1; i < VKQ_TYPE_COUNT; i++) {
        if (type_table[i].gguf_id == id) return (vkq_type)i;
    }
    return VKQ_TYPE_NONE;
}

uint32_t vkq_type_block_elements(vkq_type type) {
    const vkq__type_info *t = vkq__type_info_get(type);
    return t ? t->block_elements : 0;
}

uint32_t vkq_type_block_bytes(vkq_type type) {
    const vkq__type_info *t = vkq__type_info_get(type);
    return t ? t->block_bytes : 0;
}

bool vkq__row_bytes(vkq_type type, uint64_t n, uint64_t *bytes) {
    const vkq__type_info *t = vkq__type_info_get(type);
    if (!t || n % t->block_elements != 0) return false;
    return vkq__mul_u64(n / t->block_elements, t->block_bytes, bytes);
}

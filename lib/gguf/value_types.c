/* GGUF metadata value types: the file's ids, vkq's public enum, sizes and names. */
#include "gguf/gguf.h"

#include <stdio.h>

/* Indexed by file id. The public enum has its own numbering so that 0 can mean NONE, as in
 * every vkq enum; this table is the one place the two meet. */
static const struct {
    vkq_gguf_value_type type;
    uint32_t size; /* bytes of one value; 0 for variable-length types */
    const char *name;
} id_table[VKQ__GGUF_TYPE_COUNT] = {
    [VKQ__GGUF_U8] = {VKQ_GGUF_TYPE_U8, 1, "u8"},
    [VKQ__GGUF_I8] = {VKQ_GGUF_TYPE_I8, 1, "i8"},
    [VKQ__GGUF_U16] = {VKQ_GGUF_TYPE_U16, 2, "u16"},
    [VKQ__GGUF_I16] = {VKQ_GGUF_TYPE_I16, 2, "i16"},
    [VKQ__GGUF_U32] = {VKQ_GGUF_TYPE_U32, 4, "u32"},
    [VKQ__GGUF_I32] = {VKQ_GGUF_TYPE_I32, 4, "i32"},
    [VKQ__GGUF_F32] = {VKQ_GGUF_TYPE_F32, 4, "f32"},
    [VKQ__GGUF_BOOL] = {VKQ_GGUF_TYPE_BOOL, 1, "bool"},
    [VKQ__GGUF_STRING] = {VKQ_GGUF_TYPE_STRING, 0, "string"},
    [VKQ__GGUF_ARRAY] = {VKQ_GGUF_TYPE_ARRAY, 0, "array"},
    [VKQ__GGUF_U64] = {VKQ_GGUF_TYPE_U64, 8, "u64"},
    [VKQ__GGUF_I64] = {VKQ_GGUF_TYPE_I64, 8, "i64"},
    [VKQ__GGUF_F64] = {VKQ_GGUF_TYPE_F64, 8, "f64"},
};

vkq_gguf_value_type vkq__gguf_type_from_id(uint32_t id) {
    return id < VKQ__GGUF_TYPE_COUNT ? id_table[id].type : VKQ_GGUF_TYPE_NONE;
}

uint32_t vkq__gguf_type_id(vkq_gguf_value_type type) {
    for (uint32_t id = 0; id < VKQ__GGUF_TYPE_COUNT; id++) {
        if (id_table[id].type == type && type != VKQ_GGUF_TYPE_NONE) return id;
    }
    return UINT32_MAX;
}

uint32_t vkq__gguf_type_size(uint32_t id) {
    return id < VKQ__GGUF_TYPE_COUNT ? id_table[id].size : 0;
}

const char *vkq__gguf_type_id_name(uint32_t id, char *buf, size_t size) {
    if (id < VKQ__GGUF_TYPE_COUNT) return id_table[id].name;
    snprintf(buf, size, "type id %u", id);
    return buf;
}

const char *vkq_gguf_value_type_name(vkq_gguf_value_type type) {
    uint32_t id = vkq__gguf_type_id(type);
    return id == UINT32_MAX ? "none" : id_table[id].name;
}

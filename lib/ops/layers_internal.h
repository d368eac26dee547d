/* Helpers shared by the layer ops (norm.c, rope.c, attention.c, activation.c, sample.c). */
#ifndef VKQ_OPS_LAYERS_INTERNAL_H
#define VKQ_OPS_LAYERS_INTERNAL_H

#include "ops/layers.h"

/* VKQ_ERR_INVALID_ARGUMENT unless view `v` (argument `name` of `op`) holds `bytes`. */
static inline vkq_status vkq__layers_need(vkq_context *ctx, const char *op, const char *name,
                                          vkq__view v, uint64_t bytes) {
    if (v.buffer != VK_NULL_HANDLE && v.size >= bytes) return VKQ_OK;
    return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                     "%s: %s is a view of %llu bytes%s, needs %llu", op, name,
                     (unsigned long long)v.size, v.buffer ? "" : " (no buffer)",
                     (unsigned long long)bytes);
}

static inline bool vkq__layers_has(vkq__view v) { return v.buffer != VK_NULL_HANDLE; }

/* The largest power of two <= want that the device allows as a workgroup size. */
static inline uint32_t vkq__layers_wg(vkq_context *ctx, uint32_t want) {
    uint32_t max = VKQ__MIN(ctx->caps.info.max_workgroup_size[0],
                            ctx->caps.info.max_workgroup_invocations);
    uint32_t wg = 1;
    while (wg * 2 <= want && wg * 2 <= max) wg *= 2;
    return wg;
}

/* One workgroup per row: rows spill from x into y past maxComputeWorkGroupCount[0]
 * (the shaders' wg_row()). */
static inline void vkq__layers_row_grid(vkq_context *ctx, uint32_t rows, uint32_t *gx,
                                        uint32_t *gy) {
    uint32_t maxx = ctx->caps.info.max_workgroup_count[0];
    *gx = rows < maxx ? (rows ? rows : 1) : maxx;
    *gy = (rows + *gx - 1) / *gx;
    if (!*gy) *gy = 1;
}

/* Whether the subgroup variant of a row kernel can run here. */
static inline bool vkq__layers_use_subgroup(vkq_context *ctx, const char *shader) {
    return ctx->caps.subgroup_arithmetic && vkq__shader_available(ctx, shader);
}

/* "f16", "q8_0", "q4_0" for the shader names of the KV kernels; NULL otherwise. */
static inline const char *vkq__kv_suffix(vkq_type t) {
    switch (t) {
    case VKQ_TYPE_F16: return "f16";
    case VKQ_TYPE_Q8_0: return "q8_0";
    case VKQ_TYPE_Q4_0: return "q4_0";
    default: return NULL;
    }
}

#endif

/* Rotary embedding of Q, and the KV-cache write fused with the rotary embedding of K; the cache
 * layout they share with attention.c (lib/ops/layers.h, "KV cache layout"). */
#include "ops/layers_internal.h"

#include <math.h>
#include <stdio.h>

typedef struct rope_push {
    uint32_t n_tokens, n_heads, head_dim, n_rot, mode, has_factors;
    float log2_base, freq_scale;
} rope_push;
_Static_assert(sizeof(rope_push) == 32, "mirrors Push in shaders/rope.comp");

typedef struct kv_write_push {
    uint32_t n_tokens, n_head_kv, head_dim, n_ctx, row_bytes, n_rot, mode, has_factors;
    float log2_base, freq_scale;
} kv_write_push;
_Static_assert(sizeof(kv_write_push) == 40, "mirrors Push in shaders/kv_write.comp");

uint32_t vkq__kv_row_bytes(vkq_type type, uint32_t head_dim) {
    if (!head_dim || head_dim % 4 || head_dim > VKQ__KV_MAX_HEAD_DIM) return 0;
    switch (type) {
    case VKQ_TYPE_F16: return head_dim * 2;
    case VKQ_TYPE_Q8_0: return head_dim % 32 ? 0 : (uint32_t)vkq__align_up(head_dim / 32 * 34, 4);
    case VKQ_TYPE_Q4_0: return head_dim % 32 ? 0 : (uint32_t)vkq__align_up(head_dim / 32 * 18, 4);
    default: return 0;
    }
}

uint64_t vkq__kv_cache_bytes(const vkq__kv_layout *kv) {
    return (uint64_t)kv->n_head_kv * kv->n_ctx * vkq__kv_row_bytes(kv->type, kv->head_dim);
}

vkq_status vkq__kv_layout_check(vkq_context *ctx, const vkq__kv_layout *kv, const char *what) {
    if (!vkq__kv_suffix(kv->type) || !vkq__kv_row_bytes(kv->type, kv->head_dim)) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "%s: KV cache of type %s with head_dim %u is not supported (f16: head_dim "
                         "a multiple of 4; q8_0, q4_0: of 32; at most %u)",
                         what, vkq_type_name(kv->type), kv->head_dim, VKQ__KV_MAX_HEAD_DIM);
    }
    if (!kv->n_head_kv || !kv->n_ctx) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "%s: KV cache of %u heads, %u positions",
                         what, kv->n_head_kv, kv->n_ctx);
    }
    uint64_t bytes = vkq__kv_cache_bytes(kv);
    uint64_t limit = VKQ__MIN(ctx->caps.max_storage_range, (uint64_t)UINT32_MAX);
    if (bytes > limit) {
        return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                         "%s: one layer's KV cache (%u heads x %u positions x %u B) is %llu bytes; "
                         "the device binds at most %llu", what, kv->n_head_kv, kv->n_ctx,
                         vkq__kv_row_bytes(kv->type, kv->head_dim), (unsigned long long)bytes,
                         (unsigned long long)limit);
    }
    return VKQ_OK;
}

static vkq_status check_rope(vkq_context *ctx, const char *op, const vkq__rope *rope,
                             vkq__view factors, uint32_t head_dim) {
    if (!rope || (rope->mode != VKQ__ROPE_NORMAL && rope->mode != VKQ__ROPE_NEOX) || !rope->n_rot ||
        rope->n_rot % 2 || rope->n_rot > head_dim || !(rope->freq_base > 0.0f) ||
        !(rope->freq_scale > 0.0f)) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "%s: rope mode %d, n_rot %u (head_dim %u), freq_base %g, freq_scale %g", op,
                         rope ? (int)rope->mode : -1, rope ? rope->n_rot : 0, head_dim,
                         rope ? (double)rope->freq_base : 0.0, rope ? (double)rope->freq_scale : 0.0);
    }
    if (vkq__layers_has(factors)) return vkq__layers_need(ctx, op, "freq_factors", factors, rope->n_rot / 2 * 4);
    return VKQ_OK;
}

vkq_status vkq__op_rope(vkq__recording *rec, const vkq__rope *rope, vkq__view freq_factors,
                        vkq__view x, vkq__view params, vkq__view out, uint32_t n_tokens,
                        uint32_t n_heads, uint32_t head_dim) {
    vkq_context *ctx = vkq__recording_context(rec);
    if (!n_tokens || !n_heads || !head_dim || head_dim % 2) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "rope: %u tokens, %u heads, head_dim %u",
                         n_tokens, n_heads, head_dim);
    }
    uint64_t bytes = (uint64_t)n_tokens * n_heads * head_dim * 4;
    vkq_status st = check_rope(ctx, "rope", rope, freq_factors, head_dim);
    if (!st) st = vkq__layers_need(ctx, "rope", "x", x, bytes);
    if (!st) st = vkq__layers_need(ctx, "rope", "out", out, bytes);
    if (!st) st = vkq__layers_need(ctx, "rope", "params", params, sizeof(vkq__step_params));
    if (st) return st;
    uint32_t ls = vkq__stream_local_size(ctx);
    vkq__pipeline_desc d = {.shader = "rope", .n_bindings = 4, .push_size = sizeof(rope_push),
                            .spec = {ls}, .n_spec = 1};
    const vkq__pipeline *p;
    if ((st = vkq__pipeline_get(ctx, &d, &p))) return st;
    rope_push push = {n_tokens, n_heads, head_dim, rope->n_rot, (uint32_t)rope->mode,
                      vkq__layers_has(freq_factors), (float)log2((double)rope->freq_base),
                      rope->freq_scale};
    vkq__view v[4] = {x, vkq__layers_has(freq_factors) ? freq_factors : x, params, out};
    uint64_t pairs = bytes / 8;
    return vkq__recording_dispatch(rec, p, v, &push, vkq__grid_groups(ctx, pairs, ls), 1, 1);
}

vkq_status vkq__op_kv_write(vkq__recording *rec, const vkq__kv_layout *kv, const vkq__rope *rope,
                            vkq__view freq_factors, vkq__view k, vkq__view v, vkq__view params,
                            vkq__view k_cache, vkq__view v_cache, uint32_t n_tokens) {
    vkq_context *ctx = vkq__recording_context(rec);
    vkq_status st = vkq__kv_layout_check(ctx, kv, "kv_write");
    if (st) return st;
    if (!n_tokens || n_tokens > kv->n_ctx) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "kv_write: %u tokens into a cache of %u",
                         n_tokens, kv->n_ctx);
    }
    uint64_t in_bytes = (uint64_t)n_tokens * kv->n_head_kv * kv->head_dim * 4;
    uint64_t cache_bytes = vkq__kv_cache_bytes(kv);
    st = check_rope(ctx, "kv_write", rope, freq_factors, kv->head_dim);
    if (!st) st = vkq__layers_need(ctx, "kv_write", "k", k, in_bytes);
    if (!st) st = vkq__layers_need(ctx, "kv_write", "v", v, in_bytes);
    if (!st) st = vkq__layers_need(ctx, "kv_write", "params", params, sizeof(vkq__step_params));
    if (!st) st = vkq__layers_need(ctx, "kv_write", "k_cache", k_cache, cache_bytes);
    if (!st) st = vkq__layers_need(ctx, "kv_write", "v_cache", v_cache, cache_bytes);
    if (st) return st;
    char name[32];
    snprintf(name, sizeof name, "kv_write_%s", vkq__kv_suffix(kv->type));
    /* Invocations per row: one per element covers rope and the f16 packing in one pass. */
    vkq__pipeline_desc d = {.shader = name, .n_bindings = 6, .push_size = sizeof(kv_write_push),
                            .spec = {vkq__layers_wg(ctx, kv->head_dim < 64 ? 32 : 64)}, .n_spec = 1};
    const vkq__pipeline *p;
    if ((st = vkq__pipeline_get(ctx, &d, &p))) return st;
    kv_write_push push = {n_tokens, kv->n_head_kv, kv->head_dim, kv->n_ctx,
                          vkq__kv_row_bytes(kv->type, kv->head_dim), rope->n_rot, (uint32_t)rope->mode,
                          vkq__layers_has(freq_factors), (float)log2((double)rope->freq_base),
                          rope->freq_scale};
    /* Only the cache range is bound: the shader indexes rows from the view's start. */
    vkq__view views[6] = {k, v, vkq__layers_has(freq_factors) ? freq_factors : k, params,
                          {k_cache.buffer, k_cache.offset, cache_bytes},
                          {v_cache.buffer, v_cache.offset, cache_bytes}};
    uint32_t gx, gy;
    vkq__layers_row_grid(ctx, n_tokens * kv->n_head_kv, &gx, &gy);
    return vkq__recording_dispatch(rec, p, views, &push, gx, gy, 2);
}

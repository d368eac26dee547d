/* Attention over the KV cache: causal prefill (flash-attention style tiles) and split-K decode
 * with its log-sum-exp reduction. Tile sizes and invocation layouts are chosen here, from the
 * head size, the GQA ratio and the device's shared memory, and passed as specialization
 * constants. */
#include "ops/layers_internal.h"

#include <math.h>
#include <stdio.h>

typedef struct prefill_push {
    uint32_t n_tokens, n_head_kv, n_ctx, row_bytes;
    float scale;
} prefill_push;
_Static_assert(sizeof(prefill_push) == 20, "mirrors Push in shaders/attention_prefill.comp");

typedef struct decode_push {
    uint32_t n_head_kv, n_ctx, row_bytes, n_splits;
    float scale;
    uint32_t direct, min_chunk;
} decode_push;
_Static_assert(sizeof(decode_push) == 28, "mirrors Push in shaders/attention_decode.comp");

typedef struct reduce_push {
    uint32_t head_dim, n_splits;
} reduce_push;
_Static_assert(sizeof(reduce_push) == 8, "mirrors Push in shaders/attention_reduce.comp");

/* What both kernels check: the layout, the GQA ratio, q, out, the caches and params. */
static vkq_status check_common(vkq_context *ctx, const char *op, const vkq__kv_layout *kv,
                               vkq__view q, vkq__view k_cache, vkq__view v_cache, vkq__view params,
                               vkq__view out, uint32_t n_tokens, uint32_t n_head) {
    vkq_status st = vkq__kv_layout_check(ctx, kv, op);
    if (st) return st;
    if (!n_head || n_head % kv->n_head_kv || n_head / kv->n_head_kv > 64 || !n_tokens) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "%s: %u query heads over %u KV heads (a multiple, at most 64 per KV head), "
                         "%u tokens", op, n_head, kv->n_head_kv, n_tokens);
    }
    uint64_t act = (uint64_t)n_tokens * n_head * kv->head_dim * 4;
    uint64_t cache = vkq__kv_cache_bytes(kv);
    if (!st) st = vkq__layers_need(ctx, op, "q", q, act);
    if (!st) st = vkq__layers_need(ctx, op, "out", out, act);
    if (!st) st = vkq__layers_need(ctx, op, "k_cache", k_cache, cache);
    if (!st) st = vkq__layers_need(ctx, op, "v_cache", v_cache, cache);
    if (!st) st = vkq__layers_need(ctx, op, "params", params, sizeof(vkq__step_params));
    return st;
}

static float default_scale(float scale, uint32_t head_dim) {
    return scale != 0.0f ? scale : (float)(1.0 / sqrt((double)head_dim));
}

/* ---- prefill ------------------------------------------------------------------------------- */

typedef struct prefill_shape {
    uint32_t wg, br, bc, opt;
} prefill_shape;

static uint64_t prefill_shared(uint32_t hd, uint32_t br, uint32_t bc) {
    uint32_t h4 = hd / 4;
    return (uint64_t)br * h4 * 16 + (uint64_t)bc * (h4 + 1) * 16 + (uint64_t)br * bc * 4 + 3ull * br * 4;
}

/* 16 query rows x 32 keys per tile where shared memory allows (26 KiB at head_dim 128), halving
 * the key tile, then the query tile, on smaller devices. */
static vkq_status prefill_pick(vkq_context *ctx, uint32_t hd, prefill_shape *s) {
    uint32_t limit = ctx->caps.info.max_shared_memory;
    s->wg = vkq__layers_wg(ctx, 128);
    s->br = 16, s->bc = 32;
    while (prefill_shared(hd, s->br, s->bc) > limit) {
        if (s->bc > 8) s->bc /= 2;
        else if (s->br > 4) s->br /= 2;
        else {
            return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                             "attention_prefill: head_dim %u needs %llu B of shared memory, %s has %u",
                             hd, (unsigned long long)prefill_shared(hd, s->br, s->bc),
                             ctx->caps.info.name, limit);
        }
    }
    if (s->br > s->wg) s->br = s->wg;
    uint32_t groups = s->br * hd / 4;
    s->opt = (groups + s->wg - 1) / s->wg;
    return VKQ_OK;
}

vkq_status vkq__op_attention_prefill(vkq__recording *rec, const vkq__kv_layout *kv, vkq__view q,
                                     vkq__view k_cache, vkq__view v_cache, vkq__view params,
                                     vkq__view out, uint32_t n_tokens, uint32_t n_head,
                                     float scale) {
    vkq_context *ctx = vkq__recording_context(rec);
    vkq_status st = check_common(ctx, "attention_prefill", kv, q, k_cache, v_cache, params, out,
                                 n_tokens, n_head);
    prefill_shape s = {0};
    if (!st) st = prefill_pick(ctx, kv->head_dim, &s);
    if (st) return st;
    uint32_t ratio = n_head / kv->n_head_kv;
    uint64_t tiles = ((uint64_t)n_tokens * ratio + s.br - 1) / s.br;
    if (tiles > ctx->caps.info.max_workgroup_count[0] || kv->n_head_kv > ctx->caps.info.max_workgroup_count[1]) {
        return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT, "attention_prefill: %llu query tiles x %u KV heads "
                         "exceed the device's workgroup counts", (unsigned long long)tiles, kv->n_head_kv);
    }
    char name[48];
    snprintf(name, sizeof name, "attention_prefill_%s", vkq__kv_suffix(kv->type));
    vkq__pipeline_desc d = {.shader = name, .n_bindings = 5, .push_size = sizeof(prefill_push),
                            .spec = {s.wg, kv->head_dim, ratio, s.br, s.bc, s.opt}, .n_spec = 6};
    const vkq__pipeline *p;
    if ((st = vkq__pipeline_get(ctx, &d, &p))) return st;
    uint64_t cache = vkq__kv_cache_bytes(kv);
    prefill_push push = {n_tokens, kv->n_head_kv, kv->n_ctx, vkq__kv_row_bytes(kv->type, kv->head_dim),
                         default_scale(scale, kv->head_dim)};
    vkq__view v[5] = {q, {k_cache.buffer, k_cache.offset, cache}, {v_cache.buffer, v_cache.offset, cache},
                      params, out};
    return vkq__recording_dispatch(rec, p, v, &push, (uint32_t)tiles, kv->n_head_kv, 1);
}

/* ---- decode -------------------------------------------------------------------------------- */

typedef struct decode_shape {
    uint32_t wg, ngt, ks, opt, ored;
} decode_shape;

static uint64_t decode_shared(uint32_t hd, uint32_t r, const decode_shape *s) {
    return (uint64_t)r * hd * 4 + 2ull * r * s->wg * 4 + 3ull * r * 4 + (uint64_t)s->ored * 16;
}

/* Invocation layout of the o += p v step: the R*HD/4 output vec4s are spread over the
 * workgroup; when there are fewer than invocations, KS teams split the keys instead. */
static void decode_layout(uint32_t hd, uint32_t r, uint32_t wg, decode_shape *s) {
    uint32_t ng = r * hd / 4;
    s->wg = wg;
    if (ng >= wg) {
        s->ngt = wg, s->ks = 1, s->opt = (ng + wg - 1) / wg, s->ored = 1;
    } else {
        s->ngt = ng, s->ks = wg / ng, s->opt = 1, s->ored = s->ks * ng;
    }
}

static vkq_status decode_pick(vkq_context *ctx, uint32_t hd, uint32_t r, decode_shape *s) {
    uint32_t limit = ctx->caps.info.max_shared_memory;
    for (uint32_t wg = vkq__layers_wg(ctx, 128); wg >= 32; wg /= 2) {
        decode_layout(hd, r, wg, s);
        if (r <= wg && decode_shared(hd, r, s) <= limit) return VKQ_OK;
    }
    return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                     "attention_decode: head_dim %u with %u query heads per KV head needs %llu B of "
                     "shared memory, %s has %u", hd, r,
                     (unsigned long long)decode_shared(hd, r, s), ctx->caps.info.name, limit);
}

uint32_t vkq__attention_decode_splits(vkq_context *ctx, const vkq__kv_layout *kv, uint32_t n_head) {
    (void)n_head;
    /* Slices of >= 128 keys at full context; about 256 workgroups fill any current GPU. */
    uint32_t splits = kv->n_ctx / 128;
    uint32_t by_groups = 256 / VKQ__MAX(kv->n_head_kv, 1u);
    splits = VKQ__MIN(splits, by_groups);
    splits = VKQ__MIN(splits, 64u);
    splits = VKQ__MIN(splits, ctx->caps.info.max_workgroup_count[0]);
    return VKQ__MAX(splits, 1u);
}

uint64_t vkq__attention_decode_scratch_bytes(uint32_t n_head, uint32_t head_dim, uint32_t n_splits) {
    return (uint64_t)n_head * n_splits * (head_dim + 2) * 4;
}

vkq_status vkq__op_attention_decode(vkq__recording *rec, const vkq__kv_layout *kv, vkq__view q,
                                    vkq__view k_cache, vkq__view v_cache, vkq__view params,
                                    vkq__view scratch, vkq__view out, uint32_t n_head,
                                    uint32_t n_splits, float scale) {
    vkq_context *ctx = vkq__recording_context(rec);
    vkq_status st = check_common(ctx, "attention_decode", kv, q, k_cache, v_cache, params, out, 1, n_head);
    if (st) return st;
    if (!n_splits || n_splits > 1024 || n_splits > ctx->caps.info.max_workgroup_count[0]) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "attention_decode: %u splits (1..1024)",
                         n_splits);
    }
    uint32_t ratio = n_head / kv->n_head_kv;
    if (n_splits > 1) {
        st = vkq__layers_need(ctx, "attention_decode", "scratch", scratch,
                              vkq__attention_decode_scratch_bytes(n_head, kv->head_dim, n_splits));
    }
    decode_shape s = {0};
    if (!st) st = decode_pick(ctx, kv->head_dim, ratio, &s);
    if (st) return st;
    char name[48];
    snprintf(name, sizeof name, "attention_decode_%s", vkq__kv_suffix(kv->type));
    vkq__pipeline_desc d = {.shader = name, .n_bindings = 5, .push_size = sizeof(decode_push),
                            .spec = {s.wg, kv->head_dim, ratio, s.ngt, s.ks, s.opt, s.ored}, .n_spec = 7};
    const vkq__pipeline *p;
    if ((st = vkq__pipeline_get(ctx, &d, &p))) return st;
    uint64_t cache = vkq__kv_cache_bytes(kv);
    decode_push push = {kv->n_head_kv, kv->n_ctx, vkq__kv_row_bytes(kv->type, kv->head_dim), n_splits,
                        default_scale(scale, kv->head_dim), n_splits == 1, s.wg};
    vkq__view v[5] = {q, {k_cache.buffer, k_cache.offset, cache}, {v_cache.buffer, v_cache.offset, cache},
                      params, n_splits == 1 ? out : scratch};
    if ((st = vkq__recording_dispatch(rec, p, v, &push, n_splits, kv->n_head_kv, 1))) return st;
    if (n_splits == 1) return VKQ_OK;

    vkq__recording_barrier(rec);
    vkq__pipeline_desc rd = {.shader = "attention_reduce", .n_bindings = 2, .push_size = sizeof(reduce_push),
                             .spec = {vkq__layers_wg(ctx, kv->head_dim <= 64 ? 64 : 128)}, .n_spec = 1};
    if ((st = vkq__pipeline_get(ctx, &rd, &p))) return st;
    reduce_push rpush = {kv->head_dim, n_splits};
    vkq__view rv[2] = {scratch, out};
    return vkq__recording_dispatch(rec, p, rv, &rpush, n_head, 1, 1);
}

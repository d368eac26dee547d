/* Row kernels: RMS norm and softmax, one workgroup per row, each with a subgroup-arithmetic
 * variant and a shared-memory one. */
#include "ops/layers_internal.h"

typedef struct rms_norm_push {
    uint32_t n, rows, has_weight;
    float eps;
} rms_norm_push;
_Static_assert(sizeof(rms_norm_push) == 16, "mirrors Push in shaders/rms_norm.comp");

typedef struct softmax_push {
    uint32_t n, rows;
    float scale;
} softmax_push;
_Static_assert(sizeof(softmax_push) == 12, "mirrors Push in shaders/softmax.comp");

/* Row kernels: a wide workgroup for long rows (hidden sizes of thousands), a narrower one for
 * short rows so that most invocations have work. */
static uint32_t row_wg(vkq_context *ctx, uint32_t n) {
    return vkq__layers_wg(ctx, n >= 2048 ? 256 : n >= 256 ? 128 : 64);
}

static vkq_status row_pipeline(vkq_context *ctx, const char *base, const char *sg,
                               uint32_t n_bindings, uint32_t n, uint32_t push_size,
                               const vkq__pipeline **p) {
    vkq__pipeline_desc d = {.shader = vkq__layers_use_subgroup(ctx, sg) ? sg : base,
                            .n_bindings = n_bindings, .push_size = push_size,
                            .spec = {row_wg(ctx, n)}, .n_spec = 1};
    return vkq__pipeline_get(ctx, &d, p);
}

vkq_status vkq__op_rms_norm(vkq__recording *rec, vkq__view x, vkq__view weight, vkq__view out,
                            uint32_t n, uint32_t rows, float eps) {
    vkq_context *ctx = vkq__recording_context(rec);
    if (!n || !rows || !(eps >= 0.0f)) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "rms_norm: n %u, rows %u, eps %g",
                         n, rows, (double)eps);
    }
    uint64_t bytes = (uint64_t)n * rows * 4;
    vkq_status st = vkq__layers_need(ctx, "rms_norm", "x", x, bytes);
    if (!st) st = vkq__layers_need(ctx, "rms_norm", "out", out, bytes);
    if (!st && vkq__layers_has(weight)) st = vkq__layers_need(ctx, "rms_norm", "weight", weight, (uint64_t)n * 4);
    const vkq__pipeline *p;
    if (!st) st = row_pipeline(ctx, "rms_norm", "rms_norm_sg", 3, n, sizeof(rms_norm_push), &p);
    if (st) return st;
    rms_norm_push push = {n, rows, vkq__layers_has(weight), eps};
    vkq__view v[3] = {x, vkq__layers_has(weight) ? weight : x, out};
    uint32_t gx, gy;
    vkq__layers_row_grid(ctx, rows, &gx, &gy);
    return vkq__recording_dispatch(rec, p, v, &push, gx, gy, 1);
}

vkq_status vkq__op_softmax(vkq__recording *rec, vkq__view x, vkq__view out, uint32_t n,
                           uint32_t rows, float scale) {
    vkq_context *ctx = vkq__recording_context(rec);
    if (!n || !rows) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "softmax: n %u, rows %u", n, rows);
    }
    uint64_t bytes = (uint64_t)n * rows * 4;
    vkq_status st = vkq__layers_need(ctx, "softmax", "x", x, bytes);
    if (!st) st = vkq__layers_need(ctx, "softmax", "out", out, bytes);
    const vkq__pipeline *p;
    if (!st) st = row_pipeline(ctx, "softmax", "softmax_sg", 2, n, sizeof(softmax_push), &p);
    if (st) return st;
    softmax_push push = {n, rows, scale};
    vkq__view v[2] = {x, out};
    uint32_t gx, gy;
    vkq__layers_row_grid(ctx, rows, &gx, &gy);
    return vkq__recording_dispatch(rec, p, v, &push, gx, gy, 1);
}

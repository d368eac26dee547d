/* Activation statistics: the per-column sums of squares an importance matrix is made of. */
#include "ops/layers_internal.h"

typedef struct sumsq_push {
    uint32_t k, n, x_stride;
} sumsq_push;
_Static_assert(sizeof(sumsq_push) == 12, "mirrors Push in shaders/sumsq.comp");

vkq_status vkq__op_sumsq_accumulate(vkq__recording *rec, vkq__view x, uint32_t k, uint32_t n,
                                    uint32_t x_stride, vkq__view acc) {
    vkq_context *ctx = vkq__recording_context(rec);
    if (!x_stride) x_stride = k;
    if (!k || !n || x_stride < k) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "sumsq: k %u, n %u, stride %u", k, n, x_stride);
    }
    vkq_status st = vkq__layers_need(ctx, "sumsq", "x", x, ((uint64_t)x_stride * (n - 1) + k) * 4);
    if (!st) st = vkq__layers_need(ctx, "sumsq", "acc", acc, (uint64_t)k * 4);
    if (st) return st;
    uint32_t ls = vkq__stream_local_size(ctx);
    vkq__pipeline_desc d = {.shader = "sumsq", .n_bindings = 2, .push_size = sizeof(sumsq_push),
                            .spec = {ls}, .n_spec = 1};
    const vkq__pipeline *p;
    if ((st = vkq__pipeline_get(ctx, &d, &p))) return st;
    sumsq_push push = {k, n, x_stride};
    vkq__view v[2] = {x, acc};
    return vkq__recording_dispatch(rec, p, v, &push, vkq__grid_groups(ctx, k, ls), 1, 1);
}

void vkq__ref_sumsq_accumulate(const float *x, uint32_t k, uint32_t n, uint32_t x_stride, double *acc) {
    if (!x_stride) x_stride = k;
    for (uint32_t r = 0; r < n; r++) {
        for (uint32_t c = 0; c < k; c++) {
            double v = x[(uint64_t)r * x_stride + c];
            acc[c] += v * v;
        }
    }
}

/* Token selection on the GPU, so that only ids come back: argmax (greedy) and sampling with
 * temperature, top-k, top-p and min-p. */
#include "ops/layers_internal.h"

typedef struct argmax_push {
    uint32_t n, rows;
} argmax_push;
_Static_assert(sizeof(argmax_push) == 8, "mirrors Push in shaders/argmax.comp");

vkq_status vkq__op_argmax(vkq__recording *rec, vkq__view x, vkq__view ids, uint32_t n,
                          uint32_t rows) {
    vkq_context *ctx = vkq__recording_context(rec);
    if (!n || !rows) return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "argmax: n %u, rows %u", n, rows);
    vkq_status st = vkq__layers_need(ctx, "argmax", "x", x, (uint64_t)n * rows * 4);
    if (!st) st = vkq__layers_need(ctx, "argmax", "ids", ids, (uint64_t)rows * 4);
    if (st) return st;
    /* A vocabulary row (32k..256k) is one workgroup's work: the widest workgroup shortens the
     * serial part of the scan. */
    vkq__pipeline_desc d = {.shader = "argmax", .n_bindings = 2, .push_size = sizeof(argmax_push),
                            .spec = {vkq__layers_wg(ctx, n >= 4096 ? 512 : 64)}, .n_spec = 1};
    const vkq__pipeline *p;
    if ((st = vkq__pipeline_get(ctx, &d, &p))) return st;
    argmax_push push = {n, rows};
    vkq__view v[2] = {x, ids};
    uint32_t gx, gy;
    vkq__layers_row_grid(ctx, rows, &gx, &gy);
    return vkq__recording_dispatch(rec, p, v, &push, gx, gy, 1);
}

typedef struct sample_push {
    uint32_t n, rows;
} sample_push;
_Static_assert(sizeof(sample_push) == 8, "mirrors Push in shaders/sample.comp");

vkq_status vkq__op_sample(vkq__recording *rec, vkq__view logits, vkq__view params, vkq__view ids,
                          uint32_t n, uint32_t rows) {
    vkq_context *ctx = vkq__recording_context(rec);
    if (!n || !rows || n >= (1u << 24)) { /* counts are summed as floats: exact below 2^24 */
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "sample: n %u, rows %u", n, rows);
    }
    vkq_status st = vkq__layers_need(ctx, "sample", "logits", logits, (uint64_t)n * rows * 4);
    if (!st) st = vkq__layers_need(ctx, "sample", "params", params, sizeof(vkq__step_params));
    if (!st) st = vkq__layers_need(ctx, "sample", "ids", ids, (uint64_t)rows * 4);
    if (st) return st;
    vkq__pipeline_desc d = {.shader = "sample", .n_bindings = 3, .push_size = sizeof(sample_push),
                            .spec = {vkq__layers_wg(ctx, n >= 4096 ? 512 : 64)}, .n_spec = 1};
    const vkq__pipeline *p;
    if ((st = vkq__pipeline_get(ctx, &d, &p))) return st;
    sample_push push = {n, rows};
    vkq__view v[3] = {logits, params, ids};
    uint32_t gx, gy;
    vkq__layers_row_grid(ctx, rows, &gx, &gy);
    return vkq__recording_dispatch(rec, p, v, &push, gx, gy, 1);
}

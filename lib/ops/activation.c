/* Activations: SwiGLU (silu(gate) * up, gate and up at their own row strides) and SiLU. */
#include "ops/layers_internal.h"

typedef struct swiglu_push {
    uint32_t n, rows, gate_stride, up_stride;
} swiglu_push;
_Static_assert(sizeof(swiglu_push) == 16, "mirrors Push in shaders/swiglu.comp");

static vkq_status dispatch(vkq__recording *rec, const char *shader, const vkq__view *v,
                           const swiglu_push *push) {
    vkq_context *ctx = vkq__recording_context(rec);
    uint32_t ls = vkq__stream_local_size(ctx);
    vkq__pipeline_desc d = {.shader = shader, .n_bindings = 3, .push_size = sizeof *push,
                            .spec = {ls}, .n_spec = 1};
    const vkq__pipeline *p;
    vkq_status st = vkq__pipeline_get(ctx, &d, &p);
    if (st) return st;
    uint64_t total = (uint64_t)push->n * push->rows;
    return vkq__recording_dispatch(rec, p, v, push, vkq__grid_groups(ctx, total, ls), 1, 1);
}

vkq_status vkq__op_swiglu(vkq__recording *rec, vkq__view gate, vkq__view up, vkq__view out,
                          uint32_t n, uint32_t rows, uint32_t gate_stride, uint32_t up_stride) {
    vkq_context *ctx = vkq__recording_context(rec);
    if (!gate_stride) gate_stride = n;
    if (!up_stride) up_stride = n;
    if (!n || !rows || gate_stride < n || up_stride < n || (uint64_t)n * rows > UINT32_MAX) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "swiglu: n %u, rows %u, strides %u and %u", n, rows, gate_stride, up_stride);
    }
    /* The last row needs only n elements, not a whole stride. */
    vkq_status st = vkq__layers_need(ctx, "swiglu", "gate", gate,
                                     ((uint64_t)gate_stride * (rows - 1) + n) * 4);
    if (!st) st = vkq__layers_need(ctx, "swiglu", "up", up, ((uint64_t)up_stride * (rows - 1) + n) * 4);
    if (!st) st = vkq__layers_need(ctx, "swiglu", "out", out, (uint64_t)n * rows * 4);
    if (st) return st;
    swiglu_push push = {n, rows, gate_stride, up_stride};
    vkq__view v[3] = {gate, up, out};
    return dispatch(rec, "swiglu", v, &push);
}

vkq_status vkq__op_silu(vkq__recording *rec, vkq__view x, vkq__view out, uint32_t count) {
    vkq_context *ctx = vkq__recording_context(rec);
    if (!count) return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "silu: count 0");
    vkq_status st = vkq__layers_need(ctx, "silu", "x", x, (uint64_t)count * 4);
    if (!st) st = vkq__layers_need(ctx, "silu", "out", out, (uint64_t)count * 4);
    if (st) return st;
    swiglu_push push = {count, 1, count, count};
    vkq__view v[3] = {x, x, out};
    return dispatch(rec, "silu", v, &push);
}

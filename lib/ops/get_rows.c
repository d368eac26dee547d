/* get_rows: out[i] = dequantized row ids[i] of a table (shaders/get_rows.comp). The ids are read
 * on the GPU, so a table larger than one binding is bound in row chunks with one dispatch each,
 * every dispatch writing the ids that fall in its chunk. */
#include "ops/products.h"

#include <stdio.h>

typedef struct get_rows_push {
    uint32_t row_lo, row_hi, n_rows, zero_invalid;
    uint32_t nb, w_skip, ids_skip, n_ids;
    uint32_t out_skip, out_stride;
} get_rows_push;
_Static_assert(sizeof(get_rows_push) == 40, "mirrors Push in shaders/get_rows.comp");

static vkq_status check(vkq_context *ctx, const vkq__product_format *f, vkq_type type, vkq__view table,
                        uint32_t k, uint32_t n_rows, vkq__view ids, uint32_t n_ids, vkq__view out) {
    if (!f) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED, "get_rows: format %s has no kernel", vkq_type_name(type));
    }
    uint64_t row_bytes = (uint64_t)k / f->qk * f->qbytes;
    uint64_t need_table = (uint64_t)n_rows * row_bytes;
    if (k == 0 || k % f->qk || n_rows == 0 || table.size < need_table || table.offset % 4 ||
        ids.size < (uint64_t)n_ids * 4 || ids.offset % 4 || out.size < (uint64_t)n_ids * k * 4 || out.offset % 16) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "get_rows %s (%u rows of %u, %u ids): k must be a non-zero multiple of %u; "
                         "table %llu B at %llu (needs %llu, offset a multiple of 4), ids %llu B at %llu "
                         "(needs %llu, 4), out %llu B at %llu (needs %llu, 16)",
                         f->name, n_rows, k, n_ids, f->qk, (unsigned long long)table.size,
                         (unsigned long long)table.offset, (unsigned long long)need_table,
                         (unsigned long long)ids.size, (unsigned long long)ids.offset,
                         (unsigned long long)n_ids * 4, (unsigned long long)out.size,
                         (unsigned long long)out.offset, (unsigned long long)n_ids * k * 4);
    }
    return VKQ_OK;
}

static vkq_status dispatch(vkq__recording *rec, const vkq__pipeline *pl, get_rows_push *push,
                           const vkq__view b[3], uint32_t slots, uint32_t wg) {
    vkq_context *ctx = vkq__recording_context(rec);
    const uint32_t *maxc = ctx->caps.info.max_workgroup_count;
    /* Both grid dimensions are walked with strides in the shader: capping is always correct. */
    uint32_t gx = (uint32_t)VKQ__MIN((slots + (uint64_t)wg - 1) / wg, (uint64_t)maxc[0]);
    uint32_t gy = VKQ__MIN(push->n_ids, maxc[1]);
    return vkq__recording_dispatch(rec, pl, b, push, gx, gy, 1);
}

vkq_status vkq__op_get_rows(vkq__recording *rec, vkq_type type, vkq__view table, uint32_t k,
                            uint32_t n_rows, vkq__view ids, uint32_t n_ids, vkq__view out) {
    vkq_context *ctx = vkq__recording_context(rec);
    const vkq__product_format *f = vkq__product_format_get(type);
    vkq_status st = check(ctx, f, type, table, k, n_rows, ids, n_ids, out);
    if (st || n_ids == 0) return st;
    char name[64];
    snprintf(name, sizeof name, "get_rows_%s", f->name);
    uint32_t wg = VKQ__MIN(64u, ctx->caps.info.max_workgroup_invocations);
    vkq__pipeline_desc d = {.shader = name, .n_bindings = 3, .push_size = sizeof(get_rows_push),
                            .spec = {wg}, .n_spec = 1};
    const vkq__pipeline *pl;
    if ((st = vkq__pipeline_get(ctx, &d, &pl))) return vkq__wrap(&ctx->diag, st, "get_rows %s", f->name);

    uint64_t limit = vkq__product_bind_limit(ctx);
    uint64_t row_bytes = (uint64_t)k / f->qk * f->qbytes, out_row = (uint64_t)k * 4;
    uint64_t rows_per_chunk = limit / row_bytes, ids_per_chunk = limit / out_row;
    if (rows_per_chunk == 0 || ids_per_chunk == 0) {
        return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                         "get_rows %s: a row of %u elements (%llu B, %llu B as floats) exceeds one "
                         "binding (maxStorageBufferRange %llu)",
                         f->name, k, (unsigned long long)row_bytes, (unsigned long long)out_row,
                         (unsigned long long)ctx->caps.max_storage_range);
    }
    uint32_t slots = k / 8;
    for (uint64_t i0 = 0; i0 < n_ids; i0 += ids_per_chunk) {
        uint32_t ni = (uint32_t)VKQ__MIN(ids_per_chunk, n_ids - i0);
        vkq__view b[3];
        uint32_t ids_skip, out_skip;
        vkq__product_bind(ctx, ids, i0 * 4, (uint64_t)ni * 4, &b[1], &ids_skip);
        vkq__product_bind(ctx, out, i0 * out_row, ni * out_row, &b[2], &out_skip);
        for (uint64_t r0 = 0; r0 < n_rows; r0 += rows_per_chunk) {
            uint32_t nr = (uint32_t)VKQ__MIN(rows_per_chunk, n_rows - r0);
            get_rows_push push = {
                .row_lo = (uint32_t)r0, .row_hi = (uint32_t)r0 + nr, .n_rows = n_rows,
                .zero_invalid = r0 == 0, .nb = k / f->qk, .ids_skip = ids_skip / 4, .n_ids = ni,
                .out_skip = out_skip / 16, .out_stride = k / 4,
            };
            vkq__product_bind(ctx, table, r0 * row_bytes, nr * row_bytes, &b[0], &push.w_skip);
            if ((st = dispatch(rec, pl, &push, b, slots, wg))) return st;
        }
    }
    return VKQ_OK;
}

/* Weight products: the format table, argument checks, the split of large operands into
 * bindings that fit maxStorageBufferRange, the choice between matvec and matmul, and the CPU
 * references. The kernels' own recording is in matvec.c, matmul.c and get_rows.c. */
#include "ops/products.h"

#include "quant/quant.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Float formats are handled in blocks of 8 so that a slot (8 values) is a block; spans are the
 * element ranges covered by consecutive slots (see shaders/formats/formats.glsl). */
static const vkq__product_format formats[] = {
    {VKQ_TYPE_F32, "f32", 8, 32, 8},
    {VKQ_TYPE_F16, "f16", 8, 16, 8},
    {VKQ_TYPE_BF16, "bf16", 8, 16, 8},
    {VKQ_TYPE_Q4_0, "q4_0", 32, 18, 32},
    {VKQ_TYPE_Q4_1, "q4_1", 32, 20, 32},
    {VKQ_TYPE_Q5_0, "q5_0", 32, 22, 32},
    {VKQ_TYPE_Q5_1, "q5_1", 32, 24, 32},
    {VKQ_TYPE_Q8_0, "q8_0", 32, 34, 32},
    {VKQ_TYPE_Q2_K, "q2_k", 256, 84, 64},
    {VKQ_TYPE_Q3_K, "q3_k", 256, 110, 64},
    {VKQ_TYPE_Q4_K, "q4_k", 256, 144, 64},
    {VKQ_TYPE_Q5_K, "q5_k", 256, 176, 64},
    {VKQ_TYPE_Q6_K, "q6_k", 256, 210, 128},
    {VKQ_TYPE_IQ4_NL, "iq4_nl", 32, 18, 32},
    {VKQ_TYPE_IQ4_XS, "iq4_xs", 256, 136, 32},
};

const vkq__product_format *vkq__product_format_get(vkq_type type) {
    for (size_t i = 0; i < VKQ__ARRAY_LEN(formats); i++) {
        if (formats[i].type == type) return &formats[i];
    }
    return NULL;
}

bool vkq__mul_mat_supported(vkq_context *ctx, vkq_type wtype) {
    const vkq__product_format *f = vkq__product_format_get(wtype);
    if (!ctx || !ctx->device || !f) return false;
    char name[64];
    /* The shared-memory matvec runs wherever the subgroup one does. */
    snprintf(name, sizeof name, "matvec_%s", f->name);
    if (!vkq__shader_available(ctx, name)) return false;
    snprintf(name, sizeof name, "matmul_%s", f->name);
    return vkq__shader_available(ctx, name);
}

/* ---- bindings --------------------------------------------------------------------------- */

/* Vulkan allows alignments up to 256; 16 keeps vec4 bindings of X aligned to their elements. */
static uint64_t bind_alignment(vkq_context *ctx) {
    return VKQ__MAX(ctx->caps.info.min_storage_buffer_offset_alignment, 16u);
}

uint64_t vkq__product_bind_limit(vkq_context *ctx) {
    uint64_t limit = ctx->caps.max_storage_range;
    /* uint32 byte offsets in the shaders. */
    if (limit > (1ull << 31)) limit = 1ull << 31;
    uint64_t slack = bind_alignment(ctx) + 4; /* the skip below the view, the rounding above */
    return limit > slack ? limit - slack : 0;
}

void vkq__product_bind(vkq_context *ctx, vkq__view v, uint64_t off, uint64_t bytes, vkq__view *out,
                       uint32_t *skip) {
    uint64_t align = bind_alignment(ctx);
    uint64_t start = v.offset + off;
    uint64_t base = start / align * align;
    out->buffer = v.buffer;
    out->offset = base;
    out->size = vkq__align_up(start - base + bytes, 4);
    *skip = (uint32_t)(start - base);
}

vkq_status vkq__product_for_each_chunk(vkq__recording *rec, const vkq__mul_mat_args *a,
                                       const vkq__product_format *f, uint32_t max_vectors,
                                       vkq__product_record_fn record, const void *ctx_data) {
    vkq_context *ctx = vkq__recording_context(rec);
    uint64_t limit = vkq__product_bind_limit(ctx);
    uint64_t row_bytes = (uint64_t)a->k / f->qk * f->qbytes;
    uint64_t rows_per_chunk = limit / row_bytes;
    uint64_t xb = (uint64_t)a->k * 4, yb = (uint64_t)a->m * 4, ab = (uint64_t)a->add_stride * 4;
    uint64_t nc = VKQ__MIN((uint64_t)max_vectors, VKQ__MIN(limit / xb, limit / yb));
    if (a->add.size && ab) nc = VKQ__MIN(nc, limit >= yb ? (limit - yb) / ab + 1 : 0);
    if (rows_per_chunk == 0 || nc == 0) {
        return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                         "mul_mat %s (m %u, k %u, n %u): a row of W (%llu B), of X (%llu B) or of Y "
                         "(%llu B) does not fit one binding (maxStorageBufferRange %llu)",
                         f->name, a->m, a->k, a->n, (unsigned long long)row_bytes,
                         (unsigned long long)xb, (unsigned long long)yb,
                         (unsigned long long)ctx->caps.max_storage_range);
    }
    for (uint64_t j0 = 0; j0 < a->n; j0 += nc) {
        vkq__product_chunk c = {0};
        c.j0 = (uint32_t)j0;
        c.n = (uint32_t)VKQ__MIN(nc, a->n - j0);
        uint32_t skip;
        vkq__product_bind(ctx, a->x, j0 * xb, c.n * xb, &c.x, &skip);
        c.x_skip = skip / 16;
        vkq__product_bind(ctx, a->y, j0 * yb, c.n * yb, &c.y, &skip);
        c.y_skip = skip / 4;
        if (a->add.size) {
            vkq__product_bind(ctx, a->add, j0 * ab, (c.n - 1) * ab + yb, &c.add, &skip);
            c.add_skip = skip / 4;
        } else {
            c.add = c.y; /* bound but never read */
        }
        for (uint64_t r0 = 0; r0 < a->m; r0 += rows_per_chunk) {
            c.row0 = (uint32_t)r0;
            c.rows = (uint32_t)VKQ__MIN(rows_per_chunk, a->m - r0);
            vkq__product_bind(ctx, a->w, r0 * row_bytes, c.rows * row_bytes, &c.w, &c.w_skip);
            vkq_status st = record(rec, a, f, ctx_data, &c);
            if (st) return st;
        }
    }
    return VKQ_OK;
}

/* ---- the op ------------------------------------------------------------------------------ */

static vkq_status check_view(vkq_context *ctx, const vkq__mul_mat_args *a, const char *fmt,
                             const char *what, vkq__view v, uint64_t need, uint64_t align) {
    if (v.size >= need && v.offset % align == 0) return VKQ_OK;
    return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                     "mul_mat %s (m %u, k %u, n %u): %s view at offset %llu of %llu B; needs %llu B "
                     "at an offset that is a multiple of %llu",
                     fmt, a->m, a->k, a->n, what, (unsigned long long)v.offset,
                     (unsigned long long)v.size, (unsigned long long)need, (unsigned long long)align);
}

static vkq_status check_args(vkq_context *ctx, const vkq__mul_mat_args *a, const vkq__product_format **out) {
    const vkq__product_format *f = vkq__product_format_get(a->wtype);
    *out = f;
    if (!f) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED, "mul_mat: weight format %s has no product kernel",
                         vkq_type_name(a->wtype));
    }
    if (a->m == 0 || a->k == 0 || a->n == 0 || a->k % f->qk) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "mul_mat %s (m %u, k %u, n %u): sizes must be non-zero and k a multiple of %u",
                         f->name, a->m, a->k, a->n, f->qk);
    }
    uint64_t row_bytes = (uint64_t)a->k / f->qk * f->qbytes;
    uint64_t m = a->m, k = a->k, n = a->n;
    vkq_status st = check_view(ctx, a, f->name, "W", a->w, m * row_bytes, 4);
    if (!st) st = check_view(ctx, a, f->name, "X", a->x, n * k * 4, 16);
    if (!st) st = check_view(ctx, a, f->name, "Y", a->y, n * m * 4, 4);
    if (!st && a->add.size) {
        st = check_view(ctx, a, f->name, "add", a->add, ((n - 1) * a->add_stride + m) * 4, 4);
    }
    if (!st && a->norm.size) st = check_view(ctx, a, f->name, "norm", a->norm, k * 4, 16);
    if (!st && a->xq.size) st = check_view(ctx, a, f->name, "xq", a->xq, vkq__q8_1_bytes(a->k, a->n), 16);
    return st;
}

vkq_status vkq__op_mul_mat_config(vkq__recording *rec, const vkq__mul_mat_args *a,
                                  const vkq__mul_mat_config *cfg, char *variant) {
    vkq_context *ctx = vkq__recording_context(rec);
    vkq__mul_mat_config none = {0};
    if (!cfg) cfg = &none;
    if (variant) variant[0] = '\0';
    const vkq__product_format *f;
    vkq_status st = check_args(ctx, a, &f);
    if (st) return st;
    vkq__mul_mat_kernel kernel = cfg->kernel;
    if (kernel == VKQ__MUL_MAT_AUTO) {
        /* CPU drivers: matvec in passes of 8 vectors beats the tiled matmul at every n measured
         * on lavapipe (1.3 to 3.5 times for n = 16..256; docs/PERFORMANCE.md), because llvmpipe
         * loads shared memory lane by lane. */
        bool cpu = ctx->caps.info.type == VKQ_DEVICE_TYPE_CPU;
        /* A fused norm exists in matvec only: correct at any n, in passes of 8. */
        kernel = a->n <= 8 || cpu || a->norm.size ? VKQ__MUL_MAT_MATVEC : VKQ__MUL_MAT_MATMUL;
        /* The caller quantized X for the dot kernel (it asked vkq__mul_mat_dot_preferred). */
        if (a->xq.size && a->n <= 8 && vkq__mul_mat_dot_supported(ctx, a->wtype)) {
            kernel = VKQ__MUL_MAT_MATVEC_DOT;
        }
    }
    if (kernel == VKQ__MUL_MAT_MATMUL && a->norm.size) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED, "mul_mat %s: the matmul kernel has no fused norm",
                         f->name);
    }
    if (kernel == VKQ__MUL_MAT_MATVEC) return vkq__matvec_record(rec, a, f, cfg, variant);
    if (kernel == VKQ__MUL_MAT_MATMUL) return vkq__matmul_record(rec, a, f, cfg, variant);
    if (kernel == VKQ__MUL_MAT_MATVEC_DOT) return vkq__matvec_dot_record(rec, a, f, cfg, variant);
    return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "mul_mat %s: unknown kernel %d", f->name,
                     (int)cfg->kernel);
}

vkq_status vkq__op_mul_mat(vkq__recording *rec, const vkq__mul_mat_args *a) {
    return vkq__op_mul_mat_config(rec, a, NULL, NULL);
}

bool vkq__mul_mat_swiglu_supported(vkq_context *ctx, vkq_type wtype) {
    const vkq__product_format *f = vkq__product_format_get(wtype);
    if (!ctx || !ctx->device || !f) return false;
    char name[64];
    /* As for matvec: the shared-memory variant runs wherever the subgroup one does. */
    snprintf(name, sizeof name, "matvec_swiglu_%s", f->name);
    return vkq__shader_available(ctx, name);
}

vkq_status vkq__op_mul_mat_swiglu(vkq__recording *rec, vkq_type wtype, vkq__view w_gate, vkq__view w_up,
                                  uint32_t m, uint32_t k, vkq__view x, uint32_t n, vkq__view out,
                                  vkq__view norm, float norm_eps) {
    return vkq__op_mul_mat_swiglu_config(rec, wtype, w_gate, w_up, m, k, x, n, out, norm, norm_eps, NULL);
}

vkq_status vkq__op_mul_mat_swiglu_config(vkq__recording *rec, vkq_type wtype, vkq__view w_gate,
                                         vkq__view w_up, uint32_t m, uint32_t k, vkq__view x,
                                         uint32_t n, vkq__view out, vkq__view norm, float norm_eps,
                                         const vkq__mul_mat_config *cfg) {
    vkq_context *ctx = vkq__recording_context(rec);
    vkq__mul_mat_config none = {0};
    if (!cfg) cfg = &none;
    vkq__mul_mat_args a = {.wtype = wtype, .w = w_gate, .m = m, .k = k, .x = x, .n = n, .y = out,
                           .norm = norm, .norm_eps = norm_eps};
    const vkq__product_format *f;
    vkq_status st = check_args(ctx, &a, &f);
    if (st) return st;
    st = check_view(ctx, &a, f->name, "W_up", w_up, (uint64_t)m * (k / f->qk * (uint64_t)f->qbytes), 4);
    if (st) return st;
    if (!vkq__mul_mat_swiglu_supported(ctx, wtype)) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED, "mul_mat_swiglu %s: no kernel in this build",
                         f->name);
    }
    return vkq__matvec_swiglu_record(rec, &a, f, w_up, cfg);
}

/* ---- CPU references ----------------------------------------------------------------------- */

/* Rows are dequantized in pieces of 256 elements (a whole number of blocks of every format), so
 * that the reference needs no heap; vectors go in groups so that each piece is reused. */
#define REF_PIECE 256
#define REF_GROUP 64

void vkq__ref_mul_mat(vkq_type wtype, const void *w, uint32_t m, uint32_t k, const float *x,
                      uint32_t n, float *y, const float *add, uint32_t add_stride) {
    const vkq__type_info *info = vkq__type_info_get(wtype);
    uint64_t row_bytes;
    if (!info || !vkq__row_bytes(wtype, k, &row_bytes)) return;
    float piece[REF_PIECE];
    for (uint32_t r = 0; r < m; r++) {
        const uint8_t *row = (const uint8_t *)w + r * row_bytes;
        for (uint32_t j0 = 0; j0 < n; j0 += REF_GROUP) {
            uint32_t g = VKQ__MIN(REF_GROUP, n - j0);
            double acc[REF_GROUP] = {0};
            for (uint32_t e0 = 0; e0 < k; e0 += REF_PIECE) {
                uint32_t len = VKQ__MIN(REF_PIECE, k - e0);
                vkq__dequantize_row(wtype, row + (uint64_t)e0 / info->block_elements * info->block_bytes,
                                    piece, len);
                for (uint32_t j = 0; j < g; j++) {
                    const float *xj = x + (uint64_t)(j0 + j) * k + e0;
                    for (uint32_t e = 0; e < len; e++) acc[j] += (double)piece[e] * (double)xj[e];
                }
            }
            for (uint32_t j = 0; j < g; j++) {
                uint64_t jj = j0 + j;
                double v = acc[j];
                if (add) v += (double)add[jj * add_stride + r];
                y[jj * m + r] = (float)v;
            }
        }
    }
}

void vkq__ref_mul_mat_swiglu(vkq_type wtype, const void *w_gate, const void *w_up, uint32_t m, uint32_t k,
                             const float *x, uint32_t n, float *out) {
    uint64_t row_bytes;
    if (!vkq__row_bytes(wtype, k, &row_bytes)) return;
    /* Row by row and vector by vector through vkq__ref_mul_mat: no heap, and the same sums. The
     * products are rounded to float there; the silu and the product below are not. */
    for (uint32_t r = 0; r < m; r++) {
        for (uint32_t j = 0; j < n; j++) {
            float g, u;
            const float *xj = x + (uint64_t)j * k;
            vkq__ref_mul_mat(wtype, (const uint8_t *)w_gate + r * row_bytes, 1, k, xj, 1, &g, NULL, 0);
            vkq__ref_mul_mat(wtype, (const uint8_t *)w_up + r * row_bytes, 1, k, xj, 1, &u, NULL, 0);
            double gd = g;
            out[(uint64_t)j * m + r] = (float)(gd / (1.0 + exp(-gd)) * (double)u);
        }
    }
}

void vkq__ref_get_rows(vkq_type type, const void *table, uint32_t k, const uint32_t *ids,
                       uint32_t n_ids, float *out) {
    uint64_t row_bytes;
    if (!vkq__row_bytes(type, k, &row_bytes)) return;
    for (uint32_t i = 0; i < n_ids; i++) {
        vkq__dequantize_row(type, (const uint8_t *)table + ids[i] * row_bytes, out + (uint64_t)i * k, k);
    }
}

/* The integer-dot-product decode path: activations quantized to Q8_1 (shaders/quantize_q8_1.comp)
 * and the matvec that multiplies them with 32-element weight blocks by packed 4x8-bit dot
 * products (shaders/matvec_dot.comp); the choice of when to use it; their CPU references. */
#include "ops/products.h"

#include "quant/quant.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DOT_MAX_VECTORS 8
#define DOT_MAX_ROWS 8
#define Q8_1_BLOCK_BYTES 40u /* 32 int8 + float d + float s */

typedef struct quantize_push {
    uint32_t nb, x_skip, q_skip, norm_skip;
    float eps;
} quantize_push;
_Static_assert(sizeof(quantize_push) == 20, "mirrors Push in shaders/quantize_q8_1.comp");

typedef struct matvec_dot_push {
    uint32_t rows, row0, nb, w_skip;
    uint32_t x_skip, y_skip, y_stride;
    uint32_t add_skip, add_stride, has_add;
} matvec_dot_push;
_Static_assert(sizeof(matvec_dot_push) == 40, "mirrors Push in shaders/matvec_dot.comp");

uint64_t vkq__q8_1_bytes(uint32_t k, uint32_t n) { return (uint64_t)n * (k / 32) * Q8_1_BLOCK_BYTES; }

static bool is_pow2(uint32_t v) { return v && !(v & (v - 1)); }

/* The largest power of two <= want that the device allows as a workgroup size. */
static uint32_t pow2_wg(vkq_context *ctx, uint32_t want) {
    const vkq_device_info *i = &ctx->caps.info;
    uint32_t wg = 1;
    while (wg * 2 <= want && wg * 2 <= i->max_workgroup_invocations && wg * 2 <= i->max_workgroup_size[0]) wg *= 2;
    return wg;
}

bool vkq__mul_mat_dot_supported(vkq_context *ctx, vkq_type wtype) {
    const vkq__product_format *f = vkq__product_format_get(wtype);
    if (!ctx || !ctx->device || !f || !ctx->caps.dot) return false;
    char name[64];
    /* As for matvec: the shared-memory variant runs wherever the subgroup one does. */
    snprintf(name, sizeof name, "matvec_dot_%s", f->name);
    return vkq__shader_available(ctx, name) && vkq__shader_available(ctx, "quantize_q8_1");
}

bool vkq__mul_mat_dot_preferred(vkq_context *ctx) {
    if (!ctx || !ctx->device || !ctx->caps.dot) return false;
    /* Opt-in (VKQ_DOT=1) until measured on a GPU whose 4x8 dot is accelerated: decode there is
     * bandwidth-bound, the dot path adds a quantization dispatch and barrier per input, and
     * this kernel leaves invocations idle at small k. Where the dot is emulated (lavapipe) it
     * is measured slower than the float kernel (docs/PERFORMANCE.md). */
    return vkq__env_read().dot > 0;
}

/* ---- quantize ------------------------------------------------------------------------------ */

static vkq_status need_view(vkq_context *ctx, const char *op, const char *what, vkq__view v, uint64_t bytes,
                            uint64_t align, uint32_t k, uint32_t n) {
    if (v.buffer != VK_NULL_HANDLE && v.size >= bytes && v.offset % align == 0) return VKQ_OK;
    return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                     "%s (k %u, n %u): %s view at offset %llu of %llu B; needs %llu B at an offset that is a "
                     "multiple of %llu",
                     op, k, n, what, (unsigned long long)v.offset, (unsigned long long)v.size,
                     (unsigned long long)bytes, (unsigned long long)align);
}

vkq_status vkq__op_quantize_q8_1(vkq__recording *rec, vkq__view x, uint32_t k, uint32_t n,
                                 vkq__view norm, float norm_eps, vkq__view xq) {
    vkq_context *ctx = vkq__recording_context(rec);
    if (k == 0 || k % 32 || n == 0 || (norm.size && !(norm_eps >= 0.0f))) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "quantize_q8_1: k %u (a non-zero multiple of 32), n %u, eps %g", k, n, (double)norm_eps);
    }
    vkq_status st = need_view(ctx, "quantize_q8_1", "x", x, (uint64_t)n * k * 4, 16, k, n);
    if (!st) st = need_view(ctx, "quantize_q8_1", "xq", xq, vkq__q8_1_bytes(k, n), 16, k, n);
    if (!st && norm.size) st = need_view(ctx, "quantize_q8_1", "norm", norm, (uint64_t)k * 4, 16, k, n);
    if (st) return st;
    uint32_t wg = pow2_wg(ctx, 64);
    bool has_norm = norm.size != 0;
    vkq__pipeline_desc d = {.shader = "quantize_q8_1", .n_bindings = 3, .push_size = sizeof(quantize_push),
                            .spec = {wg, has_norm}, .n_spec = 2};
    const vkq__pipeline *p;
    if ((st = vkq__pipeline_get(ctx, &d, &p))) return vkq__wrap(&ctx->diag, st, "quantize_q8_1");

    /* Whole vectors per dispatch, as many as fit one binding (the float side is the larger). */
    uint64_t limit = vkq__product_bind_limit(ctx), xb = (uint64_t)k * 4, qb = vkq__q8_1_bytes(k, 1);
    uint64_t nc = VKQ__MIN(limit / xb, (uint64_t)ctx->caps.info.max_workgroup_count[1]);
    if (nc == 0) {
        return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                         "quantize_q8_1 (k %u): a vector of %llu B does not fit one binding "
                         "(maxStorageBufferRange %llu)",
                         k, (unsigned long long)xb, (unsigned long long)ctx->caps.max_storage_range);
    }
    uint32_t nb = k / 32;
    uint32_t gx = VKQ__MIN((nb + wg - 1) / wg, ctx->caps.info.max_workgroup_count[0]);
    for (uint64_t j0 = 0; j0 < n; j0 += nc) {
        uint32_t cn = (uint32_t)VKQ__MIN(nc, n - j0);
        vkq__view b[3];
        uint32_t skip;
        quantize_push push = {.nb = nb, .eps = norm_eps};
        vkq__product_bind(ctx, x, j0 * xb, cn * xb, &b[0], &skip);
        push.x_skip = skip / 16;
        vkq__product_bind(ctx, xq, j0 * qb, cn * qb, &b[1], &skip);
        push.q_skip = skip / 4;
        if (has_norm) {
            vkq__product_bind(ctx, norm, 0, xb, &b[2], &skip);
            push.norm_skip = skip / 16;
        } else {
            b[2] = b[0]; /* bound, never read */
        }
        if ((st = vkq__recording_dispatch(rec, p, b, &push, gx, cn, 1))) return st;
    }
    return VKQ_OK;
}

/* ---- matvec_dot ---------------------------------------------------------------------------- */

typedef struct dot_plan {
    bool subgroup;
    uint32_t wg, rows, min_subgroup;
} dot_plan;

/* Defaults as matvec's GPU layout (matvec.c): 64 invocations side by side along 2 rows (1 from
 * 5 vectors on, to bound the registers of the accumulators), each taking whole blocks. CPU
 * drivers (where the path runs only when forced, VKQ_DOT=1, or benchmarked): one subgroup of
 * SIMD lanes along 4 rows, which reuses each x load four times; measured on lavapipe for Q4_0
 * 4096 x 4096, n = 1: 6.2 ms against 11.5 ms with the GPU defaults. */
static vkq_status dot_plan_make(vkq_context *ctx, const vkq__mul_mat_args *a, const vkq__product_format *f,
                                const vkq__mul_mat_config *cfg, dot_plan *p) {
    const vkq_device_info *i = &ctx->caps.info;
    char name[64];
    snprintf(name, sizeof name, "matvec_dot_%s_sg", f->name);
    p->subgroup = !cfg->no_subgroup && ctx->caps.subgroup_arithmetic && vkq__shader_available(ctx, name);
    p->min_subgroup = p->subgroup ? VKQ__MAX(i->subgroup_size_min, 1u) : 1;
    bool cpu = i->type == VKQ_DEVICE_TYPE_CPU;
    p->wg = pow2_wg(ctx, cpu ? VKQ__MAX(i->subgroup_size, 8u) : VKQ__MAX(64u, i->subgroup_size));
    p->rows = cpu ? 4 : a->n <= 4 ? 2 : 1;
    if (cfg->workgroup_size) p->wg = cfg->workgroup_size;
    if (cfg->rows) p->rows = cfg->rows;
    if (!is_pow2(p->wg) || p->wg > i->max_workgroup_invocations || p->wg > i->max_workgroup_size[0] ||
        p->rows > DOT_MAX_ROWS) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "matvec_dot %s: workgroup size %u (a power of two up to %u) and %u rows per "
                         "workgroup (1..%d)",
                         f->name, p->wg, VKQ__MIN(i->max_workgroup_invocations, i->max_workgroup_size[0]),
                         p->rows, DOT_MAX_ROWS);
    }
    uint64_t per_output = p->subgroup ? (p->wg + p->min_subgroup - 1) / p->min_subgroup : p->wg;
    uint64_t shared = (uint64_t)p->rows * VKQ__MIN(a->n, (uint32_t)DOT_MAX_VECTORS) * per_output * 4;
    if (shared > i->max_shared_memory) {
        return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                         "matvec_dot %s: workgroup size %u with %u rows needs %llu B shared memory, "
                         "device allows %u",
                         f->name, p->wg, p->rows, (unsigned long long)shared, i->max_shared_memory);
    }
    return VKQ_OK;
}

static vkq_status dot_chunk(vkq__recording *rec, const vkq__mul_mat_args *a, const vkq__product_format *f,
                            const void *data, const vkq__product_chunk *c) {
    vkq_context *ctx = vkq__recording_context(rec);
    const dot_plan *p = data;
    char name[64];
    snprintf(name, sizeof name, "matvec_dot_%s%s", f->name, p->subgroup ? "_sg" : "");
    vkq__pipeline_desc d = {.shader = name, .n_bindings = 4, .push_size = sizeof(matvec_dot_push),
                            .spec = {p->wg, p->rows, c->n, p->min_subgroup}, .n_spec = 4};
    const vkq__pipeline *pl;
    vkq_status st = vkq__pipeline_get(ctx, &d, &pl);
    if (st) return vkq__wrap(&ctx->diag, st, "matvec_dot %s", f->name);
    /* The chunk bound X as floats; the kernel reads the same vectors of xq instead. */
    uint64_t qb = vkq__q8_1_bytes(a->k, 1);
    vkq__view xq;
    uint32_t skip;
    vkq__product_bind(ctx, a->xq, (uint64_t)c->j0 * qb, c->n * qb, &xq, &skip);
    matvec_dot_push push = {
        .rows = c->rows, .row0 = c->row0, .nb = a->k / 32, .w_skip = c->w_skip, .x_skip = skip / 4,
        .y_skip = c->y_skip, .y_stride = a->m, .add_skip = c->add_skip, .add_stride = a->add_stride,
        .has_add = a->add.size != 0,
    };
    uint64_t groups = VKQ__MIN((c->rows + p->rows - 1) / p->rows, ctx->caps.info.max_workgroup_count[0]);
    vkq__view b[4] = {c->w, xq, c->y, c->add};
    return vkq__recording_dispatch(rec, pl, b, &push, (uint32_t)groups, 1, 1);
}

vkq_status vkq__matvec_dot_record(vkq__recording *rec, const vkq__mul_mat_args *a,
                                  const vkq__product_format *f, const vkq__mul_mat_config *cfg,
                                  char *variant) {
    vkq_context *ctx = vkq__recording_context(rec);
    if (!a->xq.size) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "matvec_dot %s: no Q8_1 input (xq)", f->name);
    }
    if (!vkq__mul_mat_dot_supported(ctx, a->wtype)) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED,
                         "matvec_dot %s: no integer-dot kernel for the format in this build or on this device "
                         "(shaderIntegerDotProduct %s)",
                         f->name, ctx->caps.dot ? "yes" : "no");
    }
    dot_plan p;
    vkq_status st = dot_plan_make(ctx, a, f, cfg, &p);
    if (st) return st;
    if (variant) snprintf(variant, 96, "matvec_dot_%s%s wg %u rows %u", f->name, p.subgroup ? "_sg" : "", p.wg, p.rows);
    return vkq__product_for_each_chunk(rec, a, f, DOT_MAX_VECTORS, dot_chunk, &p);
}

vkq_status vkq__op_mul_mat_dot(vkq__recording *rec, const vkq__mul_mat_args *a, vkq__view xq,
                               const vkq__mul_mat_config *cfg, char *variant) {
    vkq_context *ctx = vkq__recording_context(rec);
    if (variant) variant[0] = '\0';
    if (!vkq__mul_mat_dot_supported(ctx, a->wtype)) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED,
                         "mul_mat_dot %s: no integer-dot kernel for the format in this build or on this device "
                         "(shaderIntegerDotProduct %s)",
                         vkq_type_name(a->wtype), ctx->caps.dot ? "yes" : "no");
    }
    vkq_status st = vkq__op_quantize_q8_1(rec, a->x, a->k, a->n, a->norm, a->norm_eps, xq);
    if (st) return st;
    vkq__recording_barrier(rec);
    vkq__mul_mat_args b = *a;
    b.xq = xq;
    vkq__mul_mat_config c = cfg ? *cfg : (vkq__mul_mat_config){0};
    c.kernel = VKQ__MUL_MAT_MATVEC_DOT;
    return vkq__op_mul_mat_config(rec, &b, &c, variant);
}

/* ---- CPU references -------------------------------------------------------------------------- */

void vkq__ref_quantize_q8_1(const float *x, uint32_t k, uint32_t n, const float *norm, float norm_eps,
                            void *out) {
    const uint32_t nb = k / 32;
    for (uint32_t j = 0; j < n; j++) {
        const float *xj = x + (uint64_t)j * k;
        uint8_t *v = (uint8_t *)out + vkq__q8_1_bytes(k, j);
        float scale = 1.0f;
        if (norm) {
            double ss = 0;
            for (uint32_t e = 0; e < k; e++) ss += (double)xj[e] * xj[e];
            scale = (float)(1.0 / sqrt(ss / k + norm_eps));
        }
        for (uint32_t b = 0; b < nb; b++) {
            float t[32], amax = 0;
            for (uint32_t e = 0; e < 32; e++) {
                t[e] = xj[32 * b + e];
                if (norm) t[e] = t[e] * (scale * norm[32 * b + e]);
                amax = fmaxf(amax, fabsf(t[e]));
            }
            float d = amax * (1.0f / 127.0f);
            int32_t sum = 0;
            for (uint32_t e = 0; e < 32; e++) {
                float q = d != 0.0f ? nearbyintf(t[e] / d) : 0.0f; /* ties to even in the default mode */
                int32_t qi = (int32_t)fmaxf(-127.0f, fminf(127.0f, q));
                sum += qi;
                v[32 * b + e] = (uint8_t)(int8_t)qi;
            }
            float ds[2] = {d, d * (float)sum};
            memcpy(v + (uint64_t)k + 8u * b, ds, sizeof ds);
        }
    }
}

void vkq__ref_mul_mat_q8_1(vkq_type wtype, const void *w, uint32_t m, uint32_t k, const void *xq,
                           uint32_t n, float *y, const float *add, uint32_t add_stride) {
    const vkq__type_info *info = vkq__type_info_get(wtype);
    uint64_t row_bytes;
    if (!info || info->block_elements != 32 || k % 32 || !vkq__row_bytes(wtype, k, &row_bytes)) return;
    float piece[32];
    for (uint32_t r = 0; r < m; r++) {
        const uint8_t *row = (const uint8_t *)w + r * row_bytes;
        for (uint32_t j = 0; j < n; j++) {
            const uint8_t *v = (const uint8_t *)xq + vkq__q8_1_bytes(k, j);
            double acc = 0;
            for (uint32_t b = 0; b < k / 32; b++) {
                vkq__dequantize_row(wtype, row + (uint64_t)b * info->block_bytes, piece, 32);
                float ds[2];
                memcpy(ds, v + (uint64_t)k + 8u * b, sizeof ds);
                for (uint32_t e = 0; e < 32; e++) {
                    acc += (double)piece[e] * ((double)ds[0] * (int8_t)v[32 * b + e]);
                }
            }
            if (add) acc += (double)add[(uint64_t)j * add_stride + r];
            y[(uint64_t)j * m + r] = (float)acc;
        }
    }
}

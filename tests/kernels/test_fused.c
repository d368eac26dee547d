/* The fused decode products against their CPU references: vkq__op_mul_mat_swiglu (gate+up+SiLU
 * in one matvec pass) against vkq__ref_mul_mat_swiglu, and the RMS norm fused into the input of
 * both it and the plain matvec against vkq__ref_rms_norm followed by the reference product.
 * Several formats, awkward row counts, n = 1..8 (and beyond: passes of 8), views off their
 * buffers' aligned starts, NaN-poisoned outputs, and the split path (maxStorageBufferRange
 * lowered so that W_gate and W_up are bound in row chunks).
 *
 * With the norm fused, the products are bounded as below with x replaced by the normalized
 * vector xn, plus 2^-18 · Σ|w||xn| for the rounding of the per-vector scale (a sum of k squares
 * reduced in float).
 *
 * Tolerance. Each product g, u carries the float32 error bound of the matvec kernel (see
 * kernels_common.c): eg = (k/4 + 32) · 2^-24 · Σ (|w| + max|w|) · |x|. silu has a slope of at
 * most 1.1, so the output error is at most 1.1 · eg · |u| + |silu(g)| · eu + eg · eu, plus a few
 * ulps of the float silu and product (exp on GPUs is only accurate to a few ulps: 2^-18
 * relative allowed). */
#include "kernels_test.h"
#include "ops/layers.h"
#include "ops/products.h"
#include "quant/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NAN_BITS 0x7fc00000u

/* The matvec error bound of one product (row r of deq with x), and the norm's share. */
static double product_bound(const float *deq, const float *x, uint32_t k, bool norm) {
    double wmax = 0, e = 0, wx = 0;
    for (uint32_t q = 0; q < k; q++) wmax = fmax(wmax, fabs(deq[q]));
    for (uint32_t q = 0; q < k; q++) e += (fabs(deq[q]) + wmax) * fabs(x[q]), wx += fabs(deq[q] * x[q]);
    return (k / 4.0 + 32) * 0x1p-24 * e + (norm ? 0x1p-18 * wx : 0);
}

#define NORM_EPS 1e-5f

/* A norm weight around 1 and, when the norm is fused, xn = rms_norm(x) · weight: what the
 * kernel should see. Without it xn is x. */
static float *norm_weight(uint32_t k) {
    float *w = malloc((size_t)k * 4);
    for (uint32_t i = 0; i < k; i++) w[i] = test_rand_uniform(0.5f, 1.5f);
    return w;
}

/* Uploads the norm weight into a buffer at offset 16 (a multiple of 16, not 0). */
static vkq__view upload_norm(vkq_context *ctx, const float *w, uint32_t k, vkq__buffer *b) {
    CHECK_OK(ctx, vkq__buffer_create(ctx, 16 + (uint64_t)k * 4, VKQ__MEM_DEVICE, "norm", b));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, b, 16, w, (uint64_t)k * 4));
    return vkq__subview(b, 16, (uint64_t)k * 4);
}

typedef struct fused_case {
    vkq_type type;
    uint32_t m, k, n;
    uint32_t w_off, x_off, y_off; /* view offsets (bytes) */
    bool norm;                    /* RMS norm fused into the input */
    vkq__mul_mat_config cfg;      /* matvec layout and tuning; zero: the device's defaults */
} fused_case;

static void check_swiglu(vkq_context *ctx, const fused_case *c) {
    uint64_t wb = kernel_row_bytes(c->type, c->k) * c->m;
    uint64_t xb = (uint64_t)c->n * c->k * 4, yb = (uint64_t)c->n * c->m * 4;
    float *dg, *du;
    uint8_t *wg = kernel_random_weights(c->type, c->m, c->k, &dg), *wu = kernel_random_weights(c->type, c->m, c->k, &du);
    float *x = malloc(xb), *xn = malloc(xb), *want = malloc(yb), *got = malloc(yb);
    /* Un-normalized inputs far from unit scale, so that a missing norm cannot pass. */
    for (uint64_t i = 0; i < (uint64_t)c->n * c->k; i++) x[i] = (c->norm ? 7.0f : 1.0f) * test_rand_normal();
    float *nw = c->norm ? norm_weight(c->k) : NULL;
    if (nw) {
        vkq__ref_rms_norm(x, nw, xn, c->k, c->n, NORM_EPS);
    } else {
        memcpy(xn, x, xb);
    }
    vkq__ref_mul_mat_swiglu(c->type, wg, wu, c->m, c->k, xn, c->n, want);

    vkq__buffer bg, bu, bx, by;
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->w_off + wb, VKQ__MEM_DEVICE, "W_gate", &bg));
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->w_off + wb, VKQ__MEM_DEVICE, "W_up", &bu));
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->x_off + xb, VKQ__MEM_DEVICE, "X", &bx));
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->y_off + yb, VKQ__MEM_DEVICE, "Y", &by));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &bg, c->w_off, wg, wb));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &bu, c->w_off, wu, wb));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &bx, c->x_off, x, xb));
    /* NaN everywhere: an output the kernel forgets to write cannot pass. */
    CHECK_OK(ctx, vkq__buffer_fill(ctx, &by, NAN_BITS));
    vkq__buffer bn = {0};
    vkq__view norm = nw ? upload_norm(ctx, nw, c->k, &bn) : (vkq__view){0};
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    CHECK_OK(ctx, vkq__op_mul_mat_swiglu_config(rec, c->type, vkq__subview(&bg, c->w_off, wb),
                                                vkq__subview(&bu, c->w_off, wb), c->m, c->k,
                                                vkq__subview(&bx, c->x_off, xb), c->n,
                                                vkq__subview(&by, c->y_off, yb), norm, NORM_EPS, &c->cfg));
    CHECK_OK(ctx, vkq__recording_submit_wait(rec));
    vkq__recording_destroy(rec);
    CHECK_OK(ctx, vkq__buffer_download(ctx, &by, c->y_off, got, yb));

    uint64_t bad = 0;
    for (uint32_t j = 0; j < c->n; j++) {
        for (uint32_t i = 0; i < c->m; i++) {
            const float *xj = xn + (uint64_t)j * c->k;
            const float *rg = dg + (uint64_t)i * c->k, *ru = du + (uint64_t)i * c->k;
            double g = 0, u = 0;
            for (uint32_t q = 0; q < c->k; q++) g += (double)rg[q] * xj[q], u += (double)ru[q] * xj[q];
            double eg = product_bound(rg, xj, c->k, c->norm), eu = product_bound(ru, xj, c->k, c->norm);
            double silu = g / (1 + exp(-g));
            uint64_t o = (uint64_t)j * c->m + i;
            double tol = 1.1 * eg * fabs(u) + fabs(silu) * eu + eg * eu + 0x1p-18 * fabs(want[o]) + 1e-30;
            double diff = fabs((double)got[o] - want[o]);
            if (!(diff <= tol) && bad++ < 3) {
                fprintf(stderr, "  swiglu%s %s m %u k %u n %u: out[%u][%u] = %.9g, reference %.9g (tolerance %.3g)\n",
                        c->norm ? "+norm" : "", vkq_type_name(c->type), c->m, c->k, c->n, j, i, got[o], want[o], tol);
            }
        }
    }
    CHECK(bad == 0);
    vkq__buffer_destroy(ctx, &bg);
    vkq__buffer_destroy(ctx, &bu);
    vkq__buffer_destroy(ctx, &bx);
    vkq__buffer_destroy(ctx, &by);
    if (nw) vkq__buffer_destroy(ctx, &bn);
    free(wg), free(wu), free(dg), free(du), free(x), free(xn), free(nw), free(want), free(got);
}

/* The plain matvec with the norm fused (and a residual add): Y = W·rms_norm(X)·nw + ADD. */
static void check_norm_matvec(vkq_context *ctx, const fused_case *c) {
    uint64_t wb = kernel_row_bytes(c->type, c->k) * c->m;
    uint64_t xb = (uint64_t)c->n * c->k * 4, yb = (uint64_t)c->n * c->m * 4;
    float *deq;
    uint8_t *w = kernel_random_weights(c->type, c->m, c->k, &deq);
    float *x = malloc(xb), *xn = malloc(xb), *add = malloc(yb), *want = malloc(yb), *got = malloc(yb);
    for (uint64_t i = 0; i < (uint64_t)c->n * c->k; i++) x[i] = 5.0f * test_rand_normal();
    for (uint64_t i = 0; i < (uint64_t)c->n * c->m; i++) add[i] = test_rand_normal();
    float *nw = norm_weight(c->k);
    vkq__ref_rms_norm(x, nw, xn, c->k, c->n, NORM_EPS);
    vkq__ref_mul_mat(c->type, w, c->m, c->k, xn, c->n, want, add, c->m);

    vkq__buffer bw, bx, by, bn;
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->w_off + wb, VKQ__MEM_DEVICE, "W", &bw));
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->x_off + xb, VKQ__MEM_DEVICE, "X", &bx));
    CHECK_OK(ctx, vkq__buffer_create(ctx, yb, VKQ__MEM_DEVICE, "Y", &by));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &bw, c->w_off, w, wb));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &bx, c->x_off, x, xb));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &by, 0, add, yb)); /* the residual, added in place */
    vkq__view norm = upload_norm(ctx, nw, c->k, &bn);
    vkq__view y = vkq__view_of(&by);
    vkq__mul_mat_args a = {.wtype = c->type, .w = vkq__subview(&bw, c->w_off, wb), .m = c->m, .k = c->k,
                           .x = vkq__subview(&bx, c->x_off, xb), .n = c->n, .y = y, .add = y,
                           .add_stride = c->m, .norm = norm, .norm_eps = NORM_EPS};
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    CHECK_OK(ctx, vkq__op_mul_mat_config(rec, &a, &c->cfg, NULL));
    CHECK_OK(ctx, vkq__recording_submit_wait(rec));
    vkq__recording_destroy(rec);
    CHECK_OK(ctx, vkq__buffer_download(ctx, &by, 0, got, yb));

    uint64_t bad = 0;
    for (uint32_t j = 0; j < c->n; j++) {
        for (uint32_t i = 0; i < c->m; i++) {
            uint64_t o = (uint64_t)j * c->m + i;
            double tol = product_bound(deq + (uint64_t)i * c->k, xn + (uint64_t)j * c->k, c->k, true) +
                         0x1p-23 * fabs(want[o]) + 1e-30;
            double diff = fabs((double)got[o] - want[o]);
            if (!(diff <= tol) && bad++ < 3) {
                fprintf(stderr, "  matvec+norm %s m %u k %u n %u: y[%u][%u] = %.9g, reference %.9g (tolerance %.3g)\n",
                        vkq_type_name(c->type), c->m, c->k, c->n, j, i, got[o], want[o], tol);
            }
        }
    }
    CHECK(bad == 0);
    vkq__buffer_destroy(ctx, &bw);
    vkq__buffer_destroy(ctx, &bx);
    vkq__buffer_destroy(ctx, &by);
    vkq__buffer_destroy(ctx, &bn);
    free(w), free(deq), free(x), free(xn), free(add), free(nw), free(want), free(got);
}

static const vkq_type types[] = {VKQ_TYPE_F32,  VKQ_TYPE_F16,  VKQ_TYPE_BF16, VKQ_TYPE_Q4_0,
                                 VKQ_TYPE_Q4_1, VKQ_TYPE_Q5_0, VKQ_TYPE_Q8_0, VKQ_TYPE_Q2_K,
                                 VKQ_TYPE_Q3_K, VKQ_TYPE_Q4_K, VKQ_TYPE_Q6_K, VKQ_TYPE_IQ4_XS};
#define N_TYPES (sizeof types / sizeof types[0])

static void check_formats(vkq_context *ctx) {
    for (size_t i = 0; i < N_TYPES; i++) {
        vkq_type t = types[i];
        uint32_t bk = kernel_block(t);
        uint32_t k_odd = bk == 256 ? 3 * 256 : bk == 32 ? 7 * 32 : 13 * 8; /* odd number of blocks */
        /* n = 1 (decode) and one other vector count: every count compiles its own pipeline, which
         * is what a CPU driver spends its time on, so the others come from other seeds. */
        const uint32_t ns[2] = {1, (uint32_t)test_rand_int(2, 8)};
        for (uint32_t i = 0; i < 2; i++) {
            uint32_t n = ns[i];
            /* awkward row counts, and views off their aligned starts */
            fused_case c = {.type = t, .m = n % 2 ? 37 : 1 + 2 * n, .k = k_odd, .n = n};
            if (i == 1) c.w_off = 4, c.x_off = 16, c.y_off = 4;
            check_swiglu(ctx, &c);
        }
        /* Every layout on every device, whichever is its default: one row per invocation with a
         * partial last workgroup; invocations along a row with the subgroup (where available)
         * and the shared-memory reductions, odd rows per workgroup (outputs outnumber
         * invocations). */
        const vkq__matvec_layout shared = VKQ__MATVEC_LAYOUT_SHARED, lane = VKQ__MATVEC_LAYOUT_LANE;
        fused_case layouts[] = {
            {.type = t, .m = 37, .k = k_odd, .n = (uint32_t)test_rand_int(1, 8), .w_off = 4,
             .cfg = {.layout = lane, .workgroup_size = 16, .rows = 3}},
            {.type = t, .m = 33, .k = k_odd, .n = (uint32_t)test_rand_int(1, 8), .x_off = 16,
             .cfg = {.layout = shared}},
            {.type = t, .m = 29, .k = k_odd, .n = (uint32_t)test_rand_int(1, 8), .y_off = 4,
             .cfg = {.layout = shared, .no_subgroup = true, .workgroup_size = 16, .rows = 3}},
        };
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
            check_swiglu(ctx, &layouts[l]);
            layouts[l].norm = true;
            check_swiglu(ctx, &layouts[l]);
            check_norm_matvec(ctx, &layouts[l]);
        }
        fused_case plain = {.type = t, .m = 41, .k = k_odd, .n = (uint32_t)test_rand_int(1, 8), .norm = true};
        check_swiglu(ctx, &plain);
        check_norm_matvec(ctx, &plain);
    }
    /* n beyond 8: passes of 8 */
    fused_case many = {.type = VKQ_TYPE_Q4_K, .m = 19, .k = 512, .n = 11};
    check_swiglu(ctx, &many);
    many.norm = true;
    check_swiglu(ctx, &many);
    check_norm_matvec(ctx, &many);
}

/* Both weight matrices larger than the lowered binding limit: row chunks, each binding W_up's
 * matching rows. */
static void check_split(void) {
    const uint32_t range = 64u << 10;
    vkq_context_desc desc = {.max_storage_buffer_range = range};
    vkq_context *ctx = test_gpu_context_desc(desc);
    if (!ctx) return;
    const vkq_type split_types[] = {VKQ_TYPE_F16, VKQ_TYPE_Q4_0, VKQ_TYPE_Q4_1, VKQ_TYPE_Q8_0, VKQ_TYPE_Q4_K,
                                    VKQ_TYPE_Q6_K};
    for (size_t i = 0; i < sizeof split_types / sizeof split_types[0]; i++) {
        vkq_type t = split_types[i];
        uint32_t k = 512;
        uint32_t m = (uint32_t)((range * 9 / 4) / kernel_row_bytes(t, k)) | 1u; /* about 2.3 limits, odd */
        fused_case c = {.type = t, .m = m, .k = k, .n = (uint32_t)test_rand_int(1, 8), .w_off = 4};
        check_swiglu(ctx, &c);
        c.norm = true;
        check_swiglu(ctx, &c);
        check_norm_matvec(ctx, &c);
    }
    test_gpu_context_destroy(ctx);
}

static void check_errors(vkq_context *ctx) {
    const vkq__view none = {0};
    vkq__buffer b;
    CHECK_OK(ctx, vkq__buffer_create(ctx, 1 << 16, VKQ__MEM_DEVICE, "b", &b));
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    vkq__view v = vkq__view_of(&b);
    /* W_up too short */
    CHECK_STATUS(ctx, vkq__op_mul_mat_swiglu(rec, VKQ_TYPE_Q4_0, v, vkq__subview(&b, 0, 100), 4, 64, v, 1, v, none, 0),
                 VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq__op_mul_mat_swiglu(rec, VKQ_TYPE_Q8_1, v, v, 4, 64, v, 1, v, none, 0), VKQ_ERR_UNSUPPORTED);
    /* a norm weight too short, or off a 16-byte boundary */
    CHECK_STATUS(ctx, vkq__op_mul_mat_swiglu(rec, VKQ_TYPE_Q4_0, v, v, 4, 64, v, 1, v, vkq__subview(&b, 0, 128), 1e-5f),
                 VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq__op_mul_mat_swiglu(rec, VKQ_TYPE_Q4_0, v, v, 4, 64, v, 1, v, vkq__subview(&b, 4, 256), 1e-5f),
                 VKQ_ERR_INVALID_ARGUMENT);
    /* the matmul kernel has no fused norm */
    vkq__mul_mat_args a = {.wtype = VKQ_TYPE_Q4_0, .w = v, .m = 4, .k = 64, .x = v, .n = 16, .y = v,
                           .norm = vkq__subview(&b, 0, 256), .norm_eps = 1e-5f};
    vkq__mul_mat_config mm = {.kernel = VKQ__MUL_MAT_MATMUL};
    CHECK_STATUS(ctx, vkq__op_mul_mat_config(rec, &a, &mm, NULL), VKQ_ERR_UNSUPPORTED);
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &b);
    CHECK(vkq__mul_mat_swiglu_supported(ctx, VKQ_TYPE_Q4_K));
    CHECK(!vkq__mul_mat_swiglu_supported(ctx, VKQ_TYPE_Q8_1));
}

int main(void) {
    test_init("test_kernels_fused");
    vkq_context *ctx = test_gpu_context();
    if (ctx) {
        check_formats(ctx);
        check_errors(ctx);
        test_gpu_context_destroy(ctx);
        check_split();
    }
    return test_finish();
}

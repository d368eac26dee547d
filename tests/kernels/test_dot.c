/* The integer-dot decode path: quantize_q8_1 against its CPU reference, and matvec_dot for every
 * format it supports against two references, on fresh random inputs of awkward shapes (a row of
 * one block, odd row counts, n = 1..8 and beyond, residual / bias / in-place adds, views off
 * their buffers' aligned starts, the fused norm, both reductions, the split into bindings under
 * a lowered maxStorageBufferRange); the choice between the dot and the float kernel; the errors.
 * The dot product needs shaderIntegerDotProduct: without it those checks are skipped (with a
 * message), the quantizer is still tested.
 *
 * Quantizer, exact: d = amax * (1/127) is a correctly rounded multiplication on every device,
 * so it must match bit for bit, and s = d * sum(q) too (checked against the GPU's own q). q must
 * match except where x / d lies within 1e-6 relative of a .5 tie: Vulkan allows x / d an error
 * of 2.5 ulp (about 3e-7 relative), which can move it across the tie and q by one. With the
 * norm fused the GPU's 1/rms comes from a float tree sum, the reference's from a double sum, so
 * there d matches to 1e-5 relative and q to one.
 *
 * Product, tight: the reference (vkq__ref_mul_mat_q8_1, double) reads the Q8_1 buffer the GPU
 * wrote, so the only difference is float rounding. Per block the GPU forms d_w (d_x isum) + m_w
 * s_x (isum exact in int32), each term bounded by sum_e (|w_e| + o_b) |x_e| where o_b is the
 * block's offset (8|d| for Q4_0, 16|d| for Q5_0, |m| for Q4_1 / Q5_1, 0 for Q8_0: |d q| <= |w| +
 * o_b), s_x itself rounded once; the block terms then go through a chain of at most nb + log2
 * (workgroup) additions. Bound: (k/32 + 16) * 2^-24 * E, E = sum_b sum_e (|w_e| + o_b) |x_e| +
 * |add|, a worst case; a wrong block or scale gives errors of order |w||x|.
 *
 * Product, loose: against the float reference on the unquantized x (vkq__ref_mul_mat), the
 * difference is the int8 rounding of x: |x_e - d q_e| <= d / 2 = amax_b / 254, so |dy| <=
 * sum_b (d_b / 2) sum_{e in b} |w_e| (plus the tight bound, and 1e-5 relative for the fused
 * norm's scale). Measured (VKQ_TEST_VERBOSE=1 prints it) the relative L2 error of y is about
 * 0.5 %: the price of 8-bit activations. */
#include "kernels_test.h"

#include "quant/half.h"
#include "quant/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NAN_BITS 0x7fc00000u

static const vkq_type dot_types[] = {VKQ_TYPE_Q4_0, VKQ_TYPE_Q4_1, VKQ_TYPE_Q5_0, VKQ_TYPE_Q5_1, VKQ_TYPE_Q8_0};
#define N_DOT_TYPES (sizeof dot_types / sizeof dot_types[0])

static float *random_floats(uint64_t count) {
    float *v = malloc(count * 4 + 4);
    for (uint64_t i = 0; i < count; i++) v[i] = test_rand_normal() * test_rand_uniform(0.1f, 3.0f);
    return v;
}

/* Blocks that test the corners: all zero (d = 0), one outlier, values on exact .5 ties of a
 * power-of-two scale (amax = 127 * 2^-3: x / d = t + 0.5 exactly, where round-to-even matters). */
static void corner_blocks(float *x, uint32_t k, uint32_t n) {
    for (uint32_t j = 0; j < n; j++) {
        float *v = x + (uint64_t)j * k;
        uint32_t nb = k / 32;
        memset(v + 32 * (j % nb), 0, 32 * sizeof(float));
        if (nb > 1) v[32 * ((j + 1) % nb) + 5] = 1000.0f;
        if (nb > 2) {
            float *t = v + 32 * ((j + 2) % nb);
            t[0] = 127.0f / 8.0f;
            for (uint32_t e = 1; e < 32; e++) t[e] = ((float)test_rand_int(-126, 125) + 0.5f) / 8.0f;
        }
    }
}

static float q8_1_d(const uint8_t *xq, uint32_t k, uint32_t j, uint32_t b) {
    float d;
    memcpy(&d, xq + vkq__q8_1_bytes(k, j) + k + 8u * b, 4);
    return d;
}
static float q8_1_s(const uint8_t *xq, uint32_t k, uint32_t j, uint32_t b) {
    float s;
    memcpy(&s, xq + vkq__q8_1_bytes(k, j) + k + 8u * b + 4, 4);
    return s;
}
static int q8_1_q(const uint8_t *xq, uint32_t k, uint32_t j, uint32_t e) {
    return (int8_t)xq[vkq__q8_1_bytes(k, j) + e];
}

/* x normalized the way the kernels do, in double, for the float references. */
static void normed(const float *x, const float *norm, float eps, uint32_t k, uint32_t n, float *out) {
    for (uint32_t j = 0; j < n; j++) {
        const float *xj = x + (uint64_t)j * k;
        double ss = 0;
        for (uint32_t e = 0; e < k; e++) ss += (double)xj[e] * xj[e];
        double scale = 1.0 / sqrt(ss / k + eps);
        for (uint32_t e = 0; e < k; e++) out[(uint64_t)j * k + e] = (float)(xj[e] * scale * norm[e]);
    }
}

/* ---- quantize ----------------------------------------------------------------------------- */

static void check_quantize(vkq_context *ctx, uint32_t k, uint32_t n, bool with_norm, uint32_t x_off) {
    uint64_t xb = (uint64_t)n * k * 4, qb = vkq__q8_1_bytes(k, n);
    float *x = random_floats((uint64_t)n * k), *norm = with_norm ? random_floats(k) : NULL;
    corner_blocks(x, k, n);
    const float eps = 1e-5f;
    uint8_t *want = malloc(qb), *got = malloc(qb);
    vkq__ref_quantize_q8_1(x, k, n, norm, eps, want);

    vkq__buffer bx, bq, bn = {0};
    CHECK_OK(ctx, vkq__buffer_create(ctx, x_off + xb, VKQ__MEM_DEVICE, "x", &bx));
    CHECK_OK(ctx, vkq__buffer_create(ctx, 16 + qb, VKQ__MEM_DEVICE, "xq", &bq));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &bx, x_off, x, xb));
    CHECK_OK(ctx, vkq__buffer_fill(ctx, &bq, NAN_BITS));
    if (with_norm) {
        CHECK_OK(ctx, vkq__buffer_create(ctx, (uint64_t)k * 4, VKQ__MEM_DEVICE, "norm", &bn));
        CHECK_OK(ctx, vkq__buffer_upload(ctx, &bn, 0, norm, (uint64_t)k * 4));
    }
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    vkq__view nv = with_norm ? vkq__view_of(&bn) : (vkq__view){0};
    CHECK_OK(ctx, vkq__op_quantize_q8_1(rec, vkq__subview(&bx, x_off, xb), k, n, nv, eps, vkq__subview(&bq, 16, qb)));
    CHECK_OK(ctx, vkq__recording_submit_wait(rec));
    vkq__recording_destroy(rec);
    CHECK_OK(ctx, vkq__buffer_download(ctx, &bq, 16, got, qb));

    uint64_t bad = 0, near_ties = 0;
    for (uint32_t j = 0; j < n; j++) {
        for (uint32_t b = 0; b < k / 32; b++) {
            float dg = q8_1_d(got, k, j, b), dw = q8_1_d(want, k, j, b);
            bool d_ok = with_norm ? fabsf(dg - dw) <= 1e-5f * fabsf(dw) : memcmp(&dg, &dw, 4) == 0;
            int32_t sum = 0;
            for (uint32_t e = 32 * b; e < 32 * b + 32; e++) {
                int qg = q8_1_q(got, k, j, e), qw = q8_1_q(want, k, j, e);
                sum += qg;
                if (qg == qw) continue;
                /* x / d in double: how far from a tie the exact quotient is. */
                double t = dw != 0 ? (double)x[(uint64_t)j * k + e] / dw : 0;
                double tie = fabs(fabs(t) - floor(fabs(t)) - 0.5);
                bool allowed = abs(qg - qw) == 1 && (with_norm || tie <= 1e-6 * fabs(t));
                near_ties += allowed;
                if (!allowed && bad++ < 3) {
                    fprintf(stderr, "  quantize k %u n %u: q[%u][%u] = %d, reference %d (x / d = %.9g)\n", k, n, j, e,
                            qg, qw, t);
                }
            }
            float sg = q8_1_s(got, k, j, b);
            if (!d_ok || sg != dg * (float)sum) {
                if (bad++ < 3) {
                    fprintf(stderr, "  quantize k %u n %u: block %u of vector %u: d %.9g s %.9g, reference d %.9g, "
                                    "d * sum(q) %.9g\n", k, n, b, j, dg, sg, dw, dg * (float)sum);
                }
            }
        }
    }
    CHECK_MSG(bad == 0, "quantize_q8_1 k %u n %u norm %d: %llu mismatches", k, n, (int)with_norm,
              (unsigned long long)bad);
    if (getenv("VKQ_TEST_VERBOSE")) {
        printf("  quantize_q8_1 k %5u n %u norm %d: %llu q off by one at a tie\n", k, n, (int)with_norm,
               (unsigned long long)near_ties);
    }
    vkq__buffer_destroy(ctx, &bx), vkq__buffer_destroy(ctx, &bq), vkq__buffer_destroy(ctx, &bn);
    free(x), free(norm), free(want), free(got);
}

/* ---- matvec_dot --------------------------------------------------------------------------- */

typedef struct dot_case {
    vkq_type type;
    uint32_t m, k, n;
    add_mode add;
    bool norm;
    vkq__mul_mat_config cfg;
    uint32_t w_off, x_off, y_off, q_off; /* view offsets in their buffers (bytes) */
} dot_case;

/* o_b of the header comment, from the block's own bytes (every format here starts with half d;
 * Q4_1 and Q5_1 follow it with half m). */
static double block_offset(vkq_type t, const uint8_t *blk) {
    float d = vkq__fp16_to_fp32((uint16_t)(blk[0] | blk[1] << 8));
    float m = vkq__fp16_to_fp32((uint16_t)(blk[2] | blk[3] << 8));
    switch (t) {
    case VKQ_TYPE_Q4_0: return 8.0 * fabs(d);
    case VKQ_TYPE_Q5_0: return 16.0 * fabs(d);
    case VKQ_TYPE_Q4_1: case VKQ_TYPE_Q5_1: return fabs(m);
    default: return 0.0;
    }
}

typedef struct dot_bounds {
    double tight, loose;
} dot_bounds;

static dot_bounds bounds(const dot_case *c, const uint8_t *w, const float *deq, const uint8_t *xq, double add_abs,
                         uint32_t i, uint32_t j) {
    uint64_t row_bytes = kernel_row_bytes(c->type, c->k), bb = vkq_type_block_bytes(c->type);
    const float *wr = deq + (uint64_t)i * c->k;
    double e_tight = add_abs, e_quant = 0, e_norm = 0;
    for (uint32_t b = 0; b < c->k / 32; b++) {
        double o = block_offset(c->type, w + i * row_bytes + b * bb), dx = q8_1_d(xq, c->k, j, b), wabs = 0;
        for (uint32_t e = 32 * b; e < 32 * b + 32; e++) {
            double xe = fabs(dx * q8_1_q(xq, c->k, j, e));
            e_tight += (fabs(wr[e]) + o) * xe;
            e_norm += fabs(wr[e]) * xe;
            wabs += fabs(wr[e]);
        }
        e_quant += dx / 2 * wabs;
    }
    dot_bounds r;
    r.tight = (c->k / 32.0 + 16) * 0x1p-24 * e_tight + 1e-30;
    r.loose = r.tight + 1.001 * e_quant + (c->norm ? 1e-5 * e_norm : 0);
    return r;
}

static void check_dot(vkq_context *ctx, const dot_case *c) {
    float *deq;
    uint8_t *w = kernel_random_weights(c->type, c->m, c->k, &deq);
    uint64_t wb = kernel_row_bytes(c->type, c->k) * c->m;
    uint64_t xb = (uint64_t)c->n * c->k * 4, yb = (uint64_t)c->n * c->m * 4;
    uint64_t qb = vkq__q8_1_bytes(c->k, c->n);
    float *x = random_floats((uint64_t)c->n * c->k), *norm = c->norm ? random_floats(c->k) : NULL;
    uint64_t add_floats = c->add == ADD_BIAS ? c->m : (uint64_t)c->n * c->m;
    uint32_t stride = c->add == ADD_BIAS ? 0 : c->m;
    float *add = c->add ? random_floats(add_floats) : NULL;
    float *got = malloc(yb), *want_q = malloc(yb), *want_f = malloc(yb);
    uint8_t *xq = malloc(qb);

    vkq__buffer bw, bx, by, bq, ba = {0}, bn = {0};
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->w_off + wb, VKQ__MEM_DEVICE, "W", &bw));
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->x_off + xb, VKQ__MEM_DEVICE, "X", &bx));
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->y_off + yb, VKQ__MEM_DEVICE, "Y", &by));
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->q_off + qb, VKQ__MEM_DEVICE, "xq", &bq));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &bw, c->w_off, w, wb));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &bx, c->x_off, x, xb));
    CHECK_OK(ctx, vkq__buffer_fill(ctx, &by, NAN_BITS));
    vkq__mul_mat_args a = {
        .wtype = c->type, .w = vkq__subview(&bw, c->w_off, wb), .m = c->m, .k = c->k,
        .x = vkq__subview(&bx, c->x_off, xb), .n = c->n, .y = vkq__subview(&by, c->y_off, yb),
    };
    if (c->add == ADD_IN_PLACE) {
        CHECK_OK(ctx, vkq__buffer_upload(ctx, &by, c->y_off, add, yb));
        a.add = a.y, a.add_stride = c->m;
    } else if (c->add != ADD_NONE) {
        CHECK_OK(ctx, vkq__buffer_create(ctx, add_floats * 4, VKQ__MEM_DEVICE, "add", &ba));
        CHECK_OK(ctx, vkq__buffer_upload(ctx, &ba, 0, add, add_floats * 4));
        a.add = vkq__view_of(&ba), a.add_stride = stride;
    }
    if (c->norm) {
        CHECK_OK(ctx, vkq__buffer_create(ctx, (uint64_t)c->k * 4, VKQ__MEM_DEVICE, "norm", &bn));
        CHECK_OK(ctx, vkq__buffer_upload(ctx, &bn, 0, norm, (uint64_t)c->k * 4));
        a.norm = vkq__view_of(&bn), a.norm_eps = 1e-5f;
    }
    char variant[96] = "";
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    CHECK_OK(ctx, vkq__op_mul_mat_dot(rec, &a, vkq__subview(&bq, c->q_off, qb), &c->cfg, variant));
    CHECK_OK(ctx, vkq__recording_submit_wait(rec));
    vkq__recording_destroy(rec);
    CHECK_OK(ctx, vkq__buffer_download(ctx, &by, c->y_off, got, yb));
    CHECK_OK(ctx, vkq__buffer_download(ctx, &bq, c->q_off, xq, qb));
    CHECK_MSG(!strncmp(variant, "matvec_dot", 10), "variant '%s'", variant);

    vkq__ref_mul_mat_q8_1(c->type, w, c->m, c->k, xq, c->n, want_q, add, stride);
    float *xf = x;
    if (c->norm) {
        xf = malloc(xb);
        normed(x, norm, a.norm_eps, c->k, c->n, xf);
    }
    vkq__ref_mul_mat(c->type, w, c->m, c->k, xf, c->n, want_f, add, stride);
    uint64_t bad = 0;
    double worst = 0, err2 = 0, ref2 = 0;
    for (uint32_t j = 0; j < c->n; j++) {
        for (uint32_t i = 0; i < c->m; i++) {
            uint64_t o = (uint64_t)j * c->m + i;
            double a_abs = add ? fabs(add[(uint64_t)j * stride + i]) : 0;
            dot_bounds t = bounds(c, w, deq, xq, a_abs, i, j);
            double dq = fabs((double)got[o] - want_q[o]), df = fabs((double)got[o] - want_f[o]);
            if (!(dq <= t.tight) || !(df <= t.loose)) {
                if (bad++ < 3) {
                    fprintf(stderr, "  %s m %u k %u n %u: y[%u][%u] = %.9g; Q8_1 reference %.9g (tolerance %.3g), "
                                    "float reference %.9g (tolerance %.3g)\n",
                            vkq_type_name(c->type), c->m, c->k, c->n, j, i, got[o], want_q[o], t.tight, want_f[o],
                            t.loose);
                }
            } else if (dq / t.tight > worst) {
                worst = dq / t.tight;
            }
            double a_o = add ? add[(uint64_t)j * stride + i] : 0;
            err2 += df * df, ref2 += (want_f[o] - a_o) * (want_f[o] - a_o);
        }
    }
    CHECK_MSG(bad == 0, "%s (%s) m %u k %u n %u add %d norm %d: %llu of %llu outputs outside tolerance", variant,
              vkq_type_name(c->type), c->m, c->k, c->n, (int)c->add, (int)c->norm, (unsigned long long)bad,
              (unsigned long long)c->n * c->m);
    if (getenv("VKQ_TEST_VERBOSE")) {
        printf("  %-34s m %4u k %5u n %u add %d norm %d: worst %.2g of tolerance, %.3f %% relative L2 vs float\n",
               variant, c->m, c->k, c->n, (int)c->add, (int)c->norm, worst, 100 * sqrt(err2 / (ref2 + 1e-300)));
    }
    vkq__buffer *bufs[] = {&bw, &bx, &by, &bq, &ba, &bn};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) vkq__buffer_destroy(ctx, bufs[i]);
    if (xf != x) free(xf);
    free(w), free(deq), free(x), free(norm), free(add), free(got), free(want_q), free(want_f), free(xq);
}

static void check_format(vkq_context *ctx, vkq_type t) {
    const uint32_t k_odd = 7 * 32;
    dot_case cases[] = {
        /* a row of one block, one row, one vector, the device's defaults */
        {.type = t, .m = 1, .k = 32, .n = 1},
        /* odd rows, a few vectors, residual add, views off their buffers' aligned starts */
        {.type = t, .m = 33, .k = k_odd, .n = (uint32_t)test_rand_int(2, 8), .add = ADD_RESIDUAL, .w_off = 4,
         .x_off = 16, .y_off = 4, .q_off = 16},
        /* the shared-memory reduction, a broadcast bias */
        {.type = t, .m = 7, .k = k_odd, .n = 1, .add = ADD_BIAS, .cfg = {.no_subgroup = true}},
        /* shared memory, 3 rows per workgroup of 16 (outputs outnumber invocations), residual in
         * place */
        {.type = t, .m = 129, .k = 64, .n = (uint32_t)test_rand_int(2, 8), .add = ADD_IN_PLACE,
         .cfg = {.no_subgroup = true, .workgroup_size = 16, .rows = 3}},
        /* eight vectors, the GPU default shape */
        {.type = t, .m = 65, .k = 32, .n = 8, .cfg = {.workgroup_size = 64, .rows = 2}},
        /* the fused norm, residual; a long row (k = 4096: the longest accumulation chain) */
        {.type = t, .m = 37, .k = k_odd, .n = (uint32_t)test_rand_int(1, 8), .norm = true, .add = ADD_RESIDUAL},
        {.type = t, .m = 9, .k = 4096, .n = 2, .norm = true},
        /* beyond 8 vectors: passes of 8 and a remainder */
        {.type = t, .m = 17, .k = 96, .n = 11, .add = ADD_RESIDUAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_dot(ctx, &cases[i]);
    for (uint32_t n = 1; n <= 8; n++) {
        dot_case c = {.type = t, .m = 19, .k = 160, .n = n, .add = n % 2 ? ADD_NONE : ADD_RESIDUAL};
        check_dot(ctx, &c);
    }
}

/* vkq__op_mul_mat with xq given takes the dot kernel for the formats that have it, the float
 * matvec for the others; xq must be large enough; the dot kernel needs xq. */
static void check_choice_and_errors(vkq_context *ctx, bool have_dot) {
    vkq__buffer b;
    CHECK_OK(ctx, vkq__buffer_create(ctx, 1 << 16, VKQ__MEM_DEVICE, "b", &b));
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    vkq__view v = vkq__view_of(&b);
    char variant[96];
    vkq__mul_mat_args a = {.wtype = VKQ_TYPE_Q4_0, .w = vkq__subview(&b, 0, 4096), .m = 4, .k = 256,
                           .x = vkq__subview(&b, 4096, 4096), .n = 2, .y = vkq__subview(&b, 8192, 4096),
                           .xq = vkq__subview(&b, 12288, vkq__q8_1_bytes(256, 2))};
    CHECK_OK(ctx, vkq__op_mul_mat_config(rec, &a, NULL, variant));
    CHECK_MSG(!strncmp(variant, have_dot ? "matvec_dot_q4_0" : "matvec_q4_0", have_dot ? 15 : 11), "'%s'", variant);
    a.wtype = VKQ_TYPE_Q4_K;
    CHECK_OK(ctx, vkq__op_mul_mat_config(rec, &a, NULL, variant));
    CHECK_MSG(!strncmp(variant, "matvec_q4_k", 11), "'%s'", variant);
    vkq__mul_mat_config dot = {.kernel = VKQ__MUL_MAT_MATVEC_DOT};
    CHECK_STATUS(ctx, vkq__op_mul_mat_config(rec, &a, &dot, NULL), VKQ_ERR_UNSUPPORTED);
    a.wtype = VKQ_TYPE_Q8_0, a.xq.size -= 4;
    CHECK_STATUS(ctx, vkq__op_mul_mat_config(rec, &a, NULL, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vkq_context_last_error(ctx), "xq view") != NULL);
    a.xq.size = 0;
    CHECK_STATUS(ctx, vkq__op_mul_mat_config(rec, &a, &dot, NULL),
                 have_dot ? VKQ_ERR_INVALID_ARGUMENT : VKQ_ERR_UNSUPPORTED);
    CHECK_STATUS(ctx, vkq__op_quantize_q8_1(rec, v, 48, 1, (vkq__view){0}, 0.0f, v), VKQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vkq_context_last_error(ctx), "48") != NULL);
    CHECK_STATUS(ctx, vkq__op_quantize_q8_1(rec, v, 64, 2, (vkq__view){0}, 0.0f, vkq__subview(&b, 0, 100)),
                 VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq__op_quantize_q8_1(rec, vkq__subview(&b, 4, 1024), 64, 1, (vkq__view){0}, 0.0f, v),
                 VKQ_ERR_INVALID_ARGUMENT); /* x misaligned */
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &b);
    for (size_t i = 0; i < N_DOT_TYPES; i++) CHECK(vkq__mul_mat_dot_supported(ctx, dot_types[i]) == have_dot);
    CHECK(!vkq__mul_mat_dot_supported(ctx, VKQ_TYPE_Q4_K) && !vkq__mul_mat_dot_supported(ctx, VKQ_TYPE_F16));
}

/* maxStorageBufferRange lowered to 64 KiB: W bound in row chunks (about 2.3 limits, odd rows),
 * X, xq, Y and add in vector chunks. */
static void check_split(void) {
    const uint32_t range = 64u << 10;
    vkq_context_desc desc = {.max_storage_buffer_range = range};
    vkq_context *ctx = test_gpu_context_desc(desc);
    if (!ctx) return;
    for (size_t i = 0; i < N_DOT_TYPES; i++) {
        vkq_type t = dot_types[i];
        uint32_t k = 512;
        uint32_t m = (uint32_t)((range * 9 / 4) / kernel_row_bytes(t, k)) | 1u;
        dot_case c = {.type = t, .m = m, .k = k, .n = 3, .add = ADD_RESIDUAL, .w_off = 4, .q_off = 16};
        check_dot(ctx, &c);
    }
    /* X of 6 vectors of 16 KiB: several passes, each binding only its vectors of X and xq */
    dot_case c = {.type = VKQ_TYPE_Q8_0, .m = 45, .k = 4096, .n = 6, .add = ADD_BIAS, .x_off = 16, .y_off = 4};
    check_dot(ctx, &c);
    check_quantize(ctx, 4096, 6, false, 16);
    test_gpu_context_destroy(ctx);
}

int main(void) {
    test_init("test_kernels_dot");
    vkq_context *ctx = test_gpu_context();
    if (ctx) {
        bool have_dot = vkq__mul_mat_dot_supported(ctx, VKQ_TYPE_Q4_0);
        check_quantize(ctx, 32, 1, false, 0);
        check_quantize(ctx, 7 * 32, (uint32_t)test_rand_int(2, 8), false, 16);
        check_quantize(ctx, 4096, 3, false, 0);
        check_quantize(ctx, 7 * 32, 5, true, 16);
        check_quantize(ctx, 4096, 1, true, 0);
        check_choice_and_errors(ctx, have_dot);
        if (have_dot) {
            for (size_t i = 0; i < N_DOT_TYPES; i++) check_format(ctx, dot_types[i]);
        } else {
            printf("test_kernels_dot: the integer-dot matvec checks are skipped: %s\n",
                   !ctx->caps.dot ? "the device lacks shaderIntegerDotProduct"
                                  : "this build has no matvec_dot shaders (its glslang lacks GL_EXT_spirv_intrinsics)");
        }
        test_gpu_context_destroy(ctx);
        if (have_dot) check_split();
    }
    return test_finish();
}

/* One product or gather on the GPU against the CPU reference.
 *
 * Tolerance of the products. The reference accumulates in double from the same dequantized
 * weights, so the GPU's difference is its float32 rounding: at most about c · eps · E where eps
 * = 2^-24, E = Σ_e (|w_e| + max_e|w_e|) · |x_e| + |add| and c the length of the longest chain of
 * roundings in one sum. The max|w| term covers formats whose values are scale · q + bias:
 * matvec sums scale · Σ q·x and bias · Σ x separately, and the bias (a block minimum) is at most
 * max|w| in magnitude. Chains: matvec k/4 + 32 (each 8-value slot adds two 4-term dot products
 * to one accumulator, then a tree over the workgroup); matmul k + 32 (one fused multiply-add per
 * element). These are worst-case bounds (rounding errors all of one sign); a wrong element,
 * scale or block gives errors of order |w|·|x|, many times larger for every shape tested.
 *
 * Gathers compute each value exactly as the reference does (the shader's arithmetic is marked
 * `precise`), so they must match bit for bit; one ulp is allowed for drivers that ignore
 * NoContraction. */
#include "kernels_test.h"

#include "quant/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const vkq_type kernel_types[] = {
    VKQ_TYPE_F32,  VKQ_TYPE_F16,  VKQ_TYPE_BF16, VKQ_TYPE_Q4_0,   VKQ_TYPE_Q4_1,
    VKQ_TYPE_Q5_0, VKQ_TYPE_Q5_1, VKQ_TYPE_Q8_0, VKQ_TYPE_Q2_K,   VKQ_TYPE_Q3_K,
    VKQ_TYPE_Q4_K, VKQ_TYPE_Q5_K, VKQ_TYPE_Q6_K, VKQ_TYPE_IQ4_NL, VKQ_TYPE_IQ4_XS,
};
const int kernel_type_count = (int)(sizeof kernel_types / sizeof kernel_types[0]);

#define NAN_BITS 0x7fc00000u

uint32_t kernel_block(vkq_type type) {
    uint32_t b = vkq_type_block_elements(type);
    return b < 8 ? 8 : b;
}

uint64_t kernel_row_bytes(vkq_type type, uint32_t k) {
    return (uint64_t)k / vkq_type_block_elements(type) * vkq_type_block_bytes(type);
}

/* Random weights, quantized row by row (closed form: the fast quantizer; the kernels only care
 * about the layout). Returns the packed bytes and, in *deq, their dequantized values. */
uint8_t *kernel_random_weights(vkq_type type, uint32_t m, uint32_t k, float **deq) {
    uint64_t rb = kernel_row_bytes(type, k);
    uint8_t *w = calloc(1, m * rb + 4);
    float *src = malloc((size_t)k * 4);
    *deq = malloc((size_t)m * k * 4);
    for (uint32_t r = 0; r < m; r++) {
        float scale = test_rand_uniform(0.1f, 2.0f), shift = test_rand_uniform(-0.5f, 0.5f);
        for (uint32_t e = 0; e < k; e++) src[e] = scale * test_rand_normal() + shift;
        vkq__quantize_row(type, src, w + r * rb, k, NULL, VKQ__QUANT_CLOSED_FORM);
        vkq__dequantize_row(type, w + r * rb, *deq + (uint64_t)r * k, k);
    }
    free(src);
    return w;
}

static float *random_floats(uint64_t count) {
    float *v = malloc(count * 4 + 4);
    for (uint64_t i = 0; i < count; i++) v[i] = test_rand_normal();
    return v;
}

/* The bound described at the top, for output (vector j, row i) of the kernel that ran. */
static double product_tolerance(const product_case *c, bool matvec, const float *deq, const float *x,
                                double add_abs, uint32_t i, uint32_t j) {
    const float *w = deq + (uint64_t)i * c->k, *xj = x + (uint64_t)j * c->k;
    double wmax = 0, e = add_abs;
    for (uint32_t q = 0; q < c->k; q++) wmax = fmax(wmax, fabs(w[q]));
    for (uint32_t q = 0; q < c->k; q++) e += (fabs(w[q]) + wmax) * fabs(xj[q]);
    double chain = matvec ? c->k / 4.0 + 32 : c->k + 32.0;
    return chain * 0x1p-24 * e + 1e-30;
}

typedef struct product_buffers {
    vkq__buffer w, x, y, add;
} product_buffers;

static void upload_case(vkq_context *ctx, const product_case *c, const uint8_t *w, const float *x,
                        const float *add, uint64_t add_floats, product_buffers *b) {
    /* Exactly the weight bytes, as a model's tensor would be: the kernels must not need more
     * (the allocation itself is rounded up, see ops/products.h). */
    uint64_t wb = kernel_row_bytes(c->type, c->k) * c->m;
    uint64_t xb = (uint64_t)c->n * c->k * 4, yb = (uint64_t)c->n * c->m * 4;
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->w_off + wb, VKQ__MEM_DEVICE, "W", &b->w));
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->x_off + xb, VKQ__MEM_DEVICE, "X", &b->x));
    CHECK_OK(ctx, vkq__buffer_create(ctx, c->y_off + yb, VKQ__MEM_DEVICE, "Y", &b->y));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &b->w, c->w_off, w, wb));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &b->x, c->x_off, x, xb));
    /* NaN everywhere: an output the kernel forgets to write cannot pass. */
    CHECK_OK(ctx, vkq__buffer_fill(ctx, &b->y, NAN_BITS));
    if (c->add == ADD_IN_PLACE) {
        CHECK_OK(ctx, vkq__buffer_upload(ctx, &b->y, c->y_off, add, yb));
    } else if (c->add != ADD_NONE) {
        CHECK_OK(ctx, vkq__buffer_create(ctx, add_floats * 4, VKQ__MEM_DEVICE, "add", &b->add));
        CHECK_OK(ctx, vkq__buffer_upload(ctx, &b->add, 0, add, add_floats * 4));
    }
}

static void run_case(vkq_context *ctx, const product_case *c, product_buffers *b, char *variant) {
    vkq__mul_mat_args a = {
        .wtype = c->type, .w = vkq__subview(&b->w, c->w_off, b->w.size - c->w_off), .m = c->m, .k = c->k,
        .x = vkq__subview(&b->x, c->x_off, (uint64_t)c->n * c->k * 4), .n = c->n,
        .y = vkq__subview(&b->y, c->y_off, (uint64_t)c->n * c->m * 4),
    };
    if (c->add == ADD_IN_PLACE) a.add = a.y, a.add_stride = c->m;
    if (c->add == ADD_RESIDUAL) a.add = vkq__view_of(&b->add), a.add_stride = c->m;
    if (c->add == ADD_BIAS) a.add = vkq__view_of(&b->add), a.add_stride = 0;
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    CHECK_OK(ctx, vkq__op_mul_mat_config(rec, &a, &c->cfg, variant));
    CHECK_OK(ctx, vkq__recording_submit_wait(rec));
    vkq__recording_destroy(rec);
}

void check_product(vkq_context *ctx, const product_case *c) {
    float *deq;
    uint8_t *w = kernel_random_weights(c->type, c->m, c->k, &deq);
    float *x = random_floats((uint64_t)c->n * c->k);
    uint64_t add_floats = c->add == ADD_BIAS ? c->m : (uint64_t)c->n * c->m;
    float *add = c->add ? random_floats(add_floats) : NULL;
    uint32_t stride = c->add == ADD_BIAS ? 0 : c->m;
    float *want = malloc((size_t)c->n * c->m * 4), *got = malloc((size_t)c->n * c->m * 4);
    vkq__ref_mul_mat(c->type, w, c->m, c->k, x, c->n, want, add, stride);

    product_buffers b = {0};
    char variant[96] = "";
    upload_case(ctx, c, w, x, add, add_floats, &b);
    run_case(ctx, c, &b, variant);
    CHECK_OK(ctx, vkq__buffer_download(ctx, &b.y, c->y_off, got, (uint64_t)c->n * c->m * 4));

    uint64_t bad = 0;
    double worst = 0;
    bool matvec = strncmp(variant, "matvec", 6) == 0;
    for (uint32_t j = 0; j < c->n; j++) {
        for (uint32_t i = 0; i < c->m; i++) {
            uint64_t o = (uint64_t)j * c->m + i;
            double a_abs = add ? fabs(add[(uint64_t)j * stride + i]) : 0;
            double tol = product_tolerance(c, matvec, deq, x, a_abs, i, j), diff = fabs((double)got[o] - want[o]);
            if (!(diff <= tol)) {
                if (bad++ < 3) {
                    fprintf(stderr, "  %s m %u k %u n %u: y[%u][%u] = %.9g, reference %.9g (tolerance %.3g)\n",
                            vkq_type_name(c->type), c->m, c->k, c->n, j, i, got[o], want[o], tol);
                }
            } else if (diff / tol > worst) {
                worst = diff / tol;
            }
        }
    }
    CHECK_MSG(bad == 0, "%s (%s) m %u k %u n %u add %d: %llu of %llu outputs outside tolerance",
              variant, vkq_type_name(c->type), c->m, c->k, c->n, (int)c->add, (unsigned long long)bad,
              (unsigned long long)c->n * c->m);
    if (getenv("VKQ_TEST_VERBOSE")) {
        printf("  %-40s m %4u k %5u n %3u add %d: worst error %.2g of tolerance\n", variant, c->m, c->k,
               c->n, (int)c->add, worst);
    }
    vkq__buffer_destroy(ctx, &b.w), vkq__buffer_destroy(ctx, &b.x);
    vkq__buffer_destroy(ctx, &b.y), vkq__buffer_destroy(ctx, &b.add);
    free(w), free(deq), free(x), free(add), free(want), free(got);
}

static bool within_one_ulp(float a, float b) {
    if (a == b) return true; /* also +0 == -0 */
    if (isnan(a) || isnan(b) || signbit(a) != signbit(b)) return false;
    int32_t ia, ib;
    memcpy(&ia, &a, 4), memcpy(&ib, &b, 4);
    return abs(ia - ib) <= 1;
}

void check_get_rows(vkq_context *ctx, vkq_type type, uint32_t n_rows, uint32_t k, uint32_t n_ids,
                    bool with_invalid) {
    float *deq;
    uint8_t *table = kernel_random_weights(type, n_rows, k, &deq);
    uint32_t *ids = malloc(n_ids * 4), *valid = malloc(n_ids * 4);
    for (uint32_t i = 0; i < n_ids; i++) ids[i] = (uint32_t)test_rand_int(0, (int)n_rows - 1);
    if (n_ids > 2) ids[n_ids - 1] = ids[0]; /* a repeated id */
    uint32_t bad_at = with_invalid ? (uint32_t)test_rand_int(0, (int)n_ids - 1) : UINT32_MAX;
    if (with_invalid) ids[bad_at] = n_rows + (uint32_t)test_rand_int(0, 1000);
    for (uint32_t i = 0; i < n_ids; i++) valid[i] = i == bad_at ? 0 : ids[i];
    uint64_t out_floats = (uint64_t)n_ids * k;
    float *want = malloc(out_floats * 4), *got = malloc(out_floats * 4);
    vkq__ref_get_rows(type, table, k, valid, n_ids, want);
    if (with_invalid) memset(want + (uint64_t)bad_at * k, 0, (size_t)k * 4);

    uint64_t tb = kernel_row_bytes(type, k) * n_rows;
    vkq__buffer bt, bi, bo;
    CHECK_OK(ctx, vkq__buffer_create(ctx, tb, VKQ__MEM_DEVICE, "table", &bt));
    CHECK_OK(ctx, vkq__buffer_create(ctx, n_ids * 4, VKQ__MEM_DEVICE, "ids", &bi));
    CHECK_OK(ctx, vkq__buffer_create(ctx, out_floats * 4, VKQ__MEM_DEVICE, "out", &bo));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &bt, 0, table, tb));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &bi, 0, ids, n_ids * 4));
    CHECK_OK(ctx, vkq__buffer_fill(ctx, &bo, NAN_BITS));
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    CHECK_OK(ctx, vkq__op_get_rows(rec, type, vkq__view_of(&bt), k, n_rows, vkq__view_of(&bi), n_ids,
                                   vkq__view_of(&bo)));
    CHECK_OK(ctx, vkq__recording_submit_wait(rec));
    CHECK_OK(ctx, vkq__buffer_download(ctx, &bo, 0, got, out_floats * 4));
    vkq__recording_destroy(rec);

    uint64_t bad = 0;
    for (uint64_t i = 0; i < out_floats; i++) {
        if (!within_one_ulp(got[i], want[i]) && bad++ < 3) {
            fprintf(stderr, "  get_rows %s: out[%llu][%llu] = %.9g, reference %.9g\n", vkq_type_name(type),
                    (unsigned long long)(i / k), (unsigned long long)(i % k), got[i], want[i]);
        }
    }
    CHECK_MSG(bad == 0, "get_rows %s, %u rows of %u, %u ids: %llu values differ by more than one ulp",
              vkq_type_name(type), n_rows, k, n_ids, (unsigned long long)bad);
    vkq__buffer_destroy(ctx, &bt), vkq__buffer_destroy(ctx, &bi), vkq__buffer_destroy(ctx, &bo);
    free(table), free(deq), free(ids), free(valid), free(want), free(got);
}

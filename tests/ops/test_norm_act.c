/* RMS norm, softmax, SwiGLU, SiLU and the column sums of squares against their references, on awkward sizes, with the
 * subgroup and the shared-memory reduction variants. */
#include "ops_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* RMS norm: the sum of squares is float32 (a sequential part of n/WG terms, then a tree), the
 * scale an inversesqrt (2 ulp allowed): relative error a few 1e-7 for n up to 8k; 1e-5 leaves
 * room for drivers without denormals or fused multiply-adds. */
static void check_rms_norm(vkq_context *ctx, uint32_t n, uint32_t rows, bool weighted, bool in_place) {
    float *x = ops_randn((uint64_t)n * rows, 3.0f), *w = ops_randn(n, 1.0f);
    float *want = malloc((uint64_t)n * rows * 4), *got = malloc((uint64_t)n * rows * 4);
    vkq__ref_rms_norm(x, weighted ? w : NULL, want, n, rows, 1e-5f);
    vkq__buffer bx = ops_buffer(ctx, x, (uint64_t)n * rows * 4), bw = ops_buffer(ctx, w, (uint64_t)n * 4);
    vkq__buffer bo = in_place ? bx : ops_buffer(ctx, NULL, (uint64_t)n * rows * 4);
    vkq__view none = {0};
    vkq__recording *rec = ops_begin(ctx);
    CHECK_OK(ctx, vkq__op_rms_norm(rec, vkq__view_of(&bx), weighted ? vkq__view_of(&bw) : none,
                                   vkq__view_of(&bo), n, rows, 1e-5f));
    ops_run(ctx, rec);
    ops_download(ctx, &bo, got, (uint64_t)n * rows * 4);
    char what[96];
    snprintf(what, sizeof what, "rms_norm n=%u rows=%u weight=%d in_place=%d sg=%d", n, rows, weighted,
             in_place, ctx->caps.subgroup_arithmetic);
    ops_compare(what, got, want, (uint64_t)n * rows, 1e-30, 1e-5);
    vkq__buffer_destroy(ctx, &bx), vkq__buffer_destroy(ctx, &bw);
    if (!in_place) vkq__buffer_destroy(ctx, &bo);
    free(x), free(w), free(want), free(got);
}

/* Softmax: exp has 3 + 2|x| ulp error in Vulkan (|x| <= ~30 here: ~1e-5 relative), and the sum
 * is float32; 5e-5 relative plus a tiny absolute term for underflowing entries. */
static void check_softmax(vkq_context *ctx, uint32_t n, uint32_t rows, float scale) {
    float *x = ops_randn((uint64_t)n * rows, 4.0f);
    float *want = malloc((uint64_t)n * rows * 4), *got = malloc((uint64_t)n * rows * 4);
    vkq__ref_softmax(x, want, n, rows, scale);
    vkq__buffer bx = ops_buffer(ctx, x, (uint64_t)n * rows * 4), bo = ops_buffer(ctx, NULL, (uint64_t)n * rows * 4);
    vkq__recording *rec = ops_begin(ctx);
    CHECK_OK(ctx, vkq__op_softmax(rec, vkq__view_of(&bx), vkq__view_of(&bo), n, rows, scale));
    ops_run(ctx, rec);
    ops_download(ctx, &bo, got, (uint64_t)n * rows * 4);
    char what[96];
    snprintf(what, sizeof what, "softmax n=%u rows=%u scale=%g sg=%d", n, rows, (double)scale,
             ctx->caps.subgroup_arithmetic);
    ops_compare(what, got, want, (uint64_t)n * rows, 1e-12, 5e-5);
    vkq__buffer_destroy(ctx, &bx), vkq__buffer_destroy(ctx, &bo);
    free(x), free(want), free(got);
}

/* SwiGLU: one exp (a few ulp for |g| < 20), a division and a product: 1e-5 relative; the
 * absolute term covers silu's zero crossing. Strided: gate and up as the two halves of each row
 * of one fused (rows, 2n) tensor, bound as two subviews. */
static void check_swiglu(vkq_context *ctx, uint32_t n, uint32_t rows, bool fused) {
    uint64_t total = (uint64_t)n * rows;
    float *g = ops_randn(fused ? 2 * total : total, 4.0f), *u = ops_randn(total, 1.0f);
    float *want = malloc(total * 4), *got = malloc(total * 4);
    vkq__buffer bg = ops_buffer(ctx, g, (fused ? 2 : 1) * total * 4), bu = ops_buffer(ctx, u, total * 4);
    vkq__buffer bo = ops_buffer(ctx, NULL, total * 4);
    vkq__recording *rec = ops_begin(ctx);
    if (fused) {
        vkq__ref_swiglu(g, g + n, want, n, rows, 2 * n, 2 * n);
        CHECK_OK(ctx, vkq__op_swiglu(rec, vkq__subview(&bg, 0, (2 * total - n) * 4),
                                     vkq__subview(&bg, (uint64_t)n * 4, (2 * total - n) * 4),
                                     vkq__view_of(&bo), n, rows, 2 * n, 2 * n));
    } else {
        vkq__ref_swiglu(g, u, want, n, rows, 0, 0);
        CHECK_OK(ctx, vkq__op_swiglu(rec, vkq__view_of(&bg), vkq__view_of(&bu), vkq__view_of(&bo), n, rows, 0, 0));
    }
    ops_run(ctx, rec);
    ops_download(ctx, &bo, got, total * 4);
    char what[96];
    snprintf(what, sizeof what, "swiglu n=%u rows=%u fused=%d", n, rows, fused);
    ops_compare(what, got, want, total, 1e-7, 1e-5);

    vkq__ref_silu(g, want, (uint32_t)total);
    rec = ops_begin(ctx);
    CHECK_OK(ctx, vkq__op_silu(rec, vkq__view_of(&bg), vkq__view_of(&bo), (uint32_t)total));
    ops_run(ctx, rec);
    ops_download(ctx, &bo, got, total * 4);
    snprintf(what, sizeof what, "silu count=%llu", (unsigned long long)total);
    ops_compare(what, got, want, total, 1e-7, 1e-5);
    vkq__buffer_destroy(ctx, &bg), vkq__buffer_destroy(ctx, &bu), vkq__buffer_destroy(ctx, &bo);
    free(g), free(u), free(want), free(got);
}

static void check_bad_arguments(vkq_context *ctx) {
    vkq__buffer b = ops_buffer(ctx, NULL, 1024);
    vkq__view none = {0};
    vkq__recording *rec = ops_begin(ctx);
    CHECK_STATUS(ctx, vkq__op_rms_norm(rec, vkq__view_of(&b), none, vkq__view_of(&b), 100, 3, 1e-5f),
                 VKQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vkq_context_last_error(ctx), "rms_norm") && strstr(vkq_context_last_error(ctx), "1200"));
    CHECK_STATUS(ctx, vkq__op_swiglu(rec, vkq__view_of(&b), vkq__view_of(&b), vkq__view_of(&b), 10, 2, 5, 0),
                 VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq__op_softmax(rec, vkq__view_of(&b), vkq__view_of(&b), 0, 1, 1.0f),
                 VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq__op_sumsq_accumulate(rec, vkq__view_of(&b), 10, 2, 5, vkq__view_of(&b)),
                 VKQ_ERR_INVALID_ARGUMENT);
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &b);
}

/* Column sums of squares, accumulated over two dispatches into a buffer that starts non-zero
 * (an importance collection in progress), rows at a stride wider than k. Sums of n squares in
 * float32 and one addition: relative error about (n + 2) ulps. */
static void check_sumsq(vkq_context *ctx, uint32_t k, uint32_t n, uint32_t stride) {
    float *x = ops_randn((uint64_t)n * stride, 2.0f), *x2 = ops_randn((uint64_t)n * stride, 0.5f);
    float *start = malloc((uint64_t)k * 4), *want = malloc((uint64_t)k * 4), *got = malloc((uint64_t)k * 4);
    double *acc = calloc(k, sizeof *acc);
    for (uint32_t c = 0; c < k; c++) start[c] = (float)(c % 7), acc[c] = start[c];
    vkq__ref_sumsq_accumulate(x, k, n, stride, acc);
    vkq__ref_sumsq_accumulate(x2, k, n, stride, acc);
    for (uint32_t c = 0; c < k; c++) want[c] = (float)acc[c];
    vkq__buffer bx = ops_buffer(ctx, x, (uint64_t)n * stride * 4), bx2 = ops_buffer(ctx, x2, (uint64_t)n * stride * 4);
    vkq__buffer ba = ops_buffer(ctx, start, (uint64_t)k * 4);
    vkq__recording *rec = ops_begin(ctx);
    CHECK_OK(ctx, vkq__op_sumsq_accumulate(rec, vkq__view_of(&bx), k, n, stride, vkq__view_of(&ba)));
    vkq__recording_barrier(rec);
    CHECK_OK(ctx, vkq__op_sumsq_accumulate(rec, vkq__view_of(&bx2), k, n, stride, vkq__view_of(&ba)));
    ops_run(ctx, rec);
    ops_download(ctx, &ba, got, (uint64_t)k * 4);
    char what[64];
    snprintf(what, sizeof what, "sumsq k=%u n=%u stride=%u", k, n, stride);
    ops_compare(what, got, want, k, 1e-30, (n + 4) * 0x1p-23);
    vkq__buffer_destroy(ctx, &bx), vkq__buffer_destroy(ctx, &bx2), vkq__buffer_destroy(ctx, &ba);
    free(x), free(x2), free(start), free(want), free(got), free(acc);
}

void test_norm_act(vkq_context *ctx) {
    static const uint32_t sizes[] = {1, 7, 576, 4097};
    bool had_subgroup = ctx->caps.subgroup_arithmetic;
    /* Both reduction variants: the device's (subgroup, where it has it) and shared memory. */
    for (int pass = 0; pass < (had_subgroup ? 2 : 1); pass++) {
        ctx->caps.subgroup_arithmetic = pass == 0 && had_subgroup;
        for (size_t i = 0; i < VKQ__ARRAY_LEN(sizes); i++) {
            uint32_t rows = (uint32_t)test_rand_int(1, 5);
            check_rms_norm(ctx, sizes[i], rows, true, false);
            check_softmax(ctx, sizes[i], rows, i == 2 ? 0.125f : 1.0f);
        }
        check_rms_norm(ctx, 2048, 3, false, false);
        check_rms_norm(ctx, 960, 2, true, true);
        check_softmax(ctx, 49152, 1, 1.0f);
    }
    ctx->caps.subgroup_arithmetic = had_subgroup;
    check_swiglu(ctx, 1, 1, false);
    check_swiglu(ctx, 1537, 3, false);
    check_swiglu(ctx, 1536, 5, true);
    check_swiglu(ctx, (uint32_t)test_rand_int(1, 3000), (uint32_t)test_rand_int(1, 4), false);
    check_sumsq(ctx, 1, 1, 1);
    check_sumsq(ctx, 576, 37, 576);
    check_sumsq(ctx, (uint32_t)test_rand_int(1, 3000), (uint32_t)test_rand_int(1, 20), 3001);
    check_bad_arguments(ctx);
}

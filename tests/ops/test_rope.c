/* Rotary embedding against the double-precision reference: both pair layouts, partial n_rot,
 * frequency factors and linear scaling, several positions (from the step buffer), in place. */
#include "ops_test.h"

#include <math.h>
#include <stdio.h>

/* Tolerance: rope_tolerance() in ops_test.c, applied through each pair's magnitude. */

static void check_rope(vkq_context *ctx, vkq__rope_mode mode, uint32_t head_dim, uint32_t n_rot,
                       uint32_t n_tokens, uint32_t n_heads, uint32_t pos0, bool factors, float scale,
                       bool in_place) {
    vkq__rope rope = {mode, n_rot, 10000.0f, scale};
    uint64_t n = (uint64_t)n_tokens * n_heads * head_dim;
    float *x = ops_randn(n, 1.0f), *want = malloc(n * 4), *got = malloc(n * 4);
    float ff[VKQ__KV_MAX_HEAD_DIM / 2];
    for (uint32_t i = 0; i < n_rot / 2; i++) ff[i] = test_rand_uniform(1.0f, 8.0f);
    vkq__ref_rope(&rope, factors ? ff : NULL, x, want, n_tokens, n_heads, head_dim, pos0);
    vkq__buffer bx = ops_buffer(ctx, x, n * 4), bf = ops_buffer(ctx, ff, sizeof ff);
    vkq__buffer bo = in_place ? bx : ops_buffer(ctx, NULL, n * 4);
    vkq__buffer step = ops_step(ctx, pos0);
    vkq__view none = {0};
    vkq__recording *rec = ops_begin(ctx);
    CHECK_OK(ctx, vkq__op_rope(rec, &rope, factors ? vkq__view_of(&bf) : none, vkq__view_of(&bx),
                               vkq__view_of(&step), vkq__view_of(&bo), n_tokens, n_heads, head_dim));
    ops_run(ctx, rec);
    ops_download(ctx, &bo, got, n * 4);
    /* Per-element tolerance from the magnitude of the element's pair (|a|, |b| <= |pair|). */
    double tol = rope_tolerance(&rope, pos0 + n_tokens);
    float *lim = malloc(n * 4), *zero = calloc(n, 4), *err = malloc(n * 4);
    for (uint64_t r = 0; r < n / head_dim; r++) {
        for (uint32_t e = 0; e < head_dim; e++) {
            uint64_t i = r * head_dim + e;
            uint32_t partner = e;
            if (e < n_rot) {
                partner = mode == VKQ__ROPE_NEOX ? (e < n_rot / 2 ? e + n_rot / 2 : e - n_rot / 2) : (e ^ 1u);
            }
            double mag = hypot(x[i], x[r * head_dim + partner]);
            err[i] = (float)(fabs((double)got[i] - want[i]) / (tol * mag + 1e-12));
            if (e >= n_rot) err[i] = got[i] == want[i] ? 0.0f : INFINITY; /* copied: exact */
            lim[i] = 0;
        }
    }
    char what[128];
    snprintf(what, sizeof what, "rope mode=%d hd=%u n_rot=%u tokens=%u heads=%u pos0=%u ff=%d scale=%g",
             (int)mode, head_dim, n_rot, n_tokens, n_heads, pos0, factors, (double)scale);
    ops_compare(what, err, zero, n, 1.0, 0.0); /* err is already in units of the tolerance */
    vkq__buffer_destroy(ctx, &bx), vkq__buffer_destroy(ctx, &bf), vkq__buffer_destroy(ctx, &step);
    if (!in_place) vkq__buffer_destroy(ctx, &bo);
    free(x), free(want), free(got), free(lim), free(zero), free(err);
}

static void check_bad_arguments(vkq_context *ctx) {
    vkq__buffer b = ops_buffer(ctx, NULL, 4096), step = ops_step(ctx, 0);
    vkq__view none = {0};
    vkq__rope odd = {VKQ__ROPE_NORMAL, 3, 10000.0f, 1.0f}, wide = {VKQ__ROPE_NEOX, 130, 10000.0f, 1.0f};
    vkq__recording *rec = ops_begin(ctx);
    CHECK_STATUS(ctx, vkq__op_rope(rec, &odd, none, vkq__view_of(&b), vkq__view_of(&step), vkq__view_of(&b), 1, 1, 64),
                 VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq__op_rope(rec, &wide, none, vkq__view_of(&b), vkq__view_of(&step), vkq__view_of(&b), 1, 1, 128),
                 VKQ_ERR_INVALID_ARGUMENT);
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &b), vkq__buffer_destroy(ctx, &step);
}

void test_rope(vkq_context *ctx) {
    static const uint32_t positions[] = {0, 17, 3000};
    for (int mode = 0; mode < 2; mode++) {
        for (size_t i = 0; i < VKQ__ARRAY_LEN(positions); i++) {
            check_rope(ctx, (vkq__rope_mode)mode, 64, 64, 5, 9, positions[i], false, 1.0f, false);
            check_rope(ctx, (vkq__rope_mode)mode, 128, 128, 1, 3, positions[i], false, 1.0f, false);
        }
        check_rope(ctx, (vkq__rope_mode)mode, 64, 32, 3, 4, 100, false, 1.0f, false);  /* partial */
        check_rope(ctx, (vkq__rope_mode)mode, 96, 24, 2, 5, 7, false, 1.0f, true);     /* partial, in place */
        check_rope(ctx, (vkq__rope_mode)mode, 128, 128, 4, 2, 500, true, 0.25f, false); /* factors, scaling */
    }
    check_rope(ctx, VKQ__ROPE_NORMAL, 64, 64, (uint32_t)test_rand_int(1, 40), (uint32_t)test_rand_int(1, 12),
               (uint32_t)test_rand_int(0, 5000), false, 1.0f, false);
    check_bad_arguments(ctx);
}

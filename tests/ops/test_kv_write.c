/* KV-cache write fused with rope: f16, q8_0 and q4_0 rows against the CPU quantizer, rows
 * outside [pos0, pos0 + n_tokens) untouched, the n_ctx guard. */
#include "kv_cache.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Tolerances, element by element, after dequantizing both caches:
 * - V (no rope): the same float32 input on both sides. F16 must be bit-exact (the shader rounds
 *   to nearest even by hand). Q8_0/Q4_0 use the CPU's formula and roundings; they are
 *   bit-exact where the driver's division is correctly rounded (lavapipe); Vulkan allows 2.5 ulp,
 *   which can move d by one half ulp or a value by one step, so the check allows one step per
 *   value and at most 1% of the blocks differing in any byte.
 * - K: the GPU ropes in float32, the CPU in double (test_rope.c's bound), and that input
 *   difference can move a value across a rounding boundary (one step), or move a block's amax
 *   enough to round d to the neighbouring half, which shifts every value by up to
 *   127 * 2^-11 = 0.06 step: 1.1 steps plus the rope bound. */
static void compare_rows(const vkq__kv_layout *kv, const uint8_t *got, const uint8_t *want,
                         const float *src, bool is_v, const vkq__rope *rope, uint32_t n_tokens,
                         uint32_t pos0, const char *what) {
    uint32_t rb = vkq__kv_row_bytes(kv->type, kv->head_dim), hd = kv->head_dim;
    uint64_t blocks = 0, diff_blocks = 0, bad = 0;
    double worst = 0;
    float g[VKQ__KV_MAX_HEAD_DIM], w[VKQ__KV_MAX_HEAD_DIM];
    double rope_tol = rope_tolerance(rope, pos0 + n_tokens);
    for (uint32_t h = 0; h < kv->n_head_kv; h++) {
        for (uint32_t p = 0; p < kv->n_ctx; p++) {
            uint64_t off = ((uint64_t)h * kv->n_ctx + p) * rb;
            bool written = p >= pos0 && p < pos0 + n_tokens;
            if (!written) { /* untouched: still the poison */
                if (memcmp(got + off, want + off, rb)) bad++;
                continue;
            }
            uint32_t bsz = kv->type == VKQ_TYPE_F16 ? rb : (kv->type == VKQ_TYPE_Q8_0 ? 34 : 18);
            for (uint32_t b = 0; b < rb / bsz; b++) {
                blocks++;
                diff_blocks += memcmp(got + off + b * bsz, want + off + b * bsz, bsz) != 0;
            }
            kv_row_floats(kv, got, h, p, g);
            kv_row_floats(kv, want, h, p, w);
            const float *x = src + ((uint64_t)(p - pos0) * kv->n_head_kv + h) * hd;
            double mag = 0;
            for (uint32_t e = 0; e < hd; e++) mag = fmax(mag, fabs((double)x[e]));
            for (uint32_t e = 0; e < hd; e++) {
                double lim = is_v ? 0 : kv_step(kv, want, h, p, e, w[e]) * 1.1 + rope_tol * mag * 1.5;
                if (is_v && kv->type != VKQ_TYPE_F16) lim = kv_step(kv, want, h, p, e, w[e]) * 1.001;
                double err = fabs((double)g[e] - w[e]);
                if (!(err <= lim)) bad++;
                if (lim > 0 && err / lim > worst) worst = err / lim;
            }
        }
    }
    CHECK_MSG(bad == 0, "%s: %llu bad elements or rows (worst %.3g x tolerance)", what,
              (unsigned long long)bad, worst);
    if (is_v) {
        CHECK_MSG(kv->type == VKQ_TYPE_F16 ? diff_blocks == 0 : diff_blocks * 100 <= blocks,
                  "%s: %llu of %llu blocks differ from the CPU's bytes", what,
                  (unsigned long long)diff_blocks, (unsigned long long)blocks);
    }
    if (ops_verbose) {
        printf("  %-60s worst %.3g x tolerance, %llu/%llu blocks differ\n", what, worst,
               (unsigned long long)diff_blocks, (unsigned long long)blocks);
    }
}

static void check_kv_write(vkq_context *ctx, vkq_type type, uint32_t head_dim, uint32_t n_head_kv,
                           uint32_t n_ctx, uint32_t n_tokens, uint32_t pos0, vkq__rope_mode mode,
                           uint32_t n_rot) {
    vkq__kv_layout kv = {type, n_head_kv, n_ctx, head_dim};
    vkq__rope rope = {mode, n_rot, 10000.0f, 1.0f};
    uint64_t n = (uint64_t)n_tokens * n_head_kv * head_dim, cb = vkq__kv_cache_bytes(&kv);
    float *k = ops_randn(n, 1.0f), *v = ops_randn(n, 1.0f);
    /* an outlier per token, as real K/V have, so that scales vary between blocks */
    for (uint32_t t = 0; t < n_tokens; t++) k[(uint64_t)t * n_head_kv * head_dim] = 9.0f, v[(uint64_t)t * 3] = -7.0f;
    uint8_t *want = malloc(cb), *got = malloc(cb);
    for (uint64_t i = 0; i < cb / 4; i++) memcpy(want + 4 * i, &(uint32_t){OPS_POISON}, 4);
    uint8_t *want_v = malloc(cb);
    memcpy(want_v, want, cb);
    vkq__ref_kv_write(&kv, &rope, NULL, k, v, want, want_v, n_tokens, pos0);

    vkq__buffer bk = ops_buffer(ctx, k, n * 4), bv = ops_buffer(ctx, v, n * 4), step = ops_step(ctx, pos0);
    vkq__buffer kc = ops_buffer(ctx, NULL, cb), vc = ops_buffer(ctx, NULL, cb);
    vkq__view none = {0};
    vkq__recording *rec = ops_begin(ctx);
    CHECK_OK(ctx, vkq__op_kv_write(rec, &kv, &rope, none, vkq__view_of(&bk), vkq__view_of(&bv),
                                   vkq__view_of(&step), vkq__view_of(&kc), vkq__view_of(&vc), n_tokens));
    ops_run(ctx, rec);
    char what[128];
    uint32_t written = pos0 < n_ctx ? VKQ__MIN(n_tokens, n_ctx - pos0) : 0;
    ops_download(ctx, &kc, got, cb);
    snprintf(what, sizeof what, "kv_write K %s hd=%u kv=%u ctx=%u tokens=%u pos0=%u mode=%d n_rot=%u",
             vkq_type_name(type), head_dim, n_head_kv, n_ctx, n_tokens, pos0, (int)mode, n_rot);
    compare_rows(&kv, got, want, k, false, &rope, written, pos0, what);
    ops_download(ctx, &vc, got, cb);
    what[9] = 'V';
    compare_rows(&kv, got, want_v, v, true, &rope, written, pos0, what);
    vkq__buffer_destroy(ctx, &bk), vkq__buffer_destroy(ctx, &bv), vkq__buffer_destroy(ctx, &step);
    vkq__buffer_destroy(ctx, &kc), vkq__buffer_destroy(ctx, &vc);
    free(k), free(v), free(want), free(want_v), free(got);
}

static void check_bad_arguments(vkq_context *ctx) {
    vkq__buffer b = ops_buffer(ctx, NULL, 4096), step = ops_step(ctx, 0);
    vkq__view bv = vkq__view_of(&b), sv = vkq__view_of(&step);
    vkq__rope rope = {VKQ__ROPE_NORMAL, 64, 10000.0f, 1.0f};
    vkq__kv_layout odd = {VKQ_TYPE_Q8_0, 1, 4, 48}, big = {VKQ_TYPE_F16, 1, 1000, 64};
    vkq__recording *rec = ops_begin(ctx);
    CHECK_STATUS(ctx, vkq__op_kv_write(rec, &odd, &rope, (vkq__view){0}, bv, bv, sv, bv, bv, 1),
                 VKQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vkq_context_last_error(ctx), "q8_0") != NULL);
    CHECK_STATUS(ctx, vkq__op_kv_write(rec, &big, &rope, (vkq__view){0}, bv, bv, sv, bv, bv, 1),
                 VKQ_ERR_INVALID_ARGUMENT); /* the cache view is too small */
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &b), vkq__buffer_destroy(ctx, &step);
}

void test_kv_write(vkq_context *ctx) {
    static const vkq_type types[] = {VKQ_TYPE_F16, VKQ_TYPE_Q8_0, VKQ_TYPE_Q4_0};
    for (size_t i = 0; i < VKQ__ARRAY_LEN(types); i++) {
        vkq_type t = types[i];
        check_kv_write(ctx, t, 64, 3, 40, 7, 5, VKQ__ROPE_NORMAL, 64);
        check_kv_write(ctx, t, 128, 2, 40, 1, 39, VKQ__ROPE_NEOX, 128);
        check_kv_write(ctx, t, 96, 1, 20, 3, 0, VKQ__ROPE_NEOX, 64);    /* 3 blocks: padded rows */
        check_kv_write(ctx, t, 32, 4, 16, 5, 3, VKQ__ROPE_NORMAL, 16);  /* partial rope */
        check_kv_write(ctx, t, 64, 3, 40, 7, 36, VKQ__ROPE_NORMAL, 64); /* runs past n_ctx */
        check_kv_write(ctx, t, 128, 8, 300, (uint32_t)test_rand_int(1, 64), (uint32_t)test_rand_int(0, 200),
                       VKQ__ROPE_NORMAL, 128);
    }
    check_bad_arguments(ctx);
}

/* Attention prefill and decode against the reference reading the same cache bytes: every cache
 * type, GQA ratios 1 and 3, head_dim 64 and 128, KV lengths 1, 17, 300 and 1500 (split-K with
 * empty slices), and a decode recording resubmitted with a new position in the step buffer. */
#include "kv_cache.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Tolerance. Both sides dequantize the same cache bytes to the same floats (bit-exact, see
 * kv_formats.glsl), so what differs is float32 against double arithmetic: dot products of
 * head_dim terms (relative ~1e-6 of |q||k|), exp (Vulkan: 3 + 2|x| ulp), the running rescales
 * of the online softmax and the p*v sums. Scores here are O(10), outputs O(1) (averages of
 * values of scale 1): 2e-5 absolute + 1e-4 relative covers that with a margin of ~5-10x. */
#define ATT_ATOL 2e-5
#define ATT_RTOL 1e-4

typedef struct att_case {
    vkq_type type;
    uint32_t head_dim, n_head_kv, ratio, n_ctx;
} att_case;

typedef struct att_bufs {
    vkq__kv_layout kv;
    uint8_t *kc, *vc;
    vkq__buffer bk, bv, step;
} att_bufs;

static void att_setup(vkq_context *ctx, const att_case *c, att_bufs *b) {
    b->kv = (vkq__kv_layout){c->type, c->n_head_kv, c->n_ctx, c->head_dim};
    b->kc = kv_random_cache(&b->kv, 1.0f);
    b->vc = kv_random_cache(&b->kv, 1.0f);
    uint64_t cb = vkq__kv_cache_bytes(&b->kv);
    b->bk = ops_buffer(ctx, b->kc, cb);
    b->bv = ops_buffer(ctx, b->vc, cb);
    b->step = ops_step(ctx, 0);
}

static void att_teardown(vkq_context *ctx, att_bufs *b) {
    vkq__buffer_destroy(ctx, &b->bk), vkq__buffer_destroy(ctx, &b->bv), vkq__buffer_destroy(ctx, &b->step);
    free(b->kc), free(b->vc);
}

static void att_compare(const att_bufs *b, const float *q, const float *got, uint32_t n_tokens,
                        uint32_t n_head, uint32_t pos0, const char *kind, uint32_t n_splits) {
    uint64_t n = (uint64_t)n_tokens * n_head * b->kv.head_dim;
    float *want = malloc(n * 4);
    vkq__ref_attention(&b->kv, q, b->kc, b->vc, want, n_tokens, n_head, pos0, 0.0f);
    char what[128];
    snprintf(what, sizeof what, "attention %s %s hd=%u heads=%u/%u tokens=%u pos0=%u splits=%u", kind,
             vkq_type_name(b->kv.type), b->kv.head_dim, n_head, b->kv.n_head_kv, n_tokens, pos0, n_splits);
    ops_compare(what, got, want, n, ATT_ATOL, ATT_RTOL);
    free(want);
}

/* Queries scaled by 3 make the softmax peaked enough that a wrong mask or a wrong key is seen. */
static void check_prefill(vkq_context *ctx, const att_case *c, uint32_t pos0, uint32_t n_tokens) {
    att_bufs b;
    att_setup(ctx, c, &b);
    uint32_t n_head = c->n_head_kv * c->ratio;
    uint64_t n = (uint64_t)n_tokens * n_head * c->head_dim;
    float *q = ops_randn(n, 3.0f), *got = malloc(n * 4);
    vkq__buffer bq = ops_buffer(ctx, q, n * 4), bo = ops_buffer(ctx, NULL, n * 4);
    ops_step_set(&b.step, pos0);
    vkq__recording *rec = ops_begin(ctx);
    CHECK_OK(ctx, vkq__op_attention_prefill(rec, &b.kv, vkq__view_of(&bq), vkq__view_of(&b.bk),
                                            vkq__view_of(&b.bv), vkq__view_of(&b.step), vkq__view_of(&bo),
                                            n_tokens, n_head, 0.0f));
    ops_run(ctx, rec);
    ops_download(ctx, &bo, got, n * 4);
    att_compare(&b, q, got, n_tokens, n_head, pos0, "prefill", 0);
    vkq__buffer_destroy(ctx, &bq), vkq__buffer_destroy(ctx, &bo);
    free(q), free(got);
    att_teardown(ctx, &b);
}

/* One recording, submitted at each position in `positions` with only the step buffer
 * rewritten in between: what decode does per token. */
static void check_decode(vkq_context *ctx, const att_case *c, const uint32_t *positions, int n_pos,
                         uint32_t n_splits) {
    att_bufs b;
    att_setup(ctx, c, &b);
    uint32_t n_head = c->n_head_kv * c->ratio;
    uint64_t n = (uint64_t)n_head * c->head_dim;
    float *q = ops_randn(n, 3.0f), *got = malloc(n * 4);
    vkq__buffer bq = ops_buffer(ctx, q, n * 4), bo = ops_buffer(ctx, NULL, n * 4);
    uint64_t sb = vkq__attention_decode_scratch_bytes(n_head, c->head_dim, n_splits);
    vkq__buffer scratch = ops_buffer(ctx, NULL, sb);
    vkq__recording *rec = ops_begin(ctx);
    CHECK_OK(ctx, vkq__op_attention_decode(rec, &b.kv, vkq__view_of(&bq), vkq__view_of(&b.bk),
                                           vkq__view_of(&b.bv), vkq__view_of(&b.step),
                                           n_splits > 1 ? vkq__view_of(&scratch) : (vkq__view){0},
                                           vkq__view_of(&bo), n_head, n_splits, 0.0f));
    for (int i = 0; i < n_pos && rec; i++) {
        ops_step_set(&b.step, positions[i]);
        CHECK_OK(ctx, vkq__recording_submit_wait(rec));
        ops_download(ctx, &bo, got, n * 4);
        att_compare(&b, q, got, 1, n_head, positions[i], i ? "decode (resubmitted)" : "decode", n_splits);
    }
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &bq), vkq__buffer_destroy(ctx, &bo), vkq__buffer_destroy(ctx, &scratch);
    free(q), free(got);
    att_teardown(ctx, &b);
}

static void check_bad_arguments(vkq_context *ctx) {
    vkq__buffer big = ops_buffer(ctx, NULL, 1 << 20), step = ops_step(ctx, 0);
    vkq__view v = vkq__view_of(&big), s = vkq__view_of(&step);
    vkq__kv_layout kv = {VKQ_TYPE_F16, 3, 64, 64};
    vkq__recording *rec = ops_begin(ctx);
    CHECK_STATUS(ctx, vkq__op_attention_prefill(rec, &kv, v, v, v, s, v, 4, 8, 0.0f), VKQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vkq_context_last_error(ctx), "8 query heads over 3") != NULL);
    CHECK_STATUS(ctx, vkq__op_attention_decode(rec, &kv, v, v, v, s, (vkq__view){0}, v, 9, 4, 0.0f),
                 VKQ_ERR_INVALID_ARGUMENT); /* splits without scratch */
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &big), vkq__buffer_destroy(ctx, &step);
}

void test_attention(vkq_context *ctx) {
    static const vkq_type types[] = {VKQ_TYPE_F16, VKQ_TYPE_Q8_0, VKQ_TYPE_Q4_0};
    for (size_t ti = 0; ti < VKQ__ARRAY_LEN(types); ti++) {
        for (uint32_t hd = 64; hd <= 128; hd *= 2) {
            for (uint32_t ratio = 1; ratio <= 3; ratio += 2) {
                att_case c = {types[ti], hd, ratio == 3 ? 3 : 2, ratio, 320};
                /* KV lengths 1, 17, 300: from an empty cache, and continuing a cache. */
                check_prefill(ctx, &c, 0, 1);
                check_prefill(ctx, &c, 0, 17);
                check_prefill(ctx, &c, 283, 17);
                /* decode at KV lengths 1, 17, 300 from one recording; split-K (4 slices of >= one
                 * tile: at 300 keys the last slice is empty), then direct */
                static const uint32_t pos[] = {0, 16, 299};
                check_decode(ctx, &c, pos, 3, 4);
                check_decode(ctx, &c, pos + 1, 2, 1);
            }
        }
        /* SmolLM2's shape: a full 300-token prefill and long split-K decodes. */
        att_case smol = {types[ti], 64, 3, 3, 2048};
        check_prefill(ctx, &smol, 0, 300);
        uint32_t splits = vkq__attention_decode_splits(ctx, &(vkq__kv_layout){types[ti], 3, 2048, 64}, 9);
        static const uint32_t long_pos[] = {1499, 2047, 130};
        check_decode(ctx, &smol, long_pos, 3, splits);
        att_case llama = {types[ti], 128, 2, 4, 1024};
        check_prefill(ctx, &llama, (uint32_t)test_rand_int(0, 900), (uint32_t)test_rand_int(1, 100));
        uint32_t p = (uint32_t)test_rand_int(0, 1023);
        check_decode(ctx, &llama, &p, 1, 7);
    }
    check_bad_arguments(ctx);
}

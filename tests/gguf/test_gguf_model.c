/* The real test model, SmolLM2-135M-Instruct in Q4_1 (as llama.cpp's tools wrote it): opens,
 * metadata and tensor table as published, every tensor dequantizes to finite values.
 * VKQ_TEST_MODEL names the file (scripts/test.sh sets it from scripts/fetch_model.sh). */
#include "common/test.h"
#include "quant/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void check_u32(vkq_context *ctx, const vkq_gguf *g, const char *key, uint32_t want) {
    uint32_t v = 0;
    CHECK_OK(ctx, vkq_gguf_get_u32(g, key, &v));
    CHECK_MSG(v == want, "%s = %u, want %u", key, v, want);
}

static void check_string(vkq_context *ctx, const vkq_gguf *g, const char *key, const char *want) {
    const char *s = NULL;
    CHECK_OK(ctx, vkq_gguf_get_string(g, key, &s, NULL));
    CHECK_MSG(s && strcmp(s, want) == 0, "%s = '%s', want '%s'", key, s ? s : "(null)", want);
}

static void check_tensor(vkq_context *ctx, const vkq_gguf *g, const char *name, uint32_t n_dims,
                         uint64_t ne0, uint64_t ne1, vkq_type type) {
    vkq_gguf_tensor_info t;
    CHECK_OK(ctx, vkq_gguf_tensor_by_name(g, name, &t));
    CHECK_MSG(t.n_dims == n_dims && t.ne[0] == ne0 && t.ne[1] == ne1 && t.type == type,
              "%s: %u dims {%llu, %llu} %s", name, t.n_dims, (unsigned long long)t.ne[0],
              (unsigned long long)t.ne[1], vkq_type_name(t.type));
}

static void check_metadata(vkq_context *ctx, const vkq_gguf *g) {
    CHECK(vkq_gguf_version(g) == 3);
    CHECK(vkq_gguf_alignment(g) == 32);
    CHECK(vkq_gguf_key_count(g) == 33);
    check_string(ctx, g, "general.architecture", "llama");
    check_string(ctx, g, "tokenizer.ggml.model", "gpt2");
    check_u32(ctx, g, "llama.block_count", 30);
    check_u32(ctx, g, "llama.vocab_size", 49152);
    check_u32(ctx, g, "llama.embedding_length", 576);
    check_u32(ctx, g, "llama.feed_forward_length", 1536);
    check_u32(ctx, g, "llama.attention.head_count", 9);
    check_u32(ctx, g, "llama.attention.head_count_kv", 3);
    check_u32(ctx, g, "llama.rope.dimension_count", 64);
    check_u32(ctx, g, "tokenizer.ggml.bos_token_id", 1);
    check_u32(ctx, g, "tokenizer.ggml.eos_token_id", 2);
    float base = 0;
    CHECK_OK(ctx, vkq_gguf_get_f32(g, "llama.rope.freq_base", &base));
    CHECK(base == 100000.0f);
    vkq_gguf_value_type et;
    uint64_t n = 0;
    CHECK_OK(ctx, vkq_gguf_get_array_info(g, "tokenizer.ggml.tokens", &et, &n));
    CHECK(et == VKQ_GGUF_TYPE_STRING && n == 49152);
    CHECK_OK(ctx, vkq_gguf_get_array_info(g, "tokenizer.ggml.merges", &et, &n));
    CHECK(et == VKQ_GGUF_TYPE_STRING && n == 48900);
    const char *s = NULL;
    CHECK_OK(ctx, vkq_gguf_get_array_string(g, "tokenizer.ggml.tokens", 2, &s, NULL));
    CHECK(s && strcmp(s, "<|im_end|>") == 0);
    CHECK_OK(ctx, vkq_gguf_get_array_string(g, "tokenizer.ggml.merges", 0, &s, NULL));
    CHECK(s && strcmp(s, "\xc4\xa0 t") == 0);
    int32_t types[3];
    CHECK_OK(ctx, vkq_gguf_get_array_i32(g, "tokenizer.ggml.token_type", 0, 3, types));
    CHECK(types[0] == 3 && types[1] == 3 && types[2] == 3); /* control tokens */
}

static void check_tensors(vkq_context *ctx, const vkq_gguf *g) {
    CHECK(vkq_gguf_tensor_count(g) == 272); /* 30 x 9 + token_embd + output_norm */
    check_tensor(ctx, g, "token_embd.weight", 2, 576, 49152, VKQ_TYPE_Q8_0);
    check_tensor(ctx, g, "blk.0.attn_q.weight", 2, 576, 576, VKQ_TYPE_Q4_1);
    check_tensor(ctx, g, "blk.0.attn_k.weight", 2, 576, 192, VKQ_TYPE_Q4_1);
    check_tensor(ctx, g, "blk.29.attn_v.weight", 2, 576, 192, VKQ_TYPE_Q4_1);
    check_tensor(ctx, g, "blk.7.ffn_up.weight", 2, 576, 1536, VKQ_TYPE_Q4_1);
    check_tensor(ctx, g, "blk.0.ffn_down.weight", 2, 1536, 576, VKQ_TYPE_Q4_1);
    check_tensor(ctx, g, "blk.12.attn_norm.weight", 1, 576, 1, VKQ_TYPE_F32);
    check_tensor(ctx, g, "output_norm.weight", 1, 576, 1, VKQ_TYPE_F32);
    CHECK(vkq_gguf_find_tensor(g, "output.weight") == -1); /* tied to token_embd */
}

/* Dequantizes every row of every tensor; all values must be finite and not all zero. */
static void check_dequantize(vkq_context *ctx, const vkq_gguf *g) {
    float *row = malloc(1536 * 4 * sizeof *row);
    uint64_t total = 0, bytes = 0;
    for (uint64_t i = 0; i < vkq_gguf_tensor_count(g); i++) {
        vkq_gguf_tensor_info t;
        CHECK_OK(ctx, vkq_gguf_tensor(g, i, &t));
        if (t.ne[0] > 1536 * 4) {
            CHECK_MSG(false, "%s: unexpected row length %llu", t.name,
                      (unsigned long long)t.ne[0]);
            continue;
        }
        uint64_t rows = t.elements / t.ne[0], row_bytes = t.bytes / rows, bad = 0;
        double sum_abs = 0;
        for (uint64_t r = 0; r < rows; r++) {
            vkq__dequantize_row(t.type, (const uint8_t *)t.data + r * row_bytes, row,
                                (int64_t)t.ne[0]);
            for (uint64_t k = 0; k < t.ne[0]; k++) {
                if (!isfinite(row[k])) bad++;
                sum_abs += fabsf(row[k]);
            }
        }
        CHECK_MSG(bad == 0, "%s: %llu non-finite values", t.name, (unsigned long long)bad);
        CHECK_MSG(sum_abs > 0, "%s: all zero", t.name);
        total += t.elements;
        bytes += t.bytes;
    }
    printf("dequantized %llu weights from %llu bytes (%.3f bits per weight)\n",
           (unsigned long long)total, (unsigned long long)bytes,
           8.0 * (double)bytes / (double)total);
    free(row);
}

int main(void) {
    test_init("test_gguf_model");
    const char *path = getenv("VKQ_TEST_MODEL");
    if (!path || !*path) {
        fprintf(stderr, "test_gguf_model: VKQ_TEST_MODEL is not set. Run scripts/fetch_model.sh "
                        "and set VKQ_TEST_MODEL to the path it prints (scripts/test.sh does "
                        "both). Exclude this test with `ctest -LE model`.\n");
        vkq_test_failures++;
        return test_finish();
    }
    vkq_context_desc desc = {0};
    desc.mode = VKQ_DEVICE_MODE_NONE;
    vkq_context *ctx = NULL;
    CHECK_OK(ctx, vkq_context_create(&desc, &ctx));
    vkq_gguf *g = NULL;
    if (ctx) CHECK_OK(ctx, vkq_gguf_open(ctx, path, &g));
    if (g) {
        check_metadata(ctx, g);
        check_tensors(ctx, g);
        check_dequantize(ctx, g);
    }
    vkq_gguf_close(g);
    vkq_context_destroy(ctx);
    return test_finish();
}

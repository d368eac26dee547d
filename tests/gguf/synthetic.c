/* Synthetic llama models: the metadata and tensor table a real one has, any mix of formats,
 * weights that dequantize to finite values of the intended scale, deterministic bytes. */
#include "gguf_tests.h"

#include "quant/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static vkq_gguf *open_synth(vkq_context *ctx, const vkq__synth_desc *desc, void **mem) {
    size_t size = 0;
    *mem = NULL;
    CHECK_OK(ctx, vkq__synth_write_memory(vkq__context_diag(ctx), desc, mem, &size));
    if (!*mem) return NULL;
    vkq_gguf *g = NULL;
    CHECK_OK(ctx, vkq_gguf_open_memory(ctx, *mem, size, &g));
    return g;
}

static void check_u32(vkq_context *ctx, const vkq_gguf *g, const char *key, uint32_t want) {
    uint32_t v = 0;
    CHECK_OK(ctx, vkq_gguf_get_u32(g, key, &v));
    CHECK_MSG(v == want, "%s = %u, want %u", key, v, want);
}

static void check_shape(vkq_context *ctx, const vkq_gguf *g, const char *name, uint64_t ne0,
                        uint64_t ne1, vkq_type type) {
    vkq_gguf_tensor_info info;
    CHECK_OK(ctx, vkq_gguf_tensor_by_name(g, name, &info));
    CHECK_MSG(info.ne[0] == ne0 && info.ne[1] == ne1 && info.type == type,
              "%s: {%llu, %llu} %s, want {%llu, %llu} %s", name, (unsigned long long)info.ne[0],
              (unsigned long long)info.ne[1], vkq_type_name(info.type), (unsigned long long)ne0,
              (unsigned long long)ne1, vkq_type_name(type));
}

/* Every tensor dequantizes to finite values; norms lie near 1, matrices have a standard
 * deviation near 1/sqrt(row length) (loosely: the coarsest formats add their own noise). */
static void check_weights(vkq_context *ctx, const vkq_gguf *g) {
    for (uint64_t i = 0; i < vkq_gguf_tensor_count(g); i++) {
        vkq_gguf_tensor_info t;
        CHECK_OK(ctx, vkq_gguf_tensor(g, i, &t));
        float *row = malloc(t.ne[0] * sizeof *row);
        uint64_t row_bytes = t.bytes / (t.elements / t.ne[0]);
        double sum2 = 0;
        uint64_t bad = 0;
        bool norm = strstr(t.name, "norm") != NULL;
        for (uint64_t r = 0; r < t.elements / t.ne[0]; r++) {
            vkq__dequantize_row(t.type, (const uint8_t *)t.data + r * row_bytes, row,
                                (int64_t)t.ne[0]);
            for (uint64_t k = 0; k < t.ne[0]; k++) {
                if (!isfinite(row[k]) || (norm && (row[k] < 0.9f || row[k] > 1.1f))) bad++;
                sum2 += (double)row[k] * row[k];
            }
        }
        CHECK_MSG(bad == 0, "%s (%s): %llu bad values", t.name, vkq_type_name(t.type),
                  (unsigned long long)bad);
        if (!norm) {
            double sd = sqrt(sum2 / (double)t.elements), want = 1.0 / sqrt((double)t.ne[0]);
            CHECK_MSG(sd > 0.6 * want && sd < 1.5 * want, "%s (%s): sd %g, want about %g",
                      t.name, vkq_type_name(t.type), sd, want);
        }
        free(row);
    }
}

static void default_model(vkq_context *ctx) {
    void *mem;
    vkq_gguf *g = open_synth(ctx, NULL, &mem);
    if (!g) {
        free(mem);
        return;
    }
    const char *s = NULL;
    CHECK_OK(ctx, vkq_gguf_get_string(g, "general.architecture", &s, NULL));
    CHECK(s && strcmp(s, "llama") == 0);
    CHECK_OK(ctx, vkq_gguf_get_string(g, "general.name", &s, NULL));
    CHECK(s && strcmp(s, "vkq synthetic llama") == 0);
    CHECK_OK(ctx, vkq_gguf_get_string(g, "tokenizer.ggml.model", &s, NULL));
    CHECK(s && strcmp(s, "gpt2") == 0);
    check_u32(ctx, g, "llama.block_count", 2);
    check_u32(ctx, g, "llama.embedding_length", 256);
    check_u32(ctx, g, "llama.feed_forward_length", 512);
    check_u32(ctx, g, "llama.attention.head_count", 4);
    check_u32(ctx, g, "llama.attention.head_count_kv", 2);
    check_u32(ctx, g, "llama.context_length", 256);
    check_u32(ctx, g, "llama.rope.dimension_count", 64);
    check_u32(ctx, g, "tokenizer.ggml.bos_token_id", 1);
    check_u32(ctx, g, "tokenizer.ggml.eos_token_id", 2);
    float f = 0;
    CHECK_OK(ctx, vkq_gguf_get_f32(g, "llama.rope.freq_base", &f));
    CHECK(f == 10000.0f);
    CHECK_OK(ctx, vkq_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &f));
    CHECK(f == 1e-5f);
    uint32_t n_vocab = 0;
    CHECK_OK(ctx, vkq_gguf_get_u32(g, "llama.vocab_size", &n_vocab));
    vkq_gguf_value_type et;
    uint64_t n_tokens = 0, n_types = 0, n_merges = 0;
    CHECK_OK(ctx, vkq_gguf_get_array_info(g, "tokenizer.ggml.tokens", &et, &n_tokens));
    CHECK(et == VKQ_GGUF_TYPE_STRING && n_tokens == n_vocab && n_vocab > 300);
    CHECK_OK(ctx, vkq_gguf_get_array_info(g, "tokenizer.ggml.token_type", &et, &n_types));
    CHECK(et == VKQ_GGUF_TYPE_I32 && n_types == n_vocab);
    CHECK_OK(ctx, vkq_gguf_get_array_info(g, "tokenizer.ggml.merges", &et, &n_merges));
    CHECK(et == VKQ_GGUF_TYPE_STRING && n_merges > 50);
    CHECK_OK(ctx, vkq_gguf_get_array_string(g, "tokenizer.ggml.tokens", 1, &s, NULL));
    CHECK(s && strcmp(s, "<|im_start|>") == 0);
    /* The byte tokens use GPT-2's map: byte 0x20 (space) is "Ġ", byte 'A' is "A". */
    CHECK_OK(ctx, vkq_gguf_get_array_string(g, "tokenizer.ggml.tokens", 3 + 0x20, &s, NULL));
    CHECK(s && strcmp(s, "\xc4\xa0") == 0);
    CHECK_OK(ctx, vkq_gguf_get_array_string(g, "tokenizer.ggml.tokens", 3 + 'A', &s, NULL));
    CHECK(s && strcmp(s, "A") == 0);
    CHECK_OK(ctx, vkq_gguf_get_array_string(g, "tokenizer.ggml.merges", 0, &s, NULL));
    CHECK(s && strcmp(s, "\xc4\xa0 t") == 0);
    CHECK(vkq_gguf_find_key(g, "tokenizer.ggml.scores") == -1); /* as in real gpt2 files */

    CHECK(vkq_gguf_tensor_count(g) == 2 + 9 * 2);
    check_shape(ctx, g, "token_embd.weight", 256, n_vocab, VKQ_TYPE_F32);
    check_shape(ctx, g, "blk.0.attn_q.weight", 256, 256, VKQ_TYPE_F32);
    check_shape(ctx, g, "blk.1.attn_k.weight", 256, 128, VKQ_TYPE_F32);
    check_shape(ctx, g, "blk.1.attn_v.weight", 256, 128, VKQ_TYPE_F32);
    check_shape(ctx, g, "blk.0.ffn_up.weight", 256, 512, VKQ_TYPE_F32);
    check_shape(ctx, g, "blk.0.ffn_gate.weight", 256, 512, VKQ_TYPE_F32);
    check_shape(ctx, g, "blk.0.ffn_down.weight", 512, 256, VKQ_TYPE_F32);
    check_shape(ctx, g, "blk.1.ffn_norm.weight", 256, 1, VKQ_TYPE_F32);
    check_shape(ctx, g, "output_norm.weight", 256, 1, VKQ_TYPE_F32);
    CHECK(vkq_gguf_find_tensor(g, "output.weight") == -1); /* tied by default */
    check_weights(ctx, g);
    vkq_gguf_close(g);
    free(mem);
}

static void mixed_model(vkq_context *ctx) {
    vkq__synth_desc desc = {0};
    desc.n_layer = 1;
    desc.tokenizer = VKQ__SYNTH_TOKENIZER_LLAMA;
    desc.untied_output = true;
    desc.n_vocab = 400;
    desc.seed = 42;
    desc.name = "mixed";
    static const vkq_type types[VKQ__SYNTH_ROLE_COUNT] = {
        [VKQ__SYNTH_TOKEN_EMBD] = VKQ_TYPE_Q8_0,  [VKQ__SYNTH_ATTN_Q] = VKQ_TYPE_Q4_K,
        [VKQ__SYNTH_ATTN_K] = VKQ_TYPE_Q5_K,      [VKQ__SYNTH_ATTN_V] = VKQ_TYPE_Q6_K,
        [VKQ__SYNTH_ATTN_OUTPUT] = VKQ_TYPE_IQ4_XS, [VKQ__SYNTH_FFN_GATE] = VKQ_TYPE_Q2_K,
        [VKQ__SYNTH_FFN_UP] = VKQ_TYPE_Q3_K,      [VKQ__SYNTH_FFN_DOWN] = VKQ_TYPE_Q4_1,
        [VKQ__SYNTH_OUTPUT] = VKQ_TYPE_F16,
    };
    memcpy(desc.types, types, sizeof types);
    void *mem;
    vkq_gguf *g = open_synth(ctx, &desc, &mem);
    if (g) {
        const char *s = NULL;
        CHECK_OK(ctx, vkq_gguf_get_string(g, "tokenizer.ggml.model", &s, NULL));
        CHECK(s && strcmp(s, "llama") == 0);
        CHECK_OK(ctx, vkq_gguf_get_string(g, "general.name", &s, NULL));
        CHECK(s && strcmp(s, "mixed") == 0);
        check_u32(ctx, g, "llama.vocab_size", 400);
        CHECK_OK(ctx, vkq_gguf_get_array_string(g, "tokenizer.ggml.tokens", 3 + 0x41, &s, NULL));
        CHECK(s && strcmp(s, "<0x41>") == 0);
        int32_t type = 0;
        CHECK_OK(ctx, vkq_gguf_get_array_i32(g, "tokenizer.ggml.token_type", 3 + 0x41, 1, &type));
        CHECK(type == 6); /* byte token */
        float scores[2];
        CHECK_OK(ctx, vkq_gguf_get_array_f32(g, "tokenizer.ggml.scores", 300, 2, scores));
        CHECK(scores[0] > scores[1]);
        CHECK(vkq_gguf_find_key(g, "tokenizer.ggml.merges") == -1);
        check_shape(ctx, g, "token_embd.weight", 256, 400, VKQ_TYPE_Q8_0);
        check_shape(ctx, g, "blk.0.attn_q.weight", 256, 256, VKQ_TYPE_Q4_K);
        check_shape(ctx, g, "blk.0.attn_k.weight", 256, 128, VKQ_TYPE_Q5_K);
        check_shape(ctx, g, "blk.0.attn_v.weight", 256, 128, VKQ_TYPE_Q6_K);
        check_shape(ctx, g, "blk.0.attn_output.weight", 256, 256, VKQ_TYPE_IQ4_XS);
        check_shape(ctx, g, "blk.0.ffn_gate.weight", 256, 512, VKQ_TYPE_Q2_K);
        check_shape(ctx, g, "blk.0.ffn_up.weight", 256, 512, VKQ_TYPE_Q3_K);
        check_shape(ctx, g, "blk.0.ffn_down.weight", 512, 256, VKQ_TYPE_Q4_1);
        check_shape(ctx, g, "output.weight", 256, 400, VKQ_TYPE_F16);
        check_weights(ctx, g);
    }
    vkq_gguf_close(g);
    free(mem);
}

static void determinism_and_errors(vkq_context *ctx) {
    vkq__diag *d = vkq__context_diag(ctx);
    vkq__synth_desc desc = {0};
    desc.n_embd = 64;
    desc.n_ff = 96;
    desc.n_layer = 1;
    desc.n_head = 2;
    desc.tokenizer = VKQ__SYNTH_TOKENIZER_NONE;
    desc.types[VKQ__SYNTH_ATTN_Q] = VKQ_TYPE_Q5_0;
    void *a = NULL, *b = NULL, *c = NULL;
    size_t na = 0, nb = 0, nc = 0;
    CHECK_OK(ctx, vkq__synth_write_memory(d, &desc, &a, &na));
    CHECK_OK(ctx, vkq__synth_write_memory(d, &desc, &b, &nb));
    desc.seed = 7;
    CHECK_OK(ctx, vkq__synth_write_memory(d, &desc, &c, &nc));
    CHECK(a && b && na == nb && memcmp(a, b, na) == 0);
    CHECK(c && nc == na && memcmp(a, c, na) != 0);
    free(a);
    free(b);
    free(c);

    /* Through a file, as tests of the other layers will use it. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/vkq_test_synth_%ld.gguf", (long)getpid());
    CHECK_OK(ctx, vkq__synth_write_file(d, &desc, path));
    vkq_gguf *g = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, path, &g));
    CHECK(g && vkq_gguf_find_key(g, "tokenizer.ggml.model") == -1);
    check_u32(ctx, g, "llama.vocab_size", 64);
    vkq_gguf_close(g);
    remove(path);

    desc.types[VKQ__SYNTH_ATTN_Q] = VKQ_TYPE_Q4_K; /* rows of 64 are not 256-blocks */
    void *m = NULL;
    size_t n = 0;
    gguf_test_clear_error(ctx);
    CHECK_STATUS(ctx, vkq__synth_write_memory(d, &desc, &m, &n), VKQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vkq_context_last_error(ctx), "blk.0.attn_q.weight") != NULL);
    CHECK(m == NULL);
    vkq__synth_desc small = {0};
    small.n_vocab = 10;
    CHECK_STATUS(ctx, vkq__synth_write_memory(d, &small, &m, &n), VKQ_ERR_INVALID_ARGUMENT);
    small.n_vocab = 0;
    small.n_head = 3; /* 256 / 3 is not whole */
    CHECK_STATUS(ctx, vkq__synth_write_memory(d, &small, &m, &n), VKQ_ERR_INVALID_ARGUMENT);
}

void test_synthetic(vkq_context *ctx) {
    default_model(ctx);
    mixed_model(ctx);
    determinism_and_errors(ctx);
}

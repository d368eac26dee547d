/* The GPU forward pass against the C reference on synthetic llama models: prefill and decode,
 * grouped-query attention, every KV cache type, the tied and untied output, and qwen2's layout
 * (neox rope, q/k/v biases); plus the session API's errors (context overflow, bad tokens, calls
 * in the wrong order). */
#include "engine_test.h"

/* Tolerances: the synthetic weights are F32 here, so GPU and reference differ only by float32
 * accumulation order (products of length <= 512) and float32 rope angles: 2e-3 of the largest
 * logit covers that with margin. The quantized caches are quantized from slightly different
 * float32 inputs on each side, which can flip a rounding of one cache element: 2e-2. */
static void forward_matches_reference(vkq_context *ctx) {
    vkq__synth_desc desc = {.n_embd = 128, .n_ff = 256, .n_layer = 2, .n_head = 4, .n_head_kv = 2, .seed = vkq_test_seed};
    char path[256];
    if (!engine_test_write(&desc, path, sizeof path)) return;
    engine_test_compare(ctx, path, VKQ_TYPE_F16, 5, 9, 2e-3, "gqa f32");
    engine_test_compare(ctx, path, VKQ_TYPE_Q8_0, 7, 10, 2e-2, "gqa f32");
    engine_test_compare(ctx, path, VKQ_TYPE_Q4_0, 3, 6, 5e-2, "gqa f32");
    /* Decode with every fusion (CPU drivers leave the fused norm off by default) and with none. */
    setenv("VKQ_FUSE", "all", 1);
    engine_test_compare(ctx, path, VKQ_TYPE_F16, 5, 9, 2e-3, "gqa f32 all fused");
    setenv("VKQ_FUSE", "0", 1);
    engine_test_compare(ctx, path, VKQ_TYPE_F16, 5, 9, 2e-3, "gqa f32 unfused");
    unsetenv("VKQ_FUSE");
    unlink(path);
    vkq__synth_desc mha = {.n_embd = 128, .n_ff = 192, .n_layer = 1, .n_head = 2, .n_head_kv = 2,
                           .untied_output = true, .seed = vkq_test_seed + 1};
    if (!engine_test_write(&mha, path, sizeof path)) return;
    engine_test_compare(ctx, path, VKQ_TYPE_F16, 1, 4, 2e-3, "mha untied");
    unlink(path);
}

/* qwen2: rope on the pairs (i, i + head_dim/2) instead of (2i, 2i+1), and a bias added to each
 * of q, k and v (the products' broadcast add) before the rope and the cache. A prefill of 12
 * tokens takes the tiled matmul on GPUs (matvec beyond 8 vectors elsewhere); then decode. */
static void qwen2_matches_reference(vkq_context *ctx) {
    vkq__synth_desc desc = {.architecture = "qwen2", .n_embd = 128, .n_ff = 256, .n_layer = 2, .n_head = 4,
                            .n_head_kv = 2, .seed = vkq_test_seed + 2};
    char path[256];
    if (!engine_test_write(&desc, path, sizeof path)) return;
    vkq_model *model = NULL;
    vkq_model_desc md = {.path = path};
    CHECK_OK(ctx, vkq_model_load(ctx, &md, &model));
    vkq_model_info info = {0};
    if (model) CHECK_OK(ctx, vkq_model_info_get(model, &info));
    CHECK_MSG(!strcmp(info.architecture, "qwen2") && info.rope_type == VKQ_ROPE_NEOX && info.has_qkv_bias,
              "qwen2 synthetic model read as '%s', rope %d, bias %d", info.architecture, (int)info.rope_type,
              info.has_qkv_bias);
    vkq_model_destroy(model);
    engine_test_compare(ctx, path, VKQ_TYPE_F16, 12, 16, 2e-3, "qwen2 neox+bias");
    engine_test_compare(ctx, path, VKQ_TYPE_Q8_0, 5, 9, 2e-2, "qwen2 neox+bias");
    unlink(path);
}

static void session_errors(vkq_context *ctx) {
    vkq__synth_desc desc = {.n_embd = 64, .n_ff = 128, .n_layer = 1, .n_head = 2, .seed = 7};
    char path[256];
    if (!engine_test_write(&desc, path, sizeof path)) return;
    vkq_model *model = NULL;
    vkq_model_desc md = {.path = path};
    CHECK_OK(ctx, vkq_model_load(ctx, &md, &model));
    vkq_session *s = NULL;
    vkq_session_desc sd = {.n_ctx = 8};
    CHECK_OK(ctx, vkq_session_create(model, &sd, &s));
    if (s) {
        float logits[1];
        int32_t tok;
        vkq_sampler_desc greedy = {0};
        CHECK_STATUS(ctx, vkq_session_logits(s, logits), VKQ_ERR_STATE);
        CHECK_STATUS(ctx, vkq_session_sample(s, &greedy, NULL, 0, &tok), VKQ_ERR_STATE);
        int32_t bad[2] = {1, 1 << 30};
        CHECK_STATUS(ctx, vkq_session_eval(s, bad, 2, NULL), VKQ_ERR_INVALID_ARGUMENT);
        CHECK(vkq_session_position(s) == 0);
        int32_t nine[9] = {0};
        CHECK_STATUS(ctx, vkq_session_eval(s, nine, 9, NULL), VKQ_ERR_LIMIT);
        CHECK_OK(ctx, vkq_session_eval(s, nine, 8, NULL));
        CHECK_STATUS(ctx, vkq_session_eval(s, nine, 1, NULL), VKQ_ERR_LIMIT);
        CHECK(strstr(vkq_context_last_error(ctx), "context of 8") != NULL);
        CHECK_OK(ctx, vkq_session_reset(s));
        CHECK(vkq_session_position(s) == 0);
        CHECK_OK(ctx, vkq_session_eval(s, nine, 1, NULL));
    }
    vkq_session_desc bad_kv = {.kv_type = VKQ_TYPE_Q6_K};
    vkq_session *s2 = NULL;
    CHECK_STATUS(ctx, vkq_session_create(model, &bad_kv, &s2), VKQ_ERR_INVALID_ARGUMENT);
    CHECK(s2 == NULL);
    vkq_session_destroy(s);
    vkq_model_destroy(model);
    vkq_session_destroy(NULL);
    vkq_model_destroy(NULL);
    unlink(path);
}

static void load_errors(vkq_context *ctx) {
    vkq_model *model = NULL;
    vkq_model_desc md = {.path = "/nonexistent/model.gguf"};
    CHECK_STATUS(ctx, vkq_model_load(ctx, &md, &model), VKQ_ERR_NOT_FOUND);
    CHECK(model == NULL);
    CHECK_STATUS(ctx, vkq_model_load(ctx, NULL, &model), VKQ_ERR_INVALID_ARGUMENT);
    md.path = NULL;
    CHECK_STATUS(ctx, vkq_model_load(ctx, &md, &model), VKQ_ERR_INVALID_ARGUMENT);
}

int main(void) {
    test_init("test_engine");
    vkq_context *ctx = test_gpu_context();
    if (ctx) {
        forward_matches_reference(ctx);
        qwen2_matches_reference(ctx);
        session_errors(ctx);
        load_errors(ctx);
        test_gpu_context_destroy(ctx);
    }
    return test_finish();
}

/* Sampling through the session: greedy equals the argmax of the logits; a seed fixes the
 * sequence; top-k 1 and min-p 1 leave only the argmax; the GPU sampler (no penalty) and the CPU
 * path (with a penalty of a token that is not a candidate) agree on the same random draws;
 * bad sampler settings are refused. */
#include "engine_test.h"

static int32_t argmax(const float *l, uint32_t n) {
    int32_t best = 0;
    for (uint32_t i = 1; i < n; i++) best = l[i] > l[best] ? (int32_t)i : best;
    return best;
}

int main(void) {
    test_init("test_sampling");
    vkq_context *ctx = test_gpu_context();
    vkq__synth_desc desc = {.n_embd = 64, .n_ff = 128, .n_layer = 1, .n_head = 2, .seed = vkq_test_seed};
    char path[256];
    if (!ctx || !engine_test_write(&desc, path, sizeof path)) return test_finish();
    vkq_model *model = NULL;
    vkq_model_desc md = {.path = path};
    CHECK_OK(ctx, vkq_model_load(ctx, &md, &model));
    vkq_session *s = NULL;
    vkq_session_desc sd = {.n_ctx = 32};
    CHECK_OK(ctx, vkq_session_create(model, &sd, &s));
    vkq_model_info info;
    vkq_model_info_get(model, &info);
    float *logits = malloc(info.n_vocab * sizeof *logits);
    int32_t prompt[3] = {5, 17, 42}, t = -1;
    CHECK_OK(ctx, vkq_session_eval(s, prompt, 3, NULL));
    CHECK_OK(ctx, vkq_session_logits(s, logits));
    int32_t best = argmax(logits, info.n_vocab);

    vkq_sampler_desc greedy = {0}, k1 = {.temperature = 1, .top_k = 1}, mp1 = {.temperature = 2, .min_p = 1};
    CHECK_OK(ctx, vkq_session_sample(s, &greedy, NULL, 0, &t));
    CHECK(t == best);
    CHECK_OK(ctx, vkq_session_sample(s, &k1, NULL, 0, &t));
    CHECK(t == best);
    CHECK_OK(ctx, vkq_session_sample(s, &mp1, NULL, 0, &t));
    CHECK(t == best);

    /* The same seed gives the same draws; the GPU path (no penalty) and the CPU path (a penalty
     * on a token that cannot be drawn: top_k 8 keeps the 8 best, the penalized one is the worst)
     * give the same tokens for the same draws. */
    int32_t worst = 0;
    for (uint32_t i = 1; i < info.n_vocab; i++) worst = logits[i] < logits[worst] ? (int32_t)i : worst;
    vkq_sampler_desc hot = {.temperature = 1.5f, .top_k = 8, .top_p = 0.9f, .seed = 0};
    vkq_sampler_desc hot_penalty = hot;
    hot_penalty.repeat_penalty = 1.3f;
    int32_t a[16], b[16], c[16];
    vkq_session_seed(s, 1234);
    for (int i = 0; i < 16; i++) CHECK_OK(ctx, vkq_session_sample(s, &hot, NULL, 0, &a[i]));
    vkq_session_seed(s, 1234);
    for (int i = 0; i < 16; i++) CHECK_OK(ctx, vkq_session_sample(s, &hot, NULL, 0, &b[i]));
    vkq_session_seed(s, 1234);
    for (int i = 0; i < 16; i++) CHECK_OK(ctx, vkq_session_sample(s, &hot_penalty, &worst, 1, &c[i]));
    int distinct = 0;
    for (int i = 0; i < 16; i++) {
        CHECK_MSG(a[i] == b[i], "draw %d: %d then %d with the same seed", i, a[i], b[i]);
        CHECK_MSG(a[i] == c[i], "draw %d: GPU sampler %d, CPU sampler %d", i, a[i], c[i]);
        distinct += a[i] != a[0];
    }
    CHECK_MSG(distinct > 0, "16 draws at temperature 1.5 all gave token %d", a[0]);

    vkq_sampler_desc bad = {.temperature = -1};
    CHECK_STATUS(ctx, vkq_session_sample(s, &bad, NULL, 0, &t), VKQ_ERR_INVALID_ARGUMENT);
    bad = (vkq_sampler_desc){.min_p = 2};
    CHECK_STATUS(ctx, vkq_session_sample(s, &bad, NULL, 0, &t), VKQ_ERR_INVALID_ARGUMENT);
    free(logits);
    vkq_session_destroy(s);
    vkq_model_destroy(model);
    unlink(path);
    test_gpu_context_destroy(ctx);
    return test_finish();
}

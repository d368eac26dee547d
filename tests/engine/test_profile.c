/* Dispatch profiling (vkq_session_desc.profile, vkq_session_profile): every forward pass's
 * dispatches are counted per phase and kernel (one embedding gather and one argmax per pass,
 * replays of the recorded decode step included), times are finite and sorted, the logits are
 * bit-identical to an unprofiled session's, and misuse gives the documented status codes. */
#include "engine_test.h"

#define N_PREFILL 20u /* batches of 8: three prefill passes */
#define N_DECODE 3u

static uint64_t calls_of(const vkq_profile_entry *e, uint32_t n, const char *phase, const char *prefix) {
    uint64_t c = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!strcmp(e[i].phase, phase) && !strncmp(e[i].kernel, prefix, strlen(prefix))) c += e[i].calls;
    }
    return c;
}

static void check_entries(const vkq_profile_entry *e, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        CHECK_MSG(e[i].kernel && e[i].kernel[0] && e[i].calls > 0 && isfinite(e[i].seconds) && e[i].seconds >= 0,
                  "entry %u: %s %s calls %llu seconds %g", i, e[i].phase, e[i].kernel ? e[i].kernel : "(null)",
                  (unsigned long long)e[i].calls, e[i].seconds);
        CHECK_MSG(!strcmp(e[i].phase, "prefill") || !strcmp(e[i].phase, "decode"), "entry %u: phase %s", i, e[i].phase);
        /* Grouped by phase (prefill first), longest first within a phase. */
        if (i && !strcmp(e[i].phase, e[i - 1].phase)) CHECK(e[i].seconds <= e[i - 1].seconds);
        if (i && strcmp(e[i].phase, e[i - 1].phase)) CHECK(!strcmp(e[i - 1].phase, "prefill"));
    }
}

static void run(vkq_context *ctx, vkq_model *model, const vkq_model_info *info, const int32_t *tokens,
                uint32_t profile, float *logits) {
    vkq_session *s = NULL;
    vkq_session_desc sd = {.n_ctx = 64, .n_batch = 8, .profile = profile};
    CHECK_OK(ctx, vkq_session_create(model, &sd, &s));
    if (!s) return;
    vkq_profile_entry e[64];
    uint32_t n = 99;
    if (profile) {
        CHECK_OK(ctx, vkq_session_profile(s, e, 64, &n));
        CHECK(n == 0);
    } else {
        CHECK(vkq_session_profile(s, e, 64, &n) == VKQ_ERR_STATE && n == 0);
        CHECK(vkq_session_profile_clear(s) == VKQ_ERR_STATE);
    }
    CHECK_OK(ctx, vkq_session_eval(s, tokens, N_PREFILL, NULL));
    for (uint32_t i = N_PREFILL; i < N_PREFILL + N_DECODE; i++) CHECK_OK(ctx, vkq_session_eval(s, tokens + i, 1, NULL));
    CHECK_OK(ctx, vkq_session_logits(s, logits));
    if (profile) {
        CHECK_OK(ctx, vkq_session_profile(s, e, 64, &n));
        check_entries(e, n);
        CHECK_MSG(calls_of(e, n, "prefill", "get_rows_") == 3 && calls_of(e, n, "decode", "get_rows_") == N_DECODE,
                  "embedding gathers: prefill %llu, decode %llu",
                  (unsigned long long)calls_of(e, n, "prefill", "get_rows_"),
                  (unsigned long long)calls_of(e, n, "decode", "get_rows_"));
        CHECK(calls_of(e, n, "prefill", "argmax") == 3 && calls_of(e, n, "decode", "argmax") == N_DECODE);
        CHECK(calls_of(e, n, "decode", "matvec") >= N_DECODE * info->n_layer * 3);
        double total = 0;
        for (uint32_t i = 0; i < n; i++) total += e[i].seconds;
        CHECK_MSG(total > 0, "no GPU time recorded");
        /* Too small a capacity: the count, the first entries, VKQ_ERR_LIMIT. */
        vkq_profile_entry few[2];
        uint32_t m = 0;
        CHECK(vkq_session_profile(s, few, 2, &m) == VKQ_ERR_LIMIT && m == n);
        CHECK(n < 2 || (few[0].kernel == e[0].kernel && few[0].calls == e[0].calls));
        CHECK(vkq_session_profile(s, NULL, 0, &m) == VKQ_ERR_LIMIT && m == n);
        /* Cleared, then two more replays of the recorded step. */
        CHECK_OK(ctx, vkq_session_profile_clear(s));
        CHECK_OK(ctx, vkq_session_profile(s, e, 64, &n));
        CHECK(n == 0);
        vkq_session_rewind(s, N_PREFILL);
        for (uint32_t i = N_PREFILL; i < N_PREFILL + 2; i++) CHECK_OK(ctx, vkq_session_eval(s, tokens + i, 1, NULL));
        CHECK_OK(ctx, vkq_session_profile(s, e, 64, &n));
        check_entries(e, n);
        CHECK(calls_of(e, n, "decode", "get_rows_") == 2 && calls_of(e, n, "prefill", "") == 0);
    }
    CHECK(vkq_session_profile(NULL, e, 64, &n) == VKQ_ERR_INVALID_ARGUMENT);
    CHECK(vkq_session_profile(s, NULL, 4, &n) == VKQ_ERR_INVALID_ARGUMENT);
    CHECK(vkq_session_profile(s, e, 64, NULL) == VKQ_ERR_INVALID_ARGUMENT);
    CHECK(vkq_session_profile_clear(NULL) == VKQ_ERR_INVALID_ARGUMENT);
    vkq_session_destroy(s);
}

int main(void) {
    test_init("test_profile");
    vkq_context *ctx = test_gpu_context();
    if (!ctx) return test_finish();
    vkq__synth_desc desc = {.n_embd = 128, .n_ff = 256, .n_layer = 2, .n_head = 4, .seed = vkq_test_seed};
    char path[256];
    if (engine_test_write(&desc, path, sizeof path)) {
        vkq_model *model = NULL;
        vkq_model_desc md = {.path = path};
        CHECK_OK(ctx, vkq_model_load(ctx, &md, &model));
        if (model) {
            vkq_model_info info;
            vkq_model_info_get(model, &info);
            int32_t tokens[N_PREFILL + N_DECODE];
            for (uint32_t i = 0; i < N_PREFILL + N_DECODE; i++) tokens[i] = test_rand_int(0, (int)info.n_vocab - 1);
            float *plain = malloc((size_t)info.n_vocab * 4), *profiled = malloc((size_t)info.n_vocab * 4);
            run(ctx, model, &info, tokens, 0, plain);
            run(ctx, model, &info, tokens, 1, profiled);
            CHECK_MSG(!memcmp(plain, profiled, (size_t)info.n_vocab * 4), "profiling changed the logits");
            free(plain), free(profiled);
        }
        vkq_model_destroy(model);
        unlink(path);
    }
    test_gpu_context_destroy(ctx);
    return test_finish();
}

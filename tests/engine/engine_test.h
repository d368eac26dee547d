/* Shared by the engine tests: write a synthetic model, run GPU and reference side by side. */
#ifndef VKQ_ENGINE_TEST_H
#define VKQ_ENGINE_TEST_H

#include "common/test.h"
#include "engine/engine.h"
#include "gguf/gguf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes the model to a temporary file; returns its path in buf. */
static inline bool engine_test_write(const vkq__synth_desc *desc, char *buf, size_t size) {
    snprintf(buf, size, "/tmp/vkq-engine-test-%ld-%llu.gguf", (long)getpid(),
             (unsigned long long)test_rand_u64());
    vkq__diag d = {0};
    vkq_status st = vkq__synth_write_file(&d, desc, buf);
    CHECK_MSG(st == VKQ_OK, "synthetic model: %s", d.message);
    return st == VKQ_OK;
}

/* Largest |a - b| over n, relative to the largest |b|. */
static inline double engine_test_rel_max(const float *a, const float *b, size_t n) {
    double diff = 0, mag = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= diff)) diff = e; /* NaN propagates as a failure */
        if (fabs(b[i]) > mag) mag = fabs(b[i]);
    }
    return diff / mag;
}

/* Runs `n` tokens through GPU and reference (prefill of `n_prefill`, then decode one by one)
 * and checks the logits after every token within `tol` (relative to the largest logit). */
static inline void engine_test_compare(vkq_context *ctx, const char *path, vkq_type kv, uint32_t n_prefill,
                                       uint32_t n, double tol, const char *label) {
    vkq_model *model = NULL;
    vkq_model_desc md = {.path = path};
    CHECK_OK(ctx, vkq_model_load(ctx, &md, &model));
    if (!model) return;
    vkq_model_info info;
    vkq_model_info_get(model, &info);
    vkq_session *s = NULL;
    vkq_session_desc sd = {.n_ctx = 64, .n_batch = 16, .kv_type = kv};
    CHECK_OK(ctx, vkq_session_create(model, &sd, &s));
    vkq__ref_state *ref = NULL;
    vkq__diag d = {0};
    CHECK_MSG(vkq__ref_create(&d, vkq_model_gguf(model), 64, kv, &ref) == VKQ_OK, "%s", d.message);
    int32_t *tokens = malloc(n * sizeof *tokens);
    float *gpu = malloc((size_t)n * info.n_vocab * sizeof *gpu), *cpu = malloc((size_t)n * info.n_vocab * sizeof *cpu);
    for (uint32_t i = 0; i < n; i++) tokens[i] = test_rand_int(0, (int)info.n_vocab - 1);
    if (s && ref) {
        CHECK_OK(ctx, vkq_session_eval(s, tokens, n_prefill, gpu));
        for (uint32_t i = n_prefill; i < n; i++) {
            CHECK_OK(ctx, vkq_session_eval(s, tokens + i, 1, NULL));
            CHECK_OK(ctx, vkq_session_logits(s, gpu + (size_t)i * info.n_vocab));
        }
        CHECK(vkq__ref_eval(ref, tokens, n, cpu, true) == VKQ_OK);
        for (uint32_t i = 0; i < n; i++) {
            double e = engine_test_rel_max(gpu + (size_t)i * info.n_vocab, cpu + (size_t)i * info.n_vocab, info.n_vocab);
            CHECK_MSG(e <= tol, "%s kv %s: token %u (%s) logits differ by %.3g (tolerance %.3g)", label,
                      vkq_type_name(kv), i, i < n_prefill ? "prefill" : "decode", e, tol);
        }
        /* Greedy sampling returns the argmax of the last logits (computed on the GPU). */
        int32_t tok = -1;
        vkq_sampler_desc greedy = {0};
        CHECK_OK(ctx, vkq_session_sample(s, &greedy, NULL, 0, &tok));
        const float *last = gpu + (size_t)(n - 1) * info.n_vocab;
        int32_t best = 0;
        for (uint32_t i = 1; i < info.n_vocab; i++) best = last[i] > last[best] ? (int32_t)i : best;
        CHECK_MSG(tok == best, "%s: greedy token %d, argmax %d", label, tok, best);
    }
    free(tokens), free(gpu), free(cpu);
    vkq__ref_destroy(ref);
    vkq_session_destroy(s);
    vkq_model_destroy(model);
}

#endif

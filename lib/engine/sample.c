/* Sampling the next token. Greedy without a repetition penalty uses the argmax the forward pass
 * already computed; temperature sampling (top-k, top-p, min-p; see vkq__op_sample for the order)
 * runs on the GPU too, so only the id comes back. With a repetition penalty the penalized logits
 * go through the same sampler's C reference. The random number comes from the session's
 * generator (xorshift64*), so a seed fixes the result. */
#include "engine/session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next_random(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

void vkq_session_seed(vkq_session *s, uint64_t seed) {
    if (s) s->rng = seed ? seed : 1;
}

static void apply_penalty(float *logits, uint32_t n_vocab, const vkq_sampler_desc *d, const int32_t *recent,
                          uint32_t n_recent) {
    uint32_t look = d->repeat_last_n ? d->repeat_last_n : 64;
    uint32_t first = n_recent > look ? n_recent - look : 0;
    for (uint32_t i = first; i < n_recent; i++) {
        if (recent[i] < 0 || (uint32_t)recent[i] >= n_vocab) continue;
        /* Each token is penalized once however often it repeats: mark by checking earlier. */
        bool seen = false;
        for (uint32_t j = first; j < i && !seen; j++) seen = recent[j] == recent[i];
        if (seen) continue;
        float *l = &logits[recent[i]];
        *l = *l > 0 ? *l / d->repeat_penalty : *l * d->repeat_penalty;
    }
}

/* Samples logits row 0 on the GPU: only the chosen id comes back. */
static vkq_status sample_on_gpu(vkq_session *s, const vkq__step_params *p, int32_t *token) {
    vkq_status st;
    if (!s->sampler_recorded) {
        const uint32_t n_vocab = s->model->hp.n_vocab;
        if ((st = vkq__recording_begin(s->sampler)) ||
            (st = vkq__op_sample(s->sampler, vkq__subview(&s->logits, 0, (uint64_t)n_vocab * 4),
                                 vkq__view_of(&s->sample_params), vkq__view_of(&s->sampled), n_vocab, 1))) {
            return st;
        }
        s->sampler_recorded = true;
    }
    memcpy(s->sample_params.mapped, p, sizeof *p);
    if ((st = vkq__recording_submit_wait(s->sampler))) return st;
    *token = (int32_t)*(const uint32_t *)s->sampled.mapped;
    return VKQ_OK;
}

vkq_status vkq_session_sample(vkq_session *s, const vkq_sampler_desc *d, const int32_t *recent,
                              uint32_t n_recent, int32_t *token) {
    if (!s || !d || !token || (!recent && n_recent)) {
        return vkq__fail(s ? &s->ctx->diag : NULL, VKQ_ERR_INVALID_ARGUMENT, "vkq_session_sample: NULL argument");
    }
    if (!s->have_logits) return vkq__fail(&s->ctx->diag, VKQ_ERR_STATE, "vkq_session_sample: nothing evaluated yet");
    if (d->temperature < 0 || d->top_p < 0 || d->min_p < 0 || d->min_p > 1 || d->repeat_penalty < 0 ||
        isnan(d->temperature)) {
        return vkq__fail(&s->ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "vkq_session_sample: temperature %g, top_p %g, min_p %g, repeat_penalty %g",
                         d->temperature, d->top_p, d->min_p, d->repeat_penalty);
    }
    const uint32_t n_vocab = s->model->hp.n_vocab;
    bool penalty = d->repeat_penalty > 0 && d->repeat_penalty != 1 && n_recent > 0;
    if (d->temperature == 0 && !penalty) {
        *token = (int32_t)((const uint32_t *)s->argmax.mapped)[s->last_logit_row];
        return VKQ_OK;
    }
    vkq__step_params p = {.rand = (float)((double)(next_random(&s->rng) >> 40) * (1.0 / 16777216.0)),
                          .temperature = d->temperature, .top_k = d->top_k,
                          .top_p = d->top_p > 0 && d->top_p < 1 ? d->top_p : 1.0f, .min_p = d->min_p};
    if (!penalty && s->last_logit_row == 0) return sample_on_gpu(s, &p, token);
    /* The penalty changes the logits (and a later row may sit at an offset no binding can
     * start at): the same sampler runs on the CPU, on a copy, so vkq_session_logits is unchanged. */
    float *logits = s->scratch_logits;
    memcpy(logits, s->logits.mapped + (uint64_t)s->last_logit_row * n_vocab * 4, n_vocab * sizeof *logits);
    if (penalty) apply_penalty(logits, n_vocab, d, recent, n_recent);
    *token = (int32_t)vkq__ref_sample(logits, n_vocab, &p);
    return VKQ_OK;
}

/* Sampling the next token. Greedy without a repetition penalty uses the argmax the GPU already
 * computed (only the id comes back); every other mode works on the mapped logits on the CPU:
 * repetition penalty, temperature, top-k, top-p, min-p, then a draw from the session's
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

static int by_logit_desc(const void *a, const void *b) {
    const vkq__candidate *x = a, *y = b;
    if (x->logit != y->logit) return x->logit > y->logit ? -1 : 1;
    return x->id < y->id ? -1 : 1; /* ties: the lower id first */
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

/* Keeps the candidates (sorted by logit) that survive top-k, min-p and top-p; returns how many. */
static uint32_t truncate_candidates(const vkq_sampler_desc *d, const vkq__candidate *c, float *probs,
                                    uint32_t n) {
    if (d->top_k && d->top_k < n) n = d->top_k;
    double max = c[0].logit;
    for (uint32_t i = 0; i < n; i++) probs[i] = (float)exp((c[i].logit - max) / d->temperature);
    if (d->min_p > 0) {
        uint32_t keep = 1;
        while (keep < n && probs[keep] >= d->min_p * probs[0]) keep++;
        n = keep;
    }
    if (d->top_p > 0 && d->top_p < 1) {
        double total = 0, acc = 0;
        for (uint32_t i = 0; i < n; i++) total += probs[i];
        uint32_t keep = 0;
        while (keep < n && acc < d->top_p * total) acc += probs[keep++];
        n = keep ? keep : 1;
    }
    return n;
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
    /* Work on a copy: the penalty must not change what vkq_session_logits returns. */
    float *logits = s->probs;
    memcpy(logits, s->logits.mapped + (uint64_t)s->last_logit_row * n_vocab * 4, n_vocab * sizeof *logits);
    if (penalty) apply_penalty(logits, n_vocab, d, recent, n_recent);
    if (d->temperature == 0) {
        uint32_t best = 0;
        for (uint32_t i = 1; i < n_vocab; i++) best = logits[i] > logits[best] ? i : best;
        *token = (int32_t)best;
        return VKQ_OK;
    }
    for (uint32_t i = 0; i < n_vocab; i++) s->cands[i] = (vkq__candidate){logits[i], i};
    qsort(s->cands, n_vocab, sizeof *s->cands, by_logit_desc);
    uint32_t n = truncate_candidates(d, s->cands, s->probs, n_vocab);
    double total = 0;
    for (uint32_t i = 0; i < n; i++) total += s->probs[i];
    double r = (double)(next_random(&s->rng) >> 11) * (1.0 / 9007199254740992.0) * total, acc = 0;
    uint32_t pick = n - 1;
    for (uint32_t i = 0; i < n; i++) {
        acc += s->probs[i];
        if (r < acc) {
            pick = i;
            break;
        }
    }
    *token = (int32_t)s->cands[pick].id;
    return VKQ_OK;
}

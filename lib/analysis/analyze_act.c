/* vkq_analyze, the activation space: the CPU reference forward pass (lib/engine/reference.c) on
 * the calibration tokens, first with the source weights (hidden state after every layer, the
 * logits, and the mean x^2 of every matrix's input columns: the importance), then for each
 * format with the quantized-then-dequantized weights that analyze.c wrote into the reference
 * states: the whole model ("accumulated") and each layer alone on the source's input of that
 * layer ("isolated"). With two threads or more the isolated pass runs on a second reference
 * state beside the accumulated one. The KV cache is F32, so that only the weights differ. */
#include "analysis/analyze.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Offset of token pos's vector in slot `slot` of a (slots, n_tokens, n_embd) buffer. */
static size_t at(const an_state *s, uint32_t slot, uint32_t pos) {
    return ((size_t)slot * s->desc->n_tokens + pos) * s->hp.n_embd;
}

static double *imp_row(const an_state *s, uint32_t il, an_input in) {
    size_t row = in == AN_IN_OUTPUT ? (size_t)s->hp.n_layer * AN_IN_COUNT : (size_t)il * AN_IN_COUNT + (size_t)in;
    return s->imp_sum + row * s->imp_stride;
}

static void observe_source(void *user, vkq__ref_point p, uint32_t il, uint32_t pos, const float *x, uint32_t n) {
    an_state *s = user;
    an_input in = AN_IN_NONE;
    switch (p) {
    case VKQ__REF_LAYER_IN:
        if (il == 0) memcpy(s->src_hidden + at(s, 0, pos), x, n * sizeof *x);
        return;
    case VKQ__REF_LAYER_OUT: memcpy(s->src_hidden + at(s, il + 1, pos), x, n * sizeof *x); return;
    case VKQ__REF_ATTN_IN: in = AN_IN_ATTN; break;
    case VKQ__REF_ATTN_OUT_IN: in = AN_IN_ATTN_OUT; break;
    case VKQ__REF_FFN_IN: in = AN_IN_FFN; break;
    case VKQ__REF_FFN_DOWN_IN: in = AN_IN_FFN_DOWN; break;
    case VKQ__REF_OUTPUT_IN: in = AN_IN_OUTPUT; break;
    }
    double *sum = imp_row(s, il, in);
    for (uint32_t j = 0; j < n && j < s->imp_stride; j++) sum[j] += (double)x[j] * x[j];
}

static void observe_quantized(void *user, vkq__ref_point p, uint32_t il, uint32_t pos, const float *x, uint32_t n) {
    an_state *s = user;
    if (p == VKQ__REF_LAYER_IN && il == 0) memcpy(s->q_hidden + at(s, 0, pos), x, n * sizeof *x);
    if (p == VKQ__REF_LAYER_OUT) memcpy(s->q_hidden + at(s, il + 1, pos), x, n * sizeof *x);
}

bool vkq__an_importance(const an_state *s, const char *name, float *out, uint64_t n) {
    const vkq__hparams *hp = &s->hp;
    unsigned il = 0;
    int used = 0;
    an_input in = AN_IN_NONE;
    uint64_t width = hp->n_embd;
    if (!strcmp(name, "output.weight") || (!strcmp(name, "token_embd.weight") && hp->tied_output)) {
        in = AN_IN_OUTPUT;
    } else if (sscanf(name, "blk.%u.%n", &il, &used) == 1 && used > 0 && il < hp->n_layer) {
        const char *r = name + used;
        if (!strcmp(r, "attn_q.weight") || !strcmp(r, "attn_k.weight") || !strcmp(r, "attn_v.weight")) in = AN_IN_ATTN;
        else if (!strcmp(r, "attn_output.weight")) in = AN_IN_ATTN_OUT, width = (uint64_t)hp->n_head * hp->head_dim;
        else if (!strcmp(r, "ffn_gate.weight") || !strcmp(r, "ffn_up.weight")) in = AN_IN_FFN;
        else if (!strcmp(r, "ffn_down.weight")) in = AN_IN_FFN_DOWN, width = hp->n_ff;
    }
    if (in == AN_IN_NONE || n != width) return false;
    const double *sum = imp_row(s, il, in);
    for (uint64_t j = 0; j < n; j++) out[j] = (float)(sum[j] / s->desc->n_tokens);
    return true;
}

static vkq_status no_memory(an_state *s) {
    return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "analyze: no memory for the activation pass");
}

static vkq_status compute_importance(an_state *s) {
    s->importance = vkq__calloc(s->n_mats ? s->n_mats : 1, sizeof *s->importance);
    if (!s->importance) return no_memory(s);
    for (uint64_t m = 0; m < s->n_mats; m++) {
        const vkq__gguf_tensor *t = &s->g->tensors[s->mats[m]];
        float *imp = malloc(t->ne[0] * sizeof *imp);
        if (!imp) return no_memory(s);
        if (vkq__an_importance(s, t->name.data, imp, t->ne[0])) s->importance[m] = imp;
        else free(imp);
    }
    return VKQ_OK;
}

vkq_status vkq__an_act_begin(an_state *s) {
    const vkq_analysis_desc *desc = s->desc;
    vkq_status st = vkq__hparams_read(s->d, s->g, &s->hp);
    if (st) return vkq__wrap(s->d, VKQ_ERR_BAD_FILE, "analyze: activation metrics need a llama-family model");
    const vkq__hparams *hp = &s->hp;
    for (uint32_t t = 0; t < desc->n_tokens; t++) {
        if (desc->tokens[t] < 0 || (uint32_t)desc->tokens[t] >= hp->n_vocab) {
            return vkq__fail(s->d, VKQ_ERR_INVALID_ARGUMENT, "analyze: token %u is %d, outside the vocabulary "
                             "of %u", t, desc->tokens[t], hp->n_vocab);
        }
    }
    s->r->n_layer = hp->n_layer;
    s->r->n_embd = hp->n_embd;
    size_t n = desc->n_tokens, hidden = ((size_t)hp->n_layer + 1) * n * hp->n_embd;
    s->imp_stride = VKQ__MAX(VKQ__MAX(hp->n_embd, hp->n_ff), hp->n_head * hp->head_dim);
    s->src_hidden = malloc(hidden * sizeof(float));
    s->q_hidden = malloc(hidden * sizeof(float));
    s->iso_out = malloc((size_t)hp->n_layer * n * hp->n_embd * sizeof(float));
    s->src_logits = malloc(n * hp->n_vocab * sizeof(float));
    s->q_logits = malloc(n * hp->n_vocab * sizeof(float));
    s->imp_sum = vkq__calloc(((size_t)hp->n_layer * AN_IN_COUNT + 1) * s->imp_stride, sizeof(double));
    if (!s->src_hidden || !s->q_hidden || !s->iso_out || !s->src_logits || !s->q_logits || !s->imp_sum) {
        return no_memory(s);
    }
    for (uint32_t i = 0; i < (s->threads >= 2 ? 2u : 1u); i++) {
        st = vkq__ref_create(s->d, s->g, desc->n_tokens, VKQ_TYPE_F32, &s->ref[i]);
        if (st) return vkq__wrap(s->d, st, "analyze: reference forward pass");
    }
    vkq__ref_set_observer(s->ref[0], observe_source, s);
    vkq__ref_reset(s->ref[0]);
    st = vkq__ref_eval(s->ref[0], desc->tokens, desc->n_tokens, s->src_logits, true);
    if (st) return vkq__fail(s->d, st, "analyze: source forward pass failed");
    vkq__ref_set_observer(s->ref[0], NULL, NULL);
    st = compute_importance(s);
    if (st) return st;
    /* A pass over the tokens counts as much as quantizing every matrix once. */
    s->total += (double)s->mat_elements * (1.0 + 2.0 * s->r->n_formats);
    return vkq__an_progress(s, (double)s->mat_elements);
}

typedef struct iso_job {
    an_state *s;
    vkq__ref_state *ref;
    vkq_status st;
} iso_job;

static void *run_isolated(void *arg) {
    iso_job *j = arg;
    an_state *s = j->s;
    uint32_t n = s->desc->n_tokens;
    for (uint32_t il = 0; il < s->hp.n_layer && !j->st; il++) {
        j->st = vkq__ref_eval_layer(j->ref, il, s->src_hidden + at(s, il, 0), n, s->iso_out + at(s, il, 0));
    }
    return NULL;
}

static void layer_metrics(const float *ref, const float *test, size_t n, uint32_t il, vkq_analysis_layer_metrics *out) {
    vkq__metrics m;
    vkq__metrics_compute(ref, test, NULL, (int64_t)n, &m);
    *out = (vkq_analysis_layer_metrics){.layer = il, .cosine = m.cosine, .sqnr_db = m.sqnr_db, .rel_l2 = m.rel_l2};
}

/* log softmax in double; returns the argmax. */
static uint32_t log_softmax(const float *x, uint32_t n, double *out) {
    uint32_t best = 0;
    double max = -INFINITY, sum = 0;
    for (uint32_t j = 0; j < n; j++) {
        if (x[j] > max) max = x[j], best = j;
    }
    for (uint32_t j = 0; j < n; j++) sum += exp((double)x[j] - max);
    double lse = max + log(sum);
    for (uint32_t j = 0; j < n; j++) out[j] = (double)x[j] - lse;
    return best;
}

static vkq_status logit_metrics(an_state *s, vkq_analysis_format *f) {
    uint32_t nv = s->hp.n_vocab, n = s->desc->n_tokens;
    double *lp = malloc(nv * sizeof *lp), *lq = malloc(nv * sizeof *lq);
    if (!lp || !lq) return free(lp), free(lq), no_memory(s);
    double sum = 0, sum2 = 0;
    uint32_t agree = 0;
    for (uint32_t t = 0; t < n; t++) {
        uint32_t a = log_softmax(s->src_logits + (size_t)t * nv, nv, lp);
        uint32_t b = log_softmax(s->q_logits + (size_t)t * nv, nv, lq);
        double kld = 0;
        for (uint32_t j = 0; j < nv; j++) kld += exp(lp[j]) * (lp[j] - lq[j]);
        kld = kld > 0 ? kld : 0; /* rounding can leave a tiny negative */
        sum += kld, sum2 += kld * kld;
        agree += a == b;
    }
    free(lp), free(lq);
    f->kld_mean = sum / n;
    double var = n > 1 ? (sum2 / n - f->kld_mean * f->kld_mean) * n / (n - 1) : 0.0;
    f->kld_stderr = n > 1 && var > 0 ? sqrt(var / n) : 0.0;
    f->top1 = (double)agree / n;
    return VKQ_OK;
}

vkq_status vkq__an_act_format(an_state *s, vkq_analysis_format *f) {
    const vkq__hparams *hp = &s->hp;
    uint32_t n = s->desc->n_tokens;
    f->accumulated = vkq__calloc(hp->n_layer ? hp->n_layer : 1, sizeof *f->accumulated);
    f->isolated = vkq__calloc(hp->n_layer ? hp->n_layer : 1, sizeof *f->isolated);
    if (!f->accumulated || !f->isolated) return no_memory(s);
    iso_job iso = {.s = s, .ref = s->ref[1] ? s->ref[1] : s->ref[0]};
    pthread_t tid;
    bool threaded = s->ref[1] && pthread_create(&tid, NULL, run_isolated, &iso) == 0;
    if (s->ref[1] && !threaded) iso.ref = s->ref[0];
    vkq__ref_reset(s->ref[0]);
    vkq__ref_set_observer(s->ref[0], observe_quantized, s);
    vkq_status st = vkq__ref_eval(s->ref[0], s->desc->tokens, n, s->q_logits, true);
    vkq__ref_set_observer(s->ref[0], NULL, NULL); /* the isolated pass may run on it next */
    if (threaded) pthread_join(tid, NULL);
    else run_isolated(&iso);
    if (st || iso.st) return vkq__fail(s->d, st ? st : iso.st, "analyze: %s: forward pass failed", f->name);
    size_t per_layer = (size_t)n * hp->n_embd;
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        layer_metrics(s->src_hidden + at(s, il + 1, 0), s->q_hidden + at(s, il + 1, 0), per_layer, il, &f->accumulated[il]);
        layer_metrics(s->src_hidden + at(s, il + 1, 0), s->iso_out + at(s, il, 0), per_layer, il, &f->isolated[il]);
    }
    st = logit_metrics(s, f);
    if (st) return st;
    return vkq__an_progress(s, 2.0 * (double)s->mat_elements);
}

void vkq__an_act_end(an_state *s) {
    for (int i = 0; i < 2; i++) vkq__ref_destroy(s->ref[i]);
    free(s->src_hidden), free(s->q_hidden), free(s->iso_out), free(s->src_logits), free(s->q_logits);
    free(s->imp_sum);
}

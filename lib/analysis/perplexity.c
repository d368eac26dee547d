/* Perplexity and KL-divergence of a session on a token stream (vkq_perplexity). The text is cut
 * into non-overlapping windows, each evaluated from an empty cache with every token's logits;
 * the second half of a window is scored, so that every scored token sees at least half a window
 * of context (the convention of llama.cpp's perplexity tool, whose figures people compare with).
 * Log-softmax, NLL and KLD are computed in double: the sums run over 1e5..1e6 tokens and the
 * KLD of close models is a difference of nearly equal log-probabilities. */
#include "engine/session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_WINDOW 512u
#define MIN_WINDOW 4u /* at least two tokens of context before one scored token */

/* Running sums over scored tokens, turned into a vkq_perplexity_result by finish(). */
typedef struct ppl_acc {
    uint64_t n;
    double nll, nll2;         /* sum of -log p_test(target), and of its square */
    double ref_nll, ref_nll2; /* the same for the reference */
    double kld, kld2;         /* sum of KLD(ref || test), and of its square */
    double dp, dp2;           /* sum of p_test(target) - p_ref(target), and of its square */
    uint64_t top1_same;
    double *klds;             /* (capacity) every token's KLD, for the percentiles */
    uint64_t capacity;
} ppl_acc;

/* Buffers of one run: the logits of a window from both sessions, and their log-softmax. */
typedef struct ppl_work {
    float *logits, *ref_logits; /* (n_ctx, n_vocab) */
    double *lp, *ref_lp;        /* (n_vocab) */
} ppl_work;

/* out[j] = logits[j] - log(sum exp logits), in double, shifted by the maximum so that no
 * exponential overflows. Returns the index of the first maximum (the greedy token). */
static uint32_t log_softmax(const float *logits, uint32_t n, double *out) {
    uint32_t best = 0;
    for (uint32_t j = 1; j < n; j++) best = logits[j] > logits[best] ? j : best;
    double max = logits[best], sum = 0.0;
    for (uint32_t j = 0; j < n; j++) sum += exp((double)logits[j] - max);
    double lse = max + log(sum);
    for (uint32_t j = 0; j < n; j++) out[j] = (double)logits[j] - lse;
    return best;
}

/* Mean and standard error of the mean from a sum and a sum of squares over n samples. */
static void mean_se(double sum, double sum2, uint64_t n, double *mean, double *se) {
    *mean = n ? sum / (double)n : 0.0;
    double var = n > 1 ? (sum2 / (double)n - *mean * *mean) * (double)n / (double)(n - 1) : 0.0;
    *se = n > 1 && var > 0.0 ? sqrt(var / (double)n) : 0.0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Linear interpolation between the closest ranks of sorted values (numpy's default). */
static double percentile(const double *sorted, uint64_t n, double q) {
    if (!n) return 0.0;
    double r = q * (double)(n - 1);
    uint64_t i = (uint64_t)r;
    if (i + 1 >= n) return sorted[n - 1];
    return sorted[i] + (r - (double)i) * (sorted[i + 1] - sorted[i]);
}

/* Scores positions first..n_ctx-2 of a window: the logits at position i predict token i + 1. */
static void score_window(ppl_acc *a, ppl_work *w, const int32_t *tokens, uint32_t n_ctx,
                         uint32_t n_vocab, bool kld) {
    for (uint32_t i = n_ctx / 2; i + 1 < n_ctx; i++) {
        uint32_t target = (uint32_t)tokens[i + 1];
        uint32_t top = log_softmax(w->logits + (size_t)i * n_vocab, n_vocab, w->lp);
        double nll = -w->lp[target];
        a->nll += nll, a->nll2 += nll * nll;
        if (kld) {
            uint32_t ref_top = log_softmax(w->ref_logits + (size_t)i * n_vocab, n_vocab, w->ref_lp);
            double k = 0.0;
            for (uint32_t j = 0; j < n_vocab; j++) k += exp(w->ref_lp[j]) * (w->ref_lp[j] - w->lp[j]);
            double ref_nll = -w->ref_lp[target];
            double dp = exp(w->lp[target]) - exp(w->ref_lp[target]);
            a->ref_nll += ref_nll, a->ref_nll2 += ref_nll * ref_nll;
            a->kld += k, a->kld2 += k * k;
            a->dp += dp, a->dp2 += dp * dp;
            a->top1_same += top == ref_top;
            if (a->n < a->capacity) a->klds[a->n] = k;
        }
        a->n++;
    }
}

/* Fills the figures that come from running sums; the percentiles only when `final` (they need
 * a sort of every token's KLD, too slow to repeat after each window). */
static void finish(ppl_acc *a, bool kld, bool final, vkq_perplexity_result *out) {
    out->n_scored = a->n;
    mean_se(a->nll, a->nll2, a->n, &out->nll_mean, &out->nll_stderr);
    out->ppl = exp(out->nll_mean);
    /* d exp(m) = exp(m) dm: the standard error of the mean NLL, carried through the exp. */
    out->ppl_stderr = out->ppl * out->nll_stderr;
    if (!kld) return;
    out->has_reference = 1;
    mean_se(a->ref_nll, a->ref_nll2, a->n, &out->ref_nll_mean, &out->ref_nll_stderr);
    out->ref_ppl = exp(out->ref_nll_mean);
    out->ref_ppl_stderr = out->ref_ppl * out->ref_nll_stderr;
    mean_se(a->kld, a->kld2, a->n, &out->kld_mean, &out->kld_stderr);
    double dp_se;
    mean_se(a->dp, a->dp2, a->n, &out->dp_mean, &dp_se);
    out->dp_rms = a->n ? sqrt(a->dp2 / (double)a->n) : 0.0;
    out->top1_agreement = a->n ? (double)a->top1_same / (double)a->n : 0.0;
    if (!final) return;
    qsort(a->klds, a->n, sizeof *a->klds, cmp_double);
    out->kld_median = percentile(a->klds, a->n, 0.50);
    out->kld_p90 = percentile(a->klds, a->n, 0.90);
    out->kld_p95 = percentile(a->klds, a->n, 0.95);
    out->kld_p99 = percentile(a->klds, a->n, 0.99);
    out->kld_max = a->n ? a->klds[a->n - 1] : 0.0;
}

/* Checks the arguments and resolves the window length; the message goes to s's context. */
static vkq_status check_args(vkq_session *s, const int32_t *tokens, uint32_t n,
                             const vkq_perplexity_desc *desc, uint32_t *n_ctx) {
    vkq__diag *d = vkq__context_diag(s->ctx);
    vkq_session *ref = desc->reference;
    if (!tokens) return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "perplexity: tokens is NULL");
    for (size_t i = 0; i < sizeof desc->reserved / sizeof desc->reserved[0]; i++) {
        if (desc->reserved[i]) return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "perplexity: reserved[%zu] is not zero", i);
    }
    if (ref && ref->ctx != s->ctx) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "perplexity: the reference session belongs to another context");
    }
    if (ref && ref->model->hp.n_vocab != s->model->hp.n_vocab) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT,
                         "perplexity: the reference model has %u tokens in its vocabulary, the model %u",
                         ref->model->hp.n_vocab, s->model->hp.n_vocab);
    }
    uint32_t limit = s->n_ctx;
    if (ref && ref->n_ctx < limit) limit = ref->n_ctx;
    uint32_t w = desc->n_ctx ? desc->n_ctx : VKQ__MIN(DEFAULT_WINDOW, limit);
    if (w < MIN_WINDOW) return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "perplexity: window of %u tokens, at least %u needed", w, MIN_WINDOW);
    if (w > limit) {
        return vkq__fail(d, VKQ_ERR_LIMIT, "perplexity: window of %u tokens exceeds the session's context of %u%s", w,
                         limit, ref && ref->n_ctx == limit ? " (reference)" : "");
    }
    if (n < w) return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "perplexity: %u tokens, less than one window of %u", n, w);
    *n_ctx = w;
    return VKQ_OK;
}

/* Evaluates one window from an empty cache with every token's logits. */
static vkq_status eval_window(vkq_session *s, const int32_t *tokens, uint32_t n_ctx, float *logits) {
    vkq_status st = vkq_session_reset(s);
    if (!st) st = vkq_session_eval(s, tokens, n_ctx, logits);
    return st;
}

static vkq_status run_windows(vkq_session *s, const int32_t *tokens, uint32_t n_windows, uint32_t n_ctx,
                              const vkq_perplexity_desc *desc, ppl_acc *a, ppl_work *w, vkq_perplexity_result *out) {
    uint32_t n_vocab = s->model->hp.n_vocab;
    bool kld = desc->reference != NULL;
    for (uint32_t k = 0; k < n_windows; k++) {
        const int32_t *win = tokens + (size_t)k * n_ctx;
        vkq_status st = eval_window(s, win, n_ctx, w->logits);
        if (!st && kld) st = eval_window(desc->reference, win, n_ctx, w->ref_logits);
        if (st) return vkq__wrap(vkq__context_diag(s->ctx), st, "perplexity window %u of %u", k + 1, n_windows);
        score_window(a, w, win, n_ctx, n_vocab, kld);
        out->n_windows = k + 1;
        if (desc->progress) {
            finish(a, kld, false, out);
            if (desc->progress(out, n_windows, desc->progress_user_data)) {
                return vkq__fail(vkq__context_diag(s->ctx), VKQ_ERR_STATE, "perplexity: cancelled after window %u of %u",
                                 k + 1, n_windows);
            }
        }
    }
    finish(a, kld, true, out);
    return VKQ_OK;
}

vkq_status vkq_perplexity(vkq_session *s, const int32_t *tokens, uint32_t n, const vkq_perplexity_desc *desc,
                          vkq_perplexity_result *out) {
    if (!s || !out) return VKQ_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    vkq_perplexity_desc defaults = {0};
    if (!desc) desc = &defaults;
    uint32_t n_ctx = 0;
    vkq_status st = check_args(s, tokens, n, desc, &n_ctx);
    if (st) return st;
    uint32_t n_windows = n / n_ctx;
    if (desc->max_windows && desc->max_windows < n_windows) n_windows = desc->max_windows;
    out->n_ctx = n_ctx;
    uint32_t n_vocab = s->model->hp.n_vocab;
    bool kld = desc->reference != NULL;
    uint64_t per_window = n_ctx - 1 - n_ctx / 2;
    ppl_acc a = {.capacity = kld ? per_window * n_windows : 0};
    ppl_work w = {0};
    size_t window_floats = (size_t)n_ctx * n_vocab;
    w.logits = malloc(window_floats * sizeof *w.logits);
    w.lp = malloc((size_t)n_vocab * sizeof *w.lp);
    if (kld) {
        w.ref_logits = malloc(window_floats * sizeof *w.ref_logits);
        w.ref_lp = malloc((size_t)n_vocab * sizeof *w.ref_lp);
        a.klds = malloc(a.capacity * sizeof *a.klds);
    }
    if (!w.logits || !w.lp || (kld && (!w.ref_logits || !w.ref_lp || !a.klds))) {
        st = vkq__fail(vkq__context_diag(s->ctx), VKQ_ERR_OUT_OF_HOST_MEMORY,
                       "perplexity: logits of a window of %u tokens x %u", n_ctx, n_vocab);
    } else {
        st = run_windows(s, tokens, n_windows, n_ctx, desc, &a, &w, out);
    }
    free(w.logits), free(w.ref_logits), free(w.lp), free(w.ref_lp), free(a.klds);
    return st;
}

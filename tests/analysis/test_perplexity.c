/* vkq_perplexity on synthetic models: perplexity and KL-divergence from the GPU against the same
 * figures computed here from the C reference forward pass; the KLD of a model against itself;
 * and the exact status of each argument error. */
#include "engine/engine_test.h"

#define WINDOW 16u
#define N_TOKENS (3 * WINDOW + 5) /* three windows and a remainder that is not used */

/* What the test expects, computed from reference logits in double, independently of the
 * library's code. */
typedef struct expected {
    uint64_t n;
    double nll, nll2, kld, kld_max, dp, dp2;
    uint64_t top1;
    double kld_all[N_TOKENS];
} expected;

static uint32_t cpu_log_softmax(const float *x, uint32_t n, double *out) {
    uint32_t best = 0;
    double max = -INFINITY, sum = 0;
    for (uint32_t j = 0; j < n; j++) {
        if (x[j] > max) max = x[j], best = j;
    }
    for (uint32_t j = 0; j < n; j++) sum += exp(x[j] - max);
    for (uint32_t j = 0; j < n; j++) out[j] = x[j] - max - log(sum);
    return best;
}

/* All logits of each window from a fresh reference state: (n_windows, WINDOW, n_vocab). */
static float *cpu_logits(const vkq_model *model, const int32_t *tokens, uint32_t n_windows, uint32_t n_vocab) {
    float *logits = malloc((size_t)n_windows * WINDOW * n_vocab * sizeof *logits);
    for (uint32_t k = 0; k < n_windows && logits; k++) {
        vkq__ref_state *ref = NULL;
        vkq__diag d = {0};
        CHECK_MSG(vkq__ref_create(&d, vkq_model_gguf(model), WINDOW, VKQ_TYPE_F16, &ref) == VKQ_OK, "%s", d.message);
        if (ref) CHECK(vkq__ref_eval(ref, tokens + k * WINDOW, WINDOW, logits + (size_t)k * WINDOW * n_vocab, true) == VKQ_OK);
        vkq__ref_destroy(ref);
    }
    return logits;
}

/* Scores positions WINDOW/2 .. WINDOW-2 of each window, as the perplexity tool defines it. */
static void cpu_expected(const float *test, const float *ref, const int32_t *tokens, uint32_t n_windows,
                         uint32_t n_vocab, expected *e) {
    memset(e, 0, sizeof *e);
    double *lp = malloc(n_vocab * sizeof *lp), *lq = malloc(n_vocab * sizeof *lq);
    for (uint32_t k = 0; k < n_windows; k++) {
        for (uint32_t i = WINDOW / 2; i + 1 < WINDOW; i++) {
            size_t row = ((size_t)k * WINDOW + i) * n_vocab;
            int32_t next = tokens[k * WINDOW + i + 1];
            uint32_t t1 = cpu_log_softmax(test + row, n_vocab, lp);
            uint32_t r1 = cpu_log_softmax(ref + row, n_vocab, lq);
            double kld = 0;
            for (uint32_t j = 0; j < n_vocab; j++) kld += exp(lq[j]) * (lq[j] - lp[j]);
            double dp = exp(lp[next]) - exp(lq[next]);
            e->nll += -lp[next], e->nll2 += lp[next] * lp[next];
            e->kld += kld, e->dp += dp, e->dp2 += dp * dp;
            e->kld_max = kld > e->kld_max ? kld : e->kld_max;
            e->kld_all[e->n++] = kld;
            e->top1 += t1 == r1;
        }
    }
    free(lp), free(lq);
}

static bool close_rel(double a, double b, double tol) { return fabs(a - b) <= tol * fabs(b) + 1e-12; }

static int count_progress(const vkq_perplexity_result *so_far, uint32_t n_windows, void *user) {
    int *calls = user;
    CHECK(so_far->n_windows == (uint32_t)*calls + 1 && n_windows == 3 && so_far->ppl > 1.0);
    return ++*calls, 0;
}

static int cancel(const vkq_perplexity_result *so_far, uint32_t n_windows, void *user) {
    (void)so_far, (void)n_windows, (void)user;
    return 1;
}

typedef struct fixture {
    vkq_model *model;
    vkq_session *s;
    uint32_t n_vocab;
} fixture;

static bool open_model(vkq_context *ctx, const char *path, uint32_t n_ctx, fixture *f) {
    vkq_model_desc md = {.path = path};
    CHECK_OK(ctx, vkq_model_load(ctx, &md, &f->model));
    vkq_model_info info = {0};
    if (f->model) vkq_model_info_get(f->model, &info);
    f->n_vocab = info.n_vocab;
    vkq_session_desc sd = {.n_ctx = n_ctx, .n_batch = 8, .kv_type = VKQ_TYPE_F16};
    if (f->model) CHECK_OK(ctx, vkq_session_create(f->model, &sd, &f->s));
    return f->s != NULL;
}

static void close_model(fixture *f) {
    vkq_session_destroy(f->s);
    vkq_model_destroy(f->model);
}

/* Tolerance: GPU and reference logits differ by float32 summation order only (F32 weights, F16
 * cache on both sides, see test_engine.c), about 1e-6 of a logit; averaged over the scored
 * tokens that moves the mean NLL by far less than 1e-4 of itself. */
static void perplexity_matches_reference(vkq_context *ctx, const char *path_a, const char *path_b) {
    fixture a = {0}, b = {0};
    int32_t tokens[N_TOKENS];
    if (!open_model(ctx, path_a, 32, &a) || !open_model(ctx, path_b, 32, &b)) goto done;
    for (uint32_t i = 0; i < N_TOKENS; i++) tokens[i] = test_rand_int(0, (int)a.n_vocab - 1);
    int calls = 0;
    vkq_perplexity_desc pd = {.n_ctx = WINDOW, .reference = b.s, .progress = count_progress, .progress_user_data = &calls};
    vkq_perplexity_result r;
    CHECK_OK(ctx, vkq_perplexity(a.s, tokens, N_TOKENS, &pd, &r));
    CHECK(calls == 3);
    float *la = cpu_logits(a.model, tokens, 3, a.n_vocab), *lb = cpu_logits(b.model, tokens, 3, a.n_vocab);
    expected *e = calloc(1, sizeof *e);
    if (la && lb && e) {
        cpu_expected(la, lb, tokens, 3, a.n_vocab, e);
        double nll = e->nll / e->n, nll_se = sqrt((e->nll2 / e->n - nll * nll) * e->n / (e->n - 1) / e->n);
        CHECK_MSG(r.n_windows == 3 && r.n_ctx == WINDOW && r.n_scored == e->n && r.n_scored == 3 * 7,
                  "%u windows of %u, %llu scored", r.n_windows, r.n_ctx, (unsigned long long)r.n_scored);
        CHECK_MSG(close_rel(r.ppl, exp(nll), 1e-4), "ppl GPU %.8g, reference %.8g", r.ppl, exp(nll));
        CHECK_MSG(close_rel(r.nll_stderr, nll_se, 1e-3), "nll stderr GPU %.8g, reference %.8g", r.nll_stderr, nll_se);
        CHECK(close_rel(r.ppl_stderr, r.ppl * r.nll_stderr, 1e-12));
        /* A KLD of ~1e-1 between unrelated models; float32 logit noise moves it by ~1e-6. */
        double kld = e->kld / e->n, dp = e->dp / e->n, dp_rms = sqrt(e->dp2 / e->n);
        CHECK_MSG(r.has_reference && kld > 1e-3 && close_rel(r.kld_mean, kld, 1e-4), "kld GPU %.8g, reference %.8g",
                  r.kld_mean, kld);
        CHECK_MSG(close_rel(r.kld_max, e->kld_max, 1e-3), "kld max GPU %.8g, reference %.8g", r.kld_max, e->kld_max);
        CHECK(r.kld_median <= r.kld_p90 && r.kld_p90 <= r.kld_p95 && r.kld_p95 <= r.kld_p99 && r.kld_p99 <= r.kld_max);
        CHECK_MSG(fabs(r.dp_mean - dp) < 1e-6 && close_rel(r.dp_rms, dp_rms, 1e-3), "dp GPU %.8g/%.8g, reference %.8g/%.8g",
                  r.dp_mean, r.dp_rms, dp, dp_rms);
        /* A near tie between two logits could flip one argmax: allow one token. */
        CHECK_MSG(fabs(r.top1_agreement * e->n - (double)e->top1) <= 1.0, "top-1 GPU %.4f, reference %llu of %llu",
                  r.top1_agreement, (unsigned long long)e->top1, (unsigned long long)e->n);
        /* Perplexity alone (no reference) and the reference's own figures agree with it. */
        vkq_perplexity_result alone, rb;
        vkq_perplexity_desc plain = {.n_ctx = WINDOW};
        CHECK_OK(ctx, vkq_perplexity(a.s, tokens, N_TOKENS, &plain, &alone));
        CHECK(!alone.has_reference && alone.kld_mean == 0 && close_rel(alone.ppl, r.ppl, 1e-12));
        CHECK_OK(ctx, vkq_perplexity(b.s, tokens, N_TOKENS, &plain, &rb));
        CHECK_MSG(close_rel(rb.ppl, r.ref_ppl, 1e-12), "reference ppl %.8g vs %.8g", rb.ppl, r.ref_ppl);
    }
    free(la), free(lb), free(e);
done:
    close_model(&a), close_model(&b);
}

/* The same model as reference: two sessions, and the session against itself. The GPU forward
 * is deterministic, so the logits are bit-identical and the KLD is 0 up to rounding. */
static void kld_of_model_with_itself(vkq_context *ctx, const char *path) {
    fixture a = {0};
    vkq_session *twin = NULL;
    int32_t tokens[N_TOKENS];
    if (!open_model(ctx, path, 16, &a)) goto done;
    vkq_session_desc sd = {.n_ctx = 16, .n_batch = 8, .kv_type = VKQ_TYPE_F16};
    CHECK_OK(ctx, vkq_session_create(a.model, &sd, &twin));
    for (uint32_t i = 0; i < N_TOKENS; i++) tokens[i] = test_rand_int(0, (int)a.n_vocab - 1);
    vkq_session *refs[2] = {twin, a.s};
    for (int k = 0; k < 2 && twin; k++) {
        vkq_perplexity_desc pd = {.reference = refs[k]}; /* default window: the context, 16 */
        vkq_perplexity_result r;
        CHECK_OK(ctx, vkq_perplexity(a.s, tokens, N_TOKENS, &pd, &r));
        CHECK(r.n_ctx == 16 && r.n_windows == 3);
        CHECK_MSG(fabs(r.kld_mean) < 1e-6 && fabs(r.kld_max) < 1e-6 && r.top1_agreement == 1.0,
                  "self-KLD %.3g (max %.3g), top-1 %.4f", r.kld_mean, r.kld_max, r.top1_agreement);
        CHECK(fabs(r.dp_mean) < 1e-7 && r.dp_rms < 1e-7 && close_rel(r.ref_ppl, r.ppl, 1e-9));
    }
done:
    vkq_session_destroy(twin);
    close_model(&a);
}

static void argument_errors(vkq_context *ctx, const char *path, const char *path_big_vocab) {
    fixture a = {0}, big = {0};
    int32_t tokens[N_TOKENS] = {0};
    if (!open_model(ctx, path, 32, &a) || !open_model(ctx, path_big_vocab, 32, &big)) goto done;
    vkq_perplexity_result r;
    vkq_perplexity_desc pd = {.n_ctx = WINDOW};
    CHECK_STATUS(ctx, vkq_perplexity(a.s, tokens, WINDOW - 1, &pd, &r), VKQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vkq_context_last_error(ctx), "less than one window") != NULL);
    CHECK_OK(ctx, vkq_perplexity(a.s, tokens, WINDOW, &pd, &r));
    CHECK(r.n_windows == 1 && r.n_scored == 7);
    pd.reference = big.s;
    CHECK_STATUS(ctx, vkq_perplexity(a.s, tokens, N_TOKENS, &pd, &r), VKQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vkq_context_last_error(ctx), "vocabulary") != NULL);
    vkq_perplexity_desc wide = {.n_ctx = 33}, tiny = {.n_ctx = 3}, res = {.reserved[3] = 1};
    CHECK_STATUS(ctx, vkq_perplexity(a.s, tokens, N_TOKENS, &wide, &r), VKQ_ERR_LIMIT);
    CHECK_STATUS(ctx, vkq_perplexity(a.s, tokens, N_TOKENS, &tiny, &r), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_perplexity(a.s, tokens, N_TOKENS, &res, &r), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_perplexity(a.s, NULL, N_TOKENS, NULL, &r), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_perplexity(NULL, tokens, N_TOKENS, NULL, &r), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_perplexity(a.s, tokens, N_TOKENS, NULL, NULL), VKQ_ERR_INVALID_ARGUMENT);
    tokens[2] = (int32_t)a.n_vocab;
    CHECK_STATUS(ctx, vkq_perplexity(a.s, tokens, N_TOKENS, NULL, &r), VKQ_ERR_INVALID_ARGUMENT);
    tokens[2] = 0;
    vkq_perplexity_desc stop = {.n_ctx = WINDOW, .progress = cancel};
    CHECK_STATUS(ctx, vkq_perplexity(a.s, tokens, N_TOKENS, &stop, &r), VKQ_ERR_STATE);
    CHECK(strstr(vkq_context_last_error(ctx), "cancelled") != NULL);
    /* The default window is capped by the session's context (32), and by max_windows. */
    vkq_perplexity_desc capped = {.max_windows = 1};
    CHECK_OK(ctx, vkq_perplexity(a.s, tokens, N_TOKENS, &capped, &r));
    CHECK(r.n_ctx == 32 && r.n_windows == 1);
done:
    close_model(&a), close_model(&big);
}

int main(void) {
    test_init("test_analysis");
    vkq_context *ctx = test_gpu_context();
    if (ctx) {
        vkq__synth_desc da = {.n_embd = 64, .n_ff = 128, .n_layer = 2, .n_head = 2, .n_head_kv = 1, .seed = vkq_test_seed};
        vkq__synth_desc db = da, dc = da;
        db.seed = vkq_test_seed + 1;
        dc.n_vocab = 400;
        char a[256] = "", b[256] = "", c[256] = "";
        if (engine_test_write(&da, a, sizeof a) && engine_test_write(&db, b, sizeof b) && engine_test_write(&dc, c, sizeof c)) {
            perplexity_matches_reference(ctx, a, b);
            kld_of_model_with_itself(ctx, a);
            argument_errors(ctx, a, c);
        }
        unlink(a), unlink(b), unlink(c);
        test_gpu_context_destroy(ctx);
    }
    return test_finish();
}

/* vkq perplexity: how well a model predicts a text, and with --kld-base how far its next-token
 * distributions are from a reference model's (the unquantized one, say): what quantization
 * costs, in the figures llama.cpp's perplexity tool reports. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct ppl_args {
    const char *model, *text, *base, *device;
    unsigned long long n_ctx, chunks;
    vkq_type kv;
    bool json;
} ppl_args;

static void usage(FILE *f) {
    fprintf(f, "usage: vkq perplexity -m MODEL -f TEXT [options]\n\n"
               "Tokenizes the text, cuts it into windows of --ctx tokens, evaluates each from an\n"
               "empty cache and scores the second half of each window (the first half is context).\n\n"
               "  -m, --model FILE   the model (GGUF)\n"
               "  -f, --file FILE    the text (UTF-8)\n"
               "  --ctx N            window length in tokens (default 512)\n"
               "  --chunks N         evaluate at most N windows (default: all)\n"
               "  --kld-base FILE    reference model of the same vocabulary: also report the\n"
               "                     KL-divergence of the model from it, token agreement and\n"
               "                     the change in the probability of the right token\n"
               "  --kv-type T        KV cache type: f16 (default), q8_0, q4_0 (both models)\n"
               "  --device D         device index or part of its name\n"
               "  --json             one JSON object on stdout\n");
}

static int parse(int argc, char **argv, ppl_args *a) {
    *a = (ppl_args){.n_ctx = 512, .kv = VKQ_TYPE_F16};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool v = i + 1 < argc;
        if (!strcmp(o, "--json")) a->json = true;
        else if ((!strcmp(o, "-m") || !strcmp(o, "--model")) && v) a->model = argv[++i];
        else if ((!strcmp(o, "-f") || !strcmp(o, "--file")) && v) a->text = argv[++i];
        else if (!strcmp(o, "--kld-base") && v) a->base = argv[++i];
        else if (!strcmp(o, "--device") && v) a->device = argv[++i];
        else if (!strcmp(o, "--ctx") && v) { if (!cli_parse_u64(argv[++i], &a->n_ctx) || a->n_ctx < 4 || a->n_ctx > 1u << 20) return cli_usage_error("perplexity", "bad --ctx (4 or more)"); }
        else if (!strcmp(o, "--chunks") && v) { if (!cli_parse_u64(argv[++i], &a->chunks) || !a->chunks || a->chunks > 1u << 30) return cli_usage_error("perplexity", "bad --chunks"); }
        else if (!strcmp(o, "--kv-type") && v) {
            a->kv = vkq_type_from_name(argv[++i]);
            if (a->kv != VKQ_TYPE_F16 && a->kv != VKQ_TYPE_Q8_0 && a->kv != VKQ_TYPE_Q4_0) return cli_usage_error("perplexity", "bad --kv-type");
        } else return cli_usage_error("perplexity", "unknown or incomplete option '%s'", o);
    }
    if (!a->model) return cli_usage_error("perplexity", "-m MODEL is required");
    if (!a->text) return cli_usage_error("perplexity", "-f TEXT is required");
    return 0;
}

/* One line, redrawn: only for a terminal, not for logs and pipes. */
static int progress_line(const vkq_perplexity_result *r, uint32_t n_windows, void *user) {
    (void)user;
    fprintf(stderr, "\r[%u/%u] ppl %.4f +/- %.4f", r->n_windows, n_windows, r->ppl, r->ppl_stderr);
    if (r->has_reference) fprintf(stderr, "  kld %.6f", r->kld_mean);
    if (r->n_windows == n_windows) fputc('\n', stderr);
    fflush(stderr);
    return 0;
}

static void print_text(const ppl_args *a, const vkq_perplexity_result *r, size_t n_tokens) {
    printf("model: %s\ntext: %s (%zu tokens; %u windows of %u, %llu tokens scored)\n", a->model, a->text, n_tokens,
           r->n_windows, r->n_ctx, (unsigned long long)r->n_scored);
    printf("perplexity: %.4f +/- %.4f (mean NLL %.6f +/- %.6f)\n", r->ppl, r->ppl_stderr, r->nll_mean, r->nll_stderr);
    if (!r->has_reference) return;
    printf("reference: %s, perplexity %.4f +/- %.4f\n", a->base, r->ref_ppl, r->ref_ppl_stderr);
    printf("KLD: mean %.6f +/- %.6f, median %.6f, p90 %.6f, p95 %.6f, p99 %.6f, max %.6f\n", r->kld_mean,
           r->kld_stderr, r->kld_median, r->kld_p90, r->kld_p95, r->kld_p99, r->kld_max);
    printf("top-1 agreement: %.2f %%\n", 100.0 * r->top1_agreement);
    printf("delta p (test - reference, right token): mean %+.4f %%, RMS %.4f %%\n", 100.0 * r->dp_mean, 100.0 * r->dp_rms);
}

static void print_json(const ppl_args *a, const vkq_perplexity_result *r, size_t n_tokens) {
    printf("{\"model\": ");
    cli_json_string(stdout, a->model);
    printf(", \"text\": ");
    cli_json_string(stdout, a->text);
    printf(", \"kv_type\": \"%s\", \"tokens\": %zu, \"n_ctx\": %u, \"windows\": %u, \"scored\": %llu, "
           "\"nll\": %.8f, \"nll_stderr\": %.8f, \"ppl\": %.6f, \"ppl_stderr\": %.6f",
           vkq_type_name(a->kv), n_tokens, r->n_ctx, r->n_windows, (unsigned long long)r->n_scored, r->nll_mean,
           r->nll_stderr, r->ppl, r->ppl_stderr);
    if (r->has_reference) {
        printf(", \"reference\": ");
        cli_json_string(stdout, a->base);
        printf(", \"ref_ppl\": %.6f, \"ref_ppl_stderr\": %.6f, \"kld_mean\": %.8f, \"kld_stderr\": %.8f, "
               "\"kld_median\": %.8f, \"kld_p90\": %.8f, \"kld_p95\": %.8f, \"kld_p99\": %.8f, \"kld_max\": %.8f, "
               "\"top1_agreement\": %.6f, \"dp_mean\": %.8f, \"dp_rms\": %.8f",
               r->ref_ppl, r->ref_ppl_stderr, r->kld_mean, r->kld_stderr, r->kld_median, r->kld_p90, r->kld_p95,
               r->kld_p99, r->kld_max, r->top1_agreement, r->dp_mean, r->dp_rms);
    }
    printf("}\n");
}

/* Loads a model and makes a session whose context is the window. */
static vkq_status open_model(vkq_context *ctx, const char *path, const ppl_args *a, vkq_model **m, vkq_session **s) {
    vkq_model_desc md = {.path = path};
    vkq_status st = vkq_model_load(ctx, &md, m);
    vkq_session_desc sd = {.n_ctx = (uint32_t)a->n_ctx, .kv_type = a->kv};
    if (!st) st = vkq_session_create(*m, &sd, s);
    return st;
}

int cmd_perplexity(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) return usage(stdout), 0;
    ppl_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc;
    size_t len = 0, n = 0;
    char *text = cli_read_text("perplexity", a.text, &len);
    if (!text) return 1;
    vkq_context *ctx = cli_context(VKQ_DEVICE_MODE_DEFAULT, a.device, false);
    vkq_model *model = NULL, *base = NULL;
    vkq_session *s = NULL, *ref = NULL;
    int32_t *tokens = NULL;
    vkq_status st = ctx ? open_model(ctx, a.model, &a, &model, &s) : VKQ_ERR_NO_DEVICE;
    const char *what = "loading the model";
    if (!st && a.base) st = open_model(ctx, a.base, &a, &base, &ref), what = "loading the reference model";
    const vkq_tokenizer *tok = model ? vkq_model_tokenizer(model) : NULL;
    if (!st && !tok) st = VKQ_ERR_NOT_FOUND, what = "the model has no tokenizer; tokenizing";
    if (!st) st = cli_tokenize(tok, text, len, &tokens, &n), what = "tokenizing";
    vkq_perplexity_result r = {0};
    if (!st && n < a.n_ctx) {
        fprintf(stderr, "vkq perplexity: the text is %zu tokens, less than one window of %llu (try a smaller --ctx)\n", n, a.n_ctx);
        rc = 1;
    } else if (!st) {
        vkq_perplexity_desc pd = {.n_ctx = (uint32_t)a.n_ctx, .max_windows = (uint32_t)a.chunks, .reference = ref,
                                  .progress = isatty(STDERR_FILENO) ? progress_line : NULL};
        st = vkq_perplexity(s, tokens, (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n), &pd, &r), what = "perplexity";
    }
    if (ctx && st) rc = cli_fail("perplexity", ctx, st, what);
    else if (!rc && ctx) a.json ? print_json(&a, &r, n) : print_text(&a, &r, n);
    free(tokens), free(text);
    vkq_session_destroy(ref), vkq_session_destroy(s);
    vkq_model_destroy(base), vkq_model_destroy(model);
    vkq_context_destroy(ctx);
    return ctx ? rc : 1;
}

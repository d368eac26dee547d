/* vkq analyze: where quantization hurts a model, tensor by tensor and layer by layer
 * (vkq_analyze), as a JSON report for vkq-viz and as CSV. Runs on the CPU; no GPU needed. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FORMATS 64
#define MAX_OVERRIDES 64

typedef struct an_args {
    const char *model, *text, *json, *csv;
    const char *formats[MAX_FORMATS];
    uint32_t n_formats;
    const char *overrides[MAX_OVERRIDES];
    uint32_t n_overrides;
    char *format_list; /* owns the strings in formats */
    unsigned long long tokens, threads;
    bool weighted, verbose, tokens_given;
} an_args;

static void usage(FILE *f) {
    fprintf(f, "usage: vkq analyze -m MODEL --formats F1,F2,... [-f TEXT] [options]\n\n"
               "Quantizes every weight matrix of the model into each format with vkq's own quantizer\n"
               "and measures the error against the model as it is (dequantized, when it is\n"
               "quantized already): per matrix RMSE, relative L2, SQNR, max abs, cosine, the\n"
               "fraction of clipped weights, bytes and bits per weight. With a text, also runs the\n"
               "CPU reference forward pass on its first --tokens tokens: the hidden state after each\n"
               "layer against the source model's, with every layer quantized (accumulated) and with\n"
               "each layer alone quantized on the source's input (isolated); the KL-divergence and\n"
               "top-1 agreement of the final logits; importance-weighted matrix errors. Runs on the\n"
               "CPU, no GPU needed. Report formats: docs/ANALYSIS.md.\n\n"
               "  -m, --model FILE     the source model (GGUF)\n"
               "  --formats LIST       comma-separated formats: types as spelled in lower case\n"
               "                       (q8_0, q4_k, q4_0, q2_k, f16, ...) or presets as vkq quantize\n"
               "                       names them (Q4_K_M, Q4_0, Q8_0, ...; the preset Q4_0 keeps\n"
               "                       the output projection in q6_k, the type q4_0 does not)\n"
               "  -f, --file FILE      calibration text (UTF-8); without it, weight space only\n"
               "  --tokens N           use the first N tokens of the text (default 128; the pass\n"
               "                       costs about N x model size on the CPU for each format)\n"
               "  -o, --output FILE    write the JSON report (read by vkq-viz)\n"
               "  --csv FILE           write the CSV report\n"
               "  --override PAT=TYPE  matrices whose name matches the glob PAT get TYPE in every\n"
               "                       format (repeatable; the last match wins)\n"
               "  --use-importance     quantize each matrix weighting its error with the importance\n"
               "                       measured on the text (as vkq quantize --imatrix does)\n"
               "  --threads N          CPU threads (default: all)\n"
               "  -v, --verbose        log what the library does\n\n"
               "A summary (per format: size, mean matrix error; with a text: KLD, top-1, the last\n"
               "layer's accumulated error) is printed on stdout.\n");
}

static int split_formats(an_args *a, const char *list) {
    free(a->format_list);
    a->format_list = malloc(strlen(list) + 1);
    if (!a->format_list) return cli_usage_error("analyze", "out of memory");
    strcpy(a->format_list, list);
    a->n_formats = 0;
    for (char *save = NULL, *tok = strtok_r(a->format_list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (a->n_formats == MAX_FORMATS) return cli_usage_error("analyze", "more than %d formats", MAX_FORMATS);
        a->formats[a->n_formats++] = tok;
    }
    return a->n_formats ? 0 : cli_usage_error("analyze", "--formats is empty");
}

static int parse(int argc, char **argv, an_args *a) {
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool v = i + 1 < argc;
        int rc = 0;
        if (!strcmp(o, "--use-importance")) a->weighted = true;
        else if (!strcmp(o, "-v") || !strcmp(o, "--verbose")) a->verbose = true;
        else if ((!strcmp(o, "-m") || !strcmp(o, "--model")) && v) a->model = argv[++i];
        else if ((!strcmp(o, "-f") || !strcmp(o, "--file")) && v) a->text = argv[++i];
        else if ((!strcmp(o, "-o") || !strcmp(o, "--output")) && v) a->json = argv[++i];
        else if (!strcmp(o, "--csv") && v) a->csv = argv[++i];
        else if (!strcmp(o, "--formats") && v) rc = split_formats(a, argv[++i]);
        else if (!strcmp(o, "--override") && v) {
            if (a->n_overrides == MAX_OVERRIDES) return cli_usage_error("analyze", "too many --override");
            a->overrides[a->n_overrides++] = argv[++i];
        } else if (!strcmp(o, "--tokens") && v) {
            if (!cli_parse_u64(argv[++i], &a->tokens) || !a->tokens || a->tokens > 65536) {
                return cli_usage_error("analyze", "bad --tokens (1 to 65536)");
            }
            a->tokens_given = true;
        } else if (!strcmp(o, "--threads") && v) {
            if (!cli_parse_u64(argv[++i], &a->threads) || !a->threads || a->threads > 256) {
                return cli_usage_error("analyze", "bad --threads");
            }
        } else return cli_usage_error("analyze", "unknown or incomplete option '%s'", o);
        if (rc) return rc;
    }
    if (!a->model) return cli_usage_error("analyze", "-m MODEL is required");
    if (!a->n_formats) return cli_usage_error("analyze", "--formats is required");
    /* Both act on the activation pass, which needs a text. */
    if (!a->text && (a->weighted || a->tokens_given)) {
        return cli_usage_error("analyze", "%s needs a calibration text (-f)", a->weighted ? "--use-importance" : "--tokens");
    }
    return 0;
}

/* The first `want` tokens of the text, with BOS when the model's file asks for it. *printed: the
 * text could not be read, and cli_read_text said so. */
static vkq_status tokenize(vkq_context *ctx, const char *model, const char *path, size_t want, int32_t **tokens,
                           size_t *n, bool *printed) {
    size_t len = 0;
    char *text = cli_read_text("analyze", path, &len);
    *printed = !text;
    if (!text) return VKQ_ERR_IO;
    vkq_gguf *g = NULL;
    vkq_tokenizer *tok = NULL;
    vkq_status st = vkq_gguf_open(ctx, model, &g);
    if (!st) st = vkq_tokenizer_load(ctx, g, &tok);
    if (!st) st = cli_tokenize(tok, text, len, tokens, n);
    if (!st && *n > want) *n = want;
    vkq_tokenizer_destroy(tok);
    vkq_gguf_close(g);
    free(text);
    return st;
}

static int progress_line(float fraction, void *user) {
    (void)user;
    fprintf(stderr, "\ranalyzing: %5.1f %%", 100.0 * fraction);
    if (fraction >= 1.0f) fputc('\n', stderr);
    fflush(stderr);
    return 0;
}

static void print_summary(const vkq_analysis_report *r) {
    printf("model: %s (%s, %u layers, %llu parameters, %llu bytes)\n", r->model_path, r->name[0] ? r->name : "?",
           r->n_layer, (unsigned long long)r->n_params, (unsigned long long)r->source_bytes);
    if (r->n_tokens) printf("calibration: %u tokens\n", r->n_tokens);
    printf("%-10s %12s %7s %9s %8s", "format", "bytes", "bpw", "rel_l2", "clipped");
    if (r->n_tokens) printf(" %9s %8s %6s %9s %9s", "kld", "+/-", "top1", "last_cos", "last_sqnr");
    printf("  worst matrix (rel_l2)\n");
    for (uint32_t f = 0; f < r->n_formats; f++) {
        const vkq_analysis_format *af = &r->formats[f];
        /* Means over the matrices, weighted by their elements; and the worst one. */
        double rel = 0, clip = 0, n = 0;
        const vkq_analysis_tensor *worst = NULL;
        for (uint64_t i = 0; i < r->n_tensors; i++) {
            const vkq_analysis_tensor *t = &r->tensors[i];
            double e = (double)t->elements;
            rel += e * t->formats[f].rel_l2, clip += e * t->formats[f].clipped_fraction, n += e;
            if (!worst || t->formats[f].rel_l2 > worst->formats[f].rel_l2) worst = t;
        }
        n = n > 0 ? n : 1;
        printf("%-10s %12llu %7.3f %9.5f %8.5f", af->name, (unsigned long long)af->bytes, af->bpw, rel / n, clip / n);
        if (r->n_tokens && r->n_layer) {
            const vkq_analysis_layer_metrics *last = &af->accumulated[r->n_layer - 1];
            printf(" %9.5f %8.5f %6.3f %9.5f %9.2f", af->kld_mean, af->kld_stderr, af->top1, last->cosine, last->sqnr_db);
        }
        if (worst) printf("  %s (%s, %.4f)", worst->name, vkq_type_name(worst->formats[f].type), worst->formats[f].rel_l2);
        printf("\n");
    }
    printf("rel_l2, clipped: means over the weight matrices weighted by their sizes%s\n",
           r->n_tokens ? "; kld, top1: final logits against the source; last_*: hidden state after the last "
                         "layer, every layer quantized" : "");
    printf("time: %.1f s on %u threads\n", r->seconds, r->threads);
}

int cmd_analyze(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) return usage(stdout), 0;
    an_args a = {.tokens = 128};
    int rc = parse(argc, argv, &a);
    if (rc) return free(a.format_list), rc;
    vkq_context *ctx = cli_context(VKQ_DEVICE_MODE_NONE, NULL, a.verbose);
    if (!ctx) return free(a.format_list), 1;
    int32_t *tokens = NULL;
    size_t n = 0;
    vkq_status st = VKQ_OK;
    const char *what = "tokenizing the text";
    bool printed = false;
    if (a.text) st = tokenize(ctx, a.model, a.text, (size_t)a.tokens, &tokens, &n, &printed);
    if (!st && a.text && n == 0) {
        fprintf(stderr, "vkq analyze: the text %s has no tokens\n", a.text);
        rc = 1;
    }
    vkq_analysis_report r = {0};
    if (!st && !rc) {
        vkq_analysis_desc d = {.model_path = a.model, .formats = a.formats, .n_formats = a.n_formats,
                               .overrides = a.overrides, .n_overrides = a.n_overrides, .tokens = tokens,
                               .n_tokens = (uint32_t)n, .quantize_with_importance = a.weighted,
                               .threads = (uint32_t)a.threads,
                               .progress = isatty(STDERR_FILENO) && !a.verbose ? progress_line : NULL};
        st = vkq_analyze(ctx, &d, &r), what = "analysis";
    }
    if (!st && !rc && a.json) st = vkq_analysis_write_json(ctx, &r, a.text, a.json), what = "writing the JSON report";
    if (!st && !rc && a.csv) st = vkq_analysis_write_csv(ctx, &r, a.csv), what = "writing the CSV report";
    if (st) rc = printed ? 1 : cli_fail("analyze", ctx, st, what);
    else if (!rc) print_summary(&r);
    vkq_analysis_report_free(&r);
    free(tokens), free(a.format_list);
    vkq_context_destroy(ctx);
    return rc;
}

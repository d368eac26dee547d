/* vkq quantize IN.gguf OUT.gguf TYPE|PRESET (or --target-bpw B / --target-size S): writes a
 * copy of a model with its weight matrices in other block formats, then a table of what each
 * tensor became and its reconstruction error. Public API only; opens no Vulkan device. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OVERRIDES 256

static void usage(FILE *f) {
    fprintf(f,
            "usage: vkq quantize IN.gguf OUT.gguf TYPE|PRESET [options]\n"
            "       vkq quantize IN.gguf OUT.gguf --target-bpw B | --target-size S [options]\n\n"
            "Quantizes the weight matrices of IN into OUT (written whole or not at all); norms\n"
            "and biases stay f32, metadata is copied. Input weights may be f32, f16 or bf16;\n"
            "quantized ones are dequantized first (with a warning).\n\n"
            "  TYPE    every weight matrix in one format: q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k\n"
            "          q4_k q5_k q6_k iq4_nl iq4_xs f16 bf16 f32 (prefix with type: to mean the\n"
            "          type where a preset has the same name, as in type:q4_0)\n"
            "  PRESET  a mix by tensor role: Q4_0 Q8_0 Q6_K Q4_K_S Q4_K_M Q5_K_M Q3_K_M Q2_K\n"
            "          IQ4_XS (rules in docs/FORMATS.md)\n\n"
            "  --target-bpw B           instead of TYPE|PRESET, a size budget: B bits per\n"
            "                           weight (8 x tensor bytes / all weights). Each matrix\n"
            "                           is quantized in every candidate format (q2_k..q6_k,\n"
            "                           q8_0; q4_0 q5_0 q8_0 for rows not a multiple of 256)\n"
            "                           to measure its error, then gets the format that meets\n"
            "                           the budget with the least total error (--imatrix\n"
            "                           weights it)\n"
            "  --target-size S          the same for a file of at most S bytes (suffix K, M,\n"
            "                           G: 2^10, 2^20, 2^30)\n"
            "  --override PATTERN=TYPE  tensors whose name matches the glob get TYPE, e.g.\n"
            "                           'blk.*.ffn_down.weight=q6_k'; repeatable, last match wins\n"
            "  --imatrix FILE           importance file: a GGUF with an f32 tensor\n"
            "                           '<weight name>.importance' per matrix (mean x^2 per column)\n"
            "  --threads N              worker threads (default: one per CPU)\n"
            "  --json                   the report as one JSON object on stdout\n"
            "  -v, --verbose            log fallbacks and other details to stderr\n"
            "  -h, --help               this text\n");
}

static int progress_bar(float fraction, void *user_data) {
    (void)user_data;
    int width = 40, filled = (int)(fraction * (float)width + 0.5f);
    fprintf(stderr, "\r[%.*s%*s] %5.1f%%", filled, "========================================",
            width - filled, "", 100.0 * fraction);
    if (fraction >= 1.0f) fputc('\n', stderr);
    fflush(stderr);
    return 0;
}

static void log_stderr(vkq_log_level level, const char *message, void *user_data) {
    (void)user_data;
    if (level == VKQ_LOG_ERROR) return; /* the failure is printed once, by cli_fail */
    fprintf(stderr, "\rvkq: %s%s\n", level == VKQ_LOG_WARN ? "warning: " : "", message);
}

static void shape(char *buf, size_t size, const vkq_quantize_tensor_report *t) {
    int n = snprintf(buf, size, "%llu", (unsigned long long)t->ne[0]);
    for (uint32_t d = 1; d < t->n_dims && n > 0 && (size_t)n < size; d++) {
        n += snprintf(buf + n, size - (size_t)n, "x%llu", (unsigned long long)t->ne[d]);
    }
}

static void json_number(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f); /* exact reconstruction: infinite SQNR */
}

static void print_json(const vkq_quantize_report *r, const char *in, const char *out,
                       const vkq_quantize_desc *d) {
    printf("{\"input\": ");
    cli_json_string(stdout, in);
    printf(", \"output\": ");
    cli_json_string(stdout, out);
    if (d->target) {
        printf(", \"target\": ");
        cli_json_string(stdout, d->target);
    } else if (d->type) {
        printf(", \"target\": \"type:%s\"", vkq_type_name(d->type));
    }
    if (d->target_bpw) printf(", \"target_bpw\": %.6g", d->target_bpw);
    if (d->target_size) printf(", \"target_size\": %llu", (unsigned long long)d->target_size);
    if (r->budget_bytes) printf(", \"budget_bytes\": %llu", (unsigned long long)r->budget_bytes);
    printf(", \"error_energy\": %.6g", r->error_energy);
    printf(", \"file_type\": %u, \"elements\": %llu, \"input_bytes\": %llu, \"output_bytes\": %llu,"
           " \"output_file_size\": %llu, \"bits_per_weight\": %.4f, \"fallbacks\": %u,"
           " \"dequantized\": %u, \"threads\": %u, \"seconds\": %.3f, \"tensors\": [",
           r->file_type, (unsigned long long)r->elements, (unsigned long long)r->input_bytes,
           (unsigned long long)r->output_bytes, (unsigned long long)r->output_file_size,
           r->bits_per_weight, r->n_fallbacks, r->n_dequantized, r->threads, r->seconds);
    for (uint64_t i = 0; i < r->n_tensors; i++) {
        const vkq_quantize_tensor_report *t = &r->tensors[i];
        printf("%s\n  {\"name\": ", i ? "," : "");
        cli_json_string(stdout, t->name);
        printf(", \"shape\": [");
        for (uint32_t d = 0; d < t->n_dims; d++) {
            printf("%s%llu", d ? ", " : "", (unsigned long long)t->ne[d]);
        }
        printf("], \"input_type\": \"%s\", \"wanted_type\": \"%s\", \"type\": \"%s\", "
               "\"fallback\": %s, \"quantized\": %s, \"bytes\": %llu, \"rel_l2\": ",
               vkq_type_name(t->input_type), vkq_type_name(t->wanted_type), vkq_type_name(t->type),
               t->fallback ? "true" : "false", t->quantized ? "true" : "false",
               (unsigned long long)t->bytes);
        json_number(stdout, t->rel_l2);
        printf(", \"sqnr_db\": ");
        json_number(stdout, t->sqnr_db);
        if (t->has_importance) {
            printf(", \"weighted_rel_l2\": ");
            json_number(stdout, t->weighted_rel_l2);
            printf(", \"weighted_sqnr_db\": ");
            json_number(stdout, t->weighted_sqnr_db);
        }
        printf("}");
    }
    printf("\n]}\n");
}

static void print_text(const vkq_quantize_report *r, const vkq_quantize_desc *d) {
    bool importance = d->importance_path != NULL;
    printf("%-28s %-14s %-7s %-7s %12s %10s %9s%s\n", "tensor", "shape", "from", "to", "bytes",
           "rel_l2", "sqnr_dB", importance ? "  w_sqnr_dB" : "");
    for (uint64_t i = 0; i < r->n_tensors; i++) {
        const vkq_quantize_tensor_report *t = &r->tensors[i];
        char sh[64];
        shape(sh, sizeof sh, t);
        printf("%-28s %-14s %-7s %-7s %12llu %10.3e %9.2f", t->name, sh,
               vkq_type_name(t->input_type), vkq_type_name(t->type), (unsigned long long)t->bytes,
               t->rel_l2, t->sqnr_db);
        if (t->has_importance) printf("  %9.2f", t->weighted_sqnr_db);
        if (t->fallback) printf("  (fallback from %s)", vkq_type_name(t->wanted_type));
        putchar('\n');
    }
    printf("\n%llu tensors, %llu weights: %.1f MiB -> %.1f MiB of tensor data, %.3f bits/weight;"
           " file %llu bytes, general.file_type %u\n",
           (unsigned long long)r->n_tensors, (unsigned long long)r->elements,
           (double)r->input_bytes / 1048576.0, (double)r->output_bytes / 1048576.0,
           r->bits_per_weight, (unsigned long long)r->output_file_size, r->file_type);
    printf("%u fallback(s), %u tensor(s) dequantized first, %u thread(s), %.2f s\n",
           r->n_fallbacks, r->n_dequantized, r->threads, r->seconds);
    if (d->target_bpw) {
        printf("budget %.4g bits/weight (%llu bytes of tensor data): achieved %.4f bits/weight "
               "(%llu bytes), total squared error %.6g\n", d->target_bpw,
               (unsigned long long)r->budget_bytes, r->bits_per_weight,
               (unsigned long long)r->output_bytes, r->error_energy);
    } else if (d->target_size) {
        printf("budget %llu bytes of file (%llu of tensor data): achieved %llu bytes of file, "
               "%.4f bits/weight, total squared error %.6g\n",
               (unsigned long long)d->target_size, (unsigned long long)r->budget_bytes,
               (unsigned long long)r->output_file_size, r->bits_per_weight, r->error_energy);
    }
}

/* "123", "4.5G", "700M", "64K" (binary multiples); false on anything else or overflow. */
static bool parse_size(const char *s, unsigned long long *out) {
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || !(v > 0)) return false;
    double mult = 1;
    switch (*end) {
    case 'k': case 'K': mult = 1024.0, end++; break;
    case 'm': case 'M': mult = 1048576.0, end++; break;
    case 'g': case 'G': mult = 1073741824.0, end++; break;
    default: break;
    }
    if (mult > 1 && end[0] == 'i' && end[1] == 'B') end += 2;
    else if (end[0] == 'B') end++;
    if (*end || v * mult >= 1.8e19) return false;
    *out = (unsigned long long)(v * mult);
    return *out > 0;
}

int cmd_quantize(int argc, char **argv) {
    const char *pos[3] = {0}, *imatrix = NULL;
    const char *overrides[MAX_OVERRIDES];
    uint32_t n_pos = 0, n_overrides = 0, threads = 0;
    double target_bpw = 0;
    unsigned long long target_size = 0;
    bool json = false, verbose = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout), 0;
        if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbose = true;
        } else if (!strcmp(a, "--override") && i + 1 < argc) {
            if (n_overrides == MAX_OVERRIDES) {
                return cli_usage_error("quantize", "more than %d overrides", MAX_OVERRIDES);
            }
            overrides[n_overrides++] = argv[++i];
        } else if (!strcmp(a, "--target-bpw") && i + 1 < argc) {
            char *end = NULL;
            target_bpw = strtod(argv[++i], &end);
            if (end == argv[i] || *end || !(target_bpw > 0 && target_bpw <= 64)) {
                return cli_usage_error("quantize", "bad bits per weight '%s' (want 0 < B <= 64)",
                                       argv[i]);
            }
        } else if (!strcmp(a, "--target-size") && i + 1 < argc) {
            if (!parse_size(argv[++i], &target_size)) {
                return cli_usage_error("quantize", "bad size '%s' (bytes, or with K, M, G)",
                                       argv[i]);
            }
        } else if (!strcmp(a, "--imatrix") && i + 1 < argc) {
            imatrix = argv[++i];
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            unsigned long long n;
            if (!cli_parse_u64(argv[++i], &n) || n == 0 || n > 1024) {
                return cli_usage_error("quantize", "bad thread count '%s'", argv[i]);
            }
            threads = (uint32_t)n;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("quantize", "unknown or incomplete option '%s'", a);
        } else if (n_pos < 3) {
            pos[n_pos++] = a;
        } else {
            return cli_usage_error("quantize", "unexpected argument '%s'", a);
        }
    }
    bool budget = target_bpw != 0 || target_size != 0;
    if (n_pos != 3 && !(budget && n_pos == 2)) {
        return cli_usage_error("quantize", "needs IN.gguf OUT.gguf and TYPE|PRESET, "
                               "--target-bpw or --target-size");
    }

    /* A target and a budget together reach the library, which says why it refuses them. */
    vkq_quantize_desc desc = {.input_path = pos[0], .output_path = pos[1], .target = pos[2],
                              .overrides = overrides, .n_overrides = n_overrides,
                              .importance_path = imatrix, .threads = threads,
                              .target_bpw = target_bpw, .target_size = target_size};
    if (pos[2] && !strncmp(pos[2], "type:", 5)) {
        desc.target = NULL;
        desc.type = vkq_type_from_name(pos[2] + 5);
        if (desc.type == VKQ_TYPE_NONE) {
            return cli_usage_error("quantize", "unknown type '%s'", pos[2] + 5);
        }
    }
    if (isatty(fileno(stderr)) && !verbose) desc.progress = progress_bar;

    /* Warnings (dequantize-first, missing importance) always reach stderr. */
    vkq_context_desc cd = {.mode = VKQ_DEVICE_MODE_NONE, .log = log_stderr,
                           .log_level = verbose ? VKQ_LOG_INFO : VKQ_LOG_WARN};
    vkq_context *ctx = NULL;
    if (vkq_context_create(&cd, &ctx) != VKQ_OK) {
        fprintf(stderr, "vkq quantize: %s\n", vkq_context_last_error(ctx));
        vkq_context_destroy(ctx);
        return 1;
    }
    vkq_quantize_report r;
    vkq_status st = vkq_model_quantize(ctx, &desc, &r);
    int rc = 0;
    if (st) {
        if (desc.progress) fputc('\n', stderr);
        rc = cli_fail("quantize", ctx, st, pos[1]);
    } else if (json) {
        print_json(&r, pos[0], pos[1], &desc);
    } else {
        print_text(&r, &desc);
    }
    vkq_quantize_report_free(&r);
    vkq_context_destroy(ctx);
    return rc;
}

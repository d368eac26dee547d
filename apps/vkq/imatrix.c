/* vkq imatrix: an importance matrix from calibration text — the mean x^2 of each input column
 * of every weight matrix, collected on the GPU while the model reads the text — for
 * `vkq quantize --imatrix`, which weights each column's quantization error by it. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct imatrix_args {
    const char *model, *text, *out, *device;
    unsigned long long n_ctx, chunks;
} imatrix_args;

static void usage(FILE *f) {
    fprintf(f, "usage: vkq imatrix -m MODEL -f TEXT -o FILE [options]\n\n"
               "Runs the model over the text in windows of --ctx tokens (each from an empty cache)\n"
               "and writes, for every weight matrix, the mean over all tokens of x^2 of each of its\n"
               "input columns: a GGUF file of F32 tensors '<weight name>.importance', the input of\n"
               "vkq quantize --imatrix. Use text like what the model will see; a few thousand\n"
               "tokens are enough for a stable estimate.\n\n"
               "  -m, --model FILE   the model (GGUF)\n"
               "  -f, --file FILE    calibration text (UTF-8)\n"
               "  -o, --output FILE  where to write the importance file\n"
               "  --ctx N            window length in tokens (default 512)\n"
               "  --chunks N         read at most N windows (default: all)\n"
               "  --device D         device index or part of its name\n");
}

static int parse(int argc, char **argv, imatrix_args *a) {
    *a = (imatrix_args){.n_ctx = 512};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool v = i + 1 < argc;
        if ((!strcmp(o, "-m") || !strcmp(o, "--model")) && v) a->model = argv[++i];
        else if ((!strcmp(o, "-f") || !strcmp(o, "--file")) && v) a->text = argv[++i];
        else if ((!strcmp(o, "-o") || !strcmp(o, "--output")) && v) a->out = argv[++i];
        else if (!strcmp(o, "--device") && v) a->device = argv[++i];
        else if (!strcmp(o, "--ctx") && v) {
            if (!cli_parse_u64(argv[++i], &a->n_ctx) || a->n_ctx < 1 || a->n_ctx > 1u << 20) {
                return cli_usage_error("imatrix", "bad --ctx");
            }
        } else if (!strcmp(o, "--chunks") && v) {
            if (!cli_parse_u64(argv[++i], &a->chunks) || !a->chunks || a->chunks > 1u << 30) {
                return cli_usage_error("imatrix", "bad --chunks");
            }
        } else {
            return cli_usage_error("imatrix", "unknown or incomplete option '%s'", o);
        }
    }
    if (!a->model) return cli_usage_error("imatrix", "-m MODEL is required");
    if (!a->text) return cli_usage_error("imatrix", "-f TEXT is required");
    if (!a->out) return cli_usage_error("imatrix", "-o FILE is required");
    return 0;
}

/* Evaluates the windows; the last, shorter one too (every token of the text counts). */
static vkq_status collect(vkq_session *s, const int32_t *tokens, size_t n, const imatrix_args *a, size_t *used) {
    size_t windows = (n + a->n_ctx - 1) / a->n_ctx;
    if (a->chunks && windows > a->chunks) windows = a->chunks;
    bool tty = isatty(STDERR_FILENO);
    *used = 0;
    for (size_t w = 0; w < windows; w++) {
        size_t first = w * a->n_ctx, count = n - first < a->n_ctx ? n - first : a->n_ctx;
        vkq_status st = vkq_session_reset(s);
        if (!st) st = vkq_session_eval(s, tokens + first, (uint32_t)count, NULL);
        if (st) return st;
        *used += count;
        if (tty) fprintf(stderr, "\r[%zu/%zu] %zu tokens", w + 1, windows, *used);
    }
    if (tty) fputc('\n', stderr);
    return VKQ_OK;
}

int cmd_imatrix(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) return usage(stdout), 0;
    imatrix_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc;
    size_t len = 0, n = 0, used = 0;
    char *text = cli_read_text("imatrix", a.text, &len);
    if (!text) return 1;
    vkq_context *ctx = cli_context(VKQ_DEVICE_MODE_DEFAULT, a.device, false);
    if (!ctx) return free(text), 1;
    vkq_model *model = NULL;
    vkq_session *s = NULL;
    int32_t *tokens = NULL;
    vkq_model_desc md = {.path = a.model};
    vkq_status st = vkq_model_load(ctx, &md, &model);
    const char *what = "loading the model";
    const vkq_tokenizer *tok = model ? vkq_model_tokenizer(model) : NULL;
    if (!st && !tok) {
        fprintf(stderr, "vkq imatrix: %s has no tokenizer\n", a.model);
        rc = 1;
    }
    if (!st && !rc) st = cli_tokenize(tok, text, len, &tokens, &n), what = "tokenizing";
    if (!st && !rc && n == 0) {
        fprintf(stderr, "vkq imatrix: %s holds no tokens\n", a.text);
        rc = 1;
    }
    if (!st && !rc) {
        vkq_session_desc sd = {.n_ctx = (uint32_t)a.n_ctx, .collect_importance = 1};
        st = vkq_session_create(model, &sd, &s), what = "creating the session";
    }
    if (!st && !rc) st = collect(s, tokens, n, &a, &used), what = "evaluating the text";
    if (!st && !rc) st = vkq_session_save_importance(s, a.out), what = "writing the importance file";
    if (st) {
        rc = cli_fail("imatrix", ctx, st, what);
    } else if (!rc) {
        printf("importance of %s from %zu tokens of %s (windows of %llu) written to %s\n", a.model, used, a.text,
               a.n_ctx, a.out);
    }
    free(tokens), free(text);
    vkq_session_destroy(s);
    vkq_model_destroy(model);
    vkq_context_destroy(ctx);
    return rc;
}

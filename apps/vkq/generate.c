#include "generate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *gen_options_help =
    "  -m, --model PATH   GGUF model (default: $VKQ_MODEL, else the SmolLM2 test model in the\n"
    "                     cache that scripts/fetch_model.sh fills)\n"
    "  -n N               tokens to generate (default 128)\n"
    "  --ctx N            context size in tokens (default: min(training context, 4096))\n"
    "  --kv-type T        KV cache type: f16 (default), q8_0, q4_0\n"
    "  --temp T           temperature; 0 = greedy (default 0.7)\n"
    "  --top-k K          keep the K most likely tokens (default 40; 0 = off)\n"
    "  --top-p P          nucleus sampling (default 0.95; 1 = off)\n"
    "  --min-p P          drop tokens below P x the top probability (default 0.05; 0 = off)\n"
    "  --repeat-penalty R penalty for recently seen tokens (default 1.1; 1 = off)\n"
    "  --seed S           sampling seed (default 1)\n"
    "  --device D         device index or name substring (default: the best device)\n"
    "  -v, --verbose      log what the library does\n";

double gen_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void gen_defaults(gen_options *o) {
    memset(o, 0, sizeof *o);
    o->n_predict = 128;
    o->sampler = (vkq_sampler_desc){.temperature = 0.7f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                                    .repeat_penalty = 1.1f, .repeat_last_n = 64, .seed = 1};
}

static bool parse_float(const char *s, float *out) {
    char *end = NULL;
    *out = strtof(s, &end);
    return end != s && *end == '\0';
}

int gen_parse_option(const char *cmd, int argc, char **argv, int *i, gen_options *o) {
    const char *a = argv[*i];
    if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) return o->verbose = true, 1;
    static const char *const with_value[] = {"-m", "--model", "-n", "--ctx", "--kv-type", "--temp", "--top-k",
                                             "--top-p", "--min-p", "--repeat-penalty", "--seed", "--device"};
    bool known = false;
    for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++) known |= !strcmp(a, with_value[k]);
    if (!known) return 0;
    if (*i + 1 >= argc) return cli_usage_error(cmd, "%s needs a value", a), -1;
    const char *v = argv[++*i];
    unsigned long long u = 0;
    float f = 0;
    bool ok = true;
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) o->model = v;
    else if (!strcmp(a, "--device")) o->device = v;
    else if (!strcmp(a, "-n")) ok = cli_parse_u64(v, &u) && u <= 1000000, o->n_predict = (uint32_t)u;
    else if (!strcmp(a, "--ctx")) ok = cli_parse_u64(v, &u) && u <= (1u << 24), o->n_ctx = (uint32_t)u;
    else if (!strcmp(a, "--top-k")) ok = cli_parse_u64(v, &u) && u <= (1u << 24), o->sampler.top_k = (uint32_t)u;
    else if (!strcmp(a, "--seed")) ok = cli_parse_u64(v, &u), o->sampler.seed = u;
    else if (!strcmp(a, "--kv-type")) {
        o->kv_type = vkq_type_from_name(v);
        ok = o->kv_type == VKQ_TYPE_F16 || o->kv_type == VKQ_TYPE_Q8_0 || o->kv_type == VKQ_TYPE_Q4_0;
    } else {
        ok = parse_float(v, &f) && f >= 0;
        if (!strcmp(a, "--temp")) o->sampler.temperature = f;
        else if (!strcmp(a, "--top-p")) o->sampler.top_p = f;
        else if (!strcmp(a, "--min-p")) o->sampler.min_p = f, ok = ok && f <= 1;
        else o->sampler.repeat_penalty = f;
    }
    if (!ok) return cli_usage_error(cmd, "bad value '%s' for %s", v, a), -1;
    return 1;
}

static int progress_bar(float fraction, void *user) {
    int *last = user;
    int pct = (int)(fraction * 100);
    if (pct != *last) {
        *last = pct;
        int bars = pct / 4;
        fprintf(stderr, "\rloading [%.*s%*s] %3d%%", bars, "=========================", 25 - bars, "", pct);
        if (pct == 100) fputc('\n', stderr);
    }
    return 0;
}

static const char *default_model(void) {
    static char path[4096];
    const char *env = getenv("VKQ_MODEL");
    if (env && *env) return env;
    const char *cache = getenv("VKQ_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (cache && *cache) snprintf(path, sizeof path, "%s/models/SmolLM2-135M-Instruct.Q4_1.gguf", cache);
    else if (xdg && *xdg) snprintf(path, sizeof path, "%s/vkq/models/SmolLM2-135M-Instruct.Q4_1.gguf", xdg);
    else snprintf(path, sizeof path, "%s/.cache/vkq/models/SmolLM2-135M-Instruct.Q4_1.gguf", home ? home : ".");
    return path;
}

int gen_open(const char *cmd, const gen_options *o, vkq_context **ctx, vkq_model **model, vkq_session **session) {
    *model = NULL, *session = NULL;
    *ctx = cli_context(VKQ_DEVICE_MODE_DEFAULT, o->device, o->verbose);
    if (!*ctx) return 1;
    int last = -1;
    /* The bar redraws one line: only for a terminal, not for logs and pipes. */
    vkq_model_desc md = {.path = o->model ? o->model : default_model(),
                         .progress = isatty(STDERR_FILENO) ? progress_bar : NULL, .progress_user_data = &last};
    vkq_status st = vkq_model_load(*ctx, &md, model);
    if (st) {
        if (last >= 0 && last < 100) fputc('\n', stderr);
        if (!o->model && st == VKQ_ERR_NOT_FOUND) {
            fprintf(stderr, "vkq %s: no model given and the default model is not in the cache\n"
                    "(fetch it with scripts/fetch_model.sh, or pass -m MODEL.gguf)\n", cmd);
        }
        return cli_fail(cmd, *ctx, st, "loading the model");
    }
    if (!vkq_model_tokenizer(*model)) {
        fprintf(stderr, "vkq %s: %s has no tokenizer (tokenizer.ggml.* keys)\n", cmd, md.path);
        return 1;
    }
    vkq_session_desc sd = {.n_ctx = o->n_ctx, .kv_type = o->kv_type};
    st = vkq_session_create(*model, &sd, session);
    if (st) return cli_fail(cmd, *ctx, st, "creating the session");
    return 0;
}

void gen_close(vkq_context *ctx, vkq_model *model, vkq_session *session) {
    vkq_session_destroy(session);
    vkq_model_destroy(model);
    vkq_context_destroy(ctx);
}

static bool push_history(int32_t **h, uint32_t *n, uint32_t *cap, int32_t t) {
    if (*n == *cap) {
        uint32_t c = *cap ? *cap * 2 : 256;
        int32_t *bigger = realloc(*h, c * sizeof *bigger);
        if (!bigger) return false;
        *h = bigger, *cap = c;
    }
    (*h)[(*n)++] = t;
    return true;
}

vkq_status gen_run(vkq_context *ctx, vkq_model *model, vkq_session *s, const gen_options *o, const int32_t *prompt,
                   uint32_t n, int32_t **history, uint32_t *n_history, uint32_t *cap, gen_stats *stats) {
    memset(stats, 0, sizeof *stats);
    double t0 = gen_now();
    vkq_status st = vkq_session_eval(s, prompt, n, NULL);
    if (st) return st;
    stats->prompt_tokens = n;
    stats->prompt_seconds = gen_now() - t0;
    for (uint32_t i = 0; i < n; i++) push_history(history, n_history, cap, prompt[i]);
    const vkq_tokenizer *tok = vkq_model_tokenizer(model);
    vkq_detokenizer *detok = NULL;
    if ((st = vkq_detokenizer_create(tok, 0, &detok))) return st;
    char piece[256];
    size_t len = 0;
    t0 = gen_now();
    for (uint32_t i = 0; i < o->n_predict; i++) {
        int32_t tok_id;
        if ((st = vkq_session_sample(s, &o->sampler, *history, *n_history, &tok_id))) break;
        if (vkq_tokenizer_is_end_of_turn(tok, tok_id)) break;
        if (vkq_session_position(s) >= vkq_session_context_size(s)) break; /* context full */
        if ((st = vkq_detokenizer_push(detok, tok_id, piece, sizeof piece, &len))) break;
        fwrite(piece, 1, len, stdout);
        fflush(stdout);
        /* history stays equal to what the session holds: the token is pushed and evaluated. */
        if (!push_history(history, n_history, cap, tok_id)) {
            st = VKQ_ERR_OUT_OF_HOST_MEMORY;
            break;
        }
        stats->generated++;
        if ((st = vkq_session_eval(s, &tok_id, 1, NULL))) break;
    }
    stats->gen_seconds = gen_now() - t0;
    if (!st && !vkq_detokenizer_flush(detok, piece, sizeof piece, &len)) fwrite(piece, 1, len, stdout);
    vkq_detokenizer_destroy(detok);
    (void)ctx;
    return st;
}

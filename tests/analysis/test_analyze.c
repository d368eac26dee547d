/* vkq_analyze on synthetic models (CPU only, no GPU): the metrics are finite and grow as the
 * bits shrink; the model against itself (its own type, f32) is exact in every figure; with an
 * exact embedding the accumulated and isolated errors of layer 0 are the same computation and
 * agree exactly; presets choose what the quantizer's presets choose; the JSON and CSV reports
 * are well formed and carry the schema's keys (checked with python3 when it is installed, and
 * by `vkq analyze` end to end); every argument error gives its status. */
#include "common/test.h"
#include "gguf/gguf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_TOKENS 24u

static vkq_context *cpu_context(void) {
    vkq_context_desc cd = {.mode = VKQ_DEVICE_MODE_NONE};
    vkq_context *ctx = NULL;
    CHECK(vkq_context_create(&cd, &ctx) == VKQ_OK);
    return ctx;
}

static bool write_model(const vkq__synth_desc *desc, char *path, size_t size) {
    snprintf(path, size, "/tmp/vkq-analyze-test-%ld-%llu.gguf", (long)getpid(), (unsigned long long)test_rand_u64());
    vkq__diag d = {0};
    vkq_status st = vkq__synth_write_file(&d, desc, path);
    CHECK_MSG(st == VKQ_OK, "synthetic model: %s", d.message);
    return st == VKQ_OK;
}

static void random_tokens(int32_t *t, uint32_t n, uint32_t n_vocab) {
    for (uint32_t i = 0; i < n; i++) t[i] = test_rand_int(0, (int)n_vocab - 1);
}

static int format_index(const vkq_analysis_report *r, const char *name) {
    for (uint32_t f = 0; f < r->n_formats; f++) {
        if (!strcmp(r->formats[f].name, name)) return (int)f;
    }
    return -1;
}

static bool finite_weight(const vkq_analysis_weight_metrics *w) {
    return isfinite(w->rmse) && isfinite(w->rel_l2) && isfinite(w->sqnr_db) && isfinite(w->max_abs) &&
           isfinite(w->cosine) && w->clipped_fraction >= 0 && w->clipped_fraction < 0.5 &&
           (!w->has_importance || (isfinite(w->weighted_rel_l2) && isfinite(w->weighted_sqnr_db)));
}

/* Element-weighted mean of rel_l2 over the matrices. */
static double mean_rel(const vkq_analysis_report *r, int f) {
    double s = 0, n = 0;
    for (uint64_t i = 0; i < r->n_tensors; i++) {
        s += (double)r->tensors[i].elements * r->tensors[i].formats[f].rel_l2;
        n += (double)r->tensors[i].elements;
    }
    return s / n;
}

/* Quantized formats: finite, ordered q8_0 < q4_k < q2_k; f32: exact everywhere. */
static void test_metrics(vkq_context *ctx, const char *model, const int32_t *tokens) {
    const char *formats[] = {"q8_0", "q4_k", "q2_k", "f32"};
    vkq_analysis_desc d = {.model_path = model, .formats = formats, .n_formats = 4, .tokens = tokens,
                           .n_tokens = N_TOKENS, .threads = 2};
    vkq_analysis_report r;
    CHECK_OK(ctx, vkq_analyze(ctx, &d, &r));
    CHECK(r.n_formats == 4 && r.n_tensors == 1 + 2 * 7 && r.n_layer == 2 && r.n_embd == 256 && r.n_tokens == N_TOKENS);
    CHECK(r.formats[0].type == VKQ_TYPE_Q8_0 && r.formats[0].preset == VKQ_QUANTIZE_PRESET_NONE);
    int q8 = format_index(&r, "q8_0"), q4 = format_index(&r, "q4_k"), q2 = format_index(&r, "q2_k"), f32 = format_index(&r, "f32");
    for (uint64_t i = 0; i < r.n_tensors; i++) {
        const vkq_analysis_tensor *t = &r.tensors[i];
        CHECK_MSG(t->source_type == VKQ_TYPE_F32 && t->n_dims == 2, "%s", t->name);
        CHECK_MSG(t->formats[q8].has_importance, "%s has no importance", t->name); /* tied: token_embd too */
        for (int f = 0; f < 3; f++) CHECK_MSG(finite_weight(&t->formats[f]), "%s %s", t->name, formats[f]);
        const vkq_analysis_weight_metrics *a = &t->formats[q8], *b = &t->formats[q4], *c = &t->formats[q2];
        CHECK_MSG(a->rel_l2 > 0 && a->rel_l2 < b->rel_l2 && b->rel_l2 < c->rel_l2, "%s: rel_l2 %g %g %g", t->name,
                  a->rel_l2, b->rel_l2, c->rel_l2);
        CHECK_MSG(a->sqnr_db > b->sqnr_db && b->sqnr_db > c->sqnr_db, "%s: sqnr", t->name);
        CHECK_MSG(a->cosine > c->cosine && c->cosine > 0.8, "%s: cosine %g %g", t->name, a->cosine, c->cosine);
        CHECK(a->type == VKQ_TYPE_Q8_0 && b->type == VKQ_TYPE_Q4_K && c->type == VKQ_TYPE_Q2_K);
        CHECK(a->bytes == t->elements / 32 * 34 && fabs(a->bpw - 8.5) < 1e-12);
        CHECK(fabs(b->bpw - 4.5) < 1e-12 && fabs(c->bpw - 2.625) < 1e-12);
        CHECK(a->clipped_fraction <= c->clipped_fraction);
        const vkq_analysis_weight_metrics *e = &t->formats[f32];
        CHECK_MSG(e->rmse == 0 && e->rel_l2 == 0 && e->max_abs == 0 && e->cosine == 1 && isinf(e->sqnr_db) &&
                      e->sqnr_db > 0 && e->clipped_fraction == 0 && e->weighted_rel_l2 == 0,
                  "%s: f32 not exact", t->name);
        CHECK(e->bytes == t->elements * 4 && e->bpw == 32);
    }
    CHECK(mean_rel(&r, q8) < mean_rel(&r, q4) && mean_rel(&r, q4) < mean_rel(&r, q2));
    CHECK(r.formats[q8].bytes > r.formats[q4].bytes && r.formats[q4].bytes > r.formats[q2].bytes);
    CHECK(r.formats[q2].n_fallbacks == 0);
    for (int f = 0; f < 3; f++) {
        const vkq_analysis_format *af = &r.formats[f];
        CHECK(isfinite(af->kld_mean) && af->kld_mean > 0 && isfinite(af->kld_stderr) && af->top1 >= 0 && af->top1 <= 1);
        for (uint32_t l = 0; l < r.n_layer; l++) {
            const vkq_analysis_layer_metrics *m[2] = {&af->accumulated[l], &af->isolated[l]};
            for (int k = 0; k < 2; k++) {
                CHECK_MSG(m[k]->layer == l && isfinite(m[k]->cosine) && isfinite(m[k]->sqnr_db) && m[k]->rel_l2 > 0 &&
                              m[k]->rel_l2 < 1 && m[k]->cosine > 0.5,
                          "%s layer %u: %g %g %g", af->name, l, m[k]->cosine, m[k]->sqnr_db, m[k]->rel_l2);
            }
        }
    }
    uint32_t last = r.n_layer - 1;
    CHECK(r.formats[q8].accumulated[last].rel_l2 < r.formats[q4].accumulated[last].rel_l2);
    CHECK(r.formats[q4].accumulated[last].rel_l2 < r.formats[q2].accumulated[last].rel_l2);
    CHECK(r.formats[q8].kld_mean < r.formats[q2].kld_mean);
    const vkq_analysis_format *e = &r.formats[f32];
    CHECK_MSG(e->kld_mean == 0 && e->kld_stderr == 0 && e->top1 == 1, "f32: kld %g top1 %g", e->kld_mean, e->top1);
    for (uint32_t l = 0; l < r.n_layer; l++) {
        CHECK(e->accumulated[l].rel_l2 == 0 && e->accumulated[l].cosine == 1 && isinf(e->accumulated[l].sqnr_db));
        CHECK(e->isolated[l].rel_l2 == 0 && e->isolated[l].cosine == 1);
    }
    vkq_analysis_report_free(&r);
    CHECK(r.tensors == NULL && r.formats == NULL && r.n_tensors == 0);
    vkq_analysis_report_free(&r); /* twice, and NULL: no-ops */
    vkq_analysis_report_free(NULL);
}

/* With the embedding exact, layer 0 sees the same input in both passes: the same numbers. On
 * one thread and on two (a second reference state). A preset gives each matrix the type its
 * rule gives it. */
static void test_isolated_layer0(vkq_context *ctx, const char *model, const int32_t *tokens) {
    const char *formats[] = {"q4_0", "Q4_K_M"};
    const char *overrides[] = {"token_embd.weight=f32"};
    for (uint32_t threads = 1; threads <= 2; threads++) {
        vkq_analysis_desc d = {.model_path = model, .formats = formats, .n_formats = 2, .overrides = overrides,
                               .n_overrides = 1, .tokens = tokens, .n_tokens = N_TOKENS, .threads = threads};
        vkq_analysis_report r;
        CHECK_OK(ctx, vkq_analyze(ctx, &d, &r));
        for (uint32_t f = 0; f < r.n_formats; f++) {
            const vkq_analysis_layer_metrics *a = &r.formats[f].accumulated[0], *i = &r.formats[f].isolated[0];
            CHECK_MSG(a->rel_l2 == i->rel_l2 && a->cosine == i->cosine && a->sqnr_db == i->sqnr_db && a->rel_l2 > 0,
                      "threads %u %s: layer 0 accumulated %.9g isolated %.9g", threads, r.formats[f].name, a->rel_l2,
                      i->rel_l2);
            /* Later layers: accumulated carries the earlier layers' error too (not always more). */
            CHECK_MSG(r.formats[f].accumulated[1].rel_l2 != r.formats[f].isolated[1].rel_l2, "threads %u %s layer 1: %.9g %.9g", threads, r.formats[f].name, r.formats[f].accumulated[1].rel_l2, r.formats[f].isolated[1].rel_l2);
        }
        CHECK(r.formats[1].preset == VKQ_QUANTIZE_PRESET_Q4_K_M && r.formats[1].type == VKQ_TYPE_NONE);
        for (uint64_t t = 0; t < r.n_tensors; t++) {
            const vkq_analysis_tensor *at = &r.tensors[t];
            vkq_type want = VKQ_TYPE_Q4_K;
            if (!strcmp(at->role, "token_embd")) want = VKQ_TYPE_F32;                       /* the override */
            /* Q4_K_M: attn_v and ffn_down of the last eighth of the layers (layer 1 of 2) in q6_k */
            else if ((!strcmp(at->role, "attn_v") || !strcmp(at->role, "ffn_down")) && at->layer == 1) want = VKQ_TYPE_Q6_K;
            CHECK_MSG(at->formats[1].type == want, "%s: %s", at->name, vkq_type_name(at->formats[1].type));
            CHECK(at->formats[0].type == (want == VKQ_TYPE_F32 ? VKQ_TYPE_F32 : VKQ_TYPE_Q4_0));
            CHECK(at->layer == (at->role[0] == 't' ? -1 : (int32_t)(at->name[4] - '0')));
        }
        vkq_analysis_report_free(&r);
    }
}

/* ---- the JSON report ---------------------------------------------------------------------- */

/* A JSON syntax check: one value, then only white space. */
static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    return p;
}

static const char *json_value(const char *p, int depth) {
    p = skip_ws(p);
    if (depth > 32) return NULL;
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';
        p = skip_ws(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (obj) {
                p = skip_ws(p);
                if (*p != '"' || !(p = json_value(p, depth + 1))) return NULL;
                p = skip_ws(p);
                if (*p++ != ':') return NULL;
            }
            if (!(p = json_value(p, depth + 1))) return NULL;
            p = skip_ws(p);
            if (*p == close) return p + 1;
            if (*p++ != ',') return NULL;
        }
    }
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && !*++p) return NULL;
        }
        return *p ? p + 1 : NULL;
    }
    if (!strncmp(p, "null", 4) || !strncmp(p, "true", 4)) return p + 4;
    if (!strncmp(p, "false", 5)) return p + 5;
    char *end;
    strtod(p, &end);
    return end > p ? end : NULL;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) free(s), s = NULL;
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

static void check_json_file(const char *path, bool activations) {
    char *s = slurp(path);
    CHECK_MSG(s != NULL, "cannot read %s", path);
    if (!s) return;
    const char *end = json_value(s, 0);
    CHECK_MSG(end && !*skip_ws(end), "%s is not valid JSON", path);
    const char *keys[] = {"\"vkq_analysis\": 1", "\"model\"", "\"n_layer\"", "\"n_embd\"", "\"n_params\"",
                          "\"source_bytes\"", "\"formats\"", "\"calibration\"", "\"roles\"", "\"tensors\"",
                          "\"source_type\"", "\"bpw\"", "\"rmse\"", "\"rel_l2\"", "\"sqnr_db\"", "\"max_abs\"",
                          "\"cosine\"", "\"clipped_fraction\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) CHECK_MSG(strstr(s, keys[i]), "%s: no %s", path, keys[i]);
    const char *act[] = {"\"activations\"", "\"kld_mean\"", "\"kld_stderr\"", "\"top1\"", "\"accumulated\"",
                         "\"isolated\"", "\"weighted_rel_l2\"", "\"weighted_sqnr_db\""};
    for (size_t i = 0; i < sizeof act / sizeof act[0]; i++) {
        CHECK_MSG((strstr(s, act[i]) != NULL) == activations, "%s: %s %s", path, act[i], activations ? "missing" : "present");
    }
    CHECK(activations || strstr(s, "\"calibration\": null"));
    free(s);
}

/* tests/analysis/check_report.py, when python3 is there: the schema, value by value. */
static void python_check(const char *json, const char *csv, const char *expect) {
    if (system("python3 -c 'import json' >/dev/null 2>&1") != 0) {
        printf("python3 not found: schema check by python skipped (the C checks ran)\n");
        return;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 %s %s %s %s", test_source_path("tests/analysis/check_report.py"), json, csv,
             expect);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
}

static void test_reports(vkq_context *ctx, const char *model, const int32_t *tokens) {
    const char *formats[] = {"q8_0", "Q4_K_M", "f32"};
    char json[256], csv[256];
    snprintf(json, sizeof json, "/tmp/vkq-analyze-test-%ld.json", (long)getpid());
    snprintf(csv, sizeof csv, "/tmp/vkq-analyze-test-%ld.csv", (long)getpid());
    for (int with = 0; with < 2; with++) {
        vkq_analysis_desc d = {.model_path = model, .formats = formats, .n_formats = 3, .tokens = with ? tokens : NULL,
                               .n_tokens = with ? N_TOKENS : 0};
        vkq_analysis_report r;
        CHECK_OK(ctx, vkq_analyze(ctx, &d, &r));
        CHECK(r.formats[0].accumulated == NULL || with);
        CHECK_OK(ctx, vkq_analysis_write_json(ctx, &r, with ? "calib \"text\".txt" : NULL, json));
        CHECK_OK(ctx, vkq_analysis_write_csv(ctx, &r, csv));
        check_json_file(json, with);
        python_check(json, csv, with ? "activations" : "weights");
        CHECK_STATUS(ctx, vkq_analysis_write_json(ctx, &r, NULL, "/nonexistent-dir/x.json"), VKQ_ERR_IO);
        CHECK_STATUS(ctx, vkq_analysis_write_csv(ctx, &r, NULL), VKQ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(ctx, vkq_analysis_write_json(ctx, NULL, NULL, json), VKQ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(NULL, vkq_analysis_write_csv(NULL, &r, csv), VKQ_ERR_INVALID_ARGUMENT);
        vkq_analysis_report_free(&r);
    }
    /* A report filled by hand without the arrays its counts promise: an error, not a crash. */
    vkq_analysis_format hf = {.name = "x"};
    vkq_analysis_tensor ht = {.name = "w.weight"};
    vkq_analysis_report h = {.n_formats = 1, .formats = &hf, .n_tokens = 3, .n_layer = 2};
    CHECK_STATUS(ctx, vkq_analysis_write_json(ctx, &h, NULL, json), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_analysis_write_csv(ctx, &h, csv), VKQ_ERR_INVALID_ARGUMENT);
    h.n_tokens = 0, h.n_tensors = 1, h.tensors = &ht;
    CHECK_STATUS(ctx, vkq_analysis_write_json(ctx, &h, NULL, json), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_analysis_write_csv(ctx, &h, csv), VKQ_ERR_INVALID_ARGUMENT);
    remove(json), remove(csv);
}

/* `vkq analyze` end to end: tokenizes a text with the synthetic model's tokenizer. */
#ifdef VKQ_CLI
static void test_cli(const char *model) {
    char text[256], json[256], csv[256], cmd[2048];
    snprintf(text, sizeof text, "/tmp/vkq-analyze-cli-%ld.txt", (long)getpid());
    snprintf(json, sizeof json, "/tmp/vkq-analyze-cli-%ld.json", (long)getpid());
    snprintf(csv, sizeof csv, "/tmp/vkq-analyze-cli-%ld.csv", (long)getpid());
    FILE *f = fopen(text, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("The quick brown fox jumps over the lazy dog, and then it runs away into the woods.\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s analyze --help >/dev/null", VKQ_CLI);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "%s analyze -m %s >/dev/null 2>&1", VKQ_CLI, model);
    CHECK_MSG(WEXITSTATUS(system(cmd)) == 2, "%s: want exit 2 (usage)", cmd);
    /* Options of the activation pass without a text: usage errors, not silently ignored. */
    snprintf(cmd, sizeof cmd, "%s analyze -m %s --formats q4_0 --use-importance >/dev/null 2>&1", VKQ_CLI, model);
    CHECK_MSG(WEXITSTATUS(system(cmd)) == 2, "%s: want exit 2 (usage)", cmd);
    snprintf(cmd, sizeof cmd, "%s analyze -m %s --formats q4_0 --tokens 8 >/dev/null 2>&1", VKQ_CLI, model);
    CHECK_MSG(WEXITSTATUS(system(cmd)) == 2, "%s: want exit 2 (usage)", cmd);
    snprintf(cmd, sizeof cmd, "%s analyze -m %s --formats q9_9 >/dev/null 2>&1", VKQ_CLI, model);
    CHECK_MSG(WEXITSTATUS(system(cmd)) == 1, "%s: want exit 1", cmd);
    /* A model that cannot be read (a directory) while tokenizing: exit 1 with a message. */
    snprintf(cmd, sizeof cmd, "%s analyze -m /tmp -f %s --formats q8_0 2>&1 >/dev/null | grep -q 'vkq analyze:'",
             VKQ_CLI, text);
    CHECK_MSG(system(cmd) == 0, "%s: want a message on stderr", cmd);
    snprintf(cmd, sizeof cmd, "%s analyze -m %s -f %s --tokens 12 --formats q8_0,q4_k,Q2_K -o %s --csv %s --threads 2",
             VKQ_CLI, model, text, json, csv);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    check_json_file(json, true);
    python_check(json, csv, "activations");
    remove(text), remove(json), remove(csv);
}
#endif

/* ---- argument errors ---------------------------------------------------------------------- */

static int cancel(float fraction, void *user) {
    (void)fraction;
    return ++*(int *)user >= 2;
}

static void test_errors(vkq_context *ctx, const char *model, const char *other_arch, const int32_t *tokens) {
    const char *formats[] = {"q8_0"};
    vkq_analysis_report r;
    vkq_analysis_desc ok = {.model_path = model, .formats = formats, .n_formats = 1};
    CHECK_STATUS(NULL, vkq_analyze(NULL, &ok, &r), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_analyze(ctx, NULL, &r), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_analyze(ctx, &ok, NULL), VKQ_ERR_INVALID_ARGUMENT);
    vkq_analysis_desc d = ok;
    d.model_path = NULL;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    d = ok, d.n_formats = 0;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    d = ok, d.n_formats = 65;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    d = ok, d.formats = NULL;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    const char *bad[][2] = {{"q9_9", "q8_0"}, {"q8_1", "q8_0"}, {"Q8_0x", "q8_0"}, {"q8_0", "q8_0"}, {"", "q8_0"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = ok, d.formats = bad[i], d.n_formats = 2;
        CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
        CHECK(r.tensors == NULL && r.formats == NULL); /* emptied after a failure */
    }
    d = ok, d.reserved[3] = 1;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    d = ok, d.n_tokens = 4;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    d = ok, d.tokens = tokens, d.n_tokens = 65537;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    int32_t bad_tokens[3] = {1, 100000, 2};
    d = ok, d.tokens = bad_tokens, d.n_tokens = 3;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    bad_tokens[1] = -1;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    const char *bad_override[] = {"token_embd.weight"};
    d = ok, d.overrides = bad_override, d.n_overrides = 1;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    const char *bad_override_type[] = {"*=q9_9"};
    d.overrides = bad_override_type;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    d = ok, d.n_overrides = 1;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    d = ok, d.model_path = "/nonexistent/model.gguf";
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_NOT_FOUND);
    int calls = 0;
    d = ok, d.progress = cancel, d.progress_user_data = &calls;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_STATE);
    /* Another architecture: the weight space works, the activation pass refuses. */
    d = ok, d.model_path = other_arch;
    CHECK_OK(ctx, vkq_analyze(ctx, &d, &r));
    CHECK(r.n_tensors > 0 && !strcmp(r.architecture, "gpt9"));
    vkq_analysis_report_free(&r);
    d.tokens = tokens, d.n_tokens = 4;
    CHECK_STATUS(ctx, vkq_analyze(ctx, &d, &r), VKQ_ERR_BAD_FILE);
}

int main(void) {
    test_init("test_analyze");
    vkq_context *ctx = cpu_context();
    vkq__synth_desc sd = {.n_embd = 256, .n_ff = 512, .n_layer = 2, .n_head = 4};
    vkq__synth_desc other = sd;
    other.architecture = "gpt9";
    char model[256], other_path[256];
    if (ctx && write_model(&sd, model, sizeof model) && write_model(&other, other_path, sizeof other_path)) {
        uint32_t n_vocab = 0;
        vkq__diag d = {0};
        CHECK(vkq__synth_vocab_size(&d, VKQ__SYNTH_TOKENIZER_DEFAULT, 0, &n_vocab) == VKQ_OK);
        int32_t tokens[N_TOKENS];
        random_tokens(tokens, N_TOKENS, n_vocab);
        test_metrics(ctx, model, tokens);
        test_isolated_layer0(ctx, model, tokens);
        test_reports(ctx, model, tokens);
#ifdef VKQ_CLI
        test_cli(model);
#endif
        test_errors(ctx, model, other_path, tokens);
        remove(model), remove(other_path);
    }
    vkq_context_destroy(ctx);
    return test_finish();
}

/* Importance collection (vkq_session_desc.collect_importance, vkq_session_save_importance): the
 * saved file has a tensor for every weight matrix with the right length; layer 0's attention
 * input statistics match a CPU computation from the embedding table (x^2 of the normalized
 * embeddings, averaged over the tokens, prefill and decode both counted); matrices that share
 * an input share the values; the file feeds vkq_model_quantize; misuse gives the documented
 * status codes. */
#include "engine_test.h"

#include <sys/wait.h>

#define N_PREFILL 20u
#define N_DECODE 3u

static const float *tensor_f32(const vkq_gguf *g, const char *name, uint64_t *ne0) {
    vkq_gguf_tensor_info info;
    if (vkq_gguf_tensor_by_name(g, name, &info) != VKQ_OK || info.type != VKQ_TYPE_F32) return NULL;
    if (ne0) *ne0 = info.ne[0];
    return info.data;
}

/* mean over tokens of (rms_norm(embedding) * weight)^2, per column. */
static void expected_attn_in(const vkq_gguf *model, const int32_t *tokens, uint32_t n, float eps, double *out) {
    uint64_t E = 0;
    const float *embd = tensor_f32(model, "token_embd.weight", &E), *w = tensor_f32(model, "blk.0.attn_norm.weight", NULL);
    CHECK(embd && w);
    if (!embd || !w) return;
    for (uint64_t c = 0; c < E; c++) out[c] = 0;
    for (uint32_t t = 0; t < n; t++) {
        const float *e = embd + (uint64_t)tokens[t] * E;
        double ss = 0;
        for (uint64_t c = 0; c < E; c++) ss += (double)e[c] * e[c];
        double scale = 1.0 / sqrt(ss / (double)E + eps);
        for (uint64_t c = 0; c < E; c++) {
            double v = e[c] * scale * w[c];
            out[c] += v * v / n;
        }
    }
}

static void check_file(vkq_context *ctx, const char *path, vkq_model *model, const int32_t *tokens) {
    vkq_model_info info;
    vkq_model_info_get(model, &info);
    vkq_gguf *g = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, path, &g));
    if (!g) return;
    uint64_t count = 0;
    CHECK_OK(ctx, vkq_gguf_get_u64(g, "vkq.importance.tokens", &count));
    CHECK(count == N_PREFILL + N_DECODE);
    /* Every matrix of the model (tied output: token_embd stands for it), none missing. */
    const vkq_gguf *mg = vkq_model_gguf(model);
    uint32_t matrices = 0;
    for (uint64_t i = 0; i < vkq_gguf_tensor_count(mg); i++) {
        vkq_gguf_tensor_info t;
        vkq_gguf_tensor(mg, i, &t);
        if (t.n_dims < 2) continue;
        matrices++;
        char name[192];
        snprintf(name, sizeof name, "%s.importance", t.name);
        uint64_t ne0 = 0;
        const float *v = tensor_f32(g, name, &ne0);
        CHECK_MSG(v && ne0 == t.ne[0], "%s: missing or of length %llu (want %llu)", name,
                  (unsigned long long)ne0, (unsigned long long)t.ne[0]);
        for (uint64_t c = 0; v && c < ne0; c++) {
            CHECK_MSG(isfinite(v[c]) && v[c] >= 0, "%s[%llu] = %g", name, (unsigned long long)c, (double)v[c]);
        }
    }
    CHECK(vkq_gguf_tensor_count(g) == matrices);
    /* q, k and v read the same input; gate and up too. */
    const float *q = tensor_f32(g, "blk.1.attn_q.weight.importance", NULL);
    const float *k = tensor_f32(g, "blk.1.attn_k.weight.importance", NULL);
    const float *gate = tensor_f32(g, "blk.1.ffn_gate.weight.importance", NULL);
    const float *up = tensor_f32(g, "blk.1.ffn_up.weight.importance", NULL);
    CHECK(q && k && gate && up && !memcmp(q, k, info.n_embd * 4) && !memcmp(gate, up, info.n_embd * 4));
    /* Layer 0's attention input from the embedding table. */
    double *want = calloc(info.n_embd, sizeof *want);
    expected_attn_in(mg, tokens, N_PREFILL + N_DECODE, info.norm_eps, want);
    const float *got = tensor_f32(g, "blk.0.attn_v.weight.importance", NULL);
    double worst = 0;
    for (uint32_t c = 0; got && c < info.n_embd; c++) worst = fmax(worst, fabs(got[c] - want[c]) / (want[c] + 1e-30));
    CHECK_MSG(got && worst < 1e-4, "layer 0 attention input: relative error %.3g", worst);
    free(want);
    vkq_gguf_close(g);
}

/* The saved file is what vkq_model_quantize reads: every matrix quantized with importance. */
static void check_quantize(vkq_context *ctx, const char *model_path, const char *imp_path) {
    char out[320];
    snprintf(out, sizeof out, "%s.q4_0.gguf", imp_path);
    vkq_quantize_desc qd = {.input_path = model_path, .output_path = out, .type = VKQ_TYPE_Q4_0,
                            .importance_path = imp_path, .threads = 1};
    vkq_quantize_report r = {0};
    CHECK_OK(ctx, vkq_model_quantize(ctx, &qd, &r));
    for (uint64_t i = 0; i < r.n_tensors; i++) {
        if (r.tensors[i].quantized) CHECK_MSG(r.tensors[i].has_importance, "%s: no importance", r.tensors[i].name);
    }
    vkq_quantize_report_free(&r);
    unlink(out);
}

static void check_errors(vkq_context *ctx, vkq_model *model, const char *path) {
    vkq_session *plain = NULL, *s = NULL;
    vkq_session_desc sd = {.n_ctx = 32};
    CHECK_OK(ctx, vkq_session_create(model, &sd, &plain));
    CHECK_STATUS(ctx, vkq_session_save_importance(plain, path), VKQ_ERR_STATE);
    CHECK_STATUS(ctx, vkq_session_clear_importance(plain), VKQ_ERR_STATE);
    CHECK_STATUS(ctx, vkq_session_save_importance(NULL, path), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_session_clear_importance(NULL), VKQ_ERR_INVALID_ARGUMENT);
    sd.collect_importance = 1;
    CHECK_OK(ctx, vkq_session_create(model, &sd, &s));
    CHECK_STATUS(ctx, vkq_session_save_importance(s, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_session_save_importance(s, path), VKQ_ERR_STATE); /* nothing evaluated */
    int32_t t = 3;
    CHECK_OK(ctx, vkq_session_eval(s, &t, 1, NULL));
    CHECK_OK(ctx, vkq_session_clear_importance(s));
    CHECK_STATUS(ctx, vkq_session_save_importance(s, path), VKQ_ERR_STATE); /* cleared */
    CHECK_STATUS(ctx, vkq_session_save_importance(s, "/nonexistent-dir/x.gguf"), VKQ_ERR_STATE);
    CHECK_OK(ctx, vkq_session_eval(s, &t, 1, NULL));
    CHECK(vkq_session_save_importance(s, "/nonexistent-dir/x.gguf") != VKQ_OK);
    vkq_session_destroy(s);
    vkq_session_destroy(plain);
}

#ifdef VKQ_CLI
/* vkq imatrix end to end: a text in windows of 16 tokens, the file it writes, usage errors. */
static void check_cli(vkq_context *ctx, const char *model) {
    char text[320], out[320], cmd[1200];
    snprintf(text, sizeof text, "%s.txt", model);
    snprintf(out, sizeof out, "%s.cli.gguf", model);
    FILE *f = fopen(text, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("The quick brown fox jumps over the lazy dog. 12345 hello world, hello again!\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s imatrix -m %s -f %s -o %s --ctx 16 >/dev/null", VKQ_CLI, model, text, out);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    vkq_gguf *g = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, out, &g));
    uint64_t tokens = 0;
    if (g) CHECK_OK(ctx, vkq_gguf_get_u64(g, "vkq.importance.tokens", &tokens));
    CHECK_MSG(tokens > 16, "%llu tokens collected", (unsigned long long)tokens); /* several windows */
    CHECK(vkq_gguf_find_tensor(g, "blk.0.ffn_down.weight.importance") >= 0);
    vkq_gguf_close(g);
    snprintf(cmd, sizeof cmd, "%s imatrix --help >/dev/null", VKQ_CLI);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s imatrix -m %s -f %s 2>/dev/null", VKQ_CLI, model, text); /* no -o */
    int rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 2);
    unlink(text), unlink(out);
}
#endif

int main(void) {
    test_init("test_importance");
    vkq_context *ctx = test_gpu_context();
    if (!ctx) return test_finish();
    vkq__synth_desc desc = {.n_embd = 128, .n_ff = 256, .n_layer = 2, .n_head = 4, .seed = vkq_test_seed};
    char path[256], imp[300];
    if (engine_test_write(&desc, path, sizeof path)) {
        snprintf(imp, sizeof imp, "%s.imatrix.gguf", path);
        vkq_model *model = NULL;
        vkq_model_desc md = {.path = path};
        CHECK_OK(ctx, vkq_model_load(ctx, &md, &model));
        vkq_model_info info;
        vkq_session *s = NULL;
        vkq_session_desc sd = {.n_ctx = 64, .n_batch = 8, .collect_importance = 1};
        if (model) CHECK_OK(ctx, vkq_session_create(model, &sd, &s));
        if (s) {
            vkq_model_info_get(model, &info);
            int32_t tokens[N_PREFILL + N_DECODE];
            for (uint32_t i = 0; i < N_PREFILL + N_DECODE; i++) tokens[i] = test_rand_int(0, (int)info.n_vocab - 1);
            /* A prefill in batches of 8 with all logits, then decode steps (the recorded path). */
            float *logits = malloc((size_t)N_PREFILL * info.n_vocab * 4);
            CHECK_OK(ctx, vkq_session_eval(s, tokens, N_PREFILL, logits));
            for (uint32_t i = N_PREFILL; i < N_PREFILL + N_DECODE; i++) CHECK_OK(ctx, vkq_session_eval(s, tokens + i, 1, NULL));
            CHECK_OK(ctx, vkq_session_save_importance(s, imp));
            check_file(ctx, imp, model, tokens);
            check_quantize(ctx, path, imp);
            free(logits);
        }
        vkq_session_destroy(s);
        if (model) check_errors(ctx, model, imp);
#ifdef VKQ_CLI
        check_cli(ctx, path);
#endif
        vkq_model_destroy(model);
        unlink(imp);
        unlink(path);
    }
    test_gpu_context_destroy(ctx);
    return test_finish();
}

/* vkq_model_quantize: presets and single types on a synthetic F32 model, read back with the
 * public reader; overrides, importance files, dequantize-first inputs, and the error paths with
 * their exact status codes. CPU only. */
#include "common/test.h"
#include "gguf/gguf.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_LAYER 4
#define N_EMBD 256
#define N_FF 288 /* not a multiple of 256: ffn_down falls back from the 256-element formats */

static char dir[256];
static char in_path[300];
static int warnings;

static void on_log(vkq_log_level level, const char *message, void *user_data) {
    (void)user_data;
    if (level == VKQ_LOG_WARN) warnings++;
    (void)message;
}

static const char *path_in_dir(const char *name) {
    static char buf[4][320];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* ---- the rules, restated independently of lib/quant/presets.c ------------------------------ */

static bool more_bits(int layer) { return layer == 2 || layer == 3; } /* n_layer 4 */

static vkq_type rule(const char *preset, const char *name) {
    int layer = -1;
    char role[64] = "";
    if (sscanf(name, "blk.%d.%63s", &layer, role) != 2) snprintf(role, sizeof role, "%s", name);
    bool out = !strcmp(role, "output.weight");
    bool v = !strcmp(role, "attn_v.weight"), down = !strcmp(role, "ffn_down.weight");
    bool o = !strcmp(role, "attn_output.weight");
    if (!strcmp(preset, "q4_0")) return out ? VKQ_TYPE_Q6_K : VKQ_TYPE_Q4_0;
    if (!strcmp(preset, "q8_0")) return VKQ_TYPE_Q8_0;
    if (!strcmp(preset, "q6_k")) return VKQ_TYPE_Q6_K;
    if (!strcmp(preset, "q4_k_s")) {
        if (out) return VKQ_TYPE_Q6_K;
        return (v || down) && layer == 0 ? VKQ_TYPE_Q5_K : VKQ_TYPE_Q4_K;
    }
    if (!strcmp(preset, "q4_k_m") || !strcmp(preset, "q5_k_m")) {
        if (out || ((v || down) && more_bits(layer))) return VKQ_TYPE_Q6_K;
        return preset[1] == '4' ? VKQ_TYPE_Q4_K : VKQ_TYPE_Q5_K;
    }
    if (!strcmp(preset, "q3_k_m")) {
        if (out) return VKQ_TYPE_Q6_K;
        if (v) return layer < 2 ? VKQ_TYPE_Q5_K : VKQ_TYPE_Q4_K;
        if (o || (down && more_bits(layer))) return VKQ_TYPE_Q4_K;
        return VKQ_TYPE_Q3_K;
    }
    if (!strcmp(preset, "q2_k")) {
        if (out) return VKQ_TYPE_Q6_K;
        return v || down ? VKQ_TYPE_Q3_K : VKQ_TYPE_Q2_K;
    }
    if (!strcmp(preset, "iq4_xs")) return out ? VKQ_TYPE_Q6_K : VKQ_TYPE_IQ4_XS;
    return vkq_type_from_name(preset); /* a single type */
}

/* ffn_down rows are 288 long: 256-element formats step down as documented. */
static vkq_type fitted(vkq_type t, uint64_t ne0) {
    if (ne0 % vkq_type_block_elements(t) == 0) return t;
    switch (t) {
    case VKQ_TYPE_Q2_K: case VKQ_TYPE_Q3_K: case VKQ_TYPE_IQ4_XS: return VKQ_TYPE_IQ4_NL;
    case VKQ_TYPE_Q4_K: return VKQ_TYPE_Q5_0;
    case VKQ_TYPE_Q5_K: return VKQ_TYPE_Q5_1;
    case VKQ_TYPE_Q6_K: return VKQ_TYPE_Q8_0;
    default: return VKQ_TYPE_F16;
    }
}

/* 1.3 x the search's relative L2 error on Gaussian data (docs/FORMATS.md). */
static double bound(vkq_type t) {
    switch (t) {
    case VKQ_TYPE_F32: return 0;
    case VKQ_TYPE_F16: return 3e-4;
    case VKQ_TYPE_BF16: return 2.2e-3;
    case VKQ_TYPE_Q4_0: return 0.105;
    case VKQ_TYPE_Q4_1: return 0.091;
    case VKQ_TYPE_Q5_0: return 0.052;
    case VKQ_TYPE_Q5_1: return 0.044;
    case VKQ_TYPE_Q8_0: return 0.0063;
    case VKQ_TYPE_Q2_K: return 0.341;
    case VKQ_TYPE_Q3_K: return 0.187;
    case VKQ_TYPE_Q4_K: return 0.091;
    case VKQ_TYPE_Q5_K: return 0.045;
    case VKQ_TYPE_Q6_K: return 0.022;
    case VKQ_TYPE_IQ4_NL: case VKQ_TYPE_IQ4_XS: return 0.096;
    default: return 0;
    }
}

/* Relative L2 (optionally importance-weighted over columns) of output tensor against input. */
static double tensor_error(const vkq_gguf_tensor_info *ref, const vkq_gguf_tensor_info *q,
                           const float *imp) {
    float *y = malloc(q->elements * sizeof *y);
    CHECK(vkq_dequantize(q->type, q->data, y, q->elements) == VKQ_OK);
    const float *x = ref->data;
    double ee = 0, rr = 0;
    for (uint64_t i = 0; i < ref->elements; i++) {
        double w = imp ? imp[i % ref->ne[0]] : 1.0, e = (double)y[i] - x[i];
        ee += w * e * e;
        rr += w * (double)x[i] * x[i];
    }
    free(y);
    return rr > 0 ? sqrt(ee / rr) : 0;
}

static vkq_status quantize(vkq_context *ctx, const char *target, const char *out,
                           const char *const *overrides, uint32_t n, const char *imp,
                           vkq_quantize_report *r) {
    vkq_quantize_desc d = {.input_path = in_path, .output_path = out, .target = target,
                           .overrides = overrides, .n_overrides = n, .importance_path = imp,
                           .threads = 4};
    return vkq_model_quantize(ctx, &d, r);
}

/* Every key of the input is in the output with the same type; a few values compared. */
static void check_metadata(vkq_gguf *in, vkq_gguf *out, uint32_t file_type) {
    for (uint64_t i = 0; i < vkq_gguf_key_count(in); i++) {
        const char *k = vkq_gguf_key_name(in, i);
        if (!strcmp(k, "general.file_type")) continue;
        int64_t j = vkq_gguf_find_key(out, k);
        CHECK_MSG(j >= 0 && vkq_gguf_key_type(out, (uint64_t)j) == vkq_gguf_key_type(in, i),
                  "key %s", k);
    }
    const char *a = NULL, *b = NULL;
    uint32_t u = 0, v = 1;
    CHECK(vkq_gguf_get_string(in, "general.architecture", &a, NULL) == VKQ_OK);
    CHECK(vkq_gguf_get_string(out, "general.architecture", &b, NULL) == VKQ_OK);
    CHECK(a && b && !strcmp(a, b));
    CHECK(vkq_gguf_get_u32(in, "llama.block_count", &u) == VKQ_OK);
    CHECK(vkq_gguf_get_u32(out, "llama.block_count", &v) == VKQ_OK && u == v);
    uint64_t n1 = 0, n2 = 0;
    CHECK(vkq_gguf_get_array_info(in, "tokenizer.ggml.tokens", NULL, &n1) == VKQ_OK);
    CHECK(vkq_gguf_get_array_info(out, "tokenizer.ggml.tokens", NULL, &n2) == VKQ_OK);
    CHECK(n1 == n2 && n1 > 10);
    CHECK(vkq_gguf_get_array_string(in, "tokenizer.ggml.tokens", 7, &a, NULL) == VKQ_OK);
    CHECK(vkq_gguf_get_array_string(out, "tokenizer.ggml.tokens", 7, &b, NULL) == VKQ_OK);
    CHECK(a && b && !strcmp(a, b));
    CHECK(vkq_gguf_get_u32(out, "general.file_type", &u) == VKQ_OK && u == file_type);
    CHECK(vkq_gguf_alignment(out) == vkq_gguf_alignment(in));
}

/* Opens the output and checks types, sizes, errors and the report against it. */
static void check_output(vkq_context *ctx, const char *target, const char *path,
                         const vkq_quantize_report *r, uint32_t file_type) {
    vkq_gguf *in = NULL, *out = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, in_path, &in));
    CHECK_OK(ctx, vkq_gguf_open(ctx, path, &out));
    if (!in || !out) goto done;
    check_metadata(in, out, file_type);
    CHECK(vkq_gguf_tensor_count(out) == vkq_gguf_tensor_count(in));
    CHECK(r->n_tensors == vkq_gguf_tensor_count(in));
    uint64_t bytes = 0, elements = 0;
    uint32_t fallbacks = 0;
    for (uint64_t i = 0; i < vkq_gguf_tensor_count(in) && i < r->n_tensors; i++) {
        vkq_gguf_tensor_info a, b;
        CHECK_OK(ctx, vkq_gguf_tensor(in, i, &a));
        CHECK_OK(ctx, vkq_gguf_tensor_by_name(out, a.name, &b));
        const vkq_quantize_tensor_report *t = &r->tensors[i];
        vkq_type want = a.n_dims == 1 ? VKQ_TYPE_F32 : fitted(rule(target, a.name), a.ne[0]);
        CHECK_MSG(b.type == want && t->type == want, "%s %s: got %s, expected %s", target,
                  a.name, vkq_type_name(b.type), vkq_type_name(want));
        CHECK(!strcmp(t->name, a.name) && t->bytes == b.bytes && t->elements == a.elements);
        CHECK(b.n_dims == a.n_dims && b.ne[0] == a.ne[0] && b.ne[1] == a.ne[1]);
        fallbacks += t->fallback != 0;
        double e = tensor_error(&a, &b, NULL);
        CHECK_MSG(e <= bound(b.type), "%s %s (%s): rel_l2 %.4g > %.4g", target, a.name,
                  vkq_type_name(b.type), e, bound(b.type));
        CHECK_MSG(fabs(e - t->rel_l2) <= 1e-6 + 1e-4 * e, "%s: report %.6g, measured %.6g",
                  a.name, t->rel_l2, e);
        bytes += b.bytes;
        elements += b.elements;
    }
    CHECK(r->output_bytes == bytes && r->elements == elements && r->n_fallbacks == fallbacks);
    CHECK(fabs(r->bits_per_weight - 8.0 * (double)bytes / (double)elements) < 1e-9);
    uint64_t size = vkq_gguf_file_size(out), start = vkq_gguf_data_offset(out);
    CHECK(r->output_file_size == size);
    CHECK_MSG(size >= start + bytes && size <= start + bytes + r->n_tensors * 32,
              "%s: file %llu bytes, data from %llu, tensors %llu", target,
              (unsigned long long)size, (unsigned long long)start, (unsigned long long)bytes);
done:
    vkq_gguf_close(out);
    vkq_gguf_close(in);
}

static void test_targets(vkq_context *ctx) {
    static const struct { const char *name; uint32_t ftype; } targets[] = {
        {"q4_0", 2}, {"q8_0", 7}, {"q6_k", 18}, {"q4_k_s", 14}, {"q4_k_m", 15}, {"q5_k_m", 17},
        {"q3_k_m", 12}, {"q2_k", 10}, {"iq4_xs", 30}, /* presets, then single types: */
        {"q5_0", 8}, {"q4_k", 14}, {"q5_k", 16}, {"f16", 1}, {"iq4_nl", 25}, {"q4_1", 3},
    };
    double bpw_q8 = 0, bpw_q2 = 0;
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        vkq_quantize_report r;
        const char *out = path_in_dir("out.gguf");
        CHECK_OK(ctx, quantize(ctx, targets[i].name, out, NULL, 0, NULL, &r));
        CHECK(r.file_type == targets[i].ftype);
        check_output(ctx, targets[i].name, out, &r, targets[i].ftype);
        if (!strcmp(targets[i].name, "q8_0")) bpw_q8 = r.bits_per_weight;
        if (!strcmp(targets[i].name, "q2_k")) bpw_q2 = r.bits_per_weight;
        vkq_quantize_report_free(&r);
        CHECK(r.tensors == NULL && r.n_tensors == 0);
    }
    /* Mostly 8.5 bits (norms are F32); Q2_K mostly 2.6 with its step-ups. */
    CHECK_MSG(bpw_q8 > 8.5 && bpw_q8 < 8.7, "q8_0: %.3f bits/weight", bpw_q8);
    CHECK_MSG(bpw_q2 > 2.6 && bpw_q2 < 4.5, "q2_k: %.3f bits/weight", bpw_q2);
}

static void test_overrides(vkq_context *ctx) {
    const char *ov[] = {"blk.*.ffn_up.weight=q8_0", "blk.1.attn_q.weight=q5_0",
                        "blk.1.attn_q.weight=Q6_K"}; /* the last match wins */
    vkq_quantize_report r;
    const char *out = path_in_dir("ov.gguf");
    CHECK_OK(ctx, quantize(ctx, "Q4_K_M", out, ov, 3, NULL, &r));
    vkq_gguf *g = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, out, &g));
    vkq_gguf_tensor_info t;
    for (int l = 0; l < N_LAYER; l++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.ffn_up.weight", l);
        CHECK(vkq_gguf_tensor_by_name(g, name, &t) == VKQ_OK && t.type == VKQ_TYPE_Q8_0);
        snprintf(name, sizeof name, "blk.%d.attn_q.weight", l);
        CHECK(vkq_gguf_tensor_by_name(g, name, &t) == VKQ_OK &&
              t.type == (l == 1 ? VKQ_TYPE_Q6_K : VKQ_TYPE_Q4_K));
    }
    CHECK(vkq_gguf_tensor_by_name(g, "blk.0.attn_k.weight", &t) == VKQ_OK &&
          t.type == VKQ_TYPE_Q4_K);
    vkq_gguf_close(g);
    vkq_quantize_report_free(&r);
}

/* Importance: a GGUF of "<name>.importance" tensors, skewed so that 1 column in 16 matters 100
 * times more. Quantizing with it must lower the importance-weighted error. */
static void test_importance(vkq_context *ctx) {
    vkq_gguf *in = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, in_path, &in));
    if (!in) return;
    vkq__gguf_writer *w = NULL;
    CHECK_OK(ctx, vkq__gguf_writer_create(vkq__context_diag(ctx), &w));
    uint64_t n = vkq_gguf_tensor_count(in);
    float **imps = calloc(n, sizeof *imps);
    char (*names)[96] = calloc(n, sizeof *names);
    for (uint64_t i = 0; i < n; i++) {
        vkq_gguf_tensor_info t;
        CHECK_OK(ctx, vkq_gguf_tensor(in, i, &t));
        if (t.n_dims < 2) continue;
        imps[i] = malloc(t.ne[0] * sizeof(float));
        for (uint64_t j = 0; j < t.ne[0]; j++) imps[i][j] = j % 16 == 3 ? 100.0f : 1.0f;
        snprintf(names[i], sizeof names[i], "%s.importance", t.name);
        uint64_t ne = t.ne[0];
        CHECK_OK(ctx, vkq__gguf_writer_add_tensor(w, names[i], VKQ_TYPE_F32, 1, &ne, imps[i]));
    }
    char imp_path[320];
    snprintf(imp_path, sizeof imp_path, "%s", path_in_dir("imatrix.gguf"));
    CHECK_OK(ctx, vkq__gguf_writer_write_file(w, imp_path));
    vkq__gguf_writer_destroy(w);

    vkq_quantize_report plain, weighted;
    const char *a = path_in_dir("plain.gguf"), *b = path_in_dir("weighted.gguf");
    CHECK_OK(ctx, quantize(ctx, "q4_k", a, NULL, 0, NULL, &plain));
    CHECK_OK(ctx, quantize(ctx, "q4_k", b, NULL, 0, imp_path, &weighted));
    vkq_gguf *ga = NULL, *gb = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, a, &ga));
    CHECK_OK(ctx, vkq_gguf_open(ctx, b, &gb));
    int better = 0, matrices = 0;
    for (uint64_t i = 0; ga && gb && i < n; i++) {
        if (!imps[i]) continue;
        vkq_gguf_tensor_info t, qa, qb;
        CHECK_OK(ctx, vkq_gguf_tensor(in, i, &t));
        CHECK_OK(ctx, vkq_gguf_tensor_by_name(ga, t.name, &qa));
        CHECK_OK(ctx, vkq_gguf_tensor_by_name(gb, t.name, &qb));
        double ea = tensor_error(&t, &qa, imps[i]), eb = tensor_error(&t, &qb, imps[i]);
        matrices++;
        better += eb < ea;
        CHECK(!plain.tensors[i].has_importance && weighted.tensors[i].has_importance);
        CHECK_MSG(fabs(weighted.tensors[i].weighted_rel_l2 - eb) <= 1e-4 * eb + 1e-7,
                  "%s: report %.6g, measured %.6g", t.name, weighted.tensors[i].weighted_rel_l2,
                  eb);
        CHECK_MSG(eb < 0.97 * ea, "%s: weighted error %.4g with importance, %.4g without",
                  t.name, eb, ea);
    }
    CHECK(matrices > 10 && better == matrices);

    /* An importance tensor of the wrong length is a malformed importance file. */
    CHECK_OK(ctx, vkq__gguf_writer_create(vkq__context_diag(ctx), &w));
    uint64_t ne = 7;
    float seven[7] = {1, 1, 1, 1, 1, 1, 1};
    CHECK_OK(ctx, vkq__gguf_writer_add_tensor(w, "blk.0.attn_q.weight.importance", VKQ_TYPE_F32,
                                              1, &ne, seven));
    CHECK_OK(ctx, vkq__gguf_writer_write_file(w, imp_path));
    vkq__gguf_writer_destroy(w);
    CHECK_STATUS(ctx, quantize(ctx, "q4_k", path_in_dir("bad.gguf"), NULL, 0, imp_path, NULL),
                 VKQ_ERR_BAD_FILE);
    CHECK(access(path_in_dir("bad.gguf"), F_OK) != 0);
    unlink(a), unlink(b); /* before path_in_dir's rotating buffers are reused below */
    /* So is one with a NaN or a negative weight (either would steer every scale search). */
    const float poison[2] = {NAN, -1.0f};
    for (int p = 0; p < 2; p++) {
        float row[N_EMBD];
        uint64_t ne_row = N_EMBD;
        for (int c = 0; c < N_EMBD; c++) row[c] = 1.0f;
        row[N_EMBD / 2] = poison[p];
        CHECK_OK(ctx, vkq__gguf_writer_create(vkq__context_diag(ctx), &w));
        CHECK_OK(ctx, vkq__gguf_writer_add_tensor(w, "blk.0.attn_q.weight.importance", VKQ_TYPE_F32, 1, &ne_row, row));
        CHECK_OK(ctx, vkq__gguf_writer_write_file(w, imp_path));
        vkq__gguf_writer_destroy(w);
        CHECK_STATUS(ctx, quantize(ctx, "q4_k", path_in_dir("bad.gguf"), NULL, 0, imp_path, NULL), VKQ_ERR_BAD_FILE);
        CHECK(access(path_in_dir("bad.gguf"), F_OK) != 0);
    }
    unlink(imp_path);

    vkq_gguf_close(ga), vkq_gguf_close(gb), vkq_gguf_close(in);
    vkq_quantize_report_free(&plain), vkq_quantize_report_free(&weighted);
    for (uint64_t i = 0; i < n; i++) free(imps[i]);
    free(imps), free(names);
}

/* An input with quantized matrices is dequantized first, with a warning. */
static void test_quantized_input(vkq_context *ctx) {
    vkq__synth_desc sd = {.n_embd = N_EMBD, .n_ff = N_FF, .n_layer = 2, .untied_output = true};
    for (int i = 0; i < VKQ__SYNTH_ROLE_COUNT; i++) sd.types[i] = VKQ_TYPE_Q8_0;
    const char *qin = path_in_dir("q8in.gguf"), *out = path_in_dir("q8out.gguf");
    CHECK_OK(ctx, vkq__synth_write_file(vkq__context_diag(ctx), &sd, qin));
    vkq_quantize_desc d = {.input_path = qin, .output_path = out, .type = VKQ_TYPE_Q6_K};
    vkq_quantize_report r;
    int before = warnings;
    CHECK_OK(ctx, vkq_model_quantize(ctx, &d, &r));
    CHECK(warnings == before + 1);
    CHECK(r.n_dequantized == 2 * 7 + 2);
    for (uint64_t i = 0; i < r.n_tensors; i++) {
        const vkq_quantize_tensor_report *t = &r.tensors[i];
        if (t->quantized) {
            CHECK(t->input_type == VKQ_TYPE_Q8_0 && t->type == fitted(VKQ_TYPE_Q6_K, t->ne[0]));
            CHECK_MSG(t->rel_l2 < 0.03, "%s: %.4g", t->name, t->rel_l2);
        }
    }
    vkq_quantize_report_free(&r);
    unlink(qin), unlink(out);
}

static int progress_calls;
static int cancel_at_first(float fraction, void *user_data) {
    (void)fraction, (void)user_data;
    return ++progress_calls >= 1;
}

static void test_errors(vkq_context *ctx) {
    vkq_quantize_report r;
    const char *out = path_in_dir("err.gguf");
    vkq_quantize_desc d = {.input_path = path_in_dir("missing.gguf"), .output_path = out,
                           .target = "q8_0"};
    CHECK_STATUS(ctx, vkq_model_quantize(ctx, &d, &r), VKQ_ERR_NOT_FOUND);
    CHECK(r.tensors == NULL && r.n_tensors == 0);
    CHECK_STATUS(ctx, vkq_model_quantize(NULL, &d, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_model_quantize(ctx, NULL, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, quantize(ctx, "q9_9", out, NULL, 0, NULL, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, quantize(ctx, "q8_1", out, NULL, 0, NULL, NULL), VKQ_ERR_INVALID_ARGUMENT);
    const char *bad1[] = {"blk.*.ffn_down.weight"}, *bad2[] = {"blk.*=q9_0"}, *bad3[] = {"=q8_0"};
    CHECK_STATUS(ctx, quantize(ctx, "q8_0", out, bad1, 1, NULL, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, quantize(ctx, "q8_0", out, bad2, 1, NULL, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, quantize(ctx, "q8_0", out, bad3, 1, NULL, NULL), VKQ_ERR_INVALID_ARGUMENT);
    vkq_quantize_desc two = {.input_path = in_path, .output_path = out, .target = "q8_0",
                             .type = VKQ_TYPE_Q4_0};
    CHECK_STATUS(ctx, vkq_model_quantize(ctx, &two, NULL), VKQ_ERR_INVALID_ARGUMENT);
    vkq_quantize_desc none = {.input_path = in_path, .output_path = out};
    CHECK_STATUS(ctx, vkq_model_quantize(ctx, &none, NULL), VKQ_ERR_INVALID_ARGUMENT);
    vkq_quantize_desc res = {.input_path = in_path, .output_path = out, .target = "q8_0"};
    res.reserved[3] = 1;
    CHECK_STATUS(ctx, vkq_model_quantize(ctx, &res, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, quantize(ctx, "q8_0", path_in_dir("no/such/dir/out.gguf"), NULL, 0, NULL,
                               NULL),
                 VKQ_ERR_IO);
    CHECK(access(path_in_dir("no"), F_OK) != 0);
    CHECK_STATUS(ctx, quantize(ctx, "q8_0", out, NULL, 0, path_in_dir("missing.gguf"), NULL),
                 VKQ_ERR_NOT_FOUND);
    vkq_quantize_desc cancel = {.input_path = in_path, .output_path = out, .target = "q4_k",
                                .progress = cancel_at_first};
    CHECK_STATUS(ctx, vkq_model_quantize(ctx, &cancel, NULL), VKQ_ERR_STATE);
    CHECK(progress_calls == 1);
    CHECK(access(out, F_OK) != 0);
    /* Nothing was left behind by the failures: only the input is in the directory. */
    DIR *dp = opendir(dir);
    int entries = 0;
    for (struct dirent *e; dp && (e = readdir(dp));) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            entries++;
            CHECK_MSG(!strcmp(e->d_name, "in.gguf"), "left behind: %s", e->d_name);
        }
    }
    if (dp) closedir(dp);
    CHECK(entries == 1);
}

int main(void) {
    test_init("model_quantize");
    vkq_context_desc cd = {.mode = VKQ_DEVICE_MODE_NONE, .log = on_log,
                           .log_level = VKQ_LOG_WARN};
    vkq_context *ctx = NULL;
    CHECK_OK(ctx, vkq_context_create(&cd, &ctx));
    snprintf(dir, sizeof dir, "/tmp/vkq_quantize_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(in_path, sizeof in_path, "%s/in.gguf", dir);
    vkq__synth_desc sd = {.n_embd = N_EMBD, .n_ff = N_FF, .n_layer = N_LAYER,
                          .untied_output = true, .seed = vkq_test_seed | 1};
    CHECK_OK(ctx, vkq__synth_write_file(vkq__context_diag(ctx), &sd, in_path));
    CHECK(vkq_quantize_preset_from_name("q4_k_m") == VKQ_QUANTIZE_PRESET_Q4_K_M);
    CHECK(!strcmp(vkq_quantize_preset_name(VKQ_QUANTIZE_PRESET_IQ4_XS), "IQ4_XS"));
    CHECK(vkq_quantize_preset_from_name("q4_k") == VKQ_QUANTIZE_PRESET_NONE);

    test_targets(ctx);
    test_overrides(ctx);
    unlink(path_in_dir("out.gguf")), unlink(path_in_dir("ov.gguf"));
    test_importance(ctx);
    test_quantized_input(ctx);
    test_errors(ctx);

    unlink(in_path);
    rmdir(dir);
    vkq_context_destroy(ctx);
    return test_finish();
}

/* vkq_model_quantize with a size budget (target_bpw, target_size) on a synthetic F32 model: the
 * budget is met and nearly spent, a larger budget never gives a larger total error, the output
 * reloads with the types the report names, overrides stay fixed, the search is the same for any
 * thread count, and impossible or conflicting budgets fail with exact codes, writing nothing.
 * Also the allocator itself (budget.c) on hand-made items. CPU only. */
#include "common/test.h"
#include "gguf/gguf.h"
#include "quant/budget.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_LAYER 3
#define N_EMBD 256
#define N_FF 288 /* ffn_down rows are 288 long: candidates q4_0 q5_0 q8_0 */

static char dir[256];
static char in_path[300];
static char last_message[1024];

static void on_log(vkq_log_level level, const char *message, void *user_data) {
    (void)user_data;
    if (level == VKQ_LOG_ERROR) snprintf(last_message, sizeof last_message, "%s", message);
}

static const char *path_in_dir(const char *name) {
    static char buf[4][320];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static vkq_status quantize_bpw(vkq_context *ctx, double bpw, const char *out, uint32_t threads,
                               const char *const *overrides, uint32_t n, vkq_quantize_report *r) {
    vkq_quantize_desc d = {.input_path = in_path, .output_path = out, .target_bpw = bpw,
                           .overrides = overrides, .n_overrides = n, .threads = threads};
    return vkq_model_quantize(ctx, &d, r);
}

static bool is_candidate(vkq_type t, uint64_t ne0) {
    vkq_type c[VKQ__BUDGET_MAX_CANDIDATES];
    uint32_t n = vkq__budget_candidates(ne0, c);
    for (uint32_t i = 0; i < n; i++) {
        if (c[i] == t) return true;
    }
    return false;
}

/* The largest single move the search can make: one matrix from its cheapest candidate to its
 * dearest. The bytes a budget leaves unspent are fewer than this. */
static uint64_t largest_step(const vkq_quantize_report *r) {
    uint64_t most = 0;
    for (uint64_t i = 0; i < r->n_tensors; i++) {
        const vkq_quantize_tensor_report *t = &r->tensors[i];
        vkq_type c[VKQ__BUDGET_MAX_CANDIDATES];
        uint32_t n = t->quantized ? vkq__budget_candidates(t->ne[0], c) : 0;
        if (!n) continue;
        uint64_t blocks = t->elements / vkq_type_block_elements(c[0]); /* all 32 or 256 */
        uint64_t lo = blocks * vkq_type_block_bytes(c[0]);
        uint64_t hi = t->elements / vkq_type_block_elements(c[n - 1]) *
                      vkq_type_block_bytes(c[n - 1]);
        most = VKQ__MAX(most, hi - lo);
    }
    return most;
}

/* The output reloads; each tensor has the report's type, matrices a candidate's; the plain
 * squared error of the output sums to the report's error_energy (no importance here). */
static void check_output(vkq_context *ctx, const char *path, const vkq_quantize_report *r) {
    vkq_gguf *in = NULL, *out = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, in_path, &in));
    CHECK_OK(ctx, vkq_gguf_open(ctx, path, &out));
    if (!in || !out) goto done;
    CHECK(vkq_gguf_tensor_count(out) == r->n_tensors);
    uint32_t ftype = 0;
    CHECK(vkq_gguf_get_u32(out, "general.file_type", &ftype) == VKQ_OK && ftype == r->file_type);
    double energy = 0;
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < r->n_tensors; i++) {
        vkq_gguf_tensor_info a, b;
        CHECK_OK(ctx, vkq_gguf_tensor(in, i, &a));
        CHECK_OK(ctx, vkq_gguf_tensor_by_name(out, a.name, &b));
        const vkq_quantize_tensor_report *t = &r->tensors[i];
        CHECK(b.type == t->type && t->bytes == b.bytes);
        if (a.n_dims == 1) CHECK(b.type == VKQ_TYPE_F32);
        else CHECK_MSG(is_candidate(b.type, a.ne[0]), "%s: %s", a.name, vkq_type_name(b.type));
        float *y = malloc(b.elements * sizeof *y);
        CHECK(vkq_dequantize(b.type, b.data, y, b.elements) == VKQ_OK);
        const float *x = a.data;
        for (uint64_t k = 0; k < a.elements; k++) energy += ((double)y[k] - x[k]) * (y[k] - x[k]);
        free(y);
        bytes += b.bytes;
    }
    CHECK(bytes == r->output_bytes);
    CHECK_MSG(fabs(energy - r->error_energy) <= 1e-6 * energy, "error energy %.9g, report %.9g",
              energy, r->error_energy);
done:
    vkq_gguf_close(out);
    vkq_gguf_close(in);
}

static void test_bpw(vkq_context *ctx) {
    static const double targets[] = {3.0, 3.6, 4.5, 6.0, 7.5};
    double prev_error = INFINITY;
    const char *out = path_in_dir("bpw.gguf");
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        vkq_quantize_report r;
        CHECK_OK(ctx, quantize_bpw(ctx, targets[i], out, 4, NULL, 0, &r));
        uint64_t budget = (uint64_t)floor(targets[i] * (double)r.elements / 8.0);
        CHECK(r.budget_bytes == budget && r.output_bytes <= budget);
        CHECK_MSG(r.bits_per_weight <= targets[i], "target %.2f: %.4f", targets[i],
                  r.bits_per_weight);
        uint64_t step = largest_step(&r);
        CHECK_MSG(budget - r.output_bytes < step, "target %.2f: %llu bytes unspent, step %llu",
                  targets[i], (unsigned long long)(budget - r.output_bytes),
                  (unsigned long long)step);
        CHECK_MSG(r.error_energy <= prev_error * (1 + 1e-12), "target %.2f: error %.6g after %.6g",
                  targets[i], r.error_energy, prev_error);
        prev_error = r.error_energy;
        printf("target %.2f bpw: %.4f bpw, error energy %.6g, file_type %u\n", targets[i],
               r.bits_per_weight, r.error_energy, r.file_type);
        if (targets[i] == 3.0 || targets[i] == 4.5 || targets[i] == 6.0) check_output(ctx, out, &r);
        vkq_quantize_report_free(&r);
    }
    unlink(out);
}

/* The same choice for any thread count: the errors are summed row by row in row order. */
static void test_deterministic(vkq_context *ctx) {
    vkq_quantize_report a, b;
    const char *out = path_in_dir("det.gguf");
    CHECK_OK(ctx, quantize_bpw(ctx, 4.2, out, 1, NULL, 0, &a));
    CHECK_OK(ctx, quantize_bpw(ctx, 4.2, out, 3, NULL, 0, &b));
    CHECK(a.n_tensors == b.n_tensors && a.output_bytes == b.output_bytes);
    CHECK(a.error_energy == b.error_energy);
    for (uint64_t i = 0; i < a.n_tensors && i < b.n_tensors; i++) {
        CHECK(a.tensors[i].type == b.tensors[i].type);
    }
    vkq_quantize_report_free(&a), vkq_quantize_report_free(&b);
    unlink(out);
}

static void test_size(vkq_context *ctx) {
    vkq_quantize_report ref, r;
    const char *out = path_in_dir("size.gguf");
    vkq_quantize_desc d = {.input_path = in_path, .output_path = out, .target = "q4_k_m"};
    CHECK_OK(ctx, vkq_model_quantize(ctx, &d, &ref));
    vkq_quantize_desc b = {.input_path = in_path, .output_path = out,
                           .target_size = ref.output_file_size};
    CHECK_OK(ctx, vkq_model_quantize(ctx, &b, &r));
    CHECK_MSG(r.output_file_size <= ref.output_file_size, "%llu > %llu",
              (unsigned long long)r.output_file_size, (unsigned long long)ref.output_file_size);
    CHECK(r.budget_bytes < ref.output_file_size && r.output_bytes <= r.budget_bytes);
    /* At the size of Q4_K_M, the search does at least as well as the preset by its measure. */
    CHECK_MSG(r.error_energy <= ref.error_energy, "budget %.6g, q4_k_m %.6g", r.error_energy,
              ref.error_energy);
    printf("size %llu (q4_k_m): %llu bytes, error energy %.6g vs %.6g\n",
           (unsigned long long)ref.output_file_size, (unsigned long long)r.output_file_size,
           r.error_energy, ref.error_energy);
    vkq_quantize_report_free(&ref), vkq_quantize_report_free(&r);
    unlink(out);
}

static void test_overrides(vkq_context *ctx) {
    const char *ov[] = {"blk.*.ffn_up.weight=q8_0", "token_embd.weight=q2_k",
                        "blk.1.attn_q.weight=iq4_nl"};
    vkq_quantize_report r;
    const char *out = path_in_dir("ov.gguf");
    CHECK_OK(ctx, quantize_bpw(ctx, 5.0, out, 2, ov, 3, &r));
    CHECK(r.bits_per_weight <= 5.0);
    vkq_gguf *g = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, out, &g));
    vkq_gguf_tensor_info t;
    for (int l = 0; g && l < N_LAYER; l++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.ffn_up.weight", l);
        CHECK(vkq_gguf_tensor_by_name(g, name, &t) == VKQ_OK && t.type == VKQ_TYPE_Q8_0);
    }
    CHECK(g && vkq_gguf_tensor_by_name(g, "token_embd.weight", &t) == VKQ_OK &&
          t.type == VKQ_TYPE_Q2_K);
    CHECK(g && vkq_gguf_tensor_by_name(g, "blk.1.attn_q.weight", &t) == VKQ_OK &&
          t.type == VKQ_TYPE_IQ4_NL);
    vkq_gguf_close(g);
    vkq_quantize_report_free(&r);
    /* With every ffn_up in q8_0, 3 bits/weight cannot be reached: the message says what can. */
    CHECK_STATUS(ctx, quantize_bpw(ctx, 3.0, out, 2, ov, 3, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_MSG(strstr(last_message, "smallest reachable"), "%s", last_message);
    unlink(out);
}

static int progress_calls;
static int cancel_at_third(float fraction, void *user_data) {
    (void)fraction, (void)user_data;
    return ++progress_calls >= 3;
}

static void test_errors(vkq_context *ctx) {
    const char *out = path_in_dir("err.gguf");
    vkq_quantize_report r;
    CHECK_STATUS(ctx, quantize_bpw(ctx, 2.0, out, 2, NULL, 0, &r), VKQ_ERR_INVALID_ARGUMENT);
    CHECK(r.tensors == NULL && r.n_tensors == 0);
    CHECK_MSG(strstr(last_message, "smallest reachable"), "%s", last_message);
    CHECK_STATUS(ctx, quantize_bpw(ctx, -1.0, out, 2, NULL, 0, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, quantize_bpw(ctx, NAN, out, 2, NULL, 0, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, quantize_bpw(ctx, 65.0, out, 2, NULL, 0, NULL), VKQ_ERR_INVALID_ARGUMENT);
    vkq_quantize_desc d = {.input_path = in_path, .output_path = out, .target_size = 4096};
    CHECK_STATUS(ctx, vkq_model_quantize(ctx, &d, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_MSG(strstr(last_message, "smallest reachable"), "%s", last_message);
    d.target_bpw = 4.5; /* both */
    d.target_size = 1u << 30;
    CHECK_STATUS(ctx, vkq_model_quantize(ctx, &d, NULL), VKQ_ERR_INVALID_ARGUMENT);
    vkq_quantize_desc p = {.input_path = in_path, .output_path = out, .target_bpw = 4.5,
                           .preset = VKQ_QUANTIZE_PRESET_Q4_K_M};
    CHECK_STATUS(ctx, vkq_model_quantize(ctx, &p, NULL), VKQ_ERR_INVALID_ARGUMENT);
    vkq_quantize_desc t = {.input_path = in_path, .output_path = out, .target_size = 1u << 30,
                           .target = "q4_0"};
    CHECK_STATUS(ctx, vkq_model_quantize(ctx, &t, NULL), VKQ_ERR_INVALID_ARGUMENT);
    vkq_quantize_desc c = {.input_path = in_path, .output_path = out, .target_bpw = 4.5,
                           .progress = cancel_at_third}; /* during the measuring passes */
    CHECK_STATUS(ctx, vkq_model_quantize(ctx, &c, NULL), VKQ_ERR_STATE);
    CHECK(progress_calls == 3);
    CHECK(access(out, F_OK) != 0);
}

/* The allocator alone: hull, order, stop rule, infeasible budgets. */
static void test_allocate(void) {
    /* Item 0: the middle point is off the hull (it removes less per byte than going on). */
    vkq__budget_item items[2] = {
        {.n = 3, .bytes = {100, 150, 200}, .error = {10, 9, 0}},
        {.n = 2, .bytes = {50, 80}, .error = {4, 1}}, /* rate 0.1 per byte */
    };
    uint64_t least = 0, total = 0;
    double err = 0;
    CHECK(vkq__budget_allocate(items, 2, 7, 156, &least, &total, &err) == VKQ_ERR_INVALID_ARGUMENT);
    CHECK(least == 157 && items[0].chosen == 0 && items[1].chosen == 0);
    /* 157 + 30: item 1's step (30 bytes) fits; item 0's (100 bytes, rate 0.1) does not. */
    CHECK(vkq__budget_allocate(items, 2, 7, 187, &least, &total, &err) == VKQ_OK);
    CHECK(items[0].chosen == 0 && items[1].chosen == 1 && total == 187 && err == 11);
    /* 157 + 100: item 0's step (rate 0.1, lower index first on the tie) takes it all. */
    CHECK(vkq__budget_allocate(items, 2, 7, 257, &least, &total, &err) == VKQ_OK);
    CHECK(items[0].chosen == 2 && items[1].chosen == 0 && total == 257 && err == 4);
    CHECK(vkq__budget_allocate(items, 2, 7, 1000, &least, &total, &err) == VKQ_OK);
    CHECK(items[0].chosen == 2 && items[1].chosen == 1 && total == 287 && err == 1);
    /* A dearer candidate that is no better is never chosen; NaN counts as worst. */
    vkq__budget_item d = {.n = 3, .bytes = {10, 20, 30}, .error = {NAN, 5, 5}};
    CHECK(vkq__budget_allocate(&d, 1, 0, 100, &least, &total, &err) == VKQ_OK);
    CHECK(d.chosen == 1 && total == 20 && least == 10);
    vkq_type c[VKQ__BUDGET_MAX_CANDIDATES];
    CHECK(vkq__budget_candidates(512, c) == 6 && c[0] == VKQ_TYPE_Q2_K && c[5] == VKQ_TYPE_Q8_0);
    CHECK(vkq__budget_candidates(96, c) == 3 && c[0] == VKQ_TYPE_Q4_0);
    CHECK(vkq__budget_candidates(100, c) == 0 && vkq__budget_candidates(0, c) == 0);
}

int main(void) {
    test_init("quantize_budget");
    vkq_context_desc cd = {.mode = VKQ_DEVICE_MODE_NONE, .log = on_log,
                           .log_level = VKQ_LOG_WARN};
    vkq_context *ctx = NULL;
    CHECK_OK(ctx, vkq_context_create(&cd, &ctx));
    snprintf(dir, sizeof dir, "/tmp/vkq_budget_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(in_path, sizeof in_path, "%s/in.gguf", dir);
    vkq__synth_desc sd = {.n_embd = N_EMBD, .n_ff = N_FF, .n_layer = N_LAYER,
                          .untied_output = true, .seed = vkq_test_seed | 1};
    CHECK_OK(ctx, vkq__synth_write_file(vkq__context_diag(ctx), &sd, in_path));

    test_allocate();
    test_bpw(ctx);
    test_deterministic(ctx);
    test_size(ctx);
    test_overrides(ctx);
    test_errors(ctx);

    unlink(in_path);
    rmdir(dir);
    vkq_context_destroy(ctx);
    return test_finish();
}

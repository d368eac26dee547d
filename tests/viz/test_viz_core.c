/* The viewer's parts that need no GPU: the report loader (the fixture, unknown keys, null and
 * missing values, and every truncation of a valid report: no crash), colours, the heatmap
 * layout, the quantization grids of every format, and a tensor's weights through the public
 * API. */
#include "colormap.h"
#include "fixture.h"
#include "grid.h"
#include "layout.h"
#include "report.h"
#include "common/test.h"
#include "weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    return buf;
}

static void test_report(const char *dir) {
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/report.json", dir);
    viz_report *r = viz_report_load(path, err, sizeof err);
    CHECK_MSG(r != NULL, "%s", err);
    if (!r) return;
    CHECK(r->n_formats == FIX_FORMATS && r->n_roles == FIX_ROLES);
    CHECK(r->n_layer == FIX_LAYERS);
    CHECK(r->n_tensors == FIX_LAYERS * (FIX_ROLES - 1) + 1);
    CHECK(!strcmp(r->model_name, "fixture \"model\""));
    CHECK(r->has_weighted && r->calibration[0]);
    CHECK(r->n_activations == FIX_FORMATS && r->activations[1].format == 1);
    CHECK(r->activations[0].n_accumulated == FIX_LAYERS && r->activations[0].n_isolated == FIX_LAYERS);
    int t = viz_report_tensor_index(r, "blk.1.attn_v.weight");
    CHECK(t >= 0 && isnan(viz_metric_value(r, t, 0, VIZ_METRIC_SQNR))); /* left out */
    t = viz_report_tensor_index(r, "blk.2.attn_q.weight");
    CHECK(t >= 0 && isinf(viz_metric_value(r, t, 1, VIZ_METRIC_SQNR))); /* null */
    t = viz_report_tensor_index(r, "blk.2.ffn_down.weight");
    CHECK(t >= 0 && fabs(viz_metric_value(r, t, 2, VIZ_METRIC_SQNR) - fix_sqnr(2, 6, 2)) < 1e-12);
    CHECK(t >= 0 && r->tensors[t].layer == 2 && r->tensors[t].ne[0] == 512);
    t = viz_report_tensor_index(r, "token_embd.weight");
    CHECK(t >= 0 && r->tensors[t].layer == -1 && r->tensors[t].role == 7);

    /* badness follows the metric's direction */
    CHECK(viz_badness(VIZ_METRIC_SQNR, 10, 10, 30) == 1.0);
    CHECK(viz_badness(VIZ_METRIC_SQNR, INFINITY, 10, 30) == 0.0);
    CHECK(viz_badness(VIZ_METRIC_REL_L2, 0.3, 0.1, 0.3) == 1.0);
    CHECK(fabs(viz_badness(VIZ_METRIC_REL_L2, 0.01, 0.001, 0.1) - 0.5) < 1e-12); /* log scale */
    CHECK(viz_badness(VIZ_METRIC_REL_L2, 0.0, 0.001, 0.1) == 0.0);
    CHECK(isnan(viz_badness(VIZ_METRIC_REL_L2, NAN, 0.1, 0.3)));
    uint8_t c0[4], c1[4];
    viz_colormap(0, c0);
    viz_colormap(1, c1);
    CHECK(c0[2] > c0[0] && c1[0] > c1[2]); /* blue for least error, red for most */

    /* layout: two panels side by side, cells inside the image, none overlapping */
    viz_heatmap_layout l;
    viz_heatmap_layout_compute(r, 0, 1000, 640, &l);
    CHECK(l.n_panels == 2 && l.formats[1] == 1 && l.has_global_row && l.n_rows == FIX_LAYERS + 1);
    CHECK(l.grid[1].x >= l.grid[0].x + l.grid[0].w);
    viz_rect last = viz_heatmap_cell(&l, 1, l.n_rows - 1, l.n_cols - 1);
    CHECK(last.x + last.w <= 1000 && last.y + last.h <= 640 - 24);
    CHECK(viz_heatmap_tensor(r, &l, l.n_rows - 1, 7) == viz_report_tensor_index(r, "token_embd.weight"));
    viz_report_free(r);

    /* every prefix of a valid report: an error or a report, never a crash */
    size_t len;
    char *text = slurp(path, &len);
    CHECK(text != NULL);
    int parsed = 0;
    for (size_t n = 0; text && n < len; n += 7) {
        viz_report *p = viz_report_parse(text, n, err, sizeof err);
        if (p) parsed++;
        else CHECK(err[0] != 0);
        viz_report_free(p);
    }
    /* and with one byte changed at many places */
    for (size_t i = 0; text && i < len; i += 13) {
        char saved = text[i];
        text[i] = (char)(i * 31 + 7);
        viz_report_free(viz_report_parse(text, len, err, sizeof err));
        text[i] = saved;
    }
    free(text);
}

static void test_grids(void) {
    static const vkq_type types[] = {VKQ_TYPE_Q4_0, VKQ_TYPE_Q4_1, VKQ_TYPE_Q5_0, VKQ_TYPE_Q5_1,
                                     VKQ_TYPE_Q8_0, VKQ_TYPE_Q2_K, VKQ_TYPE_Q3_K, VKQ_TYPE_Q4_K,
                                     VKQ_TYPE_Q5_K, VKQ_TYPE_Q6_K, VKQ_TYPE_IQ4_NL,
                                     VKQ_TYPE_IQ4_XS};
    enum { N = 1024 };
    float x[N], y[N], vals[VIZ_GRID_MAX];
    uint8_t q[N * 2];
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        vkq_type t = types[k];
        for (int i = 0; i < N; i++) x[i] = test_rand_normal() * (i % 97 == 0 ? 4.0f : 0.05f);
        size_t written;
        CHECK(vkq_quantize(t, x, q, N, NULL, &written) == VKQ_OK);
        CHECK(vkq_dequantize(t, q, y, N) == VKQ_OK);
        uint32_t be = vkq_type_block_elements(t), bb = vkq_type_block_bytes(t);
        int off_grid = 0;
        for (uint32_t b = 0; b < N / be; b++) {
            for (uint32_t e = 0; e < be; e++) {
                viz_grid_kind kind;
                int sub, n = viz_grid(t, q + b * bb, y + b * be, (int)e, vals, &kind, &sub);
                CHECK(n > 0 && kind != VIZ_GRID_NONE && sub > 0 && be % (uint32_t)sub == 0);
                float v = y[b * be + e], best = INFINITY, scale = 1e-30f;
                for (int i = 0; i < n; i++) {
                    best = fminf(best, fabsf(vals[i] - v));
                    scale = fmaxf(scale, fabsf(vals[i]));
                    if (i) CHECK(vals[i] >= vals[i - 1]);
                }
                if (best > scale * 1e-5f + 1e-12f) off_grid++;
            }
        }
        CHECK_MSG(off_grid == 0, "%s: %d decoded values are not on their block's grid",
                  vkq_type_name(t), off_grid);
    }
}

static void test_weights(const char *dir) {
    vkq_context_desc cd = {.mode = VKQ_DEVICE_MODE_NONE};
    vkq_context *ctx = NULL;
    CHECK(vkq_context_create(&cd, &ctx) == VKQ_OK);
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    vkq_gguf *g = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, path, &g));
    viz_weights w;
    int ok = viz_weights_load(ctx, g, "blk.0.ffn_down.weight", VKQ_TYPE_Q4_K, 1 << 20, &w, err,
                              sizeof err);
    CHECK_MSG(ok, "%s", err);
    if (ok) {
        CHECK(w.ne0 == 512 && w.rows == 256 && w.total_rows == 256 && w.q && w.blocks);
        uint64_t sum = 0;
        for (int b = 0; b < VIZ_HIST_BINS; b++) sum += w.hist[b];
        CHECK(sum == w.rows * w.ne0);
        CHECK(w.rel_l2 > 0 && w.rel_l2 < 0.3);
        CHECK(w.n_worst_rows == VIZ_WORST && w.n_worst_blocks == VIZ_WORST);
        for (int i = 1; i < VIZ_WORST; i++) {
            CHECK(w.worst_rows[i].error <= w.worst_rows[i - 1].error);
            CHECK(w.worst_blocks[i].sq_error <= w.worst_blocks[i - 1].sq_error);
        }
    }
    viz_weights_free(&w);
    /* capped rows, and a format whose block does not divide the rows */
    ok = viz_weights_load(ctx, g, "blk.0.attn_q.weight", VKQ_TYPE_Q8_0, 256 * 10, &w, err,
                          sizeof err);
    CHECK(ok && w.rows == 10 && w.total_rows == 256);
    viz_weights_free(&w);
    CHECK(!viz_weights_load(ctx, g, "no.such.weight", VKQ_TYPE_Q8_0, 1024, &w, err, sizeof err));
    CHECK(strstr(err, "no.such.weight") != NULL);
    vkq_gguf_close(g);
    vkq_context_destroy(ctx);
}

int main(void) {
    test_init("test_viz_core");
    char dir[64] = "/tmp/vkq-viz-core-XXXXXX";
    if (!mkdtemp(dir) || !fix_write(dir, 1)) {
        CHECK_MSG(0, "cannot write the fixture");
        return test_finish();
    }
    test_report(dir);
    test_grids();
    test_weights(dir);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_finish();
}

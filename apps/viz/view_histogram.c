/* Histogram: one tensor's weights, the quantization grid of one of its blocks on top, and its
 * worst rows (output channels) and blocks after a round trip through the format. */
#include "app.h"
#include "colormap.h"
#include "grid.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void worst_list(viz_app *a, viz_rect box, const viz_input *in) {
    viz_draw *d = &a->draw;
    const viz_weights *w = &a->weights;
    char buf[160];
    float y = box.y;
    viz_text(d, box.x, y, "worst rows (output channels), relative L2", VIZ_FONT_SMALL, VIZ_FG);
    y += 22;
    for (int i = 0; i < w->n_worst_rows; i++, y += 18) {
        snprintf(buf, sizeof buf, "row %-6llu   %.4g", (unsigned long long)w->worst_rows[i].index,
                 w->worst_rows[i].error);
        viz_text(d, box.x + 8, y, buf, VIZ_FONT_SMALL, VIZ_DIM);
    }
    y += 14;
    snprintf(buf, sizeof buf, "worst blocks of %u, squared error (click: grid)", w->block_elements);
    viz_text(d, box.x, y, buf, VIZ_FONT_SMALL, VIZ_FG);
    y += 22;
    for (int i = 0; i < w->n_worst_blocks; i++, y += 18) {
        const viz_worst *b = &w->worst_blocks[i];
        uint64_t bpr = w->ne0 / w->block_elements, col = (b->index % bpr) * w->block_elements;
        snprintf(buf, sizeof buf, "row %llu, cols %llu-%llu:  %.3g  (rel. %.3g)",
                 (unsigned long long)b->row, (unsigned long long)col,
                 (unsigned long long)(col + w->block_elements - 1), b->sq_error, b->error);
        viz_rect hit = {box.x, y - 1, box.w, 18};
        if (i == a->block_pick) viz_fill(d, hit.x, hit.y, hit.w, hit.h, VIZ_PANEL);
        viz_text(d, box.x + 8, y, buf, VIZ_FONT_SMALL, i == a->block_pick ? VIZ_ACCENT : VIZ_DIM);
        if (viz_rect_contains(hit, in->mx, in->my)) {
            snprintf(a->tooltip, sizeof a->tooltip, "block %llu: show its quantization grid",
                     (unsigned long long)b->index);
            if (in->clicked) a->block_pick = i;
        }
    }
}

void viz_view_histogram(viz_app *a, viz_rect area, const viz_input *in) {
    const viz_report *r = a->report;
    viz_draw *d = &a->draw;
    if (a->tensor < 0) a->tensor = viz_app_worst_tensor(a);
    int before = a->weights_tensor;
    viz_app_need_weights(a);
    if (a->weights_tensor != before) a->block_pick = 0;
    const viz_weights *w = &a->weights;
    if (!w->x) {
        viz_message(a, area, "No weights to show.", a->weights_error);
        return;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s   %llu rows of %llu, stored as %s", w->name,
             (unsigned long long)w->total_rows, (unsigned long long)w->ne0,
             vkq_type_name(w->source_type));
    viz_text(d, area.x + 16, area.y + 8, buf, VIZ_FONT_LARGE, VIZ_FG);
    if (w->format != VKQ_TYPE_NONE) {
        snprintf(buf, sizeof buf, "as %s: relative L2 %.4g over %s%llu rows (report: %.4g)",
                 vkq_type_name(w->format), w->rel_l2, w->rows < w->total_rows ? "the first " : "",
                 (unsigned long long)w->rows,
                 viz_metric_value(r, a->tensor, a->format, VIZ_METRIC_REL_L2));
    } else {
        snprintf(buf, sizeof buf, "%s", w->note);
    }
    viz_text(d, area.x + 16, area.y + 34, buf, VIZ_FONT_SMALL, VIZ_DIM);

    float list_w = area.w * 0.34f > 420 ? 420 : area.w * 0.34f;
    viz_rect p = {area.x + 80, area.y + 92, area.w - list_w - 130, area.h - 150};
    char xlabel[160];
    snprintf(xlabel, sizeof xlabel, "weight value (range %.3g to %.3g%s)", w->min, w->max,
             w->outside ? "; the edge bins hold the values beyond 6 standard deviations" : "");
    viz_axes(a, p, w->hist_lo, w->hist_hi, 0, w->hist_max ? w->hist_max * 1.08 : 1, xlabel,
             "weights per bin (count)", 0);
    float bw = p.w / VIZ_HIST_BINS, yscale = p.h / (float)(w->hist_max ? w->hist_max * 1.08 : 1);
    static const viz_color bar = {96, 140, 200, 255}, bar_hot = {150, 190, 240, 255};
    double bin = (w->hist_hi - w->hist_lo) / VIZ_HIST_BINS;
    for (int b = 0; b < VIZ_HIST_BINS; b++) {
        float h = (float)w->hist[b] * yscale, x = p.x + b * bw;
        viz_rect hit = {x, p.y, bw, p.h};
        int hot = viz_rect_contains(hit, in->mx, in->my);
        viz_fill(d, x + 0.5f, p.y + p.h - h, bw - 1, h, hot ? bar_hot : bar);
        if (hot) {
            snprintf(a->tooltip, sizeof a->tooltip, "weights in [%.5g, %.5g): %u",
                     w->hist_lo + b * bin, w->hist_lo + (b + 1) * bin, w->hist[b]);
        }
    }
    /* the grid of the picked block, at the sub-block holding its largest error */
    if (w->q && a->block_pick < w->n_worst_blocks) {
        const viz_worst *wb = &w->worst_blocks[a->block_pick];
        const float *x = w->x + wb->index * w->block_elements;
        const float *q = w->q + wb->index * w->block_elements;
        int worst_e = 0;
        for (uint32_t j = 1; j < w->block_elements; j++) {
            if (fabsf(x[j] - q[j]) > fabsf(x[worst_e] - q[worst_e])) worst_e = (int)j;
        }
        float vals[VIZ_GRID_MAX];
        viz_grid_kind kind;
        int sub, n = viz_grid(w->format, w->blocks + wb->index * w->block_bytes, q, worst_e,
                              vals, &kind, &sub);
        double span = w->hist_hi - w->hist_lo;
        for (int i = 0; i < n; i++) {
            if (vals[i] < w->hist_lo || vals[i] > w->hist_hi) continue;
            float gx = p.x + (float)((vals[i] - w->hist_lo) / span) * p.w;
            viz_fill(d, gx - 0.5f, p.y, 1.5f, p.h, (const uint8_t[4]){255, 140, 50, 190});
        }
        /* the sub-block's weights as ticks under the axis, snapped values above them */
        int s0 = worst_e / sub * sub;
        for (int j = s0; j < s0 + sub && j < (int)w->block_elements; j++) {
            if (x[j] < w->hist_lo || x[j] > w->hist_hi || q[j] < w->hist_lo || q[j] > w->hist_hi) {
                continue;
            }
            float xo = p.x + (float)((x[j] - w->hist_lo) / span) * p.w;
            float xq = p.x + (float)((q[j] - w->hist_lo) / span) * p.w;
            viz_fill(d, xo - 1, p.y + p.h - 10, 2, 10, VIZ_FG);
            viz_line(d, xo, p.y + p.h - 10, xq, p.y + p.h - 22, 1, VIZ_FG);
        }
        snprintf(buf, sizeof buf,
                 "orange: the %s grid (%d values) of block %llu, elements %d-%d; white: their "
                 "weights -> quantized", viz_grid_kind_name(kind), n,
                 (unsigned long long)wb->index, s0, s0 + sub - 1);
        viz_text(d, area.x + 16, area.y + 54, buf, VIZ_FONT_SMALL, VIZ_ACCENT);
    }
    if (w->q) worst_list(a, (viz_rect){p.x + p.w + 40, area.y + 92, list_w, p.h}, in);
}

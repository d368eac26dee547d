/* Heatmap: layers x tensor roles, coloured by the metric, two formats side by side. */
#include "app.h"
#include "colormap.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static double mean_bpw(const viz_report *r, int f) {
    double bits = 0, n = 0;
    for (int t = 0; t < r->n_tensors; t++) {
        const viz_tensor_format *tf = &r->tensors[t].formats[f];
        if (!tf->present || !isfinite(tf->bytes)) continue;
        double el = 1;
        for (int i = 0; i < r->tensors[t].n_dims; i++) el *= (double)r->tensors[t].ne[i];
        bits += tf->bytes * 8;
        n += el;
    }
    return n > 0 ? bits / n : NAN;
}

static void cell_tooltip(viz_app *a, int t, int f) {
    const viz_report *r = a->report;
    const viz_tensor *ts = &r->tensors[t];
    const viz_tensor_format *tf = &ts->formats[f];
    char sq[48], rl[48], wr[48];
    viz_metric_format(VIZ_METRIC_SQNR, tf->sqnr_db, sq, sizeof sq);
    viz_metric_format(VIZ_METRIC_REL_L2, tf->rel_l2, rl, sizeof rl);
    viz_metric_format(VIZ_METRIC_WEIGHTED, tf->weighted_rel_l2, wr, sizeof wr);
    if (!tf->present) {
        snprintf(a->tooltip, sizeof a->tooltip, "%s\n%s: not in the report", ts->name,
                 r->formats[f]);
        return;
    }
    snprintf(a->tooltip, sizeof a->tooltip,
             "%s  (%llu x %llu, source %s)\n%s as %s: %.3f bits per weight, %.0f bytes\n"
             "SQNR %s    relative L2 %s    weighted rel. L2 %s\n"
             "cosine %.6f    max |error| %.4g    clipped %.3g%%\nclick: histogram of this tensor",
             ts->name, (unsigned long long)ts->ne[0], (unsigned long long)ts->ne[1],
             ts->source_type[0] ? ts->source_type : "?", r->formats[f],
             tf->type[0] ? tf->type : r->formats[f], tf->bpw, tf->bytes, sq, rl, wr, tf->cosine,
             tf->max_abs, tf->clipped_fraction * 100);
}

static void legend(viz_app *a, const viz_heatmap_layout *l, double lo, double hi) {
    viz_draw *d = &a->draw;
    viz_rect g = l->legend;
    const int steps = 64;
    for (int i = 0; i < steps; i++) {
        uint8_t c[4];
        viz_colormap((i + 0.5) / steps, c);
        float x0 = g.x + floorf(g.w * i / steps), x1 = g.x + floorf(g.w * (i + 1) / steps);
        viz_fill(d, x0, g.y, x1 - x0, g.h, c);
    }
    viz_outline(d, g.x - 1, g.y - 1, g.w + 2, g.h + 2, 1, VIZ_GRIDLINE);
    char left[64], right[64], mid[64];
    int hib = viz_metric_higher_is_better(a->metric);
    viz_metric_format(a->metric, hib ? hi : lo, left, sizeof left);
    viz_metric_format(a->metric, hib || lo <= 0 ? (lo + hi) * 0.5 : sqrt(lo * hi), mid, sizeof mid);
    viz_metric_format(a->metric, hib ? lo : hi, right, sizeof right);
    viz_text(d, g.x, g.y + g.h + 4, left, VIZ_FONT_SMALL, VIZ_DIM);
    viz_text_center(d, g.x + g.w * 0.5f, g.y + g.h + 4, mid, VIZ_FONT_SMALL, VIZ_DIM);
    viz_text_right(d, g.x + g.w, g.y + g.h + 4, right, VIZ_FONT_SMALL, VIZ_DIM);
    char cap[160];
    snprintf(cap, sizeof cap, "colour: %s, least error on the left%s", viz_metric_label(a->metric),
             hib || lo <= 0 ? "" : " (log scale)");
    float cy = g.y + g.h + 24;
    float cw = viz_text(d, g.x, cy, cap, VIZ_FONT_SMALL, VIZ_FG);
    uint8_t miss[4];
    viz_color_missing(miss);
    viz_fill(d, g.x + cw + 24, cy + 3, 12, 12, miss);
    viz_text(d, g.x + cw + 42, cy, "no value in the report", VIZ_FONT_SMALL, VIZ_DIM);
}

void viz_view_heatmap(viz_app *a, viz_rect area, const viz_input *in) {
    const viz_report *r = a->report;
    viz_draw *d = &a->draw;
    if (r->n_tensors == 0 || r->n_roles == 0) {
        viz_message(a, area, "The report has no tensors.", "Run vkq analyze on a model first.");
        return;
    }
    viz_heatmap_layout l;
    viz_heatmap_layout_compute(r, a->format, a->width, a->height, &l);
    double lo, hi;
    viz_heatmap_range(r, &l, a->metric, &lo, &hi);
    int label_every = l.cell_h >= 15 ? 1 : l.cell_h >= 6 ? 5 : 10;
    for (int p = 0; p < l.n_panels; p++) {
        int f = l.formats[p];
        char title[128], buf[32];
        double bpw = mean_bpw(r, f);
        if (isfinite(bpw)) snprintf(title, sizeof title, "%s   (%.2f bits per weight)", r->formats[f], bpw);
        else snprintf(title, sizeof title, "%s", r->formats[f]);
        viz_text(d, l.grid[p].x, l.title[p].y, title, VIZ_FONT_LARGE, p == 0 ? VIZ_ACCENT : VIZ_FG);
        for (int c = 0; c < l.n_cols; c++) {
            viz_rect cell = viz_heatmap_cell(&l, p, 0, c);
            const char *s = viz_role_short(r->roles[c], buf, sizeof buf);
            viz_text_center(d, cell.x + cell.w * 0.5f, l.grid[p].y - 19, s, VIZ_FONT_SMALL, VIZ_DIM);
        }
        viz_text_right(d, l.grid[p].x - 6, l.grid[p].y - 19, "layer", VIZ_FONT_SMALL, VIZ_DIM);
        for (int row = 0; row < l.n_rows; row++) {
            int layer = viz_heatmap_row_layer(&l, row);
            viz_rect cell = viz_heatmap_cell(&l, p, row, 0);
            if (layer < 0 || layer % label_every == 0) {
                snprintf(buf, sizeof buf, layer < 0 ? "other" : "%d", layer);
                float ty = cell.y + cell.h * 0.5f - 8;
                viz_text_right(d, l.grid[p].x - 6, ty, buf, VIZ_FONT_SMALL, VIZ_DIM);
            }
            for (int c = 0; c < l.n_cols; c++) {
                cell = viz_heatmap_cell(&l, p, row, c);
                int t = viz_heatmap_tensor(r, &l, row, c);
                if (t < 0) continue; /* no such tensor: background */
                uint8_t col[4];
                double v = viz_metric_value(r, t, f, a->metric);
                if (isnan(v)) viz_color_missing(col);
                else viz_colormap(viz_badness(a->metric, v, lo, hi), col);
                viz_fill(d, cell.x, cell.y, cell.w, cell.h, col);
                if (t == a->tensor && p == 0) {
                    viz_outline(d, cell.x - 1, cell.y - 1, cell.w + 2, cell.h + 2, 2, VIZ_SELECT);
                }
                if (viz_rect_contains((viz_rect){cell.x, cell.y, cell.w + 1, cell.h + 1}, in->mx,
                                      in->my)) {
                    cell_tooltip(a, t, f);
                    viz_outline(d, cell.x, cell.y, cell.w, cell.h, 1, VIZ_FG);
                    if (in->clicked) {
                        a->tensor = t;
                        a->format = f;
                        a->view = VIZ_VIEW_HISTOGRAM;
                    }
                }
            }
        }
    }
    legend(a, &l, lo, hi);
}

static void json_string(FILE *fp, const char *s) {
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(fp, "\\%c", c);
        else if (c < 0x20) fprintf(fp, "\\u%04x", c);
        else fputc(c, fp);
    }
    fputc('"', fp);
}

int viz_heatmap_write_layout(const viz_app *a, const char *path) {
    const viz_report *r = a->report;
    FILE *fp = fopen(path, "w");
    if (!fp) return 0;
    viz_heatmap_layout l;
    viz_heatmap_layout_compute(r, a->format, a->width, a->height, &l);
    double lo, hi;
    viz_heatmap_range(r, &l, a->metric, &lo, &hi);
    fprintf(fp, "{\"width\": %d, \"height\": %d, \"metric\": \"%s\", \"lo\": %.17g, \"hi\": %.17g,\n"
                " \"legend\": [%g, %g, %g, %g],\n \"cells\": [",
            a->width, a->height, viz_metric_name(a->metric), lo, hi, l.legend.x, l.legend.y,
            l.legend.w, l.legend.h);
    int first = 1;
    for (int p = 0; p < l.n_panels; p++) {
        for (int row = 0; row < l.n_rows; row++) {
            for (int c = 0; c < l.n_cols; c++) {
                int t = viz_heatmap_tensor(r, &l, row, c);
                if (t < 0) continue;
                viz_rect cell = viz_heatmap_cell(&l, p, row, c);
                double v = viz_metric_value(r, t, l.formats[p], a->metric);
                fprintf(fp, "%s\n  {\"tensor\": ", first ? "" : ",");
                json_string(fp, r->tensors[t].name);
                fprintf(fp, ", \"format\": ");
                json_string(fp, r->formats[l.formats[p]]);
                fprintf(fp, ", \"panel\": %d, \"x\": %g, \"y\": %g, \"w\": %g, \"h\": %g, "
                            "\"value\": ", p, cell.x, cell.y, cell.w, cell.h);
                if (isfinite(v)) fprintf(fp, "%.17g}", v);
                else fprintf(fp, "null}");
                first = 0;
            }
        }
    }
    fprintf(fp, "\n]}\n");
    return fclose(fp) == 0;
}

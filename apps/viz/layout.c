#include "layout.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int viz_rect_contains(viz_rect r, float x, float y) {
    return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

viz_page viz_page_layout(int width, int height) {
    const float header = 56, footer = 24;
    viz_page p;
    p.header = (viz_rect){0, 0, (float)width, header};
    p.footer = (viz_rect){0, (float)height - footer, (float)width, footer};
    float ch = (float)height - header - footer;
    p.content = (viz_rect){0, header, (float)width, ch > 0 ? ch : 0};
    return p;
}

void viz_heatmap_layout_compute(const viz_report *r, int format, int width, int height,
                                viz_heatmap_layout *l) {
    memset(l, 0, sizeof *l);
    viz_page page = viz_page_layout(width, height);
    l->n_panels = r->n_formats >= 2 ? 2 : 1;
    l->formats[0] = format;
    l->formats[1] = (format + 1) % (r->n_formats ? r->n_formats : 1);
    for (int t = 0; t < r->n_tensors; t++) {
        if (r->tensors[t].layer < 0) l->has_global_row = 1;
    }
    l->n_rows = r->n_layer + l->has_global_row;
    if (l->n_rows < 1) l->n_rows = 1;
    l->n_cols = r->n_roles > 0 ? r->n_roles : 1;

    const float margin = 16, row_labels = 44, title_h = 22, col_labels = 18, legend_h = 58;
    viz_rect c = page.content;
    float panel_w = (c.w - margin * (l->n_panels + 1)) / l->n_panels;
    float grid_h = c.h - title_h - col_labels - legend_h - margin;
    int cw = (int)floorf((panel_w - row_labels) / l->n_cols);
    int chh = (int)floorf(grid_h / l->n_rows);
    l->cell_w = cw < 2 ? 2 : cw > 120 ? 120 : cw;
    l->cell_h = chh < 2 ? 2 : chh > 48 ? 48 : chh;
    for (int p = 0; p < l->n_panels; p++) {
        float px = roundf(c.x + margin + p * (panel_w + margin));
        float gy = roundf(c.y + title_h + col_labels + 4);
        l->title[p] = (viz_rect){px, c.y + 2, panel_w, title_h};
        l->grid[p] = (viz_rect){px + row_labels, gy, (float)(l->cell_w * l->n_cols),
                                (float)(l->cell_h * l->n_rows)};
    }
    float ly = l->grid[0].y + l->grid[0].h + 16;
    float lw = c.w * 0.5f > 560 ? 560 : c.w * 0.5f;
    l->legend = (viz_rect){roundf(c.x + margin + row_labels), roundf(ly), roundf(lw), 14};
}

viz_rect viz_heatmap_cell(const viz_heatmap_layout *l, int panel, int row, int col) {
    viz_rect g = l->grid[panel];
    return (viz_rect){g.x + (float)(col * l->cell_w), g.y + (float)(row * l->cell_h),
                      (float)(l->cell_w - 1), (float)(l->cell_h - 1)};
}

int viz_heatmap_row_layer(const viz_heatmap_layout *l, int row) {
    if (l->has_global_row && row == l->n_rows - 1) return -1;
    return row;
}

int viz_heatmap_layer_row(const viz_heatmap_layout *l, int layer) {
    if (layer < 0) return l->has_global_row ? l->n_rows - 1 : -1;
    return layer < l->n_rows - l->has_global_row ? layer : -1;
}

int viz_heatmap_tensor(const viz_report *r, const viz_heatmap_layout *l, int row, int col) {
    int layer = viz_heatmap_row_layer(l, row);
    for (int t = 0; t < r->n_tensors; t++) {
        if (r->tensors[t].layer == layer && r->tensors[t].role == col) return t;
    }
    return -1;
}

void viz_heatmap_range(const viz_report *r, const viz_heatmap_layout *l, viz_metric m,
                       double *lo, double *hi) {
    double a = INFINITY, b = -INFINITY;
    for (int p = 0; p < l->n_panels; p++) {
        for (int t = 0; t < r->n_tensors; t++) {
            double v = viz_metric_value(r, t, l->formats[p], m);
            if (!isfinite(v) || (!viz_metric_higher_is_better(m) && v <= 0)) continue;
            if (v < a) a = v;
            if (v > b) b = v;
        }
    }
    if (a > b) a = b = 0;
    *lo = a;
    *hi = b;
}

const char *viz_role_short(const char *role, char *buf, int size) {
    static const char *map[][2] = {{"attn_q", "q"},         {"attn_k", "k"},
                                   {"attn_v", "v"},         {"attn_output", "o"},
                                   {"attn_qkv", "qkv"},     {"ffn_gate", "gate"},
                                   {"ffn_up", "up"},        {"ffn_down", "down"},
                                   {"token_embd", "embd"},  {"output", "out"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (!strcmp(role, map[i][0])) return map[i][1];
    }
    snprintf(buf, (size_t)size, "%.5s", role);
    return buf;
}

/* Where things go on the page, as pure functions of the report and the size in pixels: the
 * renderer, the hit tests and the tests (through --layout-json) all use the same numbers. */
#ifndef VIZ_LAYOUT_H
#define VIZ_LAYOUT_H

#include "report.h"

typedef struct viz_rect {
    float x, y, w, h;
} viz_rect;

int viz_rect_contains(viz_rect r, float x, float y);

/* Header (title and status line), content, footer (key help). */
typedef struct viz_page {
    viz_rect header, content, footer;
} viz_page;

viz_page viz_page_layout(int width, int height);

/* Heatmap: rows are layers 0..n_layer-1 from the top, then one row for the tensors outside the
 * blocks (token_embd, output) when the report has any; columns are the report's roles. */
typedef struct viz_heatmap_layout {
    int n_panels;      /* 1, or 2 (two formats side by side) when the report has two or more */
    int formats[2];    /* format index shown in each panel */
    viz_rect title[2]; /* each panel's title line */
    viz_rect grid[2];  /* each panel's cells */
    int n_rows, n_cols;
    int has_global_row;
    int cell_w, cell_h; /* whole pixels; cells are drawn 1 px smaller for a gap */
    viz_rect legend;   /* the colour bar, least error on the left */
} viz_heatmap_layout;

/* `format`: the selected format (left panel); the right panel shows the next one. */
void viz_heatmap_layout_compute(const viz_report *r, int format, int width, int height,
                                viz_heatmap_layout *out);
viz_rect viz_heatmap_cell(const viz_heatmap_layout *l, int panel, int row, int col);
/* The layer a row shows (-1: the global row) and back (-1: no row). */
int viz_heatmap_row_layer(const viz_heatmap_layout *l, int row);
int viz_heatmap_layer_row(const viz_heatmap_layout *l, int layer);
/* The tensor shown at (row, col), or -1. */
int viz_heatmap_tensor(const viz_report *r, const viz_heatmap_layout *l, int row, int col);
/* The metric's range over the finite values of the panels' formats, positive ones for the
 * relative errors (their scale is logarithmic); lo = hi = 0 if none. */
void viz_heatmap_range(const viz_report *r, const viz_heatmap_layout *l, viz_metric m,
                       double *lo, double *hi);
/* Short column label for a role ("q" for attn_q, "down" for ffn_down). */
const char *viz_role_short(const char *role, char *buf, int size);

#endif

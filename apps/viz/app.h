/* The viewer's state and one frame of it: the header, the current view, the footer and the
 * tooltip, built into a draw list from the report, the selection and the mouse. The same code
 * serves the window and the headless renders. */
#ifndef VIZ_APP_H
#define VIZ_APP_H

#include "draw.h"
#include "layout.h"
#include "report.h"
#include "weights.h"

#include <vkq.h>

typedef enum viz_view {
    VIZ_VIEW_HEATMAP = 0,
    VIZ_VIEW_DEPTH,
    VIZ_VIEW_HISTOGRAM,
    VIZ_VIEW_PARETO,
    VIZ_VIEW_COUNT
} viz_view;

typedef struct viz_input {
    float mx, my;  /* pointer in pixels; negative: outside */
    int clicked;   /* a left click happened at (mx, my) this frame */
} viz_input;

typedef struct viz_app {
    viz_report *report;
    vkq_context *ctx;       /* device-less: files and quantization only */
    vkq_gguf *gguf;         /* NULL without --model */
    viz_view view;
    int format;             /* the selected format (left heatmap panel, histogram) */
    viz_metric metric;
    int tensor;             /* selected tensor, -1 none */
    viz_weights weights;    /* of (weights_tensor, weights_format) */
    int weights_tensor, weights_format;
    int block_pick;         /* which of weights.worst_blocks shows its grid */
    char weights_error[256];
    viz_font font;
    viz_draw draw;
    int width, height;
    char tooltip[512];      /* set by a view when the pointer is over something */
} viz_app;

const char *viz_view_name(viz_view v);
int viz_view_from_name(const char *name); /* -1 if unknown */

/* The worst tensor of the selected format by the selected metric (-1 if none has a value). */
int viz_app_worst_tensor(const viz_app *a);
/* Handles one key: 'm' metric, 'f' format, '1'..'4' and '\t' views, 'n'/'p' next/previous
 * tensor. Returns 1 if the key was used. */
int viz_app_key(viz_app *a, int key);
/* Builds the frame for a width x height target into a->draw. */
void viz_app_frame(viz_app *a, int width, int height, const viz_input *in);
/* Makes sure a->weights holds the selected tensor in the selected format (loads on change). */
void viz_app_need_weights(viz_app *a);

/* The views (view_*.c); each draws into `area` and may set a->tooltip. */
void viz_view_heatmap(viz_app *a, viz_rect area, const viz_input *in);
void viz_view_depth(viz_app *a, viz_rect area, const viz_input *in);
void viz_view_histogram(viz_app *a, viz_rect area, const viz_input *in);
void viz_view_pareto(viz_app *a, viz_rect area, const viz_input *in);

/* Shared by the chart views: axis with ticks and labels (value range lo..hi mapped onto the
 * plot rect). */
void viz_axes(viz_app *a, viz_rect plot, double xlo, double xhi, double ylo, double yhi,
              const char *xlabel, const char *ylabel, int x_integer);
/* A "nothing to show" message centred in the area. */
void viz_message(viz_app *a, viz_rect area, const char *line1, const char *line2);
/* Writes the heatmap cell rectangles and values as JSON (tests sample the PNG with it). */
int viz_heatmap_write_layout(const viz_app *a, const char *path);

#endif

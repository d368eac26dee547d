#include "app.h"

#include "colormap.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *viz_view_name(viz_view v) {
    static const char *names[] = {"heatmap", "depth", "histogram", "pareto"};
    return (unsigned)v < VIZ_VIEW_COUNT ? names[v] : "?";
}

int viz_view_from_name(const char *name) {
    for (int v = 0; v < VIZ_VIEW_COUNT; v++) {
        if (!strcmp(name, viz_view_name((viz_view)v))) return v;
    }
    return -1;
}

int viz_app_worst_tensor(const viz_app *a) {
    int best = -1;
    double worst = -1;
    for (int t = 0; t < a->report->n_tensors; t++) {
        double v = viz_metric_value(a->report, t, a->format, a->metric);
        if (isnan(v)) continue;
        double bad = viz_metric_higher_is_better(a->metric) ? -v : v;
        if (best < 0 || bad > worst) {
            best = t;
            worst = bad;
        }
    }
    return best;
}

int viz_app_key(viz_app *a, int key) {
    const viz_report *r = a->report;
    switch (key) {
    case 'm':
        do {
            a->metric = (viz_metric)((a->metric + 1) % VIZ_METRIC_COUNT);
        } while (a->metric == VIZ_METRIC_WEIGHTED && !r->has_weighted);
        return 1;
    case 'f': a->format = (a->format + 1) % r->n_formats; return 1;
    case '1': case '2': case '3': case '4': a->view = (viz_view)(key - '1'); return 1;
    case '\t': a->view = (viz_view)((a->view + 1) % VIZ_VIEW_COUNT); return 1;
    case 'n':
    case 'p':
        if (r->n_tensors) {
            int step = key == 'n' ? 1 : r->n_tensors - 1;
            a->tensor = ((a->tensor < 0 ? 0 : a->tensor) + step) % r->n_tensors;
        }
        return 1;
    default: return 0;
    }
}

void viz_app_need_weights(viz_app *a) {
    if (a->tensor == a->weights_tensor && a->format == a->weights_format) return;
    viz_weights_free(&a->weights);
    a->weights_error[0] = 0;
    a->weights_tensor = a->tensor;
    a->weights_format = a->format;
    if (a->tensor < 0) {
        snprintf(a->weights_error, sizeof a->weights_error, "no tensor selected");
        return;
    }
    if (!a->gguf) {
        snprintf(a->weights_error, sizeof a->weights_error,
                 "no model: pass --model FILE.gguf to see the weights");
        return;
    }
    const viz_tensor *t = &a->report->tensors[a->tensor];
    vkq_type type = vkq_type_from_name(t->formats[a->format].type);
    if (type == VKQ_TYPE_NONE) type = vkq_type_from_name(a->report->formats[a->format]);
    if (!viz_weights_load(a->ctx, a->gguf, t->name, type, (uint64_t)4 << 20, &a->weights,
                          a->weights_error, sizeof a->weights_error)) {
        a->weights_tensor = a->tensor; /* keep the error until the selection changes */
    }
}

static void header(viz_app *a, viz_rect h) {
    const viz_report *r = a->report;
    char line[512];
    viz_fill(&a->draw, h.x, h.y, h.w, h.h, VIZ_PANEL);
    snprintf(line, sizeof line, "vkq-viz  %s", r->model_name[0] ? r->model_name : r->model_path);
    viz_text(&a->draw, 12, h.y + 6, line, VIZ_FONT_LARGE, VIZ_FG);
    snprintf(line, sizeof line, "view: %s   format: %s   metric: %s   %d layers, %d tensors%s",
             viz_view_name(a->view), r->formats[a->format], viz_metric_label(a->metric),
             r->n_layer, r->n_tensors, r->calibration[0] ? "" : "   (no calibration data)");
    viz_text(&a->draw, 12, h.y + 33, line, VIZ_FONT_SMALL, VIZ_DIM);
}

static void footer(viz_app *a, viz_rect f) {
    viz_fill(&a->draw, f.x, f.y, f.w, f.h, VIZ_PANEL);
    viz_text(&a->draw, 12, f.y + 4,
             "1-4 / tab: view    m: metric    f: format    n / p: tensor    click a cell: its "
             "histogram    q / Esc: quit",
             VIZ_FONT_SMALL, VIZ_DIM);
}

void viz_message(viz_app *a, viz_rect area, const char *line1, const char *line2) {
    float cx = area.x + area.w * 0.5f, cy = area.y + area.h * 0.4f;
    viz_text_center(&a->draw, cx, cy, line1, VIZ_FONT_LARGE, VIZ_FG);
    if (line2) viz_text_center(&a->draw, cx, cy + 30, line2, VIZ_FONT_SMALL, VIZ_DIM);
}

/* 1-2-5 steps giving about `count` ticks over [lo, hi]. */
static double nice_step(double lo, double hi, int count) {
    double raw = (hi - lo) / count, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void tick_label(double v, double step, char *buf, size_t size) {
    if (fabs(v) < step * 1e-6) v = 0;
    if (step >= 1 && fabs(v) < 1e6) snprintf(buf, size, "%.0f", v);
    else snprintf(buf, size, "%.3g", v);
}

void viz_axes(viz_app *a, viz_rect p, double xlo, double xhi, double ylo, double yhi,
              const char *xlabel, const char *ylabel, int x_integer) {
    viz_draw *d = &a->draw;
    char buf[64];
    viz_outline(d, p.x, p.y, p.w, p.h, 1, VIZ_GRIDLINE);
    if (xhi > xlo) {
        double step = nice_step(xlo, xhi, (int)(p.w / 90) + 1);
        if (x_integer && step < 1) step = 1;
        for (double v = ceil(xlo / step) * step; v <= xhi + step * 1e-9; v += step) {
            float x = p.x + (float)((v - xlo) / (xhi - xlo)) * p.w;
            viz_fill(d, x, p.y + p.h, 1, 5, VIZ_DIM);
            tick_label(v, step, buf, sizeof buf);
            viz_text_center(d, x, p.y + p.h + 7, buf, VIZ_FONT_SMALL, VIZ_DIM);
        }
    }
    if (yhi > ylo) {
        double step = nice_step(ylo, yhi, (int)(p.h / 50) + 1);
        for (double v = ceil(ylo / step) * step; v <= yhi + step * 1e-9; v += step) {
            float y = p.y + p.h - (float)((v - ylo) / (yhi - ylo)) * p.h;
            viz_fill(d, p.x + 1, y, p.w - 2, 1, (const uint8_t[4]){44, 47, 55, 255});
            viz_fill(d, p.x - 5, y, 5, 1, VIZ_DIM);
            tick_label(v, step, buf, sizeof buf);
            viz_text_right(d, p.x - 8, y - 8, buf, VIZ_FONT_SMALL, VIZ_DIM);
        }
    }
    viz_text_center(d, p.x + p.w * 0.5f, p.y + p.h + 26, xlabel, VIZ_FONT_SMALL, VIZ_FG);
    viz_text(d, p.x, p.y - 22, ylabel, VIZ_FONT_SMALL, VIZ_FG);
}

void viz_app_frame(viz_app *a, int width, int height, const viz_input *in) {
    viz_draw_reset(&a->draw);
    a->width = width;
    a->height = height;
    a->tooltip[0] = 0;
    viz_page page = viz_page_layout(width, height);
    header(a, page.header);
    switch (a->view) {
    case VIZ_VIEW_HEATMAP: viz_view_heatmap(a, page.content, in); break;
    case VIZ_VIEW_DEPTH: viz_view_depth(a, page.content, in); break;
    case VIZ_VIEW_HISTOGRAM: viz_view_histogram(a, page.content, in); break;
    case VIZ_VIEW_PARETO: viz_view_pareto(a, page.content, in); break;
    default: break;
    }
    footer(a, page.footer);
    if (a->tooltip[0] && in->mx >= 0) viz_tooltip(&a->draw, in->mx, in->my, a->tooltip, width, height);
}

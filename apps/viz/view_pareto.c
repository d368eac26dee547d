/* Pareto: model size (bits per weight) against KL-divergence of the final logits, one point
 * per format; without activation data, against the tensors' mean weight-space relative L2. */
#include "app.h"
#include "colormap.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct point {
    const char *name;
    int series;
    double x, y, err; /* bpw, KLD (or rel. L2), standard error */
    double top1;
} point;

static int collect(const viz_report *r, point *pts, int *use_kld) {
    int n = 0;
    *use_kld = 0;
    for (int s = 0; s < r->n_activations && n < 64; s++) {
        const viz_activation *a = &r->activations[s];
        if (!isfinite(a->bpw) || !isfinite(a->kld_mean)) continue;
        pts[n++] = (point){a->format_name, a->format >= 0 ? a->format : s, a->bpw, a->kld_mean,
                           a->kld_stderr, a->top1};
        *use_kld = 1;
    }
    if (n) return n;
    for (int f = 0; f < r->n_formats && n < 64; f++) { /* weight space: element-weighted means */
        double bits = 0, el = 0, e2 = 0;
        for (int t = 0; t < r->n_tensors; t++) {
            const viz_tensor_format *tf = &r->tensors[t].formats[f];
            if (!tf->present || !isfinite(tf->bytes) || !isfinite(tf->rel_l2)) continue;
            double ne = 1;
            for (int i = 0; i < r->tensors[t].n_dims; i++) ne *= (double)r->tensors[t].ne[i];
            bits += tf->bytes * 8;
            el += ne;
            e2 += tf->rel_l2 * ne;
        }
        if (el > 0) pts[n++] = (point){r->formats[f], f, bits / el, e2 / el, NAN, NAN};
    }
    return n;
}

void viz_view_pareto(viz_app *a, viz_rect area, const viz_input *in) {
    const viz_report *r = a->report;
    viz_draw *d = &a->draw;
    point pts[64];
    int use_kld, n = collect(r, pts, &use_kld);
    if (n == 0) {
        viz_message(a, area, "No sizes and errors to compare.",
                    "The report has neither activation KLD nor per-tensor sizes.");
        return;
    }
    double xlo = INFINITY, xhi = -INFINITY, ylo = 0, yhi = -INFINITY;
    for (int i = 0; i < n; i++) {
        double top = pts[i].y + (isfinite(pts[i].err) ? pts[i].err : 0);
        if (pts[i].x < xlo) xlo = pts[i].x;
        if (pts[i].x > xhi) xhi = pts[i].x;
        if (top > yhi) yhi = top;
    }
    double xpad = (xhi - xlo) * 0.1 + 0.25;
    xlo = floor(xlo - xpad);
    xhi = ceil(xhi + xpad);
    if (xlo < 0) xlo = 0;
    yhi = yhi > 0 ? yhi * 1.15 : 1;
    viz_rect p = {area.x + 90, area.y + 50, area.w - 130, area.h - 110};
    viz_axes(a, p, xlo, xhi, ylo, yhi, "size (bits per weight)",
             use_kld ? "KL-divergence of the next-token distribution vs the source (nats, "
                       "lower is better)"
                     : "mean relative L2 of the weights (no KLD in the report; lower is better)",
             0);
    /* the frontier: formats not beaten by a smaller one with less error */
    int order[64];
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++) { /* insertion sort by size, then error */
        int k = order[i], j = i;
        while (j > 0 && (pts[order[j - 1]].x > pts[k].x ||
                         (pts[order[j - 1]].x == pts[k].x && pts[order[j - 1]].y > pts[k].y))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    float fx = 0, fy = 0;
    int have = 0;
    double best = INFINITY;
    for (int i = 0; i < n; i++) {
        const point *q = &pts[order[i]];
        if (q->y >= best) continue;
        best = q->y;
        float x = p.x + (float)((q->x - xlo) / (xhi - xlo)) * p.w;
        float y = p.y + p.h - (float)((q->y - ylo) / (yhi - ylo)) * p.h;
        if (have) viz_line(d, fx, fy, x, y, 1.5f, VIZ_DIM);
        fx = x;
        fy = y;
        have = 1;
    }
    for (int i = 0; i < n; i++) {
        const point *q = &pts[i];
        uint8_t c[4];
        viz_series_color(q->series, c);
        float x = p.x + (float)((q->x - xlo) / (xhi - xlo)) * p.w;
        float y = p.y + p.h - (float)((q->y - ylo) / (yhi - ylo)) * p.h;
        if (isfinite(q->err) && q->err > 0) {
            float e = (float)(q->err / (yhi - ylo)) * p.h;
            viz_fill(d, x - 0.5f, y - e, 1.5f, 2 * e, c);
        }
        viz_fill(d, x - 5, y - 5, 10, 10, c);
        viz_text(d, x + 9, y - 18, q->name, VIZ_FONT_SMALL, VIZ_FG);
        float dx = in->mx - x, dy = in->my - y;
        if (dx * dx + dy * dy < 12 * 12) {
            if (use_kld) {
                snprintf(a->tooltip, sizeof a->tooltip,
                         "%s\n%.3f bits per weight\nKLD %.5g +/- %.2g nats\ntop-1 agreement "
                         "%.2f%%",
                         q->name, q->x, q->y, q->err, q->top1 * 100);
            } else {
                snprintf(a->tooltip, sizeof a->tooltip,
                         "%s\n%.3f bits per weight\nmean relative L2 of the weights %.5g",
                         q->name, q->x, q->y);
            }
        }
    }
    viz_text(d, p.x + 10, p.y + 8, "grey line: the formats no smaller format beats",
             VIZ_FONT_SMALL, VIZ_DIM);
}

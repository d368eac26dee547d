/* Depth: the error of the hidden state after each layer against the unquantized model, with
 * every layer quantized (accumulated) and with only that layer quantized (isolated), one line
 * per format. */
#include "app.h"
#include "colormap.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The depth curves carry cosine, SQNR and relative L2; "weighted" falls back to relative L2. */
static double point_value(const viz_depth_point *p, viz_metric m) {
    return m == VIZ_METRIC_SQNR ? p->sqnr_db : p->rel_l2;
}

static int series_of(const viz_activation *act, int which, const viz_depth_point **pts) {
    *pts = which ? act->isolated : act->accumulated;
    return which ? act->n_isolated : act->n_accumulated;
}

static void plot(viz_app *a, viz_rect p, int which, double ylo, double yhi, int n_layer,
                 const viz_input *in, float *best_d) {
    const viz_report *r = a->report;
    viz_draw *d = &a->draw;
    viz_metric m = a->metric == VIZ_METRIC_SQNR ? VIZ_METRIC_SQNR : VIZ_METRIC_REL_L2;
    const char *ylabel = m == VIZ_METRIC_SQNR ? "SQNR of the hidden state (dB, higher is better)"
                                              : "relative L2 error of the hidden state";
    viz_axes(a, p, 0, n_layer > 1 ? n_layer - 1 : 1, ylo, yhi, "layer", ylabel, 1);
    viz_text_right(d, p.x + p.w, p.y - 22,
                   which ? "isolated: only this layer quantized"
                         : "accumulated: every layer quantized",
                   VIZ_FONT_SMALL, VIZ_ACCENT);
    float xs = p.w / (float)(n_layer > 1 ? n_layer - 1 : 1);
    for (int s = 0; s < r->n_activations; s++) {
        const viz_activation *act = &r->activations[s];
        const viz_depth_point *pts;
        int n = series_of(act, which, &pts);
        uint8_t c[4];
        viz_series_color(act->format >= 0 ? act->format : s, c);
        float px = 0, py = 0;
        int have_prev = 0;
        for (int i = 0; i < n; i++) {
            double v = point_value(&pts[i], m);
            if (!isfinite(v) || yhi <= ylo) {
                have_prev = 0;
                continue;
            }
            float x = p.x + (float)pts[i].layer * xs;
            float y = p.y + p.h - (float)((v - ylo) / (yhi - ylo)) * p.h;
            if (have_prev) viz_line(d, px, py, x, y, 2.0f, c);
            viz_fill(d, x - 2.5f, y - 2.5f, 5, 5, c);
            float dx = in->mx - x, dy = in->my - y, dist = dx * dx + dy * dy;
            if (dist < 100 && dist < *best_d) {
                *best_d = dist;
                char sq[48];
                viz_metric_format(VIZ_METRIC_SQNR, pts[i].sqnr_db, sq, sizeof sq);
                snprintf(a->tooltip, sizeof a->tooltip,
                         "%s, after layer %d (%s)\nSQNR %s    relative L2 %.4g    cosine %.6f",
                         act->format_name, pts[i].layer, which ? "isolated" : "accumulated", sq,
                         pts[i].rel_l2, pts[i].cosine);
            }
            px = x;
            py = y;
            have_prev = 1;
        }
    }
}

void viz_view_depth(viz_app *a, viz_rect area, const viz_input *in) {
    const viz_report *r = a->report;
    viz_draw *d = &a->draw;
    if (r->n_activations == 0) {
        viz_message(a, area, "The report has no activation data.",
                    "Run vkq analyze with calibration text to measure the error through depth.");
        return;
    }
    viz_metric m = a->metric == VIZ_METRIC_SQNR ? VIZ_METRIC_SQNR : VIZ_METRIC_REL_L2;
    double lo = INFINITY, hi = -INFINITY;
    int n_layer = r->n_layer;
    for (int s = 0; s < r->n_activations; s++) {
        for (int which = 0; which < 2; which++) {
            const viz_depth_point *pts;
            int n = series_of(&r->activations[s], which, &pts);
            for (int i = 0; i < n; i++) {
                double v = point_value(&pts[i], m);
                if (pts[i].layer + 1 > n_layer) n_layer = pts[i].layer + 1;
                if (!isfinite(v)) continue;
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
        }
    }
    if (lo > hi) lo = hi = 0;
    if (m == VIZ_METRIC_REL_L2 && lo > 0) lo = 0;
    double pad = (hi - lo) * 0.08 + 1e-9;
    hi += pad;
    if (m == VIZ_METRIC_SQNR) lo -= pad;

    /* the legend: one entry per format, with its KLD */
    float lx = area.x + 70;
    for (int s = 0; s < r->n_activations; s++) {
        const viz_activation *act = &r->activations[s];
        uint8_t c[4];
        char buf[128];
        viz_series_color(act->format >= 0 ? act->format : s, c);
        viz_fill(d, lx, area.y + 14, 18, 4, c);
        if (isfinite(act->kld_mean)) {
            snprintf(buf, sizeof buf, "%s (KLD %.4g)", act->format_name, act->kld_mean);
        } else {
            snprintf(buf, sizeof buf, "%s", act->format_name);
        }
        lx += 24 + viz_text(d, lx + 24, area.y + 7, buf, VIZ_FONT_SMALL, VIZ_FG) + 24;
    }
    if (a->metric == VIZ_METRIC_WEIGHTED) {
        viz_text(d, lx + 10, area.y + 7, "(weighted error is per tensor: showing relative L2)",
                 VIZ_FONT_SMALL, VIZ_DIM);
    }
    float top = area.y + 60, gap = 70, left = 80, right = 24;
    float ph = (area.h - (top - area.y) - gap - 40) * 0.5f;
    if (ph < 20) ph = 20;
    float best = 1e30f;
    viz_rect p0 = {area.x + left, top, area.w - left - right, ph};
    viz_rect p1 = {area.x + left, top + ph + gap, area.w - left - right, ph};
    plot(a, p0, 0, lo, hi, n_layer, in, &best);
    plot(a, p1, 1, lo, hi, n_layer, in, &best);
}

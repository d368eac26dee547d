#include "colormap.h"

#include <math.h>

void viz_colormap(double t, uint8_t rgba[4]) {
    /* Five stops, linear in between; dark for good so that bad cells stand out. */
    static const double stops[5][3] = {
        {0.08, 0.11, 0.35}, {0.13, 0.40, 0.58}, {0.20, 0.66, 0.55}, {0.96, 0.84, 0.26},
        {0.86, 0.17, 0.13}};
    if (!(t >= 0)) t = 0; /* also NaN */
    if (t > 1) t = 1;
    double s = t * 4;
    int i = (int)s;
    if (i > 3) i = 3;
    double f = s - i;
    for (int c = 0; c < 3; c++) {
        double v = stops[i][c] + (stops[i + 1][c] - stops[i][c]) * f;
        rgba[c] = (uint8_t)lround(v * 255);
    }
    rgba[3] = 255;
}

double viz_badness(viz_metric m, double v, double lo, double hi) {
    if (isnan(v)) return NAN;
    if (viz_metric_higher_is_better(m)) {
        if (isinf(v)) return v > 0 ? 0.0 : 1.0;
        if (!(hi > lo)) return 0.0;
        double t = (hi - v) / (hi - lo);
        return t < 0 ? 0 : t > 1 ? 1 : t;
    }
    if (isinf(v)) return 1.0;
    if (!(hi > lo) || v <= lo) return 0.0;
    /* relative errors of different formats span decades: a log scale when the range allows */
    double t = lo > 0 ? log(v / lo) / log(hi / lo) : (v - lo) / (hi - lo);
    return t < 0 ? 0 : t > 1 ? 1 : t;
}

void viz_color_missing(uint8_t rgba[4]) {
    rgba[0] = rgba[1] = rgba[2] = 58;
    rgba[3] = 255;
}

void viz_series_color(int i, uint8_t rgba[4]) {
    static const uint8_t palette[8][3] = {{86, 180, 233}, {230, 159, 0},   {0, 158, 115},
                                          {204, 121, 167}, {240, 228, 66}, {213, 94, 0},
                                          {0, 114, 178},   {200, 200, 200}};
    const uint8_t *p = palette[((i % 8) + 8) % 8];
    rgba[0] = p[0];
    rgba[1] = p[1];
    rgba[2] = p[2];
    rgba[3] = 255;
}

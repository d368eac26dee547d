/* Colours: the error ramp of the heatmap and its legend, and the per-format series colours. */
#ifndef VIZ_COLORMAP_H
#define VIZ_COLORMAP_H

#include "report.h"

#include <stdint.h>

/* t in [0, 1], 0 the least error and 1 the most (clamped): dark blue -> teal -> yellow -> red.
 * Writes r, g, b, 255. */
void viz_colormap(double t, uint8_t rgba[4]);
/* Where value v falls between lo and hi on the error ramp: for SQNR (higher is better, already
 * logarithmic) linear, lo dB the worst, +inf dB 0 (exact); for relative errors logarithmic when
 * lo > 0 (viz_heatmap_range gives the smallest positive value), values <= lo 0. NAN for NAN
 * inputs; lo == hi maps to 0. */
double viz_badness(viz_metric m, double v, double lo, double hi);
/* The colour of "no data" cells. */
void viz_color_missing(uint8_t rgba[4]);
/* A distinct colour for series i (formats in line plots and the pareto chart). */
void viz_series_color(int i, uint8_t rgba[4]);

#endif

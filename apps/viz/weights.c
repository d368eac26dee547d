#include "weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double key_of(const viz_worst *w, int by_sq) { return by_sq ? w->sq_error : w->error; }

/* Keeps the `VIZ_WORST` largest (by relative or by squared error), sorted descending. */
static void keep_worst(viz_worst *list, int *n, viz_worst w, int by_sq) {
    int i = *n < VIZ_WORST ? (*n)++ : VIZ_WORST;
    if (i == VIZ_WORST) {
        if (key_of(&w, by_sq) <= key_of(&list[VIZ_WORST - 1], by_sq)) return;
        i = VIZ_WORST - 1;
    }
    while (i > 0 && key_of(&list[i - 1], by_sq) < key_of(&w, by_sq)) {
        list[i] = list[i - 1];
        i--;
    }
    list[i] = w;
}

/* Bins over [min, max], narrowed to mean +/- 6 standard deviations when outliers stretch it
 * (they are counted in the edge bins and in w->outside). */
static void histogram(viz_weights *w) {
    uint64_t n = w->rows * w->ne0;
    double sum = 0, sum2 = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (!isfinite(w->x[i])) continue;
        sum += w->x[i];
        sum2 += (double)w->x[i] * w->x[i];
    }
    double mean = n ? sum / (double)n : 0, var = n ? sum2 / (double)n - mean * mean : 0;
    double sd = var > 0 ? sqrt(var) : 0;
    double lo = w->min, hi = w->max;
    if (sd > 0 && lo < mean - 6 * sd) lo = mean - 6 * sd;
    if (sd > 0 && hi > mean + 6 * sd) hi = mean + 6 * sd;
    if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
    }
    w->hist_lo = lo;
    w->hist_hi = hi;
    double scale = VIZ_HIST_BINS / (hi - lo);
    for (uint64_t i = 0; i < n; i++) {
        if (w->x[i] < lo || w->x[i] > hi) w->outside++;
        int b = (int)((w->x[i] - lo) * scale);
        if (b < 0) b = 0;
        if (b >= VIZ_HIST_BINS) b = VIZ_HIST_BINS - 1;
        w->hist[b]++;
    }
    for (int b = 0; b < VIZ_HIST_BINS; b++) {
        if (w->hist[b] > w->hist_max) w->hist_max = w->hist[b];
    }
}

static void errors(viz_weights *w) {
    double total_e = 0, total_x = 0;
    uint64_t bpr = w->ne0 / w->block_elements;
    for (uint64_t r = 0; r < w->rows; r++) {
        const float *x = w->x + r * w->ne0, *q = w->q + r * w->ne0;
        double row_e = 0, row_x = 0;
        for (uint64_t b = 0; b < bpr; b++) {
            double be = 0, bx = 0;
            for (uint32_t j = 0; j < w->block_elements; j++) {
                double xv = x[b * w->block_elements + j], d = q[b * w->block_elements + j] - xv;
                be += d * d;
                bx += xv * xv;
            }
            row_e += be;
            row_x += bx;
            viz_worst wb = {r * bpr + b, r, bx > 0 ? sqrt(be / bx) : (be > 0 ? INFINITY : 0), be};
            /* Blocks are ranked by their squared error: a block of tiny weights with a large
             * relative error matters less than one that loses much of the signal. */
            keep_worst(w->worst_blocks, &w->n_worst_blocks, wb, 1);
        }
        viz_worst wr = {r, r, row_x > 0 ? sqrt(row_e / row_x) : 0, row_e};
        keep_worst(w->worst_rows, &w->n_worst_rows, wr, 0);
        total_e += row_e;
        total_x += row_x;
    }
    w->rel_l2 = total_x > 0 ? sqrt(total_e / total_x) : 0;
}

int viz_weights_load(vkq_context *ctx, const vkq_gguf *gguf, const char *name, vkq_type format,
                     uint64_t max_elements, viz_weights *w, char *err, size_t err_size) {
    memset(w, 0, sizeof *w);
    vkq_gguf_tensor_info ti;
    vkq_status st = vkq_gguf_tensor_by_name(gguf, name, &ti);
    if (st != VKQ_OK) {
        snprintf(err, err_size, "tensor %s: %s", name, vkq_context_last_error(ctx));
        return 0;
    }
    snprintf(w->name, sizeof w->name, "%s", name);
    w->source_type = ti.type;
    w->ne0 = ti.ne[0];
    w->total_rows = ti.elements / ti.ne[0];
    uint32_t sbe = vkq_type_block_elements(ti.type), sbb = vkq_type_block_bytes(ti.type);
    if (!sbe || w->ne0 % sbe) {
        snprintf(err, err_size, "tensor %s: type %s with rows of %llu cannot be read", name,
                 vkq_type_name(ti.type), (unsigned long long)w->ne0);
        return 0;
    }
    uint64_t rows = w->ne0 ? max_elements / w->ne0 : 0;
    if (rows < 1) rows = 1;
    w->rows = rows < w->total_rows ? rows : w->total_rows;
    uint64_t n = w->rows * w->ne0;
    w->x = malloc(n * sizeof(float));
    if (!w->x) {
        snprintf(err, err_size, "tensor %s: out of memory for %llu values", name,
                 (unsigned long long)n);
        return 0;
    }
    st = vkq_dequantize(ti.type, ti.data, w->x, n);
    (void)sbb;
    if (st != VKQ_OK) {
        snprintf(err, err_size, "tensor %s: dequantize %s: %s", name, vkq_type_name(ti.type),
                 vkq_status_string(st));
        viz_weights_free(w);
        return 0;
    }
    w->min = INFINITY;
    w->max = -INFINITY;
    for (uint64_t i = 0; i < n; i++) {
        if (!isfinite(w->x[i])) continue;
        if (w->x[i] < w->min) w->min = w->x[i];
        if (w->x[i] > w->max) w->max = w->x[i];
    }
    if (w->min > w->max) w->min = w->max = 0;
    histogram(w);

    uint32_t be = vkq_type_block_elements(format), bb = vkq_type_block_bytes(format);
    if (format == VKQ_TYPE_NONE || !be) {
        snprintf(w->note, sizeof w->note, "format unknown to this vkq: no grid, no worst rows");
        return 1;
    }
    if (w->ne0 % be) {
        snprintf(w->note, sizeof w->note, "rows of %llu are not a multiple of %s's block of %u",
                 (unsigned long long)w->ne0, vkq_type_name(format), be);
        return 1;
    }
    w->block_elements = be;
    w->block_bytes = bb;
    w->blocks = malloc(n / be * bb);
    w->q = malloc(n * sizeof(float));
    size_t written = 0;
    if (!w->blocks || !w->q ||
        vkq_quantize(format, w->x, w->blocks, n, NULL, &written) != VKQ_OK ||
        vkq_dequantize(format, w->blocks, w->q, n) != VKQ_OK) {
        snprintf(err, err_size, "tensor %s: quantizing to %s failed", name,
                 vkq_type_name(format));
        viz_weights_free(w);
        return 0;
    }
    w->format = format;
    errors(w);
    return 1;
}

void viz_weights_free(viz_weights *w) {
    if (!w) return;
    free(w->x);
    free(w->q);
    free(w->blocks);
    memset(w, 0, sizeof *w);
}

/* Prints a markdown table of each format's reconstruction error on random data: the RMSE of
 * quantize -> dequantize relative to the data's RMS (= relative L2), closed form against
 * search. Usage: quant_error_report [gaussian|laplace|outliers] (seed: VKQ_TEST_SEED, default
 * 1, so that the table in docs/FORMATS.md can be reproduced). */
#include "formats_test.h"

#include "analysis/metrics.h"
#include "quant/quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 256
#define COLS 4096

static double rel_rmse(vkq_type t, const float *x, void *q, float *y, vkq__quant_method m) {
    int64_t n = (int64_t)ROWS * COLS;
    for (int r = 0; r < ROWS; r++) {
        uint64_t row_bytes = 0;
        vkq__row_bytes(t, COLS, &row_bytes);
        vkq__quantize_row(t, x + (int64_t)r * COLS, (uint8_t *)q + r * row_bytes, COLS, NULL, m);
    }
    vkq__dequantize_row(t, q, y, n);
    vkq__metrics met;
    vkq__metrics_compute(x, y, NULL, n, &met);
    return met.rel_l2;
}

int main(int argc, char **argv) {
    data_dist dist = DATA_GAUSSIAN;
    for (int d = 0; d < DATA_DIST_COUNT && argc > 1; d++) {
        if (strcmp(argv[1], data_dist_name((data_dist)d)) == 0) dist = (data_dist)d;
    }
    if (!getenv("VKQ_TEST_SEED")) setenv("VKQ_TEST_SEED", "1", 1);
    test_init("quant_error_report");
    int64_t n = (int64_t)ROWS * COLS;
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    void *q = malloc((size_t)n * sizeof(float));
    if (!x || !y || !q) return 1;
    data_fill(dist, x, n);
    printf("\n%s data, %d rows x %d, relative RMSE (RMSE / RMS of the data):\n\n",
           data_dist_name(dist), ROWS, COLS);
    printf("| format | bits/weight | closed form | search | search / closed |\n");
    printf("|---|---:|---:|---:|---:|\n");
    for (int i = 0; i < all_types_count; i++) {
        vkq_type t = all_types[i];
        double bpw = 8.0 * vkq_type_block_bytes(t) / vkq_type_block_elements(t);
        double c = rel_rmse(t, x, q, y, VKQ__QUANT_CLOSED_FORM);
        double s = rel_rmse(t, x, q, y, VKQ__QUANT_SEARCH);
        printf("| %s | %.4g | %.3e | %.3e | %.3f |\n", vkq_type_name(t), bpw, c, s,
               c > 0.0 ? s / c : 1.0);
    }
    free(x);
    free(y);
    free(q);
    return 0;
}

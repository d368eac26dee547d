/* Argmax: exact ids, ties to the lowest index, NaN never wins, -inf rows, vocabulary sizes. */
#include "ops_test.h"

#include <math.h>

static void check_argmax(vkq_context *ctx, const float *x, uint32_t n, uint32_t rows, const char *what) {
    uint32_t *want = malloc(rows * 4u), *got = malloc(rows * 4u);
    vkq__ref_argmax(x, want, n, rows);
    vkq__buffer bx = ops_buffer(ctx, x, (uint64_t)n * rows * 4), bi = ops_buffer(ctx, NULL, rows * 4u);
    vkq__recording *rec = ops_begin(ctx);
    CHECK_OK(ctx, vkq__op_argmax(rec, vkq__view_of(&bx), vkq__view_of(&bi), n, rows));
    ops_run(ctx, rec);
    ops_download(ctx, &bi, got, rows * 4u);
    for (uint32_t r = 0; r < rows; r++) {
        CHECK_MSG(got[r] == want[r], "argmax %s n=%u row %u: got %u, want %u", what, n, r, got[r], want[r]);
    }
    vkq__buffer_destroy(ctx, &bx), vkq__buffer_destroy(ctx, &bi);
    free(want), free(got);
}

void test_argmax(vkq_context *ctx) {
    static const uint32_t sizes[] = {1, 5, 49152, 128256};
    for (size_t s = 0; s < VKQ__ARRAY_LEN(sizes); s++) {
        uint32_t n = sizes[s], rows = 3;
        float *x = ops_randn((uint64_t)n * rows, 2.0f);
        check_argmax(ctx, x, n, rows, "random");
        /* Ties: the maximum planted at several indices, the lowest must win. */
        for (uint32_t r = 0; r < rows; r++) {
            uint32_t a = (uint32_t)test_rand_int(0, (int)n - 1), b = (uint32_t)test_rand_int(0, (int)n - 1);
            x[(uint64_t)r * n + a] = x[(uint64_t)r * n + b] = 100.0f;
            x[(uint64_t)r * n + n - 1] = 100.0f;
        }
        check_argmax(ctx, x, n, rows, "ties");
        /* NaN never wins; a NaN row gives 0; a -inf row gives its first index. */
        for (uint64_t i = 0; i < n; i++) {
            x[i] = (i % 3 == 0) ? NAN : x[i];
            x[n + i] = NAN;
            x[2 * (uint64_t)n + i] = -INFINITY;
        }
        check_argmax(ctx, x, n, rows, "nan/-inf");
        free(x);
    }
    /* Many rows: the grid's rows, all equal values (index 0 everywhere). */
    float *flat = calloc(1000u * 37, 4);
    check_argmax(ctx, flat, 37, 1000, "all equal");
    free(flat);
}

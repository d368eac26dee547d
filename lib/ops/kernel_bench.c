/* vkq_context_bench_kernel: one weight-product kernel on random data, timed with GPU
 * timestamps (vkq bench kernels). */
#include "ops/products.h"

#include "quant/quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct random rows quantized on the CPU; W repeats them. Quantizing all of a 7B-class
 * matrix would take longer than timing it, and the kernels' speed does not depend on the
 * values as long as they are ordinary (finite, not denormal). */
#define DISTINCT_ROWS 16

typedef struct bench_buffers {
    vkq__buffer w, x, y, ids, xq; /* xq: Q8_1 activations (MATVEC_DOT) */
} bench_buffers;

static void bench_free(vkq_context *ctx, bench_buffers *b) {
    vkq__buffer_destroy(ctx, &b->w);
    vkq__buffer_destroy(ctx, &b->x);
    vkq__buffer_destroy(ctx, &b->y);
    vkq__buffer_destroy(ctx, &b->ids);
    vkq__buffer_destroy(ctx, &b->xq);
}

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float rng_float(uint64_t *s) { return (float)((double)(rng_next(s) >> 11) * 0x1p-53 * 2.0 - 1.0); }

/* W: DISTINCT_ROWS quantized random rows, repeated to m rows, uploaded row chunk by row chunk
 * so that host memory stays small. */
static vkq_status upload_weights(vkq_context *ctx, const vkq_kernel_bench_desc *d, uint64_t row_bytes,
                                 vkq__buffer *w) {
    uint64_t total = d->m * row_bytes;
    vkq_status st = vkq__buffer_create(ctx, vkq__align_up(total, 4), VKQ__MEM_DEVICE, "bench W", w);
    if (st) return st;
    uint32_t distinct = VKQ__MIN(d->m, (uint32_t)DISTINCT_ROWS);
    float *src = malloc((size_t)d->k * sizeof(float));
    uint8_t *rows = malloc((size_t)(distinct * row_bytes));
    if (!src || !rows) st = vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "bench: %u rows of W", distinct);
    uint64_t seed = 12345;
    for (uint32_t r = 0; !st && r < distinct; r++) {
        for (uint32_t e = 0; e < d->k; e++) src[e] = rng_float(&seed);
        vkq__quantize_row(d->type, src, rows + r * row_bytes, d->k, NULL, VKQ__QUANT_CLOSED_FORM);
    }
    for (uint64_t r = 0; !st && r < d->m; r += distinct) {
        uint64_t nr = VKQ__MIN((uint64_t)distinct, d->m - r);
        st = vkq__buffer_upload(ctx, w, r * row_bytes, rows, nr * row_bytes);
    }
    free(src);
    free(rows);
    return st;
}

static vkq_status upload_floats(vkq_context *ctx, uint64_t count, const char *what, vkq__buffer *b) {
    vkq_status st = vkq__buffer_create(ctx, count * 4, VKQ__MEM_DEVICE, what, b);
    float *v = st ? NULL : malloc(count * 4);
    if (!st && !v) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "bench: %s", what);
    uint64_t seed = 777;
    for (uint64_t i = 0; !st && i < count; i++) v[i] = rng_float(&seed);
    if (!st) st = vkq__buffer_upload(ctx, b, 0, v, count * 4);
    free(v);
    return st;
}

static vkq_status record_kernel(vkq__recording *rec, const vkq_kernel_bench_desc *d, bench_buffers *b,
                                char *variant) {
    if (d->kernel == VKQ_KERNEL_GET_ROWS) {
        const vkq__product_format *f = vkq__product_format_get(d->type);
        snprintf(variant, 96, "get_rows_%s", f ? f->name : "?");
        return vkq__op_get_rows(rec, d->type, vkq__view_of(&b->w), d->k, d->m, vkq__view_of(&b->ids), d->n,
                                vkq__view_of(&b->y));
    }
    vkq__mul_mat_config cfg = {
        .kernel = d->kernel == VKQ_KERNEL_MATVEC ? VKQ__MUL_MAT_MATVEC
                  : d->kernel == VKQ_KERNEL_MATMUL ? VKQ__MUL_MAT_MATMUL : VKQ__MUL_MAT_AUTO,
        .layout = (vkq__matvec_layout)d->matvec_layout,
        .no_subgroup = d->no_subgroup != 0, .workgroup_size = d->workgroup_size, .rows = d->rows_per_workgroup,
        .tile_m = d->tile_m, .tile_n = d->tile_n,
    };
    vkq__mul_mat_args a = {.wtype = d->type, .w = vkq__view_of(&b->w), .m = d->m, .k = d->k,
                           .x = vkq__view_of(&b->x), .n = d->n, .y = vkq__view_of(&b->y)};
    if (d->kernel == VKQ_KERNEL_MATVEC_DOT) {
        /* Quantization and product: what a decode step pays for one product (it quantizes once
         * for q, k and v, so this is the worst case). */
        cfg.kernel = VKQ__MUL_MAT_AUTO;
        vkq_status st = vkq__op_mul_mat_dot(rec, &a, vkq__view_of(&b->xq), &cfg, variant);
        if (!st) strncat(variant, " + quantize_q8_1", 95 - strlen(variant));
        return st;
    }
    return vkq__op_mul_mat_config(rec, &a, &cfg, variant);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static vkq_status run_timed(vkq_context *ctx, const vkq_kernel_bench_desc *d, bench_buffers *b,
                            vkq_kernel_bench_result *out, double *times) {
    vkq__recording *rec = NULL;
    vkq_status st = vkq__recording_create(ctx, 2, &rec);
    if (st) return st;
    if (!(st = vkq__recording_begin(rec))) {
        vkq__recording_timestamp(rec, 0);
        st = record_kernel(rec, d, b, out->variant);
        vkq__recording_timestamp(rec, 1);
    }
    for (uint32_t r = 0; !st && r < d->warmup + d->repeats; r++) {
        double s = 0;
        st = vkq__recording_submit_wait(rec);
        if (!st) st = vkq__recording_elapsed(rec, 0, 1, &s);
        if (!st && r >= d->warmup) times[r - d->warmup] = s;
    }
    vkq__recording_destroy(rec);
    return st;
}

static vkq_status check_desc(vkq_context *ctx, const vkq_kernel_bench_desc *d, uint64_t *row_bytes) {
    for (size_t i = 0; i < VKQ__ARRAY_LEN(d->reserved); i++) {
        if (d->reserved[i]) {
            return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "vkq_context_bench_kernel: reserved[%zu] is not zero", i);
        }
    }
    const vkq__product_format *f = vkq__product_format_get(d->type);
    if (!f) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED, "vkq_context_bench_kernel: format %s has no product kernel",
                         vkq_type_name(d->type));
    }
    if ((unsigned)d->kernel > VKQ_KERNEL_MATVEC_DOT || (unsigned)d->matvec_layout > 2 || d->m == 0 || d->k == 0 ||
        d->k % f->qk || d->repeats > 100000 || d->warmup > 1000) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "vkq_context_bench_kernel: kernel %d, layout %d, %s m %u k %u (k a multiple "
                         "of %u), %u repeats, %u warm-up runs",
                         (int)d->kernel, d->matvec_layout, f->name, d->m, d->k, f->qk, d->repeats, d->warmup);
    }
    if (d->kernel == VKQ_KERNEL_MATVEC_DOT && !vkq__mul_mat_dot_supported(ctx, d->type)) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED,
                         "vkq_context_bench_kernel: no integer-dot matvec for %s in this build or on this device "
                         "(shaderIntegerDotProduct %s)",
                         f->name, ctx->caps.dot ? "yes" : "no");
    }
    *row_bytes = (uint64_t)d->k / f->qk * f->qbytes;
    return VKQ_OK;
}

static vkq_status allocate(vkq_context *ctx, const vkq_kernel_bench_desc *d, uint64_t row_bytes,
                           bench_buffers *b) {
    vkq_status st = upload_weights(ctx, d, row_bytes, &b->w);
    bool gather = d->kernel == VKQ_KERNEL_GET_ROWS;
    if (!st && !gather) st = upload_floats(ctx, (uint64_t)d->n * d->k, "bench X", &b->x);
    uint64_t y_floats = (uint64_t)d->n * (gather ? d->k : d->m);
    if (!st) st = vkq__buffer_create(ctx, y_floats * 4, VKQ__MEM_DEVICE, "bench Y", &b->y);
    if (!st && d->kernel == VKQ_KERNEL_MATVEC_DOT) {
        st = vkq__buffer_create(ctx, vkq__q8_1_bytes(d->k, d->n), VKQ__MEM_DEVICE, "bench Q8_1", &b->xq);
    }
    if (!st && gather) {
        st = vkq__buffer_create(ctx, (uint64_t)d->n * 4, VKQ__MEM_DEVICE, "bench ids", &b->ids);
        uint32_t *ids = st ? NULL : malloc((size_t)d->n * 4);
        if (!st && !ids) st = vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "bench: ids");
        uint64_t seed = 99;
        for (uint32_t i = 0; !st && i < d->n; i++) ids[i] = (uint32_t)(rng_next(&seed) % d->m);
        if (!st) st = vkq__buffer_upload(ctx, &b->ids, 0, ids, (uint64_t)d->n * 4);
        free(ids);
    }
    return st;
}

vkq_status vkq_context_bench_kernel(vkq_context *ctx, const vkq_kernel_bench_desc *desc,
                                    vkq_kernel_bench_result *out) {
    if (!ctx || !desc || !out) {
        return vkq__fail(vkq__context_diag(ctx), VKQ_ERR_INVALID_ARGUMENT, "vkq_context_bench_kernel: %s is NULL",
                         !ctx ? "ctx" : !desc ? "desc" : "out");
    }
    memset(out, 0, sizeof *out);
    if (!ctx->device) return vkq__fail(&ctx->diag, VKQ_ERR_STATE, "vkq_context_bench_kernel: the context has no device");
    vkq_kernel_bench_desc d = *desc;
    if (!d.n) d.n = 1;
    if (!d.repeats) d.repeats = 10;
    if (!d.warmup) d.warmup = 1;
    uint64_t row_bytes = 0;
    vkq_status st = check_desc(ctx, &d, &row_bytes);
    if (st) return st;
    double *times = calloc(d.repeats, sizeof *times);
    if (!times) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "vkq_context_bench_kernel: no memory");
    bench_buffers b = {0};
    st = allocate(ctx, &d, row_bytes, &b);
    if (!st) st = run_timed(ctx, &d, &b, out, times);
    bench_free(ctx, &b);
    if (!st) {
        qsort(times, d.repeats, sizeof *times, cmp_double);
        uint32_t r = d.repeats;
        out->seconds_min = times[0];
        out->seconds_max = times[r - 1];
        out->seconds_median = r % 2 ? times[r / 2] : 0.5 * (times[r / 2 - 1] + times[r / 2]);
        bool gather = d.kernel == VKQ_KERNEL_GET_ROWS;
        out->weight_bytes = gather ? d.n * row_bytes : d.m * row_bytes;
        double s = out->seconds_median > 0 ? out->seconds_median : NAN;
        out->gbps = (double)out->weight_bytes / s * 1e-9;
        out->gflops = gather ? 0.0 : 2.0 * d.m * (double)d.k * d.n / s * 1e-9;
    }
    free(times);
    return st;
}

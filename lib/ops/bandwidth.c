/* vkq_context_measure_bandwidth: the copy kernel timed with GPU timestamps. */
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static vkq_status measure(vkq_context *ctx, vkq__buffer *src, vkq__buffer *dst, uint32_t repeats,
                          double *gbps) {
    vkq__recording *rec = NULL;
    vkq_status st = vkq__recording_create(ctx, 2, &rec);
    if (st) return st;
    if (!(st = vkq__recording_begin(rec))) {
        vkq__recording_timestamp(rec, 0);
        st = vkq__op_copy(rec, vkq__view_of(src), vkq__view_of(dst));
        vkq__recording_timestamp(rec, 1);
    }
    /* The first submission is the warm-up (page faults, clocks ramping up), not counted. */
    for (uint32_t r = 0; !st && r <= repeats; r++) {
        double s = 0;
        st = vkq__recording_submit_wait(rec);
        if (!st) st = vkq__recording_elapsed(rec, 0, 1, &s);
        if (!st && r > 0) gbps[r - 1] = s > 0 ? 2.0 * (double)src->size / s * 1e-9 : 0;
    }
    vkq__recording_destroy(rec);
    return st;
}

vkq_status vkq_context_measure_bandwidth(vkq_context *ctx, uint64_t bytes, uint32_t repeats,
                                         vkq_bandwidth_result *out) {
    if (!ctx || !out) {
        return vkq__fail(vkq__context_diag(ctx), VKQ_ERR_INVALID_ARGUMENT,
                         "vkq_context_measure_bandwidth: %s is NULL", ctx ? "out" : "ctx");
    }
    memset(out, 0, sizeof *out);
    if (!ctx->device) {
        return vkq__fail(&ctx->diag, VKQ_ERR_STATE, "vkq_context_measure_bandwidth: the context has no device");
    }
    if (bytes == 0) bytes = VKQ__MIN(256ull << 20, ctx->caps.max_alloc);
    bytes = bytes / 256 * 256;
    if (bytes == 0 || repeats > 100000) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "vkq_context_measure_bandwidth: %llu bytes, %u repeats",
                         (unsigned long long)bytes, repeats);
    }
    if (repeats == 0) repeats = 10;
    double *gbps = calloc(repeats, sizeof *gbps);
    if (!gbps) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "bandwidth: no memory");
    vkq__buffer src = {0}, dst = {0};
    vkq_status st = vkq__buffer_create(ctx, bytes, VKQ__MEM_DEVICE, "bandwidth source", &src);
    if (!st) st = vkq__buffer_create(ctx, bytes, VKQ__MEM_DEVICE, "bandwidth destination", &dst);
    if (!st) st = vkq__buffer_fill(ctx, &src, 0x3f800000u);
    if (!st) st = vkq__buffer_fill(ctx, &dst, 0);
    if (!st) st = measure(ctx, &src, &dst, repeats, gbps);
    vkq__buffer_destroy(ctx, &dst);
    vkq__buffer_destroy(ctx, &src);
    if (!st) {
        qsort(gbps, repeats, sizeof *gbps, cmp_double);
        out->gbps_min = gbps[0];
        out->gbps_max = gbps[repeats - 1];
        out->gbps_median = repeats % 2 ? gbps[repeats / 2] : 0.5 * (gbps[repeats / 2 - 1] + gbps[repeats / 2]);
        out->bytes = bytes;
        out->repeats = repeats;
    }
    free(gbps);
    return st;
}

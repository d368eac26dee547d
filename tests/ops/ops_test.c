#include "ops_test.h"

#include <math.h>
#include <string.h>

int ops_verbose = 0;

vkq__buffer ops_buffer(vkq_context *ctx, const void *data, uint64_t bytes) {
    vkq__buffer b = {0};
    CHECK_OK(ctx, vkq__buffer_create(ctx, bytes, VKQ__MEM_DEVICE, "test", &b));
    if (data) CHECK_OK(ctx, vkq__buffer_upload(ctx, &b, 0, data, bytes));
    else CHECK_OK(ctx, vkq__buffer_fill(ctx, &b, OPS_POISON));
    return b;
}

void ops_download(vkq_context *ctx, const vkq__buffer *b, void *dst, uint64_t bytes) {
    CHECK_OK(ctx, vkq__buffer_download(ctx, b, 0, dst, bytes));
}

vkq__buffer ops_step(vkq_context *ctx, uint32_t pos0) {
    vkq__buffer b = {0};
    CHECK_OK(ctx, vkq__buffer_create(ctx, sizeof(vkq__step_params), VKQ__MEM_HOST, "step", &b));
    CHECK(b.mapped != NULL);
    if (b.mapped) memset(b.mapped, 0, sizeof(vkq__step_params));
    ops_step_set(&b, pos0);
    return b;
}

void ops_step_set(const vkq__buffer *b, uint32_t pos0) {
    /* Host-coherent memory: the write is visible to the next submission. */
    if (b->mapped) memcpy(b->mapped + offsetof(vkq__step_params, pos0), &pos0, sizeof pos0);
}

vkq__recording *ops_begin(vkq_context *ctx) {
    vkq__recording *rec = NULL;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    if (rec) CHECK_OK(ctx, vkq__recording_begin(rec));
    return rec;
}

void ops_run(vkq_context *ctx, vkq__recording *rec) {
    if (!rec) return;
    CHECK_OK(ctx, vkq__recording_submit_wait(rec));
    vkq__recording_destroy(rec);
}

float *ops_randn(uint64_t n, float scale) {
    float *x = malloc(n * sizeof *x + 4);
    for (uint64_t i = 0; i < n; i++) x[i] = test_rand_normal() * scale;
    return x;
}

double ops_compare(const char *what, const float *got, const float *want, uint64_t n, double atol,
                   double rtol) {
    double worst = 0;
    uint64_t at = 0, bad = 0;
    for (uint64_t i = 0; i < n; i++) {
        double lim = atol + rtol * fabs((double)want[i]);
        double err = fabs((double)got[i] - (double)want[i]);
        double ratio = err / lim;
        if (!(ratio <= 1.0)) bad++;
        if (!(ratio <= worst)) worst = ratio, at = i; /* NaN also lands here */
    }
    CHECK_MSG(bad == 0, "%s: %llu of %llu elements off; worst [%llu] got %.9g want %.9g (%.3g x tolerance)",
              what, (unsigned long long)bad, (unsigned long long)n, (unsigned long long)at,
              (double)got[at], (double)want[at], worst);
    if (ops_verbose) printf("  %-60s worst %.3g x tolerance\n", what, worst);
    return worst;
}

/* The GPU computes theta = pos * freq in float32 (error ~ theta * 2^-23 from rounding theta,
 * plus a few ulp of exp2 in freq), reduces it to [-pi, pi] (another ~ulp(theta)) and rotates
 * with sin/cos (about 1e-6 absolute on lavapipe; Vulkan's bound is looser). The reference works
 * in double with the exact angle. So an element may be off by about
 *   |pair| * (4e-7 * theta_max + 4e-6),  theta_max = pos * freq_scale (pair 0 turns fastest),
 * which is the tolerance here, applied through the pair's magnitude. */
double rope_tolerance(const vkq__rope *rope, uint32_t pos_max) {
    return 4e-7 * (double)pos_max * rope->freq_scale + 4e-6;
}

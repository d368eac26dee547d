/* GPU sampling against the reference: temperature, top-k, top-p, min-p and their combinations,
 * greedy, degenerate settings, NaN logits; one recording resubmitted with a new random number
 * in the step buffer for every draw, as decode does. */
#include "ops_test.h"

#include <math.h>
#include <string.h>

/* GPU and CPU sum the weights in different orders and precisions (float vs double), so a draw
 * whose rand or top_p lies within rounding of a boundary may legitimately differ. Such draws are
 * recognised by asking the reference again with rand and top_p moved by 1e-5 (far above float
 * rounding of sums of <= 32k terms, ~1e-6 relative): if any answer changes, the draw is
 * borderline and only counted. Every other draw must match exactly. */
static bool borderline(const float *x, uint32_t n, vkq__step_params p) {
    uint32_t id = vkq__ref_sample(x, n, &p);
    static const float d[] = {-1e-5f, 1e-5f};
    for (int i = 0; i < 2; i++) {
        vkq__step_params q = p;
        q.rand = fminf(fmaxf(p.rand + d[i], 0.0f), 0.99999f);
        if (vkq__ref_sample(x, n, &q) != id) return true;
        q = p;
        q.top_p = p.top_p + d[i];
        if (p.top_p < 1.0f && vkq__ref_sample(x, n, &q) != id) return true;
    }
    return false;
}

static void check_sample(vkq_context *ctx, const float *x, uint32_t n, vkq__step_params p, int draws,
                         const char *what) {
    vkq__buffer bx = ops_buffer(ctx, x, (uint64_t)n * 4), bi = ops_buffer(ctx, NULL, 4);
    vkq__buffer step = ops_step(ctx, 0);
    vkq__recording *rec = ops_begin(ctx);
    CHECK_OK(ctx, vkq__op_sample(rec, vkq__view_of(&bx), vkq__view_of(&step), vkq__view_of(&bi), n, 1));
    int mismatches = 0, borderlines = 0;
    for (int i = 0; i < draws && rec; i++) {
        p.rand = test_rand_uniform(0.0f, 1.0f);
        memcpy(step.mapped, &p, sizeof p);
        CHECK_OK(ctx, vkq__recording_submit_wait(rec));
        uint32_t got = 0;
        ops_download(ctx, &bi, &got, 4);
        uint32_t want = vkq__ref_sample(x, n, &p);
        if (got == want) continue;
        if (borderline(x, n, p)) {
            borderlines++;
            continue;
        }
        mismatches++;
        CHECK_MSG(false, "sample %s n=%u T=%g k=%u p=%g min_p=%g rand=%.9g: got %u (logit %g), want %u (logit %g)",
                  what, n, (double)p.temperature, p.top_k, (double)p.top_p, (double)p.min_p,
                  (double)p.rand, got, got < n ? (double)x[got] : 0.0, want, (double)x[want]);
        if (mismatches > 3) break;
    }
    CHECK_MSG(borderlines * 10 <= draws, "sample %s: %d of %d draws borderline", what, borderlines, draws);
    if (ops_verbose) printf("  sample %-50s %d draws, %d borderline\n", what, draws, borderlines);
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &bx), vkq__buffer_destroy(ctx, &bi), vkq__buffer_destroy(ctx, &step);
}

void test_sample(vkq_context *ctx) {
    static const uint32_t sizes[] = {5, 1000, 32000};
    for (size_t s = 0; s < VKQ__ARRAY_LEN(sizes); s++) {
        uint32_t n = sizes[s];
        float *x = ops_randn(n, 3.0f);
        x[n / 2] = NAN; /* never drawn */
        check_sample(ctx, x, n, (vkq__step_params){.temperature = 1.0f, .top_p = 1.0f}, 20, "plain");
        check_sample(ctx, x, n, (vkq__step_params){.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f},
                     20, "llama.cpp defaults");
        check_sample(ctx, x, n, (vkq__step_params){.temperature = 1.3f, .top_p = 0.9f}, 20, "top_p");
        check_sample(ctx, x, n, (vkq__step_params){.temperature = 0.7f, .top_k = 3, .top_p = 1.0f}, 10, "top_k");
        check_sample(ctx, x, n, (vkq__step_params){.temperature = 2.0f, .top_p = 1.0f, .min_p = 0.1f}, 10, "min_p");
        check_sample(ctx, x, n, (vkq__step_params){.temperature = 0.0f}, 3, "greedy");
        check_sample(ctx, x, n, (vkq__step_params){.temperature = 1.0f, .top_k = 1, .top_p = 1.0f}, 3, "top_k=1");
        check_sample(ctx, x, n, (vkq__step_params){.temperature = 1.0f, .top_p = 0.0f}, 3, "top_p=0");
        /* ties at the top-k boundary are all kept */
        for (uint32_t i = 0; i < n && n > 10; i += n / 8) x[i] = 20.0f;
        check_sample(ctx, x, n, (vkq__step_params){.temperature = 5.0f, .top_k = 2, .top_p = 1.0f}, 20, "tied top_k");
        free(x);
    }
}

/* Scale search shared by every block format: weighted least squares over a few candidate
 * roundings. The closed form (largest element at the end of the grid) is optimal only for the
 * largest element; moving the scale a little lets the bulk of the values land nearer to grid
 * points, and re-solving the scale for a fixed rounding is a one-line least-squares problem. */
#include "quant/blocks.h"

#include <math.h>

/* Candidate scales put the largest element at end + k * CAND_STEP grid gaps, k in
 * [CAND_K_LO, CAND_K_HI]: inward means a coarser grid without clipping, outward clips the
 * largest element in exchange for a finer grid for the rest. Measured on Gaussian data, going
 * further than two gaps inward or half a gap outward, or in steps of 0.1 gap (twice the time),
 * gains under 0.5 %. */
#define CAND_STEP 0.2f
#define CAND_K_LO (-10)
#define CAND_K_HI 2
/* Rounding and re-solving alternate until nothing improves, at most this often. */
#define REFINE_ITERS 3

const int8_t vkq__iq4_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                    1,    13,   25,  38,  53,  69,  89,  113};

#define MID(a, b) (0.5f * (float)((a) + (b)))
const float vkq__iq4_mids[15] = {MID(-127, -104), MID(-104, -83), MID(-83, -65), MID(-65, -49),
                                 MID(-49, -35),   MID(-35, -22),  MID(-22, -10), MID(-10, 1),
                                 MID(1, 13),      MID(13, 25),    MID(25, 38),   MID(38, 53),
                                 MID(53, 69),     MID(69, 89),    MID(89, 113)};
#undef MID

int vkq__grid_nearest_table(const vkq__grid *g, float v) {
    /* The number of midpoints below v, by binary lifting over the sorted midpoints: a fixed
     * number of steps whose outcome the compiler can select without branching. NaN compares
     * false everywhere and gives 0; a tie goes to the lower level. */
    int n = g->count - 1, k = 0, step = 1;
    while (step * 2 <= n) step *= 2;
    for (; step > 0; step /= 2) {
        if (k + step <= n && v > g->mids[k + step - 1]) k += step;
    }
    return k;
}

double vkq__weighted_sq_error(const float *x, const float *y, const float *w, int n) {
    double e = 0.0;
    for (int j = 0; j < n; j++) {
        double d = (double)x[j] - (double)y[j];
        e += (double)w[j] * d * d;
    }
    return e;
}

/* Rounds x * iscale to the grid and returns the least-squares scale for that rounding through
 * *d; the return value is sum w x g squared over sum w g^2, the error reduction (larger is
 * better; -1 when the rounding is all zeros). */
static double round_and_solve(const float *x, const float *w, int n, const vkq__grid *g,
                              float iscale, uint8_t *q, float *d) {
    double sxg = 0.0, sgg = 0.0;
    for (int j = 0; j < n; j++) {
        int k = vkq__grid_nearest(g, x[j] * iscale);
        q[j] = (uint8_t)k;
        double v = vkq__grid_value(g, k);
        sxg += (double)w[j] * x[j] * v;
        sgg += (double)w[j] * v * v;
    }
    if (sgg <= 0.0) return -1.0;
    *d = (float)(sxg / sgg);
    return sxg * sxg / sgg;
}

float vkq__fit_symmetric(const float *x, const float *w, int n, const vkq__grid *g, uint8_t *q) {
    float xm = 0.0f, amax = 0.0f;
    for (int j = 0; j < n; j++) {
        float a = fabsf(x[j]);
        if (a > amax) {
            amax = a;
            xm = x[j];
        }
    }
    if (!(amax > 0.0f) || !isfinite(amax)) {
        int zero = vkq__grid_nearest(g, 0.0f);
        for (int j = 0; j < n; j++) q[j] = (uint8_t)zero;
        return 0.0f;
    }
    uint8_t cand[VKQ__MAX_BLOCK];
    double best = -1.0;
    float best_d = 0.0f;
    const int ends[2] = {0, g->count - 1};
    for (int e = 0; e < 2; e++) {
        float end = vkq__grid_value(g, ends[e]);
        if (end == 0.0f) continue;
        float gap = fabsf(end - vkq__grid_value(g, e == 0 ? 1 : g->count - 2));
        float dir = end > 0.0f ? 1.0f : -1.0f;
        for (int k = CAND_K_LO; k <= CAND_K_HI; k++) {
            float t = end + dir * (float)k * CAND_STEP * gap;
            float d = 0.0f;
            double s = round_and_solve(x, w, n, g, t / xm, cand, &d);
            if (s > best && d != 0.0f) {
                best = s;
                best_d = d;
                for (int j = 0; j < n; j++) q[j] = cand[j];
            }
        }
    }
    if (best < 0.0) { /* every rounding was all zeros: only possible with tiny weights */
        best_d = vkq__grid_value(g, 0) != 0.0f ? xm / vkq__grid_value(g, 0) : 0.0f;
        for (int j = 0; j < n; j++) {
            q[j] = (uint8_t)vkq__grid_nearest(g, best_d != 0.0f ? x[j] / best_d : 0.0f);
        }
        return best_d;
    }
    for (int it = 0; it < REFINE_ITERS; it++) {
        float d = 0.0f;
        double s = round_and_solve(x, w, n, g, 1.0f / best_d, cand, &d);
        if (!(s > best) || d == 0.0f) break;
        best = s;
        best_d = d;
        for (int j = 0; j < n; j++) q[j] = cand[j];
    }
    return best_d;
}

typedef struct affine_fit {
    float d, m;
    double err;
} affine_fit;

/* Least-squares (d, m) for a fixed rounding q, with m held <= 0 when asked. Returns false for
 * a degenerate rounding (all q equal) or a negative d, which no format here can use. */
static bool solve_affine(const float *x, const float *w, int n, const uint8_t *q,
                         bool min_nonpositive, affine_fit *out) {
    double sw = 0, sq = 0, sqq = 0, sx = 0, sxq = 0, sxx = 0;
    for (int j = 0; j < n; j++) {
        double wj = w[j], qj = q[j], xj = x[j];
        sw += wj;
        sq += wj * qj;
        sqq += wj * qj * qj;
        sx += wj * xj;
        sxq += wj * xj * qj;
        sxx += wj * xj * xj;
    }
    double det = sw * sqq - sq * sq;
    if (!(det > 1e-12 * sw * sqq)) return false;
    double d = (sw * sxq - sq * sx) / det;
    double m = (sqq * sx - sq * sxq) / det;
    if (min_nonpositive && m > 0.0) {
        m = 0.0;
        d = sxq / sqq;
    }
    if (!(d > 0.0)) return false;
    out->d = (float)d;
    out->m = (float)m;
    /* Expanded sum w (x - d q - m)^2; in double the cancellation is far below the differences
     * between candidates that matter. */
    out->err = sxx - 2 * d * sxq - 2 * m * sx + d * d * sqq + 2 * d * m * sq + m * m * sw;
    return true;
}

static void round_affine(const float *x, int n, int qmax, float iscale, float m, uint8_t *q) {
    for (int j = 0; j < n; j++) q[j] = (uint8_t)vkq__round_clamp((x[j] - m) * iscale, 0, qmax);
}

float vkq__fit_affine(const float *x, const float *w, int n, int qmax, bool min_nonpositive,
                      float *m, uint8_t *q) {
    float mn = x[0], mx = x[0];
    for (int j = 1; j < n; j++) {
        mn = fminf(mn, x[j]);
        mx = fmaxf(mx, x[j]);
    }
    if (min_nonpositive && mn > 0.0f) mn = 0.0f;
    if (!(mx > mn) || !isfinite(mx - mn)) {
        for (int j = 0; j < n; j++) q[j] = 0;
        *m = isfinite(mn) ? mn : 0.0f;
        return 0.0f;
    }
    /* Start from the closed form so that there is always an answer. */
    affine_fit best = {(mx - mn) / (float)qmax, mn, INFINITY};
    round_affine(x, n, qmax, 1.0f / best.d, mn, q);
    uint8_t cand[VKQ__MAX_BLOCK];
    for (int k = CAND_K_LO; k <= CAND_K_HI; k++) {
        float iscale = ((float)qmax + (float)k * CAND_STEP) / (mx - mn);
        if (!(iscale > 0.0f)) continue;
        affine_fit f;
        round_affine(x, n, qmax, iscale, mn, cand);
        if (solve_affine(x, w, n, cand, min_nonpositive, &f) && f.err < best.err) {
            best = f;
            for (int j = 0; j < n; j++) q[j] = cand[j];
        }
    }
    for (int it = 0; it < REFINE_ITERS && isfinite(best.err); it++) {
        affine_fit f;
        round_affine(x, n, qmax, 1.0f / best.d, best.m, cand);
        if (!solve_affine(x, w, n, cand, min_nonpositive, &f) || !(f.err < best.err)) break;
        best = f;
        for (int j = 0; j < n; j++) q[j] = cand[j];
    }
    *m = best.m;
    return best.d;
}

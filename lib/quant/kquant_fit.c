/* The quantizer shared by the K-formats (Q2_K .. Q6_K) and IQ4_XS: a super-block of 256 values
 * in sub-blocks, each with its own small-integer scale (and min) times the super-block's half
 * scale(s). Both methods end the same way: sub-block scale levels are picked against the stored
 * super-block scale and every value is re-rounded with the scales the decoder will use. */
#include "quant/blocks.h"

#include <math.h>
#include <string.h>

/* Sub-block scale levels tried around the nearest one: rounding the ideal scale to the nearest
 * level is not always best once the values are re-rounded with it. */
#define LEVEL_NEIGHBOURS 1
/* Refits of the super-block scale(s) to the final rounding. */
#define SUPER_REFITS 2

static float half_value(uint16_t h) { return vkq__fp16_to_fp32(h); }

/* Re-rounds one sub-block for the effective scale dl and min ml (the decoder's products) and
 * returns its weighted squared error; w may be NULL (uniform). */
static double requant_sub(const vkq__kshape *s, const float *x, const float *w, float dl, float ml,
                          uint8_t *q) {
    double err = 0.0;
    float id = dl != 0.0f ? 1.0f / dl : 0.0f;
    int qmax = s->values.count - 1;
    for (int j = 0; j < s->sub; j++) {
        float y;
        if (s->affine) {
            q[j] = (uint8_t)vkq__round_clamp((x[j] + ml) * id, 0, qmax);
            y = dl * (float)q[j] - ml;
        } else {
            q[j] = (uint8_t)vkq__grid_nearest(&s->values, x[j] * id);
            y = dl * vkq__grid_value(&s->values, q[j]);
        }
        double e = (double)x[j] - (double)y;
        err += (w ? (double)w[j] : 1.0) * e * e;
    }
    return err;
}

/* Picks each sub-block's scale (and min) level against the stored super-block scales, given the
 * ideal sub-block scale a[i] (and min b[i]), by the error after re-rounding. Returns the total. */
static double choose_levels(const vkq__kshape *s, const float *x, const float *w, const float *a,
                            const float *b, vkq__kblock *out) {
    float dd = half_value(out->d), dm = half_value(out->dmin);
    int smax = s->scales.count - 1;
    uint8_t qt[VKQ__MAX_BLOCK];
    double total = 0.0;
    for (int i = 0; i < s->nsub; i++) {
        const float *xs = x + i * s->sub;
        const float *ws = w ? w + i * s->sub : NULL;
        int c0 = vkq__grid_nearest(&s->scales, dd != 0.0f ? a[i] / dd : 0.0f);
        int m0 = (s->affine && dm != 0.0f) ? vkq__round_clamp(b[i] / dm, 0, smax) : 0;
        int mspan = s->affine ? LEVEL_NEIGHBOURS : 0;
        double best = INFINITY;
        for (int sc = c0 - LEVEL_NEIGHBOURS; sc <= c0 + LEVEL_NEIGHBOURS; sc++) {
            if (sc < 0 || sc > smax) continue;
            for (int mn = m0 - mspan; mn <= m0 + mspan; mn++) {
                if (mn < 0 || mn > smax) continue;
                float dl = dd * vkq__grid_value(&s->scales, sc);
                float ml = dm * (float)mn;
                double e = requant_sub(s, xs, ws, dl, ml, qt);
                if (e < best) {
                    best = e;
                    out->sc[i] = (uint8_t)sc;
                    out->mn[i] = (uint8_t)mn;
                    memcpy(out->q + i * s->sub, qt, (size_t)s->sub);
                }
            }
        }
        total += best;
    }
    return total;
}

static float signed_absmax(const float *x, int n) {
    float xm = 0.0f, amax = 0.0f;
    for (int j = 0; j < n; j++) {
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            xm = x[j];
        }
    }
    return xm;
}

void vkq__kquant_closed(const vkq__kshape *s, const float *x, vkq__kblock *out) {
    float a[16], b[16];
    float smax = (float)(s->scales.count - 1);
    float qmax = (float)(s->values.count - 1);
    memset(out, 0, sizeof *out);
    for (int i = 0; i < s->nsub; i++) {
        const float *xs = x + i * s->sub;
        if (s->affine) {
            float mn = 0.0f, mx = xs[0];
            for (int j = 0; j < s->sub; j++) {
                mn = fminf(mn, xs[j]);
                mx = fmaxf(mx, xs[j]);
            }
            a[i] = (mx - mn) / qmax;
            b[i] = -mn;
        } else {
            a[i] = signed_absmax(xs, s->sub) / s->closed_value_end;
        }
    }
    if (s->affine) {
        float amax = 0.0f, bmax = 0.0f;
        for (int i = 0; i < s->nsub; i++) {
            amax = fmaxf(amax, a[i]);
            bmax = fmaxf(bmax, b[i]);
        }
        out->d = vkq__scale_to_half(amax / smax);
        out->dmin = vkq__scale_to_half(bmax / smax);
    } else {
        out->d = vkq__scale_to_half(signed_absmax(a, s->nsub) / s->closed_scale_end);
    }
    float dd = half_value(out->d), dm = half_value(out->dmin);
    for (int i = 0; i < s->nsub; i++) {
        out->sc[i] = (uint8_t)vkq__grid_nearest(&s->scales, dd != 0.0f ? a[i] / dd : 0.0f);
        if (s->affine && dm != 0.0f) {
            out->mn[i] = (uint8_t)vkq__round_clamp(b[i] / dm, 0, (int)smax);
        }
        float dl = dd * vkq__grid_value(&s->scales, out->sc[i]);
        requant_sub(s, x + i * s->sub, NULL, dl, dm * (float)out->mn[i], out->q + i * s->sub);
    }
}

/* Least-squares super-block scale(s) for the current levels and rounding: y = D*u - Dm*v with
 * u = scale level * value level and v = min level. Returns false if nothing usable came out. */
static bool refit_super(const vkq__kshape *s, const float *x, const float *w, const vkq__kblock *kb,
                        float *d, float *dmin) {
    double suu = 0, suv = 0, svv = 0, sxu = 0, sxv = 0;
    for (int i = 0; i < s->nsub; i++) {
        double sl = vkq__grid_value(&s->scales, kb->sc[i]);
        double v = s->affine ? -(double)kb->mn[i] : 0.0;
        for (int j = 0; j < s->sub; j++) {
            int e = i * s->sub + j;
            double u = sl * vkq__grid_value(&s->values, kb->q[e]);
            double we = w[e];
            suu += we * u * u;
            suv += we * u * v;
            svv += we * v * v;
            sxu += we * x[e] * u;
            sxv += we * x[e] * v;
        }
    }
    double det = suu * svv - suv * suv;
    double dd = 0.0, dm = 0.0;
    if (s->affine && det > 1e-12 * suu * svv) {
        dd = (sxu * svv - sxv * suv) / det;
        dm = (suu * sxv - suv * sxu) / det;
    }
    if (!(dm > 0.0)) { /* no min term, or the joint fit wanted a negative one */
        dm = 0.0;
        if (!(suu > 0.0)) return false;
        dd = sxu / suu;
    }
    if (!isfinite(dd) || (s->affine && !(dd > 0.0))) return false;
    *d = (float)dd;
    *dmin = (float)dm;
    return true;
}

/* The ideal (unconstrained) scale a[i], min b[i] and the weights of their errors, per
 * sub-block. */
static void fit_subblocks(const vkq__kshape *s, const float *x, const float *w, float *a, float *b,
                          float *wa, float *wb) {
    uint8_t q[VKQ__MAX_BLOCK];
    for (int i = 0; i < s->nsub; i++) {
        const float *xs = x + i * s->sub;
        const float *ws = w + i * s->sub;
        float m = 0.0f;
        b[i] = 0.0f;
        if (s->affine) {
            a[i] = vkq__fit_affine(xs, ws, s->sub, s->values.count - 1, true, &m, q);
            b[i] = -m;
        } else {
            a[i] = vkq__fit_symmetric(xs, ws, s->sub, &s->values, q);
        }
        /* An error of da in the scale costs about da^2 * sum w g^2; an error in the min costs
         * dm^2 * sum w. The tiny floor keeps the super-block fit well defined. */
        double sg = 0.0, sw = 0.0;
        for (int j = 0; j < s->sub; j++) {
            double g = vkq__grid_value(&s->values, q[j]);
            sg += ws[j] * g * g;
            sw += ws[j];
        }
        wa[i] = (float)sg + 1e-30f;
        wb[i] = (float)sw + 1e-30f;
    }
}

void vkq__kquant_search(const vkq__kshape *s, const float *x, const float *w, vkq__kblock *out) {
    float a[16], b[16], wa[16], wb[16];
    uint8_t lv[16];
    memset(out, 0, sizeof *out);
    fit_subblocks(s, x, w, a, b, wa, wb);
    out->d = vkq__scale_to_half(vkq__fit_symmetric(a, wa, s->nsub, &s->scales, lv));
    if (s->affine) {
        out->dmin = vkq__scale_to_half(vkq__fit_symmetric(b, wb, s->nsub, &s->scales, lv));
    }
    double err = choose_levels(s, x, w, a, b, out);
    for (int it = 0; it < SUPER_REFITS; it++) {
        float d = 0.0f, dmin = 0.0f;
        if (!refit_super(s, x, w, out, &d, &dmin)) break;
        vkq__kblock trial = *out;
        trial.d = vkq__scale_to_half(d);
        trial.dmin = vkq__scale_to_half(dmin);
        double e = choose_levels(s, x, w, a, b, &trial);
        if (!(e < err)) break;
        err = e;
        *out = trial;
    }
}

void vkq__kformat_dequantize(const void *format, const uint8_t *src, float *dst) {
    const vkq__kformat *f = format;
    f->dequantize(src, dst);
}

void vkq__kformat_quantize_closed(const void *format, const float *x, uint8_t *dst) {
    const vkq__kformat *f = format;
    vkq__kblock kb;
    vkq__kquant_closed(&f->shape, x, &kb);
    f->pack(&kb, dst);
}

void vkq__kformat_quantize_search(const void *format, const float *x, const float *w,
                                  uint8_t *dst) {
    const vkq__kformat *f = format;
    vkq__kblock kb;
    vkq__kquant_search(&f->shape, x, w, &kb);
    f->pack(&kb, dst);
}

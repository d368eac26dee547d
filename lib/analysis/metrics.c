/* Error metrics; see metrics.h for the definitions and the degenerate cases. */
#include "analysis/metrics.h"

#include <math.h>
#include <string.h>

void vkq__metrics_acc_init(vkq__metrics_acc *acc) { memset(acc, 0, sizeof *acc); }

void vkq__metrics_acc_add(vkq__metrics_acc *acc, const float *ref, const float *test,
                          const float *weights, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double w = 1.0;
        if (weights) {
            w = weights[i];
            if (!(w > 0.0)) continue; /* also drops NaN weights */
        }
        double r = ref[i], t = test[i], e = t - r;
        acc->sw += w;
        acc->sw_rr += w * r * r;
        acc->sw_tt += w * t * t;
        acc->sw_rt += w * r * t;
        acc->sw_ee += w * e * e;
        if (fabs(e) > acc->max_abs || e != e) acc->max_abs = fabs(e);
    }
}

void vkq__metrics_acc_finish(const vkq__metrics_acc *acc, vkq__metrics *out) {
    if (acc->sw_ee == 0.0) {
        out->rmse = 0.0;
        out->rel_l2 = 0.0;
        out->sqnr_db = INFINITY;
        out->max_abs = 0.0;
    } else {
        out->rmse = acc->sw > 0.0 ? sqrt(acc->sw_ee / acc->sw) : 0.0;
        out->rel_l2 = acc->sw_rr > 0.0 ? sqrt(acc->sw_ee / acc->sw_rr) : INFINITY;
        out->sqnr_db = acc->sw_rr > 0.0 ? 10.0 * log10(acc->sw_rr / acc->sw_ee) : -INFINITY;
        out->max_abs = acc->max_abs;
    }
    if (acc->sw_ee == 0.0) {
        out->cosine = 1.0; /* identical vectors, also when both are zero */
    } else if (acc->sw_rr > 0.0 && acc->sw_tt > 0.0) {
        double c = acc->sw_rt / sqrt(acc->sw_rr * acc->sw_tt);
        out->cosine = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
    } else {
        out->cosine = 0.0; /* exactly one of them is zero: nothing in common */
    }
}

void vkq__metrics_compute(const float *ref, const float *test, const float *weights, int64_t n,
                          vkq__metrics *out) {
    vkq__metrics_acc acc;
    vkq__metrics_acc_init(&acc);
    vkq__metrics_acc_add(&acc, ref, test, weights, n);
    vkq__metrics_acc_finish(&acc, out);
}

void vkq__metrics_acc_merge(vkq__metrics_acc *into, const vkq__metrics_acc *from) {
    into->sw += from->sw;
    into->sw_rr += from->sw_rr;
    into->sw_tt += from->sw_tt;
    into->sw_rt += from->sw_rt;
    into->sw_ee += from->sw_ee;
    if (from->max_abs > into->max_abs || from->max_abs != from->max_abs) into->max_abs = from->max_abs;
}

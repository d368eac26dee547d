/* lib/analysis — error metrics between a reference and a test vector: the one module that the
 * kernel tests, the quantizer and the viewer use, so that they all report the same numbers.
 * Sums are accumulated in double. Internal to libvkq (names vkq__*). */
#ifndef VKQ_ANALYSIS_METRICS_H
#define VKQ_ANALYSIS_METRICS_H

#include <stdint.h>

/* With e = test - ref and weights w (all 1 when none are given), sums over the elements:
 *   rmse     sqrt(sum w e^2 / sum w)
 *   rel_l2   ||e|| / ||ref|| = sqrt(sum w e^2 / sum w ref^2)
 *   sqnr_db  10 log10(sum w ref^2 / sum w e^2)
 *   max_abs  max |e| over the elements with a positive weight
 *   cosine   sum w ref test / sqrt(sum w ref^2 * sum w test^2), clamped to [-1, 1]
 * Degenerate cases give no NaN (for finite inputs):
 *   - no error at all (sum w e^2 == 0, also for empty input or zero total weight): rmse, rel_l2
 *     and max_abs are 0, sqnr_db is +INFINITY, cosine is 1 (two zero vectors count as equal);
 *   - ref of zero energy but some error: rel_l2 is +INFINITY and sqnr_db -INFINITY;
 *   - cosine with exactly one of ref and test of zero energy: 0.
 * Weights: a negative or NaN weight counts as 0. NaN in ref or test propagates into the sums. */
typedef struct vkq__metrics {
    double rmse, rel_l2, sqnr_db, max_abs, cosine;
} vkq__metrics;

/* ref, test: n values; weights: n values or NULL. */
void vkq__metrics_compute(const float *ref, const float *test, const float *weights, int64_t n,
                          vkq__metrics *out);

/* The same metrics over data that arrives in pieces (a tensor row by row): init once, add each
 * piece (same meaning of arguments as above), finish to read the metrics of everything added.
 * Plain data: copy it, add pieces from one thread at a time. */
typedef struct vkq__metrics_acc {
    double sw;    /* sum w */
    double sw_rr; /* sum w ref^2 */
    double sw_tt; /* sum w test^2 */
    double sw_rt; /* sum w ref test */
    double sw_ee; /* sum w e^2 */
    double max_abs;
} vkq__metrics_acc;

void vkq__metrics_acc_init(vkq__metrics_acc *acc);
void vkq__metrics_acc_add(vkq__metrics_acc *acc, const float *ref, const float *test,
                          const float *weights, int64_t n);
void vkq__metrics_acc_finish(const vkq__metrics_acc *acc, vkq__metrics *out);
/* Adds what `from` holds to `into`, as if its pieces had been added there (threads' partial
 * sums). */
void vkq__metrics_acc_merge(vkq__metrics_acc *into, const vkq__metrics_acc *from);

#endif

/* The error-metrics module on vectors whose metrics are known in closed form. */
#include "formats_test.h"

#include "analysis/metrics.h"

#include <math.h>

static bool near(double a, double b, double tol) { return fabs(a - b) <= tol * fmax(1.0, fabs(b)); }

static void test_known(void) {
    /* ref = (3, 4), test = (3, 5): e = (0, 1), ||ref|| = 5, ||test|| = sqrt(34). */
    const float ref[] = {3.0f, 4.0f}, test[] = {3.0f, 5.0f};
    vkq__metrics m;
    vkq__metrics_compute(ref, test, NULL, 2, &m);
    CHECK(near(m.rmse, sqrt(0.5), 1e-12));
    CHECK(near(m.rel_l2, 0.2, 1e-12));
    CHECK(near(m.sqnr_db, 10.0 * log10(25.0), 1e-12));
    CHECK(near(m.max_abs, 1.0, 0));
    CHECK(near(m.cosine, 29.0 / (5.0 * sqrt(34.0)), 1e-12));

    /* Opposite vectors: cosine -1, error twice the signal. */
    const float a[] = {1.0f, -2.0f, 2.0f}, b[] = {-1.0f, 2.0f, -2.0f};
    vkq__metrics_compute(a, b, NULL, 3, &m);
    CHECK(near(m.cosine, -1.0, 1e-12));
    CHECK(near(m.rel_l2, 2.0, 1e-12));
    CHECK(near(m.sqnr_db, -10.0 * log10(4.0), 1e-12));
    CHECK(near(m.rmse, 2.0 * sqrt(3.0), 1e-12)); /* |e| = 2, 4, 4: mean square 12 */
    CHECK(near(m.max_abs, 4.0, 0));
}

static void test_weighted(void) {
    /* Weights (1, 3) are the same as the vector with the second element repeated 3 times. */
    const float ref[] = {1.0f, 2.0f}, test[] = {1.5f, 1.0f}, w[] = {1.0f, 3.0f};
    const float ref4[] = {1.0f, 2.0f, 2.0f, 2.0f}, test4[] = {1.5f, 1.0f, 1.0f, 1.0f};
    vkq__metrics m, r;
    vkq__metrics_compute(ref, test, w, 2, &m);
    vkq__metrics_compute(ref4, test4, NULL, 4, &r);
    CHECK(near(m.rmse, r.rmse, 1e-12) && near(m.rel_l2, r.rel_l2, 1e-12));
    CHECK(near(m.sqnr_db, r.sqnr_db, 1e-12) && near(m.cosine, r.cosine, 1e-12));
    CHECK(near(m.max_abs, r.max_abs, 0));
    /* Zero, negative and NaN weights drop an element, also from max_abs. */
    const float w0[] = {1.0f, 0.0f}, wn[] = {1.0f, -2.0f}, wnan[] = {1.0f, NAN};
    const float *ws[] = {w0, wn, wnan};
    for (int i = 0; i < 3; i++) {
        vkq__metrics_compute(ref, test, ws[i], 2, &m);
        CHECK(near(m.rmse, 0.5, 1e-12) && near(m.max_abs, 0.5, 0) && near(m.rel_l2, 0.5, 1e-12));
    }
}

static void test_degenerate(void) {
    const float z[] = {0.0f, 0.0f}, one[] = {1.0f, 0.0f}, w0[] = {0.0f, 0.0f};
    vkq__metrics m;
    /* identical, including both zero and empty: no error, cosine 1 */
    vkq__metrics_compute(z, z, NULL, 2, &m);
    CHECK(m.rmse == 0 && m.rel_l2 == 0 && m.max_abs == 0 && m.cosine == 1 && isinf(m.sqnr_db) &&
          m.sqnr_db > 0);
    vkq__metrics_compute(one, one, NULL, 2, &m);
    CHECK(m.rmse == 0 && m.rel_l2 == 0 && m.cosine == 1 && isinf(m.sqnr_db) && m.sqnr_db > 0);
    vkq__metrics_compute(one, z, NULL, 0, &m);
    CHECK(m.rmse == 0 && m.cosine == 1 && isinf(m.sqnr_db));
    vkq__metrics_compute(one, z, w0, 2, &m);
    CHECK(m.rmse == 0 && m.cosine == 1 && !isnan(m.rel_l2));
    /* ref zero, test not: infinite relative error, no NaN */
    vkq__metrics_compute(z, one, NULL, 2, &m);
    CHECK(near(m.rmse, sqrt(0.5), 1e-12) && isinf(m.rel_l2) && m.rel_l2 > 0);
    CHECK(isinf(m.sqnr_db) && m.sqnr_db < 0 && m.cosine == 0 && m.max_abs == 1);
    /* test zero, ref not: rel_l2 1, SQNR 0 dB, cosine 0 */
    vkq__metrics_compute(one, z, NULL, 2, &m);
    CHECK(near(m.rel_l2, 1.0, 1e-12) && near(m.sqnr_db, 0.0, 1e-12) && m.cosine == 0);
}

/* Pieces added to an accumulator give the metrics of the whole; double sums keep a million
 * small errors accurate. */
static void test_accumulator(void) {
    enum { n = 1 << 20 };
    static float ref[n], test[n];
    for (int i = 0; i < n; i++) {
        ref[i] = test_rand_normal();
        test[i] = ref[i] + 1e-3f * test_rand_normal();
    }
    vkq__metrics whole, parts;
    vkq__metrics_compute(ref, test, NULL, n, &whole);
    vkq__metrics_acc acc;
    vkq__metrics_acc_init(&acc);
    for (int i = 0; i < n; i += 1000) {
        vkq__metrics_acc_add(&acc, ref + i, test + i, NULL, i + 1000 <= n ? 1000 : n - i);
    }
    vkq__metrics_acc_finish(&acc, &parts);
    CHECK(near(whole.rmse, parts.rmse, 1e-9) && near(whole.sqnr_db, parts.sqnr_db, 1e-9));
    CHECK(near(whole.cosine, parts.cosine, 1e-12) && whole.max_abs == parts.max_abs);
    /* Relative L2 of 1e-3 noise on unit data: 1e-3 within sampling error (n = 2^20). */
    CHECK_MSG(near(whole.rel_l2, 1e-3, 0.01), "rel_l2 %g", whole.rel_l2);
    CHECK(near(whole.sqnr_db, 60.0, 0.01));
}

void test_metrics(void) {
    test_known();
    test_weighted();
    test_degenerate();
    test_accumulator();
}

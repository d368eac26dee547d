#include "formats_test.h"

#include <math.h>

const vkq_type all_types[] = {
    VKQ_TYPE_F32,  VKQ_TYPE_F16,  VKQ_TYPE_BF16,   VKQ_TYPE_Q4_0,   VKQ_TYPE_Q4_1, VKQ_TYPE_Q5_0,
    VKQ_TYPE_Q5_1, VKQ_TYPE_Q8_0, VKQ_TYPE_Q8_1,   VKQ_TYPE_Q2_K,   VKQ_TYPE_Q3_K, VKQ_TYPE_Q4_K,
    VKQ_TYPE_Q5_K, VKQ_TYPE_Q6_K, VKQ_TYPE_IQ4_NL, VKQ_TYPE_IQ4_XS,
};
const int all_types_count = (int)(sizeof all_types / sizeof all_types[0]);

const char *data_dist_name(data_dist d) {
    switch (d) {
    case DATA_GAUSSIAN: return "gaussian";
    case DATA_LAPLACE: return "laplace";
    case DATA_OUTLIERS: return "outliers";
    default: return "?";
    }
}

void data_fill(data_dist d, float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        switch (d) {
        case DATA_LAPLACE: {
            /* Inverse CDF with scale 1/sqrt(2), so that the variance is 1. */
            float u = test_rand_uniform(-0.5f, 0.5f);
            float a = fabsf(u) < 0.4999999f ? fabsf(u) : 0.4999999f;
            x[i] = (u < 0.0f ? 1.0f : -1.0f) * 0.70710678f * logf(1.0f - 2.0f * a);
            break;
        }
        case DATA_OUTLIERS:
            x[i] = test_rand_normal();
            if (test_rand_uniform(0.0f, 1.0f) < 0.01f) x[i] *= test_rand_uniform(8.0f, 40.0f);
            break;
        default: x[i] = test_rand_normal(); break;
        }
    }
}

/* Shared by the formats test groups and quant_error_report. */
#ifndef VKQ_FORMATS_TEST_H
#define VKQ_FORMATS_TEST_H

#include "common/test.h"

#include <stdint.h>

/* Test data: unit-scale samples, drawn from the seeded test generator. */
typedef enum data_dist {
    DATA_GAUSSIAN,
    DATA_LAPLACE,  /* heavier tails, like many trained weights */
    DATA_OUTLIERS, /* Gaussian with 1 % of values 8..40 times larger */
    DATA_DIST_COUNT
} data_dist;

const char *data_dist_name(data_dist d);
void data_fill(data_dist d, float *x, int64_t n);

/* Every tensor type except VKQ_TYPE_NONE, in enum order. */
extern const vkq_type all_types[];
extern const int all_types_count;

/* The test groups of the formats executable. */
void test_half(void);
void test_layouts(void);
void test_quantize(void);
void test_metrics(void);
void test_public_api(void);

#endif

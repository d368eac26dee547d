/* vkq_quantize / vkq_dequantize: exact status codes for bad arguments, nothing written then,
 * and a round trip through the public functions for every type. */
#include "formats_test.h"

#include <math.h>
#include <string.h>

#define CHECK_ST(expr, expected)                                                                   \
    do {                                                                                           \
        vkq_status s_ = (expr);                                                                    \
        CHECK_MSG(s_ == (expected), "%s returned %s, expected %s", #expr, vkq_status_string(s_),   \
                  vkq_status_string(expected));                                                    \
    } while (0)

static void test_dequantize_errors(void) {
    uint8_t src[144] = {0};
    float dst[256];
    for (int i = 0; i < 256; i++) dst[i] = 42.0f;
    CHECK_ST(vkq_dequantize(VKQ_TYPE_Q4_0, NULL, dst, 32), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_dequantize(VKQ_TYPE_Q4_0, src, NULL, 32), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_dequantize(VKQ_TYPE_NONE, src, dst, 32), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_dequantize(VKQ_TYPE_COUNT, src, dst, 32), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_dequantize((vkq_type)-1, src, dst, 32), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_dequantize((vkq_type)1000, src, dst, 32), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_dequantize(VKQ_TYPE_Q4_0, src, dst, 31), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_dequantize(VKQ_TYPE_Q4_0, src, dst, 33), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_dequantize(VKQ_TYPE_Q4_K, src, dst, 32), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_dequantize(VKQ_TYPE_IQ4_XS, src, dst, 255), VKQ_ERR_INVALID_ARGUMENT);
    /* Counts whose byte size cannot exist must be refused before anything is touched. */
    CHECK_ST(vkq_dequantize(VKQ_TYPE_F32, src, dst, UINT64_MAX), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_dequantize(VKQ_TYPE_F32, src, dst, (uint64_t)1 << 62), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_dequantize(VKQ_TYPE_Q4_0, src, dst, UINT64_MAX - 31), VKQ_ERR_INVALID_ARGUMENT);
    int touched = 0;
    for (int i = 0; i < 256; i++) touched += dst[i] != 42.0f;
    CHECK_MSG(touched == 0, "a refused call wrote %d values", touched);
    CHECK_ST(vkq_dequantize(VKQ_TYPE_Q4_0, src, dst, 0), VKQ_OK);
    CHECK(dst[0] == 42.0f);
    CHECK_ST(vkq_dequantize(VKQ_TYPE_F16, src, dst, 1), VKQ_OK);
    CHECK(dst[0] == 0.0f && dst[1] == 42.0f);
    CHECK_ST(vkq_dequantize(VKQ_TYPE_Q4_K, src, dst, 256), VKQ_OK);
}

static void test_quantize_errors(void) {
    float src[256] = {0};
    uint8_t dst[300];
    size_t written = 123;
    memset(dst, 0xab, sizeof dst);
    CHECK_ST(vkq_quantize(VKQ_TYPE_Q4_0, NULL, dst, 32, NULL, &written), VKQ_ERR_INVALID_ARGUMENT);
    CHECK(written == 0);
    written = 123;
    CHECK_ST(vkq_quantize(VKQ_TYPE_Q4_0, src, NULL, 32, NULL, &written), VKQ_ERR_INVALID_ARGUMENT);
    CHECK(written == 0);
    CHECK_ST(vkq_quantize(VKQ_TYPE_Q4_0, src, dst, 32, NULL, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_quantize(VKQ_TYPE_NONE, src, dst, 32, NULL, &written), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_quantize(VKQ_TYPE_COUNT, src, dst, 32, NULL, &written), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_quantize((vkq_type)77, src, dst, 32, NULL, &written), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_quantize(VKQ_TYPE_Q8_0, src, dst, 48, NULL, &written), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_quantize(VKQ_TYPE_Q6_K, src, dst, 128, NULL, &written), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_ST(vkq_quantize(VKQ_TYPE_BF16, src, dst, UINT64_MAX, NULL, &written),
             VKQ_ERR_INVALID_ARGUMENT);
    CHECK(written == 0);
    int touched = 0;
    for (size_t i = 0; i < sizeof dst; i++) touched += dst[i] != 0xab;
    CHECK_MSG(touched == 0, "a refused call wrote %d bytes", touched);
    CHECK_ST(vkq_quantize(VKQ_TYPE_Q4_K, src, dst, 0, NULL, &written), VKQ_OK);
    CHECK(written == 0 && dst[0] == 0xab);
}

/* Every type through the public pair: sizes right, output close to the input. */
static void test_public_roundtrip(void) {
    enum { n = 512 };
    float x[n], y[n], imp[n];
    uint8_t q[n * 4];
    for (int i = 0; i < n; i++) x[i] = test_rand_normal(), imp[i] = test_rand_uniform(0.5f, 2.0f);
    for (int i = 0; i < all_types_count; i++) {
        vkq_type t = all_types[i];
        size_t written = 0;
        CHECK_ST(vkq_quantize(t, x, q, n, i % 2 ? imp : NULL, &written), VKQ_OK);
        CHECK_MSG(written == (size_t)n / vkq_type_block_elements(t) * vkq_type_block_bytes(t),
                  "%s: %zu bytes written", vkq_type_name(t), written);
        CHECK_ST(vkq_dequantize(t, q, y, n), VKQ_OK);
        double e2 = 0, x2 = 0;
        for (int j = 0; j < n; j++) {
            e2 += (double)(y[j] - x[j]) * (y[j] - x[j]), x2 += (double)x[j] * x[j];
        }
        /* Q2_K, the coarsest format, reconstructs Gaussian data to about 0.26 relative RMSE. */
        CHECK_MSG(sqrt(e2 / x2) < 0.4, "%s: relative RMSE %g", vkq_type_name(t), sqrt(e2 / x2));
    }
}

void test_public_api(void) {
    test_dequantize_errors();
    test_quantize_errors();
    test_public_roundtrip();
}

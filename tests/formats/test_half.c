/* fp16 and bf16 conversions: exact values, rounding ties, overflow, subnormals, inf and NaN. */
#include "formats_test.h"

#include "quant/half.h"

#include <float.h>
#include <math.h>

static float from_bits(uint32_t u) { return vkq__f32_from_bits(u); }

static void check_to_half(float f, uint16_t expected) {
    uint16_t h = vkq__fp32_to_fp16(f);
    CHECK_MSG(h == expected, "fp16(%a) = 0x%04x, expected 0x%04x", (double)f, h, expected);
}

static void check_to_bf16(float f, uint16_t expected) {
    uint16_t b = vkq__fp32_to_bf16(f);
    CHECK_MSG(b == expected, "bf16(%a) = 0x%04x, expected 0x%04x", (double)f, b, expected);
}

static bool half_is_nan(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0; }

static void test_fp16_values(void) {
    check_to_half(0.0f, 0x0000);
    check_to_half(-0.0f, 0x8000);
    check_to_half(1.0f, 0x3c00);
    check_to_half(-2.0f, 0xc000);
    check_to_half(0.5f, 0x3800);
    check_to_half(65504.0f, 0x7bff); /* largest finite half */
    /* Ties round to even: 1 + 2^-11 is halfway between 1 (mantissa 0) and 1 + 2^-10 (1). */
    check_to_half(1.0f + 0x1p-11f, 0x3c00);
    check_to_half(1.0f + 3 * 0x1p-11f, 0x3c02);        /* halfway between mantissas 1 and 2 */
    check_to_half(1.0f + 0x1p-11f + 0x1p-20f, 0x3c01); /* just above halfway */
    /* Overflow: 65520 is halfway between 65504 (odd mantissa) and 65536, so it rounds up to
     * infinity; anything just below stays finite. */
    check_to_half(65519.996f, 0x7bff);
    check_to_half(65520.0f, 0x7c00);
    check_to_half(-1e6f, 0xfc00);
    check_to_half(FLT_MAX, 0x7c00);
    check_to_half(INFINITY, 0x7c00);
    check_to_half(-INFINITY, 0xfc00);
    /* Subnormal halves are multiples of 2^-24. */
    check_to_half(0x1p-24f, 0x0001);
    check_to_half(0x1p-25f, 0x0000); /* tie with 0 -> even (0) */
    check_to_half(-0x1p-25f, 0x8000);
    check_to_half(0x1p-25f * 1.0001f, 0x0001); /* just above the tie */
    check_to_half(3 * 0x1p-25f, 0x0002);       /* tie between 1 and 2 -> 2 */
    check_to_half(1023 * 0x1p-24f, 0x03ff);    /* largest subnormal */
    check_to_half(1023.5f * 0x1p-24f, 0x0400); /* rounds up into the normal range */
    check_to_half(0x1p-14f, 0x0400);           /* smallest normal */
    check_to_half(1e-30f, 0x0000);
    check_to_half(FLT_MIN / 4, 0x0000); /* float subnormal */
    /* NaN stays NaN (any payload), keeps its sign. */
    uint16_t n1 = vkq__fp32_to_fp16(NAN);
    uint16_t n2 = vkq__fp32_to_fp16(from_bits(0xff800001u)); /* negative signalling NaN */
    CHECK(half_is_nan(n1));
    CHECK(half_is_nan(n2) && (n2 & 0x8000u));
}

static void test_fp16_decode(void) {
    CHECK(vkq__fp16_to_fp32(0x0001) == 0x1p-24f);
    CHECK(vkq__fp16_to_fp32(0x03ff) == 1023 * 0x1p-24f);
    CHECK(vkq__fp16_to_fp32(0x0400) == 0x1p-14f);
    CHECK(vkq__fp16_to_fp32(0x3c00) == 1.0f);
    CHECK(vkq__fp16_to_fp32(0x7bff) == 65504.0f);
    CHECK(vkq__fp16_to_fp32(0xc000) == -2.0f);
    CHECK(isinf(vkq__fp16_to_fp32(0x7c00)) && vkq__fp16_to_fp32(0x7c00) > 0);
    CHECK(isinf(vkq__fp16_to_fp32(0xfc00)) && vkq__fp16_to_fp32(0xfc00) < 0);
    CHECK(isnan(vkq__fp16_to_fp32(0x7e00)) && isnan(vkq__fp16_to_fp32(0xfc01)));
    float nz = vkq__fp16_to_fp32(0x8000);
    CHECK(nz == 0.0f && signbit(nz));
    /* Every half survives half -> float -> half. */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        uint16_t back = vkq__fp32_to_fp16(vkq__fp16_to_fp32((uint16_t)h));
        if (half_is_nan((uint16_t)h) ? !half_is_nan(back) : back != h) bad++;
    }
    CHECK_MSG(bad == 0, "%d halves do not survive a round trip", bad);
}

static void test_bf16(void) {
    check_to_bf16(0.0f, 0x0000);
    check_to_bf16(-0.0f, 0x8000);
    check_to_bf16(1.0f, 0x3f80);
    check_to_bf16(-2.0f, 0xc000);
    check_to_bf16(1.0f + 0x1p-8f, 0x3f80);            /* tie -> even */
    check_to_bf16(1.0f + 3 * 0x1p-8f, 0x3f82);        /* tie -> even (up) */
    check_to_bf16(1.0f + 0x1p-8f + 0x1p-20f, 0x3f81); /* above the tie */
    check_to_bf16(FLT_MAX, 0x7f80);                   /* rounds past the largest bf16 */
    check_to_bf16(INFINITY, 0x7f80);
    check_to_bf16(-INFINITY, 0xff80);
    check_to_bf16(from_bits(0x00012345u), 0x0001); /* float subnormals keep their top bits */
    /* A NaN whose payload sits only in the low bits must not round into infinity. */
    uint16_t n = vkq__fp32_to_bf16(from_bits(0x7f800001u));
    CHECK((n & 0x7f80u) == 0x7f80u && (n & 0x7fu) != 0);
    CHECK(isnan(vkq__bf16_to_fp32(vkq__fp32_to_bf16(NAN))));
    CHECK(vkq__bf16_to_fp32(0x3f80) == 1.0f);
    CHECK(vkq__bf16_to_fp32(0x4049) == 3.140625f);
    int bad = 0;
    for (uint32_t b = 0; b < 65536; b++) {
        float f = vkq__bf16_to_fp32((uint16_t)b);
        if (!isnan(f) && vkq__fp32_to_bf16(f) != b) bad++;
    }
    CHECK_MSG(bad == 0, "%d bf16 values do not survive a round trip", bad);
}

/* Random floats against a slow reference: the nearest half by exhaustive comparison over the
 * two neighbours, ties to the even mantissa. */
static void test_fp16_random(void) {
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        float f = test_rand_normal() * ldexpf(1.0f, test_rand_int(-26, 14));
        uint16_t h = vkq__fp32_to_fp16(f);
        double a = fabs((double)f);
        if (a >= 65504.0) continue; /* overflow is checked above */
        uint16_t lo = vkq__fp32_to_fp16((float)a) & 0x7fffu;
        /* neighbours lo-1, lo, lo+1 in magnitude; the chosen one must be nearest */
        double best = INFINITY;
        uint16_t best_h = 0;
        for (int k = -1; k <= 1; k++) {
            int c = (int)lo + k;
            if (c < 0 || c > 0x7c00) continue;
            double v = vkq__fp16_to_fp32((uint16_t)c);
            double e = fabs(v - a);
            if (e < best || (e == best && (c & 1) == 0)) {
                best = e;
                best_h = (uint16_t)c;
            }
        }
        if ((h & 0x7fffu) != best_h || ((h & 0x8000u) != 0) != (f < 0)) bad++;
    }
    CHECK_MSG(bad == 0, "%d random floats not rounded to the nearest half", bad);
}

void test_half(void) {
    test_fp16_values();
    test_fp16_decode();
    test_bf16();
    test_fp16_random();
}

/* Dequantization of hand-built blocks. Each block is written byte by byte from the layout in
 * FORMATS.md, from values chosen first (random each run), and the expected floats are computed
 * from those values with the format's formula. Scales are halves with at most 9 significant
 * bits and a shared exponent, so every product and difference in the formulas is exact in
 * float and the comparison can be ==, whatever order the products are taken in. A few blocks
 * are also spelled out as literal bytes with literal expected values. */
#include "formats_test.h"

#include "quant/quant.h"

#include <math.h>
#include <string.h>

static const int iq4_table[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                  1,    13,   25,  38,  53,  69,  89,  113};

typedef struct hval {
    uint16_t bits;
    float value;
} hval;

/* A random half m * 2^(E-25) with 9 significant bits, built from its fields by hand. */
static hval rand_half(int E) {
    int m = 1024 + 4 * test_rand_int(0, 255);
    int neg = test_rand_int(0, 1);
    hval h = {(uint16_t)(neg << 15 | E << 10 | (m - 1024)), ldexpf((float)m, E - 25)};
    if (neg) h.value = -h.value;
    return h;
}

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}

static void expect_block(vkq_type t, const uint8_t *block, const float *expected,
                         const char *what) {
    int n = (int)vkq_type_block_elements(t);
    float y[256];
    vkq__dequantize_row(t, block, y, n);
    int bad = 0, first = -1;
    for (int e = 0; e < n; e++) {
        if (y[e] != expected[e] && !(isnan(y[e]) && isnan(expected[e]))) {
            if (first < 0) first = e;
            bad++;
        }
    }
    CHECK_MSG(bad == 0, "%s %s: %d of %d values differ; first: element %d = %g, expected %g",
              vkq_type_name(t), what, bad, n, first, first >= 0 ? (double)y[first] : 0.0,
              first >= 0 ? (double)expected[first] : 0.0);
}

static void test_float_types(void) {
    const uint8_t f16[] = {0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x7c};
    const float f16_exp[] = {1.0f, -2.0f, 65504.0f, 0x1p-24f, INFINITY};
    float y[5];
    vkq__dequantize_row(VKQ_TYPE_F16, f16, y, 5);
    for (int i = 0; i < 5; i++) {
        CHECK_MSG(y[i] == f16_exp[i], "f16 element %d = %g", i, (double)y[i]);
    }
    const uint8_t bf16[] = {0x80, 0x3f, 0x49, 0x40, 0x80, 0xff};
    const float bf16_exp[] = {1.0f, 3.140625f, -INFINITY};
    vkq__dequantize_row(VKQ_TYPE_BF16, bf16, y, 3);
    for (int i = 0; i < 3; i++) {
        CHECK_MSG(y[i] == bf16_exp[i], "bf16 element %d = %g", i, (double)y[i]);
    }
    const uint8_t f32[] = {0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x20, 0xc1}; /* 1.5, -10 */
    vkq__dequantize_row(VKQ_TYPE_F32, f32, y, 2);
    CHECK(y[0] == 1.5f && y[1] == -10.0f);
}

/* ---- 32-element formats ---------------------------------------------------------------- */

static void put_nibbles(uint8_t *qs, const int *q) {
    for (int j = 0; j < 16; j++) qs[j] = (uint8_t)((q[j] & 15) | (q[j + 16] & 15) << 4);
}

static void put_qh32(uint8_t *qh, const int *q) {
    uint32_t bits = 0;
    for (int e = 0; e < 32; e++) bits |= (uint32_t)((q[e] >> 4) & 1) << e;
    for (int i = 0; i < 4; i++) qh[i] = (uint8_t)(bits >> (8 * i));
}

static void test_q4_0_literal(void) {
    uint8_t b[18];
    memset(b, 0x88, sizeof b); /* every value 8: level 0 */
    b[0] = 0x00, b[1] = 0x38;  /* d = 0.5 */
    b[2] = 0x80;               /* element 0: 0 -> -8; element 16: 8 -> 0 */
    b[3] = 0xf1;               /* element 1: 1 -> -7; element 17: 15 -> 7 */
    float e[32] = {0};
    e[0] = -4.0f, e[1] = -3.5f, e[17] = 3.5f;
    expect_block(VKQ_TYPE_Q4_0, b, e, "literal");
}

static void test_legacy_random(void) {
    int q[32];
    uint8_t b[36];
    float e[32];
    for (int rep = 0; rep < 8; rep++) {
        int E = test_rand_int(2, 14);
        hval d = rand_half(E), m = rand_half(E);
        /* Q4_0 and Q4_1 */
        for (int j = 0; j < 32; j++) q[j] = test_rand_int(0, 15);
        put16(b, d.bits);
        put_nibbles(b + 2, q);
        for (int j = 0; j < 32; j++) e[j] = (float)(q[j] - 8) * d.value;
        expect_block(VKQ_TYPE_Q4_0, b, e, "random");
        put16(b + 2, m.bits);
        put_nibbles(b + 4, q);
        for (int j = 0; j < 32; j++) e[j] = (float)q[j] * d.value + m.value;
        expect_block(VKQ_TYPE_Q4_1, b, e, "random");
        /* Q5_0 and Q5_1 */
        for (int j = 0; j < 32; j++) q[j] = test_rand_int(0, 31);
        put16(b, d.bits);
        put_qh32(b + 2, q);
        put_nibbles(b + 6, q);
        for (int j = 0; j < 32; j++) e[j] = (float)(q[j] - 16) * d.value;
        expect_block(VKQ_TYPE_Q5_0, b, e, "random");
        put16(b + 2, m.bits);
        put_qh32(b + 4, q);
        put_nibbles(b + 8, q);
        for (int j = 0; j < 32; j++) e[j] = (float)q[j] * d.value + m.value;
        expect_block(VKQ_TYPE_Q5_1, b, e, "random");
        /* Q8_0 and Q8_1 (whose sum field does not take part in decoding: fill it with NaN) */
        for (int j = 0; j < 32; j++) q[j] = test_rand_int(-128, 127);
        put16(b, d.bits);
        for (int j = 0; j < 32; j++) b[2 + j] = (uint8_t)(q[j] & 0xff);
        for (int j = 0; j < 32; j++) e[j] = (float)q[j] * d.value;
        expect_block(VKQ_TYPE_Q8_0, b, e, "random");
        put16(b + 2, 0x7e00);
        for (int j = 0; j < 32; j++) b[4 + j] = (uint8_t)(q[j] & 0xff);
        expect_block(VKQ_TYPE_Q8_1, b, e, "random");
        /* IQ4_NL */
        for (int j = 0; j < 32; j++) q[j] = test_rand_int(0, 15);
        put16(b, d.bits);
        put_nibbles(b + 2, q);
        for (int j = 0; j < 32; j++) e[j] = d.value * (float)iq4_table[q[j]];
        expect_block(VKQ_TYPE_IQ4_NL, b, e, "random");
    }
}

/* ---- K-formats ------------------------------------------------------------------------- */

/* Two-bit field of element n + 32k + l (n = 0, 128) at bits 2k of qs[n/4 + l]. */
static void put_2bit(uint8_t *qs, int e, int v) {
    int n = e / 128 * 128, k = (e % 128) / 32, l = e % 32;
    qs[n / 4 + l] = (uint8_t)(qs[n / 4 + l] | (v & 3) << (2 * k));
}

static void test_q2_k(void) {
    int sc[16], mn[16], q[256];
    uint8_t b[84] = {0};
    float e[256];
    hval d = rand_half(6), dmin = rand_half(6);
    for (int i = 0; i < 16; i++) sc[i] = test_rand_int(0, 15), mn[i] = test_rand_int(0, 15);
    for (int i = 0; i < 256; i++) q[i] = test_rand_int(0, 3);
    for (int i = 0; i < 16; i++) b[i] = (uint8_t)(sc[i] | mn[i] << 4);
    for (int i = 0; i < 256; i++) put_2bit(b + 16, i, q[i]);
    put16(b + 80, d.bits);
    put16(b + 82, dmin.bits);
    for (int i = 0; i < 256; i++) {
        e[i] = d.value * (float)sc[i / 16] * (float)q[i] - dmin.value * (float)mn[i / 16];
    }
    expect_block(VKQ_TYPE_Q2_K, b, e, "random");
}

static void put_q3_k_scale(uint8_t *s, int j, int v) {
    if (j < 8) {
        s[j] = (uint8_t)(s[j] | (v & 15));
    } else {
        s[j - 8] = (uint8_t)(s[j - 8] | (v & 15) << 4);
    }
    s[8 + j % 4] = (uint8_t)(s[8 + j % 4] | (v >> 4) << (2 * (j / 4)));
}

static void test_q3_k(void) {
    int s6[16], v[256];
    uint8_t b[110] = {0};
    float e[256];
    hval d = rand_half(8);
    for (int i = 0; i < 16; i++) s6[i] = test_rand_int(0, 63);
    for (int i = 0; i < 256; i++) v[i] = test_rand_int(-4, 3);
    for (int i = 0; i < 256; i++) {
        if (v[i] >= 0) b[i % 32] = (uint8_t)(b[i % 32] | 1 << (i / 32)); /* "no -4" bit */
        put_2bit(b + 32, i, (v[i] + 4) & 3);
    }
    for (int j = 0; j < 16; j++) put_q3_k_scale(b + 96, j, s6[j]);
    put16(b + 108, d.bits);
    for (int i = 0; i < 256; i++) e[i] = d.value * (float)(s6[i / 16] - 32) * (float)v[i];
    expect_block(VKQ_TYPE_Q3_K, b, e, "random");
}

static void test_q3_k_literal(void) {
    uint8_t b[110] = {0};
    b[108] = 0x00, b[109] = 0x40; /* d = 2 */
    b[96 + 2] = 0x50;             /* scale 10: low nibble 5; scale 2: 0 */
    b[96 + 10] = 0x20;            /* scale 10: high bits (bits 4-5) = 2 -> 37 - 32 = 5 */
    b[32 + 32] = 0x0c;            /* element 160 (n = 128, k = 1, l = 0): low bits 3 */
    b[0] = 0x20;                  /* element 160: hmask[0] bit 5 -> no -4 */
    float e[256];
    for (int i = 0; i < 256; i++) e[i] = 2.0f * -32.0f * -4.0f; /* scale 0 - 32, value -4 */
    for (int i = 160; i < 176; i++) e[i] = 2.0f * 5.0f * -4.0f;
    e[160] = 30.0f;
    expect_block(VKQ_TYPE_Q3_K, b, e, "literal");
}

static void put_scale_min_k4(uint8_t *s, int j, int sc, int m) {
    if (j < 4) {
        s[j] = (uint8_t)(s[j] | sc);
        s[j + 4] = (uint8_t)(s[j + 4] | m);
    } else {
        s[j + 4] = (uint8_t)((sc & 15) | (m & 15) << 4);
        s[j - 4] = (uint8_t)(s[j - 4] | (sc >> 4) << 6);
        s[j] = (uint8_t)(s[j] | (m >> 4) << 6);
    }
}

/* Q4_K (bits 4) and Q5_K (bits 5). */
static void test_q45_k(int bits) {
    vkq_type t = bits == 4 ? VKQ_TYPE_Q4_K : VKQ_TYPE_Q5_K;
    int sc[8], mn[8], q[256];
    uint8_t b[176] = {0};
    float e[256];
    hval d = rand_half(6), dmin = rand_half(6);
    for (int i = 0; i < 8; i++) sc[i] = test_rand_int(0, 63), mn[i] = test_rand_int(0, 63);
    for (int i = 0; i < 256; i++) q[i] = test_rand_int(0, (1 << bits) - 1);
    put16(b, d.bits);
    put16(b + 2, dmin.bits);
    for (int j = 0; j < 8; j++) put_scale_min_k4(b + 4, j, sc[j], mn[j]);
    uint8_t *qs = b + (bits == 4 ? 16 : 48), *qh = b + 16;
    for (int c = 0; c < 4; c++) {
        for (int l = 0; l < 32; l++) {
            int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
            qs[32 * c + l] = (uint8_t)((lo & 15) | (hi & 15) << 4);
            if (bits == 5) {
                qh[l] = (uint8_t)(qh[l] | (lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));
            }
        }
    }
    for (int i = 0; i < 256; i++) {
        e[i] = d.value * (float)sc[i / 32] * (float)q[i] - dmin.value * (float)mn[i / 32];
    }
    expect_block(t, b, e, "random");
}

static void test_q4_k_literal(void) {
    uint8_t b[144] = {0};
    b[0] = 0x00, b[1] = 0x3c; /* d = 1 */
    b[2] = 0x00, b[3] = 0x38; /* dmin = 0.5 */
    b[4 + 1] = 0x43;          /* scale 1 = 3; top bits 1 -> scale 5 bits 4-5 */
    b[4 + 5] = 0x82;          /* min 1 = 2; top bits 2 -> min 5 bits 4-5 */
    b[4 + 9] = 0x21;          /* scale 5 low 1, min 5 low 2: scale 5 = 17, min 5 = 34 */
    b[16 + 64] = 0x70;        /* chunk 2, byte 0: element 128 -> 0, element 160 -> 7 */
    float e[256] = {0};
    for (int i = 32; i < 64; i++) e[i] = -1.0f;    /* 3 * 0 - 0.5 * 2 */
    for (int i = 160; i < 192; i++) e[i] = -17.0f; /* 17 * 0 - 0.5 * 34 */
    e[160] = 102.0f;                               /* 17 * 7 - 17 */
    expect_block(VKQ_TYPE_Q4_K, b, e, "literal");
}

static void test_q6_k(void) {
    int sc[16], q[256];
    uint8_t b[210] = {0};
    float e[256];
    hval d = rand_half(4);
    for (int i = 0; i < 16; i++) sc[i] = test_rand_int(-128, 127);
    for (int i = 0; i < 256; i++) q[i] = test_rand_int(0, 63);
    for (int h = 0; h < 2; h++) {
        uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
        const int *qq = q + 128 * h;
        for (int l = 0; l < 32; l++) {
            ql[l] = (uint8_t)((qq[l] & 15) | (qq[l + 64] & 15) << 4);
            ql[l + 32] = (uint8_t)((qq[l + 32] & 15) | (qq[l + 96] & 15) << 4);
            qh[l] = (uint8_t)((qq[l] >> 4) | (qq[l + 32] >> 4) << 2 | (qq[l + 64] >> 4) << 4 |
                              (qq[l + 96] >> 4) << 6);
        }
    }
    for (int i = 0; i < 16; i++) b[192 + i] = (uint8_t)(sc[i] & 0xff);
    put16(b + 208, d.bits);
    for (int i = 0; i < 256; i++) e[i] = d.value * (float)sc[i / 16] * (float)(q[i] - 32);
    expect_block(VKQ_TYPE_Q6_K, b, e, "random");
}

static void test_q6_k_literal(void) {
    uint8_t b[210] = {0};
    b[208] = 0x00, b[209] = 0x38; /* d = 0.5 */
    b[192 + 0] = 0xfd;            /* scale 0 = -3 */
    b[192 + 6] = 0x05;            /* scale 6 = 5 */
    b[0] = 0x21;                  /* element 0: low 1; element 64: low 2 */
    b[128] = 0xc6;                /* high bits: element 0: 2, 32: 1, 64: 0, 96: 3 */
    float e[256] = {0};           /* scales other than 0 and 6 are 0 */
    for (int i = 0; i < 16; i++) e[i] = 0.5f * -3.0f * -32.0f;
    for (int i = 96; i < 112; i++) e[i] = 0.5f * 5.0f * -32.0f;
    e[0] = -1.5f;  /* q = 33 */
    e[96] = 40.0f; /* q = 48 */
    expect_block(VKQ_TYPE_Q6_K, b, e, "literal");
}

static void test_iq4_xs(void) {
    int ls[8], q[256];
    uint8_t b[136] = {0};
    float e[256];
    hval d = rand_half(6);
    for (int i = 0; i < 8; i++) ls[i] = test_rand_int(0, 63);
    for (int i = 0; i < 256; i++) q[i] = test_rand_int(0, 15);
    put16(b, d.bits);
    uint16_t scales_h = 0;
    for (int ib = 0; ib < 8; ib++) {
        b[4 + ib / 2] = (uint8_t)(b[4 + ib / 2] | (ls[ib] & 15) << (4 * (ib % 2)));
        scales_h = (uint16_t)(scales_h | (ls[ib] >> 4) << (2 * ib));
        put_nibbles(b + 8 + 16 * ib, q + 32 * ib);
    }
    put16(b + 2, scales_h);
    for (int i = 0; i < 256; i++) {
        e[i] = d.value * (float)(ls[i / 32] - 32) * (float)iq4_table[q[i]];
    }
    expect_block(VKQ_TYPE_IQ4_XS, b, e, "random");
}

/* A row of several blocks decodes block by block (offsets are block_bytes apart). */
static void test_multi_block_row(void) {
    uint8_t b[3 * 18];
    memset(b, 0x99, sizeof b); /* every value 9: level +1 */
    put16(b, 0x3c00);          /* 1 */
    put16(b + 18, 0x4000);     /* 2 */
    put16(b + 36, 0xc400);     /* -4 */
    float y[96];
    CHECK(vkq_dequantize(VKQ_TYPE_Q4_0, b, y, 96) == VKQ_OK);
    CHECK(y[0] == 1.0f && y[31] == 1.0f && y[32] == 2.0f && y[63] == 2.0f && y[64] == -4.0f &&
          y[95] == -4.0f);
}

void test_layouts(void) {
    test_float_types();
    test_q4_0_literal();
    test_legacy_random();
    test_q3_k_literal();
    test_q4_k_literal();
    test_q6_k_literal();
    for (int rep = 0; rep < 8; rep++) {
        test_q2_k();
        test_q3_k();
        test_q45_k(4);
        test_q45_k(5);
        test_q6_k();
        test_iq4_xs();
    }
    test_multi_block_row();
}

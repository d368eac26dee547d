/* The 32-element formats with a uniform grid: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q8_1.
 * Every field is read and written byte by byte (little-endian) because blocks of 18, 22 or 34
 * bytes sit at any offset in a file. */
#include "quant/blocks.h"

/* Bit-exact decoding needs every product rounded on its own. GCC in ISO C mode never fuses
 * a*b - c into an FMA; clang may, where the target has FMA (arm64), unless told not to. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <math.h>
#include <string.h>

#define QK 32

typedef struct legacy_format {
    int bits;         /* 4, 5 or 8 bits per value */
    bool affine;      /* y = d*q + m (Q4_1, Q5_1) rather than y = d*(q - offset) */
    bool sum;         /* Q8_1: a second half holds d * sum(q) for the activation side of dots */
    int qh_off;       /* offset of the 32 fifth bits (5-bit formats), else 0 */
    int qs_off;       /* offset of the packed values */
    float closed_end; /* closed form: the largest-magnitude element maps to this level */
} legacy_format;

static const legacy_format fmt_q4_0 = {4, false, false, 0, 2, -8.0f};
static const legacy_format fmt_q4_1 = {4, true, false, 0, 4, 0.0f};
static const legacy_format fmt_q5_0 = {5, false, false, 2, 6, -16.0f};
static const legacy_format fmt_q5_1 = {5, true, false, 4, 8, 0.0f};
/* Q8: amax/127 keeps the grid symmetric (-127..127); the search may also use -128. */
static const legacy_format fmt_q8_0 = {8, false, false, 0, 2, 127.0f};
static const legacy_format fmt_q8_1 = {8, false, true, 0, 4, 127.0f};

/* Offset of the stored unsigned value from the signed level (Q4_0: stored 0..15 is -8..7). */
static int level_offset(const legacy_format *f) { return f->affine ? 0 : 1 << (f->bits - 1); }

static vkq__grid level_grid(const legacy_format *f) {
    vkq__grid g = {NULL, -level_offset(f), 1 << f->bits, NULL};
    return g;
}

/* Stored values (0 .. 2^bits - 1, unsigned) of one block. */
static void get_values(const legacy_format *f, const uint8_t *b, uint8_t *q) {
    if (f->bits == 8) {
        for (int j = 0; j < QK; j++) q[j] = (uint8_t)(b[f->qs_off + j] ^ 0x80u); /* i8 + 128 */
        return;
    }
    vkq__unpack_nibbles32(b + f->qs_off, q);
    if (f->bits == 5) {
        const uint8_t *h = b + f->qh_off;
        uint32_t qh =
            (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
        for (int j = 0; j < QK; j++) q[j] = (uint8_t)(q[j] | (((qh >> j) & 1u) << 4));
    }
}

static void set_values(const legacy_format *f, const uint8_t *q, uint8_t *b) {
    if (f->bits == 8) {
        for (int j = 0; j < QK; j++) b[f->qs_off + j] = (uint8_t)(q[j] ^ 0x80u);
        return;
    }
    vkq__pack_nibbles32(q, b + f->qs_off);
    if (f->bits == 5) {
        uint32_t qh = 0;
        for (int j = 0; j < QK; j++) qh |= (uint32_t)((q[j] >> 4) & 1u) << j;
        for (int i = 0; i < 4; i++) b[f->qh_off + i] = (uint8_t)(qh >> (8 * i));
    }
}

static void dequantize(const void *format, const uint8_t *b, float *y) {
    const legacy_format *f = format;
    uint8_t q[QK];
    get_values(f, b, q);
    float d = vkq__rd_half(b);
    if (f->affine) {
        float m = vkq__rd_half(b + 2);
        for (int j = 0; j < QK; j++) y[j] = (float)q[j] * d + m;
    } else {
        int off = level_offset(f);
        for (int j = 0; j < QK; j++) y[j] = (float)(q[j] - off) * d;
    }
}

/* Stores scale d (and m) as halves, re-rounds every value with the stored scales, packs. */
static void finish_block(const legacy_format *f, const float *x, float d, float m, uint8_t *b) {
    uint8_t q[QK];
    uint16_t dh = vkq__scale_to_half(d);
    float df = vkq__fp16_to_fp32(dh);
    float id = df != 0.0f ? 1.0f / df : 0.0f;
    vkq__wr_u16(b, dh);
    int qmax = (1 << f->bits) - 1;
    if (f->affine) {
        uint16_t mh = vkq__scale_to_half(m);
        float mf = vkq__fp16_to_fp32(mh);
        vkq__wr_u16(b + 2, mh);
        for (int j = 0; j < QK; j++) q[j] = (uint8_t)vkq__round_clamp((x[j] - mf) * id, 0, qmax);
    } else {
        int off = level_offset(f);
        for (int j = 0; j < QK; j++) {
            q[j] = (uint8_t)vkq__round_clamp(x[j] * id + (float)off, 0, qmax);
        }
    }
    if (f->sum) {
        int s = 0;
        for (int j = 0; j < QK; j++) s += q[j] - level_offset(f);
        /* d * sum(q) with the stored d, so that it is the sum of the dequantized values. */
        vkq__wr_u16(b + 2, vkq__scale_to_half(df * (float)s));
    }
    set_values(f, q, b);
}

static void quantize_closed(const void *format, const float *x, uint8_t *b) {
    const legacy_format *f = format;
    memset(b, 0, (size_t)f->qs_off);
    if (f->affine) {
        float mn = x[0], mx = x[0];
        for (int j = 1; j < QK; j++) {
            mn = fminf(mn, x[j]);
            mx = fmaxf(mx, x[j]);
        }
        finish_block(f, x, (mx - mn) / (float)((1 << f->bits) - 1), mn, b);
        return;
    }
    float xm = 0.0f, amax = 0.0f;
    for (int j = 0; j < QK; j++) {
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            xm = x[j];
        }
    }
    /* A positive end (Q8) means "amax / end", keeping d positive as producers do. */
    float d = f->closed_end > 0.0f ? amax / f->closed_end : xm / f->closed_end;
    finish_block(f, x, d, 0.0f, b);
}

static void quantize_search(const void *format, const float *x, const float *w, uint8_t *b) {
    const legacy_format *f = format;
    uint8_t q[QK];
    memset(b, 0, (size_t)f->qs_off);
    if (f->affine) {
        float m = 0.0f;
        float d = vkq__fit_affine(x, w, QK, (1 << f->bits) - 1, false, &m, q);
        finish_block(f, x, d, m, b);
        return;
    }
    vkq__grid g = level_grid(f);
    finish_block(f, x, vkq__fit_symmetric(x, w, QK, &g, q), 0.0f, b);
}

static const vkq__codec codecs[] = {
    {&fmt_q4_0, dequantize, quantize_closed, quantize_search},
    {&fmt_q4_1, dequantize, quantize_closed, quantize_search},
    {&fmt_q5_0, dequantize, quantize_closed, quantize_search},
    {&fmt_q5_1, dequantize, quantize_closed, quantize_search},
    {&fmt_q8_0, dequantize, quantize_closed, quantize_search},
    {&fmt_q8_1, dequantize, quantize_closed, quantize_search},
};

const vkq__codec *vkq__codec_legacy(vkq_type type) {
    switch (type) {
    case VKQ_TYPE_Q4_0: return &codecs[0];
    case VKQ_TYPE_Q4_1: return &codecs[1];
    case VKQ_TYPE_Q5_0: return &codecs[2];
    case VKQ_TYPE_Q5_1: return &codecs[3];
    case VKQ_TYPE_Q8_0: return &codecs[4];
    case VKQ_TYPE_Q8_1: return &codecs[5];
    default: return NULL;
    }
}

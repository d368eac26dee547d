/* IQ4_NL and IQ4_XS: four-bit indices into a fixed non-uniform grid (denser near zero, where
 * most weights are), with one scale per 32 values (IQ4_NL) or a 6-bit scale per 32 values under
 * a super-block half scale (IQ4_XS). */
#include "quant/blocks.h"

/* Bit-exact decoding needs every product rounded on its own. GCC in ISO C mode never fuses
 * a*b - c into an FMA; clang may, where the target has FMA (arm64), unless told not to. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <math.h>
#include <string.h>

static const vkq__grid iq4_grid = {vkq__iq4_values, 0, 16, vkq__iq4_mids};

/* ---- IQ4_NL: half d; u8 qs[16] (32-element block, nibbles as Q4_0) ---------------------- */

static void iq4_nl_dequantize(const void *format, const uint8_t *b, float *y) {
    (void)format;
    uint8_t q[32];
    float d = vkq__rd_half(b);
    vkq__unpack_nibbles32(b + 2, q);
    for (int j = 0; j < 32; j++) y[j] = d * (float)vkq__iq4_values[q[j]];
}

/* Stores d as a half and re-rounds every value to the grid with the stored d. */
static void iq4_nl_finish(const float *x, float d, uint8_t *b) {
    uint8_t q[32];
    uint16_t dh = vkq__scale_to_half(d);
    float df = vkq__fp16_to_fp32(dh);
    float id = df != 0.0f ? 1.0f / df : 0.0f;
    for (int j = 0; j < 32; j++) q[j] = (uint8_t)vkq__grid_nearest(&iq4_grid, x[j] * id);
    vkq__wr_u16(b, dh);
    vkq__pack_nibbles32(q, b + 2);
}

static void iq4_nl_quantize_closed(const void *format, const float *x, uint8_t *b) {
    (void)format;
    float xm = 0.0f, amax = 0.0f;
    for (int j = 0; j < 32; j++) {
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            xm = x[j];
        }
    }
    /* The grid's longer arm is the negative one (-127): the largest magnitude goes there. */
    iq4_nl_finish(x, xm / (float)vkq__iq4_values[0], b);
}

static void iq4_nl_quantize_search(const void *format, const float *x, const float *w, uint8_t *b) {
    (void)format;
    uint8_t q[32];
    iq4_nl_finish(x, vkq__fit_symmetric(x, w, 32, &iq4_grid, q), b);
}

/* ---- IQ4_XS: half d; u16 scales_h; u8 scales_l[4]; u8 qs[128] --------------------------- */

static void iq4_xs_dequantize(const uint8_t *b, float *y) {
    float d = vkq__rd_half(b);
    uint16_t scales_h = vkq__rd_u16(b + 2);
    const uint8_t *scales_l = b + 4, *qs = b + 8;
    for (int ib = 0; ib < 8; ib++) {
        int ls = ((scales_l[ib / 2] >> (4 * (ib % 2))) & 15) | ((scales_h >> (2 * ib)) & 3) << 4;
        float dl = d * (float)(ls - 32);
        uint8_t q[32];
        vkq__unpack_nibbles32(qs + 16 * ib, q);
        for (int j = 0; j < 32; j++) y[32 * ib + j] = dl * (float)vkq__iq4_values[q[j]];
    }
}

static void iq4_xs_pack(const vkq__kblock *kb, uint8_t *b) {
    memset(b, 0, 136);
    uint16_t scales_h = 0;
    for (int ib = 0; ib < 8; ib++) {
        int ls = kb->sc[ib]; /* level ls - 32 */
        b[4 + ib / 2] = (uint8_t)(b[4 + ib / 2] | (ls & 15) << (4 * (ib % 2)));
        scales_h = (uint16_t)(scales_h | ((ls >> 4) & 3) << (2 * ib));
        vkq__pack_nibbles32(kb->q + 32 * ib, b + 8 + 16 * ib);
    }
    vkq__wr_u16(b, kb->d);
    vkq__wr_u16(b + 2, scales_h);
}

static const vkq__kformat iq4_xs = {
    {8, 32, {vkq__iq4_values, 0, 16, vkq__iq4_mids}, {NULL, -32, 64, NULL}, false, -127.0f, -32.0f},
    iq4_xs_pack,
    iq4_xs_dequantize};

static const vkq__codec codecs[] = {
    {NULL, iq4_nl_dequantize, iq4_nl_quantize_closed, iq4_nl_quantize_search},
    {&iq4_xs, vkq__kformat_dequantize, vkq__kformat_quantize_closed, vkq__kformat_quantize_search},
};

const vkq__codec *vkq__codec_iquant(vkq_type type) {
    switch (type) {
    case VKQ_TYPE_IQ4_NL: return &codecs[0];
    case VKQ_TYPE_IQ4_XS: return &codecs[1];
    default: return NULL;
    }
}

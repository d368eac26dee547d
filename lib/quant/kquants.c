/* Q2_K, Q3_K, Q4_K, Q5_K and Q6_K: super-blocks of 256 values. Decoding follows the layouts in
 * FORMATS.md literally, products in the stated order (bit-exact with GGUF producers); packing is
 * the exact inverse. The quantizer itself is shared (kquant_fit.c). Every K-format numbers its
 * sub-blocks in element order (sub-block i holds elements i*size .. i*size + size - 1); only the
 * bit positions differ. */
#include "quant/blocks.h"

/* Bit-exact decoding needs every product rounded on its own. GCC in ISO C mode never fuses
 * a*b - c into an FMA; clang may, where the target has FMA (arm64), unless told not to. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <string.h>

/* ---- Q2_K: u8 scales[16] (scale | min << 4); u8 qs[64]; half d; half dmin ---------------- */

/* Two-bit values of a 256-element block: element n + 32k + l (n = 0 or 128, k = 0..3,
 * l = 0..31) sits at bits 2k of qs[n/4 + l]. Q3_K keeps its low two bits the same way. */
static int get_2bit(const uint8_t *qs, int e) {
    int n = e / 128 * 128, k = (e % 128) / 32, l = e % 32;
    return (qs[n / 4 + l] >> (2 * k)) & 3;
}

static void set_2bit(uint8_t *qs, int e, int v) {
    int n = e / 128 * 128, k = (e % 128) / 32, l = e % 32;
    qs[n / 4 + l] = (uint8_t)(qs[n / 4 + l] | (v & 3) << (2 * k));
}

static void q2_k_dequantize(const uint8_t *b, float *y) {
    const uint8_t *scales = b, *qs = b + 16;
    float d = vkq__rd_half(b + 80), dmin = vkq__rd_half(b + 82);
    for (int e = 0; e < 256; e++) {
        uint8_t sc = scales[e / 16];
        float dl = d * (float)(sc & 15);
        float ml = dmin * (float)(sc >> 4);
        y[e] = dl * (float)get_2bit(qs, e) - ml;
    }
}

static void q2_k_pack(const vkq__kblock *kb, uint8_t *b) {
    memset(b, 0, 84);
    for (int i = 0; i < 16; i++) b[i] = (uint8_t)(kb->sc[i] | kb->mn[i] << 4);
    for (int e = 0; e < 256; e++) set_2bit(b + 16, e, kb->q[e]);
    vkq__wr_u16(b + 80, kb->d);
    vkq__wr_u16(b + 82, kb->dmin);
}

/* ---- Q3_K: u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d ------------------------------- */

/* Six-bit scale j (0..15) with its +32 bias: low nibble from scales[j] (j < 8) or the high
 * nibble of scales[j-8]; high two bits at bit 2*(j/4) of scales[8 + j%4]. */
static int q3_k_scale(const uint8_t *s, int j) {
    int lo = j < 8 ? (s[j] & 15) : (s[j - 8] >> 4);
    int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return lo | hi << 4;
}

static void q3_k_dequantize(const uint8_t *b, float *y) {
    const uint8_t *hmask = b, *qs = b + 32, *scales = b + 96;
    float d = vkq__rd_half(b + 108);
    for (int e = 0; e < 256; e++) {
        float dl = d * (float)(q3_k_scale(scales, e / 16) - 32);
        int high = (hmask[e % 32] >> (e / 32)) & 1;
        int q = get_2bit(qs, e) - (high ? 0 : 4);
        y[e] = dl * (float)q;
    }
}

static void q3_k_pack(const vkq__kblock *kb, uint8_t *b) {
    uint8_t *hmask = b, *qs = b + 32, *scales = b + 96;
    memset(b, 0, 110);
    for (int e = 0; e < 256; e++) {
        int idx = kb->q[e]; /* level idx - 4: high bit set means "no -4" */
        set_2bit(qs, e, idx & 3);
        hmask[e % 32] = (uint8_t)(hmask[e % 32] | ((idx >> 2) & 1) << (e / 32));
    }
    for (int j = 0; j < 16; j++) {
        int s = kb->sc[j]; /* already biased: level s - 32 */
        if (j < 8) {
            scales[j] = (uint8_t)(scales[j] | (s & 15));
        } else {
            scales[j - 8] = (uint8_t)(scales[j - 8] | (s & 15) << 4);
        }
        scales[8 + j % 4] = (uint8_t)(scales[8 + j % 4] | ((s >> 4) & 3) << (2 * (j / 4)));
    }
    vkq__wr_u16(b + 108, kb->d);
}

/* ---- Q4_K / Q5_K: half d; half dmin; u8 scales[12]; (Q5_K: u8 qh[32]); u8 qs[128] -------- */

/* Six-bit scale and min of sub-block j (0..7) from the 12 packed bytes. */
static void get_scale_min_k4(const uint8_t *s, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

static void set_scale_min_k4(uint8_t *s, int j, int sc, int m) {
    if (j < 4) {
        s[j] = (uint8_t)(s[j] | (sc & 63));
        s[j + 4] = (uint8_t)(s[j + 4] | (m & 63));
    } else {
        s[j + 4] = (uint8_t)(s[j + 4] | (sc & 15) | (m & 15) << 4);
        s[j - 4] = (uint8_t)(s[j - 4] | (sc >> 4) << 6);
        s[j] = (uint8_t)(s[j] | (m >> 4) << 6);
    }
}

/* Shared by Q4_K (qh == NULL) and Q5_K: chunk c of 64 elements uses 32 bytes of qs, low nibbles
 * for sub-block 2c, high nibbles for 2c + 1; Q5_K's fifth bits are bits 2c and 2c + 1 of
 * qh[l]. */
static void q45_k_dequantize(const uint8_t *b, const uint8_t *qh, const uint8_t *qs, float *y) {
    float d = vkq__rd_half(b), dmin = vkq__rd_half(b + 2);
    const uint8_t *scales = b + 4;
    for (int c = 0; c < 4; c++) {
        int sc1, m1, sc2, m2;
        get_scale_min_k4(scales, 2 * c, &sc1, &m1);
        get_scale_min_k4(scales, 2 * c + 1, &sc2, &m2);
        float d1 = d * (float)sc1, min1 = dmin * (float)m1;
        float d2 = d * (float)sc2, min2 = dmin * (float)m2;
        for (int l = 0; l < 32; l++) {
            int lo = qs[32 * c + l] & 15, hi = qs[32 * c + l] >> 4;
            if (qh) {
                lo |= ((qh[l] >> (2 * c)) & 1) << 4;
                hi |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
            }
            y[64 * c + l] = d1 * (float)lo - min1;
            y[64 * c + 32 + l] = d2 * (float)hi - min2;
        }
    }
}

static void q45_k_pack(const vkq__kblock *kb, uint8_t *b, uint8_t *qh, uint8_t *qs) {
    vkq__wr_u16(b, kb->d);
    vkq__wr_u16(b + 2, kb->dmin);
    for (int j = 0; j < 8; j++) set_scale_min_k4(b + 4, j, kb->sc[j], kb->mn[j]);
    for (int c = 0; c < 4; c++) {
        for (int l = 0; l < 32; l++) {
            int lo = kb->q[64 * c + l], hi = kb->q[64 * c + 32 + l];
            qs[32 * c + l] = (uint8_t)((lo & 15) | (hi & 15) << 4);
            if (qh) qh[l] = (uint8_t)(qh[l] | (lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));
        }
    }
}

static void q4_k_dequantize(const uint8_t *b, float *y) { q45_k_dequantize(b, NULL, b + 16, y); }
static void q5_k_dequantize(const uint8_t *b, float *y) { q45_k_dequantize(b, b + 16, b + 48, y); }

static void q4_k_pack(const vkq__kblock *kb, uint8_t *b) {
    memset(b, 0, 144);
    q45_k_pack(kb, b, NULL, b + 16);
}

static void q5_k_pack(const vkq__kblock *kb, uint8_t *b) {
    memset(b, 0, 176);
    q45_k_pack(kb, b, b + 16, b + 48);
}

/* ---- Q6_K: u8 ql[128]; u8 qh[64]; i8 scales[16]; half d ---------------------------------- */

/* Where element 128h + 32k + l (k = 0..3) keeps its six bits: the low nibble (k < 2) or high
 * nibble (k >= 2) of ql[64h + l + 32*(k%2)], and bits 2k..2k+1 of qh[32h + l]. */
static void q6_k_dequantize(const uint8_t *b, float *y) {
    const uint8_t *scales = b + 192;
    float d = vkq__rd_half(b + 208);
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
        for (int k = 0; k < 4; k++) {
            for (int l = 0; l < 32; l++) {
                int byte = ql[l + 32 * (k % 2)];
                int low = k < 2 ? (byte & 15) : (byte >> 4);
                int q = (low | ((qh[l] >> (2 * k)) & 3) << 4) - 32;
                int sc = vkq__i8(scales[8 * h + 2 * k + l / 16]);
                y[128 * h + 32 * k + l] = d * (float)sc * (float)q;
            }
        }
    }
}

static void q6_k_pack(const vkq__kblock *kb, uint8_t *b) {
    memset(b, 0, 210);
    for (int e = 0; e < 256; e++) {
        int h = e / 128, k = (e % 128) / 32, l = e % 32;
        int q = kb->q[e]; /* level q - 32 */
        uint8_t *ql = b + 64 * h + l + 32 * (k % 2), *qh = b + 128 + 32 * h + l;
        *ql = (uint8_t)(*ql | (q & 15) << (k < 2 ? 0 : 4));
        *qh = (uint8_t)(*qh | (q >> 4) << (2 * k));
    }
    for (int i = 0; i < 16; i++) b[192 + i] = (uint8_t)(kb->sc[i] ^ 0x80u); /* level - 128 */
    vkq__wr_u16(b + 208, kb->d);
}

/* ---- the table ------------------------------------------------------------------------- */

/* Uniform grids: {values = NULL, lo, count, mids = NULL}. */
#define UNIFORM(lo, count)                                                                         \
    { NULL, (lo), (count), NULL }

static const vkq__kformat q2_k = {
    {16, 16, UNIFORM(0, 4), UNIFORM(0, 16), true, 0.0f, 0.0f}, q2_k_pack, q2_k_dequantize};
static const vkq__kformat q3_k = {
    {16, 16, UNIFORM(-4, 8), UNIFORM(-32, 64), false, -4.0f, -32.0f}, q3_k_pack, q3_k_dequantize};
static const vkq__kformat q4_k = {
    {8, 32, UNIFORM(0, 16), UNIFORM(0, 64), true, 0.0f, 0.0f}, q4_k_pack, q4_k_dequantize};
static const vkq__kformat q5_k = {
    {8, 32, UNIFORM(0, 32), UNIFORM(0, 64), true, 0.0f, 0.0f}, q5_k_pack, q5_k_dequantize};
static const vkq__kformat q6_k = {
    {16, 16, UNIFORM(-32, 64), UNIFORM(-128, 256), false, -32.0f, -128.0f},
    q6_k_pack,
    q6_k_dequantize};

#define KCODEC(f)                                                                                  \
    { &(f), vkq__kformat_dequantize, vkq__kformat_quantize_closed, vkq__kformat_quantize_search }

static const vkq__codec codecs[] = {KCODEC(q2_k), KCODEC(q3_k), KCODEC(q4_k), KCODEC(q5_k),
                                    KCODEC(q6_k)};

const vkq__codec *vkq__codec_kquant(vkq_type type) {
    switch (type) {
    case VKQ_TYPE_Q2_K: return &codecs[0];
    case VKQ_TYPE_Q3_K: return &codecs[1];
    case VKQ_TYPE_Q4_K: return &codecs[2];
    case VKQ_TYPE_Q5_K: return &codecs[3];
    case VKQ_TYPE_Q6_K: return &codecs[4];
    default: return NULL;
    }
}

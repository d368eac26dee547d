/* Internal to lib/quant: per-format block codecs and the scale-search routines they share.
 * Nothing outside lib/quant includes this; the rest of the library uses quant.h. */
#ifndef VKQ_QUANT_BLOCKS_H
#define VKQ_QUANT_BLOCKS_H

#include "quant/half.h"
#include "quant/quant.h"

#include <math.h>
#include <stdint.h>

/* Largest block of any format (the K-quants' super-block). */
#define VKQ__MAX_BLOCK 256

/* A set of quantization levels. Index q (0 .. count-1) stands for values[q] when `values` is set
 * (non-uniform grids, sorted ascending; mids[i] is then the midpoint of values[i] and
 * values[i+1]), otherwise for the integer lo + q. */
typedef struct vkq__grid {
    const int8_t *values;
    int lo;
    int count;
    const float *mids;
} vkq__grid;

static inline float vkq__grid_value(const vkq__grid *g, int q) {
    return g->values ? (float)g->values[q] : (float)(g->lo + q);
}

/* Rounds x to the nearest integer in [lo, hi] (halves up); NaN gives lo. Floor by truncation
 * and fix-up, because floorf is a library call on baseline x86-64 and this is the innermost
 * loop of every quantizer. */
static inline int vkq__round_clamp(float x, int lo, int hi) {
    if (!(x > (float)lo)) return lo;
    if (!(x < (float)hi)) return hi;
    float t = x + 0.5f;
    int r = (int)t;
    return (float)r > t ? r - 1 : r;
}

/* Index of the level nearest to v (NaN gives the lowest). */
int vkq__grid_nearest_table(const vkq__grid *g, float v);
static inline int vkq__grid_nearest(const vkq__grid *g, float v) {
    if (g->values) return vkq__grid_nearest_table(g, v);
    return vkq__round_clamp(v - (float)g->lo, 0, g->count - 1);
}

/* The 16 levels of IQ4_NL and IQ4_XS, and their 15 midpoints. */
extern const int8_t vkq__iq4_values[16];
extern const float vkq__iq4_mids[15];

/* Search for the scale d of y = d * value(q) that minimizes sum w (x - y)^2 over n values.
 * Tries candidate scales that put the element of largest magnitude at or near either end of the
 * grid, solves the weighted least-squares scale for each rounding, iterates rounding and
 * re-solving, and keeps the best. Writes the chosen level indices to q; returns d (0 when every
 * x is zero). w must be n non-negative weights with a positive sum. */
float vkq__fit_symmetric(const float *x, const float *w, int n, const vkq__grid *g, uint8_t *q);

/* The same for y = d * q + m with q in 0..qmax. With min_nonpositive, m is held <= 0 (the
 * K-formats store -m as an unsigned multiple of a non-negative scale). Writes q; returns d and
 * *m. */
float vkq__fit_affine(const float *x, const float *w, int n, int qmax, bool min_nonpositive,
                      float *m, uint8_t *q);

/* A float scale as the half that will be stored, kept finite. */
static inline uint16_t vkq__scale_to_half(float d) {
    if (d > VKQ__HALF_MAX) d = VKQ__HALF_MAX;
    if (d < -VKQ__HALF_MAX) d = -VKQ__HALF_MAX;
    if (d != d) d = 0.0f;
    return vkq__fp32_to_fp16(d);
}

/* 32 four-bit values in 16 bytes: byte j holds element j (low nibble) and j + 16 (high). */
static inline void vkq__pack_nibbles32(const uint8_t *q, uint8_t *qs) {
    for (int j = 0; j < 16; j++) qs[j] = (uint8_t)((q[j] & 15) | ((q[j + 16] & 15) << 4));
}
static inline void vkq__unpack_nibbles32(const uint8_t *qs, uint8_t *q) {
    for (int j = 0; j < 16; j++) {
        q[j] = qs[j] & 15;
        q[j + 16] = qs[j] >> 4;
    }
}

/* sum w (x - y)^2 in double. */
double vkq__weighted_sq_error(const float *x, const float *y, const float *w, int n);

/* A K-format super-block of 256 values before packing: the stored scales and, per sub-block, a
 * scale index and (affine formats) a min index into the shape's scale grid, then one value
 * index per element. */
typedef struct vkq__kblock {
    uint16_t d, dmin; /* as stored (half) */
    uint8_t sc[16];
    uint8_t mn[16];
    uint8_t q[VKQ__MAX_BLOCK];
} vkq__kblock;

/* What distinguishes the K-formats to the shared quantizer. Symmetric shapes decode as
 * y = (d * scale(sc)) * value(q); affine ones as y = (d * sc) * q - dmin * mn. */
typedef struct vkq__kshape {
    int nsub, sub;    /* sub-blocks and elements per sub-block; nsub * sub = 256 */
    vkq__grid values; /* the levels value indices stand for */
    vkq__grid scales; /* the levels of the sub-block scales (and mins) */
    bool affine;
    float closed_value_end; /* closed form, symmetric: a sub-block's largest element's level */
    float closed_scale_end; /* closed form, symmetric: the largest sub-block scale's level */
} vkq__kshape;

/* Closed form: each sub-block's scale from its extreme values, the super-block scale from the
 * largest sub-block scale, sub-block scales rounded against it, values re-rounded. */
void vkq__kquant_closed(const vkq__kshape *s, const float *x, vkq__kblock *out);
/* Search: weighted least-squares sub-block scales, the super-block scale fitted to them (each
 * sub-block weighted by how much its scale matters), sub-block scale levels chosen by the error
 * they give after re-rounding, then the super-block scale(s) refitted to the final rounding. */
void vkq__kquant_search(const vkq__kshape *s, const float *x, const float *w, vkq__kblock *out);

/* A K-format as a codec: its shape, how a kblock is packed into bytes, how bytes decode. The
 * three vkq__kformat_* functions are the codec functions of every such format (format points
 * to its vkq__kformat). */
typedef struct vkq__kformat {
    vkq__kshape shape;
    void (*pack)(const vkq__kblock *kb, uint8_t *dst);
    void (*dequantize)(const uint8_t *src, float *dst);
} vkq__kformat;

void vkq__kformat_dequantize(const void *format, const uint8_t *src, float *dst);
void vkq__kformat_quantize_closed(const void *format, const float *x, uint8_t *dst);
void vkq__kformat_quantize_search(const void *format, const float *x, const float *w, uint8_t *dst);

/* A stored signed byte, without relying on implementation-defined conversions. */
static inline int vkq__i8(uint8_t b) { return (int)b - ((b & 0x80u) ? 256 : 0); }

/* One block format: the family's description of it and the family's three block functions,
 * each called with that description. `dequantize` decodes one block; `quantize_closed` is the
 * closed-form encoder (no weights); `quantize_search` the search encoder (w: block_elements
 * weights, never NULL, with a positive sum). */
typedef struct vkq__codec {
    const void *format;
    void (*dequantize)(const void *format, const uint8_t *src, float *dst);
    void (*quantize_closed)(const void *format, const float *x, uint8_t *dst);
    void (*quantize_search)(const void *format, const float *x, const float *w, uint8_t *dst);
} vkq__codec;

/* NULL for the float types (handled row-wise in float.c) and unknown types. */
const vkq__codec *vkq__codec_legacy(vkq_type type);
const vkq__codec *vkq__codec_kquant(vkq_type type);
const vkq__codec *vkq__codec_iquant(vkq_type type);

/* F32, F16 and BF16 rows (float.c). */
void vkq__dequantize_float_row(vkq_type type, const void *src, float *dst, int64_t n);
void vkq__quantize_float_row(vkq_type type, const float *src, void *dst, int64_t n);

#endif

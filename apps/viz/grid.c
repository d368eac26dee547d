#include "grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float half_to_float(const uint8_t *p) {
    uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
    int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
    float v;
    if (exp == 0) v = ldexpf((float)man, -24);
    else if (exp == 31) v = man ? NAN : INFINITY;
    else v = ldexpf((float)(man | 1024), exp - 25);
    return sign ? -v : v;
}

/* The 6-bit scale and min of sub-block j in the 12 packed bytes of q4_k / q5_k. */
static void scale_min_k4(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

static const int8_t iq4_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                      1,    13,   25,  38,  53,  69,  89,  113};

static int linear(float *vals, float d, float m, int q_lo, int q_hi) {
    int n = 0;
    for (int q = q_lo; q <= q_hi; q++) vals[n++] = d * (float)q + m;
    return n;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int observed(const float *decoded, int first, int count, float *vals) {
    int n = 0;
    for (int i = first; i < first + count && n < VIZ_GRID_MAX; i++) {
        int seen = 0;
        for (int j = 0; j < n; j++) seen |= vals[j] == decoded[i];
        if (!seen) vals[n++] = decoded[i];
    }
    return n;
}

int viz_grid(vkq_type type, const uint8_t *b, const float *decoded, int e, float *vals,
             viz_grid_kind *kind, int *sub) {
    int n = 0;
    *kind = VIZ_GRID_UNIFORM;
    *sub = (int)vkq_type_block_elements(type);
    switch (type) {
    case VKQ_TYPE_Q4_0: n = linear(vals, half_to_float(b), 0, -8, 7); break;
    case VKQ_TYPE_Q5_0: n = linear(vals, half_to_float(b), 0, -16, 15); break;
    case VKQ_TYPE_Q8_0: n = linear(vals, half_to_float(b), 0, -128, 127); break;
    case VKQ_TYPE_Q4_1:
        *kind = VIZ_GRID_ASYMMETRIC;
        n = linear(vals, half_to_float(b), half_to_float(b + 2), 0, 15);
        break;
    case VKQ_TYPE_Q5_1:
        *kind = VIZ_GRID_ASYMMETRIC;
        n = linear(vals, half_to_float(b), half_to_float(b + 2), 0, 31);
        break;
    case VKQ_TYPE_Q2_K: { /* scales[16] qs[64] d dmin; sub-blocks of 16 */
        int is = e / 16, sc = b[is];
        *kind = VIZ_GRID_ASYMMETRIC;
        *sub = 16;
        n = linear(vals, half_to_float(b + 80) * (float)(sc & 0xF),
                   -half_to_float(b + 82) * (float)(sc >> 4), 0, 3);
        break;
    }
    case VKQ_TYPE_Q4_K:
    case VKQ_TYPE_Q5_K: { /* d dmin scales[12] ...; sub-blocks of 32 */
        int sc, m;
        scale_min_k4(e / 32, b + 4, &sc, &m);
        *kind = VIZ_GRID_ASYMMETRIC;
        *sub = 32;
        n = linear(vals, half_to_float(b) * (float)sc, -half_to_float(b + 2) * (float)m, 0,
                   type == VKQ_TYPE_Q4_K ? 15 : 31);
        break;
    }
    case VKQ_TYPE_Q6_K: { /* ql[128] qh[64] scales[16] (int8) d; sub-blocks of 16 */
        int half = e / 128, within = e % 128, is = half * 8 + (within % 32) / 16 + 2 * (within / 32);
        *sub = 16;
        n = linear(vals, half_to_float(b + 208) * (float)(int8_t)b[192 + is], 0, -32, 31);
        break;
    }
    case VKQ_TYPE_IQ4_NL:
    case VKQ_TYPE_IQ4_XS: {
        float d = half_to_float(b);
        if (type == VKQ_TYPE_IQ4_XS) { /* d scales_h(u16) scales_l[4] qs[128]; sub-blocks 32 */
            int ib = e / 32, scales_h = b[2] | (b[3] << 8);
            int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | (((scales_h >> (2 * ib)) & 3) << 4);
            d *= (float)(ls - 32);
            *sub = 32;
        }
        *kind = VIZ_GRID_NONUNIFORM;
        for (int q = 0; q < 16; q++) vals[n++] = d * (float)iq4_values[q];
        break;
    }
    case VKQ_TYPE_Q3_K: /* sub-blocks of 16 with 6-bit signed scales packed in 12 bytes */
        *kind = VIZ_GRID_OBSERVED;
        *sub = 16;
        n = observed(decoded, e / 16 * 16, 16, vals);
        break;
    default:
        *kind = VIZ_GRID_NONE;
        return 0;
    }
    qsort(vals, (size_t)n, sizeof *vals, cmp_float);
    return n;
}

const char *viz_grid_kind_name(viz_grid_kind kind) {
    switch (kind) {
    case VIZ_GRID_UNIFORM: return "uniform (symmetric)";
    case VIZ_GRID_ASYMMETRIC: return "uniform with offset (asymmetric)";
    case VIZ_GRID_NONUNIFORM: return "non-uniform (IQ4 table)";
    case VIZ_GRID_OBSERVED: return "values used by the sub-block";
    default: return "none";
    }
}

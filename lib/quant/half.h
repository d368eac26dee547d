/* IEEE binary16 ("half") and bfloat16 conversions, shared by the CPU reference formats, the GPU
 * upload code and anything else that reads or writes 16-bit floats. Header-only so that hot
 * loops can inline them. Float-to-16-bit conversions round to nearest, ties to even, which is
 * what GGUF producers do and what keeps scales bit-exact with files written elsewhere. */
#ifndef VKQ_QUANT_HALF_H
#define VKQ_QUANT_HALF_H

#include <stdint.h>
#include <string.h>

/* The largest finite half, for callers that must keep a scale finite. */
#define VKQ__HALF_MAX 65504.0f

static inline uint32_t vkq__f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float vkq__f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Round-to-nearest-even right shift of a positive integer by `shift` (1..31) bits. */
static inline uint32_t vkq__shift_rne(uint32_t x, unsigned shift) {
    uint32_t q = x >> shift;
    uint32_t rem = x & ((1u << shift) - 1u);
    uint32_t halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (q & 1u))) q++;
    return q;
}

/* float -> half. Overflow goes to infinity (as IEEE rounding says: |f| >= 65520 rounds up past
 * the largest finite half); NaN stays NaN (quiet, sign and top payload bits kept); results in the
 * subnormal range are rounded to the nearest multiple of 2^-24. */
static inline uint16_t vkq__fp32_to_fp16(float f) {
    uint32_t x = vkq__f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) {
        if (ax == 0x7f800000u) return (uint16_t)(sign | 0x7c00u);
        return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    }
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 */
    if (ax < 0x38800000u) {                                   /* below 2^-14: subnormal half */
        if (ax < 0x33000000u) return sign; /* <= 2^-25 rounds to zero (2^-25 ties to even 0) */
        uint32_t exp = ax >> 23;           /* 102..112 */
        uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
        /* value = mant * 2^(exp-150); in units of 2^-24 that is mant >> (126 - exp). */
        return (uint16_t)(sign | vkq__shift_rne(mant, 126u - exp));
    }
    /* Rebias the exponent (127 -> 15); a carry out of the mantissa bumps the exponent, which is
     * exactly what rounding up to the next binade needs. */
    return (uint16_t)(sign | vkq__shift_rne(ax - 0x38000000u, 13));
}

/* half -> float, exact for every input (every half is representable as a float). */
static inline float vkq__fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        /* zero or subnormal: mant * 2^-24, exact in float */
        float v = (float)mant * 0x1p-24f;
        return sign ? -v : v;
    }
    if (exp == 31) return vkq__f32_from_bits(sign | 0x7f800000u | (mant << 13));
    return vkq__f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

/* float -> bfloat16 (the top half of the float), rounded to nearest even; NaN stays a quiet NaN
 * (rounding could otherwise carry a NaN's payload into infinity). */
static inline uint16_t vkq__fp32_to_bf16(float f) {
    uint32_t x = vkq__f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x0040u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

static inline float vkq__bf16_to_fp32(uint16_t b) { return vkq__f32_from_bits((uint32_t)b << 16); }

/* Little-endian 16-bit field access for packed blocks, which may sit at any byte offset. */
static inline uint16_t vkq__rd_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline void vkq__wr_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xffu);
    p[1] = (uint8_t)(v >> 8);
}
static inline float vkq__rd_half(const uint8_t *p) { return vkq__fp16_to_fp32(vkq__rd_u16(p)); }

#endif

// Shared by the layer shaders (rms_norm, rope, kv_write, attention*, softmax, argmax, sample):
// the per-step parameter record and IEEE half rounding.

#ifndef LAYERS_COMMON_GLSL
#define LAYERS_COMMON_GLSL

// Mirrors vkq__step_params (lib/ops/layers.h). Read from a device buffer, never from push
// constants, so that a recorded decode step can be resubmitted with a new position.
struct Step {
    uint pos0;
    uint reserved0;
    float rand;
    float temperature;
    uint top_k;
    float top_p;
    float min_p;
    uint reserved1;
};

// A "minus infinity" that stays finite: exp(NEG_BIG - m) is 0 for any sane m, and unlike -inf
// it never produces inf - inf = NaN when both operands are masked.
const float NEG_BIG = -1.0e30;

// float -> half bits, round to nearest even, as vkq__fp32_to_fp16 does. Written out because
// packHalf2x16's rounding mode is left to the driver, and the cache must match the CPU bit for
// bit.
uint half_shift_rne(uint x, uint s) {
    uint q = x >> s;
    uint rem = x & ((1u << s) - 1u);
    uint halfway = 1u << (s - 1u);
    if (rem > halfway || (rem == halfway && (q & 1u) != 0u)) q++;
    return q;
}

uint f32_to_f16_bits(float f) {
    uint x = floatBitsToUint(f);
    uint sign = (x >> 16) & 0x8000u;
    uint ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return sign | (ax == 0x7f800000u ? 0x7c00u : (0x7e00u | ((ax >> 13) & 0x3ffu)));
    if (ax >= 0x477ff000u) return sign | 0x7c00u;
    if (ax < 0x38800000u) {
        if (ax < 0x33000000u) return sign;
        uint e = ax >> 23;
        uint m = (ax & 0x7fffffu) | 0x800000u;
        return sign | half_shift_rne(m, 126u - e);
    }
    return sign | half_shift_rne(ax - 0x38000000u, 13u);
}

float f16_bits_to_f32(uint h) { return unpackHalf2x16(h & 0xffffu).x; }

// One workgroup handles one row; rows beyond maxComputeWorkGroupCount[0] spill into y.
uint wg_row() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }

#endif

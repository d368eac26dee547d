// KV-cache rows (lib/ops/layers.h, "KV cache layout"): head_dim values of one type, padded to a
// multiple of 4 bytes, read as 32-bit words so that no 8/16-bit storage is needed. Exactly one
// of KV_F16, KV_Q8_0, KV_Q4_0 is defined. Q8_0 / Q4_0 blocks are the GGUF blocks (FORMATS.md):
// half d, then 32 int8 values (Q8_0: y = q*d) or 16 bytes of nibbles (Q4_0: byte j holds element
// j low and j+16 high; y = (q-8)*d).
//
// The including shader declares the K and V caches as `uint kc[]` and `uint vc[]` (either may be
// a dummy when only one is read) before including this file.

#ifndef KV_FORMATS_GLSL
#define KV_FORMATS_GLSL

#if defined(KV_F16)
const uint KV_BLOCK_BYTES = 0u;
#elif defined(KV_Q8_0)
const uint KV_BLOCK_BYTES = 34u;
#elif defined(KV_Q4_0)
const uint KV_BLOCK_BYTES = 18u;
#else
#error "kv_formats.glsl: define KV_F16, KV_Q8_0 or KV_Q4_0"
#endif

// `is_v` is a constant at every call site, so the selection folds away after inlining.
uint kv_word(bool is_v, uint i) { return is_v ? vc[i] : kc[i]; }

// Four bytes at an even (not necessarily 4-aligned) byte offset.
uint kv_u32_at(bool is_v, uint b) {
    uint i = b >> 2;
    if ((b & 2u) == 0u) return kv_word(is_v, i);
    return (kv_word(is_v, i) >> 16) | (kv_word(is_v, i + 1u) << 16);
}

float kv_half_at(bool is_v, uint b) {
    uint w = kv_word(is_v, b >> 2);
    return unpackHalf2x16((b & 2u) != 0u ? (w >> 16) : w).x;
}

// Elements e .. e+3 (e a multiple of 4) of the row starting at byte `row` (4-aligned).
// Each product q*d is one rounding, as in vkq__dequantize_row, so values are bit-exact.
vec4 kv_load4(bool is_v, uint row, uint e) {
#if defined(KV_F16)
    uint i = (row >> 2) + (e >> 1);
    return vec4(unpackHalf2x16(kv_word(is_v, i)), unpackHalf2x16(kv_word(is_v, i + 1u)));
#elif defined(KV_Q8_0)
    uint b = row + (e >> 5) * KV_BLOCK_BYTES;
    float d = kv_half_at(is_v, b);
    int u = int(kv_u32_at(is_v, b + 2u + (e & 31u)));
    vec4 q = vec4(bitfieldExtract(u, 0, 8), bitfieldExtract(u, 8, 8), bitfieldExtract(u, 16, 8),
                  bitfieldExtract(u, 24, 8));
    return q * d;
#else
    uint b = row + (e >> 5) * KV_BLOCK_BYTES;
    float d = kv_half_at(is_v, b);
    uint j = e & 31u;
    uint u = kv_u32_at(is_v, b + 2u + (j & 15u));
    if (j >= 16u) u >>= 4;
    u &= 0x0f0f0f0fu;
    vec4 q = vec4(u & 0xffu, (u >> 8) & 0xffu, (u >> 16) & 0xffu, u >> 24) - 8.0;
    return q * d;
#endif
}

#endif

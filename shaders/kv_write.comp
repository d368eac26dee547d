#version 450
// KV-cache write fused with the rotary embedding of K: workgroup (row, z) takes row
// row = t * n_head_kv + h of K (z = 0, roped) or V (z = 1, copied), converts it to the cache type
// in shared memory and stores it, whole words only, at cache row (h, pos0 + t). One workgroup per
// row means a row's bytes, padding included, are never written by two workgroups.
// Quantization is the closed form of vkq__quantize_row: Q8_0 d = amax/127, Q4_0 d = x_m/-8 (x_m
// the first element of largest magnitude), d rounded to half (nearest even), q = floor(x/d + 0.5)
// clamped to the grid, using x * (1/d) as the CPU does.
// Specialization constant 0: workgroup size.

layout(local_size_x_id = 0) in;
#include "layers_common.glsl"
#include "layers_rope.glsl"

layout(std430, binding = 0) readonly buffer K { float k_in[]; };
layout(std430, binding = 1) readonly buffer V { float v_in[]; };
layout(std430, binding = 2) readonly buffer F { float factors[]; };
layout(std430, binding = 3) readonly buffer Params { Step step; };
layout(std430, binding = 4) buffer KC { uint kc[]; };
layout(std430, binding = 5) buffer VC { uint vc[]; };

#include "kv_formats.glsl"

layout(push_constant) uniform Push {
    uint n_tokens;
    uint n_head_kv;
    uint head_dim;
    uint n_ctx;
    uint row_bytes;
    uint n_rot;
    uint mode;
    uint has_factors;
    float log2_base;
    float freq_scale;
} p;

const uint MAX_HEAD_DIM = 256u;
shared float vals[MAX_HEAD_DIM];
shared uint d_bits[MAX_HEAD_DIM / 32u];
shared float d_inv[MAX_HEAD_DIM / 32u];

float k_value(uint base, uint e, uint pos) {
    if (e >= p.n_rot) return k_in[base + e];
    uint i, partner;
    bool first;
    rope_pair_of(e, p.n_rot, p.mode, i, partner, first);
    float factor = p.has_factors != 0u ? factors[i] : 1.0;
    float theta = rope_theta(pos, i, p.n_rot, p.log2_base, p.freq_scale, factor);
    vec2 ab = first ? vec2(k_in[base + e], k_in[base + partner]) : vec2(k_in[base + partner], k_in[base + e]);
    vec2 r = rope_rotate(ab, theta);
    return first ? r.x : r.y;
}

#if !defined(KV_F16)
void block_scale(uint blk) {
    float amax = 0.0, xm = 0.0;
    for (uint j = 0u; j < 32u; j++) {
        float v = vals[32u * blk + j];
        if (abs(v) > amax) {
            amax = abs(v);
            xm = v;
        }
    }
#if defined(KV_Q8_0)
    // The same two roundings as the CPU (float quotient, then half). Where the driver's division
    // is not correctly rounded (Vulkan allows 2.5 ulp), d may differ by one half ulp in rare
    // blocks, and values then by at most one quantization step.
    uint h = f32_to_f16_bits(amax / 127.0);
#else
    uint h = f32_to_f16_bits(xm * -0.125); // exact: a power of two
#endif
    if ((h & 0x7fffu) >= 0x7c00u) h = (h & 0x8000u) | 0x7bffu; // keep the scale finite, as the CPU does
    float df = f16_bits_to_f32(h);
    d_bits[blk] = h;
    d_inv[blk] = df != 0.0 ? 1.0 / df : 0.0;
}

// floor(x + 0.5) clamped to [lo, hi]; NaN gives lo (vkq__round_clamp).
uint round_clamp(float x, float lo, float hi) {
    if (!(x > lo)) return uint(lo);
    if (!(x < hi)) return uint(hi);
    return uint(floor(x + 0.5));
}

uint row_byte(uint b) {
    uint blk = b / KV_BLOCK_BYTES;
    uint off = b - blk * KV_BLOCK_BYTES;
    if (blk >= p.head_dim / 32u) return 0u; // row padding
    if (off < 2u) return (d_bits[blk] >> (8u * off)) & 0xffu;
    uint j = off - 2u;
    float id = d_inv[blk];
#if defined(KV_Q8_0)
    return round_clamp(vals[32u * blk + j] * id + 128.0, 0.0, 255.0) ^ 0x80u;
#else
    uint lo = round_clamp(vals[32u * blk + j] * id + 8.0, 0.0, 15.0);
    uint hi = round_clamp(vals[32u * blk + j + 16u] * id + 8.0, 0.0, 15.0);
    return lo | (hi << 4);
#endif
}
#endif

void store_word(bool is_v, uint i, uint w) {
    if (is_v) vc[i] = w;
    else kc[i] = w;
}

void main() {
    uint row = wg_row();
    if (row >= p.n_tokens * p.n_head_kv) return;
    bool is_v = gl_WorkGroupID.z != 0u;
    uint t = row / p.n_head_kv, h = row - t * p.n_head_kv;
    uint pos = step.pos0 + t;
    if (pos >= p.n_ctx) return; // never write past the cache
    uint base = row * p.head_dim;
    uint lid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    for (uint e = lid; e < p.head_dim; e += wg) vals[e] = is_v ? v_in[base + e] : k_value(base, e, pos);
    barrier();
    uint row_words = p.row_bytes / 4u;
    uint dst = (h * p.n_ctx + pos) * row_words;
#if defined(KV_F16)
    for (uint w = lid; w < row_words; w += wg) {
        store_word(is_v, dst + w, f32_to_f16_bits(vals[2u * w]) | (f32_to_f16_bits(vals[2u * w + 1u]) << 16));
    }
#else
    for (uint blk = lid; blk < p.head_dim / 32u; blk += wg) block_scale(blk);
    barrier();
    for (uint w = lid; w < row_words; w += wg) {
        uint b = 4u * w;
        store_word(is_v, dst + w, row_byte(b) | (row_byte(b + 1u) << 8) | (row_byte(b + 2u) << 16) |
                                      (row_byte(b + 3u) << 24));
    }
#endif
}

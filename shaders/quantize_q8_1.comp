#version 450
// quantize_q8_1: n float vectors of k (k % 32 == 0) to the Q8_1 activations of matvec_dot.comp
// (layout in dot_formats.glsl). Per block of 32: d = amax * (1/127) (a multiplication: correctly
// rounded on every device, so the CPU reference can match d bit for bit), q = roundEven(x / d)
// clamped to [-127, 127] (x / d is within 2.5 ulp on Vulkan, so q may differ from the CPU by one
// where x / d is a hair from a .5 tie), q = 0 where d = 0, s = d * sum(q).
//
// One invocation per block; workgroup (x, j) takes a strided share of vector j's blocks.
// HAS_NORM (specialization constant): the RMS norm fused in as in matvec.comp: each workgroup
// computes vector j's 1/rms itself and quantizes x * (1/rms) * norm_weight.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool HAS_NORM = false;

#include "dot_formats.glsl"

layout(std430, binding = 0) restrict readonly buffer XBuf { vec4 X[]; };
layout(std430, binding = 1) restrict writeonly buffer QBuf { uint Q[]; };
layout(std430, binding = 2) restrict readonly buffer NormBuf { vec4 NORM[]; };

// Mirrored in lib/ops/matvec_dot.c (quantize_push).
layout(push_constant) uniform Push {
    uint nb;         // blocks per vector
    uint x_skip;     // vec4s from the X binding's start to vector 0
    uint q_skip;     // words from the Q binding's start to vector 0
    uint norm_skip;  // vec4s from the NORM binding's start to element 0
    float eps;       // of the norm
} p;

shared float red[HAS_NORM ? gl_WorkGroupSize.x : 1u];

// 1/rms of vector j: a strided sum of squares, then a tree (the workgroup size is a power of
// two). Called by all invocations, in uniform control flow.
float norm_scale(uint j) {
    const uint tid = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x;
    const uint n4 = p.nb * 8u;
    float ss = 0.0;
    for (uint i = tid; i < n4; i += WG) {
        vec4 v = X[p.x_skip + j * n4 + i];
        ss += dot(v, v);
    }
    red[tid] = ss;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1u) {
        if (tid < s) red[tid] += red[tid + s];
        barrier();
    }
    return inversesqrt(red[0] / float(n4 * 4u) + p.eps);
}

uint pack_i8(ivec4 q) {
    uvec4 b = uvec4(q) & 0xffu;
    return b.x | (b.y << 8u) | (b.z << 16u) | (b.w << 24u);
}

void main() {
    const uint j = gl_WorkGroupID.y;
    float scale = HAS_NORM ? norm_scale(j) : 1.0;
    const uint xv = p.x_skip + j * p.nb * 8u, qv = p.q_skip + j * p.nb * Q8_1_WORDS;
    for (uint b = gl_WorkGroupID.x * gl_WorkGroupSize.x + gl_LocalInvocationID.x; b < p.nb;
         b += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        vec4 v[8];
        float amax = 0.0;
        [[unroll]] for (uint i = 0u; i < 8u; i++) {
            v[i] = X[xv + 8u * b + i];
            if (HAS_NORM) v[i] *= scale * NORM[p.norm_skip + 8u * b + i];
            vec4 a = abs(v[i]);
            amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
        }
        float d = amax * (1.0 / 127.0);
        int sum = 0;
        [[unroll]] for (uint i = 0u; i < 8u; i++) {
            ivec4 q = d != 0.0 ? clamp(ivec4(roundEven(v[i] / d)), -127, 127) : ivec4(0);
            sum += q.x + q.y + q.z + q.w;
            Q[qv + 8u * b + i] = pack_i8(q);
        }
        Q[qv + 8u * p.nb + 2u * b] = floatBitsToUint(d);
        Q[qv + 8u * p.nb + 2u * b + 1u] = floatBitsToUint(d * float(sum));
    }
}

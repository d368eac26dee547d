#version 450
// RMS norm over rows: out = x / sqrt(mean(x^2) + eps) * weight. One workgroup per row; the sum of
// squares is reduced with subgroup arithmetic (LAYERS_SUBGROUP) or through shared memory.
// Specialization constant 0: workgroup size (a power of two).

layout(local_size_x_id = 0) in;
#include "layers_common.glsl"
#include "layers_reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint n;
    uint rows;
    uint has_weight;
    float eps;
} p;

void main() {
    uint row = wg_row();
    if (row >= p.rows) return; // uniform per workgroup, so the reductions below stay uniform
    uint base = row * p.n;
    float ss = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x) {
        float v = x[base + i];
        ss += v * v;
    }
    ss = wg_sum(ss);
    float scale = inversesqrt(ss / float(p.n) + p.eps);
    for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x) {
        float v = x[base + i] * scale;
        o[base + i] = p.has_weight != 0u ? v * w[i] : v;
    }
}

#version 450
// Softmax over rows: out = exp(s*x - max) / sum. One workgroup per row. Specialization constant
// 0: workgroup size (a power of two).

layout(local_size_x_id = 0) in;
#include "layers_common.glsl"
#include "layers_reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint n;
    uint rows;
    float scale;
} p;

void main() {
    uint row = wg_row();
    if (row >= p.rows) return;
    uint base = row * p.n;
    float m = NEG_BIG;
    for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x) m = max(m, p.scale * x[base + i]);
    m = wg_max(m);
    float s = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x) s += exp(p.scale * x[base + i] - m);
    s = wg_sum(s);
    float inv = 1.0 / s;
    for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x) {
        o[base + i] = exp(p.scale * x[base + i] - m) * inv;
    }
}

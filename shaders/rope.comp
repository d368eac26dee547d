#version 450
// Rotary embedding of Q (or K) laid out (n_tokens, n_heads, head_dim); token t is at position
// step.pos0 + t, pos0 read from the step buffer so that a recorded decode step can be replayed.
// One invocation per pair of dimensions (grid-stride); out may alias x.
// Specialization constant 0: workgroup size.

layout(local_size_x_id = 0) in;
#include "layers_common.glsl"
#include "layers_rope.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer F { float factors[]; };
layout(std430, binding = 2) readonly buffer Params { Step step; };
layout(std430, binding = 3) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint n_tokens;
    uint n_heads;
    uint head_dim;
    uint n_rot;
    uint mode;
    uint has_factors;
    float log2_base;
    float freq_scale;
} p;

void main() {
    uint half_dim = p.head_dim / 2u, half_rot = p.n_rot / 2u;
    uint total = p.n_tokens * p.n_heads * half_dim;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint pos0 = step.pos0;
    for (uint g = gl_GlobalInvocationID.x; g < total; g += stride) {
        uint head_row = g / half_dim; // t * n_heads + h
        uint i = g - head_row * half_dim;
        uint base = head_row * p.head_dim;
        if (i >= half_rot) { // beyond n_rot: copied
            o[base + 2u * i] = x[base + 2u * i];
            o[base + 2u * i + 1u] = x[base + 2u * i + 1u];
            continue;
        }
        uint ia = p.mode == ROPE_NEOX ? i : 2u * i;
        uint ib = p.mode == ROPE_NEOX ? i + half_rot : 2u * i + 1u;
        uint t = head_row / p.n_heads;
        float factor = p.has_factors != 0u ? factors[i] : 1.0;
        float theta = rope_theta(pos0 + t, i, p.n_rot, p.log2_base, p.freq_scale, factor);
        vec2 r = rope_rotate(vec2(x[base + ia], x[base + ib]), theta);
        o[base + ia] = r.x;
        o[base + ib] = r.y;
    }
}

#version 450
// Combines the split-K slices of attention_decode.comp: for head h with slices
// (o_s, m_s, l_s), M = max m_s, out = sum_s exp(m_s - M) o_s / sum_s exp(m_s - M) l_s.
// Empty slices carry m = NEG_BIG, l = 0, o = 0 and so weigh nothing; slice 0 is never empty.
// One workgroup per head. Specialization constant 0: workgroup size.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Part { float part[]; };
layout(std430, binding = 1) writeonly buffer Out { float o_out[]; };

layout(push_constant) uniform Push {
    uint head_dim;
    uint n_splits;
} p;

void main() {
    uint h = gl_WorkGroupID.x;
    uint stride = p.head_dim + 2u;
    uint base = h * p.n_splits * stride;
    float m = part[base + p.head_dim];
    for (uint s = 1u; s < p.n_splits; s++) m = max(m, part[base + s * stride + p.head_dim]);
    float l = 0.0;
    for (uint s = 0u; s < p.n_splits; s++) {
        l += exp(part[base + s * stride + p.head_dim] - m) * part[base + s * stride + p.head_dim + 1u];
    }
    float inv = 1.0 / l;
    for (uint d = gl_LocalInvocationID.x; d < p.head_dim; d += gl_WorkGroupSize.x) {
        float acc = 0.0;
        for (uint s = 0u; s < p.n_splits; s++) {
            acc += exp(part[base + s * stride + p.head_dim] - m) * part[base + s * stride + d];
        }
        o_out[h * p.head_dim + d] = acc * inv;
    }
}

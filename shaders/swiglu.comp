#version 450
// SwiGLU: out[r][i] = silu(gate[r][i]) * up[r][i], silu(g) = g / (1 + exp(-g)); gate and up are
// read at their own row strides (two halves of a fused product's rows, or two tensors).
// With OP_SILU: out[i] = silu(x[i]) (binding 1 unused). Specialization constant 0: workgroup size.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer G { float g[]; };
layout(std430, binding = 1) readonly buffer U { float u[]; };
layout(std430, binding = 2) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint n;           // elements per row
    uint rows;
    uint gate_stride; // floats between rows of gate
    uint up_stride;
} p;

// exp(-g) overflows to inf for g < -88, and g / inf is the correct limit (-0).
float silu(float v) { return v / (1.0 + exp(-v)); }

void main() {
    uint total = p.n * p.rows;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
#ifdef OP_SILU
        o[i] = silu(g[i]);
#else
        uint r = i / p.n, c = i - r * p.n;
        o[i] = silu(g[r * p.gate_stride + c]) * u[r * p.up_stride + c];
#endif
    }
}

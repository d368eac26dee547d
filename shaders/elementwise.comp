#version 450
// Element-wise binary ops on float32: out[i] = a[i] OP b[i]. One #define per op (OP_ADD,
// OP_MUL); the workgroup size is specialization constant 0.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint n;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
#if defined(OP_ADD)
        o[i] = a[i] + b[i];
#elif defined(OP_MUL)
        o[i] = a[i] * b[i];
#else
#error "elementwise.comp: define OP_ADD or OP_MUL"
#endif
    }
}

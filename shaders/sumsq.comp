#version 450
// Column statistics of activations: acc[c] += sum over the n rows of x[r][c]^2. What an
// importance matrix collects: the second moment of each input column of a weight matrix, summed
// here and divided by the count of rows when it is saved. One invocation per column walks the
// rows (neighbouring invocations read neighbouring floats of a row). Specialization constant 0:
// workgroup size.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Acc { float acc[]; };

layout(push_constant) uniform Push {
    uint k;        // columns
    uint n;        // rows
    uint x_stride; // floats between rows of x
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint c = gl_GlobalInvocationID.x; c < p.k; c += stride) {
        float s = 0.0;
        for (uint r = 0u; r < p.n; r++) {
            float v = x[r * p.x_stride + c];
            s += v * v;
        }
        acc[c] += s;
    }
}

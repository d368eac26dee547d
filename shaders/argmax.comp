#version 450
// Argmax over rows (greedy sampling on the GPU: only the ids come back). One workgroup per row.
// Ties go to the LOWEST index; NaN never wins; a row of only NaN gives 0.
// Specialization constant 0: workgroup size (a power of two).

layout(local_size_x_id = 0) in;
#include "layers_common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Ids { uint ids[]; };

layout(push_constant) uniform Push {
    uint n;
    uint rows;
} p;

shared float val_sh[gl_WorkGroupSize.x];
shared uint idx_sh[gl_WorkGroupSize.x];

// (va, ia) beats (vb, ib): larger value, or the same value at a lower index. "No candidate" is
// (-inf, 0xffffffff), which any real element (even -inf) beats by index.
bool beats(float va, uint ia, float vb, uint ib) { return va > vb || (va == vb && ia < ib); }

void main() {
    uint row = wg_row();
    if (row >= p.rows) return;
    uint t = gl_LocalInvocationID.x;
    uint base = row * p.n;
    float bv = uintBitsToFloat(0xff800000u);
    uint bi = 0xffffffffu;
    for (uint i = t; i < p.n; i += gl_WorkGroupSize.x) {
        float v = x[base + i];
        if (!isnan(v) && beats(v, i, bv, bi)) {
            bv = v;
            bi = i;
        }
    }
    val_sh[t] = bv;
    idx_sh[t] = bi;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
        if (t < s && beats(val_sh[t + s], idx_sh[t + s], val_sh[t], idx_sh[t])) {
            val_sh[t] = val_sh[t + s];
            idx_sh[t] = idx_sh[t + s];
        }
        barrier();
    }
    if (t == 0u) ids[row] = idx_sh[0] == 0xffffffffu ? 0u : idx_sh[0];
}

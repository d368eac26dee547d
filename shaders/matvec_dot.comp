#version 450
// matvec_dot: Y = W·X (+ add) for n = NVEC (1..8) vectors in one pass over W, X already
// quantized to Q8_1 (quantize_q8_1.comp; layout in dot_formats.glsl), for the weight formats
// whose blocks are 32 elements with one scale (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0). Per block the
// integer part is eight packed 4x8-bit dot products (OpSDotKHR), exact in int32; the float work
// is two multiply-adds per block and vector:
//     sum_e w[e] x[e] = d_w (d_x sdot(q_w, q_x)) + m_w s_x    (m_w: the weight's offset, or 0)
//
// Layout as matvec.comp's default: the invocations of a workgroup walk the blocks of ROWS rows
// side by side (neighbouring invocations read neighbouring blocks), each invocation takes whole
// blocks so that the block-level sum s_x folds the weight offset in once per block, and the
// partial sums are reduced with subgroupAdd (USE_SUBGROUP) or a tree in shared memory.
//
// Variants (#define): FMT_<format>, USE_SUBGROUP. Specialization constants: workgroup size,
// ROWS (rows per workgroup), NVEC (vectors), MIN_SUBGROUP (smallest subgroup size the device
// may use: sizes the shared array of per-subgroup sums).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#ifdef USE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS = 1;
layout(constant_id = 2) const uint NVEC = 1;
layout(constant_id = 3) const uint MIN_SUBGROUP = 1;

#include "products_common.glsl"
#define DOT_WEIGHTS
#include "dot_formats.glsl"

layout(std430, binding = 1) restrict readonly buffer XQBuf { uint XQ[]; };
// Y and ADD may be the same memory (a residual added in place): neither is restrict, and each
// output is read and then written by the same invocation.
layout(std430, binding = 2) writeonly buffer YBuf { float Y[]; };
layout(std430, binding = 3) readonly buffer AddBuf { float ADD[]; };

// Mirrored in lib/ops/matvec_dot.c (matvec_dot_push).
layout(push_constant) uniform Push {
    uint rows;       // rows of W in this dispatch
    uint row0;       // index in y / add of the first of them
    uint nb;         // blocks per row
    uint w_skip;     // bytes from the W binding's start to row 0
    uint x_skip;     // words from the XQ binding's start to vector 0
    uint y_skip;     // floats from the Y binding's start to vector 0
    uint y_stride;   // floats between vectors of Y
    uint add_skip;   // floats, as for Y; add_stride 0 broadcasts one vector (a bias)
    uint add_stride;
    uint has_add;
} p;

const uint OUTS = ROWS * NVEC;

#ifdef USE_SUBGROUP
const uint MAX_SUBGROUPS = (gl_WorkGroupSize.x + MIN_SUBGROUP - 1u) / MIN_SUBGROUP;
shared float red[OUTS * MAX_SUBGROUPS];
#else
shared float red[OUTS * gl_WorkGroupSize.x];
#endif

// Sums acc over the workgroup; afterwards red[o * stride] holds the sum of output o, with the
// stride returned.
uint reduce(inout float acc[OUTS]) {
    uint tid = gl_LocalInvocationID.x;
#ifdef USE_SUBGROUP
    [[unroll]] for (uint o = 0u; o < OUTS; o++) {
        float v = subgroupAdd(acc[o]);
        if (subgroupElect()) red[o * MAX_SUBGROUPS + gl_SubgroupID] = v;
    }
    barrier();
    for (uint o = tid; o < OUTS; o += gl_WorkGroupSize.x) {
        float v = 0.0;
        for (uint s = 0u; s < gl_NumSubgroups; s++) v += red[o * MAX_SUBGROUPS + s];
        red[o * MAX_SUBGROUPS] = v;
    }
    barrier();
    return MAX_SUBGROUPS;
#else
    const uint WG = gl_WorkGroupSize.x;
    [[unroll]] for (uint o = 0u; o < OUTS; o++) red[o * WG + tid] = acc[o];
    barrier();
    // The workgroup size is a power of two (lib/ops chooses it so).
    for (uint s = WG / 2u; s > 0u; s >>= 1u) {
        if (tid < s) {
            [[unroll]] for (uint o = 0u; o < OUTS; o++) red[o * WG + tid] += red[o * WG + tid + s];
        }
        barrier();
    }
    return WG;
#endif
}

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint row_bytes = p.nb * QBYTES;
    const uint x_stride = p.nb * Q8_1_WORDS;
    // Grid-stride over groups of ROWS rows: any m fits the device's workgroup-count limit.
    for (uint g = gl_WorkGroupID.x; g * ROWS < p.rows; g += gl_NumWorkGroups.x) {
        float acc[OUTS];
        [[unroll]] for (uint o = 0u; o < OUTS; o++) acc[o] = 0.0;
        for (uint blk = tid; blk < p.nb; blk += gl_WorkGroupSize.x) {
            [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                uint row = g * ROWS + r;
                if (row >= p.rows) break;  // uniform across the workgroup
                uint q[8];
                float d, m;
                block_unpack(p.w_skip + row * row_bytes + blk * QBYTES, q, d, m);
                [[unroll]] for (uint j = 0u; j < NVEC; j++) {
                    uint xb = p.x_skip + j * x_stride;
                    int isum = 0;
                    [[unroll]] for (uint i = 0u; i < 8u; i++) isum += sdot4(q[i], XQ[xb + 8u * blk + i]);
                    vec2 ds = uintBitsToFloat(uvec2(XQ[xb + 8u * p.nb + 2u * blk], XQ[xb + 8u * p.nb + 2u * blk + 1u]));
                    acc[r * NVEC + j] += d * (ds.x * float(isum)) + m * ds.y;
                }
            }
        }
        uint stride = reduce(acc);
        // ROWS * NVEC outputs may outnumber the invocations.
        for (uint o = tid; o < OUTS; o += gl_WorkGroupSize.x) {
            uint r = o / NVEC, j = o % NVEC;
            uint row = g * ROWS + r;
            if (row < p.rows) {
                float v = red[o * stride];
                if (p.has_add != 0u) v += ADD[p.add_skip + j * p.add_stride + p.row0 + row];
                Y[p.y_skip + j * p.y_stride + p.row0 + row] = v;
            }
        }
        barrier();  // red is reused by the next group of rows
    }
}

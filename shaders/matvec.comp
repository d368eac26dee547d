#version 450
// matvec: Y = W·X (+ add) for n = NVEC small (1..8) vectors in one pass over W. Decode is
// memory-bound, so every weight byte is read once: the threads of a workgroup walk the slots
// (8 values each, see formats/formats.glsl) of ROWS rows side by side, so neighbouring threads
// read neighbouring words; dequantization stays in registers; each slot's x values are loaded
// once and reused for all ROWS rows. The partial sums are reduced with subgroupAdd (variant
// USE_SUBGROUP) or, where subgroup arithmetic is missing, with a tree in shared memory.
//
// SWIGLU: y = silu(W_gate·x) * (W_up·x), W_up at binding 4 in the same format and shape as W:
// the gate+up pair of a feed-forward block in one pass that loads each x value once and writes
// only the activations (no gate/up buffers, no separate swiglu dispatch). ADD is unused there.
//
// RMS norm fused in (specialization constant HAS_NORM): X is the un-normalized residual and each workgroup first
// computes every vector's 1/rms itself (a pass over k floats, cheap next to the m x k weights it
// then reads), then uses x * (1/rms) * norm_weight: no separate norm dispatch or xn buffer.
//
// Variants (#define): FMT_<format>, USE_SUBGROUP, SWIGLU. Specialization constants: workgroup size,
// ROWS (rows per workgroup; with LANE_ROWS, rows per invocation), NVEC (vectors), MIN_SUBGROUP
// (smallest subgroup size the device may use: sizes the shared array of per-subgroup sums),
// LANE_ROWS (the layout for CPU drivers, below).
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
// LANE_ROWS: each invocation computes whole rows on its own, walking k in step with its
// neighbours. Meant for CPU drivers (lavapipe), which run invocations as SIMD lanes: the x
// loads are the same for every lane and no cross-lane reduction is needed (measured 1.4 times
// faster there, docs/PERFORMANCE.md). On GPUs the default layout (invocations side by side
// along a row) gives coalesced weight loads instead.
layout(constant_id = 4) const bool LANE_ROWS = false;
// HAS_NORM: the fused RMS norm (above). A specialization constant rather than a push constant,
// so that the plain product compiles without its per-load test and its shared array (as a push
// constant the test alone cost lavapipe 15 % of decode speed).
layout(constant_id = 5) const bool HAS_NORM = false;

#include "products_common.glsl"
#include "formats/formats.glsl"

#ifdef SWIGLU
// The format readers are written against the buffer W; rather than duplicating every format,
// compile them a second time over binding 4, every global name renamed by a macro.
layout(std430, binding = 4) restrict readonly buffer UpWords { uint WU[]; };
#define SECOND_WEIGHT
#define W WU
#define w_word up_w_word
#define w_u16 up_w_u16
#define w_u8 up_w_u8
#define w_half up_w_half
#define nib_lo up_nib_lo
#define nib_hi up_nib_hi
#define crumbs up_crumbs
#define byte_bits up_byte_bits
#define bytes_i8 up_bytes_i8
#define iq4_values up_iq4_values
#define k4_scales up_k4_scales
#define q3_k_scale up_q3_k_scale
#define q6_k_scale up_q6_k_scale
#define bf16x2 up_bf16x2
#define slot_pos up_slot_pos
#define slot_load up_slot_load
#include "products_common.glsl"
#include "formats/formats.glsl"
#undef W
#undef w_word
#undef w_u16
#undef w_u8
#undef w_half
#undef nib_lo
#undef nib_hi
#undef crumbs
#undef byte_bits
#undef bytes_i8
#undef iq4_values
#undef k4_scales
#undef q3_k_scale
#undef q6_k_scale
#undef bf16x2
#undef slot_pos
#undef slot_load
const uint NW = 2u;  // weight matrices: gate sums in acc[0, OUTS), up sums in acc[OUTS, 2 OUTS)
// exp(-g) overflows to inf for g < -88, and g / inf is the correct limit (-0).
float silu(float v) { return v / (1.0 + exp(-v)); }
#else
const uint NW = 1u;
#endif

layout(std430, binding = 1) readonly buffer XBuf { vec4 X[]; };
// Y and ADD may be the same memory (a residual added in place): neither is restrict, and each
// output is read and then written by the same invocation.
layout(std430, binding = 2) writeonly buffer YBuf { float Y[]; };
layout(std430, binding = 3) readonly buffer AddBuf { float ADD[]; };
// The norm weight (k floats) when HAS_NORM; after W_up's binding in the SWIGLU variant.
#ifdef SWIGLU
layout(std430, binding = 5) readonly buffer NormBuf { vec4 NORM[]; };
#else
layout(std430, binding = 4) readonly buffer NormBuf { vec4 NORM[]; };
#endif

// Mirrored in lib/ops/matvec.c (matvec_push).
layout(push_constant) uniform Push {
    uint rows;       // rows of W in this dispatch
    uint row0;       // index in y / add of the first of them
    uint nb;         // blocks per row
    uint w_skip;     // bytes from the W binding's start to row 0
    uint x_skip;     // vec4s from the X binding's start to vector 0
    uint x_stride;   // vec4s between vectors of X
    uint y_skip;     // floats from the Y binding's start to vector 0
    uint y_stride;   // floats between vectors of Y
    uint add_skip;   // floats, as for Y; add_stride 0 broadcasts one vector (a bias)
    uint add_stride;
    uint has_add;
    uint w2_skip;    // SWIGLU: bytes from the W_up binding's start to row 0
    uint norm_skip;  // vec4s from the NORM binding's start to element 0
    float eps;       // of the norm
} p;

const uint SLOTS = QK / 8u;
const uint OUTS = ROWS * NVEC;
const uint NACC = OUTS * NW;

#ifdef USE_SUBGROUP
const uint MAX_SUBGROUPS = (gl_WorkGroupSize.x + MIN_SUBGROUP - 1u) / MIN_SUBGROUP;
shared float red[NACC * MAX_SUBGROUPS];
#else
shared float red[NACC * gl_WorkGroupSize.x];
#endif

// Sums acc over the workgroup; afterwards red[o * stride] holds the sum of output o, with the
// stride returned.
uint reduce(inout float acc[NACC]) {
    uint tid = gl_LocalInvocationID.x;
#ifdef USE_SUBGROUP
    [[unroll]] for (uint o = 0u; o < NACC; o++) {
        float v = subgroupAdd(acc[o]);
        if (subgroupElect()) red[o * MAX_SUBGROUPS + gl_SubgroupID] = v;
    }
    barrier();
    for (uint o = tid; o < NACC; o += gl_WorkGroupSize.x) {
        float v = 0.0;
        for (uint s = 0u; s < gl_NumSubgroups; s++) v += red[o * MAX_SUBGROUPS + s];
        red[o * MAX_SUBGROUPS] = v;
    }
    barrier();
    return MAX_SUBGROUPS;
#else
    const uint WG = gl_WorkGroupSize.x;
    [[unroll]] for (uint o = 0u; o < NACC; o++) red[o * WG + tid] = acc[o];
    barrier();
    // The workgroup size is a power of two (lib/ops chooses it so).
    for (uint s = WG / 2u; s > 0u; s >>= 1u) {
        if (tid < s) {
            [[unroll]] for (uint o = 0u; o < NACC; o++) red[o * WG + tid] += red[o * WG + tid + s];
        }
        barrier();
    }
    return WG;
#endif
}

// The norm's per-vector 1/rms (when HAS_NORM), from norm_scales().
shared float nred[HAS_NORM ? NVEC * gl_WorkGroupSize.x : 1u];
float nscale[NVEC];

// Each invocation sums the squares of a strided share of every vector, then a tree over the
// workgroup (a power of two). Called by all invocations, in uniform control flow.
void norm_scales() {
    const uint tid = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x;
    const uint n4 = p.nb * QK / 4u;
    [[unroll]] for (uint j = 0u; j < NVEC; j++) {
        float ss = 0.0;
        for (uint i = tid; i < n4; i += WG) {
            vec4 v = X[p.x_skip + j * p.x_stride + i];
            ss += dot(v, v);
        }
        nred[j * WG + tid] = ss;
    }
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1u) {
        if (tid < s) {
            [[unroll]] for (uint j = 0u; j < NVEC; j++) nred[j * WG + tid] += nred[j * WG + tid + s];
        }
        barrier();
    }
    [[unroll]] for (uint j = 0u; j < NVEC; j++) nscale[j] = inversesqrt(nred[j * WG] / float(n4 * 4u) + p.eps);
}

// vec4 pos of vector j, normalized when the norm is fused.
vec4 x_load(uint j, uint pos) {
    vec4 v = X[p.x_skip + j * p.x_stride + pos];
    if (HAS_NORM) v *= nscale[j] * NORM[p.norm_skip + pos];
    return v;
}

const uint LANE_UNROLL = SLOTS < 8u ? SLOTS : 8u;

void lane_rows() {
    const uint row_bytes = p.nb * QBYTES;
    const uint rows_per_group = gl_WorkGroupSize.x * ROWS;
    for (uint g = gl_WorkGroupID.x; g * rows_per_group < p.rows; g += gl_NumWorkGroups.x) {
        uint first = g * rows_per_group + gl_LocalInvocationID.x * ROWS;
        float acc[NACC];
        [[unroll]] for (uint o = 0u; o < NACC; o++) acc[o] = 0.0;
        for (uint blk = 0u; blk < p.nb; blk++) {
            for (uint s0 = 0u; s0 < SLOTS; s0 += LANE_UNROLL) {
                // Unrolled so that the compiler can share scale loads between the slots of a
                // sub-block (8 slots share one in every K-format).
                [[unroll]] for (uint s = s0; s < s0 + LANE_UNROLL; s++) {
                    uvec2 pos = (slot_pos(s) + blk * QK) >> 2u;
                    vec4 x0[NVEC], x1[NVEC];
                    [[unroll]] for (uint j = 0u; j < NVEC; j++) {
                        x0[j] = x_load(j, pos.x);
                        x1[j] = x_load(j, pos.y);
                    }
                    [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                        // Rows past the end read the last row (in bounds) and are not written.
                        uint row = min(first + r, p.rows - 1u);
                        vec4 q0, q1;
                        vec2 sc, bi;
                        slot_load(p.w_skip + row * row_bytes + blk * QBYTES, s, q0, q1, sc, bi);
                        [[unroll]] for (uint j = 0u; j < NVEC; j++) {
                            float v = sc.x * dot(q0, x0[j]) + sc.y * dot(q1, x1[j]);
#if Q_HAS_BIAS
                            v += bi.x * dot(x0[j], vec4(1.0)) + bi.y * dot(x1[j], vec4(1.0));
#endif
                            acc[r * NVEC + j] += v;
                        }
#ifdef SWIGLU
                        up_slot_load(p.w2_skip + row * row_bytes + blk * QBYTES, s, q0, q1, sc, bi);
                        [[unroll]] for (uint j = 0u; j < NVEC; j++) {
                            float v = sc.x * dot(q0, x0[j]) + sc.y * dot(q1, x1[j]);
#if Q_HAS_BIAS
                            v += bi.x * dot(x0[j], vec4(1.0)) + bi.y * dot(x1[j], vec4(1.0));
#endif
                            acc[OUTS + r * NVEC + j] += v;
                        }
#endif
                    }
                }
            }
        }
        [[unroll]] for (uint r = 0u; r < ROWS; r++) {
            uint row = first + r;
            if (row >= p.rows) break;
            [[unroll]] for (uint j = 0u; j < NVEC; j++) {
#ifdef SWIGLU
                float v = silu(acc[r * NVEC + j]) * acc[OUTS + r * NVEC + j];
#else
                float v = acc[r * NVEC + j];
                if (p.has_add != 0u) v += ADD[p.add_skip + j * p.add_stride + p.row0 + row];
#endif
                Y[p.y_skip + j * p.y_stride + p.row0 + row] = v;
            }
        }
    }
}

void main() {
    if (HAS_NORM) norm_scales();
    if (LANE_ROWS) {
        lane_rows();
        return;
    }
    const uint tid = gl_LocalInvocationID.x;
    const uint row_bytes = p.nb * QBYTES;
    const uint slots = p.nb * SLOTS;
    // Grid-stride over groups of ROWS rows: any m fits the device's workgroup-count limit.
    for (uint g = gl_WorkGroupID.x; g * ROWS < p.rows; g += gl_NumWorkGroups.x) {
        float acc[NACC];
        [[unroll]] for (uint o = 0u; o < NACC; o++) acc[o] = 0.0;
        for (uint i = tid; i < slots; i += gl_WorkGroupSize.x) {
            uint blk = i / SLOTS, s = i % SLOTS;
            uvec2 pos = (slot_pos(s) + blk * QK) >> 2u;
            vec4 x0[NVEC], x1[NVEC];
#if Q_HAS_BIAS
            vec2 xsum[NVEC];
#endif
            [[unroll]] for (uint j = 0u; j < NVEC; j++) {
                x0[j] = x_load(j, pos.x);
                x1[j] = x_load(j, pos.y);
#if Q_HAS_BIAS
                xsum[j] = vec2(dot(x0[j], vec4(1.0)), dot(x1[j], vec4(1.0)));
#endif
            }
            [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                uint row = g * ROWS + r;
                if (row >= p.rows) break;  // uniform across the workgroup
                vec4 q0, q1;
                vec2 sc, bi;
                slot_load(p.w_skip + row * row_bytes + blk * QBYTES, s, q0, q1, sc, bi);
                [[unroll]] for (uint j = 0u; j < NVEC; j++) {
                    float v = sc.x * dot(q0, x0[j]) + sc.y * dot(q1, x1[j]);
#if Q_HAS_BIAS
                    v += dot(bi, xsum[j]);
#endif
                    acc[r * NVEC + j] += v;
                }
#ifdef SWIGLU
                up_slot_load(p.w2_skip + row * row_bytes + blk * QBYTES, s, q0, q1, sc, bi);
                [[unroll]] for (uint j = 0u; j < NVEC; j++) {
                    float v = sc.x * dot(q0, x0[j]) + sc.y * dot(q1, x1[j]);
#if Q_HAS_BIAS
                    v += dot(bi, xsum[j]);
#endif
                    acc[OUTS + r * NVEC + j] += v;
                }
#endif
            }
        }
        uint stride = reduce(acc);
        // ROWS * NVEC outputs may outnumber the invocations.
        for (uint o = tid; o < OUTS; o += gl_WorkGroupSize.x) {
            uint r = o / NVEC, j = o % NVEC;
            uint row = g * ROWS + r;
            if (row < p.rows) {
#ifdef SWIGLU
                float v = silu(red[o * stride]) * red[(OUTS + o) * stride];
#else
                float v = red[o * stride];
                if (p.has_add != 0u) v += ADD[p.add_skip + j * p.add_stride + p.row0 + row];
#endif
                Y[p.y_skip + j * p.y_stride + p.row0 + row] = v;
            }
        }
        barrier();  // red is reused by the next group of rows
    }
}

#version 450
// matmul: Y = W·X (+ add) for many vectors (prefill). Compute-bound, so data is reused from
// shared memory: per k-step of TK elements the workgroup dequantizes a TM x TK tile of W (each
// slot once) and copies a TN x TK tile of X into shared memory, then every invocation
// accumulates an RM x RN block of outputs from them in registers (float32 throughout).
//
// Variants (#define): FMT_<format>. Specialization constants: workgroup size
// (= TM/RM * TN/RN), TM, TN, RM, RN, TK (a multiple of the format's QSPAN; lib/ops picks them
// from the device's shared memory).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TM = 32;
layout(constant_id = 2) const uint TN = 32;
layout(constant_id = 3) const uint RM = 4;
layout(constant_id = 4) const uint RN = 4;
layout(constant_id = 5) const uint TK = 32;

#include "products_common.glsl"
#include "formats/formats.glsl"

layout(std430, binding = 1) readonly buffer XBuf { vec4 X[]; };
layout(std430, binding = 2) writeonly buffer YBuf { float Y[]; };
layout(std430, binding = 3) readonly buffer AddBuf { float ADD[]; };

// Mirrored in lib/ops/matmul.c (matmul_push).
layout(push_constant) uniform Push {
    uint rows;       // rows of W in this dispatch
    uint row0;       // index in y / add of the first of them
    uint nb;         // blocks per row
    uint w_skip;     // bytes from the W binding's start to row 0
    uint k;          // elements per row
    uint n;          // vectors in this dispatch
    uint x_skip;     // vec4s from the X binding's start to vector 0
    uint x_stride;   // vec4s between vectors of X
    uint y_skip;     // floats from the Y binding's start to vector 0
    uint y_stride;   // floats between vectors of Y
    uint add_skip;
    uint add_stride; // 0 broadcasts one vector (a bias)
    uint has_add;
} p;

const uint SLOTS = QK / 8u;
const uint LD = TK + 1u;  // padded row: a column read by neighbouring rows hits distinct banks
const uint THREADS_M = TM / RM;
const uint THREADS_N = TN / RN;

shared float As[TM * LD];  // (TM rows, TK elements) of dequantized W
shared float Bs[TN * LD];  // (TN vectors, TK elements) of X

void load_w_tile(uint row_tile, uint kb, uint row_bytes) {
    for (uint idx = gl_LocalInvocationID.x; idx < TM * (TK / 8u); idx += gl_WorkGroupSize.x) {
        uint r = idx / (TK / 8u);
        uint g = kb / 8u + idx % (TK / 8u);  // slot index along the row
        uint blk = g / SLOTS, s = g % SLOTS;
        uvec2 pos = slot_pos(s) + blk * QK - kb;
        vec4 v0 = vec4(0.0), v1 = vec4(0.0);
        uint row = row_tile + r;
        if (row < p.rows && g * 8u < p.k) {
            vec4 q0, q1;
            vec2 sc, bi;
            slot_load(p.w_skip + row * row_bytes + blk * QBYTES, s, q0, q1, sc, bi);
#if Q_PLAIN
            v0 = q0;
            v1 = q1;
#else
            v0 = sc.x * q0 + bi.x;
            v1 = sc.y * q1 + bi.y;
#endif
        }
        uint a = r * LD;
        As[a + pos.x] = v0.x; As[a + pos.x + 1u] = v0.y; As[a + pos.x + 2u] = v0.z; As[a + pos.x + 3u] = v0.w;
        As[a + pos.y] = v1.x; As[a + pos.y + 1u] = v1.y; As[a + pos.y + 2u] = v1.z; As[a + pos.y + 3u] = v1.w;
    }
}

void load_x_tile(uint col_tile, uint kb) {
    for (uint idx = gl_LocalInvocationID.x; idx < TN * (TK / 4u); idx += gl_WorkGroupSize.x) {
        uint c = idx / (TK / 4u), q = idx % (TK / 4u);
        uint col = col_tile + c, kk = kb + 4u * q;
        vec4 v = vec4(0.0);
        if (col < p.n && kk < p.k) v = X[p.x_skip + col * p.x_stride + kk / 4u];
        uint b = c * LD + 4u * q;
        Bs[b] = v.x; Bs[b + 1u] = v.y; Bs[b + 2u] = v.z; Bs[b + 3u] = v.w;
    }
}

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint tr = tid % THREADS_M, tc = tid / THREADS_M;
    const uint row_tile = gl_WorkGroupID.x * TM, col_tile = gl_WorkGroupID.y * TN;
    const uint row_bytes = p.nb * QBYTES;
    float acc[RM * RN];
    [[unroll]] for (uint i = 0u; i < RM * RN; i++) acc[i] = 0.0;
    for (uint kb = 0u; kb < p.k; kb += TK) {
        load_w_tile(row_tile, kb, row_bytes);
        load_x_tile(col_tile, kb);
        barrier();
        for (uint kk = 0u; kk < TK; kk++) {
            // Unrolled so that a, b and acc live in registers (indexed by constants), not in
            // scratch memory.
            float a[RM], b[RN];
            [[unroll]] for (uint i = 0u; i < RM; i++) a[i] = As[(tr + i * THREADS_M) * LD + kk];
            [[unroll]] for (uint j = 0u; j < RN; j++) b[j] = Bs[(tc + j * THREADS_N) * LD + kk];
            [[unroll]] for (uint i = 0u; i < RM; i++) {
                [[unroll]] for (uint j = 0u; j < RN; j++) acc[i * RN + j] = fma(a[i], b[j], acc[i * RN + j]);
            }
        }
        barrier();
    }
    // Rows are the fast index of the invocations, so neighbours write neighbouring floats.
    [[unroll]] for (uint j = 0u; j < RN; j++) {
        uint col = col_tile + tc + j * THREADS_N;
        if (col >= p.n) continue;
        [[unroll]] for (uint i = 0u; i < RM; i++) {
            uint row = row_tile + tr + i * THREADS_M;
            if (row >= p.rows) continue;
            float v = acc[i * RN + j];
            if (p.has_add != 0u) v += ADD[p.add_skip + col * p.add_stride + p.row0 + row];
            Y[p.y_skip + col * p.y_stride + p.row0 + row] = v;
        }
    }
}

#version 450
// Decode attention: one query per head at position pos0 (read from the step buffer), keys and
// values 0 .. pos0 read straight from the cache (dequantized in registers, kv_formats.glsl).
//
// Split-K: workgroup (s, g) handles slice s of the keys for KV head g and its R query heads
// (grouped-query attention: K and V are read once for all R). A slice is
// max(ceil(len / n_splits), min_chunk) keys, so the split is decided at run time from len while
// the dispatch stays fixed; late slices of a short context are empty. Each
// workgroup keeps an online softmax (running max m, sum l, unnormalized output o) over tiles of
// WG keys and writes (o, m, l) to scratch; attention_reduce.comp combines the slices. With
// n_splits == 1 (push `direct`) it writes o / l to the output instead.
//
// Tile steps: (1) invocation j scores key j of the tile against the R queries (reading K once);
// (2) per-head max and sum of the tile by tree reduction in shared memory; (3) o += p * V with
// invocations laid out (key subset ks, 4 output dimensions): NGT invocations cover the
// NG = R*HD/4 output vec4s (OPT each), and KS = WG/NGT such teams take every KS-th key, summed at
// the end.
//
// Specialization constants: 0 WG (power of two), 1 HD, 2 R, 3 NGT, 4 KS, 5 OPT, 6 ORED (vec4s
// for the final ks reduction; 1 when KS == 1).

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 128;
layout(constant_id = 2) const uint R = 1;
layout(constant_id = 3) const uint NGT = 32;
layout(constant_id = 4) const uint KS = 4;
layout(constant_id = 5) const uint OPT = 1;
layout(constant_id = 6) const uint ORED = 128;

#include "layers_common.glsl"

layout(std430, binding = 0) readonly buffer Q { float q_in[]; };
layout(std430, binding = 1) readonly buffer KC { uint kc[]; };
layout(std430, binding = 2) readonly buffer VC { uint vc[]; };
layout(std430, binding = 3) readonly buffer Params { Step step; };
layout(std430, binding = 4) writeonly buffer Out { float o_out[]; };

#include "kv_formats.glsl"

layout(push_constant) uniform Push {
    uint n_head_kv;
    uint n_ctx;
    uint row_bytes;
    uint n_splits;
    float scale;
    uint direct;
    uint min_chunk; // slices are at least this long (one tile), so short contexts use few of them
} p;

const uint WG = gl_WorkGroupSize.x;
const uint NG = R * HD / 4u;

shared vec4 q_sh[R * HD / 4u];
shared float s_sh[R * WG];  // scores, then probabilities
shared float t_sh[R * WG];  // reduction scratch
shared float m_sh[R], l_sh[R], alpha_sh[R];
shared vec4 ored_sh[ORED];

void tree(bool is_max) {
    uint t = gl_LocalInvocationID.x;
    for (uint st = WG / 2u; st > 0u; st >>= 1) {
        if (t < st) {
            for (uint r = 0u; r < R; r++) {
                float a = t_sh[r * WG + t], b = t_sh[r * WG + t + st];
                t_sh[r * WG + t] = is_max ? max(a, b) : a + b;
            }
        }
        barrier();
    }
}

// Steps (1) and (2) for the tile of keys kt .. min(kt + WG, end): leaves the probabilities
// exp(s - m_new) in s_sh, the rescale factors of the old sums in alpha_sh, and updates m_sh, l_sh.
void tile_softmax(uint kt, uint end, uint row0) {
    uint tid = gl_LocalInvocationID.x;
    // (1) scores of key kt + tid
    uint key = kt + tid;
    float acc[R];
    for (uint r = 0u; r < R; r++) acc[r] = 0.0;
    if (key < end) {
        uint row = (row0 + key) * p.row_bytes;
        for (uint e = 0u; e < HD; e += 4u) {
            vec4 k4 = kv_load4(false, row, e);
            for (uint r = 0u; r < R; r++) acc[r] += dot(k4, q_sh[(r * HD + e) / 4u]);
        }
    }
    for (uint r = 0u; r < R; r++) {
        float v = key < end ? acc[r] : NEG_BIG;
        s_sh[r * WG + tid] = v;
        t_sh[r * WG + tid] = v;
    }
    barrier();
    // (2) tile max, probabilities, tile sum, running statistics
    tree(true);
    float m_new[R];
    for (uint r = 0u; r < R; r++) {
        m_new[r] = max(m_sh[r], t_sh[r * WG]);
        acc[r] = exp(s_sh[r * WG + tid] - m_new[r]);
        s_sh[r * WG + tid] = acc[r];
    }
    barrier(); // the maxima in t_sh are read by all before being overwritten
    for (uint r = 0u; r < R; r++) t_sh[r * WG + tid] = acc[r];
    barrier();
    tree(false);
    if (tid < R) {
        float alpha = exp(m_sh[tid] - m_new[tid]);
        alpha_sh[tid] = alpha;
        l_sh[tid] = l_sh[tid] * alpha + t_sh[tid * WG];
        m_sh[tid] = m_new[tid];
    }
    barrier();
}

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint s = gl_WorkGroupID.x, g = gl_WorkGroupID.y;
    uint len = min(step.pos0 + 1u, p.n_ctx);
    uint chunk = max((len + p.n_splits - 1u) / p.n_splits, p.min_chunk);
    uint start = min(s * chunk, len), end = min(start + chunk, len);
    uint head0 = g * R;

    for (uint i = tid; i < NG; i += WG) {
        uint b = head0 * HD + 4u * i;
        q_sh[i] = vec4(q_in[b], q_in[b + 1u], q_in[b + 2u], q_in[b + 3u]) * p.scale;
    }
    if (tid < R) {
        m_sh[tid] = NEG_BIG;
        l_sh[tid] = 0.0;
    }
    barrier();

    uint ks = tid / NGT, lane = tid - ks * NGT;
    vec4 o[OPT];
    for (uint k = 0u; k < OPT; k++) o[k] = vec4(0.0);
    uint row0 = g * p.n_ctx;

    for (uint kt = start; kt < end; kt += WG) {
        tile_softmax(kt, end, row0);
        // (3) o = o * alpha + sum_j p_j v_j
        uint n_keys = min(WG, end - kt);
        if (ks < KS) {
            for (uint k = 0u; k < OPT; k++) {
                uint gi = lane + k * NGT;
                if (gi >= NG) break;
                uint r = gi / (HD / 4u), e = 4u * (gi - r * (HD / 4u));
                vec4 acc4 = o[k] * alpha_sh[r];
                for (uint j = ks; j < n_keys; j += KS) {
                    acc4 += s_sh[r * WG + j] * kv_load4(true, (row0 + kt + j) * p.row_bytes, e);
                }
                o[k] = acc4;
            }
        }
        barrier(); // s_sh is rewritten by the next tile
    }

    if (KS > 1u) { // then OPT == 1 and NGT == NG: add up the KS partial sums
        if (ks < KS) ored_sh[ks * NGT + lane] = o[0];
        barrier();
        if (ks == 0u) {
            for (uint k2 = 1u; k2 < KS; k2++) o[0] += ored_sh[k2 * NGT + lane];
        }
    }
    if (ks == 0u) {
        for (uint k = 0u; k < OPT; k++) {
            uint gi = lane + k * NGT;
            if (gi >= NG) break;
            uint r = gi / (HD / 4u), e = 4u * (gi - r * (HD / 4u));
            if (p.direct != 0u) {
                vec4 v = o[k] / l_sh[r];
                uint b = (head0 + r) * HD + e;
                o_out[b] = v.x, o_out[b + 1u] = v.y, o_out[b + 2u] = v.z, o_out[b + 3u] = v.w;
            } else {
                uint b = ((head0 + r) * p.n_splits + s) * (HD + 2u) + e;
                o_out[b] = o[k].x, o_out[b + 1u] = o[k].y, o_out[b + 2u] = o[k].z, o_out[b + 3u] = o[k].w;
            }
        }
    }
    if (p.direct == 0u && tid < R) {
        uint b = ((head0 + tid) * p.n_splits + s) * (HD + 2u) + HD;
        o_out[b] = m_sh[tid];
        o_out[b + 1u] = l_sh[tid];
    }
}

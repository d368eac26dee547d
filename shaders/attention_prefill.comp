#version 450
// Causal prefill attention, flash-attention style: workgroup (tile, g) takes BR query rows of KV
// head g — rows are (token, query head) pairs of the R heads sharing g, so each K/V tile loaded
// into shared memory serves all of them (grouped-query attention) — and streams the keys
// 0 .. pos0 + t_last through shared memory BC at a time, dequantized from the cache
// (kv_formats.glsl), keeping an online softmax per row: running max m, sum l, and the
// unnormalized output in registers (OPT vec4s per invocation). Query t at position pos0 + t
// (pos0 from the step buffer) sees keys 0 .. pos0 + t.
//
// Specialization constants: 0 WG, 1 HD (a multiple of 4), 2 R, 3 BR, 4 BC, 5 OPT =
// ceil(BR*HD/4 / WG).

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 128;
layout(constant_id = 2) const uint R = 1;
layout(constant_id = 3) const uint BR = 16;
layout(constant_id = 4) const uint BC = 32;
layout(constant_id = 5) const uint OPT = 4;

#include "layers_common.glsl"

layout(std430, binding = 0) readonly buffer Q { float q_in[]; };
layout(std430, binding = 1) readonly buffer KC { uint kc[]; };
layout(std430, binding = 2) readonly buffer VC { uint vc[]; };
layout(std430, binding = 3) readonly buffer Params { Step step; };
layout(std430, binding = 4) writeonly buffer Out { float o_out[]; };

#include "kv_formats.glsl"

layout(push_constant) uniform Push {
    uint n_tokens;
    uint n_head_kv;
    uint n_ctx;
    uint row_bytes;
    float scale;
} p;

const uint WG = gl_WorkGroupSize.x;
const uint H4 = HD / 4u;
// K/V rows in shared memory are padded by one vec4 so that invocations reading the same
// dimension of consecutive keys fall in different banks.
const uint KSTRIDE = H4 + 1u;

shared vec4 q_sh[BR * H4];
shared vec4 kv_sh[BC * KSTRIDE];
shared float s_sh[BR * BC];
shared float m_sh[BR], l_sh[BR], alpha_sh[BR];

void load_tile(bool is_v, uint g, uint kt, uint kv_end) {
    for (uint i = gl_LocalInvocationID.x; i < BC * H4; i += WG) {
        uint c = i / H4, e4 = i - c * H4;
        uint key = kt + c;
        kv_sh[c * KSTRIDE + e4] =
            key < kv_end ? kv_load4(is_v, (g * p.n_ctx + key) * p.row_bytes, 4u * e4) : vec4(0.0);
    }
}

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint g = gl_WorkGroupID.y;
    uint n_rows = p.n_tokens * R;
    uint row0 = gl_WorkGroupID.x * BR;
    uint n_head = p.n_head_kv * R;
    uint pos0 = step.pos0;
    uint t_last = (min(row0 + BR, n_rows) - 1u) / R;
    uint kv_end = min(pos0 + t_last + 1u, p.n_ctx);

    for (uint i = tid; i < BR * H4; i += WG) {
        uint r = i / H4, e4 = i - r * H4;
        uint gr = row0 + r;
        vec4 v = vec4(0.0);
        if (gr < n_rows) {
            uint t = gr / R, head = g * R + (gr - t * R);
            uint b = (t * n_head + head) * HD + 4u * e4;
            v = vec4(q_in[b], q_in[b + 1u], q_in[b + 2u], q_in[b + 3u]) * p.scale;
        }
        q_sh[i] = v;
    }
    if (tid < BR) {
        m_sh[tid] = NEG_BIG;
        l_sh[tid] = 0.0;
    }
    vec4 o[OPT];
    for (uint k = 0u; k < OPT; k++) o[k] = vec4(0.0);

    for (uint kt = 0u; kt < kv_end; kt += BC) {
        load_tile(false, g, kt, kv_end);
        barrier();
        // scores, causally masked
        for (uint i = tid; i < BR * BC; i += WG) {
            uint r = i / BC, c = i - r * BC;
            uint key = kt + c;
            uint qpos = pos0 + min(row0 + r, n_rows - 1u) / R;
            float sc = NEG_BIG;
            if (key <= qpos && key < kv_end) {
                sc = 0.0;
                for (uint e4 = 0u; e4 < H4; e4++) sc += dot(q_sh[r * H4 + e4], kv_sh[c * KSTRIDE + e4]);
            }
            s_sh[i] = sc;
        }
        barrier();
        // running statistics, one invocation per row (BR <= WG)
        if (tid < BR) {
            float mx = NEG_BIG;
            for (uint c = 0u; c < BC; c++) mx = max(mx, s_sh[tid * BC + c]);
            float m_new = max(m_sh[tid], mx);
            float sum = 0.0;
            for (uint c = 0u; c < BC; c++) {
                float pr = exp(s_sh[tid * BC + c] - m_new);
                s_sh[tid * BC + c] = pr;
                sum += pr;
            }
            float alpha = exp(m_sh[tid] - m_new);
            alpha_sh[tid] = alpha;
            l_sh[tid] = l_sh[tid] * alpha + sum;
            m_sh[tid] = m_new;
        }
        load_tile(true, g, kt, kv_end); // K is no longer read: the barrier above separates them
        barrier();
        for (uint k = 0u; k < OPT; k++) {
            uint gi = tid + k * WG;
            if (gi >= BR * H4) break;
            uint r = gi / H4, e4 = gi - r * H4;
            vec4 acc = o[k] * alpha_sh[r];
            for (uint c = 0u; c < BC; c++) acc += s_sh[r * BC + c] * kv_sh[c * KSTRIDE + e4];
            o[k] = acc;
        }
        barrier(); // kv_sh and s_sh are rewritten by the next tile
    }

    for (uint k = 0u; k < OPT; k++) {
        uint gi = tid + k * WG;
        if (gi >= BR * H4) break;
        uint r = gi / H4, e4 = gi - r * H4;
        uint gr = row0 + r;
        if (gr >= n_rows) continue;
        uint t = gr / R, head = g * R + (gr - t * R);
        vec4 v = o[k] / l_sh[r];
        uint b = (t * n_head + head) * HD + 4u * e4;
        o_out[b] = v.x, o_out[b + 1u] = v.y, o_out[b + 2u] = v.z, o_out[b + 3u] = v.w;
    }
}

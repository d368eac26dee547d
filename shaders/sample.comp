#version 450
// Sampling on the GPU for one row of logits, so that only the token id comes back. Parameters
// come from the step buffer (a recorded decode step is replayed with a new random number).
// Semantics (lib/ops/layers.h, vkq__op_sample; the order of llama.cpp's default chain):
//   temperature <= 0: argmax (lowest index on ties).
//   K = {l >= tau_k}: tau_k the top_k-th largest logit (ties at the boundary all kept).
//   P = {l >= tau_p}: tau_p the largest tau with sum_{K, l >= tau} w >= top_p * sum_K w,
//       w = exp(l - l_max) (temperature 1).
//   M = {l >= l_max + ln(min_p)}.
//   Draw from S = K & P & M with weights exp((l - l_max) / temperature): the smallest index
//   whose running sum (in index order) exceeds rand * total.
// NaN logits never count. Thresholds are found by bisection over the 32-bit order-preserving
// keys of the floats: exact, at 32 passes over the row per threshold.
// One workgroup per row. Specialization constant 0: workgroup size (a power of two).

layout(local_size_x_id = 0) in;
#include "layers_common.glsl"
#include "layers_reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Params { Step step; };
layout(std430, binding = 2) writeonly buffer Ids { uint ids[]; };

layout(push_constant) uniform Push {
    uint n;
    uint rows;
} p;

shared float scan_sh[gl_WorkGroupSize.x];
shared uint found_sh, last_sh;

// Order-preserving map of floats onto uints (NaN excluded by the callers).
uint key_of(float f) {
    uint b = floatBitsToUint(f);
    return (b & 0x80000000u) != 0u ? ~b : (b | 0x80000000u);
}

float float_of(uint k) { return uintBitsToFloat((k & 0x80000000u) != 0u ? (k & 0x7fffffffu) : ~k); }

// Sum over the row of (key >= kmin && key >= floor_key) ? (count ? 1 : exp(l - lmax)) : 0.
float mass_at_least(uint base, uint kmin, uint floor_key, bool count, float lmax) {
    float s = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x) {
        float l = x[base + i];
        if (isnan(l)) continue;
        uint k = key_of(l);
        if (k >= kmin && k >= floor_key) s += count ? 1.0 : exp(l - lmax);
    }
    return wg_sum(s);
}

// The largest key kappa with mass_at_least(kappa) >= target (mass_at_least(0) >= target holds).
uint bisect(uint base, float target, uint floor_key, bool count, float lmax) {
    uint lo = 0u, hi = 0xffffffffu;
    while (lo < hi) {
        uint mid = lo + (hi - lo) / 2u + 1u;
        if (mass_at_least(base, mid, floor_key, count, lmax) >= target) lo = mid;
        else hi = mid - 1u;
    }
    return lo;
}

void main() {
    uint row = wg_row();
    if (row >= p.rows) return;
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    uint base = row * p.n;
    float lmax = NEG_BIG;
    float n_valid = 0.0;
    for (uint i = tid; i < p.n; i += wg) {
        float l = x[base + i];
        if (!isnan(l)) lmax = max(lmax, l), n_valid += 1.0;
    }
    lmax = wg_max(lmax);
    n_valid = wg_sum(n_valid);
    float temp = step.temperature;

    // Thresholds as keys; S = {key >= kmin}.
    uint kmin = 0u;
    if (temp > 0.0 && step.top_k > 0u && float(step.top_k) < n_valid) {
        kmin = bisect(base, float(step.top_k), 0u, true, lmax);
    }
    if (temp > 0.0 && step.top_p < 1.0) {
        // The maximum alone has mass exp(0) = 1, so a target of at least 1 keeps at least it.
        float z = mass_at_least(base, kmin, 0u, false, lmax);
        kmin = max(kmin, bisect(base, max(step.top_p * z, 1.0), kmin, false, lmax));
    }
    if (temp > 0.0 && step.min_p > 0.0) kmin = max(kmin, key_of(lmax + log(step.min_p)));
    if (temp <= 0.0) kmin = key_of(lmax); // greedy: only the maxima survive, the first one wins

    // Each invocation owns a contiguous chunk; an exclusive scan of the chunk sums finds the
    // chunk in which the running sum crosses rand * total.
    uint chunk = (p.n + wg - 1u) / wg;
    uint lo = min(tid * chunk, p.n), hi = min(lo + chunk, p.n);
    float inv_t = temp > 0.0 ? 1.0 / temp : 0.0;
    float s = 0.0;
    uint last = 0xffffffffu;
    for (uint i = lo; i < hi; i++) {
        float l = x[base + i];
        if (!isnan(l) && key_of(l) >= kmin) {
            s += temp > 0.0 ? exp((l - lmax) * inv_t) : 1.0;
            last = i;
        }
    }
    if (tid == 0u) {
        found_sh = 0xffffffffu;
        last_sh = 0u;
    }
    scan_sh[tid] = s;
    barrier();
    if (last != 0xffffffffu) atomicMax(last_sh, last + 1u);
    // Every invocation forms the prefix in the same order, so invocation t's before + s is
    // bit-equal to invocation t+1's before: the intervals tile [0, total) exactly.
    float before = 0.0, total = 0.0;
    for (uint j = 0u; j < wg; j++) {
        if (j == tid) before = total;
        total += scan_sh[j];
    }
    float u = temp > 0.0 ? step.rand * total : 0.0;
    if (s > 0.0 && u >= before && u < before + s) {
        float run = before;
        for (uint i = lo; i < hi; i++) {
            float l = x[base + i];
            if (isnan(l) || key_of(l) < kmin) continue;
            run += temp > 0.0 ? exp((l - lmax) * inv_t) : 1.0;
            if (run > u || i == last) { // i == last: rounding inside the chunk
                atomicMin(found_sh, i);
                break;
            }
        }
    }
    barrier();
    // Rounding can leave u >= total: then the last survivor is taken; no survivor at all (a row
    // of NaN) gives 0.
    if (tid == 0u) ids[row] = found_sh != 0xffffffffu ? found_sh : (last_sh != 0u ? last_sh - 1u : 0u);
}

// Workgroup reductions for the one-workgroup-per-row layer shaders (rms_norm, softmax, sample).
// Include after `layout(local_size_x_id = 0) in;`; the workgroup size must be a power of two
// (lib/ops checks). With LAYERS_SUBGROUP the reductions use subgroup arithmetic, else shared
// memory only. Every invocation must call them, in uniform control flow.

#ifndef LAYERS_REDUCE_GLSL
#define LAYERS_REDUCE_GLSL

#ifdef LAYERS_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

shared float red_sh[gl_WorkGroupSize.x];

float wg_sum(float v) {
#ifdef LAYERS_SUBGROUP
    v = subgroupAdd(v);
    barrier(); // red_sh may still be read by the previous reduction
    if (subgroupElect()) red_sh[gl_SubgroupID] = v;
    barrier();
    float s = 0.0;
    for (uint i = 0u; i < gl_NumSubgroups; i++) s += red_sh[i];
    return s;
#else
    uint t = gl_LocalInvocationID.x;
    barrier();
    red_sh[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
        if (t < s) red_sh[t] += red_sh[t + s];
        barrier();
    }
    return red_sh[0];
#endif
}

float wg_max(float v) {
#ifdef LAYERS_SUBGROUP
    v = subgroupMax(v);
    barrier();
    if (subgroupElect()) red_sh[gl_SubgroupID] = v;
    barrier();
    float s = red_sh[0];
    for (uint i = 1u; i < gl_NumSubgroups; i++) s = max(s, red_sh[i]);
    return s;
#else
    uint t = gl_LocalInvocationID.x;
    barrier();
    red_sh[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
        if (t < s) red_sh[t] = max(red_sh[t], red_sh[t + s]);
        barrier();
    }
    return red_sh[0];
#endif
}

#endif

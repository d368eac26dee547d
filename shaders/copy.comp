#version 450
// copy: dst = src in 16-byte words. The bandwidth probe (vkq bench bandwidth) and the speed
// limit every memory-bound kernel is measured against. A grid-stride loop keeps the dispatch
// under maxComputeWorkGroupCount for any size.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Src { uvec4 src[]; };
layout(std430, binding = 1) writeonly buffer Dst { uvec4 dst[]; };

layout(push_constant) uniform Push {
    uint n;  // 16-byte words
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        dst[i] = src[i];
    }
}

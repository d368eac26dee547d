#version 450
// get_rows: out[i] = dequantized row ids[i] of a table (token embeddings). The ids come from a
// buffer so that a recorded decode step can read the sampled token on the GPU. Values are
// formed exactly as the CPU reference forms them (`precise`: no fused multiply-add), so the
// result is bit-exact.
//
// A table larger than maxStorageBufferRange is bound in row chunks, one dispatch each; a
// dispatch writes only the ids that fall in its chunk. Ids >= the table's rows give a row of
// zeros (written by the dispatch of the first chunk) instead of reading out of bounds.
//
// Variants (#define): FMT_<format>. Specialization constant: workgroup size.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 0) in;

#include "products_common.glsl"
#include "formats/formats.glsl"

layout(std430, binding = 1) readonly buffer Ids { uint IDS[]; };
layout(std430, binding = 2) writeonly buffer Out { vec4 O[]; };

// Mirrored in lib/ops/get_rows.c (get_rows_push).
layout(push_constant) uniform Push {
    uint row_lo, row_hi;  // table rows bound in this dispatch: [row_lo, row_hi)
    uint n_rows;          // rows of the whole table
    uint zero_invalid;    // this dispatch writes the zero rows of out-of-range ids
    uint nb;              // blocks per row
    uint w_skip;          // bytes from the binding's start to row row_lo
    uint ids_skip;        // uints from the ids binding's start to id 0
    uint n_ids;
    uint out_skip;        // vec4s from the out binding's start to row 0
    uint out_stride;      // vec4s between output rows (k / 4)
} p;

const uint SLOTS = QK / 8u;

void main() {
    const uint slots = p.nb * SLOTS;
    const uint row_bytes = p.nb * QBYTES;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_WorkGroupID.y; i < p.n_ids; i += gl_NumWorkGroups.y) {
        uint id = IDS[p.ids_skip + i];
        bool invalid = id >= p.n_rows;
        if (!(invalid && p.zero_invalid != 0u) && (id < p.row_lo || id >= p.row_hi)) continue;
        uint ob = p.out_skip + i * p.out_stride;
        for (uint g = gl_GlobalInvocationID.x; g < slots; g += stride) {
            uint blk = g / SLOTS, s = g % SLOTS;
            uvec2 pos = (slot_pos(s) + blk * QK) >> 2u;
            precise vec4 v0 = vec4(0.0), v1 = vec4(0.0);
            if (!invalid) {
                vec4 q0, q1;
                vec2 sc, bi;
                slot_load(p.w_skip + (id - p.row_lo) * row_bytes + blk * QBYTES, s, q0, q1, sc, bi);
#if Q_PLAIN
                v0 = q0;
                v1 = q1;
#else
                precise vec4 t0 = sc.x * q0, t1 = sc.y * q1;
                v0 = t0 + bi.x;
                v1 = t1 + bi.y;
#endif
            }
            O[ob + pos.x] = v0;
            O[ob + pos.y] = v1;
        }
    }
}

// Q5_0: half d; u8 qh[4]; u8 qs[16]. y = (q - 16) * d; bit j of qh (little-endian u32) is the
// fifth bit of element j. Slot s: elements 4s..4s+3 and 4s+16..4s+19.
#define QK 32u
#define QBYTES 22u
#define QSPAN 32u
#define Q_HAS_BIAS 0

uvec2 slot_pos(uint s) { return uvec2(4u * s, 4u * s + 16u); }

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    uint qh = w_word(bo + 2u);
    uint qs = w_word(bo + 6u + 4u * s);
    uvec4 h0 = (uvec4(qh >> (4u * s)) >> uvec4(0u, 1u, 2u, 3u)) & 1u;
    uvec4 h1 = (uvec4(qh >> (4u * s + 16u)) >> uvec4(0u, 1u, 2u, 3u)) & 1u;
    q0 = vec4(nib_lo(qs) | (h0 << 4u)) - 16.0;
    q1 = vec4(nib_hi(qs) | (h1 << 4u)) - 16.0;
    scale = vec2(w_half(bo));
    bias = vec2(0.0);
}

// Q5_1: half d; half m; u8 qh[4]; u8 qs[16]. y = q * d + m; fifth bits as in Q5_0. 24-byte
// blocks stay word-aligned.
#define QK 32u
#define QBYTES 24u
#define QSPAN 32u
#define Q_HAS_BIAS 1

uvec2 slot_pos(uint s) { return uvec2(4u * s, 4u * s + 16u); }

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    uint i = bo >> 2;
    vec2 dm = unpackHalf2x16(W[i]);
    uint qh = W[i + 1u];
    uint qs = W[i + 2u + s];
    uvec4 h0 = (uvec4(qh >> (4u * s)) >> uvec4(0u, 1u, 2u, 3u)) & 1u;
    uvec4 h1 = (uvec4(qh >> (4u * s + 16u)) >> uvec4(0u, 1u, 2u, 3u)) & 1u;
    q0 = vec4(nib_lo(qs) | (h0 << 4u));
    q1 = vec4(nib_hi(qs) | (h1 << 4u));
    scale = vec2(dm.x);
    bias = vec2(dm.y);
}

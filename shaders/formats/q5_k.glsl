// Q5_K: half d; half dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]. As Q4_K, with the fifth bit
// of chunk c's low / high nibbles in bit 2c / 2c + 1 of qh[l].
#define QK 256u
#define QBYTES 176u
#define QSPAN 64u
#define Q_HAS_BIAS 1

uvec2 slot_pos(uint s) {
    uint e = 64u * (s >> 3u) + 4u * (s & 7u);
    return uvec2(e, e + 32u);
}

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    uint i = bo >> 2;
    vec2 dm = unpackHalf2x16(W[i]);
    uint c = s >> 3u;
    uint qs = W[i + 12u + s];
    uint qh = W[i + 4u + (s & 7u)];
    q0 = vec4(nib_lo(qs) | (byte_bits(qh, 2u * c) << 4u));
    q1 = vec4(nib_hi(qs) | (byte_bits(qh, 2u * c + 1u) << 4u));
    uvec4 sm = k4_scales(W[i + 1u], W[i + 2u], W[i + 3u], c);
    scale = vec2(dm.x * float(sm.x), dm.x * float(sm.z));
    bias = -vec2(dm.y * float(sm.y), dm.y * float(sm.w));
}

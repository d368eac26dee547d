// Q4_K: half d; half dmin; u8 scales[12]; u8 qs[128]. Chunk c (64 elements) is qs[32c..]:
// low nibbles sub-block 2c, high nibbles sub-block 2c + 1. y = (d * sc) * q - dmin * mn.
// Slot s reads qs word s: elements 64c + l0.. and 64c + 32 + l0.. (c = s / 8, l0 = 4 (s % 8)).
#define QK 256u
#define QBYTES 144u
#define QSPAN 64u
#define Q_HAS_BIAS 1

uvec2 slot_pos(uint s) {
    uint e = 64u * (s >> 3u) + 4u * (s & 7u);
    return uvec2(e, e + 32u);
}

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    uint i = bo >> 2;
    vec2 dm = unpackHalf2x16(W[i]);
    uint qs = W[i + 4u + s];
    q0 = vec4(nib_lo(qs));
    q1 = vec4(nib_hi(qs));
    uint c = s >> 3u;
    uvec4 sm = k4_scales(W[i + 1u], W[i + 2u], W[i + 3u], c);
    scale = vec2(dm.x * float(sm.x), dm.x * float(sm.z));
    bias = -vec2(dm.y * float(sm.y), dm.y * float(sm.w));
}

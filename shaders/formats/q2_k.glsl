// Q2_K: u8 scales[16]; u8 qs[64]; half d; half dmin. Element 128h + 32k + l is bits 2k..2k+1
// of qs[32h + l], in sub-block 8h + 2k + (l >= 16) whose byte holds scale (low nibble) and
// min (high nibble): y = (d * sc) * q - dmin * mn.
// Slot s = 16h + 8kk + w reads qs word 8h + w (l = 4w..4w+3) and takes k = 2kk and 2kk + 1,
// so that slots 8a..8a+7 cover 64 consecutive elements.
#define QK 256u
#define QBYTES 84u
#define QSPAN 64u
#define Q_HAS_BIAS 1

uvec2 slot_pos(uint s) {
    uint e = 128u * (s >> 4u) + 64u * ((s >> 3u) & 1u) + 4u * (s & 7u);
    return uvec2(e, e + 32u);
}

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    uint h = s >> 4u, kk = (s >> 3u) & 1u, w = s & 7u;
    uint i = bo >> 2;
    uint qs = W[i + 4u + 8u * h + w];
    vec2 dm = unpackHalf2x16(W[i + 20u]);
    q0 = vec4(crumbs(qs, 4u * kk));
    q1 = vec4(crumbs(qs, 4u * kk + 2u));
    uint sb = 8u * h + 4u * kk + (w >> 2u);
    uint sc0 = w_u8(bo + sb), sc1 = w_u8(bo + sb + 2u);
    scale = vec2(dm.x * float(sc0 & 15u), dm.x * float(sc1 & 15u));
    bias = -vec2(dm.y * float(sc0 >> 4u), dm.y * float(sc1 >> 4u));
}

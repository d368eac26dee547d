// Q3_K: u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d. Low two bits as in Q2_K; the third
// bit of element e is bit e/32 of hmask[e % 32]; q = low2 - (bit ? 0 : 4); 6-bit scales with a
// +32 bias: y = (d * (sc - 32)) * q. Slots as in Q2_K.
#define QK 256u
#define QBYTES 110u
#define QSPAN 64u
#define Q_HAS_BIAS 0

uvec2 slot_pos(uint s) {
    uint e = 128u * (s >> 4u) + 64u * ((s >> 3u) & 1u) + 4u * (s & 7u);
    return uvec2(e, e + 32u);
}

// Six-bit scale j (0..15) of the 12 bytes at sb, still biased by 32.
float q3_k_scale(uint sb, uint j) {
    uint lo = (j < 8u) ? (w_u8(sb + j) & 15u) : (w_u8(sb + j - 8u) >> 4u);
    uint hi = (w_u8(sb + 8u + (j & 3u)) >> (2u * (j >> 2u))) & 3u;
    return float(int(lo | (hi << 4u)) - 32);
}

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    uint h = s >> 4u, kk = (s >> 3u) & 1u, w = s & 7u;
    uint qs = w_word(bo + 32u + 32u * h + 4u * w);
    uint hm = w_word(bo + 4u * w);
    uint k0 = 2u * kk;
    q0 = vec4(crumbs(qs, 2u * k0)) - 4.0 + 4.0 * vec4(byte_bits(hm, 4u * h + k0));
    q1 = vec4(crumbs(qs, 2u * k0 + 2u)) - 4.0 + 4.0 * vec4(byte_bits(hm, 4u * h + k0 + 1u));
    float d = w_half(bo + 108u);
    uint sb = 8u * h + 4u * kk + (w >> 2u);
    scale = vec2(d * q3_k_scale(bo + 96u, sb), d * q3_k_scale(bo + 96u, sb + 2u));
    bias = vec2(0.0);
}

// Q6_K: u8 ql[128]; u8 qh[64]; i8 scales[16]; half d. Element 128h + 32k + l: low nibble
// (k < 2) or high nibble (k >= 2) of ql[64h + 32 (k % 2) + l], bits 2k..2k+1 of qh[32h + l],
// scale scales[8h + 2k + l / 16]; y = (d * sc) * (q - 32).
// Slot s = 16h + w reads ql word w of half h: k = w / 8 from its low nibbles and k + 2 from its
// high nibbles, so both nibbles of each byte are used once; 16 slots cover a half.
#define QK 256u
#define QBYTES 210u
#define QSPAN 128u
#define Q_HAS_BIAS 0

uvec2 slot_pos(uint s) {
    uint e = 128u * (s >> 4u) + 32u * ((s >> 3u) & 1u) + 4u * (s & 7u);
    return uvec2(e, e + 64u);
}

float q6_k_scale(uint b) { return float(int(w_u8(b) << 24u) >> 24); }

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    uint h = s >> 4u, k = (s >> 3u) & 1u, l0 = 4u * (s & 7u);
    uint ql = w_word(bo + 64u * h + 32u * k + l0);
    uint qh = w_word(bo + 128u + 32u * h + l0);
    q0 = vec4(nib_lo(ql) | (crumbs(qh, 2u * k) << 4u)) - 32.0;
    q1 = vec4(nib_hi(ql) | (crumbs(qh, 2u * k + 4u) << 4u)) - 32.0;
    float d = w_half(bo + 208u);
    uint sc = bo + 192u + 8u * h + 2u * k + (l0 >> 4u);
    scale = vec2(d * q6_k_scale(sc), d * q6_k_scale(sc + 4u));
    bias = vec2(0.0);
}

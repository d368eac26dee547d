// IQ4_XS: half d; u16 scales_h; u8 scales_l[4]; u8 qs[128]. Sub-block ib (32 elements) has the
// 6-bit scale ls = low nibble pair from scales_l, high two bits from scales_h, and its nibbles
// laid out as IQ4_NL in qs[16ib..]: y = (d * (ls - 32)) * T[q].
#define QK 256u
#define QBYTES 136u
#define QSPAN 32u
#define Q_HAS_BIAS 0

uvec2 slot_pos(uint s) {
    uint e = 32u * (s >> 2u) + 4u * (s & 3u);
    return uvec2(e, e + 16u);
}

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    uint i = bo >> 2;
    uint head = W[i];
    uint ib = s >> 2u;
    uint qs = W[i + 2u + s];
    q0 = iq4_values(nib_lo(qs));
    q1 = iq4_values(nib_hi(qs));
    uint ls = ((w_u8(bo + 4u + (ib >> 1u)) >> (4u * (ib & 1u))) & 15u) |
              (((head >> (16u + 2u * ib)) & 3u) << 4u);
    float d = unpackHalf2x16(head).x;
    scale = vec2(d * float(int(ls) - 32));
    bias = vec2(0.0);
}

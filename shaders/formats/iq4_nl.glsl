// IQ4_NL: half d; u8 qs[16]. y = d * T[q] on the non-uniform grid T; nibbles as in Q4_0.
#define QK 32u
#define QBYTES 18u
#define QSPAN 32u
#define Q_HAS_BIAS 0

uvec2 slot_pos(uint s) { return uvec2(4u * s, 4u * s + 16u); }

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    uint qs = w_word(bo + 2u + 4u * s);
    q0 = iq4_values(nib_lo(qs));
    q1 = iq4_values(nib_hi(qs));
    scale = vec2(w_half(bo));
    bias = vec2(0.0);
}

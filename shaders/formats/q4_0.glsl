// Q4_0: half d; u8 qs[16]. y = (q - 8) * d; byte j holds elements j (low) and j + 16 (high).
// Slot s reads qs word s: elements 4s..4s+3 and 4s+16..4s+19.
#define QK 32u
#define QBYTES 18u
#define QSPAN 32u
#define Q_HAS_BIAS 0

uvec2 slot_pos(uint s) { return uvec2(4u * s, 4u * s + 16u); }

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    uint qs = w_word(bo + 2u + 4u * s);
    q0 = vec4(nib_lo(qs)) - 8.0;
    q1 = vec4(nib_hi(qs)) - 8.0;
    scale = vec2(w_half(bo));
    bias = vec2(0.0);
}

// Q4_1: half d; half m; u8 qs[16]. y = q * d + m; nibbles as in Q4_0. 20-byte blocks stay
// word-aligned, so d and m are one word.
#define QK 32u
#define QBYTES 20u
#define QSPAN 32u
#define Q_HAS_BIAS 1

uvec2 slot_pos(uint s) { return uvec2(4u * s, 4u * s + 16u); }

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    vec2 dm = unpackHalf2x16(W[bo >> 2]);
    uint qs = W[(bo >> 2) + 1u + s];
    q0 = vec4(nib_lo(qs));
    q1 = vec4(nib_hi(qs));
    scale = vec2(dm.x);
    bias = vec2(dm.y);
}

// Q8_0: half d; i8 qs[32]. y = q * d. Slot s: elements 8s..8s+7, two words.
#define QK 32u
#define QBYTES 34u
#define QSPAN 32u
#define Q_HAS_BIAS 0

uvec2 slot_pos(uint s) { return uvec2(8u * s, 8u * s + 4u); }

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    q0 = bytes_i8(w_word(bo + 2u + 8u * s));
    q1 = bytes_i8(w_word(bo + 6u + 8u * s));
    scale = vec2(w_half(bo));
    bias = vec2(0.0);
}

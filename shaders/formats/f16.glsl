// F16: IEEE halves, handled in blocks of 8 (one slot, four words).
#define QK 8u
#define QBYTES 16u
#define QSPAN 8u
#define Q_HAS_BIAS 0
#define Q_PLAIN 1

uvec2 slot_pos(uint s) { return uvec2(0u, 4u); }

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    uint i = bo >> 2;
    q0 = vec4(unpackHalf2x16(W[i]), unpackHalf2x16(W[i + 1u]));
    q1 = vec4(unpackHalf2x16(W[i + 2u]), unpackHalf2x16(W[i + 3u]));
    scale = vec2(1.0);
    bias = vec2(0.0);
}

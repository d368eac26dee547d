// F32: plain floats, handled in blocks of 8 (one slot).
#define QK 8u
#define QBYTES 32u
#define QSPAN 8u
#define Q_HAS_BIAS 0
#define Q_PLAIN 1

uvec2 slot_pos(uint s) { return uvec2(0u, 4u); }

void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias) {
    uint i = bo >> 2;
    q0 = uintBitsToFloat(uvec4(W[i], W[i + 1u], W[i + 2u], W[i + 3u]));
    q1 = uintBitsToFloat(uvec4(W[i + 4u], W[i + 5u], W[i + 6u], W[i + 7u]));
    scale = vec2(1.0);
    bias = vec2(0.0);
}

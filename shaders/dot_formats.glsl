// Shared by quantize_q8_1.comp and matvec_dot.comp: the Q8_1 activation layout; with
// DOT_WEIGHTS defined (matvec_dot.comp, after products_common.glsl) also the packed 4x8-bit
// signed dot product and the weight formats whose blocks of 32 match a Q8_1 block (selected by
// FMT_<format>, like formats/formats.glsl). The quantizer needs neither, so it compiles and runs
// without the dot-product feature.
//
// Q8_1 activations, as vkq lays them out (not GGUF's interleaved 36-byte block: everything here
// is a 32-bit word, so no 8- or 16-bit storage is needed and a float is never split):
//     vector j starts at word j * 10 * nb (nb = k / 32 blocks); within it
//     words [8b, 8b + 8):        block b's q[32], int8, four to a word, element 4i in the low
//                                byte of word i (the natural order of x)
//     words [8 nb + 2b, +2):     block b's d = amax / 127 and s = d * sum(q), as float bits
// The value of element e of block b is d * q[e]. s lets a product fold a weight block's offset
// (Q4_0's -8, Q4_1's min) into one multiply per block instead of a sum over x per block.

const uint Q8_1_WORDS = 10u;  // per block: 8 of q, d, s

#ifdef DOT_WEIGHTS
#extension GL_EXT_spirv_intrinsics : require

// OpSDotKHR (SPV_KHR_integer_dot_product, opcode 4450) on two words read as four signed bytes
// each, with the PackedVectorFormat4x8Bit operand (0). Capabilities DotProductKHR (6019) and
// DotProductInput4x8BitPackedKHR (6018). Declared through GL_EXT_spirv_intrinsics because the
// GLSL extension for it (GL_EXT_integer_dot_product) is newer than the compilers vkq builds
// with; spirv-dis shows the result as `OpSDot %int %a %b PackedVectorFormat4x8Bit`.
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
int sdot_4x8_packed(uint a, uint b, spirv_literal int packed_vector_format);

int sdot4(uint a, uint b) { return sdot_4x8_packed(a, b, 0); }

// A weight block as the dot kernel sees it: value of element e = d * q[e] + m, with q[e] as
// packed bytes in the order of a Q8_1 block (q[i] holds elements 4i..4i+3). Then
//     sum_e w[e] * x[e] = d * d_x * sdot(q, q_x) + m * s_x.
// Formats with an offset (Q4_0: q - 8, Q5_0: q - 16) give m = -8 d or -16 d; Q8_0 m = 0.
// Weights are read through w_word (products_common.glsl): aligned words, fields that straddle
// words assembled from two.
#if defined(FMT_Q4_0)
#define QBYTES 18u
// half d; u8 qs[16]: byte j holds element j (low nibble) and j + 16 (high).
void block_unpack(uint bo, out uint q[8], out float d, out float m) {
    [[unroll]] for (uint i = 0u; i < 4u; i++) {
        uint w = w_word(bo + 2u + 4u * i);
        q[i] = w & 0x0f0f0f0fu;
        q[i + 4u] = (w >> 4u) & 0x0f0f0f0fu;
    }
    d = w_half(bo);
    m = -8.0 * d;
}
#elif defined(FMT_Q4_1)
#define QBYTES 20u
// half d; half m; u8 qs[16]: nibbles as in Q4_0; 20-byte blocks stay word-aligned.
void block_unpack(uint bo, out uint q[8], out float d, out float m) {
    uint i0 = bo >> 2u;
    [[unroll]] for (uint i = 0u; i < 4u; i++) {
        uint w = W[i0 + 1u + i];
        q[i] = w & 0x0f0f0f0fu;
        q[i + 4u] = (w >> 4u) & 0x0f0f0f0fu;
    }
    vec2 dm = unpackHalf2x16(W[i0]);
    d = dm.x;
    m = dm.y;
}
#elif defined(FMT_Q5_0) || defined(FMT_Q5_1)
// Bits 4i..4i+3 of qh moved to bit 4 of bytes 0..3.
uint fifth_bits(uint qh, uint i) {
    uint b = qh >> (4u * i);
    return ((b & 1u) << 4u) | ((b & 2u) << 11u) | ((b & 4u) << 18u) | ((b & 8u) << 25u);
}
#if defined(FMT_Q5_0)
#define QBYTES 22u
// half d; u8 qh[4]; u8 qs[16]: bit j of qh (little-endian) is the fifth bit of element j.
void block_unpack(uint bo, out uint q[8], out float d, out float m) {
    uint qh = w_word(bo + 2u);
    [[unroll]] for (uint i = 0u; i < 4u; i++) {
        uint w = w_word(bo + 6u + 4u * i);
        q[i] = (w & 0x0f0f0f0fu) | fifth_bits(qh, i);
        q[i + 4u] = ((w >> 4u) & 0x0f0f0f0fu) | fifth_bits(qh, i + 4u);
    }
    d = w_half(bo);
    m = -16.0 * d;
}
#else
#define QBYTES 24u
// half d; half m; u8 qh[4]; u8 qs[16]; 24-byte blocks stay word-aligned.
void block_unpack(uint bo, out uint q[8], out float d, out float m) {
    uint i0 = bo >> 2u;
    uint qh = W[i0 + 1u];
    [[unroll]] for (uint i = 0u; i < 4u; i++) {
        uint w = W[i0 + 2u + i];
        q[i] = (w & 0x0f0f0f0fu) | fifth_bits(qh, i);
        q[i + 4u] = ((w >> 4u) & 0x0f0f0f0fu) | fifth_bits(qh, i + 4u);
    }
    vec2 dm = unpackHalf2x16(W[i0]);
    d = dm.x;
    m = dm.y;
}
#endif
#elif defined(FMT_Q8_0)
#define QBYTES 34u
// half d; i8 qs[32]: already signed bytes in order.
void block_unpack(uint bo, out uint q[8], out float d, out float m) {
    [[unroll]] for (uint i = 0u; i < 8u; i++) q[i] = w_word(bo + 2u + 4u * i);
    d = w_half(bo);
    m = 0.0;
}
#else
#error "dot_formats.glsl: the variant names no weight format with a dot kernel (FMT_...)"
#endif
#endif

// Shared by matvec.comp, matmul.comp and get_rows.comp: the weight buffer as 32-bit words and
// the readers the format includes (formats/*.glsl) build on.
//
// Weights are read as aligned uint words only, so every variant runs on a device without 8- or
// 16-bit storage. Blocks of 18, 22, 34, 110 and 210 bytes start at 2 mod 4 every other block;
// a field there is assembled from two neighbouring words (same cache line, same memory traffic
// as two 16-bit loads). Consequence for the host: a binding is rounded up to whole words, so
// the weight view must extend to a multiple of 4 bytes (lib/ops checks it).

// SECOND_WEIGHT: this file is included a second time (matvec.comp, variant SWIGLU) with W and
// the readers renamed by macros, to read another weight binding: skip the binding-0 block.
#ifndef SECOND_WEIGHT
layout(std430, binding = 0) restrict readonly buffer WeightWords { uint W[]; };
#endif

// The 32 bits at byte offset b (any b). The second word is read only when b is unaligned: an
// aligned read at the very end of the binding must not touch the word after it.
uint w_word(uint b) {
    uint i = b >> 2;
    uint sh = (b & 3u) * 8u;
    uint lo = W[i];
    uint hi = W[i + uint(sh != 0u)];
    // (hi << (32 - sh)) split in two shifts so that sh == 0 yields 0 instead of an undefined
    // 32-bit shift.
    return (lo >> sh) | ((hi << (31u - sh)) << 1u);
}

// 16 bits at an even byte offset: one word read, no neighbour needed.
uint w_u16(uint b) { return (W[b >> 2] >> ((b & 2u) * 8u)) & 0xffffu; }

uint w_u8(uint b) { return (W[b >> 2] >> ((b & 3u) * 8u)) & 0xffu; }

float w_half(uint b) { return unpackHalf2x16(w_u16(b)).x; }

// The four bytes of a word, low nibbles and high nibbles, byte 0 first.
uvec4 nib_lo(uint w) { return (uvec4(w) >> uvec4(0u, 8u, 16u, 24u)) & 0xfu; }
uvec4 nib_hi(uint w) { return (uvec4(w) >> uvec4(4u, 12u, 20u, 28u)) & 0xfu; }
// Bits sh, sh+1 of each byte.
uvec4 crumbs(uint w, uint sh) { return (uvec4(w) >> (uvec4(0u, 8u, 16u, 24u) + sh)) & 3u; }
// Bit b of each byte.
uvec4 byte_bits(uint w, uint b) { return (uvec4(w) >> (uvec4(0u, 8u, 16u, 24u) + b)) & 1u; }
// The four bytes as signed values.
vec4 bytes_i8(uint w) {
    return vec4(ivec4(uvec4(w) << uvec4(24u, 16u, 8u, 0u)) >> 24);
}

// The non-uniform grid of IQ4_NL and IQ4_XS, {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13,
// 25, 38, 53, 69, 89, 113}, as signed bytes packed four to a word. Looked up with selects and
// shifts: a constant array indexed per invocation lands in scratch memory on most compilers
// (and costs a gather per value on lavapipe).
vec4 iq4_values(uvec4 q) {
    uvec4 lo = mix(uvec4(0xbfad9881u), uvec4(0xf6eaddcfu), greaterThanEqual(q, uvec4(4u)));
    uvec4 hi = mix(uvec4(0x26190d01u), uvec4(0x71594535u), greaterThanEqual(q, uvec4(12u)));
    uvec4 w = mix(lo, hi, greaterThanEqual(q, uvec4(8u)));
    return vec4(ivec4(w << (24u - 8u * (q & 3u))) >> 24);
}

// Six-bit scales and mins of sub-blocks 2c and 2c + 1 (c = 0..3) of Q4_K / Q5_K, from the 12
// scale bytes as three words s0, s1, s2 (bytes 0-3, 4-7, 8-11): for j < 4 the scale is byte j and
// the min byte j + 4 (low six bits); for j >= 4 the low nibbles come from byte j + 4 and the top
// two bits from the top of bytes j - 4 (scale) and j (min). Returns (sc0, mn0, sc1, mn1).
uvec4 k4_scales(uint s0, uint s1, uint s2, uint c) {
    uint sh = 16u * (c & 1u);  // bytes 2c, 2c + 1 within their word
    uvec2 b0 = (uvec2(s0) >> uvec2(sh, sh + 8u)) & 0xffu;
    uvec2 b1 = (uvec2(s1) >> uvec2(sh, sh + 8u)) & 0xffu;
    if (c < 2u) return uvec4(b0.x & 63u, b1.x & 63u, b0.y & 63u, b1.y & 63u);
    uvec2 b2 = (uvec2(s2) >> uvec2(sh, sh + 8u)) & 0xffu;
    uvec2 sc = (b2 & 15u) | ((b0 >> 6u) << 4u);
    uvec2 mn = (b2 >> 4u) | ((b1 >> 6u) << 4u);
    return uvec4(sc.x, mn.x, sc.y, mn.y);
}

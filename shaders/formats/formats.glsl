// Includes the weight format named by the variant's define (FMT_Q4_0, ...). Each format file
// describes one GGUF block layout (see /shared FORMATS.md) to the product kernels:
//
//   QK          elements per block (float formats use blocks of 8 so that a slot is a block)
//   QBYTES      bytes per block
//   QSPAN       elements covered by QSPAN/8 consecutive slots starting at a multiple of
//               QSPAN/8; the matmul k-tile is a multiple of it
//   Q_HAS_BIAS  1 when value = scale * q + bias has a bias (asymmetric formats)
//   Q_PLAIN     1 when q already is the value (float formats: no arithmetic, so that
//               denormals and signed zeros come through untouched)
//   uvec2 slot_pos(uint s)
//               element offsets, within the block, of the two runs of 4 that slot s holds
//   void slot_load(uint bo, uint s, out vec4 q0, out vec4 q1, out vec2 scale, out vec2 bias)
//               slot s (0 .. QK/8 - 1) of the block at byte bo: values are
//               scale.x * q0 + bias.x at slot_pos(s).x + 0..3 and scale.y * q1 + bias.y at
//               slot_pos(s).y + 0..3. The products are formed in the same order as the CPU
//               reference, so that a `precise` caller gets bit-exact values.
//
// A slot is 8 values chosen so that one thread reads each quant byte once, in whole words.
// Adding a format: one file here, one line below, one row in shaders/products.cmake and one in
// the table of lib/ops/matvec.c.

#if defined(FMT_F32)
#include "f32.glsl"
#elif defined(FMT_F16)
#include "f16.glsl"
#elif defined(FMT_BF16)
#include "bf16.glsl"
#elif defined(FMT_Q4_0)
#include "q4_0.glsl"
#elif defined(FMT_Q4_1)
#include "q4_1.glsl"
#elif defined(FMT_Q5_0)
#include "q5_0.glsl"
#elif defined(FMT_Q5_1)
#include "q5_1.glsl"
#elif defined(FMT_Q8_0)
#include "q8_0.glsl"
#elif defined(FMT_Q2_K)
#include "q2_k.glsl"
#elif defined(FMT_Q3_K)
#include "q3_k.glsl"
#elif defined(FMT_Q4_K)
#include "q4_k.glsl"
#elif defined(FMT_Q5_K)
#include "q5_k.glsl"
#elif defined(FMT_Q6_K)
#include "q6_k.glsl"
#elif defined(FMT_IQ4_NL)
#include "iq4_nl.glsl"
#elif defined(FMT_IQ4_XS)
#include "iq4_xs.glsl"
#else
#error "formats.glsl: the variant names no known weight format (FMT_...)"
#endif

#ifndef Q_PLAIN
#define Q_PLAIN 0
#endif

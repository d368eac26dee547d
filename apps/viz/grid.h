/* The quantization grid of one block: every value the block's codes can decode to, given its
 * scales, as the GGUF block definitions lay them out. Uniform (q4_0, q5_0, q8_0: d * (q - z)),
 * asymmetric (q4_1, q5_1, q2_k, q4_k, q5_k: d * q - m per sub-block), and the non-uniform
 * IQ4_NL / IQ4_XS table scaled by the (sub-)block's d. */
#ifndef VIZ_GRID_H
#define VIZ_GRID_H

#include <vkq.h>

#include <stdint.h>

enum { VIZ_GRID_MAX = 256 };

typedef enum viz_grid_kind {
    VIZ_GRID_NONE = 0,       /* no grid (float formats, unknown) */
    VIZ_GRID_UNIFORM,        /* symmetric: d * (q - z) */
    VIZ_GRID_ASYMMETRIC,     /* d * q + m, or d * q - m */
    VIZ_GRID_NONUNIFORM,     /* d * table[q] */
    VIZ_GRID_OBSERVED,       /* the distinct values the block decodes to (q3_k's packed scales
                                are not decoded here) */
} viz_grid_kind;

/* Fills vals (ascending, at most VIZ_GRID_MAX) with the grid of the sub-block holding element
 * `element` (0 .. block_elements-1) of the packed block `block` of `type`. `decoded` is the
 * block dequantized (vkq_dequantize), used for VIZ_GRID_OBSERVED. Returns the count (0 with
 * VIZ_GRID_NONE). *sub_elements: how many elements share that grid (the sub-block size). */
int viz_grid(vkq_type type, const uint8_t *block, const float *decoded, int element,
             float *vals, viz_grid_kind *kind, int *sub_elements);
const char *viz_grid_kind_name(viz_grid_kind kind);

#endif

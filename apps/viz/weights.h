/* One tensor's weights, read through the public vkq API (vkq_gguf_* and vkq_dequantize), then
 * quantized to a format and back (vkq_quantize / vkq_dequantize) to find its histogram, its
 * worst rows (output channels) and its worst blocks. */
#ifndef VIZ_WEIGHTS_H
#define VIZ_WEIGHTS_H

#include <vkq.h>

#include <stddef.h>
#include <stdint.h>

enum { VIZ_HIST_BINS = 96, VIZ_WORST = 8 };

typedef struct viz_worst {
    uint64_t index;   /* row, or block number (row-major over the rows read) */
    uint64_t row;     /* the block's row */
    double error;     /* relative L2 of that row / block */
    double sq_error;  /* sum of squared errors */
} viz_worst;

typedef struct viz_weights {
    char name[96];
    vkq_type source_type;
    vkq_type format;          /* VKQ_TYPE_NONE: not quantized (see note) */
    uint64_t ne0;             /* row length */
    uint64_t rows, total_rows; /* rows read (capped), rows in the tensor */
    float *x;                 /* rows * ne0 source values */
    float *q;                 /* the same after quantization to `format`; NULL if none */
    uint8_t *blocks;          /* the quantized bytes */
    uint32_t block_elements, block_bytes;
    double min, max;          /* of x */
    double hist_lo, hist_hi;  /* histogram range: [min, max] within mean +/- 6 sd */
    uint64_t outside;         /* values beyond it, counted in the edge bins */
    uint32_t hist[VIZ_HIST_BINS];
    uint32_t hist_max;
    double rel_l2;            /* whole (read part of the) tensor */
    viz_worst worst_rows[VIZ_WORST];
    int n_worst_rows;
    viz_worst worst_blocks[VIZ_WORST];
    int n_worst_blocks;
    char note[160];           /* why something is missing ("" if nothing) */
} viz_weights;

/* Reads tensor `name` of `gguf` (its first rows up to max_elements values) and quantizes it to
 * `format`. Returns 0 and a message in err on failure; *out is then empty. */
int viz_weights_load(vkq_context *ctx, const vkq_gguf *gguf, const char *name, vkq_type format,
                     uint64_t max_elements, viz_weights *out, char *err, size_t err_size);
void viz_weights_free(viz_weights *w);

#endif

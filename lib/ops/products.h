/* lib/ops/products.h — weight products with dequantization fused in: matrix-vector (decode),
 * matrix-matrix (prefill) and row gathers (token embeddings), for every weight format, with
 * their CPU references.
 *
 * Conventions
 * - W is row-major in GGUF layout: row r is bytes [r * row_bytes, (r + 1) * row_bytes) with
 *   row_bytes = k / block_elements * block_bytes. Activations are float32.
 *       W: (m, k) in wtype      X: (n, k) float      Y, add: (n, m) float
 * - Views need not respect minStorageBufferOffsetAlignment: each binding starts at the aligned
 *   address below the view and the shader skips the difference. They must respect: W offset a
 *   multiple of 4 (shaders read whole 32-bit words: no 8/16-bit storage needed); X offset a
 *   multiple of 16 (vec4 loads); Y and add offsets multiples of 4. Float formats (F32, F16,
 *   BF16) need k % 8 == 0, the others whole blocks.
 * - Weight and table bindings are rounded up to whole words, so a W view whose size is not a
 *   multiple of 4 (blocks of 18, 22, 34, 110, 210 bytes) is bound with up to 3 bytes past its
 *   end, read and discarded. Those bytes must belong to the same VkBuffer: always so for a
 *   vkq__buffer, whose allocation is rounded up to the storage-offset alignment.
 * - Any view larger than maxStorageBufferRange is split transparently (W by rows, X/Y/add by
 *   vectors), one dispatch per piece.
 * - Ops record only; they neither submit nor wait. The caller records vkq__recording_barrier()
 *   between an op that writes a tensor and one that reads it.
 * - Nothing here prints or aborts; failures return a status with a message naming the op, the
 *   format and the numbers. Thread safety: that of the recording. References are pure.
 */
#ifndef VKQ_OPS_PRODUCTS_H
#define VKQ_OPS_PRODUCTS_H

#include "ops/ops.h"

typedef struct vkq__mul_mat_args {
    vkq_type wtype; vkq__view w; uint32_t m, k; /* W: m rows of k elements in wtype blocks (GGUF layout: row r is bytes [r*row_bytes, (r+1)*row_bytes)) */
    vkq__view x; uint32_t n;                    /* X: n vectors of k float32 (vector j at float offset j*k) */
    vkq__view y;                                /* Y: n vectors of m float32 (vector j at float offset j*m) */
    vkq__view add;                              /* optional (add.size == 0: none): y = W·x + add, same shape as y (fuses residual adds and biases; for a bias broadcast set add_stride = 0) */
    uint32_t add_stride;                        /* floats between vectors of add: m for a residual, 0 for a bias */
    vkq__view norm;                             /* optional (norm.size == 0: none): RMS norm fused into the input: X
                                                   is un-normalized and each vector is used as
                                                   x / sqrt(mean(x^2) + norm_eps) * norm (k floats, offset a
                                                   multiple of 16). matvec only (decode): the op
                                                   picks matvec at every n then, and refuses the
                                                   matmul kernel with VKQ_ERR_UNSUPPORTED */
    float norm_eps;
    vkq__view xq;                               /* optional (xq.size == 0: none): X already quantized to
                                                   Q8_1 by vkq__op_quantize_q8_1 (with the norm above
                                                   fused, if any) and a barrier recorded since;
                                                   vkq__q8_1_bytes(k, n) bytes, offset a multiple of 16.
                                                   The op then picks the integer-dot matvec where it
                                                   exists for wtype and n <= 8, reading xq instead of
                                                   x and norm; elsewhere it reads x as usual */
} vkq__mul_mat_args;

/* Records Y = W·X (+ add). Picks matvec for n <= 8, tiled matmul beyond (on CPU drivers such
 * as lavapipe: matvec in passes of 8 vectors at every n, measured faster there). W larger than
 * maxStorageBufferRange is split by rows into separate bindings and dispatches, transparently.
 * add may be the same memory as y (an in-place residual); x must not overlap y. */
vkq_status vkq__op_mul_mat(vkq__recording *rec, const vkq__mul_mat_args *a);

/* CPU reference (double accumulation), same semantics. */
void vkq__ref_mul_mat(vkq_type wtype, const void *w, uint32_t m, uint32_t k, const float *x,
                      uint32_t n, float *y, const float *add, uint32_t add_stride);

/* The gate+up pair of a SwiGLU feed-forward block in one pass over the weights (decode):
 *     out[j][i] = silu(W_gate[i]·x[j]) * (W_up[i]·x[j]),  silu(g) = g / (1 + exp(-g))
 *     W_gate, W_up: (m, k) in wtype, both    x: (n, k) float    out: (n, m) float
 * Each x value is loaded once for both matrices and only the activations are written. View
 * rules as for vkq__op_mul_mat (W_up like W); split like it. Meant for n <= 8 (the matvec
 * kernel; larger n runs in passes of 8). VKQ_ERR_UNSUPPORTED where the build or device lacks
 * the kernel for wtype: the caller then records the two products and vkq__op_swiglu. x must
 * not overlap out. norm, norm_eps: an RMS norm fused into the input, as in vkq__mul_mat_args
 * (norm.size == 0: none). */
vkq_status vkq__op_mul_mat_swiglu(vkq__recording *rec, vkq_type wtype, vkq__view w_gate, vkq__view w_up,
                                  uint32_t m, uint32_t k, vkq__view x, uint32_t n, vkq__view out,
                                  vkq__view norm, float norm_eps);
bool vkq__mul_mat_swiglu_supported(vkq_context *ctx, vkq_type wtype);
/* CPU reference: both products in double, then silu(g) * u in double, rounded once. */
void vkq__ref_mul_mat_swiglu(vkq_type wtype, const void *w_gate, const void *w_up, uint32_t m, uint32_t k,
                             const float *x, uint32_t n, float *out);

/* out[i] = dequantized row ids[i] of table (n_rows rows of k elements, type `type`); ids are
 * uint32 in a buffer (so that a recorded decode step can read the token id from a buffer).
 *     table: (n_rows, k) in type    ids: (n_ids) uint32    out: (n_ids, k) float
 * Values are bit-exact with vkq__dequantize_row. An id >= n_rows gives a row of zeros (never an
 * out-of-bounds read). ids offset: a multiple of 4; out offset: a multiple of 16. */
vkq_status vkq__op_get_rows(vkq__recording *rec, vkq_type type, vkq__view table, uint32_t k,
                            uint32_t n_rows, vkq__view ids, uint32_t n_ids, vkq__view out);
void vkq__ref_get_rows(vkq_type type, const void *table, uint32_t k, const uint32_t *ids,
                       uint32_t n_ids, float *out);

/* Whether this build + device can run the op for the type. */
bool vkq__mul_mat_supported(vkq_context *ctx, vkq_type wtype);

/* ---- variants and tuning, for tests and benchmarks -------------------------------------- */

typedef enum vkq__mul_mat_kernel {
    VKQ__MUL_MAT_AUTO = 0,   /* as vkq__op_mul_mat chooses */
    VKQ__MUL_MAT_MATVEC = 1, /* any n, in passes of up to 8 vectors */
    VKQ__MUL_MAT_MATMUL = 2,
    VKQ__MUL_MAT_MATVEC_DOT = 3, /* the integer-dot matvec (needs xq; n in passes of 8);
                                    VKQ_ERR_UNSUPPORTED where the build or device lacks it */
} vkq__mul_mat_kernel;

/* How matvec spreads a row over invocations. */
typedef enum vkq__matvec_layout {
    VKQ__MATVEC_LAYOUT_AUTO = 0,  /* by device type */
    VKQ__MATVEC_LAYOUT_SHARED = 1, /* the workgroup's invocations side by side along each row,
                                      then a reduction: coalesced loads (GPUs) */
    VKQ__MATVEC_LAYOUT_LANE = 2,   /* one invocation per row: the same x loads in every lane,
                                      no reduction (CPU drivers) */
} vkq__matvec_layout;

/* Zero fields mean "the library's choice for this device". */
typedef struct vkq__mul_mat_config {
    vkq__mul_mat_kernel kernel;
    vkq__matvec_layout layout;
    bool no_subgroup;        /* matvec: reduce in shared memory even where subgroups could */
    uint32_t workgroup_size; /* matvec: a power of two */
    uint32_t rows;           /* matvec: rows per workgroup (1..8); with the lane layout, rows
                                per invocation */
    uint32_t tile_m, tile_n; /* matmul: output tile (multiples of 4) */
    uint32_t block;          /* matmul: outputs per invocation along each side, 4 or 8 (when
                                the tile is a multiple of it; else 4) */
} vkq__mul_mat_config;

/* vkq__op_mul_mat with a chosen kernel and tuning. `variant` (may be NULL, else at least 96
 * bytes) receives a description such as "matvec_q4_0_sg wg 64 rows 2". */
vkq_status vkq__op_mul_mat_config(vkq__recording *rec, const vkq__mul_mat_args *a,
                                  const vkq__mul_mat_config *cfg, char *variant);

/* vkq__op_mul_mat_swiglu with a chosen matvec layout and tuning (cfg's matvec fields; NULL:
 * the device's defaults). */
vkq_status vkq__op_mul_mat_swiglu_config(vkq__recording *rec, vkq_type wtype, vkq__view w_gate,
                                         vkq__view w_up, uint32_t m, uint32_t k, vkq__view x,
                                         uint32_t n, vkq__view out, vkq__view norm, float norm_eps,
                                         const vkq__mul_mat_config *cfg);

/* ---- integer dot product on Q8_1 activations (matvec_dot.c) ----------------------------------
 * Decode products on devices with a fast packed 4x8-bit dot product: X is quantized once to
 * int8 per block of 32 (vkq's Q8_1 layout, shaders/dot_formats.glsl: per vector, k bytes of q
 * then k/32 pairs of float (d, s)), then each weight block of 32 is one integer dot product and
 * two multiply-adds per vector. Weight formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
 *     X: (n, k) float    xq: (n, k) in Q8_1 = vkq__q8_1_bytes(k, n) bytes */

/* Bytes of n vectors of k (a multiple of 32) in Q8_1: 40 per block of 32. */
uint64_t vkq__q8_1_bytes(uint32_t k, uint32_t n);

/* xq = Q8_1(x), or Q8_1(rms_norm(x) * norm) when norm.size != 0 (k floats, as in
 * vkq__mul_mat_args). Per block: d = amax * (1/127), q = roundEven(x / d) in [-127, 127] (0 where
 * d = 0), s = d * sum(q). x offset: a multiple of 16; xq offset: a multiple of 16. Split by
 * vectors where x exceeds one binding. Runs on any device (no dot product needed). */
vkq_status vkq__op_quantize_q8_1(vkq__recording *rec, vkq__view x, uint32_t k, uint32_t n,
                                 vkq__view norm, float norm_eps, vkq__view xq);
/* CPU reference, the same arithmetic in float (the GPU's x / d may differ in the last ulp, see
 * shaders/quantize_q8_1.comp); with norm, 1/rms from a double sum. out: vkq__q8_1_bytes(k, n). */
void vkq__ref_quantize_q8_1(const float *x, uint32_t k, uint32_t n, const float *norm, float norm_eps,
                            void *out);
/* CPU reference of the dot product: Y = W·dequant(xq) (+ add) in double, from the dequantized
 * weights and x = d * q of the Q8_1 buffer. Semantics of add as in vkq__ref_mul_mat. */
void vkq__ref_mul_mat_q8_1(vkq_type wtype, const void *w, uint32_t m, uint32_t k, const void *xq,
                           uint32_t n, float *y, const float *add, uint32_t add_stride);

/* Whether this build + device have the dot kernel for the type (device: shaderIntegerDotProduct). */
bool vkq__mul_mat_dot_supported(vkq_context *ctx, vkq_type wtype);
/* Whether decode should quantize its product inputs for the dot kernel on this device: with
 * VKQ_DOT=1, wherever the feature exists (opt-in until measured on a GPU; see
 * docs/PERFORMANCE.md). */
bool vkq__mul_mat_dot_preferred(vkq_context *ctx);
/* quantize x (with a->norm) into the scratch view xq (vkq__q8_1_bytes(k, n) bytes), a barrier,
 * then the dot product: the whole dot path in one call, for tests and benchmarks (the forward
 * pass quantizes once for several products instead). a->xq is ignored. */
vkq_status vkq__op_mul_mat_dot(vkq__recording *rec, const vkq__mul_mat_args *a, vkq__view xq,
                               const vkq__mul_mat_config *cfg, char *variant);

/* ---- shared by products.c, matvec.c, matmul.c, get_rows.c -------------------------------- */

/* What the shaders know of a format (shaders/formats/<name>.glsl). */
typedef struct vkq__product_format {
    vkq_type type;
    const char *name;        /* shader suffix: "q4_0" */
    uint32_t qk;             /* elements per shader block: the GGUF block, 8 for float formats */
    uint32_t qbytes;         /* bytes per shader block */
    uint32_t span;           /* QSPAN: the matmul k-tile is a multiple of it */
} vkq__product_format;

/* NULL for types without product kernels (Q8_1, NONE, unknown). */
const vkq__product_format *vkq__product_format_get(vkq_type type);

/* A binding for bytes [off, off + bytes) of view v: starts at the aligned address at or below
 * it; *skip is the distance in bytes. Rounds the size up to a multiple of 4. */
void vkq__product_bind(vkq_context *ctx, vkq__view v, uint64_t off, uint64_t bytes, vkq__view *out,
                       uint32_t *skip);
/* Most bytes of data a binding made by vkq__product_bind may carry. */
uint64_t vkq__product_bind_limit(vkq_context *ctx);

/* One dispatch's share of a product: a W row chunk and an X/Y/add vector chunk, bound. */
typedef struct vkq__product_chunk {
    vkq__view w, x, y, add;
    uint32_t w_skip;         /* bytes */
    uint32_t x_skip;         /* vec4s */
    uint32_t y_skip, add_skip; /* floats */
    uint32_t row0, rows;     /* W rows [row0, row0 + rows) */
    uint32_t j0, n;          /* vectors [j0, j0 + n) */
} vkq__product_chunk;

/* Records one kernel's dispatch for a chunk (matvec.c, matmul.c). `ctx_data` is the kernel's
 * resolved configuration. */
typedef vkq_status (*vkq__product_record_fn)(vkq__recording *rec, const vkq__mul_mat_args *a,
                                             const vkq__product_format *f, const void *ctx_data,
                                             const vkq__product_chunk *c);
/* Splits a product into chunks of at most max_vectors vectors and of W rows that fit the
 * binding limit, and records each. */
vkq_status vkq__product_for_each_chunk(vkq__recording *rec, const vkq__mul_mat_args *a,
                                       const vkq__product_format *f, uint32_t max_vectors,
                                       vkq__product_record_fn record, const void *ctx_data);

/* Kernel entry points behind vkq__op_mul_mat_config (arguments already validated). */
vkq_status vkq__matvec_record(vkq__recording *rec, const vkq__mul_mat_args *a,
                              const vkq__product_format *f, const vkq__mul_mat_config *cfg,
                              char *variant);
/* The SWIGLU matvec variant: W = W_gate in a, Y the activations, no add. */
vkq_status vkq__matvec_swiglu_record(vkq__recording *rec, const vkq__mul_mat_args *a,
                                     const vkq__product_format *f, vkq__view w_up,
                                     const vkq__mul_mat_config *cfg);
/* The integer-dot matvec on a->xq (matvec_dot.c). */
vkq_status vkq__matvec_dot_record(vkq__recording *rec, const vkq__mul_mat_args *a,
                                  const vkq__product_format *f, const vkq__mul_mat_config *cfg,
                                  char *variant);
vkq_status vkq__matmul_record(vkq__recording *rec, const vkq__mul_mat_args *a,
                              const vkq__product_format *f, const vkq__mul_mat_config *cfg,
                              char *variant);

#endif

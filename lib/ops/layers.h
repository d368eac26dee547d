/* lib/ops/layers.h — the transformer layer ops other than the weight products: RMS norm, rotary
 * embedding, the KV-cache write (fused with rotary embedding and cache quantization), attention
 * (prefill and split-K decode), SwiGLU/SiLU, softmax, argmax and sampling. Each op records its
 * dispatches into a recording; each has a plain-C reference (vkq__ref_*) with the same
 * semantics, used by tests/ops.
 *
 * Conventions
 * - Activations are float32, row-major; shapes are written innermost last:
 *   `// (n_tokens, n_head, head_dim)` means element (t, h, d) is at (t * n_head + h) * head_dim + d.
 * - Views are bound as given; each must hold at least the bytes its shape needs (checked, with
 *   VKQ_ERR_INVALID_ARGUMENT naming the op and the numbers). View offsets must respect the
 *   device's minStorageBufferOffsetAlignment (the caller places tensors).
 * - Everything that changes from token to token in decode (the position) is read by the shaders
 *   from a `params` view holding a vkq__step_params, never from push constants: a decode step is
 *   recorded once, and before each resubmission the host only rewrites that small buffer
 *   (host-visible memory, written while the recording is not in flight).
 * - Ops record only; they neither submit nor wait. Between an op that writes a tensor and one
 *   that reads it the caller records vkq__recording_barrier().
 * - Nothing here prints or aborts; failures return a status with a message on the context.
 * - Thread safety: like the recording they write into (one thread at a time). The references are
 *   pure functions.
 */
#ifndef VKQ_OPS_LAYERS_H
#define VKQ_OPS_LAYERS_H

#include "ops/ops.h"

/* ---- the per-step parameter buffer -------------------------------------------------------- */

/* Lives in a host-visible buffer (at least sizeof(vkq__step_params) bytes); mirrored by
 * `Step` in shaders/layers_common.glsl. The sampling fields are read only by vkq__op_sample. */
typedef struct vkq__step_params {
    uint32_t pos0;        /* position of the step's first token; its KV rows are written at
                             pos0 .. pos0 + n_tokens - 1, attention reads rows 0 .. pos0 + n_tokens - 1 */
    uint32_t reserved0;   /* zero */
    float rand;           /* sampling: a uniform random number in [0, 1) */
    float temperature;    /* sampling: <= 0 means greedy (argmax) */
    uint32_t top_k;       /* sampling: keep the k largest logits; 0 = off */
    float top_p;          /* sampling: keep the smallest top set with probability >= top_p; >= 1 = off */
    float min_p;          /* sampling: keep p >= min_p * p_max; <= 0 = off */
    uint32_t reserved1;   /* zero */
} vkq__step_params;
_Static_assert(sizeof(vkq__step_params) == 32, "mirrors Step in shaders/layers_common.glsl");

/* ---- KV cache layout ---------------------------------------------------------------------- */

/* One layer's K cache and V cache have the same layout (one view each):
 *   // (n_head_kv, n_ctx, row)   row = head_dim values of `type`, padded to a multiple of 4 bytes
 * Row (h, p) starts at byte (h * n_ctx + p) * vkq__kv_row_bytes(type, head_dim).
 * - F16: head_dim IEEE halves.
 * - Q8_0 / Q4_0: head_dim / 32 GGUF blocks (34 / 18 bytes: half d, then the values, see
 *   FORMATS.md) back to back, then 0 or 2 bytes of padding; head_dim a multiple of 32. The
 *   blocks are bit-compatible with vkq__dequantize_row, so the references read the cache bytes
 *   the GPU wrote.
 * Rows are 4-byte aligned so that shaders read and write 32-bit words only (Vulkan 1.1 floor: no
 * 8/16-bit storage needed). A row is written whole by one workgroup, so padding words never race.
 * Quantized rows are written with the closed-form scale (Q8_0: d = amax/127; Q4_0: d = x_m/-8,
 * x_m the element of largest magnitude, keeping its sign), d rounded to half (nearest even), then
 * q = floor(x * (1/d) + 0.5) clamped, the formula and roundings of
 * vkq__quantize_row(..., VKQ__QUANT_CLOSED_FORM): bit-for-bit where the driver's float division
 * is correctly rounded (lavapipe: every test block identical); Vulkan allows 2.5 ulp, which can
 * move d by one half ulp or a value by one step in rare blocks. F16 rows are bit-exact (round to
 * nearest even done by hand, not left to packHalf2x16). */
typedef struct vkq__kv_layout {
    vkq_type type;        /* VKQ_TYPE_F16, VKQ_TYPE_Q8_0 or VKQ_TYPE_Q4_0 */
    uint32_t n_head_kv;
    uint32_t n_ctx;       /* positions the cache holds */
    uint32_t head_dim;    /* <= 256; a multiple of 4 (F16) or of 32 (Q8_0 / Q4_0) */
} vkq__kv_layout;

#define VKQ__KV_MAX_HEAD_DIM 256

/* Bytes of one cache row; 0 for an unsupported type or head_dim. */
uint32_t vkq__kv_row_bytes(vkq_type type, uint32_t head_dim);
/* Bytes of one layer's K (or V) cache: n_head_kv * n_ctx * row bytes; 0 if unsupported. */
uint64_t vkq__kv_cache_bytes(const vkq__kv_layout *kv);
/* VKQ_OK or VKQ_ERR_INVALID_ARGUMENT / VKQ_ERR_LIMIT with a message naming `what`. */
vkq_status vkq__kv_layout_check(vkq_context *ctx, const vkq__kv_layout *kv, const char *what);

/* ---- RMS norm ----------------------------------------------------------------------------- */

/* out[r][i] = x[r][i] / sqrt(mean_i(x[r][i]^2) + eps) * weight[i].
 *   x, out: // (rows, n)     weight: // (n), or a view with buffer VK_NULL_HANDLE for none
 * out may be the same memory as x (each element is read and written by one invocation). Uses
 * subgroup arithmetic where the device has it, a shared-memory reduction otherwise. */
vkq_status vkq__op_rms_norm(vkq__recording *rec, vkq__view x, vkq__view weight, vkq__view out,
                            uint32_t n, uint32_t rows, float eps);
/* weight may be NULL. Double accumulation. */
void vkq__ref_rms_norm(const float *x, const float *weight, float *out, uint32_t n, uint32_t rows,
                       float eps);

/* ---- rotary position embedding ------------------------------------------------------------ */

typedef enum vkq__rope_mode {
    VKQ__ROPE_NORMAL = 0, /* pairs (2i, 2i+1): llama (GGUF stores Q/K weights permuted for it) */
    VKQ__ROPE_NEOX = 1,   /* pairs (i, i + n_rot/2): qwen2, phi3, gpt-neox */
} vkq__rope_mode;

/* Pair i (0 <= i < n_rot/2) of a token at position p turns by
 *   theta = p * freq_scale * freq_base^(-2i/n_rot) / factor[i]
 * (factor: optional per-pair frequency factors, llama-3.1 "rope_freqs"; 1 when absent):
 *   (a, b) -> (a cos theta - b sin theta, a sin theta + b cos theta).
 * Dimensions n_rot .. head_dim-1 are copied unchanged. */
typedef struct vkq__rope {
    vkq__rope_mode mode;
    uint32_t n_rot;       /* even, 2 .. head_dim */
    float freq_base;      /* 10000 (llama 2), 500000 (llama 3), 1000000 (qwen2) ... */
    float freq_scale;     /* 1 / linear scaling factor; 1 = none */
} vkq__rope;

/* Rotates Q (or K) for tokens at positions pos0 + t, pos0 read from params.
 *   x, out: // (n_tokens, n_heads, head_dim)     freq_factors: // (n_rot/2), or buffer
 *   VK_NULL_HANDLE for none     params: a vkq__step_params
 * out may be the same memory as x. */
vkq_status vkq__op_rope(vkq__recording *rec, const vkq__rope *rope, vkq__view freq_factors,
                        vkq__view x, vkq__view params, vkq__view out, uint32_t n_tokens,
                        uint32_t n_heads, uint32_t head_dim);
/* freq_factors may be NULL. Angles and rotations in double. */
void vkq__ref_rope(const vkq__rope *rope, const float *freq_factors, const float *x, float *out,
                   uint32_t n_tokens, uint32_t n_heads, uint32_t head_dim, uint32_t pos0);

/* ---- KV cache write (fused with rotary embedding of K) ------------------------------------ */

/* Ropes K (as vkq__op_rope) and stores it, and V unchanged, into rows pos0 .. pos0+n_tokens-1
 * of each head of the caches, converting to kv->type (see the layout above).
 *   k, v: // (n_tokens, n_head_kv, head_dim)     k_cache, v_cache: one layer, layout above
 * Rows at positions >= n_ctx are not written (the shader guards; the caller must not let pos0
 * run past n_ctx - n_tokens). */
vkq_status vkq__op_kv_write(vkq__recording *rec, const vkq__kv_layout *kv, const vkq__rope *rope,
                            vkq__view freq_factors, vkq__view k, vkq__view v, vkq__view params,
                            vkq__view k_cache, vkq__view v_cache, uint32_t n_tokens);
/* The same on the CPU: rope in double, then vkq__fp32_to_fp16 or vkq__quantize_row(closed
 * form) of the float32-rounded row. Only rows pos0 .. pos0+n_tokens-1 are touched. */
void vkq__ref_kv_write(const vkq__kv_layout *kv, const vkq__rope *rope, const float *freq_factors,
                       const float *k, const float *v, uint8_t *k_cache, uint8_t *v_cache,
                       uint32_t n_tokens, uint32_t pos0);

/* ---- attention ---------------------------------------------------------------------------- */

/* softmax(scale * q k^T + causal mask) v for each query head h against KV head
 * h / (n_head / n_head_kv) (grouped-query attention; n_head a multiple of n_head_kv), reading
 * the cache rows directly (dequantized in registers). Query t is at position pos0 + t and sees
 * keys 0 .. pos0 + t. scale 0 means 1/sqrt(head_dim).
 *   q: // (n_tokens, n_head, head_dim), already roped     out: // (n_tokens, n_head * head_dim)
 * Prefill: any n_tokens (tiles of queries per workgroup, keys streamed through shared memory).
 * pos0 + n_tokens <= n_ctx is the caller's to keep (the shader clamps reads to n_ctx). */
vkq_status vkq__op_attention_prefill(vkq__recording *rec, const vkq__kv_layout *kv, vkq__view q,
                                     vkq__view k_cache, vkq__view v_cache, vkq__view params,
                                     vkq__view out, uint32_t n_tokens, uint32_t n_head,
                                     float scale);

/* Decode: one query (n_tokens = 1) at position pos0, KV length pos0 + 1, both read from params
 * at run time. The keys are split into n_splits slices (fixed at record time; each slice is
 * max(ceil(len / n_splits), tile) keys, tile = the kernel's workgroup size (32..128), so short
 * contexts leave late slices empty); each workgroup handles one (KV head, slice) for all the
 * query heads sharing that KV head, writing an unnormalized partial output with its max and sum
 * into scratch; a second pass (after a barrier this op records) combines the slices with
 * log-sum-exp. n_splits == 1 writes out directly (scratch unused; may be a null view).
 *   scratch: vkq__attention_decode_scratch_bytes(n_head, head_dim, n_splits) bytes */
vkq_status vkq__op_attention_decode(vkq__recording *rec, const vkq__kv_layout *kv, vkq__view q,
                                    vkq__view k_cache, vkq__view v_cache, vkq__view params,
                                    vkq__view scratch, vkq__view out, uint32_t n_head,
                                    uint32_t n_splits, float scale);
/* A good n_splits for this device and cache: enough workgroups to fill the GPU at full context,
 * no slice shorter than 128 keys at full context; 1..64. */
uint32_t vkq__attention_decode_splits(vkq_context *ctx, const vkq__kv_layout *kv, uint32_t n_head);
uint64_t vkq__attention_decode_scratch_bytes(uint32_t n_head, uint32_t head_dim,
                                             uint32_t n_splits);
/* The reference of both: dequantizes the same cache bytes with vkq__dequantize_row (or halves),
 * then softmax in double. */
void vkq__ref_attention(const vkq__kv_layout *kv, const float *q, const uint8_t *k_cache,
                        const uint8_t *v_cache, float *out, uint32_t n_tokens, uint32_t n_head,
                        uint32_t pos0, float scale);

/* ---- activations -------------------------------------------------------------------------- */

/* out[r][i] = silu(gate[r][i]) * up[r][i], silu(g) = g / (1 + exp(-g)).
 *   gate: rows of n at a stride of gate_stride floats (0 = n); up likewise; out: // (rows, n)
 * Strides let gate and up be two halves of one fused product's rows (then pass two subviews). */
vkq_status vkq__op_swiglu(vkq__recording *rec, vkq__view gate, vkq__view up, vkq__view out,
                          uint32_t n, uint32_t rows, uint32_t gate_stride, uint32_t up_stride);
void vkq__ref_swiglu(const float *gate, const float *up, float *out, uint32_t n, uint32_t rows,
                     uint32_t gate_stride, uint32_t up_stride);
/* out[i] = silu(x[i]) over count floats; out may be the same memory as x. */
vkq_status vkq__op_silu(vkq__recording *rec, vkq__view x, vkq__view out, uint32_t count);
void vkq__ref_silu(const float *x, float *out, uint32_t count);

/* ---- activation statistics (stats.c) ----------------------------------------------------- */

/* acc[c] += sum over rows r < n of x[r][c]^2, for the k columns c: the sums behind an importance
 * matrix (mean x^2 of each input column of a weight matrix). Sums in float32, one per column
 * and dispatch (a dispatch's rows are summed first, then added: the error of a long
 * collection is that of a sum of dispatch totals).
 *     x: (n, x_stride) float, columns [0, k) read    acc: (k) float, read and written */
vkq_status vkq__op_sumsq_accumulate(vkq__recording *rec, vkq__view x, uint32_t k, uint32_t n,
                                    uint32_t x_stride, vkq__view acc);
void vkq__ref_sumsq_accumulate(const float *x, uint32_t k, uint32_t n, uint32_t x_stride, double *acc);

/* ---- softmax, argmax, sampling ------------------------------------------------------------ */

/* out[r] = softmax(scale * x[r]) over rows of n. x, out: // (rows, n) */
vkq_status vkq__op_softmax(vkq__recording *rec, vkq__view x, vkq__view out, uint32_t n,
                           uint32_t rows, float scale);
void vkq__ref_softmax(const float *x, float *out, uint32_t n, uint32_t rows, float scale);

/* ids[r] = the index of the largest x[r][i] (uint32). Ties: the LOWEST index wins. NaN never
 * wins (a row of only NaN gives 0).   x: // (rows, n)   ids: // (rows) uint32 */
vkq_status vkq__op_argmax(vkq__recording *rec, vkq__view x, vkq__view ids, uint32_t n,
                          uint32_t rows);
void vkq__ref_argmax(const float *x, uint32_t *ids, uint32_t n, uint32_t rows);

/* Draws ids[r] from logits row r with the sampling fields of params (rand, temperature, top_k,
 * top_p, min_p; every row uses the same rand), in llama.cpp's default order:
 *   temperature <= 0: argmax (as vkq__op_argmax).
 *   K = {l >= the top_k-th largest logit} (top_k 0 or >= n: all; ties at the boundary kept);
 *   P = {l >= tau}, tau the largest value with sum_{i in K, l_i >= tau} w_i >= top_p * sum_K w,
 *       w = exp(l - l_max) at temperature 1 (at least the maximum is always kept);
 *   M = {l >= l_max + ln(min_p)};
 *   the id is drawn from K & P & M with weights exp((l - l_max) / temperature): the smallest
 *   index whose running sum in index order exceeds rand * (sum of the weights).
 * NaN logits never count. One workgroup per row; each threshold is found exactly by bisection
 * over the floats' order-preserving 32-bit keys (32 passes over the row; a candidate compaction
 * would cut that for large vocabularies).   logits: // (rows, n)   ids: // (rows) uint32 */
vkq_status vkq__op_sample(vkq__recording *rec, vkq__view logits, vkq__view params, vkq__view ids,
                          uint32_t n, uint32_t rows);
/* One row; thresholds and weights in double, comparisons on the float logits. */
uint32_t vkq__ref_sample(const float *logits, uint32_t n, const vkq__step_params *params);

#endif

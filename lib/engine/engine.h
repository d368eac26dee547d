/* lib/engine — the llama-family model: hyperparameters, weights on the device, sessions with
 * their KV cache, the recorded forward pass, sampling; and a plain-C reference forward pass
 * that the tests compare the GPU with. Internal to libvkq. */
#ifndef VKQ_ENGINE_H
#define VKQ_ENGINE_H

#include "gpu/gpu.h"

typedef struct vkq__hparams {
    char arch[32];
    uint32_t n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_rot;
    float freq_base, freq_scale, eps;
    vkq_rope_type rope;
    bool qkv_bias, tied_output;
} vkq__hparams;

/* Reads and checks the hyperparameters of a llama-family file. */
vkq_status vkq__hparams_read(vkq__diag *d, const vkq_gguf *g, vkq__hparams *hp);

/* One weight: where it is in the file, and its copy on the device. 1-D tensors (norms,
 * biases) are always stored as F32 on the device, whatever the file holds. */
typedef struct vkq__weight {
    vkq_gguf_tensor_info info;
    vkq_type type;     /* type on the device */
    vkq__buffer buf;
    bool present;
} vkq__weight;

typedef struct vkq__layer {
    vkq__weight attn_norm;                /* (n_embd) */
    vkq__weight wq, wk, wv, wo;           /* (n_head*hd, n_embd), (n_kv*hd, n_embd) x2, (n_embd, n_head*hd) */
    vkq__weight bq, bk, bv;               /* qwen2 biases: (n_head*hd), (n_kv*hd) x2 */
    vkq__weight ffn_norm;                 /* (n_embd) */
    vkq__weight w_gate, w_up, w_down;     /* (n_ff, n_embd) x2, (n_embd, n_ff) */
} vkq__layer;

struct vkq_model {
    vkq_context *ctx;
    vkq_gguf *gguf;
    vkq__hparams hp;
    vkq_model_info info;
    vkq__weight tok_embd;                 /* (n_vocab, n_embd) */
    vkq__weight out_norm;                 /* (n_embd) */
    vkq__weight output;                   /* (n_vocab, n_embd); = tok_embd when tied */
    vkq__layer *layers;                   /* (n_layer) */
    struct vkq_tokenizer *tokenizer;      /* NULL when the file has no vocabulary */
    uint32_t n_sessions;
};

/* The model's tokenizer (model_tokenizer.c): loaded from the GGUF vocabulary when present. */
vkq_status vkq__model_tokenizer_load(vkq_model *m);
void vkq__model_tokenizer_free(vkq_model *m);

/* The weight each matrix product of a layer reads, for the analysis layer and the tests. */
const vkq__weight *vkq__model_output_weight(const vkq_model *m);

/* ---- the CPU reference forward pass (reference.c) -------------------------------------------
 * Plain C, double accumulation, weights dequantized from the file with vkq__dequantize_row;
 * the KV cache is stored in kv_type (F16, Q8_0 or Q4_0, quantized with the closed form as the
 * GPU does) so that quantized-cache runs can be compared exactly. */
typedef struct vkq__ref_state vkq__ref_state;
vkq_status vkq__ref_create(vkq__diag *d, const vkq_gguf *g, uint32_t n_ctx, vkq_type kv_type,
                           vkq__ref_state **out);
void vkq__ref_destroy(vkq__ref_state *s);
/* Evaluates tokens at the state's position; writes n x n_vocab logits (or only the last
 * token's when all == false). */
vkq_status vkq__ref_eval(vkq__ref_state *s, const int32_t *tokens, uint32_t n, float *logits,
                         bool all);
const vkq__hparams *vkq__ref_hparams(const vkq__ref_state *s);

/* For the analysis layer (lib/analysis/analyze.c). The vectors the pass computes for one token,
 * handed to an observer as they are made: x (n values) is scratch, valid during the call only. */
typedef enum vkq__ref_point {
    VKQ__REF_LAYER_IN,     /* layer il's input, the residual stream (n_embd) */
    VKQ__REF_ATTN_IN,      /* normed input of attn_q, attn_k, attn_v (n_embd) */
    VKQ__REF_ATTN_OUT_IN,  /* input of attn_output: the attention heads (n_head * head_dim) */
    VKQ__REF_FFN_IN,       /* normed input of ffn_gate, ffn_up (n_embd) */
    VKQ__REF_FFN_DOWN_IN,  /* input of ffn_down: silu(gate) * up (n_ff) */
    VKQ__REF_LAYER_OUT,    /* layer il's output, the residual stream (n_embd) */
    VKQ__REF_OUTPUT_IN,    /* normed input of the output projection (n_embd); il = n_layer;
                              only for the tokens whose logits are computed */
} vkq__ref_point;
typedef void (*vkq__ref_observer)(void *user, vkq__ref_point point, uint32_t il, uint32_t pos,
                                  const float *x, uint32_t n);
/* fn NULL: no observer (the default). Called from the thread that runs the pass. */
void vkq__ref_set_observer(vkq__ref_state *s, vkq__ref_observer fn, void *user);
/* Back to position 0: the next eval starts a new sequence (the cache is overwritten). */
void vkq__ref_reset(vkq__ref_state *s);
/* The dequantized weights (rows x cols, row-major, cols = ne[0]) of the weight matrix called
 * `name` ("blk.3.ffn_up.weight", "token_embd.weight", "output.weight"), writable so that a
 * caller can substitute other weights; NULL for any other name. With a tied output,
 * token_embd.weight is also the output projection. */
float *vkq__ref_matrix(vkq__ref_state *s, const char *name, uint32_t *rows, uint32_t *cols);
/* Runs layer il alone on n tokens at positions 0..n-1 (its own cache rows are overwritten):
 * x holds the n inputs (n, n_embd), out receives the n outputs (n, n_embd). Leaves the state
 * at position 0. VKQ_ERR_INVALID_ARGUMENT for il >= n_layer or n > n_ctx. */
vkq_status vkq__ref_eval_layer(vkq__ref_state *s, uint32_t il, const float *x, uint32_t n,
                               float *out);

#endif

/* A session's device state, shared by session.c (lifecycle, eval) and forward.c (recording). */
#ifndef VKQ_ENGINE_SESSION_H
#define VKQ_ENGINE_SESSION_H

#include "engine/engine.h"
#include "ops/layers.h"

/* Decode steps of at most this many tokens (memory-bound) fuse each RMS norm into the products
 * that read it and gate+up+SiLU into one pass: fewer dispatches and barriers, which is most of a
 * small model's decode time on a GPU. Prefill keeps them apart: the tiled matmul, faster there,
 * has no fused norm. On CPU drivers only gate+up+SiLU is fused: measured on lavapipe with
 * SmolLM2, it gains 5 % while the fused norm loses 12 % (each workgroup recomputes the norm,
 * which a CPU pays in full; docs/PERFORMANCE.md). */
#define VKQ__FUSE_MAX_TOKENS 8u

struct vkq_session {
    vkq_model *model;
    vkq_context *ctx;
    uint32_t n_ctx, n_batch, pos;
    uint32_t logit_rows;          /* rows the logits buffer holds (all-logits batches) */
    vkq__kv_layout kv;
    uint32_t attn_splits;         /* split-K slices of decode attention */
    bool imp_collect;             /* desc.collect_importance */
    bool profile;                 /* desc.profile: the recordings time every dispatch */
    uint32_t fuse_norm_max;       /* most tokens a step may have for the fused norms (0: never) */
    uint32_t fuse_ffn_max;        /* the same for the fused gate+up+SiLU */
    uint32_t dot_max;             /* most tokens a step may have for the integer-dot products
                                     (0: never; see vkq__mul_mat_dot_preferred) */
    vkq__buffer *k_cache, *v_cache; /* (n_layer) each: // (n_head_kv, n_ctx, row) */
    vkq__buffer params;           /* vkq__step_params, host-visible */
    vkq__buffer ids;              /* (n_batch) uint32 token ids, host-visible */
    vkq__buffer argmax;           /* (logit_rows) uint32: greedy choices after the last eval, host-visible */
    vkq__buffer x;                /* (n_batch, n_embd) the residual stream */
    vkq__buffer xn;               /* (n_batch, n_embd) normed */
    vkq__buffer q;                /* (n_batch, n_head * head_dim) */
    vkq__buffer k, v;             /* (n_batch, n_head_kv * head_dim) */
    vkq__buffer att;              /* (n_batch, n_head * head_dim) attention output */
    vkq__buffer gate, up;         /* (n_batch, n_ff) */
    vkq__buffer logits;           /* (logit_rows, n_vocab), host-visible */
    vkq__buffer scratch;          /* split-K partials of decode attention */
    vkq__buffer xq;               /* (dot_max, max(n_embd, n_head * head_dim, n_ff)) in Q8_1: the
                                     input of the integer-dot products (16 B when unused) */
    vkq__recording *decode;       /* one token: recorded once, replayed per token */
    vkq__recording *prefill;      /* re-recorded per batch */
    vkq__recording *sampler;      /* GPU sampling of logits row 0: recorded once, on first use */
    vkq__buffer sample_params;    /* vkq__step_params of the sampler, host-visible */
    vkq__buffer sampled;          /* (1) uint32: the sampler's choice, host-visible */
    bool decode_recorded, sampler_recorded;
    bool have_logits;             /* logits row `last_logit_row` holds the last token's */
    uint32_t last_logit_row;
    uint64_t rng;                 /* sampling state */
    float *scratch_logits;        /* (n_vocab) CPU sampling with a repetition penalty */
    /* Importance collection (desc.collect_importance): per layer the column sums of x^2 of the
     * four distinct product inputs, and of the output projection's input. */
    vkq__buffer *imp;             /* (n_layer * VKQ__IMP_PER_LAYER + 1) buffers, or NULL */
    uint64_t imp_rows, imp_out_rows; /* rows summed into the layer buffers / the output one */
};

/* The inputs of a layer's weight products, in the order of their importance buffers. */
enum {
    VKQ__IMP_ATTN_IN,  /* norm(x): attn_q, attn_k, attn_v (n_embd) */
    VKQ__IMP_ATTN_OUT, /* attention output: attn_output (n_head * head_dim) */
    VKQ__IMP_FFN_IN,   /* norm(x): ffn_gate, ffn_up (n_embd) */
    VKQ__IMP_FFN_ACT,  /* silu(gate) * up: ffn_down (n_ff) */
    VKQ__IMP_PER_LAYER
};

/* Records the forward pass of n_tokens tokens (ids already in s->ids, pos0 in s->params), the
 * final norm and output projection of the last `n_logits` tokens into logits rows
 * 0..n_logits-1, and the argmax of the last one. */
vkq_status vkq__forward_record(vkq_session *s, vkq__recording *rec, uint32_t n_tokens,
                               uint32_t n_logits);

#endif

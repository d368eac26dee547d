/* lib/analysis — vkq_analyze, the per-layer error analysis: state shared by analyze.c (the
 * plan and the weight space) and analyze_act.c (the activation space). Internal. */
#ifndef VKQ_ANALYSIS_ANALYZE_H
#define VKQ_ANALYSIS_ANALYZE_H

#include "analysis/metrics.h"
#include "engine/engine.h"
#include "gguf/gguf.h"

/* The input vectors whose mean square is a matrix's importance (one per input column). */
typedef enum an_input {
    AN_IN_NONE = -1,
    AN_IN_ATTN = 0,     /* attn_q, attn_k, attn_v */
    AN_IN_ATTN_OUT = 1, /* attn_output */
    AN_IN_FFN = 2,      /* ffn_gate, ffn_up */
    AN_IN_FFN_DOWN = 3, /* ffn_down */
    AN_IN_COUNT = 4,
    AN_IN_OUTPUT = 4,   /* the output projection (token_embd when tied); not per layer */
} an_input;

typedef struct an_state {
    vkq__diag *d;
    const vkq_analysis_desc *desc;
    vkq_analysis_report *r;
    vkq_gguf *g;
    uint32_t threads;
    int64_t n_layer;               /* from the tensor names */
    bool tied_output;
    uint64_t *mats;                /* n_mats: indices into g->tensors of the weight matrices */
    uint64_t n_mats, mat_elements;
    char **rule_patterns;          /* n_rules overrides */
    vkq_type *rule_types;
    uint32_t n_rules;
    float **importance;            /* n_mats: ne[0] values each, or NULL */
    /* progress: units done of total (a unit: one weight quantized, or one weight used by one
     * token-free pass of the model) */
    double done, total;
    /* activation space (n_tokens > 0) */
    vkq__hparams hp;
    vkq__ref_state *ref[2];        /* ref[1] NULL when running on one thread */
    float *src_hidden;             /* (n_layer + 1, n_tokens, n_embd): [0] the embeddings,
                                      [L + 1] the output of layer L, of the source model */
    float *src_logits;             /* (n_tokens, n_vocab) */
    float *q_hidden;               /* the same for the quantized model */
    float *q_logits;
    float *iso_out;                /* (n_layer, n_tokens, n_embd) */
    double *imp_sum;               /* (n_layer, AN_IN_COUNT, imp_stride) + imp_stride */
    uint32_t imp_stride;           /* max(n_embd, n_head * head_dim, n_ff) */
} an_state;

/* The progress callback with done/total; VKQ_ERR_STATE (with a message) when it cancels. */
vkq_status vkq__an_progress(an_state *s, double add);

/* analyze_act.c: the source model's pass (hidden states, logits, importance), and after each
 * format's weights are in place in s->ref[*], the quantized model's passes. */
vkq_status vkq__an_act_begin(an_state *s);
vkq_status vkq__an_act_format(an_state *s, vkq_analysis_format *f);
void vkq__an_act_end(an_state *s);
/* Which input a matrix reads (by its role), and the mean square of it per column (n values)
 * into out; false when the pass does not see it. */
bool vkq__an_importance(const an_state *s, const char *name, float *out, uint64_t n);

#endif

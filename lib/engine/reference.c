/* The reference forward pass: the llama computation written for clarity, in plain C with double
 * accumulation. The GPU engine is tested against it on synthetic models of every weight format,
 * cache type, head layout and rope layout. Not fast, and not meant to be. */
#include "engine/engine.h"
#include "ops/layers.h"
#include "quant/quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref_matrix {
    float *w;            /* (rows, cols) dequantized */
    uint32_t rows, cols;
} ref_matrix;

typedef struct ref_layer {
    float *attn_norm, *ffn_norm, *bq, *bk, *bv; /* vectors; biases NULL when absent */
    ref_matrix wq, wk, wv, wo, gate, up, down;
    uint8_t *k_cache, *v_cache;  /* (n_head_kv, n_ctx, head_dim) in kv_type rows */
} ref_layer;

struct vkq__ref_state {
    vkq__hparams hp;
    vkq_type kv_type;
    uint64_t kv_row_bytes;
    uint32_t n_ctx, pos;
    ref_matrix embd, output;
    float *out_norm;
    ref_layer *layers;
    vkq__ref_observer observe;   /* NULL: none */
    void *observe_user;
    /* scratch */
    float *x, *xn, *q, *k, *v, *att, *g, *u, *scores, *row;
};

static float *load_vector(vkq__diag *d, const vkq_gguf *g, const char *name, bool required, vkq_status *st) {
    vkq_gguf_tensor_info t;
    if (vkq_gguf_find_tensor(g, name) < 0) {
        if (required) *st = vkq__fail(d, VKQ_ERR_BAD_FILE, "reference: tensor %s is missing", name);
        return NULL;
    }
    if ((*st = vkq_gguf_tensor_by_name(g, name, &t))) return NULL;
    float *v = malloc(t.elements * sizeof *v);
    if (!v) {
        *st = vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "reference: %s", name);
        return NULL;
    }
    vkq__dequantize_row(t.type, t.data, v, (int64_t)t.elements);
    return v;
}

static vkq_status load_matrix(vkq__diag *d, const vkq_gguf *g, const char *name, ref_matrix *m) {
    vkq_status st = VKQ_OK;
    vkq_gguf_tensor_info t;
    if ((st = vkq_gguf_tensor_by_name(g, name, &t))) return st;
    m->cols = (uint32_t)t.ne[0], m->rows = (uint32_t)t.ne[1];
    m->w = load_vector(d, g, name, true, &st);
    return st;
}

static vkq_status load_layer(vkq__diag *d, const vkq_gguf *g, uint32_t i, ref_layer *l) {
    char n[96];
    vkq_status st = VKQ_OK;
#define VEC(field, suffix, req) \
    snprintf(n, sizeof n, "blk.%u." suffix, i); \
    l->field = load_vector(d, g, n, req, &st); \
    if (st) return st;
#define MAT(field, suffix) \
    snprintf(n, sizeof n, "blk.%u." suffix, i); \
    if ((st = load_matrix(d, g, n, &l->field))) return st;
    VEC(attn_norm, "attn_norm.weight", true) VEC(ffn_norm, "ffn_norm.weight", true)
    VEC(bq, "attn_q.bias", false) VEC(bk, "attn_k.bias", false) VEC(bv, "attn_v.bias", false)
    MAT(wq, "attn_q.weight") MAT(wk, "attn_k.weight") MAT(wv, "attn_v.weight") MAT(wo, "attn_output.weight")
    MAT(gate, "ffn_gate.weight") MAT(up, "ffn_up.weight") MAT(down, "ffn_down.weight")
#undef VEC
#undef MAT
    return VKQ_OK;
}

vkq_status vkq__ref_create(vkq__diag *d, const vkq_gguf *g, uint32_t n_ctx, vkq_type kv_type,
                           vkq__ref_state **out) {
    *out = NULL;
    vkq__ref_state *s = vkq__calloc(1, sizeof *s);
    if (!s) return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "reference: no memory");
    vkq_status st = vkq__hparams_read(d, g, &s->hp);
    const vkq__hparams *hp = &s->hp;
    s->kv_type = kv_type == VKQ_TYPE_NONE ? VKQ_TYPE_F16 : kv_type;
    s->n_ctx = n_ctx;
    if (!st && !vkq__row_bytes(s->kv_type, hp->head_dim, &s->kv_row_bytes)) {
        st = vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "reference: cache type %s", vkq_type_name(kv_type));
    }
    if (!st) st = load_matrix(d, g, "token_embd.weight", &s->embd);
    if (!st) st = load_matrix(d, g, hp->tied_output ? "token_embd.weight" : "output.weight", &s->output);
    if (!st) s->out_norm = load_vector(d, g, "output_norm.weight", true, &st);
    if (!st && !(s->layers = vkq__calloc(hp->n_layer, sizeof *s->layers))) st = VKQ_ERR_OUT_OF_HOST_MEMORY;
    uint64_t cache_bytes = (uint64_t)hp->n_head_kv * n_ctx * s->kv_row_bytes;
    for (uint32_t i = 0; !st && i < hp->n_layer; i++) {
        st = load_layer(d, g, i, &s->layers[i]);
        s->layers[i].k_cache = calloc(1, cache_bytes ? cache_bytes : 1);
        s->layers[i].v_cache = calloc(1, cache_bytes ? cache_bytes : 1);
        if (!st && (!s->layers[i].k_cache || !s->layers[i].v_cache)) st = VKQ_ERR_OUT_OF_HOST_MEMORY;
    }
    uint32_t big = VKQ__MAX(VKQ__MAX(hp->n_embd, hp->n_ff), VKQ__MAX(hp->n_head * hp->head_dim, hp->n_vocab));
    float **scratch[] = {&s->x, &s->xn, &s->q, &s->k, &s->v, &s->att, &s->g, &s->u, &s->scores, &s->row};
    for (size_t i = 0; !st && i < VKQ__ARRAY_LEN(scratch); i++) {
        *scratch[i] = calloc(VKQ__MAX(big, n_ctx), sizeof(float));
        if (!*scratch[i]) st = VKQ_ERR_OUT_OF_HOST_MEMORY;
    }
    if (st) {
        if (st == VKQ_ERR_OUT_OF_HOST_MEMORY) vkq__fail(d, st, "reference: no memory");
        vkq__ref_destroy(s);
        return st;
    }
    *out = s;
    return VKQ_OK;
}

void vkq__ref_destroy(vkq__ref_state *s) {
    if (!s) return;
    if (s->layers) {
        for (uint32_t i = 0; i < s->hp.n_layer; i++) {
            ref_layer *l = &s->layers[i];
            float *fs[] = {l->attn_norm, l->ffn_norm, l->bq, l->bk, l->bv, l->wq.w, l->wk.w, l->wv.w,
                           l->wo.w, l->gate.w, l->up.w, l->down.w};
            for (size_t j = 0; j < VKQ__ARRAY_LEN(fs); j++) free(fs[j]);
            free(l->k_cache), free(l->v_cache);
        }
    }
    free(s->layers);
    if (s->output.w != s->embd.w) free(s->output.w);
    free(s->embd.w), free(s->out_norm);
    float *scratch[] = {s->x, s->xn, s->q, s->k, s->v, s->att, s->g, s->u, s->scores, s->row};
    for (size_t i = 0; i < VKQ__ARRAY_LEN(scratch); i++) free(scratch[i]);
    free(s);
}

const vkq__hparams *vkq__ref_hparams(const vkq__ref_state *s) { return &s->hp; }

/* out = W·x (+ bias) (+ out when accumulate). */
static void matvec(const ref_matrix *m, const float *x, const float *bias, float *out, bool accumulate) {
    for (uint32_t r = 0; r < m->rows; r++) {
        const float *w = m->w + (size_t)r * m->cols;
        double acc = 0;
        for (uint32_t c = 0; c < m->cols; c++) acc += (double)w[c] * x[c];
        if (bias) acc += bias[r];
        out[r] = (float)(accumulate ? out[r] + acc : acc);
    }
}

static void rope(const vkq__hparams *hp, float *x, uint32_t n_heads, uint32_t pos) {
    const vkq__rope r = {hp->rope == VKQ_ROPE_NEOX ? VKQ__ROPE_NEOX : VKQ__ROPE_NORMAL, hp->n_rot, hp->freq_base,
                         hp->freq_scale};
    vkq__ref_rope(&r, NULL, x, x, 1, n_heads, hp->head_dim, pos);
}

static void store_kv(vkq__ref_state *s, ref_layer *l) {
    const vkq__hparams *hp = &s->hp;
    for (uint32_t h = 0; h < hp->n_head_kv; h++) {
        uint64_t at = ((uint64_t)h * s->n_ctx + s->pos) * s->kv_row_bytes;
        vkq__quantize_row(s->kv_type, s->k + h * hp->head_dim, l->k_cache + at, hp->head_dim, NULL, VKQ__QUANT_CLOSED_FORM);
        vkq__quantize_row(s->kv_type, s->v + h * hp->head_dim, l->v_cache + at, hp->head_dim, NULL, VKQ__QUANT_CLOSED_FORM);
    }
}

static void attention(vkq__ref_state *s, ref_layer *l) {
    const vkq__hparams *hp = &s->hp;
    const uint32_t group = hp->n_head / hp->n_head_kv, hd = hp->head_dim, n = s->pos + 1;
    const double scale = 1.0 / sqrt((double)hd);
    for (uint32_t h = 0; h < hp->n_head; h++) {
        uint32_t kvh = h / group;
        const float *q = s->q + h * hd;
        double max = -INFINITY;
        for (uint32_t j = 0; j < n; j++) {
            vkq__dequantize_row(s->kv_type, l->k_cache + ((uint64_t)kvh * s->n_ctx + j) * s->kv_row_bytes, s->row, hd);
            double dot = 0;
            for (uint32_t i = 0; i < hd; i++) dot += (double)q[i] * s->row[i];
            s->scores[j] = (float)(dot * scale);
            if (s->scores[j] > max) max = s->scores[j];
        }
        double sum = 0;
        for (uint32_t j = 0; j < n; j++) sum += exp(s->scores[j] - max);
        float *o = s->att + h * hd;
        for (uint32_t i = 0; i < hd; i++) o[i] = 0;
        double acc[256] = {0};
        for (uint32_t j = 0; j < n; j++) {
            double p = exp(s->scores[j] - max) / sum;
            vkq__dequantize_row(s->kv_type, l->v_cache + ((uint64_t)kvh * s->n_ctx + j) * s->kv_row_bytes, s->row, hd);
            for (uint32_t i = 0; i < hd; i++) acc[i] += p * s->row[i];
        }
        for (uint32_t i = 0; i < hd; i++) o[i] = (float)acc[i];
    }
}

static void observe(vkq__ref_state *s, vkq__ref_point point, uint32_t il, const float *x, uint32_t n) {
    if (s->observe) s->observe(s->observe_user, point, il, s->pos, x, n);
}

static void layer(vkq__ref_state *s, uint32_t il) {
    const vkq__hparams *hp = &s->hp;
    ref_layer *l = &s->layers[il];
    observe(s, VKQ__REF_LAYER_IN, il, s->x, hp->n_embd);
    vkq__ref_rms_norm(s->x, l->attn_norm, s->xn, hp->n_embd, 1, hp->eps);
    observe(s, VKQ__REF_ATTN_IN, il, s->xn, hp->n_embd);
    matvec(&l->wq, s->xn, l->bq, s->q, false);
    matvec(&l->wk, s->xn, l->bk, s->k, false);
    matvec(&l->wv, s->xn, l->bv, s->v, false);
    rope(hp, s->q, hp->n_head, s->pos);
    rope(hp, s->k, hp->n_head_kv, s->pos);
    store_kv(s, l);
    attention(s, l);
    observe(s, VKQ__REF_ATTN_OUT_IN, il, s->att, hp->n_head * hp->head_dim);
    matvec(&l->wo, s->att, NULL, s->x, true);
    vkq__ref_rms_norm(s->x, l->ffn_norm, s->xn, hp->n_embd, 1, hp->eps);
    observe(s, VKQ__REF_FFN_IN, il, s->xn, hp->n_embd);
    matvec(&l->gate, s->xn, NULL, s->g, false);
    matvec(&l->up, s->xn, NULL, s->u, false);
    for (uint32_t i = 0; i < hp->n_ff; i++) {
        double g = s->g[i];
        s->g[i] = (float)(g / (1.0 + exp(-g)) * s->u[i]);
    }
    observe(s, VKQ__REF_FFN_DOWN_IN, il, s->g, hp->n_ff);
    matvec(&l->down, s->g, NULL, s->x, true);
    observe(s, VKQ__REF_LAYER_OUT, il, s->x, hp->n_embd);
}

vkq_status vkq__ref_eval(vkq__ref_state *s, const int32_t *tokens, uint32_t n, float *logits, bool all) {
    const vkq__hparams *hp = &s->hp;
    if (s->pos + n > s->n_ctx) return VKQ_ERR_LIMIT;
    for (uint32_t t = 0; t < n; t++) {
        if (tokens[t] < 0 || (uint32_t)tokens[t] >= hp->n_vocab) return VKQ_ERR_INVALID_ARGUMENT;
        memcpy(s->x, s->embd.w + (size_t)tokens[t] * hp->n_embd, hp->n_embd * sizeof(float));
        for (uint32_t i = 0; i < hp->n_layer; i++) layer(s, i);
        if (all || t + 1 == n) {
            vkq__ref_rms_norm(s->x, s->out_norm, s->xn, hp->n_embd, 1, hp->eps);
            observe(s, VKQ__REF_OUTPUT_IN, hp->n_layer, s->xn, hp->n_embd);
            matvec(&s->output, s->xn, NULL, all ? logits + (size_t)t * hp->n_vocab : logits, false);
        }
        s->pos++;
    }
    return VKQ_OK;
}

/* ---- for the analysis layer: observing the pass, substituting weights, one layer alone ---- */

void vkq__ref_set_observer(vkq__ref_state *s, vkq__ref_observer fn, void *user) {
    s->observe = fn;
    s->observe_user = user;
}

void vkq__ref_reset(vkq__ref_state *s) { s->pos = 0; }

float *vkq__ref_matrix(vkq__ref_state *s, const char *name, uint32_t *rows, uint32_t *cols) {
    ref_matrix *m = NULL;
    unsigned il = 0;
    int used = 0;
    if (!strcmp(name, "token_embd.weight")) m = &s->embd;
    else if (!strcmp(name, "output.weight") && !s->hp.tied_output) m = &s->output;
    else if (sscanf(name, "blk.%u.%n", &il, &used) == 1 && used > 0 && il < s->hp.n_layer) {
        ref_layer *l = &s->layers[il];
        const char *rest = name + used;
        static const char *const names[] = {"attn_q.weight", "attn_k.weight", "attn_v.weight",
                                            "attn_output.weight", "ffn_gate.weight",
                                            "ffn_up.weight", "ffn_down.weight"};
        ref_matrix *ms[] = {&l->wq, &l->wk, &l->wv, &l->wo, &l->gate, &l->up, &l->down};
        for (size_t i = 0; i < VKQ__ARRAY_LEN(names); i++) {
            if (!strcmp(rest, names[i])) m = ms[i];
        }
    }
    if (!m) return NULL;
    *rows = m->rows, *cols = m->cols;
    return m->w;
}

vkq_status vkq__ref_eval_layer(vkq__ref_state *s, uint32_t il, const float *x, uint32_t n, float *out) {
    const vkq__hparams *hp = &s->hp;
    if (il >= hp->n_layer || n > s->n_ctx) return VKQ_ERR_INVALID_ARGUMENT;
    for (s->pos = 0; s->pos < n; s->pos++) {
        memcpy(s->x, x + (size_t)s->pos * hp->n_embd, hp->n_embd * sizeof(float));
        layer(s, il);
        memcpy(out + (size_t)s->pos * hp->n_embd, s->x, hp->n_embd * sizeof(float));
    }
    s->pos = 0;
    return VKQ_OK;
}

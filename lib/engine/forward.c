/* The forward pass of a llama-family model, recorded as dispatches: the whole model as one
 * readable function, one layer per call of record_layer. */
#include "engine/session.h"
#include "ops/products.h"

/* A view of rows [first, first + count) of a (rows, width) float32 buffer. */
static vkq__view rows(const vkq__buffer *b, uint32_t first, uint32_t count, uint32_t width) {
    return vkq__subview(b, (uint64_t)first * width * 4, (uint64_t)count * width * 4);
}

static const vkq__view none = {VK_NULL_HANDLE, 0, 0};

/* The input of a product: x itself, or rms_norm(x)·weight computed on load (fused); and, when
 * xq.size != 0, the same quantized to Q8_1 for the integer-dot kernel (see dot_input). */
typedef struct input {
    vkq__view x, norm;
    float eps;
    vkq__view xq;
} input;

static vkq_status product(vkq__recording *rec, const vkq__weight *w, input in, uint32_t n, vkq__view y,
                          vkq__view add, uint32_t add_stride) {
    vkq__mul_mat_args a = {
        .wtype = w->type, .w = vkq__view_of(&w->buf),
        .m = (uint32_t)w->info.ne[1], .k = (uint32_t)w->info.ne[0],
        .x = in.x, .n = n, .y = y, .add = add, .add_stride = add_stride, .norm = in.norm, .norm_eps = in.eps,
        .xq = in.xq,
    };
    return vkq__op_mul_mat(rec, &a);
}

/* rms_norm(x)·weight as the input of the next products: fused when n is small, else written to
 * xn by its own dispatch (followed by the barrier the products need). See VKQ__FUSE_MAX_TOKENS. */
static vkq_status norm_input(const vkq_session *s, vkq__recording *rec, vkq__view x, const vkq__weight *weight,
                             vkq__view xn, uint32_t n, input *out) {
    const vkq__hparams *hp = &s->model->hp;
    if (n <= s->fuse_norm_max) {
        *out = (input){x, vkq__view_of(&weight->buf), hp->eps, none};
        return VKQ_OK;
    }
    *out = (input){xn, none, 0.0f, none};
    vkq_status st = vkq__op_rms_norm(rec, x, vkq__view_of(&weight->buf), xn, hp->n_embd, n, hp->eps);
    vkq__recording_barrier(rec);
    return st;
}

/* Quantizes a product input (k floats per token, the norm applied if fused) into s->xq for the
 * integer-dot kernel, where the session uses it (s->dot_max) and one of the n_w weights that
 * read the input has the kernel; else leaves the input float. The barrier every producer of
 * the input records also orders the quantization after the last products that read s->xq; the
 * barrier here orders it before the products. */
static vkq_status dot_input(vkq_session *s, vkq__recording *rec, input *in, uint32_t k, uint32_t n,
                            const vkq__weight *const *w, size_t n_w) {
    if (n > s->dot_max) return VKQ_OK; /* first: the default (dot off) does no lookups */
    bool any = false;
    for (size_t i = 0; i < n_w && !any; i++) any = vkq__mul_mat_dot_supported(s->ctx, w[i]->type);
    if (!any) return VKQ_OK;
    in->xq = vkq__subview(&s->xq, 0, vkq__q8_1_bytes(k, n));
    vkq_status st = vkq__op_quantize_q8_1(rec, in->x, k, n, in->norm, in->eps, in->xq);
    vkq__recording_barrier(rec);
    return st;
}

/* gate = silu(W_gate·in) * (W_up·in): in one pass over both matrices where the fused kernel
 * applies (decode, the same format and shape), else two products and a swiglu pass. */
static vkq_status ffn_gate_up(vkq_session *s, vkq__recording *rec, const vkq__layer *l, input in, uint32_t n,
                              vkq__view gate, vkq__view up) {
    const vkq__weight *wg = &l->w_gate, *wu = &l->w_up;
    if (n <= s->fuse_ffn_max && wg->type == wu->type && wg->info.ne[0] == wu->info.ne[0] &&
        wg->info.ne[1] == wu->info.ne[1] && vkq__mul_mat_swiglu_supported(s->ctx, wg->type)) {
        return vkq__op_mul_mat_swiglu(rec, wg->type, vkq__view_of(&wg->buf), vkq__view_of(&wu->buf),
                                      (uint32_t)wg->info.ne[1], (uint32_t)wg->info.ne[0], in.x, n, gate,
                                      in.norm, in.eps);
    }
    const vkq__weight *both[] = {wg, wu};
    vkq_status st = dot_input(s, rec, &in, (uint32_t)wg->info.ne[0], n, both, 2);
    if (st || (st = product(rec, wg, in, n, gate, none, 0)) || (st = product(rec, wu, in, n, up, none, 0))) return st;
    vkq__recording_barrier(rec);
    return vkq__op_swiglu(rec, gate, up, gate, s->model->hp.n_ff, n, 0, 0);
}

/* Importance collection: the column sums of x^2 of a product input, into buffer `slot`. */
static vkq_status collect(vkq_session *s, vkq__recording *rec, uint32_t slot, vkq__view x, uint32_t k, uint32_t n) {
    return s->imp ? vkq__op_sumsq_accumulate(rec, x, k, n, k, vkq__view_of(&s->imp[slot])) : VKQ_OK;
}

static vkq_status record_layer(vkq_session *s, vkq__recording *rec, uint32_t il, uint32_t n) {
    const vkq__hparams *hp = &s->model->hp;
    const vkq__layer *l = &s->model->layers[il];
    const uint32_t E = hp->n_embd, Q = hp->n_head * hp->head_dim, KV = hp->n_head_kv * hp->head_dim;
    const vkq__rope rope = {hp->rope == VKQ_ROPE_NEOX ? VKQ__ROPE_NEOX : VKQ__ROPE_NORMAL, hp->n_rot,
                            hp->freq_base, hp->freq_scale};
    vkq__view x = rows(&s->x, 0, n, E), xn = rows(&s->xn, 0, n, E);
    vkq__view q = rows(&s->q, 0, n, Q), k = rows(&s->k, 0, n, KV), v = rows(&s->v, 0, n, KV);
    vkq__view att = rows(&s->att, 0, n, Q), params = vkq__view_of(&s->params);
    vkq__view kc = vkq__view_of(&s->k_cache[il]), vc = vkq__view_of(&s->v_cache[il]);
    const uint32_t imp = il * VKQ__IMP_PER_LAYER;
    vkq_status st;

    /* attention block: x += Wo · attention(rope(Wq·norm(x)), cache ← (rope(Wk·norm(x)), Wv·norm(x))) */
    input in;
    const vkq__weight *qkv[] = {&l->wq, &l->wk, &l->wv};
    if ((st = norm_input(s, rec, x, &l->attn_norm, xn, n, &in)) ||
        (st = collect(s, rec, imp + VKQ__IMP_ATTN_IN, xn, E, n)) || (st = dot_input(s, rec, &in, E, n, qkv, 3))) {
        return st;
    }
    if ((st = product(rec, &l->wq, in, n, q, l->bq.present ? vkq__view_of(&l->bq.buf) : none, 0)) ||
        (st = product(rec, &l->wk, in, n, k, l->bk.present ? vkq__view_of(&l->bk.buf) : none, 0)) ||
        (st = product(rec, &l->wv, in, n, v, l->bv.present ? vkq__view_of(&l->bv.buf) : none, 0))) {
        return st;
    }
    vkq__recording_barrier(rec);
    if ((st = vkq__op_rope(rec, &rope, none, q, params, q, n, hp->n_head, hp->head_dim)) ||
        (st = vkq__op_kv_write(rec, &s->kv, &rope, none, k, v, params, kc, vc, n))) {
        return st;
    }
    vkq__recording_barrier(rec);
    st = n == 1 ? vkq__op_attention_decode(rec, &s->kv, q, kc, vc, params, vkq__view_of(&s->scratch), att,
                                           hp->n_head, s->attn_splits, 0.0f)
                : vkq__op_attention_prefill(rec, &s->kv, q, kc, vc, params, att, n, hp->n_head, 0.0f);
    if (st) return st;
    vkq__recording_barrier(rec);
    const vkq__weight *wo = &l->wo;
    input in_att = {att, none, 0.0f, none};
    if ((st = dot_input(s, rec, &in_att, Q, n, &wo, 1)) || (st = product(rec, wo, in_att, n, x, x, E)) ||
        (st = collect(s, rec, imp + VKQ__IMP_ATTN_OUT, att, Q, n))) {
        return st;
    }
    vkq__recording_barrier(rec);

    /* feed-forward block: x += W_down · (silu(W_gate·norm(x)) * W_up·norm(x)) */
    vkq__view gate = rows(&s->gate, 0, n, hp->n_ff), up = rows(&s->up, 0, n, hp->n_ff);
    if ((st = norm_input(s, rec, x, &l->ffn_norm, xn, n, &in)) ||
        (st = collect(s, rec, imp + VKQ__IMP_FFN_IN, xn, E, n))) {
        return st;
    }
    if ((st = ffn_gate_up(s, rec, l, in, n, gate, up))) return st;
    vkq__recording_barrier(rec);
    const vkq__weight *wd = &l->w_down;
    input in_act = {gate, none, 0.0f, none};
    if ((st = dot_input(s, rec, &in_act, hp->n_ff, n, &wd, 1)) || (st = product(rec, wd, in_act, n, x, x, E)) ||
        (st = collect(s, rec, imp + VKQ__IMP_FFN_ACT, gate, hp->n_ff, n))) {
        return st;
    }
    vkq__recording_barrier(rec);
    return VKQ_OK;
}

vkq_status vkq__forward_record(vkq_session *s, vkq__recording *rec, uint32_t n, uint32_t n_logits) {
    const vkq_model *m = s->model;
    const vkq__hparams *hp = &m->hp;
    const uint32_t E = hp->n_embd;
    vkq_status st = vkq__op_get_rows(rec, m->tok_embd.type, vkq__view_of(&m->tok_embd.buf), E, hp->n_vocab,
                                     vkq__subview(&s->ids, 0, (uint64_t)n * 4), n, rows(&s->x, 0, n, E));
    if (st) return st;
    vkq__recording_barrier(rec);
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        if ((st = record_layer(s, rec, il, n))) return vkq__wrap(&s->ctx->diag, st, "layer %u", il);
    }
    /* Only the tokens whose logits are wanted go through the output projection. */
    vkq__view last = rows(&s->x, n - n_logits, n_logits, E), xn = rows(&s->xn, 0, n_logits, E);
    input in;
    const vkq__weight *out = &m->output;
    if ((st = norm_input(s, rec, last, &m->out_norm, xn, n_logits, &in)) ||
        (st = collect(s, rec, hp->n_layer * VKQ__IMP_PER_LAYER, xn, E, n_logits)) ||
        (st = dot_input(s, rec, &in, E, n_logits, &out, 1))) {
        return st;
    }
    vkq__view logits = rows(&s->logits, 0, n_logits, hp->n_vocab);
    if ((st = product(rec, &m->output, in, n_logits, logits, none, 0))) return st;
    vkq__recording_barrier(rec);
    /* Every row's argmax: a view of the last row alone could break the offset alignment. */
    return vkq__op_argmax(rec, logits, vkq__subview(&s->argmax, 0, (uint64_t)n_logits * 4), hp->n_vocab, n_logits);
}

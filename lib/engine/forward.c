/* The forward pass of a llama-family model, recorded as dispatches: the whole model as one
 * readable function, one layer per call of record_layer. */
#include "engine/session.h"
#include "ops/products.h"

/* A view of rows [first, first + count) of a (rows, width) float32 buffer. */
static vkq__view rows(const vkq__buffer *b, uint32_t first, uint32_t count, uint32_t width) {
    return vkq__subview(b, (uint64_t)first * width * 4, (uint64_t)count * width * 4);
}

static const vkq__view none = {VK_NULL_HANDLE, 0, 0};

static vkq_status product(vkq__recording *rec, const vkq__weight *w, vkq__view x, uint32_t n,
                          vkq__view y, vkq__view add, uint32_t add_stride) {
    vkq__mul_mat_args a = {
        .wtype = w->type, .w = vkq__view_of(&w->buf),
        .m = (uint32_t)w->info.ne[1], .k = (uint32_t)w->info.ne[0],
        .x = x, .n = n, .y = y, .add = add, .add_stride = add_stride,
    };
    return vkq__op_mul_mat(rec, &a);
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
    vkq_status st;

    /* attention block: x += Wo · attention(rope(Wq·norm(x)), cache ← (rope(Wk·norm(x)), Wv·norm(x))) */
    if ((st = vkq__op_rms_norm(rec, x, vkq__view_of(&l->attn_norm.buf), xn, E, n, hp->eps))) return st;
    vkq__recording_barrier(rec);
    if ((st = product(rec, &l->wq, xn, n, q, l->bq.present ? vkq__view_of(&l->bq.buf) : none, 0)) ||
        (st = product(rec, &l->wk, xn, n, k, l->bk.present ? vkq__view_of(&l->bk.buf) : none, 0)) ||
        (st = product(rec, &l->wv, xn, n, v, l->bv.present ? vkq__view_of(&l->bv.buf) : none, 0))) {
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
    if ((st = product(rec, &l->wo, att, n, x, x, E))) return st;
    vkq__recording_barrier(rec);

    /* feed-forward block: x += W_down · (silu(W_gate·norm(x)) * W_up·norm(x)) */
    vkq__view gate = rows(&s->gate, 0, n, hp->n_ff), up = rows(&s->up, 0, n, hp->n_ff);
    if ((st = vkq__op_rms_norm(rec, x, vkq__view_of(&l->ffn_norm.buf), xn, E, n, hp->eps))) return st;
    vkq__recording_barrier(rec);
    if ((st = product(rec, &l->w_gate, xn, n, gate, none, 0)) || (st = product(rec, &l->w_up, xn, n, up, none, 0))) {
        return st;
    }
    vkq__recording_barrier(rec);
    if ((st = vkq__op_swiglu(rec, gate, up, gate, hp->n_ff, n, 0, 0))) return st;
    vkq__recording_barrier(rec);
    if ((st = product(rec, &l->w_down, gate, n, x, x, E))) return st;
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
    if ((st = vkq__op_rms_norm(rec, last, vkq__view_of(&m->out_norm.buf), xn, E, n_logits, hp->eps))) return st;
    vkq__recording_barrier(rec);
    vkq__view logits = rows(&s->logits, 0, n_logits, hp->n_vocab);
    if ((st = product(rec, &m->output, xn, n_logits, logits, none, 0))) return st;
    vkq__recording_barrier(rec);
    /* Every row's argmax: a view of the last row alone could break the offset alignment. */
    return vkq__op_argmax(rec, logits, vkq__subview(&s->argmax, 0, (uint64_t)n_logits * 4), hp->n_vocab, n_logits);
}

/* Loading a llama-family model: metadata, tensor checks, weights uploaded to the device. */
#include "engine/engine.h"
#include "ops/products.h"
#include "quant/quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct loader {
    vkq_model *m;
    vkq__diag *d;
    uint64_t bytes_total, bytes_done;
    vkq_progress_fn progress;
    void *user;
} loader;

static vkq_status find(loader *L, const char *name, bool required, vkq__weight *w) {
    memset(w, 0, sizeof *w);
    if (vkq_gguf_find_tensor(L->m->gguf, name) < 0) {
        if (!required) return VKQ_OK;
        return vkq__fail(L->d, VKQ_ERR_BAD_FILE, "model: tensor %s is missing", name);
    }
    vkq_status st = vkq_gguf_tensor_by_name(L->m->gguf, name, &w->info);
    if (st) return st;
    w->present = true;
    w->type = w->info.n_dims == 1 ? VKQ_TYPE_F32 : w->info.type;
    L->bytes_total += w->info.bytes;
    return VKQ_OK;
}

/* Checks a tensor's shape: ne0 is its row length (GGUF order). ne1 == 0 for a vector. */
static vkq_status expect(loader *L, const vkq__weight *w, uint64_t ne0, uint64_t ne1) {
    if (!w->present) return VKQ_OK;
    const vkq_gguf_tensor_info *t = &w->info;
    bool ok = ne1 ? (t->n_dims == 2 && t->ne[0] == ne0 && t->ne[1] == ne1) : (t->n_dims == 1 && t->ne[0] == ne0);
    if (!ok) {
        return vkq__fail(L->d, VKQ_ERR_BAD_FILE,
                         "model: tensor %s has shape [%llu, %llu] (%u dims), expected [%llu, %llu]", t->name,
                         (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], t->n_dims,
                         (unsigned long long)ne0, (unsigned long long)ne1);
    }
    if (ne1 && !vkq__mul_mat_supported(L->m->ctx, t->type)) {
        return vkq__fail(L->d, VKQ_ERR_UNSUPPORTED,
                         "model: tensor %s is %s, which this device/build cannot multiply", t->name,
                         vkq_type_name(t->type));
    }
    return VKQ_OK;
}

static vkq_status find_layer(loader *L, uint32_t i, vkq__layer *l) {
    const vkq__hparams *hp = &L->m->hp;
    const uint32_t q = hp->n_head * hp->head_dim, kv = hp->n_head_kv * hp->head_dim;
    char n[96];
    vkq_status st = VKQ_OK;
#define FIND(field, suffix, req)                                      \
    if (!st) {                                                        \
        snprintf(n, sizeof n, "blk.%u.%s", i, suffix);                \
        st = find(L, n, req, &l->field);                              \
    }
    FIND(attn_norm, "attn_norm.weight", true)
    FIND(wq, "attn_q.weight", true) FIND(wk, "attn_k.weight", true) FIND(wv, "attn_v.weight", true)
    FIND(wo, "attn_output.weight", true)
    FIND(bq, "attn_q.bias", hp->qkv_bias) FIND(bk, "attn_k.bias", hp->qkv_bias) FIND(bv, "attn_v.bias", hp->qkv_bias)
    FIND(ffn_norm, "ffn_norm.weight", true)
    FIND(w_gate, "ffn_gate.weight", true) FIND(w_up, "ffn_up.weight", true) FIND(w_down, "ffn_down.weight", true)
#undef FIND
    if (st) return st;
    if ((st = expect(L, &l->attn_norm, hp->n_embd, 0)) || (st = expect(L, &l->ffn_norm, hp->n_embd, 0)) ||
        (st = expect(L, &l->wq, hp->n_embd, q)) || (st = expect(L, &l->wk, hp->n_embd, kv)) ||
        (st = expect(L, &l->wv, hp->n_embd, kv)) || (st = expect(L, &l->wo, q, hp->n_embd)) ||
        (st = expect(L, &l->bq, q, 0)) || (st = expect(L, &l->bk, kv, 0)) || (st = expect(L, &l->bv, kv, 0)) ||
        (st = expect(L, &l->w_gate, hp->n_embd, hp->n_ff)) || (st = expect(L, &l->w_up, hp->n_embd, hp->n_ff)) ||
        (st = expect(L, &l->w_down, hp->n_ff, hp->n_embd))) {
        return st;
    }
    return VKQ_OK;
}

static vkq_status upload(loader *L, vkq__weight *w) {
    if (!w->present || w->buf.block) return VKQ_OK;
    vkq_context *ctx = L->m->ctx;
    vkq_status st;
    if (w->info.n_dims == 1 && w->info.type != VKQ_TYPE_F32) {
        /* Norms and biases are tiny: keep them F32 so every kernel reads one type. */
        float *f = malloc(w->info.ne[0] * sizeof *f);
        if (!f) return vkq__fail(L->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "model: %s", w->info.name);
        vkq__dequantize_row(w->info.type, w->info.data, f, (int64_t)w->info.ne[0]);
        st = vkq__buffer_create(ctx, w->info.ne[0] * 4, VKQ__MEM_DEVICE, w->info.name, &w->buf);
        if (!st) st = vkq__buffer_upload(ctx, &w->buf, 0, f, w->info.ne[0] * 4);
        free(f);
    } else {
        st = vkq__buffer_create(ctx, w->info.bytes, VKQ__MEM_DEVICE, w->info.name, &w->buf);
        if (!st) st = vkq__buffer_upload(ctx, &w->buf, 0, w->info.data, w->info.bytes);
    }
    if (st) return vkq__wrap(L->d, st, "model: uploading %s", w->info.name);
    L->bytes_done += w->info.bytes;
    if (L->progress && L->progress((float)((double)L->bytes_done / (double)(L->bytes_total ? L->bytes_total : 1)), L->user)) {
        return vkq__fail(L->d, VKQ_ERR_STATE, "model: loading cancelled");
    }
    return VKQ_OK;
}

static vkq_status upload_all(loader *L) {
    vkq_model *m = L->m;
    vkq_status st = upload(L, &m->tok_embd);
    if (!st) st = upload(L, &m->out_norm);
    if (!st && !m->hp.tied_output) st = upload(L, &m->output);
    for (uint32_t i = 0; !st && i < m->hp.n_layer; i++) {
        vkq__weight *ws[] = {&m->layers[i].attn_norm, &m->layers[i].wq, &m->layers[i].wk, &m->layers[i].wv,
                             &m->layers[i].wo, &m->layers[i].bq, &m->layers[i].bk, &m->layers[i].bv,
                             &m->layers[i].ffn_norm, &m->layers[i].w_gate, &m->layers[i].w_up,
                             &m->layers[i].w_down};
        for (size_t j = 0; !st && j < VKQ__ARRAY_LEN(ws); j++) st = upload(L, ws[j]);
    }
    if (!st && m->hp.tied_output) m->output = m->tok_embd; /* shares the buffer: not freed twice */
    return st;
}

static void fill_info(vkq_model *m) {
    vkq_model_info *i = &m->info;
    const vkq__hparams *hp = &m->hp;
    memset(i, 0, sizeof *i);
    snprintf(i->architecture, sizeof i->architecture, "%s", hp->arch);
    const char *name = NULL;
    if (vkq_gguf_find_key(m->gguf, "general.name") >= 0 && !vkq_gguf_get_string(m->gguf, "general.name", &name, NULL)) {
        snprintf(i->name, sizeof i->name, "%s", name);
    }
    i->n_vocab = hp->n_vocab, i->n_ctx_train = hp->n_ctx_train, i->n_embd = hp->n_embd;
    i->n_layer = hp->n_layer, i->n_head = hp->n_head, i->n_head_kv = hp->n_head_kv;
    i->head_dim = hp->head_dim, i->n_ff = hp->n_ff, i->n_rot = hp->n_rot;
    i->rope_freq_base = hp->freq_base, i->rope_freq_scale = hp->freq_scale, i->norm_eps = hp->eps;
    i->rope_type = hp->rope, i->tied_output = hp->tied_output, i->has_qkv_bias = hp->qkv_bias;
    uint64_t per_type[VKQ_TYPE_COUNT] = {0};
    for (uint64_t t = 0; t < vkq_gguf_tensor_count(m->gguf); t++) {
        vkq_gguf_tensor_info ti;
        if (vkq_gguf_tensor(m->gguf, t, &ti)) continue;
        i->n_params += ti.elements;
        i->weight_bytes += ti.bytes;
        if ((unsigned)ti.type < VKQ_TYPE_COUNT) per_type[ti.type] += ti.bytes;
    }
    for (int t = 1; t < VKQ_TYPE_COUNT; t++) {
        if (per_type[t] > per_type[i->dominant_type]) i->dominant_type = (vkq_type)t;
    }
    uint32_t v;
    i->bos = vkq_gguf_find_key(m->gguf, "tokenizer.ggml.bos_token_id") >= 0 &&
                     !vkq_gguf_get_u32(m->gguf, "tokenizer.ggml.bos_token_id", &v) ? v : UINT32_MAX;
    i->eos = vkq_gguf_find_key(m->gguf, "tokenizer.ggml.eos_token_id") >= 0 &&
                     !vkq_gguf_get_u32(m->gguf, "tokenizer.ggml.eos_token_id", &v) ? v : UINT32_MAX;
}

static vkq_status load(loader *L, const char *path) {
    vkq_model *m = L->m;
    vkq_status st = vkq_gguf_open(m->ctx, path, &m->gguf);
    if (st) return st;
    if ((st = vkq__hparams_read(L->d, m->gguf, &m->hp))) return vkq__wrap(L->d, st, "%s", path);
    const vkq__hparams *hp = &m->hp;
    m->layers = vkq__calloc(hp->n_layer, sizeof *m->layers);
    if (!m->layers) return vkq__fail(L->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "model: layers");
    if ((st = find(L, "token_embd.weight", true, &m->tok_embd)) ||
        (st = find(L, "output_norm.weight", true, &m->out_norm)) ||
        (st = find(L, "output.weight", false, &m->output))) {
        return st;
    }
    for (uint32_t i = 0; i < hp->n_layer; i++) {
        if ((st = find_layer(L, i, &m->layers[i]))) return vkq__wrap(L->d, st, "%s", path);
    }
    if ((st = expect(L, &m->tok_embd, hp->n_embd, hp->n_vocab)) || (st = expect(L, &m->out_norm, hp->n_embd, 0)) ||
        (st = expect(L, &m->output, hp->n_embd, hp->n_vocab))) {
        return vkq__wrap(L->d, st, "%s", path);
    }
    fill_info(m);
    if ((st = vkq__model_tokenizer_load(m))) return vkq__wrap(L->d, st, "%s", path);
    return upload_all(L);
}

vkq_status vkq_model_load(vkq_context *ctx, const vkq_model_desc *desc, vkq_model **out) {
    vkq__diag *d = vkq__context_diag(ctx);
    if (!ctx || !desc || !out || !desc->path) {
        if (out) *out = NULL;
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "vkq_model_load: %s is NULL",
                         !ctx ? "ctx" : !desc ? "desc" : !out ? "out" : "desc->path");
    }
    *out = NULL;
    for (size_t i = 0; i < VKQ__ARRAY_LEN(desc->reserved); i++) {
        if (desc->reserved[i]) return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "vkq_model_load: desc.reserved[%zu] must be zero", i);
    }
    if (!ctx->device) return vkq__fail(d, VKQ_ERR_STATE, "vkq_model_load: the context has no device");
    vkq_model *m = vkq__calloc(1, sizeof *m);
    if (!m) return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "vkq_model_load: no memory");
    m->ctx = ctx;
    loader L = {.m = m, .d = d, .progress = desc->progress, .user = desc->progress_user_data};
    vkq_status st = load(&L, desc->path);
    if (st) {
        vkq_model_destroy(m);
        return st;
    }
    *out = m;
    return VKQ_OK;
}

static void release(vkq_model *m, vkq__weight *w) {
    if (w->present) vkq__buffer_destroy(m->ctx, &w->buf);
}

void vkq_model_destroy(vkq_model *m) {
    if (!m) return;
    if (m->layers) {
        for (uint32_t i = 0; i < m->hp.n_layer; i++) {
            vkq__layer *l = &m->layers[i];
            vkq__weight *ws[] = {&l->attn_norm, &l->wq, &l->wk, &l->wv, &l->wo, &l->bq, &l->bk,
                                 &l->bv, &l->ffn_norm, &l->w_gate, &l->w_up, &l->w_down};
            for (size_t j = 0; j < VKQ__ARRAY_LEN(ws); j++) release(m, ws[j]);
        }
    }
    release(m, &m->tok_embd);
    release(m, &m->out_norm);
    if (!m->hp.tied_output) release(m, &m->output);
    free(m->layers);
    vkq__model_tokenizer_free(m);
    vkq_gguf_close(m->gguf);
    free(m);
}

vkq_status vkq_model_info_get(const vkq_model *m, vkq_model_info *out) {
    if (!m || !out) return VKQ_ERR_INVALID_ARGUMENT;
    *out = m->info;
    return VKQ_OK;
}

const struct vkq_gguf *vkq_model_gguf(const vkq_model *m) { return m ? m->gguf : NULL; }

const vkq__weight *vkq__model_output_weight(const vkq_model *m) { return &m->output; }

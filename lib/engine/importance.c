/* Saving what a session collected with desc.collect_importance: the mean of x^2 of each input
 * column of every weight matrix (an importance matrix), in the GGUF layout vkq_model_quantize
 * reads: one F32 tensor "<weight name>.importance" per matrix. Matrices that read the same
 * input (q, k, v; gate, up) get the same values. */
#include "engine/session.h"
#include "gguf/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct imp_entry {
    const vkq__weight *w;
    uint32_t slot;
} imp_entry;

/* The matrices of a layer and the buffer holding their input's sums. */
static uint32_t layer_entries(const vkq__layer *l, uint32_t il, imp_entry *e) {
    const uint32_t b = il * VKQ__IMP_PER_LAYER;
    const imp_entry list[] = {
        {&l->wq, b + VKQ__IMP_ATTN_IN},     {&l->wk, b + VKQ__IMP_ATTN_IN},
        {&l->wv, b + VKQ__IMP_ATTN_IN},     {&l->wo, b + VKQ__IMP_ATTN_OUT},
        {&l->w_gate, b + VKQ__IMP_FFN_IN},  {&l->w_up, b + VKQ__IMP_FFN_IN},
        {&l->w_down, b + VKQ__IMP_FFN_ACT},
    };
    memcpy(e, list, sizeof list);
    return VKQ__ARRAY_LEN(list);
}

vkq_status vkq_session_save_importance(vkq_session *s, const char *path) {
    if (!s || !path) {
        return vkq__fail(s ? &s->ctx->diag : NULL, VKQ_ERR_INVALID_ARGUMENT, "vkq_session_save_importance: %s is NULL",
                         s ? "path" : "session");
    }
    vkq__diag *d = &s->ctx->diag;
    if (!s->imp) {
        return vkq__fail(d, VKQ_ERR_STATE, "vkq_session_save_importance: the session was created without "
                         "collect_importance");
    }
    if (!s->imp_rows) return vkq__fail(d, VKQ_ERR_STATE, "vkq_session_save_importance: nothing evaluated yet");
    const vkq_model *m = s->model;
    const vkq__hparams *hp = &m->hp;
    const uint32_t n_buf = hp->n_layer * VKQ__IMP_PER_LAYER + 1;
    float **means = vkq__calloc(n_buf, sizeof *means);
    vkq__gguf_writer *w = NULL;
    vkq_status st = means ? vkq__gguf_writer_create(d, &w)
                          : vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "vkq_session_save_importance: no memory");
    /* Sums to means: the output projection saw only the rows whose logits were computed. */
    for (uint32_t i = 0; !st && i < n_buf; i++) {
        uint64_t bytes = s->imp[i].size;
        double rows = (double)(i == n_buf - 1 ? s->imp_out_rows : s->imp_rows);
        if (!(means[i] = malloc(bytes))) {
            st = vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "vkq_session_save_importance: no memory");
            break;
        }
        st = vkq__buffer_download(s->ctx, &s->imp[i], 0, means[i], bytes);
        for (uint64_t c = 0; !st && c < bytes / 4; c++) means[i][c] = (float)(means[i][c] / rows);
    }
    if (!st) st = vkq__gguf_writer_add_string(w, "general.type", "imatrix");
    if (!st) st = vkq__gguf_writer_add_u64(w, "vkq.importance.tokens", s->imp_rows);
    if (!st) st = vkq__gguf_writer_add_u64(w, "vkq.importance.output_tokens", s->imp_out_rows);
    char name[192];
    for (uint32_t il = 0; !st && il < hp->n_layer; il++) {
        imp_entry e[8];
        uint32_t n = layer_entries(&m->layers[il], il, e);
        for (uint32_t j = 0; !st && j < n; j++) {
            snprintf(name, sizeof name, "%s.importance", e[j].w->info.name);
            uint64_t ne = e[j].w->info.ne[0];
            st = vkq__gguf_writer_add_tensor(w, name, VKQ_TYPE_F32, 1, &ne, means[e[j].slot]);
        }
    }
    if (!st) {
        /* A tied output projection is token_embd: its importance is the output's. */
        const vkq__weight *out = hp->tied_output ? &m->tok_embd : &m->output;
        snprintf(name, sizeof name, "%s.importance", out->info.name);
        uint64_t ne = hp->n_embd;
        st = vkq__gguf_writer_add_tensor(w, name, VKQ_TYPE_F32, 1, &ne, means[n_buf - 1]);
    }
    if (!st) st = vkq__gguf_writer_write_file(w, path);
    vkq__gguf_writer_destroy(w);
    for (uint32_t i = 0; means && i < n_buf; i++) free(means[i]);
    free(means);
    return st ? vkq__wrap(d, st, "vkq_session_save_importance %s", path) : VKQ_OK;
}

vkq_status vkq_session_clear_importance(vkq_session *s) {
    if (!s) return vkq__fail(NULL, VKQ_ERR_INVALID_ARGUMENT, "vkq_session_clear_importance: session is NULL");
    if (!s->imp) {
        return vkq__fail(&s->ctx->diag, VKQ_ERR_STATE, "vkq_session_clear_importance: the session was created "
                         "without collect_importance");
    }
    for (uint32_t i = 0; i < s->model->hp.n_layer * VKQ__IMP_PER_LAYER + 1; i++) {
        vkq_status st = vkq__buffer_fill(s->ctx, &s->imp[i], 0);
        if (st) return st;
    }
    s->imp_rows = s->imp_out_rows = 0;
    return VKQ_OK;
}

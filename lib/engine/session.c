/* Sessions: KV cache and activations on the device, evaluation in prefill batches or by
 * replaying the recorded decode step, logits and sampling. */
#include "engine/session.h"
#include "ops/products.h"

#include <stdlib.h>
#include <string.h>

static vkq_status check_desc(vkq_model *m, const vkq_session_desc *d, vkq_session_desc *out) {
    vkq__diag *diag = &m->ctx->diag;
    *out = d ? *d : (vkq_session_desc){0};
    for (size_t i = 0; i < VKQ__ARRAY_LEN(out->reserved); i++) {
        if (out->reserved[i]) {
            return vkq__fail(diag, VKQ_ERR_INVALID_ARGUMENT, "vkq_session_create: desc.reserved[%zu] must be zero", i);
        }
    }
    if (!out->n_ctx) out->n_ctx = VKQ__MIN(m->hp.n_ctx_train ? m->hp.n_ctx_train : 4096, 4096u);
    if (!out->n_batch) out->n_batch = 256;
    if (out->n_batch > out->n_ctx) out->n_batch = out->n_ctx;
    if (out->kv_type == VKQ_TYPE_NONE) out->kv_type = VKQ_TYPE_F16;
    if (out->kv_type != VKQ_TYPE_F16 && out->kv_type != VKQ_TYPE_Q8_0 && out->kv_type != VKQ_TYPE_Q4_0) {
        return vkq__fail(diag, VKQ_ERR_INVALID_ARGUMENT,
                         "vkq_session_create: KV cache type %s (use f16, q8_0 or q4_0)", vkq_type_name(out->kv_type));
    }
    if (out->n_ctx > (1u << 24) || out->n_batch > 8192) {
        return vkq__fail(diag, VKQ_ERR_INVALID_ARGUMENT, "vkq_session_create: n_ctx %u / n_batch %u too large",
                         out->n_ctx, out->n_batch);
    }
    uint32_t align = m->ctx->caps.info.min_storage_buffer_offset_alignment;
    if (align && (m->hp.n_embd * 4u) % align) {
        return vkq__fail(diag, VKQ_ERR_UNSUPPORTED,
                         "vkq_session_create: rows of %u floats are not aligned to the device's %u-byte "
                         "storage offset alignment", m->hp.n_embd, align);
    }
    return VKQ_OK;
}

static vkq_status create_buffers(vkq_session *s) {
    vkq_context *ctx = s->ctx;
    const vkq__hparams *hp = &s->model->hp;
    const uint64_t B = s->n_batch, Q = hp->n_head * hp->head_dim, KV = hp->n_head_kv * hp->head_dim;
    /* All-logits batches must fit one binding: limit the rows the logits buffer holds. */
    uint64_t per_row = (uint64_t)hp->n_vocab * 4;
    s->logit_rows = (uint32_t)VKQ__MAX(1, VKQ__MIN(B, ctx->caps.max_storage_range / per_row));
    /* The longest input of an integer-dot product: norm(x), the attention output or the FFN's. */
    const uint32_t xq_k = (uint32_t)VKQ__MAX(VKQ__MAX((uint64_t)hp->n_embd, Q), (uint64_t)hp->n_ff);
    struct { vkq__buffer *b; uint64_t size; vkq__mem_kind kind; const char *what; } list[] = {
        {&s->params, sizeof(vkq__step_params), VKQ__MEM_HOST, "step parameters"},
        {&s->ids, B * 4, VKQ__MEM_HOST, "token ids"},
        {&s->argmax, s->logit_rows * 4ull, VKQ__MEM_HOST, "argmax"},
        {&s->x, B * hp->n_embd * 4, VKQ__MEM_DEVICE, "residual"},
        {&s->xn, B * hp->n_embd * 4, VKQ__MEM_DEVICE, "normed"},
        {&s->q, B * Q * 4, VKQ__MEM_DEVICE, "q"},
        {&s->k, B * KV * 4, VKQ__MEM_DEVICE, "k"},
        {&s->v, B * KV * 4, VKQ__MEM_DEVICE, "v"},
        {&s->att, B * Q * 4, VKQ__MEM_DEVICE, "attention output"},
        {&s->gate, B * hp->n_ff * 4, VKQ__MEM_DEVICE, "ffn gate"},
        {&s->up, B * hp->n_ff * 4, VKQ__MEM_DEVICE, "ffn up"},
        {&s->logits, s->logit_rows * per_row, VKQ__MEM_HOST, "logits"},
        {&s->sample_params, sizeof(vkq__step_params), VKQ__MEM_HOST, "sampling parameters"},
        {&s->sampled, 4, VKQ__MEM_HOST, "sampled token"},
        {&s->scratch, VKQ__MAX(16, vkq__attention_decode_scratch_bytes(hp->n_head, hp->head_dim, s->attn_splits)),
         VKQ__MEM_DEVICE, "attention scratch"},
        {&s->xq, VKQ__MAX(16, vkq__q8_1_bytes(xq_k, s->dot_max)), VKQ__MEM_DEVICE, "Q8_1 activations"},
    };
    for (size_t i = 0; i < VKQ__ARRAY_LEN(list); i++) {
        vkq_status st = vkq__buffer_create(ctx, list[i].size, list[i].kind, list[i].what, list[i].b);
        if (st) return st;
    }
    if (!s->params.mapped || !s->ids.mapped || !s->argmax.mapped || !s->logits.mapped ||
        !s->sample_params.mapped || !s->sampled.mapped) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED, "session: host-visible buffers are not mapped");
    }
    uint64_t cache = vkq__kv_cache_bytes(&s->kv);
    s->k_cache = vkq__calloc(hp->n_layer, sizeof *s->k_cache);
    s->v_cache = vkq__calloc(hp->n_layer, sizeof *s->v_cache);
    if (!s->k_cache || !s->v_cache) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "session: caches");
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        vkq_status st = vkq__buffer_create(ctx, cache, VKQ__MEM_DEVICE, "K cache", &s->k_cache[l]);
        if (!st) st = vkq__buffer_create(ctx, cache, VKQ__MEM_DEVICE, "V cache", &s->v_cache[l]);
        if (st) return vkq__wrap(&ctx->diag, st, "session: layer %u", l);
    }
    if (s->imp_collect) {
        uint32_t n_imp = hp->n_layer * VKQ__IMP_PER_LAYER + 1;
        s->imp = vkq__calloc(n_imp, sizeof *s->imp);
        if (!s->imp) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "session: importance");
        for (uint32_t i = 0; i < n_imp; i++) {
            uint32_t kind = i % VKQ__IMP_PER_LAYER;
            uint64_t k = i == n_imp - 1 || kind == VKQ__IMP_ATTN_IN || kind == VKQ__IMP_FFN_IN ? hp->n_embd
                         : kind == VKQ__IMP_ATTN_OUT ? Q : hp->n_ff;
            vkq_status st = vkq__buffer_create(ctx, k * 4, VKQ__MEM_DEVICE, "importance sums", &s->imp[i]);
            if (!st) st = vkq__buffer_fill(ctx, &s->imp[i], 0);
            if (st) return st;
        }
    }
    s->scratch_logits = malloc(hp->n_vocab * sizeof *s->scratch_logits);
    if (!s->scratch_logits) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "session: sampling");
    return VKQ_OK;
}

vkq_status vkq_session_create(vkq_model *m, const vkq_session_desc *desc, vkq_session **out) {
    if (!m || !out) {
        if (out) *out = NULL;
        return vkq__fail(m ? &m->ctx->diag : NULL, VKQ_ERR_INVALID_ARGUMENT, "vkq_session_create: %s is NULL",
                         m ? "out" : "model");
    }
    *out = NULL;
    vkq_session_desc d;
    vkq_status st = check_desc(m, desc, &d);
    if (st) return st;
    vkq_session *s = vkq__calloc(1, sizeof *s);
    if (!s) return vkq__fail(&m->ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "vkq_session_create: no memory");
    s->model = m, s->ctx = m->ctx;
    s->n_ctx = d.n_ctx, s->n_batch = d.n_batch;
    s->kv = (vkq__kv_layout){d.kv_type, m->hp.n_head_kv, d.n_ctx, m->hp.head_dim};
    s->rng = 1;
    m->n_sessions++;
    if (!(st = vkq__kv_layout_check(s->ctx, &s->kv, "session KV cache"))) {
        s->attn_splits = vkq__attention_decode_splits(s->ctx, &s->kv, m->hp.n_head);
        /* Collecting importance needs every product input in memory: no fused norms. */
        s->imp_collect = d.collect_importance != 0;
        int env = vkq__env_read().fuse;
        uint32_t fuse = env == 0 || s->imp_collect ? 0 : VKQ__FUSE_MAX_TOKENS;
        s->fuse_ffn_max = fuse;
        s->fuse_norm_max = s->ctx->caps.info.type == VKQ_DEVICE_TYPE_CPU && env != 2 ? 0 : fuse;
        /* Importance collection sums the float inputs; its products stay float too. */
        s->dot_max = !s->imp_collect && vkq__mul_mat_dot_preferred(s->ctx) ? VKQ__FUSE_MAX_TOKENS : 0;
        st = create_buffers(s);
    }
    if (!st) st = vkq__recording_create(s->ctx, 0, &s->decode);
    if (!st) st = vkq__recording_create(s->ctx, 0, &s->prefill);
    if (!st) st = vkq__recording_create(s->ctx, 0, &s->sampler);
    if (!st && d.profile) {
        /* A step records about 15 dispatches per layer; the cap only bounds the query pools. */
        uint32_t max_dispatches = 64 * m->hp.n_layer + 256;
        s->profile = true;
        if (!(st = vkq__recording_profile_enable(s->decode, max_dispatches)) &&
            !(st = vkq__recording_profile_enable(s->prefill, max_dispatches))) {
            st = vkq__recording_profile_enable(s->sampler, 16);
        }
        if (st) st = vkq__wrap(&s->ctx->diag, st, "vkq_session_create: desc.profile");
    }
    if (st) {
        vkq_session_destroy(s);
        return st;
    }
    *out = s;
    return VKQ_OK;
}

void vkq_session_destroy(vkq_session *s) {
    if (!s) return;
    vkq_context *ctx = s->ctx;
    vkq__recording_destroy(s->decode);
    vkq__recording_destroy(s->prefill);
    vkq__recording_destroy(s->sampler);
    vkq__buffer *bufs[] = {&s->params, &s->ids, &s->argmax, &s->x, &s->xn, &s->q, &s->k, &s->v,
                           &s->att, &s->gate, &s->up, &s->logits, &s->scratch, &s->sample_params,
                           &s->sampled, &s->xq};
    for (size_t i = 0; i < VKQ__ARRAY_LEN(bufs); i++) vkq__buffer_destroy(ctx, bufs[i]);
    for (uint32_t l = 0; s->k_cache && l < s->model->hp.n_layer; l++) vkq__buffer_destroy(ctx, &s->k_cache[l]);
    for (uint32_t l = 0; s->v_cache && l < s->model->hp.n_layer; l++) vkq__buffer_destroy(ctx, &s->v_cache[l]);
    for (uint32_t i = 0; s->imp && i < s->model->hp.n_layer * VKQ__IMP_PER_LAYER + 1; i++) {
        vkq__buffer_destroy(ctx, &s->imp[i]);
    }
    free(s->k_cache), free(s->v_cache), free(s->scratch_logits), free(s->imp);
    s->model->n_sessions--;
    free(s);
}

vkq_status vkq_session_reset(vkq_session *s) {
    if (!s) return VKQ_ERR_INVALID_ARGUMENT;
    /* Rows past the position are never read, so the cache needs no clearing. */
    s->pos = 0;
    s->have_logits = false;
    return VKQ_OK;
}

vkq_status vkq_session_rewind(vkq_session *s, uint32_t position) {
    if (!s) return VKQ_ERR_INVALID_ARGUMENT;
    if (position > s->pos) {
        return vkq__fail(&s->ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "vkq_session_rewind: position %u is past %u",
                         position, s->pos);
    }
    s->pos = position;
    s->have_logits = false;
    return VKQ_OK;
}

uint32_t vkq_session_position(const vkq_session *s) { return s ? s->pos : 0; }
uint32_t vkq_session_context_size(const vkq_session *s) { return s ? s->n_ctx : 0; }

static void set_step(vkq_session *s, const int32_t *tokens, uint32_t n) {
    vkq__step_params p = {.pos0 = s->pos};
    memcpy(s->params.mapped, &p, sizeof p);
    for (uint32_t i = 0; i < n; i++) ((uint32_t *)s->ids.mapped)[i] = (uint32_t)tokens[i];
}

static vkq_status eval_decode(vkq_session *s, const int32_t *token) {
    vkq_status st;
    if (!s->decode_recorded) {
        if ((st = vkq__recording_begin(s->decode)) || (st = vkq__forward_record(s, s->decode, 1, 1))) return st;
        s->decode_recorded = true;
    }
    set_step(s, token, 1);
    return vkq__recording_submit_wait(s->decode);
}

static vkq_status eval_batch(vkq_session *s, const int32_t *tokens, uint32_t n, uint32_t n_logits) {
    vkq_status st;
    set_step(s, tokens, n);
    if ((st = vkq__recording_begin(s->prefill)) || (st = vkq__forward_record(s, s->prefill, n, n_logits))) return st;
    return vkq__recording_submit_wait(s->prefill);
}

vkq_status vkq_session_eval(vkq_session *s, const int32_t *tokens, uint32_t n, float *all_logits) {
    if (!s || (!tokens && n)) return vkq__fail(s ? &s->ctx->diag : NULL, VKQ_ERR_INVALID_ARGUMENT, "vkq_session_eval: NULL argument");
    const uint32_t n_vocab = s->model->hp.n_vocab;
    if (n == 0) return VKQ_OK;
    if (n > s->n_ctx - s->pos) {
        return vkq__fail(&s->ctx->diag, VKQ_ERR_LIMIT, "vkq_session_eval: %u tokens at position %u exceed the context of %u",
                         n, s->pos, s->n_ctx);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= n_vocab) {
            return vkq__fail(&s->ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "vkq_session_eval: token %u is %d, vocabulary has %u",
                             i, tokens[i], n_vocab);
        }
    }
    /* With all logits wanted, a batch is limited by the rows the logits buffer holds. */
    uint32_t step = all_logits ? VKQ__MIN(s->n_batch, s->logit_rows) : s->n_batch;
    for (uint32_t done = 0; done < n;) {
        uint32_t b = VKQ__MIN(step, n - done);
        uint32_t n_logits = all_logits ? b : 1;
        s->have_logits = false;
        vkq_status st = b == 1 && !all_logits ? eval_decode(s, tokens + done) : eval_batch(s, tokens + done, b, n_logits);
        if (st) return vkq__wrap(&s->ctx->diag, st, "vkq_session_eval at position %u", s->pos);
        if (all_logits) memcpy(all_logits + (size_t)done * n_vocab, s->logits.mapped, (size_t)b * n_vocab * 4);
        s->pos += b, done += b;
        s->imp_rows += b, s->imp_out_rows += n_logits;
        s->have_logits = true;
        s->last_logit_row = n_logits - 1;
    }
    return VKQ_OK;
}

vkq_status vkq_session_logits(vkq_session *s, float *logits) {
    if (!s || !logits) return vkq__fail(s ? &s->ctx->diag : NULL, VKQ_ERR_INVALID_ARGUMENT, "vkq_session_logits: NULL argument");
    if (!s->have_logits) return vkq__fail(&s->ctx->diag, VKQ_ERR_STATE, "vkq_session_logits: nothing evaluated yet");
    uint32_t n_vocab = s->model->hp.n_vocab;
    memcpy(logits, s->logits.mapped + (uint64_t)s->last_logit_row * n_vocab * 4, (size_t)n_vocab * 4);
    return VKQ_OK;
}

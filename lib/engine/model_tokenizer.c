/* The model's tokenizer, built from the GGUF vocabulary by lib/tokenizer. */
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

vkq_status vkq__model_tokenizer_load(vkq_model *m) {
    /* A file without a vocabulary can still be evaluated from token ids. */
    if (vkq_gguf_find_key(m->gguf, "tokenizer.ggml.model") < 0) return VKQ_OK;
    return vkq__tokenizer_load(&m->ctx->diag, m->gguf, &m->tokenizer);
}

void vkq__model_tokenizer_free(vkq_model *m) {
    vkq__tokenizer_destroy(m->tokenizer);
    m->tokenizer = NULL;
}

const struct vkq_tokenizer *vkq_model_tokenizer(const vkq_model *m) { return m ? m->tokenizer : NULL; }

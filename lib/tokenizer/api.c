/* The public vkq_tokenizer_* / vkq_detokenizer_* functions: argument checks and flag mapping
 * over the internal API. */
#include "tokenizer/vocab.h"

#include <stdlib.h>

vkq_status vkq_tokenizer_load(vkq_context *ctx, const struct vkq_gguf *gguf, vkq_tokenizer **out) {
    if (out) *out = NULL;
    vkq__diag *d = vkq__context_diag(ctx);
    if (!ctx || !gguf || !out) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "vkq_tokenizer_load: ctx, gguf and out must "
                                                      "not be NULL");
    }
    return vkq__tokenizer_load(d, gguf, out);
}

void vkq_tokenizer_destroy(vkq_tokenizer *tok) { vkq__tokenizer_destroy(tok); }

uint32_t vkq_tokenizer_vocab_size(const vkq_tokenizer *tok) { return vkq__tokenizer_n_tokens(tok); }

int32_t vkq_tokenizer_special(const vkq_tokenizer *tok, vkq_special_token which) {
    switch (which) {
    case VKQ_SPECIAL_BOS:
        return vkq__tokenizer_special(tok, VKQ__SPECIAL_BOS);
    case VKQ_SPECIAL_EOS:
        return vkq__tokenizer_special(tok, VKQ__SPECIAL_EOS);
    case VKQ_SPECIAL_UNK:
        return vkq__tokenizer_special(tok, VKQ__SPECIAL_UNK);
    case VKQ_SPECIAL_PAD:
        return vkq__tokenizer_special(tok, VKQ__SPECIAL_PAD);
    case VKQ_SPECIAL_EOT:
        return vkq__tokenizer_special(tok, VKQ__SPECIAL_EOT);
    default:
        return -1;
    }
}

int vkq_tokenizer_is_end_of_turn(const vkq_tokenizer *tok, int32_t token) {
    return vkq__token_is_eog(tok, token) ? 1 : 0;
}

const char *vkq_tokenizer_token_text(const vkq_tokenizer *tok, int32_t token) {
    return vkq__token_text(tok, token, NULL);
}

vkq_status vkq_tokenizer_encode(const vkq_tokenizer *tok, const char *text, size_t length,
                                uint32_t flags, int32_t *tokens, size_t capacity,
                                size_t *n_tokens) {
    return vkq__tokenize(tok, text, length, (flags & VKQ_TOKENIZE_ADD_SPECIAL) != 0,
                         (flags & VKQ_TOKENIZE_PARSE_SPECIAL) != 0, tokens, capacity, n_tokens);
}

static uint32_t detok_flags(uint32_t flags) {
    uint32_t f = 0;
    if (flags & VKQ_DECODE_SPECIAL) f |= VKQ__DETOK_SPECIAL;
    if (flags & VKQ_DECODE_TEXT_START) f |= VKQ__DETOK_STRIP_PREFIX;
    return f;
}

vkq_status vkq_tokenizer_decode(const vkq_tokenizer *tok, const int32_t *tokens, size_t n,
                                uint32_t flags, char *text, size_t capacity, size_t *length) {
    return vkq__detokenize(tok, tokens, n, detok_flags(flags) | VKQ__DETOK_STRIP_PREFIX, text,
                           capacity, length);
}

struct vkq_detokenizer {
    vkq__detok dt;
};

vkq_status vkq_detokenizer_create(const vkq_tokenizer *tok, uint32_t flags,
                                  vkq_detokenizer **out) {
    if (out) *out = NULL;
    if (!tok || !out) return VKQ_ERR_INVALID_ARGUMENT;
    vkq_detokenizer *d = vkq__calloc(1, sizeof *d);
    if (!d) return VKQ_ERR_OUT_OF_HOST_MEMORY;
    vkq__detok_init(&d->dt, tok, detok_flags(flags));
    *out = d;
    return VKQ_OK;
}

void vkq_detokenizer_destroy(vkq_detokenizer *dt) { free(dt); }

vkq_status vkq_detokenizer_push(vkq_detokenizer *dt, int32_t token, char *text, size_t capacity,
                                size_t *length) {
    if (!dt) {
        if (length) *length = 0;
        return VKQ_ERR_INVALID_ARGUMENT;
    }
    return vkq__detok_push(&dt->dt, token, text, capacity, length);
}

vkq_status vkq_detokenizer_flush(vkq_detokenizer *dt, char *text, size_t capacity,
                                 size_t *length) {
    if (!dt) {
        if (length) *length = 0;
        return VKQ_ERR_INVALID_ARGUMENT;
    }
    vkq_status st = vkq__detok_flush(&dt->dt, text, capacity, length);
    if (st == VKQ_OK) vkq__detok_init(&dt->dt, dt->dt.tok, dt->dt.flags);
    return st;
}

vkq_chat_template vkq_tokenizer_chat_template(const vkq_tokenizer *tok, int *is_fallback) {
    const vkq__chat_template *t = vkq__tokenizer_chat(tok);
    if (is_fallback) *is_fallback = t ? t->fallback : 0;
    if (!t) return VKQ_CHAT_TEMPLATE_NONE;
    switch (t->family) {
    case VKQ__CHAT_CHATML:
        return VKQ_CHAT_TEMPLATE_CHATML;
    case VKQ__CHAT_LLAMA2:
        return VKQ_CHAT_TEMPLATE_LLAMA2;
    case VKQ__CHAT_LLAMA3:
        return VKQ_CHAT_TEMPLATE_LLAMA3;
    case VKQ__CHAT_MISTRAL:
        return VKQ_CHAT_TEMPLATE_MISTRAL;
    default:
        return VKQ_CHAT_TEMPLATE_NONE;
    }
}

vkq_status vkq_tokenizer_format_chat(const vkq_tokenizer *tok, const vkq_chat_message *messages,
                                     size_t n, int add_generation_prompt, char *text,
                                     size_t capacity, size_t *length) {
    if (length) *length = 0;
    if (!tok || !length || (!messages && n)) return VKQ_ERR_INVALID_ARGUMENT;
    /* Copied field by field: the public struct may grow, the internal one need not follow. */
    vkq__chat_msg small[16];
    vkq__chat_msg *m = n <= 16 ? small : vkq__calloc(n, sizeof *m);
    if (!m) return VKQ_ERR_OUT_OF_HOST_MEMORY;
    for (size_t i = 0; i < n; i++) m[i] = (vkq__chat_msg){messages[i].role, messages[i].content};
    vkq_status st = vkq__chat_format(vkq__tokenizer_chat(tok), m, n, add_generation_prompt != 0,
                                     text, capacity, length);
    if (m != small) free(m);
    return st;
}

/* SentencePiece-style BPE ("llama" vocabularies): spaces become U+2581 ("▁"), one more goes in
 * front of the text, the characters are merged pair by pair, the pair whose join is the piece
 * with the highest score first, and what remains outside the vocabulary falls back to the byte
 * tokens <0xNN> (or to the unknown token when there are none). */
#include "tokenizer/vocab.h"

#include <string.h>

static const uint8_t space_mark[3] = {0xE2, 0x96, 0x81}; /* U+2581 */

/* Pieces that merging may produce. Control, byte and unknown tokens are never reached by
 * joining text (SentencePiece keeps them apart from its pieces). */
static bool mergeable(uint8_t type) {
    return type == VKQ__TOKEN_NORMAL || type == VKQ__TOKEN_USER_DEFINED ||
           type == VKQ__TOKEN_UNUSED;
}

static bool spm_pair(const vkq__tokenizer *tok, const uint8_t *text, const vkq__sym *l,
                     const vkq__sym *r, double *priority, int32_t *result) {
    /* Neighbours are adjacent in the buffer, so the join is one contiguous range. */
    int32_t id = vkq__token_find(tok, (const char *)text + l->start, (size_t)l->len + r->len);
    if (id < 0 || !mergeable(tok->types[id])) return false;
    *priority = -(double)tok->scores[id];
    *result = id;
    return true;
}

static size_t normalize(const uint8_t *text, size_t len, bool space_prefix, uint8_t *out) {
    size_t w = 0;
    if (space_prefix) {
        memcpy(out, space_mark, 3);
        w = 3;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(out + w, space_mark, 3);
            w += 3;
        } else {
            out[w++] = text[i];
        }
    }
    return w;
}

static void emit_symbol(const vkq__tokenizer *tok, const uint8_t *buf, const vkq__sym *y,
                        vkq__sink *sink) {
    int32_t id = y->id >= 0 ? y->id : vkq__token_find(tok, (const char *)buf + y->start, y->len);
    if (id >= 0 && mergeable(tok->types[id])) {
        vkq__sink_push(sink, id);
        return;
    }
    for (uint32_t k = 0; k < y->len; k++) {
        int32_t b = tok->byte_token[buf[y->start + k]];
        if (b >= 0) {
            vkq__sink_push(sink, b);
        } else if (tok->ids[VKQ__SPECIAL_UNK] >= 0) {
            /* Without byte tokens a character outside the vocabulary is one unknown token. */
            vkq__sink_push(sink, tok->ids[VKQ__SPECIAL_UNK]);
            return;
        }
    }
}

bool vkq__spm_tokenize(const vkq__tokenizer *tok, vkq__scratch *s, const uint8_t *text,
                       size_t len, bool space_prefix, vkq__sink *sink) {
    if (len == 0 && !space_prefix) return true;
    size_t cap = 3 * len + 3;
    if (!vkq__scratch_reserve(s, cap, cap)) return false;
    size_t n_buf = normalize(text, len, space_prefix, s->buf);
    size_t n = 0;
    for (size_t pos = 0; pos < n_buf;) {
        size_t k;
        vkq__utf8_decode(s->buf + pos, n_buf - pos, &k);
        s->syms[n] = (vkq__sym){(uint32_t)pos, (uint32_t)k, (int32_t)n - 1, -1, -1};
        if (n > 0) s->syms[n - 1].next = (int32_t)n;
        n++;
        pos += k;
    }
    if (!vkq__merge_symbols(tok, s, n, s->buf, spm_pair)) return false;
    for (int32_t i = 0; i >= 0; i = s->syms[i].next) emit_symbol(tok, s->buf, &s->syms[i], sink);
    return true;
}

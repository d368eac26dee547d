/* Byte-level BPE ("gpt2" vocabularies): pre-tokenize, then merge each piece's bytes by rank. */
#include "tokenizer/vocab.h"

#include <string.h>

static bool bpe_pair(const vkq__tokenizer *tok, const uint8_t *text, const vkq__sym *l,
                     const vkq__sym *r, double *priority, int32_t *result) {
    (void)text;
    uint32_t rank;
    int32_t id = vkq__merge_find(tok, l->id, r->id, &rank);
    if (id < 0) return false;
    *priority = (double)rank;
    *result = id;
    return true;
}

/* The piece spelled in GPT-2 characters, as the vocabulary spells tokens. */
static size_t byte_level_spelling(const vkq__tokenizer *tok, const uint8_t *p, size_t n,
                                  uint8_t *out) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++) w += vkq__utf8_encode(tok->byte_char[p[i]], out + w);
    return w;
}

static bool bpe_piece(const vkq__tokenizer *tok, vkq__scratch *s, const uint8_t *p, size_t n,
                      vkq__sink *sink) {
    if (!vkq__scratch_reserve(s, n, 2 * n)) return false;
    if (tok->ignore_merges) {
        /* llama3 vocabularies: a piece that is a token as a whole is that token, even where
         * the merges would not reach it (HF's ignore_merges). */
        size_t w = byte_level_spelling(tok, p, n, s->buf);
        int32_t id = vkq__token_find(tok, (const char *)s->buf, w);
        if (id >= 0) {
            vkq__sink_push(sink, id);
            return true;
        }
    }
    for (size_t i = 0; i < n; i++) {
        s->syms[i] = (vkq__sym){(uint32_t)i, 1, (int32_t)i - 1, i + 1 < n ? (int32_t)i + 1 : -1,
                                tok->byte_token[p[i]]};
    }
    if (!vkq__merge_symbols(tok, s, n, p, bpe_pair)) return false;
    for (int32_t i = 0; i >= 0; i = s->syms[i].next) {
        const vkq__sym *y = &s->syms[i];
        if (y->id >= 0) {
            vkq__sink_push(sink, y->id);
        } else if (tok->ids[VKQ__SPECIAL_UNK] >= 0) {
            /* Only an unmerged byte whose character is missing from the vocabulary gets here. */
            vkq__sink_push(sink, tok->ids[VKQ__SPECIAL_UNK]);
        }
    }
    return true;
}

bool vkq__bpe_tokenize(const vkq__tokenizer *tok, vkq__scratch *s, const uint8_t *text,
                       size_t len, vkq__sink *sink) {
    size_t pos = 0;
    while (pos < len) {
        size_t n = vkq__pretok_next(tok->pre, (const char *)text, len, pos);
        if (!bpe_piece(tok, s, text + pos, n, sink)) return false;
        pos += n;
    }
    return true;
}

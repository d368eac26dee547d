/* Text to token ids: UTF-8 repair, special tokens matched whole, the stretches between them
 * handed to the vocabulary's algorithm, BOS/EOS around it all. */
#include "tokenizer/vocab.h"

#include "gguf/gguf.h" /* vkq__utf8_valid */

#include <stdlib.h>
#include <string.h>

/* The longest whole-match token starting at text[pos], or -1. Buckets by first byte keep this
 * O(1) at most positions; within a bucket the longest comes first. */
static int32_t match_special(const vkq__tokenizer *tok, const uint8_t *text, size_t len, size_t pos,
                             bool parse_special, size_t *match_len) {
    uint8_t b = text[pos];
    for (uint32_t i = tok->special_first[b]; i < tok->special_first[b + 1]; i++) {
        int32_t id = tok->special[i];
        uint8_t type = tok->types[id];
        if (!parse_special && type != VKQ__TOKEN_USER_DEFINED) continue;
        uint32_t n = tok->tok_len[id];
        if (n <= len - pos && memcmp(text + pos, tok->pool + tok->tok_off[id], n) == 0) {
            *match_len = n;
            return id;
        }
    }
    return -1;
}

static bool run_fragment(const vkq__tokenizer *tok, vkq__scratch *s, const uint8_t *text,
                         size_t len, bool space_prefix, vkq__sink *sink) {
    if (tok->kind == VKQ__VOCAB_SPM) return vkq__spm_tokenize(tok, s, text, len, space_prefix, sink);
    return vkq__bpe_tokenize(tok, s, text, len, sink);
}

/* Works on repaired (valid UTF-8) text. SentencePiece vocabularies put "▁" in front of the
 * text. A user-defined token is part of SentencePiece's running text: the "▁" still goes in
 * front of everything, alone if the text starts with such a token, and the text after it gets
 * none. A control token written in the text (parse_special) is not SentencePiece's business; the
 * text after it starts anew with its own "▁", as LLaMA 2's chat turns "</s><s>[INST] ..." were
 * encoded turn by turn (and as llama.cpp does). */
static bool tokenize_valid(const vkq__tokenizer *tok, vkq__scratch *s, const uint8_t *text,
                           size_t len, bool parse_special, vkq__sink *sink) {
    size_t start = 0, pos = 0;
    bool prefix = tok->add_space_prefix;
    while (pos < len) {
        size_t n = 0;
        int32_t id = match_special(tok, text, len, pos, parse_special, &n);
        if (id < 0) {
            pos++;
            continue;
        }
        bool user = tok->types[id] == VKQ__TOKEN_USER_DEFINED;
        if (pos > start || (prefix && user)) {
            if (!run_fragment(tok, s, text + start, pos - start, prefix, sink)) return false;
            prefix = false;
        }
        vkq__sink_push(sink, id);
        if (!user) prefix = tok->add_space_prefix;
        pos += n;
        start = pos;
    }
    if (start == len) return true;
    return run_fragment(tok, s, text + start, len - start, prefix, sink);
}

vkq_status vkq__tokenize(const vkq__tokenizer *tok, const char *text, size_t len,
                         bool add_special, bool parse_special, int32_t *out, size_t capacity,
                         size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!tok || !n_out || (!text && len) || (!out && capacity)) return VKQ_ERR_INVALID_ARGUMENT;
    const uint8_t *t = (const uint8_t *)text;
    uint8_t *repaired = NULL;
    if (len && !vkq__utf8_valid(t, len)) {
        if (len > SIZE_MAX / 3 - 1 || !(repaired = malloc(3 * len + 3))) {
            return VKQ_ERR_OUT_OF_HOST_MEMORY;
        }
        vkq__utf8_stream u = {0};
        size_t w = vkq__utf8_feed(&u, t, len, repaired);
        len = w + vkq__utf8_finish(&u, repaired + w);
        t = repaired;
    }
    vkq__sink sink = {out, capacity, 0};
    vkq__scratch s = {0};
    if (add_special && tok->add_bos && tok->ids[VKQ__SPECIAL_BOS] >= 0) {
        vkq__sink_push(&sink, tok->ids[VKQ__SPECIAL_BOS]);
    }
    bool ok = tokenize_valid(tok, &s, t, len, parse_special, &sink);
    if (add_special && tok->add_eos && tok->ids[VKQ__SPECIAL_EOS] >= 0) {
        vkq__sink_push(&sink, tok->ids[VKQ__SPECIAL_EOS]);
    }
    vkq__scratch_free(&s);
    free(repaired);
    if (!ok) return VKQ_ERR_OUT_OF_HOST_MEMORY;
    *n_out = sink.n;
    return sink.n > capacity ? VKQ_ERR_LIMIT : VKQ_OK;
}

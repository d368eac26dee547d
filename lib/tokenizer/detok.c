/* Token ids to text: the bytes each token stands for, and a stream decoder that turns a run of
 * tokens into valid UTF-8 piece by piece (a character may be split across byte tokens, and a
 * model may emit bytes that never form a character). */
#include "tokenizer/vocab.h"

#include <stdlib.h>
#include <string.h>

/* What SentencePiece prints for the unknown token: " ⁇ ". */
static const char unknown_surface[] = " \xE2\x81\x87 ";

/* Upper bound of a token's piece length (the byte decodings only ever shrink the spelling). */
static size_t piece_bound(const vkq__tokenizer *tok, int32_t id) {
    return VKQ__MAX((size_t)tok->tok_len[id], sizeof unknown_surface - 1);
}

/* Writes the piece of `id` into out, which holds piece_bound() bytes; returns its length. */
static size_t piece_into(const vkq__tokenizer *tok, int32_t id, uint32_t flags, uint8_t *out) {
    const uint8_t *s = (const uint8_t *)tok->pool + tok->tok_off[id];
    size_t len = tok->tok_len[id], w = 0;
    switch (tok->types[id]) {
    case VKQ__TOKEN_CONTROL:
        if (!(flags & VKQ__DETOK_SPECIAL)) return 0;
        memcpy(out, s, len);
        return len;
    case VKQ__TOKEN_USER_DEFINED:
        memcpy(out, s, len); /* matched whole in text, so it stands for its own spelling */
        return len;
    case VKQ__TOKEN_UNKNOWN:
        if (tok->kind == VKQ__VOCAB_SPM) {
            memcpy(out, unknown_surface, sizeof unknown_surface - 1);
            return sizeof unknown_surface - 1;
        }
        if (!(flags & VKQ__DETOK_SPECIAL)) return 0;
        memcpy(out, s, len);
        return len;
    case VKQ__TOKEN_BYTE:
        if (tok->kind == VKQ__VOCAB_SPM) {
            for (int b = 0; b < 256; b++) {
                if (tok->byte_token[b] == id) {
                    out[0] = (uint8_t)b;
                    return 1;
                }
            }
        }
        break;
    default:
        break;
    }
    for (size_t i = 0; i < len;) {
        size_t k;
        uint32_t cp = vkq__utf8_decode(s + i, len - i, &k);
        if (tok->kind == VKQ__VOCAB_BPE && cp < VKQ__ARRAY_LEN(tok->char_byte) &&
            tok->char_byte[cp] >= 0) {
            out[w++] = (uint8_t)tok->char_byte[cp];
        } else if (tok->kind == VKQ__VOCAB_SPM && cp == 0x2581) {
            out[w++] = ' ';
        } else {
            /* A character outside the byte map (an added token's plain text) is itself. */
            memcpy(out + w, s + i, k);
            w += k;
        }
        i += k;
    }
    return w;
}

vkq_status vkq__token_to_piece(const vkq__tokenizer *tok, int32_t id, uint32_t flags, char *out,
                               size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!tok || !n_out || (!out && cap) || id < 0 || (uint32_t)id >= tok->n_tokens) {
        return VKQ_ERR_INVALID_ARGUMENT;
    }
    uint8_t small[256];
    size_t bound = piece_bound(tok, id);
    uint8_t *buf = bound <= sizeof small ? small : malloc(bound);
    if (!buf) return VKQ_ERR_OUT_OF_HOST_MEMORY;
    size_t n = piece_into(tok, id, flags, buf);
    *n_out = n;
    vkq_status st = n <= cap ? VKQ_OK : VKQ_ERR_LIMIT;
    if (st == VKQ_OK && n) memcpy(out, buf, n);
    if (buf != small) free(buf);
    return st;
}

void vkq__detok_init(vkq__detok *dt, const vkq__tokenizer *tok, uint32_t flags) {
    memset(dt, 0, sizeof *dt);
    dt->tok = tok;
    dt->flags = flags;
}

/* Decodes `id` and feeds it to the UTF-8 repair. With out == NULL it only counts (the state
 * still advances); with dry_run the state is left as it was. */
static vkq_status advance(vkq__detok *dt, int32_t id, uint8_t *out, bool dry_run, size_t *n_out) {
    const vkq__tokenizer *tok = dt->tok;
    if (!tok || id < 0 || (uint32_t)id >= tok->n_tokens) return VKQ_ERR_INVALID_ARGUMENT;
    uint8_t small[256];
    size_t bound = piece_bound(tok, id);
    uint8_t *buf = bound <= sizeof small ? small : malloc(bound);
    if (!buf) return VKQ_ERR_OUT_OF_HOST_MEMORY;
    size_t n = piece_into(tok, id, dt->flags, buf);
    const uint8_t *p = buf;
    bool strip = (dt->flags & VKQ__DETOK_STRIP_PREFIX) && tok->add_space_prefix && !dt->started;
    if (strip && n > 0 && p[0] == ' ') {
        p++;
        n--;
    }
    vkq__utf8_stream copy = dt->utf8;
    vkq__utf8_stream *u = dry_run ? &copy : &dt->utf8;
    *n_out = vkq__utf8_feed(u, p, n, dry_run ? NULL : out);
    /* "Started" means the text has begun, not that bytes came out: a held byte still counts. */
    if (!dry_run && n > 0) dt->started = true;
    if (buf != small) free(buf);
    return VKQ_OK;
}

vkq_status vkq__detok_push(vkq__detok *dt, int32_t id, char *out, size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!dt || !n_out || (!out && cap)) return VKQ_ERR_INVALID_ARGUMENT;
    size_t need;
    vkq_status st = advance(dt, id, NULL, true, &need);
    if (st != VKQ_OK) return st;
    *n_out = need;
    if (need > cap) return VKQ_ERR_LIMIT;
    return advance(dt, id, (uint8_t *)out, false, n_out);
}

vkq_status vkq__detok_flush(vkq__detok *dt, char *out, size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!dt || !n_out || (!out && cap)) return VKQ_ERR_INVALID_ARGUMENT;
    size_t need = dt->utf8.n_held ? 3 : 0;
    *n_out = need;
    if (need > cap) return VKQ_ERR_LIMIT;
    *n_out = vkq__utf8_finish(&dt->utf8, (uint8_t *)out);
    return VKQ_OK;
}

vkq_status vkq__detokenize(const vkq__tokenizer *tok, const int32_t *ids, size_t n, uint32_t flags,
                           char *out, size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!tok || !n_out || (!ids && n) || (!out && cap)) return VKQ_ERR_INVALID_ARGUMENT;
    vkq__detok dt;
    vkq__detok_init(&dt, tok, flags);
    size_t w = 0;
    bool fits = true;
    for (size_t i = 0; i < n; i++) {
        size_t k;
        vkq_status st = advance(&dt, ids[i], NULL, true, &k);
        if (st != VKQ_OK) return st;
        fits = fits && w + k < cap; /* room for the terminator too */
        st = advance(&dt, ids[i], fits ? (uint8_t *)out + w : NULL, false, &k);
        if (st != VKQ_OK) return st;
        w += k;
    }
    uint8_t tail[3];
    size_t k = vkq__utf8_finish(&dt.utf8, tail);
    fits = fits && w + k < cap;
    if (fits) {
        memcpy(out + w, tail, k);
        out[w + k] = '\0';
    }
    *n_out = w + k;
    return fits ? VKQ_OK : VKQ_ERR_LIMIT;
}

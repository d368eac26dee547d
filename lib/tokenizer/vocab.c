/* Building the tokenizer from plain arrays: the spelling index, the merge table, byte tokens,
 * the tokens matched whole in text and the end-of-generation set. */
#include "tokenizer/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t vkq__hash_bytes(const void *data, size_t len) {
    /* FNV-1a, then a final mix so that the low bits (the slot) depend on every byte. */
    const uint8_t *p = data;
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001B3ull;
    h ^= h >> 31;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

vkq__tokenizer_desc vkq__tokenizer_desc_defaults(vkq__vocab_kind kind) {
    vkq__tokenizer_desc d;
    memset(&d, 0, sizeof d);
    d.kind = kind;
    d.bos = d.eos = d.unk = d.pad = d.eot = d.eom = -1;
    d.add_bos = kind == VKQ__VOCAB_SPM;
    d.add_space_prefix = kind == VKQ__VOCAB_SPM;
    return d;
}

/* Hash tables hold at least twice their entries; callers keep n <= VKQ__MAX_TABLE. */
#define VKQ__MAX_TABLE (1u << 28)
static uint32_t pow2_at_least(uint64_t n) {
    uint32_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

int32_t vkq__token_find(const vkq__tokenizer *tok, const char *text, size_t len) {
    if (!tok || (!text && len)) return -1;
    uint64_t h = vkq__hash_bytes(text, len);
    for (uint32_t i = (uint32_t)h & tok->index_mask;; i = (i + 1) & tok->index_mask) {
        uint32_t slot = tok->index[i];
        if (slot == 0) return -1;
        uint32_t id = slot - 1;
        if (tok->tok_len[id] == len && memcmp(tok->pool + tok->tok_off[id], text, len) == 0) {
            return (int32_t)id;
        }
    }
}

/* Copies the spellings into one pool and indexes them; a repeated spelling keeps its first id. */
static vkq_status build_tokens(vkq__diag *d, vkq__tokenizer *t, const vkq__tokenizer_desc *desc) {
    uint32_t n = desc->n_tokens;
    uint64_t pool_size = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!desc->tokens[i]) return vkq__fail(d, VKQ_ERR_BAD_FILE, "tokenizer: token %u is NULL", i);
        pool_size += (desc->token_lens ? desc->token_lens[i] : strlen(desc->tokens[i])) + 1;
    }
    if (pool_size > UINT32_MAX) {
        return vkq__fail(d, VKQ_ERR_LIMIT, "tokenizer: %llu bytes of token text (limit 4 GiB)",
                         (unsigned long long)pool_size);
    }
    t->n_tokens = n;
    t->tok_off = vkq__calloc(n, sizeof *t->tok_off);
    t->tok_len = vkq__calloc(n, sizeof *t->tok_len);
    t->scores = vkq__calloc(n, sizeof *t->scores);
    t->types = vkq__calloc(n, sizeof *t->types);
    t->pool = vkq__calloc(pool_size, 1);
    uint32_t cap = pow2_at_least((uint64_t)n * 2);
    t->index = vkq__calloc(cap, sizeof *t->index);
    if (!t->tok_off || !t->tok_len || !t->scores || !t->types || !t->pool || !t->index) {
        return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "tokenizer: out of memory for %u tokens", n);
    }
    t->index_mask = cap - 1;
    uint32_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = desc->token_lens ? desc->token_lens[i] : (uint32_t)strlen(desc->tokens[i]);
        memcpy(t->pool + off, desc->tokens[i], len);
        t->tok_off[i] = off;
        t->tok_len[i] = len;
        off += len + 1;
        t->scores[i] = desc->scores ? desc->scores[i] : 0.0f;
        int32_t type = desc->token_types ? desc->token_types[i] : VKQ__TOKEN_NORMAL;
        t->types[i] = (uint8_t)(type >= VKQ__TOKEN_NORMAL && type <= VKQ__TOKEN_BYTE
                                    ? type : VKQ__TOKEN_NORMAL);
        if (vkq__token_find(t, t->pool + off - len - 1, len) >= 0) continue;
        uint64_t h = vkq__hash_bytes(t->pool + t->tok_off[i], len);
        uint32_t s = (uint32_t)h & t->index_mask;
        while (t->index[s]) s = (s + 1) & t->index_mask;
        t->index[s] = i + 1;
    }
    return VKQ_OK;
}

/* GPT-2's byte-to-character map: printable Latin-1 bytes stand for themselves, the other 68
 * bytes take U+0100.. in byte order, so every byte has a visible, non-space character. */
static void build_byte_chars(vkq__tokenizer *t) {
    uint32_t next = 0x100;
    for (uint32_t i = 0; i < VKQ__ARRAY_LEN(t->char_byte); i++) t->char_byte[i] = -1;
    for (uint32_t b = 0; b < 256; b++) {
        bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        uint32_t cp = printable ? b : next++;
        t->byte_char[b] = (uint16_t)cp;
        t->char_byte[cp] = (int16_t)b;
    }
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static void build_byte_tokens(vkq__tokenizer *t, bool types_given) {
    for (int b = 0; b < 256; b++) t->byte_token[b] = -1;
    if (t->kind == VKQ__VOCAB_BPE) {
        for (int b = 0; b < 256; b++) {
            uint8_t u[4];
            size_t n = vkq__utf8_encode(t->byte_char[b], u);
            t->byte_token[b] = vkq__token_find(t, (const char *)u, n);
        }
        return;
    }
    /* SPM: <0xNN>, of type BYTE when the file has types (otherwise taken by their spelling,
     * and then marked BYTE so that decoding turns them into bytes). */
    for (uint32_t i = 0; i < t->n_tokens; i++) {
        const char *s = t->pool + t->tok_off[i];
        if (t->tok_len[i] != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') continue;
        if (types_given && t->types[i] != VKQ__TOKEN_BYTE) continue;
        int hi = hex_digit(s[3]), lo = hex_digit(s[4]);
        if (hi < 0 || lo < 0) continue;
        if (t->byte_token[hi * 16 + lo] < 0) t->byte_token[hi * 16 + lo] = (int32_t)i;
        t->types[i] = VKQ__TOKEN_BYTE;
    }
}

static vkq_status build_merges(vkq__diag *d, vkq__tokenizer *t, const vkq__tokenizer_desc *desc) {
    if (t->kind != VKQ__VOCAB_BPE || desc->n_merges == 0) return VKQ_OK;
    uint32_t cap = pow2_at_least((uint64_t)desc->n_merges * 2);
    t->merge_key = malloc((size_t)cap * sizeof *t->merge_key);
    t->merge_rank = vkq__calloc(cap, sizeof *t->merge_rank);
    t->merge_result = vkq__calloc(cap, sizeof *t->merge_result);
    if (!t->merge_key || !t->merge_rank || !t->merge_result) {
        return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "tokenizer: out of memory for %u merges",
                         desc->n_merges);
    }
    memset(t->merge_key, 0xFF, (size_t)cap * sizeof *t->merge_key);
    t->merge_mask = cap - 1;
    uint32_t skipped = 0, first_skipped = 0;
    char *joined = NULL;
    size_t joined_cap = 0;
    for (uint32_t r = 0; r < desc->n_merges; r++) {
        const char *m = desc->merges[r];
        size_t len = m ? (desc->merge_lens ? desc->merge_lens[r] : strlen(m)) : 0;
        /* "left right": the separator is the first space after the first byte (a left part
         * can itself be a lone space in vocabularies that do not map bytes). */
        const char *sp = len > 1 ? memchr(m + 1, ' ', len - 1) : NULL;
        int32_t l = -1, rr = -1, res = -1;
        if (sp) {
            l = vkq__token_find(t, m, (size_t)(sp - m));
            rr = vkq__token_find(t, sp + 1, len - (size_t)(sp - m) - 1);
            size_t jl = len - 1;
            if (jl > joined_cap) {
                char *p = realloc(joined, jl);
                if (!p) {
                    free(joined);
                    return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "tokenizer: out of memory");
                }
                joined = p;
                joined_cap = jl;
            }
            memcpy(joined, m, (size_t)(sp - m));
            memcpy(joined + (sp - m), sp + 1, len - (size_t)(sp - m) - 1);
            res = vkq__token_find(t, joined, jl);
        }
        if (l < 0 || rr < 0 || res < 0) {
            if (skipped++ == 0) first_skipped = r;
            continue;
        }
        uint64_t key = ((uint64_t)(uint32_t)l << 32) | (uint32_t)rr;
        uint64_t h = key * 0x9E3779B97F4A7C15ull;
        uint32_t s = (uint32_t)(h >> 32) & t->merge_mask;
        while (t->merge_key[s] != UINT64_MAX && t->merge_key[s] != key) s = (s + 1) & t->merge_mask;
        if (t->merge_key[s] == key) continue; /* a repeated pair keeps its better rank */
        t->merge_key[s] = key;
        t->merge_rank[s] = r;
        t->merge_result[s] = res;
    }
    free(joined);
    if (skipped) {
        vkq__log(d, VKQ_LOG_WARN, "tokenizer: %u of %u merges name tokens not in the vocabulary "
                 "(first: rank %u); they are ignored", skipped, desc->n_merges, first_skipped);
    }
    return VKQ_OK;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Orders the whole-match tokens by first byte, then longest first (so that the first that
 * matches at a position is the longest: leftmost-longest matching), then by id. The order is a
 * 64-bit key (byte 8 bits, inverted length 24 bits, id 31 bits) so that plain qsort does it. */
static vkq_status sort_specials(vkq__tokenizer *t, int32_t *ids, uint32_t n) {
    uint64_t *keys = vkq__calloc(n, sizeof *keys);
    if (!keys) return VKQ_ERR_OUT_OF_HOST_MEMORY;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t b = (uint8_t)t->pool[t->tok_off[ids[i]]];
        uint64_t len = VKQ__MIN(t->tok_len[ids[i]], 0xFFFFFFu);
        keys[i] = (b << 55) | ((0xFFFFFFu - len) << 31) | (uint32_t)ids[i];
    }
    qsort(keys, n, sizeof *keys, cmp_u64);
    for (uint32_t i = 0; i < n; i++) ids[i] = (int32_t)(keys[i] & 0x7FFFFFFFu);
    free(keys);
    return VKQ_OK;
}

static vkq_status build_specials(vkq__diag *d, vkq__tokenizer *t) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->n_tokens; i++) {
        uint8_t ty = t->types[i];
        bool whole = ty == VKQ__TOKEN_CONTROL || ty == VKQ__TOKEN_USER_DEFINED ||
                     ty == VKQ__TOKEN_UNKNOWN;
        if (whole && t->tok_len[i] > 0) n++;
    }
    t->special = vkq__calloc(n, sizeof *t->special);
    if (!t->special) return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "tokenizer: out of memory");
    uint32_t k = 0;
    for (uint32_t i = 0; i < t->n_tokens; i++) {
        uint8_t ty = t->types[i];
        bool whole = ty == VKQ__TOKEN_CONTROL || ty == VKQ__TOKEN_USER_DEFINED ||
                     ty == VKQ__TOKEN_UNKNOWN;
        if (whole && t->tok_len[i] > 0) t->special[k++] = (int32_t)i;
    }
    if (sort_specials(t, t->special, n) != VKQ_OK) {
        return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "tokenizer: out of memory");
    }
    uint32_t at = 0;
    for (uint32_t b = 0; b <= 256; b++) {
        while (at < n && (uint8_t)t->pool[t->tok_off[t->special[at]]] < b) at++;
        t->special_first[b] = b == 256 ? n : at;
    }
    return VKQ_OK;
}

static void add_eog(vkq__tokenizer *t, int32_t id) {
    if (id < 0 || t->n_eog == VKQ__MAX_EOG) return;
    for (uint32_t i = 0; i < t->n_eog; i++) {
        if (t->eog[i] == id) return;
    }
    t->eog[t->n_eog++] = id;
}

static void build_eog(vkq__tokenizer *t) {
    static const char *const markers[] = {"<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>",
                                          "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
                                          "<EOT>"};
    add_eog(t, t->ids[VKQ__SPECIAL_EOS]);
    add_eog(t, t->ids[VKQ__SPECIAL_EOT]);
    add_eog(t, t->ids[VKQ__SPECIAL_EOM]);
    for (size_t i = 0; i < VKQ__ARRAY_LEN(markers); i++) {
        int32_t id = vkq__token_find(t, markers[i], strlen(markers[i]));
        if (id >= 0 && t->types[id] == VKQ__TOKEN_CONTROL) add_eog(t, id);
    }
}

static vkq_status check_desc(vkq__diag *d, const vkq__tokenizer_desc *desc) {
    if (desc->kind != VKQ__VOCAB_BPE && desc->kind != VKQ__VOCAB_SPM) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "tokenizer: unknown vocabulary kind %d",
                         (int)desc->kind);
    }
    if (desc->n_tokens == 0 || desc->n_tokens > VKQ__MAX_TABLE || !desc->tokens) {
        return vkq__fail(d, VKQ_ERR_BAD_FILE, "tokenizer: %u tokens (need 1 .. 2^28)",
                         desc->n_tokens);
    }
    if (desc->n_merges > VKQ__MAX_TABLE) {
        return vkq__fail(d, VKQ_ERR_BAD_FILE, "tokenizer: %u merges (at most 2^28)",
                         desc->n_merges);
    }
    if (desc->n_merges && !desc->merges) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "tokenizer: merges missing");
    }
    return VKQ_OK;
}

static void set_ids(vkq__diag *d, vkq__tokenizer *t, const vkq__tokenizer_desc *desc) {
    const int32_t given[] = {desc->bos, desc->eos, desc->unk, desc->pad, desc->eot, desc->eom};
    static const char *const names[] = {"bos", "eos", "unknown", "padding", "eot", "eom"};
    for (size_t i = 0; i < VKQ__ARRAY_LEN(given); i++) {
        t->ids[i] = given[i];
        if (given[i] < -1 || given[i] >= (int64_t)t->n_tokens) {
            /* Converters sometimes write ids past the vocabulary; such an id can never be
             * produced, so it is dropped rather than failing the whole model. */
            vkq__log(d, VKQ_LOG_WARN, "tokenizer: %s token id %d is outside the vocabulary of "
                     "%u tokens; ignored", names[i], given[i], t->n_tokens);
            t->ids[i] = -1;
        }
    }
}

vkq_status vkq__tokenizer_create(vkq__diag *d, const vkq__tokenizer_desc *desc,
                                 vkq__tokenizer **out) {
    if (!out || !desc) return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "tokenizer: NULL argument");
    *out = NULL;
    vkq_status st = check_desc(d, desc);
    if (st != VKQ_OK) return st;
    vkq__tokenizer *t = vkq__calloc(1, sizeof *t);
    if (!t) return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "tokenizer: out of memory");
    t->kind = desc->kind;
    t->add_bos = desc->add_bos;
    t->add_eos = desc->add_eos;
    /* Byte-level BPE spells spaces itself; the prefix space is a SentencePiece matter only. */
    t->add_space_prefix = desc->add_space_prefix && desc->kind == VKQ__VOCAB_SPM;
    if (t->kind == VKQ__VOCAB_BPE && !vkq__pretok_from_name(desc->pre, &t->pre)) {
        vkq__log(d, VKQ_LOG_WARN, "tokenizer: pre-tokenizer '%s' is not known; splitting text "
                 "as gpt2 does (token ids may differ from the model's own tokenizer)", desc->pre);
    }
    t->ignore_merges = t->kind == VKQ__VOCAB_BPE && t->pre == VKQ__PRETOK_LLAMA3;
    build_byte_chars(t);
    st = build_tokens(d, t, desc);
    if (st == VKQ_OK) {
        build_byte_tokens(t, desc->token_types != NULL);
        set_ids(d, t, desc);
        st = build_merges(d, t, desc);
    }
    if (st == VKQ_OK) st = build_specials(d, t);
    if (st == VKQ_OK) {
        build_eog(t);
        const char *bos = t->ids[VKQ__SPECIAL_BOS] >= 0 ? vkq__token_text(t, t->ids[0], NULL) : NULL;
        const char *eos = t->ids[VKQ__SPECIAL_EOS] >= 0 ? vkq__token_text(t, t->ids[1], NULL) : NULL;
        st = vkq__chat_template_parse(desc->chat_template, bos, eos, &t->chat);
        if (st != VKQ_OK) st = vkq__fail(d, st, "tokenizer: out of memory for the chat template");
    }
    if (st == VKQ_OK && t->chat.fallback && desc->chat_template && *desc->chat_template) {
        vkq__log(d, VKQ_LOG_WARN, "tokenizer: chat template not recognized (not ChatML, Llama 2, "
                 "Llama 3 or Mistral); formatting chats as ChatML");
    }
    if (st != VKQ_OK) {
        vkq__tokenizer_destroy(t);
        return st;
    }
    *out = t;
    return VKQ_OK;
}

void vkq__tokenizer_destroy(vkq__tokenizer *t) {
    if (!t) return;
    free(t->tok_off);
    free(t->tok_len);
    free(t->scores);
    free(t->types);
    free(t->pool);
    free(t->index);
    free(t->merge_key);
    free(t->merge_rank);
    free(t->merge_result);
    free(t->special);
    vkq__chat_template_free(&t->chat);
    free(t);
}

uint32_t vkq__tokenizer_n_tokens(const vkq__tokenizer *t) { return t ? t->n_tokens : 0; }
vkq__vocab_kind vkq__tokenizer_kind(const vkq__tokenizer *t) { return t ? t->kind : VKQ__VOCAB_NONE; }
vkq__pretok vkq__tokenizer_pretok(const vkq__tokenizer *t) { return t ? t->pre : VKQ__PRETOK_GPT2; }
const vkq__chat_template *vkq__tokenizer_chat(const vkq__tokenizer *t) { return t ? &t->chat : NULL; }

const char *vkq__token_text(const vkq__tokenizer *t, int32_t id, uint32_t *len) {
    if (!t || id < 0 || (uint32_t)id >= t->n_tokens) return NULL;
    if (len) *len = t->tok_len[id];
    return t->pool + t->tok_off[id];
}

int vkq__token_type(const vkq__tokenizer *t, int32_t id) {
    if (!t || id < 0 || (uint32_t)id >= t->n_tokens) return VKQ__TOKEN_UNDEFINED;
    return t->types[id];
}

int32_t vkq__tokenizer_special(const vkq__tokenizer *t, vkq__special which) {
    if (!t || (unsigned)which > VKQ__SPECIAL_EOM) return -1;
    return t->ids[which];
}

bool vkq__token_is_eog(const vkq__tokenizer *t, int32_t id) {
    if (!t || id < 0) return false;
    for (uint32_t i = 0; i < t->n_eog; i++) {
        if (t->eog[i] == id) return true;
    }
    return false;
}

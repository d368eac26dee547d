/* Tokenizer metadata of synthetic models: small vocabularies shaped like the real ones.
 *
 * gpt2 (byte-level BPE, as SmolLM2 ships it): special tokens first, then one token per byte
 * spelled with the GPT-2 byte-to-character map (printable bytes stand for themselves, the other
 * 68 map to U+0100..U+0143, so a space is "Ġ"), then the results of a short list of merges of
 * common English pairs, in merge order. No scores, as in real gpt2 files.
 *
 * llama (SentencePiece with byte fallback): <unk> <s> </s>, the 256 byte tokens <0x00>..<0xFF>,
 * then pieces ("▁" marks a word start) with decreasing scores. */
#include "gguf/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SP "\xc4\xa0"       /* "Ġ", GPT-2's spelling of a space byte */
#define WORD "\xe2\x96\x81" /* "▁", SentencePiece's word-start mark */

/* Common English pairs, each side an earlier token (a byte or an earlier merge's result). */
static const char *const merges[][2] = {
    {SP, "t"},       {SP, "a"},     {"h", "e"},      {"i", "n"},     {"r", "e"},
    {"o", "n"},      {SP "t", "he"}, {"e", "r"},     {SP, "s"},      {"a", "t"},
    {SP, "w"},       {SP, "o"},     {"e", "n"},      {SP, "c"},      {"i", "t"},
    {"i", "s"},      {"a", "n"},    {"o", "r"},      {"e", "s"},     {SP, "b"},
    {"e", "d"},      {SP, "f"},     {"in", "g"},     {SP, "p"},      {"o", "u"},
    {SP "a", "n"},   {"a", "l"},    {"a", "r"},      {SP "t", "o"},  {SP, "m"},
    {SP "o", "f"},   {SP, "in"},    {SP, "d"},       {SP, "h"},      {SP "an", "d"},
    {"i", "c"},      {"a", "s"},    {"l", "e"},      {SP "t", "h"},  {"i", "on"},
    {"o", "m"},      {"l", "l"},    {"en", "t"},     {SP, "n"},      {SP, "l"},
    {"s", "t"},      {SP, "re"},    {"v", "e"},      {SP, "e"},      {"r", "o"},
    {"l", "y"},      {SP "b", "e"}, {SP, "g"},       {SP, "T"},      {"c", "t"},
    {SP, "S"},       {"i", "d"},    {"o", "t"},      {SP, "I"},      {"u", "t"},
    {"e", "t"},      {SP, "A"},     {SP, "is"},      {SP, "on"},     {"i", "m"},
    {"a", "m"},      {"l", "d"},    {SP "w", "or"},  {SP "wor", "ld"}, {SP "h", "e"},
    {SP "he", "ll"}, {SP "hell", "o"},
};
#define N_MERGES (sizeof merges / sizeof merges[0])

static const char *const gpt2_specials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
static const char *const llama_specials[] = {"<unk>", "<s>", "</s>"};
#define N_SPECIALS 3u

/* token_type values as GGUF files use them. */
enum { TOKEN_NORMAL = 1, TOKEN_UNKNOWN = 2, TOKEN_CONTROL = 3, TOKEN_UNUSED = 5, TOKEN_BYTE = 6 };

typedef struct vocab {
    char **tokens;
    float *scores;
    int32_t *types;
    char **merges;
    uint32_t n, cap, n_merges;
} vocab;

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

static bool push(vocab *v, const char *text, int32_t type) {
    if (v->n == v->cap) return false;
    v->tokens[v->n] = dup_str(text);
    if (!v->tokens[v->n]) return false;
    v->types[v->n] = type;
    v->scores[v->n] = v->n ? -(float)v->n : 0.0f; /* decreasing, starting at +0 */
    v->n++;
    return true;
}

static bool has(const vocab *v, const char *text) {
    for (uint32_t i = 0; i < v->n; i++) {
        if (strcmp(v->tokens[i], text) == 0) return true;
    }
    return false;
}

/* GPT-2's byte-to-character map, as UTF-8. */
static void gpt2_byte_token(unsigned b, char out[4]) {
    unsigned cp;
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) {
        cp = b;
    } else {
        /* The unprintable bytes, in increasing order, take U+0100 onwards. */
        unsigned rank = 0;
        for (unsigned k = 0; k < b; k++) {
            if (!((k >= 33 && k <= 126) || (k >= 161 && k <= 172) || k >= 174)) rank++;
        }
        cp = 256 + rank;
    }
    if (cp < 0x80) {
        out[0] = (char)cp, out[1] = 0;
    } else {
        out[0] = (char)(0xC0 | (cp >> 6)), out[1] = (char)(0x80 | (cp & 0x3F)), out[2] = 0;
    }
}

/* Replaces the GPT-2 space spelling with SentencePiece's word mark. */
static void to_sentencepiece(const char *s, char *out, size_t size) {
    size_t o = 0;
    while (*s && o + 4 < size) {
        if (strncmp(s, SP, 2) == 0) {
            memcpy(out + o, WORD, 3);
            o += 3;
            s += 2;
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = 0;
}

static bool build_gpt2(vocab *v) {
    for (unsigned i = 0; i < N_SPECIALS; i++) {
        if (!push(v, gpt2_specials[i], TOKEN_CONTROL)) return false;
    }
    for (unsigned b = 0; b < 256; b++) {
        char t[4];
        gpt2_byte_token(b, t);
        if (!push(v, t, TOKEN_NORMAL)) return false;
    }
    for (size_t m = 0; m < N_MERGES; m++) {
        char joined[64], rule[64];
        snprintf(joined, sizeof joined, "%s%s", merges[m][0], merges[m][1]);
        snprintf(rule, sizeof rule, "%s %s", merges[m][0], merges[m][1]);
        /* Each side must already be a token, or the merge list is not a valid BPE. */
        if (!has(v, merges[m][0]) || !has(v, merges[m][1]) || has(v, joined)) return false;
        if (!push(v, joined, TOKEN_NORMAL)) return false;
        v->merges[v->n_merges] = dup_str(rule);
        if (!v->merges[v->n_merges++]) return false;
    }
    return true;
}

static bool build_llama(vocab *v) {
    static const int32_t special_types[] = {TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_CONTROL};
    for (unsigned i = 0; i < N_SPECIALS; i++) {
        if (!push(v, llama_specials[i], special_types[i])) return false;
    }
    for (unsigned b = 0; b < 256; b++) {
        char t[8];
        snprintf(t, sizeof t, "<0x%02X>", b);
        if (!push(v, t, TOKEN_BYTE)) return false;
    }
    if (!push(v, WORD, TOKEN_NORMAL)) return false;
    for (char c = 'a'; c <= 'z'; c++) {
        char t[2] = {c, 0};
        if (!push(v, t, TOKEN_NORMAL)) return false;
    }
    for (size_t m = 0; m < N_MERGES; m++) {
        char raw[64], piece[96];
        snprintf(raw, sizeof raw, "%s%s", merges[m][0], merges[m][1]);
        to_sentencepiece(raw, piece, sizeof piece);
        if (!has(v, piece) && !push(v, piece, TOKEN_NORMAL)) return false;
    }
    return true;
}

static void vocab_free(vocab *v) {
    for (uint32_t i = 0; i < v->n; i++) free(v->tokens[i]);
    for (uint32_t i = 0; i < v->n_merges; i++) free(v->merges[i]);
    free(v->tokens);
    free(v->scores);
    free(v->types);
    free(v->merges);
    memset(v, 0, sizeof *v);
}

/* Builds the token lists; padded with "<|extra_N|>" unused tokens up to `requested`. */
static vkq_status vocab_build(vkq__diag *d, vkq__synth_tokenizer kind, uint32_t requested,
                              vocab *v) {
    memset(v, 0, sizeof *v);
    uint32_t cap = N_SPECIALS + 256 + 1 + 26 + (uint32_t)N_MERGES;
    if (requested > cap) cap = requested;
    v->cap = cap;
    v->tokens = calloc(cap, sizeof *v->tokens);
    v->scores = calloc(cap, sizeof *v->scores);
    v->types = calloc(cap, sizeof *v->types);
    v->merges = calloc(N_MERGES, sizeof *v->merges);
    bool ok = v->tokens && v->scores && v->types && v->merges;
    if (ok) ok = kind == VKQ__SYNTH_TOKENIZER_LLAMA ? build_llama(v) : build_gpt2(v);
    while (ok && v->n < requested) {
        char t[32];
        snprintf(t, sizeof t, "<|extra_%u|>", v->n);
        ok = push(v, t, TOKEN_UNUSED);
    }
    if (!ok) {
        vocab_free(v);
        return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "synthetic vocabulary: out of memory "
                                                        "or inconsistent merge list");
    }
    return VKQ_OK;
}

vkq_status vkq__synth_vocab_size(vkq__diag *d, vkq__synth_tokenizer kind, uint32_t requested,
                                 uint32_t *n_vocab) {
    if (kind == VKQ__SYNTH_TOKENIZER_NONE) {
        *n_vocab = requested ? requested : 64;
        return VKQ_OK;
    }
    vocab v;
    vkq_status st = vocab_build(d, kind, 0, &v);
    if (st) return st;
    uint32_t base = v.n;
    vocab_free(&v);
    if (requested && requested < base) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "synthetic model: n_vocab %u is smaller "
                                                      "than the %s tokenizer's %u tokens",
                         requested, kind == VKQ__SYNTH_TOKENIZER_LLAMA ? "llama" : "gpt2", base);
    }
    *n_vocab = requested ? requested : base;
    return VKQ_OK;
}

static vkq_status add_keys(vkq__gguf_writer *w, vkq__synth_tokenizer kind, const vocab *v) {
    bool llama = kind == VKQ__SYNTH_TOKENIZER_LLAMA;
    const char *model = llama ? "llama" : "gpt2";
    vkq_status st = vkq__gguf_writer_add_string(w, "tokenizer.ggml.model", model);
    if (!st && !llama) st = vkq__gguf_writer_add_string(w, "tokenizer.ggml.pre", "smollm");
    if (!st) {
        st = vkq__gguf_writer_add_string_array(w, "tokenizer.ggml.tokens",
                                               (const char *const *)v->tokens, v->n);
    }
    if (!st && llama) {
        st = vkq__gguf_writer_add_array(w, "tokenizer.ggml.scores", VKQ_GGUF_TYPE_F32, v->scores,
                                        v->n);
    }
    if (!st) {
        st = vkq__gguf_writer_add_array(w, "tokenizer.ggml.token_type", VKQ_GGUF_TYPE_I32,
                                        v->types, v->n);
    }
    if (!st && !llama) {
        st = vkq__gguf_writer_add_string_array(w, "tokenizer.ggml.merges",
                                               (const char *const *)v->merges, v->n_merges);
    }
    /* Ids as the real files have them: SmolLM2 uses <|im_start|> / <|im_end|>, SentencePiece
     * llama files <s> / </s>, and both keep <unk> or <|endoftext|> at 0. */
    if (!st) st = vkq__gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 1);
    if (!st) st = vkq__gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", 2);
    if (!st) st = vkq__gguf_writer_add_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    if (!st) st = vkq__gguf_writer_add_bool(w, "tokenizer.ggml.add_bos_token", llama);
    if (!st) st = vkq__gguf_writer_add_bool(w, "tokenizer.ggml.add_space_prefix", llama);
    return st;
}

vkq_status vkq__synth_add_vocab(vkq__diag *d, vkq__gguf_writer *w, vkq__synth_tokenizer kind,
                                uint32_t n_vocab) {
    if (kind == VKQ__SYNTH_TOKENIZER_NONE) return VKQ_OK;
    vocab v;
    vkq_status st = vocab_build(d, kind, n_vocab, &v);
    if (st) return st;
    st = add_keys(w, kind, &v);
    vocab_free(&v);
    return st;
}

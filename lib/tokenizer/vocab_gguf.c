/* Reading a tokenizer from a GGUF file's tokenizer.* keys (the names llama.cpp's converters
 * write), through the public getters, so that every type and count is checked by the reader. */
#include "tokenizer/vocab.h"

#include <stdlib.h>
#include <string.h>

void vkq__tokenizer_arrays_free(vkq__tokenizer_arrays *l) {
    free(l->tokens);
    free(l->token_lens);
    free(l->scores);
    free(l->types);
    free(l->merges);
    free(l->merge_lens);
    memset(l, 0, sizeof *l);
}

static bool has(const vkq_gguf *g, const char *key) { return vkq_gguf_find_key(g, key) >= 0; }

/* An array of strings: pointers into the gguf (valid while it is open) and their lengths. */
static vkq_status read_strings(vkq__diag *d, const vkq_gguf *g, const char *key, uint64_t count,
                               const char ***strs, uint32_t **lens) {
    *strs = vkq__calloc(count, sizeof **strs);
    *lens = vkq__calloc(count, sizeof **lens);
    if (!*strs || !*lens) return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "tokenizer: out of memory");
    for (uint64_t i = 0; i < count; i++) {
        uint64_t len;
        vkq_status st = vkq_gguf_get_array_string(g, key, i, &(*strs)[i], &len);
        if (st != VKQ_OK) return vkq__wrap(d, st, "tokenizer");
        if (len > UINT32_MAX) return vkq__fail(d, VKQ_ERR_BAD_FILE, "%s[%llu] is too long", key,
                                               (unsigned long long)i);
        (*lens)[i] = (uint32_t)len;
    }
    return VKQ_OK;
}

/* An array that must have one element per token. */
static vkq_status check_count(vkq__diag *d, const vkq_gguf *g, const char *key, uint64_t want) {
    uint64_t n = 0;
    vkq_status st = vkq_gguf_get_array_info(g, key, NULL, &n);
    if (st != VKQ_OK) return vkq__wrap(d, st, "tokenizer");
    if (n != want) {
        return vkq__fail(d, VKQ_ERR_BAD_FILE, "tokenizer: %s has %llu entries, tokens has %llu",
                         key, (unsigned long long)n, (unsigned long long)want);
    }
    return VKQ_OK;
}

static vkq_status read_kind(vkq__diag *d, const vkq_gguf *g, vkq__vocab_kind *kind) {
    const char *model = NULL;
    if (!has(g, "tokenizer.ggml.model")) {
        return vkq__fail(d, VKQ_ERR_NOT_FOUND, "tokenizer: the file has no tokenizer "
                         "(no key tokenizer.ggml.model)");
    }
    vkq_status st = vkq_gguf_get_string(g, "tokenizer.ggml.model", &model, NULL);
    if (st != VKQ_OK) return vkq__wrap(d, st, "tokenizer");
    if (strcmp(model, "gpt2") == 0) {
        *kind = VKQ__VOCAB_BPE;
    } else if (strcmp(model, "llama") == 0) {
        *kind = VKQ__VOCAB_SPM;
    } else {
        return vkq__fail(d, VKQ_ERR_UNSUPPORTED, "tokenizer: tokenizer.ggml.model '%s' is not "
                         "supported (vkq reads 'gpt2' and 'llama')", model);
    }
    return VKQ_OK;
}

/* Optional scalars: absent keeps the default; present with a wrong type fails. */
static vkq_status opt_id(vkq__diag *d, const vkq_gguf *g, const char *key, int32_t *id) {
    if (!has(g, key)) return VKQ_OK;
    uint32_t v;
    vkq_status st = vkq_gguf_get_u32(g, key, &v);
    if (st == VKQ_ERR_WRONG_TYPE) {
        int32_t s; /* some converters write -1 as i32 for "none" */
        st = vkq_gguf_get_i32(g, key, &s);
        if (st == VKQ_OK) v = s < 0 ? UINT32_MAX : (uint32_t)s;
    }
    if (st != VKQ_OK) return vkq__wrap(d, st, "tokenizer");
    *id = v > INT32_MAX ? -1 : (int32_t)v;
    return VKQ_OK;
}

static vkq_status opt_bool(vkq__diag *d, const vkq_gguf *g, const char *key, bool *b) {
    if (!has(g, key)) return VKQ_OK;
    int v;
    vkq_status st = vkq_gguf_get_bool(g, key, &v);
    if (st != VKQ_OK) return vkq__wrap(d, st, "tokenizer");
    *b = v != 0;
    return VKQ_OK;
}

static vkq_status opt_string(vkq__diag *d, const vkq_gguf *g, const char *key, const char **s) {
    if (!has(g, key)) return VKQ_OK;
    vkq_status st = vkq_gguf_get_string(g, key, s, NULL);
    return st == VKQ_OK ? st : vkq__wrap(d, st, "tokenizer");
}

static vkq_status read_ids(vkq__diag *d, const vkq_gguf *g, vkq__tokenizer_desc *desc) {
    if (desc->kind == VKQ__VOCAB_SPM) {
        /* SentencePiece vocabularies without the keys use LLaMA's ids. */
        desc->unk = 0;
        desc->bos = 1;
        desc->eos = 2;
    }
    static const char *const keys[] = {
        "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
        "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id",
        "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"};
    int32_t *ids[] = {&desc->bos, &desc->eos, &desc->unk, &desc->pad, &desc->eot, &desc->eom};
    vkq_status st = VKQ_OK;
    for (size_t i = 0; i < VKQ__ARRAY_LEN(keys) && st == VKQ_OK; i++) {
        st = opt_id(d, g, keys[i], ids[i]);
    }
    if (st == VKQ_OK) st = opt_bool(d, g, "tokenizer.ggml.add_bos_token", &desc->add_bos);
    if (st == VKQ_OK) st = opt_bool(d, g, "tokenizer.ggml.add_eos_token", &desc->add_eos);
    if (st == VKQ_OK) st = opt_bool(d, g, "tokenizer.ggml.add_space_prefix", &desc->add_space_prefix);
    if (st == VKQ_OK) st = opt_string(d, g, "tokenizer.ggml.pre", &desc->pre);
    if (st == VKQ_OK) st = opt_string(d, g, "tokenizer.chat_template", &desc->chat_template);
    return st;
}

static vkq_status read_arrays(vkq__diag *d, const vkq_gguf *g, vkq__tokenizer_desc *desc,
                              vkq__tokenizer_arrays *l) {
    uint64_t n = 0;
    vkq_status st = vkq_gguf_get_array_info(g, "tokenizer.ggml.tokens", NULL, &n);
    if (st != VKQ_OK) return vkq__wrap(d, st, "tokenizer");
    if (n == 0 || n > INT32_MAX) {
        return vkq__fail(d, VKQ_ERR_BAD_FILE, "tokenizer: tokenizer.ggml.tokens has %llu "
                         "entries (need 1 .. 2^31-1)", (unsigned long long)n);
    }
    desc->n_tokens = (uint32_t)n;
    st = read_strings(d, g, "tokenizer.ggml.tokens", n, &l->tokens, &l->token_lens);
    if (st != VKQ_OK) return st;
    desc->tokens = l->tokens;
    desc->token_lens = l->token_lens;
    if (has(g, "tokenizer.ggml.scores")) {
        st = check_count(d, g, "tokenizer.ggml.scores", n);
        if (st == VKQ_OK && !(l->scores = vkq__calloc(n, sizeof *l->scores))) {
            st = vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "tokenizer: out of memory");
        }
        if (st == VKQ_OK) st = vkq_gguf_get_array_f32(g, "tokenizer.ggml.scores", 0, n, l->scores);
        if (st != VKQ_OK) return vkq__wrap(d, st, "tokenizer");
        desc->scores = l->scores;
    }
    if (has(g, "tokenizer.ggml.token_type")) {
        st = check_count(d, g, "tokenizer.ggml.token_type", n);
        if (st == VKQ_OK && !(l->types = vkq__calloc(n, sizeof *l->types))) {
            st = vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "tokenizer: out of memory");
        }
        if (st == VKQ_OK) {
            st = vkq_gguf_get_array_i32(g, "tokenizer.ggml.token_type", 0, n, l->types);
        }
        if (st != VKQ_OK) return vkq__wrap(d, st, "tokenizer");
        desc->token_types = l->types;
    }
    if (desc->kind == VKQ__VOCAB_BPE) {
        uint64_t m = 0;
        st = vkq_gguf_get_array_info(g, "tokenizer.ggml.merges", NULL, &m);
        if (st != VKQ_OK) return vkq__wrap(d, st, "tokenizer (a gpt2 vocabulary needs merges)");
        if (m > UINT32_MAX) return vkq__fail(d, VKQ_ERR_BAD_FILE, "tokenizer: too many merges");
        desc->n_merges = (uint32_t)m;
        st = read_strings(d, g, "tokenizer.ggml.merges", m, &l->merges, &l->merge_lens);
        desc->merges = l->merges;
        desc->merge_lens = l->merge_lens;
    }
    return st;
}

vkq_status vkq__tokenizer_desc_read(vkq__diag *d, const vkq_gguf *g, vkq__tokenizer_desc *desc,
                                    vkq__tokenizer_arrays *arrays) {
    memset(arrays, 0, sizeof *arrays);
    vkq__vocab_kind kind = VKQ__VOCAB_NONE;
    vkq_status st = read_kind(d, g, &kind);
    if (st != VKQ_OK) return st;
    *desc = vkq__tokenizer_desc_defaults(kind);
    st = read_ids(d, g, desc);
    if (st == VKQ_OK) st = read_arrays(d, g, desc, arrays);
    if (st != VKQ_OK) vkq__tokenizer_arrays_free(arrays);
    return st;
}

vkq_status vkq__tokenizer_load(vkq__diag *d, const vkq_gguf *g, vkq__tokenizer **out) {
    if (!g || !out) return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "tokenizer: NULL argument");
    *out = NULL;
    vkq__tokenizer_desc desc;
    vkq__tokenizer_arrays arrays;
    vkq_status st = vkq__tokenizer_desc_read(d, g, &desc, &arrays);
    if (st != VKQ_OK) return st;
    st = vkq__tokenizer_create(d, &desc, out);
    vkq__tokenizer_arrays_free(&arrays);
    return st;
}

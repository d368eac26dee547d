/* Synthetic llama-family GGUF models (llama; qwen2 with its attention biases) for tests and the
 * fuzz corpus: the metadata a real model carries, random weights from a seeded generator, any
 * mix of formats per tensor role.
 * Deterministic: the same descriptor gives the same bytes from one build to the next. Across C
 * libraries the last bits of log() and cos() may differ, so tests compare files made in the
 * same run, never against bytes stored elsewhere. */
#include "gguf/gguf.h"

#include "quant/quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long ull; /* for printf */

/* splitmix64: tiny, good enough for test weights, and the same everywhere. */
static uint64_t next_u64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double next_uniform(uint64_t *state) { /* (0, 1) */
    return ((double)(next_u64(state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static float next_normal(uint64_t *state) {
    double u1 = next_uniform(state), u2 = next_uniform(state);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* Roles of the 1-D tensors, always F32: norms (values near 1) and qwen2's attention biases. */
enum { ROLE_NORM = -1, ROLE_BIAS = -2 };

/* One tensor of the model: role (or ROLE_NORM / ROLE_BIAS) and its shape. */
typedef struct spec {
    char name[64];
    int role;
    uint64_t ne0, ne1;
    uint32_t n_dims;
    vkq_type type;
    uint64_t bytes;
} spec;

static vkq_status resolve(vkq__diag *d, const vkq__synth_desc *in, vkq__synth_desc *r,
                          uint32_t *n_vocab) {
    *r = *in;
    if (!r->n_embd) r->n_embd = 256;
    if (!r->n_ff) r->n_ff = 512;
    if (!r->n_layer) r->n_layer = 2;
    if (!r->n_head) r->n_head = 4;
    if (!r->n_head_kv) r->n_head_kv = r->n_head > 1 ? r->n_head / 2 : 1;
    if (!r->n_ctx) r->n_ctx = 256;
    if (r->rope_freq_base == 0.0f) r->rope_freq_base = 10000.0f;
    if (r->norm_eps == 0.0f) r->norm_eps = 1e-5f;
    if (!r->seed) r->seed = 1;
    if (!r->architecture) r->architecture = "llama";
    if (!r->architecture[0] || strlen(r->architecture) > 31) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "synthetic model: architecture name '%s' is "
                                                      "empty or longer than 31 bytes",
                         r->architecture);
    }
    if (!r->name) {
        r->name = !strcmp(r->architecture, "llama")   ? "vkq synthetic llama"
                  : !strcmp(r->architecture, "qwen2") ? "vkq synthetic qwen2"
                                                      : "vkq synthetic model";
    }
    if (r->tokenizer == VKQ__SYNTH_TOKENIZER_DEFAULT) r->tokenizer = VKQ__SYNTH_TOKENIZER_GPT2;
    for (int i = 0; i < VKQ__SYNTH_ROLE_COUNT; i++) {
        if (r->types[i] == VKQ_TYPE_NONE) r->types[i] = VKQ_TYPE_F32;
        if (!vkq__type_info_get(r->types[i])) {
            return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "synthetic model: unknown type %d for "
                                                          "role %d",
                             (int)r->types[i], i);
        }
    }
    if (r->tokenizer > VKQ__SYNTH_TOKENIZER_NONE) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "synthetic model: unknown tokenizer %d",
                         (int)r->tokenizer);
    }
    /* Rotary embedding rotates pairs, so the head size must be even. */
    if (r->n_embd % r->n_head || (r->n_embd / r->n_head) % 2 || r->n_head % r->n_head_kv) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "synthetic model: n_embd %u, n_head %u, "
                                                      "n_head_kv %u do not give an even head "
                                                      "size shared by whole groups",
                         r->n_embd, r->n_head, r->n_head_kv);
    }
    return vkq__synth_vocab_size(d, r->tokenizer, r->n_vocab, n_vocab);
}

static void add_spec(spec *s, size_t *n, const char *name, int role, uint64_t ne0, uint64_t ne1,
                     const vkq__synth_desc *r) {
    spec *t = &s[(*n)++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->role = role;
    t->ne0 = ne0;
    t->ne1 = ne1;
    t->n_dims = role < 0 ? 1 : 2;
    t->type = role < 0 ? VKQ_TYPE_F32 : r->types[role];
}

static bool has_qkv_bias(const vkq__synth_desc *r) { return !strcmp(r->architecture, "qwen2"); }

/* The tensor list in GGUF shape convention: ne0 is the row (input) length. */
static size_t list_tensors(const vkq__synth_desc *r, uint32_t n_vocab, spec *s) {
    size_t n = 0;
    uint64_t e = r->n_embd, kv = (uint64_t)r->n_head_kv * (r->n_embd / r->n_head);
    add_spec(s, &n, "token_embd.weight", VKQ__SYNTH_TOKEN_EMBD, e, n_vocab, r);
    for (uint32_t l = 0; l < r->n_layer; l++) {
        static const struct {
            const char *suffix;
            int role;
        } layer[] = {
            {"attn_norm", ROLE_NORM},
            {"attn_q", VKQ__SYNTH_ATTN_Q},
            {"attn_k", VKQ__SYNTH_ATTN_K},
            {"attn_v", VKQ__SYNTH_ATTN_V},
            {"attn_output", VKQ__SYNTH_ATTN_OUTPUT},
            {"ffn_norm", ROLE_NORM},
            {"ffn_gate", VKQ__SYNTH_FFN_GATE},
            {"ffn_up", VKQ__SYNTH_FFN_UP},
            {"ffn_down", VKQ__SYNTH_FFN_DOWN},
        };
        for (size_t k = 0; k < VKQ__ARRAY_LEN(layer); k++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%u.%s.weight", l, layer[k].suffix);
            int role = layer[k].role;
            uint64_t ne0 = role == VKQ__SYNTH_FFN_DOWN ? r->n_ff : e;
            uint64_t ne1 = role < 0 ? 1
                           : role == VKQ__SYNTH_ATTN_K || role == VKQ__SYNTH_ATTN_V ? kv
                           : role == VKQ__SYNTH_FFN_GATE || role == VKQ__SYNTH_FFN_UP ? r->n_ff
                                                                                       : e;
            add_spec(s, &n, name, role, ne0, ne1, r);
            /* qwen2: a bias after each of the q, k, v weights, one value per output row
             * (n_embd = n_head * head_dim here, since head_dim = n_embd / n_head). */
            if (has_qkv_bias(r) && (role == VKQ__SYNTH_ATTN_Q || role == VKQ__SYNTH_ATTN_K ||
                                    role == VKQ__SYNTH_ATTN_V)) {
                snprintf(name, sizeof name, "blk.%u.%s.bias", l, layer[k].suffix);
                add_spec(s, &n, name, ROLE_BIAS, ne1, 1, r);
            }
        }
    }
    add_spec(s, &n, "output_norm.weight", ROLE_NORM, e, 1, r);
    if (r->untied_output) add_spec(s, &n, "output.weight", VKQ__SYNTH_OUTPUT, e, n_vocab, r);
    return n;
}

/* "<architecture>.<suffix>" in a static-size buffer (the architecture is at most 31 bytes). */
static const char *arch_key(char *buf, size_t size, const vkq__synth_desc *r, const char *suffix) {
    snprintf(buf, size, "%s.%s", r->architecture, suffix);
    return buf;
}

static vkq_status add_metadata(vkq__diag *d, vkq__gguf_writer *w, const vkq__synth_desc *r,
                               uint32_t n_vocab) {
    char k[96];
#define KEY(suffix) arch_key(k, sizeof k, r, suffix)
    vkq_status st = vkq__gguf_writer_add_string(w, "general.architecture", r->architecture);
    if (!st) st = vkq__gguf_writer_add_string(w, "general.type", "model");
    if (!st) st = vkq__gguf_writer_add_string(w, "general.name", r->name);
    if (!st) st = vkq__gguf_writer_add_u32(w, KEY("block_count"), r->n_layer);
    if (!st) st = vkq__gguf_writer_add_u32(w, KEY("context_length"), r->n_ctx);
    if (!st) st = vkq__gguf_writer_add_u32(w, KEY("embedding_length"), r->n_embd);
    if (!st) st = vkq__gguf_writer_add_u32(w, KEY("feed_forward_length"), r->n_ff);
    if (!st) st = vkq__gguf_writer_add_u32(w, KEY("attention.head_count"), r->n_head);
    if (!st) st = vkq__gguf_writer_add_u32(w, KEY("attention.head_count_kv"), r->n_head_kv);
    if (!st) st = vkq__gguf_writer_add_f32(w, KEY("rope.freq_base"), r->rope_freq_base);
    if (!st) st = vkq__gguf_writer_add_f32(w, KEY("attention.layer_norm_rms_epsilon"), r->norm_eps);
    if (!st) st = vkq__gguf_writer_add_u32(w, KEY("vocab_size"), n_vocab);
    if (!st) st = vkq__gguf_writer_add_u32(w, KEY("rope.dimension_count"), r->n_embd / r->n_head);
#undef KEY
    if (!st) st = vkq__gguf_writer_add_u32(w, "general.quantization_version", 2);
    if (!st) st = vkq__synth_add_vocab(d, w, r->tokenizer, n_vocab);
    return st;
}

/* Random rows, converted to the tensor's type one row at a time. */
static vkq_status fill_tensor(vkq__diag *d, const spec *t, uint64_t *rng, float *row,
                              uint8_t *dst, uint64_t row_bytes) {
    float scale = 1.0f / sqrtf((float)t->ne0);
    for (uint64_t r = 0; r < t->ne1; r++) {
        for (uint64_t i = 0; i < t->ne0; i++) {
            /* Norm weights near 1, as trained models have them; matrices scaled so that a
             * product of a unit-variance input keeps unit variance; biases of half that size,
             * large enough to move every q, k and v visibly. */
            row[i] = t->role == ROLE_NORM   ? 1.0f + 0.1f * (float)(2.0 * next_uniform(rng) - 1.0)
                     : t->role == ROLE_BIAS ? 0.5f * next_normal(rng)
                                            : next_normal(rng) * scale;
        }
        uint8_t *out = dst + r * row_bytes;
        if (t->type == VKQ_TYPE_F32) {
            memcpy(out, row, (size_t)row_bytes);
            continue;
        }
        size_t n = vkq__quantize_row(t->type, row, out, (int64_t)t->ne0, NULL, VKQ__QUANT_SEARCH);
        if (n != row_bytes) {
            return vkq__fail(d, VKQ_ERR_UNSUPPORTED, "synthetic model: %s: quantizing a row of "
                                                     "%llu to %s gave %zu bytes, expected %llu",
                             t->name, (ull)t->ne0, vkq_type_name(t->type), n, (ull)row_bytes);
        }
    }
    return VKQ_OK;
}

static vkq_status add_tensors(vkq__diag *d, vkq__gguf_writer *w, const vkq__synth_desc *r,
                              spec *s, size_t n, void **buffers) {
    uint64_t total = 0, max_row = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t row_bytes;
        if (!vkq__row_bytes(s[i].type, s[i].ne0, &row_bytes)) {
            return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "synthetic model: %s: rows of %llu "
                                                          "elements do not fit %s blocks of %u",
                             s[i].name, (ull)s[i].ne0, vkq_type_name(s[i].type),
                             vkq_type_block_elements(s[i].type));
        }
        s[i].bytes = row_bytes * s[i].ne1;
        total += vkq__align_up(s[i].bytes, 64);
        max_row = VKQ__MAX(max_row, s[i].ne0);
    }
    uint8_t *storage = malloc((size_t)total + 1);
    float *row = malloc((size_t)max_row * sizeof *row);
    if (!storage || !row) {
        free(storage);
        free(row);
        return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "synthetic model: out of memory for "
                                                        "%llu bytes of weights",
                         (ull)total);
    }
    *buffers = storage;
    uint64_t rng = r->seed, at = 0;
    vkq_status st = VKQ_OK;
    for (size_t i = 0; i < n && !st; i++) {
        uint64_t ne[2] = {s[i].ne0, s[i].ne1};
        st = fill_tensor(d, &s[i], &rng, row, storage + at, s[i].bytes / s[i].ne1);
        if (!st) st = vkq__gguf_writer_add_tensor(w, s[i].name, s[i].type, s[i].n_dims, ne,
                                                  storage + at);
        at += vkq__align_up(s[i].bytes, 64);
    }
    free(row);
    return st;
}

vkq_status vkq__synth_build(vkq__diag *d, const vkq__synth_desc *desc, vkq__gguf_writer **out,
                            void **buffers) {
    *out = NULL;
    *buffers = NULL;
    vkq__synth_desc zero = {0}, r;
    uint32_t n_vocab = 0;
    vkq_status st = resolve(d, desc ? desc : &zero, &r, &n_vocab);
    if (st) return st;
    size_t max_tensors = 3 + 12 * (size_t)r.n_layer; /* 9 per layer, 12 with biases */
    spec *specs = calloc(max_tensors, sizeof *specs);
    if (!specs) return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "synthetic model: out of memory");
    size_t n = list_tensors(&r, n_vocab, specs);
    vkq__gguf_writer *w = NULL;
    st = vkq__gguf_writer_create(d, &w);
    if (!st) st = add_metadata(d, w, &r, n_vocab);
    if (!st) st = add_tensors(d, w, &r, specs, n, buffers);
    free(specs);
    if (st) {
        vkq__gguf_writer_destroy(w);
        free(*buffers);
        *buffers = NULL;
        return st;
    }
    *out = w;
    return VKQ_OK;
}

vkq_status vkq__synth_write_file(vkq__diag *d, const vkq__synth_desc *desc, const char *path) {
    vkq__gguf_writer *w;
    void *buffers;
    vkq_status st = vkq__synth_build(d, desc, &w, &buffers);
    if (st) return st;
    st = vkq__gguf_writer_write_file(w, path);
    vkq__gguf_writer_destroy(w);
    free(buffers);
    return st;
}

vkq_status vkq__synth_write_memory(vkq__diag *d, const vkq__synth_desc *desc, void **data,
                                   size_t *size) {
    vkq__gguf_writer *w;
    void *buffers;
    vkq_status st = vkq__synth_build(d, desc, &w, &buffers);
    if (st) return st;
    st = vkq__gguf_writer_write_memory(w, data, size);
    vkq__gguf_writer_destroy(w);
    free(buffers);
    return st;
}

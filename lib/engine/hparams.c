/* Hyperparameters of the llama family from GGUF metadata ("<arch>.embedding_length", ...). */
#include "engine/engine.h"

#include <stdio.h>
#include <string.h>

typedef struct arch_desc {
    const char *name;
    vkq_rope_type rope;
    bool qkv_bias;
} arch_desc;

/* Mistral's GGUF files name their architecture "llama"; "mistral" is accepted too. */
static const arch_desc arches[] = {
    {"llama", VKQ_ROPE_NORMAL, false},
    {"mistral", VKQ_ROPE_NORMAL, false},
    {"qwen2", VKQ_ROPE_NEOX, true},
};

static vkq_status get_u32(vkq__diag *d, const vkq_gguf *g, const char *arch, const char *key,
                          bool required, uint32_t fallback, uint32_t *out) {
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    *out = fallback;
    if (vkq_gguf_find_key(g, full) < 0) {
        if (!required) return VKQ_OK;
        return vkq__fail(d, VKQ_ERR_BAD_FILE, "model: metadata key %s is missing", full);
    }
    vkq_status st = vkq_gguf_get_u32(g, full, out);
    if (st) return vkq__fail(d, st, "model: metadata key %s is not an unsigned 32-bit integer", full);
    return VKQ_OK;
}

static vkq_status get_f32(vkq__diag *d, const vkq_gguf *g, const char *arch, const char *key,
                          float fallback, float *out) {
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    *out = fallback;
    if (vkq_gguf_find_key(g, full) < 0) return VKQ_OK;
    vkq_status st = vkq_gguf_get_f32(g, full, out);
    if (st) return vkq__fail(d, st, "model: metadata key %s is not a float", full);
    return VKQ_OK;
}

static vkq_status read_scaling(vkq__diag *d, const vkq_gguf *g, const char *arch, vkq__hparams *hp) {
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    const char *type = NULL;
    if (vkq_gguf_find_key(g, key) < 0 || vkq_gguf_get_string(g, key, &type, NULL) || !strcmp(type, "none")) {
        return VKQ_OK;
    }
    float factor = 1.0f;
    vkq_status st = get_f32(d, g, arch, "rope.scaling.factor", 1.0f, &factor);
    if (st) return st;
    if (strcmp(type, "linear") != 0) {
        return vkq__fail(d, VKQ_ERR_UNSUPPORTED, "model: rope scaling '%s' is not supported (only linear)", type);
    }
    if (!(factor > 0)) return vkq__fail(d, VKQ_ERR_BAD_FILE, "model: rope scaling factor %g", factor);
    hp->freq_scale = 1.0f / factor;
    return VKQ_OK;
}

static vkq_status check(vkq__diag *d, const vkq__hparams *hp) {
    if (!hp->n_embd || !hp->n_layer || !hp->n_head || !hp->n_ff || !hp->n_vocab || !hp->head_dim) {
        return vkq__fail(d, VKQ_ERR_BAD_FILE,
                         "model: zero hyperparameter (n_embd %u, n_layer %u, n_head %u, n_ff %u, n_vocab %u)",
                         hp->n_embd, hp->n_layer, hp->n_head, hp->n_ff, hp->n_vocab);
    }
    if (hp->n_head_kv == 0 || hp->n_head % hp->n_head_kv != 0) {
        return vkq__fail(d, VKQ_ERR_BAD_FILE, "model: %u heads cannot share %u key/value heads",
                         hp->n_head, hp->n_head_kv);
    }
    if (hp->head_dim % 32 != 0 || hp->head_dim > 256) {
        return vkq__fail(d, VKQ_ERR_UNSUPPORTED, "model: head dimension %u (vkq needs a multiple of 32, at most 256)",
                         hp->head_dim);
    }
    if (hp->n_rot == 0 || hp->n_rot > hp->head_dim || hp->n_rot % 2) {
        return vkq__fail(d, VKQ_ERR_BAD_FILE, "model: rope dimension %u for head dimension %u", hp->n_rot, hp->head_dim);
    }
    if (hp->n_layer > 4096 || hp->n_embd > (1u << 20) || hp->n_ff > (1u << 22) || hp->n_vocab > (1u << 24)) {
        return vkq__fail(d, VKQ_ERR_BAD_FILE, "model: implausible sizes (n_layer %u, n_embd %u, n_ff %u, n_vocab %u)",
                         hp->n_layer, hp->n_embd, hp->n_ff, hp->n_vocab);
    }
    return VKQ_OK;
}

vkq_status vkq__hparams_read(vkq__diag *d, const vkq_gguf *g, vkq__hparams *hp) {
    memset(hp, 0, sizeof *hp);
    const char *arch = NULL;
    if (vkq_gguf_find_key(g, "general.architecture") < 0 ||
        vkq_gguf_get_string(g, "general.architecture", &arch, NULL) != VKQ_OK) {
        return vkq__fail(d, VKQ_ERR_BAD_FILE, "model: general.architecture is missing or not a string");
    }
    const arch_desc *a = NULL;
    for (size_t i = 0; i < VKQ__ARRAY_LEN(arches); i++) {
        if (!strcmp(arches[i].name, arch)) a = &arches[i];
    }
    if (!a) {
        return vkq__fail(d, VKQ_ERR_UNSUPPORTED,
                         "model: architecture '%s' is not supported (vkq runs llama, mistral, qwen2)", arch);
    }
    snprintf(hp->arch, sizeof hp->arch, "%s", arch);
    hp->rope = a->rope;
    vkq_status st;
    if ((st = get_u32(d, g, arch, "context_length", false, 2048, &hp->n_ctx_train)) ||
        (st = get_u32(d, g, arch, "embedding_length", true, 0, &hp->n_embd)) ||
        (st = get_u32(d, g, arch, "block_count", true, 0, &hp->n_layer)) ||
        (st = get_u32(d, g, arch, "feed_forward_length", true, 0, &hp->n_ff)) ||
        (st = get_u32(d, g, arch, "attention.head_count", true, 0, &hp->n_head))) {
        return st;
    }
    if ((st = get_u32(d, g, arch, "attention.head_count_kv", false, hp->n_head, &hp->n_head_kv))) return st;
    if (hp->n_head == 0) return vkq__fail(d, VKQ_ERR_BAD_FILE, "model: %s.attention.head_count is 0", arch);
    if ((st = get_u32(d, g, arch, "attention.key_length", false, hp->n_embd / hp->n_head, &hp->head_dim)) ||
        (st = get_u32(d, g, arch, "rope.dimension_count", false, hp->head_dim, &hp->n_rot)) ||
        (st = get_f32(d, g, arch, "rope.freq_base", 10000.0f, &hp->freq_base)) ||
        (st = get_f32(d, g, arch, "attention.layer_norm_rms_epsilon", 1e-5f, &hp->eps))) {
        return st;
    }
    hp->freq_scale = 1.0f;
    if ((st = read_scaling(d, g, arch, hp))) return st;
    /* The vocabulary size: the explicit key, else the embedding table's rows. */
    if ((st = get_u32(d, g, arch, "vocab_size", false, 0, &hp->n_vocab))) return st;
    if (!hp->n_vocab) {
        vkq_gguf_tensor_info t;
        if (vkq_gguf_find_tensor(g, "token_embd.weight") >= 0 &&
            vkq_gguf_tensor_by_name(g, "token_embd.weight", &t) == VKQ_OK && t.n_dims == 2) {
            hp->n_vocab = (uint32_t)t.ne[1];
        }
    }
    hp->tied_output = vkq_gguf_find_tensor(g, "output.weight") < 0;
    hp->qkv_bias = vkq_gguf_find_tensor(g, "blk.0.attn_q.bias") >= 0;
    return check(d, hp);
}

/* Presets for quantizing a model: which format each weight matrix gets, by its role and layer.
 * The rules follow the ecosystem's idea (more bits where the error costs most: the output
 * projection, attention values, the FFN down projection of some layers) and are written out in
 * docs/FORMATS.md; the code is vkq's own. */
#include "quant/presets.h"
#include "quant/quant.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const preset_names[VKQ_QUANTIZE_PRESET_COUNT] = {
    [VKQ_QUANTIZE_PRESET_NONE] = "none",     [VKQ_QUANTIZE_PRESET_Q4_0] = "Q4_0",
    [VKQ_QUANTIZE_PRESET_Q8_0] = "Q8_0",     [VKQ_QUANTIZE_PRESET_Q6_K] = "Q6_K",
    [VKQ_QUANTIZE_PRESET_Q4_K_S] = "Q4_K_S", [VKQ_QUANTIZE_PRESET_Q4_K_M] = "Q4_K_M",
    [VKQ_QUANTIZE_PRESET_Q5_K_M] = "Q5_K_M", [VKQ_QUANTIZE_PRESET_Q3_K_M] = "Q3_K_M",
    [VKQ_QUANTIZE_PRESET_Q2_K] = "Q2_K",     [VKQ_QUANTIZE_PRESET_IQ4_XS] = "IQ4_XS",
};

const char *vkq_quantize_preset_name(vkq_quantize_preset preset) {
    if ((unsigned)preset >= VKQ_QUANTIZE_PRESET_COUNT) return "none";
    return preset_names[preset];
}

vkq_quantize_preset vkq_quantize_preset_from_name(const char *name) {
    if (!name) return VKQ_QUANTIZE_PRESET_NONE;
    for (int i = 1; i < VKQ_QUANTIZE_PRESET_COUNT; i++) {
        if (strcasecmp(preset_names[i], name) == 0) return (vkq_quantize_preset)i;
    }
    return VKQ_QUANTIZE_PRESET_NONE;
}

vkq__tensor_role vkq__tensor_role_of(const char *name, int64_t *layer) {
    *layer = -1;
    if (!strcmp(name, "token_embd.weight")) return VKQ__ROLE_TOKEN_EMBD;
    if (!strcmp(name, "output.weight")) return VKQ__ROLE_OUTPUT;
    unsigned long long n = 0;
    int used = 0;
    if (sscanf(name, "blk.%llu.%n", &n, &used) != 1 || used == 0 || n > INT32_MAX) {
        return VKQ__ROLE_OTHER;
    }
    *layer = (int64_t)n;
    const char *rest = name + used;
    if (!strcmp(rest, "attn_v.weight")) return VKQ__ROLE_ATTN_V;
    if (!strcmp(rest, "attn_output.weight")) return VKQ__ROLE_ATTN_OUTPUT;
    if (!strcmp(rest, "ffn_down.weight")) return VKQ__ROLE_FFN_DOWN;
    return VKQ__ROLE_OTHER;
}

/* The layers where the *_M presets spend more bits: the first and last eighth of the model,
 * where errors matter most, and every third layer in between. */
static bool more_bits_layer(int64_t i, int64_t n) {
    if (i < 0 || n <= 0) return false;
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* The first eighth of the layers (at least one). */
static bool first_layers(int64_t i, int64_t n) {
    return i >= 0 && i < VKQ__MAX(n / 8, 1);
}

vkq_type vkq__preset_choose(vkq_quantize_preset preset, vkq__tensor_role role, int64_t layer,
                            int64_t n_layer, bool tied_output) {
    if (role == VKQ__ROLE_TOKEN_EMBD && tied_output) role = VKQ__ROLE_OUTPUT;
    bool v_or_down = role == VKQ__ROLE_ATTN_V || role == VKQ__ROLE_FFN_DOWN;
    switch (preset) {
    case VKQ_QUANTIZE_PRESET_Q4_0:
        return role == VKQ__ROLE_OUTPUT ? VKQ_TYPE_Q6_K : VKQ_TYPE_Q4_0;
    case VKQ_QUANTIZE_PRESET_Q8_0: return VKQ_TYPE_Q8_0;
    case VKQ_QUANTIZE_PRESET_Q6_K: return VKQ_TYPE_Q6_K;
    case VKQ_QUANTIZE_PRESET_Q4_K_S:
        if (role == VKQ__ROLE_OUTPUT) return VKQ_TYPE_Q6_K;
        return v_or_down && first_layers(layer, n_layer) ? VKQ_TYPE_Q5_K : VKQ_TYPE_Q4_K;
    case VKQ_QUANTIZE_PRESET_Q4_K_M:
        if (role == VKQ__ROLE_OUTPUT) return VKQ_TYPE_Q6_K;
        return v_or_down && more_bits_layer(layer, n_layer) ? VKQ_TYPE_Q6_K : VKQ_TYPE_Q4_K;
    case VKQ_QUANTIZE_PRESET_Q5_K_M:
        if (role == VKQ__ROLE_OUTPUT) return VKQ_TYPE_Q6_K;
        return v_or_down && more_bits_layer(layer, n_layer) ? VKQ_TYPE_Q6_K : VKQ_TYPE_Q5_K;
    case VKQ_QUANTIZE_PRESET_Q3_K_M:
        switch (role) {
        case VKQ__ROLE_OUTPUT: return VKQ_TYPE_Q6_K;
        case VKQ__ROLE_ATTN_V: return layer >= 0 && layer < 2 ? VKQ_TYPE_Q5_K : VKQ_TYPE_Q4_K;
        case VKQ__ROLE_ATTN_OUTPUT: return VKQ_TYPE_Q4_K;
        case VKQ__ROLE_FFN_DOWN:
            return more_bits_layer(layer, n_layer) ? VKQ_TYPE_Q4_K : VKQ_TYPE_Q3_K;
        default: return VKQ_TYPE_Q3_K;
        }
    case VKQ_QUANTIZE_PRESET_Q2_K:
        if (role == VKQ__ROLE_OUTPUT) return VKQ_TYPE_Q6_K;
        return v_or_down ? VKQ_TYPE_Q3_K : VKQ_TYPE_Q2_K;
    case VKQ_QUANTIZE_PRESET_IQ4_XS:
        return role == VKQ__ROLE_OUTPUT ? VKQ_TYPE_Q6_K : VKQ_TYPE_IQ4_XS;
    default: return VKQ_TYPE_NONE;
    }
}

static bool fits(vkq_type t, uint64_t ne0) {
    uint32_t b = vkq_type_block_elements(t);
    return b && ne0 % b == 0;
}

vkq_type vkq__quantize_fallback(vkq_type wanted, uint64_t ne0) {
    if (fits(wanted, ne0)) return wanted;
    /* 256-element formats step to a 32-element one of at least as many bits per weight. */
    vkq_type next = VKQ_TYPE_F16;
    switch (wanted) {
    case VKQ_TYPE_Q2_K:
    case VKQ_TYPE_Q3_K:
    case VKQ_TYPE_IQ4_XS: next = VKQ_TYPE_IQ4_NL; break;
    case VKQ_TYPE_Q4_K: next = VKQ_TYPE_Q5_0; break;
    case VKQ_TYPE_Q5_K: next = VKQ_TYPE_Q5_1; break;
    case VKQ_TYPE_Q6_K: next = VKQ_TYPE_Q8_0; break;
    default: break;
    }
    if (fits(next, ne0)) return next;
    return fits(VKQ_TYPE_F16, ne0) ? VKQ_TYPE_F16 : VKQ_TYPE_F32;
}

/* llama.cpp's LLAMA_FTYPE numbering (general.file_type). */
enum {
    FTYPE_ALL_F32 = 0, FTYPE_F16 = 1, FTYPE_Q4_0 = 2, FTYPE_Q4_1 = 3, FTYPE_Q8_0 = 7,
    FTYPE_Q5_0 = 8, FTYPE_Q5_1 = 9, FTYPE_Q2_K = 10, FTYPE_Q3_K_S = 11, FTYPE_Q3_K_M = 12,
    FTYPE_Q4_K_S = 14, FTYPE_Q4_K_M = 15, FTYPE_Q5_K_S = 16, FTYPE_Q5_K_M = 17, FTYPE_Q6_K = 18,
    FTYPE_IQ4_NL = 25, FTYPE_IQ4_XS = 30, FTYPE_BF16 = 32,
};

uint32_t vkq__preset_file_type(vkq_quantize_preset preset) {
    switch (preset) {
    case VKQ_QUANTIZE_PRESET_Q4_0: return FTYPE_Q4_0;
    case VKQ_QUANTIZE_PRESET_Q8_0: return FTYPE_Q8_0;
    case VKQ_QUANTIZE_PRESET_Q6_K: return FTYPE_Q6_K;
    case VKQ_QUANTIZE_PRESET_Q4_K_S: return FTYPE_Q4_K_S;
    case VKQ_QUANTIZE_PRESET_Q4_K_M: return FTYPE_Q4_K_M;
    case VKQ_QUANTIZE_PRESET_Q5_K_M: return FTYPE_Q5_K_M;
    case VKQ_QUANTIZE_PRESET_Q3_K_M: return FTYPE_Q3_K_M;
    case VKQ_QUANTIZE_PRESET_Q2_K: return FTYPE_Q2_K;
    case VKQ_QUANTIZE_PRESET_IQ4_XS: return FTYPE_IQ4_XS;
    default: return FTYPE_ALL_F32;
    }
}

/* A single type has no ftype of its own for the K-formats: the nearest "_S" mix is named. */
uint32_t vkq__type_file_type(vkq_type type) {
    switch (type) {
    case VKQ_TYPE_F16: return FTYPE_F16;
    case VKQ_TYPE_BF16: return FTYPE_BF16;
    case VKQ_TYPE_Q4_0: return FTYPE_Q4_0;
    case VKQ_TYPE_Q4_1: return FTYPE_Q4_1;
    case VKQ_TYPE_Q5_0: return FTYPE_Q5_0;
    case VKQ_TYPE_Q5_1: return FTYPE_Q5_1;
    case VKQ_TYPE_Q8_0: return FTYPE_Q8_0;
    case VKQ_TYPE_Q2_K: return FTYPE_Q2_K;
    case VKQ_TYPE_Q3_K: return FTYPE_Q3_K_S;
    case VKQ_TYPE_Q4_K: return FTYPE_Q4_K_S;
    case VKQ_TYPE_Q5_K: return FTYPE_Q5_K_S;
    case VKQ_TYPE_Q6_K: return FTYPE_Q6_K;
    case VKQ_TYPE_IQ4_NL: return FTYPE_IQ4_NL;
    case VKQ_TYPE_IQ4_XS: return FTYPE_IQ4_XS;
    default: return FTYPE_ALL_F32;
    }
}

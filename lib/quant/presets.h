/* lib/quant — which type each tensor of a model gets when it is quantized (presets.c), used by
 * vkq_model_quantize (model_quantize.c). Internal. */
#ifndef VKQ_QUANT_PRESETS_H
#define VKQ_QUANT_PRESETS_H

#include "base/base.h"

/* Where a tensor sits in a llama-family model, parsed from its name. */
typedef enum vkq__tensor_role {
    VKQ__ROLE_OTHER = 0, /* any other matrix: gets the preset's base type */
    VKQ__ROLE_TOKEN_EMBD,
    VKQ__ROLE_OUTPUT,
    VKQ__ROLE_ATTN_V,
    VKQ__ROLE_ATTN_OUTPUT,
    VKQ__ROLE_FFN_DOWN,
} vkq__tensor_role;

/* Role of `name`; *layer receives N of "blk.N." (or -1). */
vkq__tensor_role vkq__tensor_role_of(const char *name, int64_t *layer);

/* The type the preset's rules give a weight matrix. tied_output: the model has no
 * output.weight, so token_embd doubles as the output projection and gets the output rule. */
vkq_type vkq__preset_choose(vkq_quantize_preset preset, vkq__tensor_role role, int64_t layer,
                            int64_t n_layer, bool tied_output);

/* A type whose block fits a row of ne0 elements, in the spirit of `wanted` (ne0 a multiple of
 * wanted's block: wanted itself); F32 when nothing else fits. */
vkq_type vkq__quantize_fallback(vkq_type wanted, uint64_t ne0);

/* llama.cpp's general.file_type (LLAMA_FTYPE_*) for a preset, or for a single target type. */
uint32_t vkq__preset_file_type(vkq_quantize_preset preset);
uint32_t vkq__type_file_type(vkq_type type);

#endif

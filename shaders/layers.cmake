# The transformer layer ops other than the weight products (lib/ops/layers.h). One row per
# variant: the cache type of the KV kernels is a #define (it changes the data layout); the
# reduction method of the row kernels is a #define with its REQUIRES (subgroup arithmetic, else
# shared memory). Workgroup sizes, head_dim, GQA ratio and tile sizes are specialization constants.

vkq_shader(rms_norm rms_norm.comp)
vkq_shader(rms_norm_sg rms_norm.comp DEFINES LAYERS_SUBGROUP REQUIRES subgroup)
vkq_shader(softmax softmax.comp)
vkq_shader(softmax_sg softmax.comp DEFINES LAYERS_SUBGROUP REQUIRES subgroup)
vkq_shader(argmax argmax.comp)
vkq_shader(swiglu swiglu.comp)
vkq_shader(silu swiglu.comp DEFINES OP_SILU)
vkq_shader(rope rope.comp)
vkq_shader(sumsq sumsq.comp)

vkq_shader(kv_write_f16 kv_write.comp DEFINES KV_F16)
vkq_shader(kv_write_q8_0 kv_write.comp DEFINES KV_Q8_0)
vkq_shader(kv_write_q4_0 kv_write.comp DEFINES KV_Q4_0)

vkq_shader(attention_prefill_f16 attention_prefill.comp DEFINES KV_F16)
vkq_shader(attention_prefill_q8_0 attention_prefill.comp DEFINES KV_Q8_0)
vkq_shader(attention_prefill_q4_0 attention_prefill.comp DEFINES KV_Q4_0)
vkq_shader(attention_decode_f16 attention_decode.comp DEFINES KV_F16)
vkq_shader(attention_decode_q8_0 attention_decode.comp DEFINES KV_Q8_0)
vkq_shader(attention_decode_q4_0 attention_decode.comp DEFINES KV_Q4_0)
vkq_shader(attention_reduce attention_reduce.comp)
vkq_shader(sample sample.comp)

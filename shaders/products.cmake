# Weight products, one row per (kernel, format): see shaders/formats/formats.glsl for what a
# format include provides. Every row reads weights as 32-bit words, so needs nothing beyond
# Vulkan 1.1. matvec also comes as matvec_swiglu (gate+up+SiLU of a feed-forward block in one
# pass, for decode), and both have a subgroup-reduction variant (_sg), chosen at run time when
# the device has subgroup arithmetic.
#
# The integer-dot-product matvec (matvec_dot_<fmt>, _sg) reads activations quantized to Q8_1 by
# quantize_q8_1 and exists for the formats whose blocks are 32 elements with one scale; it
# declares OpSDotKHR through GL_EXT_spirv_intrinsics (shaders/dot_formats.glsl), so it REQUIRES
# the `dot` probe, and runs where the device has shaderIntegerDotProduct.
#
# Not here, because this build machine's glslc cannot compile it (see docs/PERFORMANCE.md):
# cooperative-matrix matmul (GL_KHR_cooperative_matrix).

function(vkq_product_format fmt)
  string(TOUPPER ${fmt} F)
  vkq_shader(matvec_${fmt} matvec.comp DEFINES FMT_${F})
  vkq_shader(matvec_${fmt}_sg matvec.comp DEFINES FMT_${F} USE_SUBGROUP REQUIRES subgroup)
  vkq_shader(matvec_swiglu_${fmt} matvec.comp DEFINES FMT_${F} SWIGLU)
  vkq_shader(matvec_swiglu_${fmt}_sg matvec.comp DEFINES FMT_${F} SWIGLU USE_SUBGROUP REQUIRES subgroup)
  vkq_shader(matmul_${fmt} matmul.comp DEFINES FMT_${F})
  vkq_shader(get_rows_${fmt} get_rows.comp DEFINES FMT_${F})
  set(VKQ_SHADER_SOURCES ${VKQ_SHADER_SOURCES} PARENT_SCOPE)
  set(_vkq_table_decls "${_vkq_table_decls}" PARENT_SCOPE)
  set(_vkq_table_entries "${_vkq_table_entries}" PARENT_SCOPE)
endfunction()

vkq_product_format(f32)
vkq_product_format(f16)
vkq_product_format(bf16)
vkq_product_format(q4_0)
vkq_product_format(q4_1)
vkq_product_format(q5_0)
vkq_product_format(q5_1)
vkq_product_format(q8_0)
vkq_product_format(q2_k)
vkq_product_format(q3_k)
vkq_product_format(q4_k)
vkq_product_format(q5_k)
vkq_product_format(q6_k)
vkq_product_format(iq4_nl)
vkq_product_format(iq4_xs)

# Q8_1 activations and the integer-dot-product matvec on them (lib/ops/matvec_dot.c).
vkq_shader(quantize_q8_1 quantize_q8_1.comp)
foreach(fmt q4_0 q4_1 q5_0 q5_1 q8_0)
  string(TOUPPER ${fmt} F)
  vkq_shader(matvec_dot_${fmt} matvec_dot.comp DEFINES FMT_${F} REQUIRES dot)
  vkq_shader(matvec_dot_${fmt}_sg matvec_dot.comp DEFINES FMT_${F} USE_SUBGROUP REQUIRES dot subgroup)
endforeach()

# Every shader module of vkq, one row each: name (as lib/ops looks it up), source, the #defines
# of the variant, and the compiler features it needs (see cmake/shaders.cmake). Device-dependent
# choices (workgroup size, rows per workgroup, tiles) are specialization constants, not rows.

vkq_shader(copy copy.comp)
vkq_shader(add_f32 elementwise.comp DEFINES OP_ADD)
vkq_shader(mul_f32 elementwise.comp DEFINES OP_MUL)

# The other families keep their rows in their own table files.
include(${VKQ_SHADER_DIR}/products.cmake OPTIONAL)  # matvec, matmul, get_rows (per weight format)
include(${VKQ_SHADER_DIR}/layers.cmake OPTIONAL)    # norm, rope, attention, activations, sampling

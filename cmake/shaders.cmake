# Shaders: every row of shaders/shaders.cmake becomes one SPIR-V module, compiled with glslc (or
# glslangValidator), validated with spirv-val, and embedded in libvkq as a uint32_t array.
# Variants that need a GLSL extension the compiler lacks are left out, and the library learns
# which exist from the generated table (lib/gpu picks variants at run time from that and from
# the device's capabilities).

find_program(VKQ_GLSLC glslc)
find_program(VKQ_GLSLANG glslangValidator)
find_program(VKQ_SPIRV_VAL spirv-val)
if(NOT VKQ_GLSLC AND NOT VKQ_GLSLANG)
  message(FATAL_ERROR "vkq needs glslc (package glslc) or glslangValidator (glslang-tools)")
endif()
if(NOT VKQ_SPIRV_VAL)
  message(FATAL_ERROR "vkq needs spirv-val (package spirv-tools)")
endif()

set(VKQ_SHADER_DIR ${PROJECT_SOURCE_DIR}/shaders)
set(VKQ_SHADER_OUT ${PROJECT_BINARY_DIR}/shaders)
set(VKQ_SHADER_INCLUDE_DIR ${PROJECT_BINARY_DIR}/shaders)
file(MAKE_DIRECTORY ${VKQ_SHADER_OUT})

# The Vulkan environment shaders are built for: 1.1 is vkq's floor (Android, older drivers).
set(VKQ_SPIRV_ENV vulkan1.1)
# Cooperative matrices need SPIR-V 1.6 / Vulkan 1.3 environments.
set(VKQ_SPIRV_ENV_COOPMAT vulkan1.3)

function(_vkq_compile_cmd out_var src spv defines env)
  set(defs "")
  foreach(d ${defines})
    list(APPEND defs "-D${d}")
  endforeach()
  if(VKQ_GLSLC)
    set(${out_var} ${VKQ_GLSLC} -O --target-env=${env} -I${VKQ_SHADER_DIR} ${defs}
        -fshader-stage=compute ${src} -o ${spv} PARENT_SCOPE)
  else()
    set(${out_var} ${VKQ_GLSLANG} -V --target-env ${env} -I${VKQ_SHADER_DIR} ${defs}
        -S comp ${src} -o ${spv} PARENT_SCOPE)
  endif()
endfunction()

# Feature probes: can the compiler build (and spirv-val accept) a shader that uses feature X?
function(_vkq_probe_source feature what env source)
  set(src ${VKQ_SHADER_OUT}/probe_${feature}.comp)
  set(spv ${VKQ_SHADER_OUT}/probe_${feature}.spv)
  file(WRITE ${src} "${source}")
  _vkq_compile_cmd(cmd ${src} ${spv} "" ${env})
  execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0)
    execute_process(COMMAND ${VKQ_SPIRV_VAL} --target-env ${env} ${spv} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  endif()
  if(rc EQUAL 0)
    set(VKQ_SHADER_HAS_${feature} ON PARENT_SCOPE)
    message(STATUS "vkq shaders: ${feature} (${what}) yes")
  else()
    set(VKQ_SHADER_HAS_${feature} OFF PARENT_SCOPE)
    message(STATUS "vkq shaders: ${feature} (${what}) no")
  endif()
endfunction()

# ... one that enables extension X?
function(_vkq_probe feature extension env)
  _vkq_probe_source(${feature} ${extension} ${env}
                    "#version 450\n#extension ${extension} : require\nlayout(local_size_x = 1) in;\nvoid main() {}\n")
  set(VKQ_SHADER_HAS_${feature} ${VKQ_SHADER_HAS_${feature}} PARENT_SCOPE)
endfunction()

_vkq_probe(float16 GL_EXT_shader_explicit_arithmetic_types_float16 ${VKQ_SPIRV_ENV})
_vkq_probe(int8 GL_EXT_shader_explicit_arithmetic_types_int8 ${VKQ_SPIRV_ENV})
_vkq_probe(storage16 GL_EXT_shader_16bit_storage ${VKQ_SPIRV_ENV})
_vkq_probe(storage8 GL_EXT_shader_8bit_storage ${VKQ_SPIRV_ENV})
_vkq_probe(subgroup GL_KHR_shader_subgroup_arithmetic ${VKQ_SPIRV_ENV})
# The integer dot product is declared through GL_EXT_spirv_intrinsics (shaders/dot_formats.glsl):
# glslang has that extension from version 11.6 on, long before GL_EXT_integer_dot_product. The
# probe compiles and validates the very declaration the kernels use.
_vkq_probe_source(dot "GL_EXT_spirv_intrinsics, OpSDotKHR" ${VKQ_SPIRV_ENV}
"#version 450
#extension GL_EXT_spirv_intrinsics : require
spirv_instruction(extensions = [\"SPV_KHR_integer_dot_product\"], capabilities = [6019, 6018], id = 4450)
int sdot_4x8_packed(uint a, uint b, spirv_literal int packed_vector_format);
layout(local_size_x = 1) in;
layout(std430, binding = 0) buffer B { uint v[]; };
void main() { v[0] = uint(sdot_4x8_packed(v[1], v[2], 0)); }
")
_vkq_probe(coopmat GL_KHR_cooperative_matrix ${VKQ_SPIRV_ENV_COOPMAT})

set(VKQ_SHADER_SOURCES "")
set(_vkq_table_entries "")
set(_vkq_table_decls "")

# vkq_shader(NAME SOURCE [DEFINES d1 d2 ...] [REQUIRES f1 f2 ...])
#   NAME: the name lib/ops looks the module up by (matches the C op: "matvec_q4_0")
#   REQUIRES: compiler features from the probes above; the row is skipped without them
#   (the device's own capabilities are checked again at run time).
function(vkq_shader name source)
  cmake_parse_arguments(S "" "" "DEFINES;REQUIRES" ${ARGN})
  set(features 0)
  set(env ${VKQ_SPIRV_ENV})
  foreach(r ${S_REQUIRES})
    if(NOT VKQ_SHADER_HAS_${r})
      return()
    endif()
    string(TOUPPER ${r} R)
    set(features "${features} | VKQ__SHADER_NEEDS_${R}")
    if(r STREQUAL "coopmat")
      set(env ${VKQ_SPIRV_ENV_COOPMAT})
    endif()
  endforeach()
  set(src ${VKQ_SHADER_DIR}/${source})
  set(spv ${VKQ_SHADER_OUT}/${name}.spv)
  set(cfile ${VKQ_SHADER_OUT}/${name}.spv.c)
  _vkq_compile_cmd(cmd ${src} ${spv} "${S_DEFINES}" ${env})
  file(GLOB includes ${VKQ_SHADER_DIR}/*.glsl ${VKQ_SHADER_DIR}/formats/*.glsl)
  add_custom_command(
    OUTPUT ${cfile}
    COMMAND ${cmd}
    COMMAND ${VKQ_SPIRV_VAL} --target-env ${env} ${spv}
    COMMAND ${CMAKE_COMMAND} -DIN=${spv} -DOUT=${cfile} -DNAME=${name} "-DNEEDS=${features}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_spirv.cmake
    DEPENDS ${src} ${includes} ${PROJECT_SOURCE_DIR}/cmake/embed_spirv.cmake
    COMMENT "shader ${name}"
    VERBATIM)
  set(VKQ_SHADER_SOURCES ${VKQ_SHADER_SOURCES} ${cfile} PARENT_SCOPE)
  set(_vkq_table_decls "${_vkq_table_decls}extern const vkq__shader_module vkq__spv_${name};\n" PARENT_SCOPE)
  set(_vkq_table_entries "${_vkq_table_entries}    &vkq__spv_${name},\n" PARENT_SCOPE)
endfunction()

include(${VKQ_SHADER_DIR}/shaders.cmake)

set(_feature_defs "")
foreach(f float16 int8 storage16 storage8 subgroup dot coopmat)
  string(TOUPPER ${f} F)
  if(VKQ_SHADER_HAS_${f})
    set(_feature_defs "${_feature_defs}#define VKQ_SHADERS_HAVE_${F} 1\n")
  else()
    set(_feature_defs "${_feature_defs}#define VKQ_SHADERS_HAVE_${F} 0\n")
  endif()
endforeach()

file(WRITE ${VKQ_SHADER_OUT}/shader_table.c.tmp
"/* Generated by cmake/shaders.cmake from shaders/shaders.cmake. Do not edit. */
#include \"gpu/shader_table.h\"

${_vkq_table_decls}
const vkq__shader_module *const vkq__shader_modules[] = {
${_vkq_table_entries}    0,
};
")
file(WRITE ${VKQ_SHADER_OUT}/shader_features.h.tmp
"/* Generated by cmake/shaders.cmake: which GLSL extensions this build's compiler supported. */
#ifndef VKQ_SHADER_FEATURES_H
#define VKQ_SHADER_FEATURES_H
${_feature_defs}#endif
")
# Only touch the outputs when they change, so that a re-configure does not rebuild everything.
configure_file(${VKQ_SHADER_OUT}/shader_table.c.tmp ${VKQ_SHADER_OUT}/shader_table.c COPYONLY)
configure_file(${VKQ_SHADER_OUT}/shader_features.h.tmp ${VKQ_SHADER_OUT}/shader_features.h COPYONLY)
list(APPEND VKQ_SHADER_SOURCES ${VKQ_SHADER_OUT}/shader_table.c)
add_custom_target(vkq_shaders DEPENDS ${VKQ_SHADER_SOURCES})

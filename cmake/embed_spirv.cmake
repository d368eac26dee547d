# cmake -DIN=x.spv -DOUT=x.spv.c -DNAME=shader_name -DNEEDS="0 | ..." -P embed_spirv.cmake
# Writes the SPIR-V words as a uint32_t array: 4-byte aligned by type, endianness-neutral source.
# With NEEDS: an entry of the library's shader table (gpu/shader_table.h). Without (the viewer's
# shaders): plain `const uint32_t NAME[]` and `const size_t NAME_size`.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR rem "${n} % 8")
if(NOT rem EQUAL 0 OR n EQUAL 0)
  message(FATAL_ERROR "${IN}: size is not a multiple of 4 bytes")
endif()
# Bytes are little-endian words in the file: swap each group of four bytes into a C literal.
string(REGEX REPLACE "(..)(..)(..)(..)" "0x\\4\\3\\2\\1u," words "${hex}")
string(REGEX REPLACE "((0x[0-9a-f]+u,){8})" "\\1\n    " words "${words}")
math(EXPR count "${n} / 8")
if(NOT DEFINED NEEDS)
  file(WRITE ${OUT} "/* Generated from ${IN}. Do not edit. */
#include <stddef.h>
#include <stdint.h>

const uint32_t ${NAME}[${count}] = {
    ${words}
};
const size_t ${NAME}_size = sizeof(${NAME});
")
  return()
endif()
file(WRITE ${OUT} "/* Generated from ${IN}. Do not edit. */
#include \"gpu/shader_table.h\"

static const uint32_t words[${count}] = {
    ${words}
};
const vkq__shader_module vkq__spv_${NAME} = {\"${NAME}\", words, sizeof(words), ${NEEDS}};
")

/* The embedded SPIR-V modules, generated from shaders/shaders.cmake (see cmake/shaders.cmake). */
#ifndef VKQ_SHADER_TABLE_H
#define VKQ_SHADER_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* What a module needs from the device beyond the Vulkan 1.1 floor. */
enum {
    VKQ__SHADER_NEEDS_FLOAT16 = 1u << 0,
    VKQ__SHADER_NEEDS_INT8 = 1u << 1,
    VKQ__SHADER_NEEDS_STORAGE16 = 1u << 2,
    VKQ__SHADER_NEEDS_STORAGE8 = 1u << 3,
    VKQ__SHADER_NEEDS_SUBGROUP = 1u << 4,
    VKQ__SHADER_NEEDS_DOT = 1u << 5,
    VKQ__SHADER_NEEDS_COOPMAT = 1u << 6,
};

typedef struct vkq__shader_module {
    const char *name;      /* "matvec_q4_0" */
    const uint32_t *code;  /* SPIR-V words */
    size_t size;           /* bytes */
    uint32_t needs;        /* VKQ__SHADER_NEEDS_* */
} vkq__shader_module;

/* Terminated by NULL. */
extern const vkq__shader_module *const vkq__shader_modules[];

#endif

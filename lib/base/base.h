/* lib/base — status messages, logging, files. Internal to libvkq (names vkq__*). */
#ifndef VKQ_BASE_H
#define VKQ_BASE_H

#include "vkq.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define VKQ__PRINTF(fmt_index, arg_index) __attribute__((format(printf, fmt_index, arg_index)))
#else
#define VKQ__PRINTF(fmt_index, arg_index)
#endif

#define VKQ__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define VKQ__MIN(a, b) ((a) < (b) ? (a) : (b))
#define VKQ__MAX(a, b) ((a) > (b) ? (a) : (b))

/* Where errors and log lines go. Every handle that can fail owns one (a context owns the one
 * its children share); lower layers (gguf, quant) take a pointer to it so that they can explain
 * a failure without knowing what is above them. */
typedef struct vkq__diag {
    char message[1024];
    vkq_log_fn log;
    void *log_user_data;
    vkq_log_level log_level;
} vkq__diag;

/* Records `status` with a formatted message and returns `status`, so that callers can write
 * `return vkq__fail(d, VKQ_ERR_BAD_FILE, "tensor %s: ...", name);`. The message is also logged
 * at VKQ_LOG_ERROR. `d` may be NULL (the message is dropped). */
/* The diagnostic record of a context (implemented in gpu/context.c, where the context lives):
 * layers below the GPU report through it without knowing the rest of the context. NULL-safe. */
vkq__diag *vkq__context_diag(vkq_context *ctx);

vkq_status vkq__fail(vkq__diag *d, vkq_status status, const char *fmt, ...) VKQ__PRINTF(3, 4);
vkq_status vkq__failv(vkq__diag *d, vkq_status status, const char *fmt, va_list ap);

/* Prepends "prefix: " to the current message (adds context on the way up). Returns status. */
vkq_status vkq__wrap(vkq__diag *d, vkq_status status, const char *fmt, ...) VKQ__PRINTF(3, 4);

void vkq__log(vkq__diag *d, vkq_log_level level, const char *fmt, ...) VKQ__PRINTF(3, 4);

/* Allocation that never aborts: NULL on failure (callers report VKQ_ERR_OUT_OF_HOST_MEMORY). */
void *vkq__calloc(size_t count, size_t size);

/* Overflow-checked arithmetic: false when the result does not fit. */
static inline bool vkq__mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool vkq__add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}
static inline uint64_t vkq__align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* A read-only memory map of a whole file. */
typedef struct vkq__mapped_file {
    const uint8_t *data;
    uint64_t size;
    void *impl; /* platform detail */
} vkq__mapped_file;

vkq_status vkq__file_map(vkq__diag *d, const char *path, vkq__mapped_file *out);
void vkq__file_unmap(vkq__mapped_file *f);

/* Writes a whole file atomically: to "path.tmp.<pid>", flushed, then renamed over `path`; on any
 * failure the temporary is removed and `path` is untouched. */
vkq_status vkq__file_write_atomic(vkq__diag *d, const char *path, const void *data, size_t size);

/* Reads a whole small file into a new buffer (free with free()). VKQ_ERR_NOT_FOUND if absent. */
vkq_status vkq__file_read(vkq__diag *d, const char *path, void **data, size_t *size);

/* Creates a directory and its parents (like mkdir -p). */
vkq_status vkq__mkdirs(vkq__diag *d, const char *path);

/* The documented debugging switches, read in one place (base/env.c). */
typedef struct vkq__env {
    bool validate; /* VKQ_VALIDATE=1 */
    int fuse;      /* VKQ_FUSE: 0 no fused products, 2 ("all") every fusion on every device, 1 (unset
                      or anything else) the device's choice */
    int dot;       /* VKQ_DOT: 1 (any non-empty value but "0"): integer-dot products wherever
                      the device has the feature; 0 or -1 (unset or empty): none */
} vkq__env;
vkq__env vkq__env_read(void);

#endif

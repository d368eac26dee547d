/* lib/ops — one file per kernel family: binds buffers, picks the shader variant, records the
 * dispatches; beside each, the CPU reference of the same op that the tests compare with. */
#ifndef VKQ_OPS_H
#define VKQ_OPS_H

#include "gpu/gpu.h"

/* Workgroup count for a grid-stride kernel over n items: enough to fill any GPU, never more
 * than the device allows. */
uint32_t vkq__grid_groups(vkq_context *ctx, uint64_t n, uint32_t local_size);
/* The workgroup size for simple streaming kernels on this device. */
uint32_t vkq__stream_local_size(vkq_context *ctx);
/* Largest chunk (bytes) of a binding: the storage-range limit rounded down to the offset
 * alignment and to `granule` (the element or row size). */
uint64_t vkq__chunk_bytes(vkq_context *ctx, uint64_t granule);

/* copy: dst = src; size a multiple of 16 bytes, the same for both. Split into several dispatches
 * when larger than maxStorageBufferRange. */
vkq_status vkq__op_copy(vkq__recording *rec, vkq__view src, vkq__view dst);
void vkq__ref_copy(const void *src, void *dst, uint64_t bytes);

/* Element-wise binary ops on n float32 values (views hold at least n floats each). */
typedef enum vkq__binary_op { VKQ__BINARY_ADD, VKQ__BINARY_MUL } vkq__binary_op;
vkq_status vkq__op_binary(vkq__recording *rec, vkq__binary_op op, vkq__view a, vkq__view b,
                          vkq__view out, uint64_t n);
void vkq__ref_binary(vkq__binary_op op, const float *a, const float *b, float *out, uint64_t n);

#endif

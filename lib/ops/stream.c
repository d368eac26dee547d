/* Streaming kernels: copy (the bandwidth probe) and element-wise binary ops, with their CPU
 * references. Both split bindings larger than maxStorageBufferRange into chunks. */
#include "ops/ops.h"

#include <string.h>

typedef struct copy_push {
    uint32_t n;
} copy_push;
_Static_assert(sizeof(copy_push) == 4, "mirrors Push in shaders/copy.comp");

typedef struct binary_push {
    uint32_t n;
} binary_push;
_Static_assert(sizeof(binary_push) == 4, "mirrors Push in shaders/elementwise.comp");

uint32_t vkq__stream_local_size(vkq_context *ctx) {
    return VKQ__MIN(256u, ctx->caps.info.max_workgroup_invocations);
}

uint32_t vkq__grid_groups(vkq_context *ctx, uint64_t n, uint32_t local_size) {
    uint64_t groups = (n + local_size - 1) / local_size;
    /* 4096 groups keep every GPU busy; beyond that the grid-stride loop does the rest. */
    uint64_t cap = VKQ__MIN(4096u, ctx->caps.info.max_workgroup_count[0]);
    if (groups > cap) groups = cap;
    return groups ? (uint32_t)groups : 1;
}

uint64_t vkq__chunk_bytes(vkq_context *ctx, uint64_t granule) {
    uint64_t align = VKQ__MAX(ctx->caps.info.min_storage_buffer_offset_alignment, 1u);
    uint64_t limit = ctx->caps.max_storage_range;
    /* A multiple of both the offset alignment and the granule, as large as the range allows;
     * uint32 indexing in the shaders bounds it too. */
    uint64_t unit = align * granule;
    uint64_t chunk = limit / unit * unit;
    if (chunk > (1ull << 31)) chunk = (1ull << 31) / unit * unit;
    return chunk ? chunk : granule;
}

vkq_status vkq__op_copy(vkq__recording *rec, vkq__view src, vkq__view dst) {
    vkq_context *ctx = vkq__recording_context(rec);
    if (src.size != dst.size || src.size % 16) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "copy: sizes %llu and %llu must be equal multiples of 16 bytes",
                         (unsigned long long)src.size, (unsigned long long)dst.size);
    }
    uint32_t ls = vkq__stream_local_size(ctx);
    vkq__pipeline_desc d = {.shader = "copy", .n_bindings = 2, .push_size = sizeof(copy_push),
                            .spec = {ls}, .n_spec = 1};
    const vkq__pipeline *p;
    vkq_status st = vkq__pipeline_get(ctx, &d, &p);
    if (st) return st;
    uint64_t chunk = vkq__chunk_bytes(ctx, 16);
    for (uint64_t off = 0; off < src.size; off += chunk) {
        uint64_t bytes = VKQ__MIN(chunk, src.size - off);
        vkq__view v[2] = {{src.buffer, src.offset + off, bytes}, {dst.buffer, dst.offset + off, bytes}};
        copy_push push = {(uint32_t)(bytes / 16)};
        st = vkq__recording_dispatch(rec, p, v, &push, vkq__grid_groups(ctx, push.n, ls), 1, 1);
        if (st) return st;
    }
    return VKQ_OK;
}

void vkq__ref_copy(const void *src, void *dst, uint64_t bytes) { memcpy(dst, src, bytes); }

vkq_status vkq__op_binary(vkq__recording *rec, vkq__binary_op op, vkq__view a, vkq__view b,
                          vkq__view out, uint64_t n) {
    vkq_context *ctx = vkq__recording_context(rec);
    static const char *const shaders[] = {[VKQ__BINARY_ADD] = "add_f32", [VKQ__BINARY_MUL] = "mul_f32"};
    if ((unsigned)op >= VKQ__ARRAY_LEN(shaders) || a.size < n * 4 || b.size < n * 4 || out.size < n * 4) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "binary op %d on %llu floats: bindings of %llu, %llu, %llu bytes", (int)op,
                         (unsigned long long)n, (unsigned long long)a.size, (unsigned long long)b.size,
                         (unsigned long long)out.size);
    }
    uint32_t ls = vkq__stream_local_size(ctx);
    vkq__pipeline_desc d = {.shader = shaders[op], .n_bindings = 3, .push_size = sizeof(binary_push),
                            .spec = {ls}, .n_spec = 1};
    const vkq__pipeline *p;
    vkq_status st = vkq__pipeline_get(ctx, &d, &p);
    if (st) return st;
    uint64_t chunk = vkq__chunk_bytes(ctx, 4) / 4;
    for (uint64_t i = 0; i < n; i += chunk) {
        uint64_t m = VKQ__MIN(chunk, n - i);
        vkq__view v[3] = {{a.buffer, a.offset + i * 4, m * 4},
                          {b.buffer, b.offset + i * 4, m * 4},
                          {out.buffer, out.offset + i * 4, m * 4}};
        binary_push push = {(uint32_t)m};
        st = vkq__recording_dispatch(rec, p, v, &push, vkq__grid_groups(ctx, m, ls), 1, 1);
        if (st) return st;
    }
    return VKQ_OK;
}

void vkq__ref_binary(vkq__binary_op op, const float *a, const float *b, float *out, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) out[i] = op == VKQ__BINARY_ADD ? a[i] + b[i] : a[i] * b[i];
}

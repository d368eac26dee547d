/* Memory: a few large VkDeviceMemory blocks, each bound to one VkBuffer, suballocated by a
 * first-fit free list. Drivers limit the number of allocations (4096 is common) and their size
 * (maxMemoryAllocationSize), so tensors never get an allocation of their own unless they are
 * larger than a block. */
#include "gpu/gpu.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_BLOCK_SIZE (256ull << 20)
#define STAGING_SIZE (32ull << 20)

typedef struct vkq__range {
    uint64_t offset, size;
} vkq__range;

struct vkq__block {
    vkq__block *next;
    VkDeviceMemory memory;
    VkBuffer buffer;
    uint64_t size;
    uint8_t *mapped;
    vkq__range *free; /* sorted by offset, coalesced */
    uint32_t n_free, cap_free;
    uint32_t n_live;
};

static uint64_t alignment(const vkq_context *ctx) {
    uint64_t a = ctx->caps.info.min_storage_buffer_offset_alignment;
    /* 256 also covers nonCoherentAtomSize everywhere and keeps vec4 loads aligned. */
    return a > 256 ? a : 256;
}

static int find_memory_type(const vkq_context *ctx, uint32_t bits, VkMemoryPropertyFlags need,
                            VkMemoryPropertyFlags want) {
    int fallback = -1;
    for (uint32_t t = 0; t < ctx->mem_props.memoryTypeCount; t++) {
        VkMemoryPropertyFlags f = ctx->mem_props.memoryTypes[t].propertyFlags;
        if (!(bits & (1u << t)) || (f & need) != need) continue;
        if ((f & want) == want) return (int)t;
        if (fallback < 0) fallback = (int)t;
    }
    return fallback;
}

static vkq_status block_create(vkq_context *ctx, vkq__mem_kind kind, uint64_t size,
                               const char *what, vkq__block **out) {
    vkq__block *b = vkq__calloc(1, sizeof *b);
    if (!b) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "%s: no host memory", what);
    b->size = size;
    VkBufferCreateInfo binfo = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                                .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                         VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                         VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = vkCreateBuffer(ctx->device, &binfo, NULL, &b->buffer);
    if (r != VK_SUCCESS) {
        free(b);
        return vkq__vk_fail(ctx, r, "vkCreateBuffer", what);
    }
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(ctx->device, b->buffer, &req);
    const VkMemoryPropertyFlags coherent =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int type = kind == VKQ__MEM_DEVICE
                   ? find_memory_type(ctx, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, coherent)
                   : find_memory_type(ctx, req.memoryTypeBits, coherent, VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    if (type < 0 && kind == VKQ__MEM_DEVICE) type = find_memory_type(ctx, req.memoryTypeBits, 0, 0);
    if (type < 0) {
        vkDestroyBuffer(ctx->device, b->buffer, NULL);
        free(b);
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED, "%s: no suitable memory type", what);
    }
    VkMemoryAllocateInfo ainfo = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                  .allocationSize = req.size, .memoryTypeIndex = (uint32_t)type};
    r = vkAllocateMemory(ctx->device, &ainfo, NULL, &b->memory);
    if (r == VK_SUCCESS) r = vkBindBufferMemory(ctx->device, b->buffer, b->memory, 0);
    VkMemoryPropertyFlags flags = ctx->mem_props.memoryTypes[type].propertyFlags;
    if (r == VK_SUCCESS && (flags & coherent) == coherent) {
        void *p = NULL;
        r = vkMapMemory(ctx->device, b->memory, 0, VK_WHOLE_SIZE, 0, &p);
        b->mapped = p;
    }
    if (r != VK_SUCCESS) {
        if (b->memory) vkFreeMemory(ctx->device, b->memory, NULL);
        vkDestroyBuffer(ctx->device, b->buffer, NULL);
        free(b);
        vkq__vk_fail(ctx, r, "vkAllocateMemory", what);
        return vkq__wrap(&ctx->diag, r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? VKQ_ERR_OUT_OF_DEVICE_MEMORY : VKQ_ERR_VULKAN,
                         "allocating a %llu MiB block", (unsigned long long)(size >> 20));
    }
    b->free = malloc(4 * sizeof *b->free);
    if (!b->free) {
        vkFreeMemory(ctx->device, b->memory, NULL);
        vkDestroyBuffer(ctx->device, b->buffer, NULL);
        free(b);
        return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "%s: no host memory", what);
    }
    b->cap_free = 4;
    b->n_free = 1;
    b->free[0] = (vkq__range){0, size};
    *out = b;
    return VKQ_OK;
}

static void block_destroy(vkq_context *ctx, vkq__block *b) {
    if (b->mapped) vkUnmapMemory(ctx->device, b->memory);
    vkDestroyBuffer(ctx->device, b->buffer, NULL);
    vkFreeMemory(ctx->device, b->memory, NULL);
    free(b->free);
    free(b);
}

static bool block_take(vkq__block *b, uint64_t size, uint64_t *offset) {
    for (uint32_t i = 0; i < b->n_free; i++) {
        if (b->free[i].size < size) continue;
        *offset = b->free[i].offset;
        b->free[i].offset += size;
        b->free[i].size -= size;
        if (b->free[i].size == 0) {
            memmove(&b->free[i], &b->free[i + 1], (b->n_free - i - 1) * sizeof *b->free);
            b->n_free--;
        }
        b->n_live++;
        return true;
    }
    return false;
}

/* Returns false only when the free list cannot grow (the range is then leaked in the block,
 * which is still released whole when its last live range goes). */
static bool block_give(vkq__block *b, uint64_t offset, uint64_t size) {
    b->n_live--;
    uint32_t i = 0;
    while (i < b->n_free && b->free[i].offset < offset) i++;
    bool join_prev = i > 0 && b->free[i - 1].offset + b->free[i - 1].size == offset;
    bool join_next = i < b->n_free && offset + size == b->free[i].offset;
    if (join_prev && join_next) {
        b->free[i - 1].size += size + b->free[i].size;
        memmove(&b->free[i], &b->free[i + 1], (b->n_free - i - 1) * sizeof *b->free);
        b->n_free--;
    } else if (join_prev) {
        b->free[i - 1].size += size;
    } else if (join_next) {
        b->free[i].offset = offset;
        b->free[i].size += size;
    } else {
        if (b->n_free == b->cap_free) {
            vkq__range *bigger = realloc(b->free, 2 * b->cap_free * sizeof *b->free);
            if (!bigger) return false;
            b->free = bigger;
            b->cap_free *= 2;
        }
        memmove(&b->free[i + 1], &b->free[i], (b->n_free - i) * sizeof *b->free);
        b->free[i] = (vkq__range){offset, size};
        b->n_free++;
    }
    return true;
}

vkq_status vkq__buffer_create(vkq_context *ctx, uint64_t size, vkq__mem_kind kind,
                              const char *what, vkq__buffer *out) {
    memset(out, 0, sizeof *out);
    if (!ctx->device) return vkq__fail(&ctx->diag, VKQ_ERR_STATE, "%s: the context has no device", what);
    if (size == 0) size = 1;
    uint64_t a = alignment(ctx);
    uint64_t rounded = vkq__align_up(size, a);
    if (rounded < size || rounded > ctx->caps.max_alloc) {
        return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                         "%s: %llu bytes is more than one allocation may hold on this device "
                         "(maxMemoryAllocationSize %llu)", what, (unsigned long long)size,
                         (unsigned long long)ctx->caps.max_alloc);
    }
    vkq__block *b = ctx->blocks[kind];
    uint64_t offset = 0;
    for (; b; b = b->next) {
        if (block_take(b, rounded, &offset)) break;
    }
    if (!b) {
        uint64_t bsize = VKQ__MAX(ctx->block_size, rounded);
        vkq_status st = block_create(ctx, kind, bsize, what, &b);
        if (st) return vkq__wrap(&ctx->diag, st, "%s (%llu bytes)", what, (unsigned long long)size);
        b->next = ctx->blocks[kind];
        ctx->blocks[kind] = b;
        block_take(b, rounded, &offset);
    }
    out->buffer = b->buffer;
    out->offset = offset;
    out->size = size;
    out->mapped = b->mapped ? b->mapped + offset : NULL;
    out->block = b;
    return VKQ_OK;
}

void vkq__buffer_destroy(vkq_context *ctx, vkq__buffer *buf) {
    if (!buf || !buf->block) return;
    vkq__block *b = buf->block;
    block_give(b, buf->offset, vkq__align_up(buf->size, alignment(ctx)));
    if (b->n_live == 0) {
        for (int k = 0; k < VKQ__MEM_KIND_COUNT; k++) {
            for (vkq__block **p = &ctx->blocks[k]; *p; p = &(*p)->next) {
                if (*p == b) {
                    *p = b->next;
                    block_destroy(ctx, b);
                    memset(buf, 0, sizeof *buf);
                    return;
                }
            }
        }
    }
    memset(buf, 0, sizeof *buf);
}

static vkq_status ensure_staging(vkq_context *ctx) {
    if (ctx->staging.block) return VKQ_OK;
    return vkq__buffer_create(ctx, VKQ__MIN(STAGING_SIZE, ctx->caps.max_alloc), VKQ__MEM_HOST,
                              "staging buffer", &ctx->staging);
}

static vkq_status check_range(vkq_context *ctx, const vkq__buffer *b, uint64_t offset,
                              uint64_t size, const char *op) {
    if (!b->block || offset > b->size || size > b->size - offset) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "%s: range [%llu, +%llu) is outside a buffer of %llu bytes", op,
                         (unsigned long long)offset, (unsigned long long)size,
                         (unsigned long long)b->size);
    }
    return VKQ_OK;
}

static vkq_status ensure_transfer(vkq_context *ctx) {
    if (ctx->transfer) return VKQ_OK;
    return vkq__recording_create(ctx, 0, &ctx->transfer);
}

vkq_status vkq__buffer_upload(vkq_context *ctx, const vkq__buffer *dst, uint64_t offset,
                              const void *src, uint64_t size) {
    vkq_status st = check_range(ctx, dst, offset, size, "upload");
    if (st) return st;
    if (dst->mapped) {
        memcpy(dst->mapped + offset, src, size);
        return VKQ_OK;
    }
    if ((st = ensure_staging(ctx)) || (st = ensure_transfer(ctx))) return st;
    for (uint64_t done = 0; done < size;) {
        uint64_t n = VKQ__MIN(size - done, ctx->staging.size);
        memcpy(ctx->staging.mapped, (const uint8_t *)src + done, n);
        if ((st = vkq__recording_begin(ctx->transfer))) return st;
        vkq__recording_copy(ctx->transfer, vkq__subview(&ctx->staging, 0, n),
                            vkq__subview(dst, offset + done, n));
        if ((st = vkq__recording_submit_wait(ctx->transfer))) return st;
        done += n;
    }
    return VKQ_OK;
}

vkq_status vkq__buffer_download(vkq_context *ctx, const vkq__buffer *src, uint64_t offset,
                                void *dst, uint64_t size) {
    vkq_status st = check_range(ctx, src, offset, size, "download");
    if (st) return st;
    if (src->mapped) {
        memcpy(dst, src->mapped + offset, size);
        return VKQ_OK;
    }
    if ((st = ensure_staging(ctx)) || (st = ensure_transfer(ctx))) return st;
    for (uint64_t done = 0; done < size;) {
        uint64_t n = VKQ__MIN(size - done, ctx->staging.size);
        if ((st = vkq__recording_begin(ctx->transfer))) return st;
        vkq__recording_copy(ctx->transfer, vkq__subview(src, offset + done, n),
                            vkq__subview(&ctx->staging, 0, n));
        if ((st = vkq__recording_submit_wait(ctx->transfer))) return st;
        memcpy((uint8_t *)dst + done, ctx->staging.mapped, n);
        done += n;
    }
    return VKQ_OK;
}

vkq_status vkq__buffer_fill(vkq_context *ctx, const vkq__buffer *dst, uint32_t pattern) {
    vkq_status st = ensure_transfer(ctx);
    if (st || (st = vkq__recording_begin(ctx->transfer))) return st;
    vkq__recording_fill(ctx->transfer, vkq__view_of(dst), pattern);
    return vkq__recording_submit_wait(ctx->transfer);
}

vkq_status vkq__memory_init(vkq_context *ctx) {
    ctx->block_size = VKQ__MIN(DEFAULT_BLOCK_SIZE, ctx->caps.max_alloc);
    return VKQ_OK;
}

void vkq__memory_release(vkq_context *ctx) {
    if (!ctx->device) return;
    vkq__recording_destroy(ctx->transfer);
    ctx->transfer = NULL;
    vkq__buffer_destroy(ctx, &ctx->staging);
    /* Buffers the caller still holds are released with their blocks. */
    for (int k = 0; k < VKQ__MEM_KIND_COUNT; k++) {
        while (ctx->blocks[k]) {
            vkq__block *b = ctx->blocks[k];
            ctx->blocks[k] = b->next;
            block_destroy(ctx, b);
        }
    }
}

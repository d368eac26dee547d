/* The context: public lifecycle, error access, VkResult messages. */
#include "gpu/gpu.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vkq__diag *vkq__context_diag(vkq_context *ctx) { return ctx ? &ctx->diag : NULL; }

const char *vkq__vk_result_string(VkResult r) {
    switch (r) {
#define R(x) \
    case x:  \
        return #x;
        R(VK_SUCCESS) R(VK_NOT_READY) R(VK_TIMEOUT) R(VK_INCOMPLETE)
        R(VK_ERROR_OUT_OF_HOST_MEMORY) R(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        R(VK_ERROR_INITIALIZATION_FAILED) R(VK_ERROR_DEVICE_LOST) R(VK_ERROR_MEMORY_MAP_FAILED)
        R(VK_ERROR_LAYER_NOT_PRESENT) R(VK_ERROR_EXTENSION_NOT_PRESENT)
        R(VK_ERROR_FEATURE_NOT_PRESENT) R(VK_ERROR_INCOMPATIBLE_DRIVER)
        R(VK_ERROR_TOO_MANY_OBJECTS) R(VK_ERROR_FORMAT_NOT_SUPPORTED)
        R(VK_ERROR_FRAGMENTED_POOL) R(VK_ERROR_OUT_OF_POOL_MEMORY) R(VK_ERROR_UNKNOWN)
#undef R
    default:
        return "VkResult(unknown)";
    }
}

vkq_status vkq__vk_fail(vkq_context *ctx, VkResult r, const char *call, const char *what) {
    vkq_status st = VKQ_ERR_VULKAN;
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY) st = VKQ_ERR_OUT_OF_DEVICE_MEMORY;
    else if (r == VK_ERROR_OUT_OF_HOST_MEMORY) st = VKQ_ERR_OUT_OF_HOST_MEMORY;
    else if (r == VK_ERROR_DEVICE_LOST) st = VKQ_ERR_DEVICE_LOST;
    /* Keep only the function name of the call expression: "vkCreateBuffer(...)" -> name. */
    char name[96];
    size_t n = strcspn(call, "(");
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, call, n);
    name[n] = '\0';
    return vkq__fail(&ctx->diag, st, "%s: %s returned %s (%d)", what ? what : "vulkan", name,
                     vkq__vk_result_string(r), (int)r);
}

static vkq_status validate_desc(vkq_context *ctx, const vkq_context_desc *d) {
    if ((unsigned)d->mode > VKQ_DEVICE_MODE_LIST) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "vkq_context_create: desc.mode %d is not a vkq_device_mode", (int)d->mode);
    }
    if ((unsigned)d->log_level > VKQ_LOG_DEBUG) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "vkq_context_create: desc.log_level %d is not a vkq_log_level",
                         (int)d->log_level);
    }
    for (size_t i = 0; i < VKQ__ARRAY_LEN(d->reserved); i++) {
        if (d->reserved[i]) {
            return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                             "vkq_context_create: desc.reserved[%zu] must be zero", i);
        }
    }
    if (d->device && strlen(d->device) >= sizeof ctx->device_filter) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "vkq_context_create: desc.device is longer than %zu bytes",
                         sizeof ctx->device_filter - 1);
    }
    if (d->pipeline_cache && strlen(d->pipeline_cache) >= sizeof ctx->pipeline_cache_path) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "vkq_context_create: desc.pipeline_cache path is too long");
    }
    return VKQ_OK;
}

vkq_status vkq_context_create(const vkq_context_desc *desc, vkq_context **out) {
    if (!out) return VKQ_ERR_INVALID_ARGUMENT;
    *out = NULL;
    vkq_context *ctx = vkq__calloc(1, sizeof *ctx);
    if (!ctx) return VKQ_ERR_OUT_OF_HOST_MEMORY;
    *out = ctx;
    ctx->device_index = -1;
    if (desc) ctx->desc = *desc;
    ctx->diag.log = ctx->desc.log;
    ctx->diag.log_user_data = ctx->desc.log_user_data;
    ctx->diag.log_level = ctx->desc.log_level;

    vkq_status st = validate_desc(ctx, &ctx->desc);
    if (st) return st;
    /* The descriptor's strings belong to the caller: keep copies. */
    if (ctx->desc.device) {
        strcpy(ctx->device_filter, ctx->desc.device);
        ctx->desc.device = ctx->device_filter;
    }
    if (ctx->desc.pipeline_cache) {
        strcpy(ctx->pipeline_cache_path, ctx->desc.pipeline_cache);
        ctx->desc.pipeline_cache = ctx->pipeline_cache_path;
    }
    ctx->validation = ctx->desc.validation || vkq__env_read().validate;
    if (ctx->desc.mode == VKQ_DEVICE_MODE_NONE) return VKQ_OK;

    st = vkq__instance_create(ctx);
    if (st || ctx->desc.mode == VKQ_DEVICE_MODE_LIST) return st;
    st = vkq__device_open(ctx);
    if (st) return st;
    st = vkq__memory_init(ctx);
    if (st) return st;
    st = vkq__pipeline_cache_load(ctx);
    if (st) return st;
    ctx->diag.message[0] = '\0'; /* warnings on the way are not failures */
    return VKQ_OK;
}

void vkq_context_destroy(vkq_context *ctx) {
    if (!ctx) return;
    if (ctx->device) vkDeviceWaitIdle(ctx->device);
    vkq__pipeline_cache_save_and_release(ctx);
    vkq__memory_release(ctx);
    vkq__device_close(ctx);
    vkq__instance_destroy(ctx);
    free(ctx);
}

const char *vkq_context_last_error(const vkq_context *ctx) {
    if (!ctx) return "out of host memory: no context could be allocated";
    return ctx->diag.message;
}

uint32_t vkq_context_validation_messages(const vkq_context *ctx) {
    if (!ctx) return 0;
    return atomic_load((_Atomic uint32_t *)&ctx->validation_messages);
}

vkq_status vkq_context_device_count(vkq_context *ctx, uint32_t *count) {
    if (!ctx || !count) {
        return vkq__fail(vkq__context_diag(ctx), VKQ_ERR_INVALID_ARGUMENT,
                         "vkq_context_device_count: %s is NULL", ctx ? "count" : "ctx");
    }
    *count = ctx->n_physical;
    return VKQ_OK;
}

vkq_status vkq_context_device_info(vkq_context *ctx, uint32_t index, vkq_device_info *out) {
    if (!ctx || !out) {
        return vkq__fail(vkq__context_diag(ctx), VKQ_ERR_INVALID_ARGUMENT,
                         "vkq_context_device_info: %s is NULL", ctx ? "out" : "ctx");
    }
    if (index >= ctx->n_physical) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "vkq_context_device_info: device index %u, but there are %u device(s)",
                         index, ctx->n_physical);
    }
    if ((int)index == ctx->device_index) {
        *out = ctx->caps.info;
    } else {
        vkq__caps_query(ctx->instance, ctx->physical[index], out);
    }
    return VKQ_OK;
}

int vkq_context_device_index(const vkq_context *ctx) { return ctx ? ctx->device_index : -1; }

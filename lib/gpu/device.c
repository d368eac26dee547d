/* Choosing a device, opening it with the features vkq's kernels use, its compute queue. */
#include "gpu/gpu.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int type_rank(vkq_device_type t) {
    switch (t) {
    case VKQ_DEVICE_TYPE_DISCRETE: return 4;
    case VKQ_DEVICE_TYPE_INTEGRATED: return 3;
    case VKQ_DEVICE_TYPE_VIRTUAL: return 2;
    case VKQ_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

static uint64_t device_local_bytes(const vkq_device_info *info) {
    uint64_t best = 0;
    for (uint32_t h = 0; h < info->heap_count; h++) {
        if (info->heaps[h].device_local && info->heaps[h].size > best) best = info->heaps[h].size;
    }
    return best;
}

static bool contains_ignoring_case(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return true;
    }
    return n == 0;
}

static bool all_digits(const char *s) {
    if (!*s) return false;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s)) return false;
    }
    return true;
}

static vkq_status choose(vkq_context *ctx, int *chosen) {
    if (ctx->n_physical == 0) {
        return vkq__fail(&ctx->diag, VKQ_ERR_NO_DEVICE,
                         "the Vulkan loader lists no device; on a machine without a GPU "
                         "install Mesa's lavapipe (Debian: mesa-vulkan-drivers)");
    }
    const char *want = ctx->desc.device;
    vkq_device_info info;
    if (want && all_digits(want)) {
        unsigned long idx = strtoul(want, NULL, 10);
        if (idx >= ctx->n_physical) {
            return vkq__fail(&ctx->diag, VKQ_ERR_NOT_FOUND,
                             "device index %s: there %s %u device(s), 0..%u", want,
                             ctx->n_physical == 1 ? "is" : "are", ctx->n_physical,
                             ctx->n_physical - 1);
        }
        *chosen = (int)idx;
        return VKQ_OK;
    }
    int best = -1, best_rank = -1;
    uint64_t best_mem = 0;
    for (uint32_t i = 0; i < ctx->n_physical; i++) {
        vkq__caps_query(ctx->instance, ctx->physical[i], &info);
        if (want) {
            if (contains_ignoring_case(info.name, want)) {
                *chosen = (int)i;
                return VKQ_OK;
            }
            continue;
        }
        if (info.api_version < VK_API_VERSION_1_1) continue;
        int rank = type_rank(info.type);
        uint64_t mem = device_local_bytes(&info);
        if (rank > best_rank || (rank == best_rank && mem > best_mem)) {
            best = (int)i, best_rank = rank, best_mem = mem;
        }
    }
    if (want) {
        return vkq__fail(&ctx->diag, VKQ_ERR_NOT_FOUND,
                         "no device name contains '%s' (%u device(s); see 'vkq info')", want,
                         ctx->n_physical);
    }
    if (best < 0) {
        return vkq__fail(&ctx->diag, VKQ_ERR_NO_DEVICE,
                         "none of the %u Vulkan device(s) supports Vulkan 1.1", ctx->n_physical);
    }
    *chosen = best;
    return VKQ_OK;
}

static void fill_caps(vkq_context *ctx) {
    vkq__caps *c = &ctx->caps;
    const vkq_device_info *i = &c->info;
    c->max_storage_range = i->max_storage_buffer_range;
    if (ctx->desc.max_storage_buffer_range && ctx->desc.max_storage_buffer_range < c->max_storage_range) {
        c->max_storage_range = ctx->desc.max_storage_buffer_range;
    }
    c->max_alloc = i->max_allocation_size ? i->max_allocation_size : (1ull << 30);
    if (ctx->desc.max_allocation_size && ctx->desc.max_allocation_size < c->max_alloc) {
        c->max_alloc = ctx->desc.max_allocation_size;
    }
    c->subgroup_size = i->subgroup_size;
    c->subgroup_arithmetic = (i->subgroup_ops & VK_SUBGROUP_FEATURE_BASIC_BIT) &&
                             (i->subgroup_ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    c->subgroup_size_control = i->subgroup_size_control;
    c->float16 = i->float16_arithmetic;
    c->int8 = i->int8_arithmetic;
    c->storage16 = i->storage_16bit;
    c->storage8 = i->storage_8bit;
    c->dot = i->integer_dot_product;
    c->coopmat = i->cooperative_matrix && i->coopmat_shape_count > 0;
    c->needs_supported = (c->float16 ? VKQ__SHADER_NEEDS_FLOAT16 : 0) |
                         (c->int8 ? VKQ__SHADER_NEEDS_INT8 : 0) |
                         (c->storage16 ? VKQ__SHADER_NEEDS_STORAGE16 : 0) |
                         (c->storage8 ? VKQ__SHADER_NEEDS_STORAGE8 : 0) |
                         (c->subgroup_arithmetic ? VKQ__SHADER_NEEDS_SUBGROUP : 0) |
                         (c->dot ? VKQ__SHADER_NEEDS_DOT : 0) |
                         (c->coopmat ? VKQ__SHADER_NEEDS_COOPMAT : 0);
}

static bool find_compute_queue(vkq_context *ctx) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->phys, &n, NULL);
    VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
    if (!q) return false;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->phys, &n, q);
    /* Prefer a compute queue that is not also graphics: on discrete GPUs it is the async
     * compute engine, which does not compete with the desktop's rendering. */
    int any = -1, dedicated = -1;
    for (uint32_t i = 0; i < n; i++) {
        if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
        if (any < 0) any = (int)i;
        if (!(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) && dedicated < 0) dedicated = (int)i;
    }
    free(q);
    if (any < 0) return false;
    ctx->queue_family = (uint32_t)(dedicated >= 0 ? dedicated : any);
    return true;
}

vkq_status vkq__device_open(vkq_context *ctx) {
    int idx = -1;
    vkq_status st = choose(ctx, &idx);
    if (st) return st;
    ctx->phys = ctx->physical[idx];
    vkq__caps_query(ctx->instance, ctx->phys, &ctx->caps.info);
    const vkq_device_info *info = &ctx->caps.info;
    if (info->api_version < VK_API_VERSION_1_1) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED, "device %d (%s) supports Vulkan %u.%u; vkq needs 1.1",
                         idx, info->name, VK_API_VERSION_MAJOR(info->api_version),
                         VK_API_VERSION_MINOR(info->api_version));
    }
    if (!find_compute_queue(ctx)) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED, "device %d (%s) has no compute queue", idx, info->name);
    }
    fill_caps(ctx);
    bool v12 = info->api_version >= VK_API_VERSION_1_2, v13 = info->api_version >= VK_API_VERSION_1_3;

    const char *ext[8];
    uint32_t n_ext = 0;
    if (vkq__device_has_extension(ctx->phys, "VK_KHR_portability_subset")) ext[n_ext++] = "VK_KHR_portability_subset";
    if (!v12 && ctx->caps.storage8) ext[n_ext++] = "VK_KHR_8bit_storage";
    if (!v12 && (ctx->caps.float16 || ctx->caps.int8)) ext[n_ext++] = "VK_KHR_shader_float16_int8";
    if (!v13 && ctx->caps.subgroup_size_control) ext[n_ext++] = "VK_EXT_subgroup_size_control";
    if (!v13 && ctx->caps.dot) ext[n_ext++] = "VK_KHR_shader_integer_dot_product";
    if (ctx->caps.coopmat) ext[n_ext++] = "VK_KHR_cooperative_matrix";

    VkPhysicalDeviceFeatures supported;
    vkGetPhysicalDeviceFeatures(ctx->phys, &supported);
    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
                                                .storageBuffer16BitAccess = ctx->caps.storage16};
    VkPhysicalDevice8BitStorageFeatures s8 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES,
                                              .storageBuffer8BitAccess = ctx->caps.storage8};
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
        .shaderFloat16 = ctx->caps.float16, .shaderInt8 = ctx->caps.int8};
    VkPhysicalDeviceSubgroupSizeControlFeatures sgsc = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES,
        .subgroupSizeControl = VK_TRUE, .computeFullSubgroups = VK_TRUE};
    VkPhysicalDeviceShaderIntegerDotProductFeatures dot = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES,
        .shaderIntegerDotProduct = VK_TRUE};
    VkPhysicalDeviceFeatures2 feats = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
    void **tail = &s16.pNext;
    if (ctx->caps.storage8) *tail = &s8, tail = &s8.pNext;
    if (ctx->caps.float16 || ctx->caps.int8) *tail = &f16, tail = &f16.pNext;
    if (ctx->caps.subgroup_size_control) *tail = &sgsc, tail = &sgsc.pNext;
    if (ctx->caps.dot) *tail = &dot, tail = &dot.pNext;
    feats.features.shaderInt16 = supported.shaderInt16;
    feats.features.shaderInt64 = supported.shaderInt64;

    float priority = 1.0f;
    VkDeviceQueueCreateInfo qinfo = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                     .queueFamilyIndex = ctx->queue_family, .queueCount = 1,
                                     .pQueuePriorities = &priority};
    VkDeviceCreateInfo dinfo = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &feats,
                                .queueCreateInfoCount = 1, .pQueueCreateInfos = &qinfo,
                                .enabledExtensionCount = n_ext, .ppEnabledExtensionNames = ext};
    VKQ__VK(ctx, vkCreateDevice(ctx->phys, &dinfo, NULL, &ctx->device), info->name);
    vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);
    vkGetPhysicalDeviceMemoryProperties(ctx->phys, &ctx->mem_props);
    ctx->device_index = idx;

    VkCommandPoolCreateInfo pinfo = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                     .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                     .queueFamilyIndex = ctx->queue_family};
    VKQ__VK(ctx, vkCreateCommandPool(ctx->device, &pinfo, NULL, &ctx->command_pool), "command pool");
    vkq__log(&ctx->diag, VKQ_LOG_INFO, "device %d: %s (%s), subgroup %u, shared memory %u B, "
             "max storage range %llu B", idx, info->name, info->driver_info, info->subgroup_size,
             info->max_shared_memory, (unsigned long long)ctx->caps.max_storage_range);
    return VKQ_OK;
}

void vkq__device_close(vkq_context *ctx) {
    if (!ctx->device) return;
    if (ctx->command_pool) vkDestroyCommandPool(ctx->device, ctx->command_pool, NULL);
    vkDestroyDevice(ctx->device, NULL);
    ctx->device = VK_NULL_HANDLE;
    ctx->device_index = -1;
}

/* Compute pipelines from the embedded SPIR-V, specialized per device, cached in memory and in a
 * pipeline-cache file that survives corrupt, truncated or foreign contents. */
#include "gpu/gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vkq__pipeline_entry {
    struct vkq__pipeline_entry *next;
    vkq__pipeline_desc key;   /* key.shader points into the static shader table */
    VkShaderModule module;
    vkq__pipeline pipeline;
};

static const vkq__shader_module *find_module(const char *name) {
    for (const vkq__shader_module *const *m = vkq__shader_modules; *m; m++) {
        if (!strcmp((*m)->name, name)) return *m;
    }
    return NULL;
}

bool vkq__shader_available(vkq_context *ctx, const char *shader) {
    const vkq__shader_module *m = find_module(shader);
    return m && (m->needs & ~ctx->caps.needs_supported) == 0;
}

static bool same_key(const vkq__pipeline_desc *a, const vkq__pipeline_desc *b) {
    return !strcmp(a->shader, b->shader) && a->n_bindings == b->n_bindings &&
           a->push_size == b->push_size && a->n_spec == b->n_spec &&
           a->required_subgroup_size == b->required_subgroup_size &&
           !memcmp(a->spec, b->spec, a->n_spec * sizeof a->spec[0]);
}

static void entry_destroy(vkq_context *ctx, struct vkq__pipeline_entry *e) {
    VkDevice dev = ctx->device;
    if (e->pipeline.pipeline) vkDestroyPipeline(dev, e->pipeline.pipeline, NULL);
    if (e->pipeline.layout) vkDestroyPipelineLayout(dev, e->pipeline.layout, NULL);
    if (e->pipeline.set_layout) vkDestroyDescriptorSetLayout(dev, e->pipeline.set_layout, NULL);
    if (e->module) vkDestroyShaderModule(dev, e->module, NULL);
    free(e);
}

static vkq_status build(vkq_context *ctx, const vkq__shader_module *m, struct vkq__pipeline_entry *e) {
    const vkq__pipeline_desc *d = &e->key;
    VkShaderModuleCreateInfo sinfo = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                      .codeSize = m->size, .pCode = m->code};
    VKQ__VK(ctx, vkCreateShaderModule(ctx->device, &sinfo, NULL, &e->module), m->name);

    VkDescriptorSetLayoutBinding bindings[VKQ__MAX_BINDINGS];
    for (uint32_t i = 0; i < d->n_bindings; i++) {
        bindings[i] = (VkDescriptorSetLayoutBinding){i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                                                     VK_SHADER_STAGE_COMPUTE_BIT, NULL};
    }
    VkDescriptorSetLayoutCreateInfo linfo = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                             .bindingCount = d->n_bindings, .pBindings = bindings};
    VKQ__VK(ctx, vkCreateDescriptorSetLayout(ctx->device, &linfo, NULL, &e->pipeline.set_layout), m->name);
    VkPushConstantRange range = {VK_SHADER_STAGE_COMPUTE_BIT, 0, d->push_size};
    VkPipelineLayoutCreateInfo pinfo = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                        .setLayoutCount = 1, .pSetLayouts = &e->pipeline.set_layout,
                                        .pushConstantRangeCount = d->push_size ? 1 : 0,
                                        .pPushConstantRanges = &range};
    VKQ__VK(ctx, vkCreatePipelineLayout(ctx->device, &pinfo, NULL, &e->pipeline.layout), m->name);

    VkSpecializationMapEntry entries[VKQ__MAX_SPEC];
    for (uint32_t i = 0; i < d->n_spec; i++) {
        entries[i] = (VkSpecializationMapEntry){i, i * (uint32_t)sizeof(uint32_t), sizeof(uint32_t)};
    }
    VkSpecializationInfo spec = {d->n_spec, entries, d->n_spec * sizeof(uint32_t), d->spec};
    VkPipelineShaderStageRequiredSubgroupSizeCreateInfo sg = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO,
        .requiredSubgroupSize = d->required_subgroup_size};
    VkPipelineShaderStageCreateInfo stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                                             .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = e->module,
                                             .pName = "main", .pSpecializationInfo = d->n_spec ? &spec : NULL};
    if (d->required_subgroup_size) {
        stage.pNext = &sg;
        stage.flags = VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT;
    }
    VkComputePipelineCreateInfo cinfo = {.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
                                         .stage = stage, .layout = e->pipeline.layout};
    VKQ__VK(ctx, vkCreateComputePipelines(ctx->device, ctx->pipeline_cache, 1, &cinfo, NULL,
                                          &e->pipeline.pipeline), m->name);
    e->pipeline.n_bindings = d->n_bindings;
    e->pipeline.push_size = d->push_size;
    e->pipeline.local_size_x = d->n_spec ? d->spec[0] : 0;
    e->pipeline.name = m->name;
    return VKQ_OK;
}

static vkq_status check_desc(vkq_context *ctx, const vkq__pipeline_desc *d, const vkq__shader_module *m) {
    const vkq_device_info *i = &ctx->caps.info;
    if (d->n_bindings > VKQ__MAX_BINDINGS || d->n_spec > VKQ__MAX_SPEC || d->push_size > i->max_push_constants) {
        return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                         "pipeline %s: %u bindings, %u constants, %u push bytes (device allows %u)",
                         d->shader, d->n_bindings, d->n_spec, d->push_size, i->max_push_constants);
    }
    if (d->n_spec && (d->spec[0] == 0 || d->spec[0] > i->max_workgroup_size[0] ||
                      d->spec[0] > i->max_workgroup_invocations)) {
        return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT, "pipeline %s: workgroup size %u, device allows %u",
                         d->shader, d->spec[0], VKQ__MIN(i->max_workgroup_size[0], i->max_workgroup_invocations));
    }
    if (d->required_subgroup_size &&
        (!ctx->caps.subgroup_size_control || d->required_subgroup_size < i->subgroup_size_min ||
         d->required_subgroup_size > i->subgroup_size_max)) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED,
                         "pipeline %s: subgroup size %u cannot be required on %s", d->shader,
                         d->required_subgroup_size, i->name);
    }
    if (m->needs & ~ctx->caps.needs_supported) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED,
                         "pipeline %s: needs device features 0x%x, %s has 0x%x", d->shader,
                         m->needs, i->name, ctx->caps.needs_supported);
    }
    return VKQ_OK;
}

vkq_status vkq__pipeline_get(vkq_context *ctx, const vkq__pipeline_desc *desc, const vkq__pipeline **out) {
    *out = NULL;
    for (struct vkq__pipeline_entry *e = ctx->pipelines; e; e = e->next) {
        if (same_key(&e->key, desc)) {
            *out = &e->pipeline;
            return VKQ_OK;
        }
    }
    const vkq__shader_module *m = find_module(desc->shader);
    if (!m) {
        return vkq__fail(&ctx->diag, VKQ_ERR_NOT_FOUND,
                         "shader %s is not in this build (its GLSL extension may be missing "
                         "from the build's compiler)", desc->shader);
    }
    vkq_status st = check_desc(ctx, desc, m);
    if (st) return st;
    struct vkq__pipeline_entry *e = vkq__calloc(1, sizeof *e);
    if (!e) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "pipeline %s", desc->shader);
    e->key = *desc;
    e->key.shader = m->name;
    st = build(ctx, m, e);
    if (st) {
        entry_destroy(ctx, e);
        return st;
    }
    e->next = ctx->pipelines;
    ctx->pipelines = e;
    *out = &e->pipeline;
    return VKQ_OK;
}

/* ---- the persistent pipeline cache ------------------------------------------------------- */

static void default_cache_path(vkq_context *ctx) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[3072];
    if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/vkq", xdg);
    else if (home && *home) snprintf(dir, sizeof dir, "%s/.cache/vkq", home);
    else return;
    const vkq_device_info *i = &ctx->caps.info;
    snprintf(ctx->pipeline_cache_path, sizeof ctx->pipeline_cache_path,
             "%s/pipelines-%04x-%04x-%08x.bin", dir, i->vendor_id, i->device_id, i->driver_version);
}

/* The header layout is fixed by the Vulkan spec (VkPipelineCacheHeaderVersionOne). Drivers must
 * reject foreign data themselves, but some have crashed on it, so vkq checks first. */
static bool cache_header_matches(vkq_context *ctx, const uint8_t *data, size_t size) {
    if (size < 32) return false;
    uint32_t len, version, vendor, device;
    memcpy(&len, data, 4), memcpy(&version, data + 4, 4);
    memcpy(&vendor, data + 8, 4), memcpy(&device, data + 12, 4);
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(ctx->phys, &p);
    return len >= 32 && len <= size && version == VK_PIPELINE_CACHE_HEADER_VERSION_ONE &&
           vendor == p.vendorID && device == p.deviceID &&
           !memcmp(data + 16, p.pipelineCacheUUID, VK_UUID_SIZE);
}

vkq_status vkq__pipeline_cache_load(vkq_context *ctx) {
    if (!ctx->desc.pipeline_cache) default_cache_path(ctx);
    void *data = NULL;
    size_t size = 0;
    if (ctx->pipeline_cache_path[0]) {
        vkq__diag quiet = {0}; /* a missing or unreadable cache is normal, not an error */
        if (vkq__file_read(&quiet, ctx->pipeline_cache_path, &data, &size) == VKQ_OK &&
            !cache_header_matches(ctx, data, size)) {
            vkq__log(&ctx->diag, VKQ_LOG_INFO, "pipeline cache %s is not for this device/driver; ignored",
                     ctx->pipeline_cache_path);
            free(data);
            data = NULL, size = 0;
        }
    }
    VkPipelineCacheCreateInfo info = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
                                      .initialDataSize = size, .pInitialData = data};
    VkResult r = vkCreatePipelineCache(ctx->device, &info, NULL, &ctx->pipeline_cache);
    if (r != VK_SUCCESS && data) {
        info.initialDataSize = 0, info.pInitialData = NULL;
        r = vkCreatePipelineCache(ctx->device, &info, NULL, &ctx->pipeline_cache);
    }
    free(data);
    if (r != VK_SUCCESS) return vkq__vk_fail(ctx, r, "vkCreatePipelineCache", "pipeline cache");
    return VKQ_OK;
}

static void save_cache(vkq_context *ctx) {
    if (!ctx->pipeline_cache || !ctx->pipeline_cache_path[0] || !ctx->pipelines) return;
    size_t size = 0;
    if (vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &size, NULL) != VK_SUCCESS || !size) return;
    void *data = malloc(size);
    if (!data) return;
    if (vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &size, data) == VK_SUCCESS) {
        char dir[sizeof ctx->pipeline_cache_path];
        snprintf(dir, sizeof dir, "%s", ctx->pipeline_cache_path);
        char *slash = strrchr(dir, '/');
        vkq__diag d = {0};
        if (slash) *slash = '\0';
        if ((slash && vkq__mkdirs(&d, dir)) ||
            vkq__file_write_atomic(&d, ctx->pipeline_cache_path, data, size)) {
            vkq__log(&ctx->diag, VKQ_LOG_WARN, "pipeline cache not saved: %s", d.message);
        }
    }
    free(data);
}

void vkq__pipeline_cache_save_and_release(vkq_context *ctx) {
    if (!ctx->device) return;
    save_cache(ctx);
    while (ctx->pipelines) {
        struct vkq__pipeline_entry *e = ctx->pipelines;
        ctx->pipelines = e->next;
        entry_destroy(ctx, e);
    }
    if (ctx->pipeline_cache) vkDestroyPipelineCache(ctx->device, ctx->pipeline_cache, NULL);
    ctx->pipeline_cache = VK_NULL_HANDLE;
}

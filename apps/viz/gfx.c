/* The renderer's device, pipeline, atlas texture and offscreen target (see gfx.h). */
#include "gfx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const uint32_t viz_spv_vert[], viz_spv_frag[];
extern const size_t viz_spv_vert_size, viz_spv_frag_size;

/* gfx_window.c: the instance extensions GLFW needs (NULL, 0 without a window system). */
const char **viz__window_extensions(uint32_t *count);

int viz__fail(char *err, size_t size, const char *what, VkResult r) {
    snprintf(err, size, "%s failed (VkResult %d)", what, (int)r);
    return 0;
}

#define VK_TRY(call)                                                                          \
    do {                                                                                      \
        VkResult r_ = (call);                                                                 \
        if (r_ != VK_SUCCESS) return viz__fail(err, err_size, #call, r_);                     \
    } while (0)

static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                               VkDebugUtilsMessageTypeFlagsEXT types,
                                               const VkDebugUtilsMessengerCallbackDataEXT *data,
                                               void *user) {
    viz_gfx *g = user;
    if (severity & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT |
                    VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)) {
        g->validation_messages++;
        fprintf(stderr, "vkq-viz: validation: %s\n", data->pMessage);
    }
    return VK_FALSE;
}

static int has_layer(const char *name) {
    uint32_t n = 0;
    vkEnumerateInstanceLayerProperties(&n, NULL);
    VkLayerProperties *props = calloc(n ? n : 1, sizeof *props);
    int found = 0;
    if (props && vkEnumerateInstanceLayerProperties(&n, props) == VK_SUCCESS) {
        for (uint32_t i = 0; i < n; i++) found |= !strcmp(props[i].layerName, name);
    }
    free(props);
    return found;
}

static int make_instance(viz_gfx *g, int validation, char *err, size_t err_size) {
    const char *exts[16];
    uint32_t n_ext = 0, n_glfw = 0;
    const char **glfw_exts = g->window ? viz__window_extensions(&n_glfw) : NULL;
    if (g->window && !glfw_exts) {
        snprintf(err, err_size, "GLFW found no Vulkan surface support for this window system");
        return 0;
    }
    for (uint32_t i = 0; i < n_glfw && n_ext < 14; i++) exts[n_ext++] = glfw_exts[i];
    const char *layers[1] = {"VK_LAYER_KHRONOS_validation"};
    if (validation) {
        if (!has_layer(layers[0])) {
            snprintf(err, err_size, "validation was asked for, but VK_LAYER_KHRONOS_validation "
                                    "is not installed (package vulkan-validationlayers)");
            return 0;
        }
        exts[n_ext++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    }
    VkApplicationInfo app = {VK_STRUCTURE_TYPE_APPLICATION_INFO, NULL, "vkq-viz", 1, "vkq", 1,
                             VK_API_VERSION_1_1};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ci.pApplicationInfo = &app;
    ci.enabledExtensionCount = n_ext;
    ci.ppEnabledExtensionNames = exts;
    ci.enabledLayerCount = validation ? 1 : 0;
    ci.ppEnabledLayerNames = layers;
    VkResult r = vkCreateInstance(&ci, NULL, &g->instance);
    if (r != VK_SUCCESS) {
        snprintf(err, err_size, "vkCreateInstance failed (VkResult %d): is a Vulkan driver "
                                "installed (mesa-vulkan-drivers gives lavapipe)?", (int)r);
        return 0;
    }
    if (validation) {
        PFN_vkCreateDebugUtilsMessengerEXT create = (PFN_vkCreateDebugUtilsMessengerEXT)
            vkGetInstanceProcAddr(g->instance, "vkCreateDebugUtilsMessengerEXT");
        VkDebugUtilsMessengerCreateInfoEXT mi = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
        mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                             VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
        mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
        mi.pfnUserCallback = on_debug;
        mi.pUserData = g;
        if (!create) return viz__fail(err, err_size, "vkCreateDebugUtilsMessengerEXT", 0);
        VK_TRY(create(g->instance, &mi, NULL, &g->messenger));
    }
    return 1;
}

static int pick_device(viz_gfx *g, char *err, size_t err_size) {
    uint32_t n = 0;
    vkEnumeratePhysicalDevices(g->instance, &n, NULL);
    VkPhysicalDevice devs[16];
    if (n > 16) n = 16;
    if (n == 0 || vkEnumeratePhysicalDevices(g->instance, &n, devs) < 0) {
        snprintf(err, err_size, "no Vulkan device found");
        return 0;
    }
    static const int rank[] = {[VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU] = 4,
                               [VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU] = 3,
                               [VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU] = 2,
                               [VK_PHYSICAL_DEVICE_TYPE_CPU] = 1};
    int best = -1;
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties props;
        vkGetPhysicalDeviceProperties(devs[i], &props);
        uint32_t nq = 0;
        vkGetPhysicalDeviceQueueFamilyProperties(devs[i], &nq, NULL);
        VkQueueFamilyProperties qf[16];
        if (nq > 16) nq = 16;
        vkGetPhysicalDeviceQueueFamilyProperties(devs[i], &nq, qf);
        for (uint32_t f = 0; f < nq; f++) {
            if (!(qf[f].queueFlags & VK_QUEUE_GRAPHICS_BIT)) continue;
            if (g->window && !viz__window_surface_ok(g, devs[i], f)) continue;
            int score = props.deviceType <= VK_PHYSICAL_DEVICE_TYPE_CPU ? rank[props.deviceType] : 0;
            if (score > best) {
                best = score;
                g->phys = devs[i];
                g->queue_family = f;
            }
            break;
        }
    }
    if (best < 0) {
        snprintf(err, err_size, "no Vulkan device has a graphics queue%s",
                 g->window ? " that can present to this window" : "");
        return 0;
    }
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qi.queueFamilyIndex = g->queue_family;
    qi.queueCount = 1;
    qi.pQueuePriorities = &prio;
    const char *exts[1] = {VK_KHR_SWAPCHAIN_EXTENSION_NAME};
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    di.queueCreateInfoCount = 1;
    di.pQueueCreateInfos = &qi;
    di.enabledExtensionCount = g->window ? 1 : 0;
    di.ppEnabledExtensionNames = exts;
    VK_TRY(vkCreateDevice(g->phys, &di, NULL, &g->device));
    vkGetDeviceQueue(g->device, g->queue_family, 0, &g->queue);
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pi.queueFamilyIndex = g->queue_family;
    VK_TRY(vkCreateCommandPool(g->device, &pi, NULL, &g->pool));
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = g->pool;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VK_TRY(vkAllocateCommandBuffers(g->device, &ai, &g->cmd));
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK_TRY(vkCreateFence(g->device, &fi, NULL, &g->fence));
    return 1;
}

static int memory_type(viz_gfx *g, uint32_t bits, VkMemoryPropertyFlags want) {
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(g->phys, &mp);
    for (uint32_t i = 0; i < mp.memoryTypeCount; i++) {
        if ((bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) return (int)i;
    }
    return -1;
}

static int alloc_memory(viz_gfx *g, VkMemoryRequirements req, VkMemoryPropertyFlags want,
                        VkDeviceMemory *out, char *err, size_t err_size) {
    int type = memory_type(g, req.memoryTypeBits, want);
    if (type < 0) {
        snprintf(err, err_size, "no Vulkan memory type with flags 0x%x", (unsigned)want);
        return 0;
    }
    VkMemoryAllocateInfo ai = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, NULL, req.size,
                               (uint32_t)type};
    VK_TRY(vkAllocateMemory(g->device, &ai, NULL, out));
    return 1;
}

int viz__buffer(viz_gfx *g, VkDeviceSize size, VkBufferUsageFlags usage, viz_buffer *b,
                char *err, size_t err_size) {
    memset(b, 0, sizeof *b);
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = size;
    bi.usage = usage;
    VK_TRY(vkCreateBuffer(g->device, &bi, NULL, &b->buf));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(g->device, b->buf, &req);
    if (!alloc_memory(g, req, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                  VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                      &b->mem, err, err_size)) {
        return 0;
    }
    VK_TRY(vkBindBufferMemory(g->device, b->buf, b->mem, 0));
    VK_TRY(vkMapMemory(g->device, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map));
    b->size = size;
    return 1;
}

void viz__buffer_free(viz_gfx *g, viz_buffer *b) {
    if (b->mem) vkFreeMemory(g->device, b->mem, NULL); /* unmaps implicitly */
    if (b->buf) vkDestroyBuffer(g->device, b->buf, NULL);
    memset(b, 0, sizeof *b);
}

static int make_image(viz_gfx *g, int w, int h, VkFormat format, VkImageUsageFlags usage,
                      VkImage *img, VkDeviceMemory *mem, VkImageView *view, char *err,
                      size_t err_size) {
    VkImageCreateInfo ii = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
    ii.imageType = VK_IMAGE_TYPE_2D;
    ii.format = format;
    ii.extent = (VkExtent3D){(uint32_t)w, (uint32_t)h, 1};
    ii.mipLevels = 1;
    ii.arrayLayers = 1;
    ii.samples = VK_SAMPLE_COUNT_1_BIT;
    ii.tiling = VK_IMAGE_TILING_OPTIMAL;
    ii.usage = usage;
    ii.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    VK_TRY(vkCreateImage(g->device, &ii, NULL, img));
    VkMemoryRequirements req;
    vkGetImageMemoryRequirements(g->device, *img, &req);
    if (!alloc_memory(g, req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, mem, err, err_size)) return 0;
    VK_TRY(vkBindImageMemory(g->device, *img, *mem, 0));
    VkImageViewCreateInfo vi = {.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
    vi.image = *img;
    vi.viewType = VK_IMAGE_VIEW_TYPE_2D;
    vi.format = format;
    vi.subresourceRange = (VkImageSubresourceRange){VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    VK_TRY(vkCreateImageView(g->device, &vi, NULL, view));
    return 1;
}

void viz__image_barrier(VkCommandBuffer cmd, VkImage img, VkImageLayout from, VkImageLayout to,
                        VkAccessFlags src_access, VkAccessFlags dst_access,
                        VkPipelineStageFlags src_stage, VkPipelineStageFlags dst_stage) {
    VkImageMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
    b.srcAccessMask = src_access;
    b.dstAccessMask = dst_access;
    b.oldLayout = from;
    b.newLayout = to;
    b.srcQueueFamilyIndex = b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    b.image = img;
    b.subresourceRange = (VkImageSubresourceRange){VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

static int submit_and_wait(viz_gfx *g, char *err, size_t err_size) {
    VK_TRY(vkEndCommandBuffer(g->cmd));
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &g->cmd;
    VK_TRY(vkQueueSubmit(g->queue, 1, &si, g->fence));
    VK_TRY(vkWaitForFences(g->device, 1, &g->fence, VK_TRUE, UINT64_MAX));
    VK_TRY(vkResetFences(g->device, 1, &g->fence));
    return 1;
}

static int upload_atlas(viz_gfx *g, const viz_gfx_desc *d, char *err, size_t err_size) {
    if (!make_image(g, d->atlas_w, d->atlas_h, VK_FORMAT_R8_UNORM,
                    VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT, &g->atlas,
                    &g->atlas_mem, &g->atlas_view, err, err_size)) {
        return 0;
    }
    viz_buffer staging;
    VkDeviceSize size = (VkDeviceSize)d->atlas_w * d->atlas_h;
    if (!viz__buffer(g, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &staging, err, err_size)) {
        return 0;
    }
    memcpy(staging.map, d->atlas, size);
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    vkBeginCommandBuffer(g->cmd, &bi);
    viz__image_barrier(g->cmd, g->atlas, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0,
            VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
            VK_PIPELINE_STAGE_TRANSFER_BIT);
    VkBufferImageCopy region = {0};
    region.imageSubresource = (VkImageSubresourceLayers){VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    region.imageExtent = (VkExtent3D){(uint32_t)d->atlas_w, (uint32_t)d->atlas_h, 1};
    vkCmdCopyBufferToImage(g->cmd, staging.buf, g->atlas, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                           &region);
    viz__image_barrier(g->cmd, g->atlas, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
            VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_ACCESS_TRANSFER_WRITE_BIT,
            VK_ACCESS_SHADER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT);
    int ok = submit_and_wait(g, err, err_size);
    viz__buffer_free(g, &staging);
    if (!ok) return 0;

    VkSamplerCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO};
    si.magFilter = si.minFilter = VK_FILTER_LINEAR;
    si.addressModeU = si.addressModeV = si.addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE;
    VK_TRY(vkCreateSampler(g->device, &si, NULL, &g->sampler));
    VkDescriptorSetLayoutBinding b = {0, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1,
                                      VK_SHADER_STAGE_FRAGMENT_BIT, NULL};
    VkDescriptorSetLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    li.bindingCount = 1;
    li.pBindings = &b;
    VK_TRY(vkCreateDescriptorSetLayout(g->device, &li, NULL, &g->set_layout));
    VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1};
    VkDescriptorPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    pi.maxSets = 1;
    pi.poolSizeCount = 1;
    pi.pPoolSizes = &ps;
    VK_TRY(vkCreateDescriptorPool(g->device, &pi, NULL, &g->desc_pool));
    VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = g->desc_pool;
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &g->set_layout;
    VK_TRY(vkAllocateDescriptorSets(g->device, &ai, &g->set));
    VkDescriptorImageInfo di = {g->sampler, g->atlas_view,
                                VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL};
    VkWriteDescriptorSet w = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    w.dstSet = g->set;
    w.descriptorCount = 1;
    w.descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER;
    w.pImageInfo = &di;
    vkUpdateDescriptorSets(g->device, 1, &w, 0, NULL);
    return 1;
}

int viz__make_pass(viz_gfx *g, VkImageLayout final_layout, char *err, size_t err_size) {
    VkAttachmentDescription att = {0};
    att.format = g->format;
    att.samples = VK_SAMPLE_COUNT_1_BIT;
    att.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR;
    att.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
    att.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
    att.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
    att.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    att.finalLayout = final_layout;
    VkAttachmentReference ref = {0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
    VkSubpassDescription sub = {0};
    sub.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS;
    sub.colorAttachmentCount = 1;
    sub.pColorAttachments = &ref;
    VkSubpassDependency deps[2] = {
        {VK_SUBPASS_EXTERNAL, 0, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, 0, VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, 0},
        {0, VK_SUBPASS_EXTERNAL, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
         VK_ACCESS_TRANSFER_READ_BIT, 0}};
    VkRenderPassCreateInfo ri = {.sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO};
    ri.attachmentCount = 1;
    ri.pAttachments = &att;
    ri.subpassCount = 1;
    ri.pSubpasses = &sub;
    ri.dependencyCount = 2;
    ri.pDependencies = deps;
    VK_TRY(vkCreateRenderPass(g->device, &ri, NULL, &g->pass));
    return 1;
}

static int shader(viz_gfx *g, const uint32_t *code, size_t size, VkShaderModule *out,
                  char *err, size_t err_size) {
    VkShaderModuleCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    ci.codeSize = size;
    ci.pCode = code;
    VK_TRY(vkCreateShaderModule(g->device, &ci, NULL, out));
    return 1;
}

int viz__make_pipeline(viz_gfx *g, char *err, size_t err_size) {
    VkPushConstantRange pc = {VK_SHADER_STAGE_VERTEX_BIT, 0, 2 * sizeof(float)};
    VkPipelineLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    li.setLayoutCount = 1;
    li.pSetLayouts = &g->set_layout;
    li.pushConstantRangeCount = 1;
    li.pPushConstantRanges = &pc;
    VK_TRY(vkCreatePipelineLayout(g->device, &li, NULL, &g->layout));
    VkShaderModule vs = VK_NULL_HANDLE, fs = VK_NULL_HANDLE;
    if (!shader(g, viz_spv_vert, viz_spv_vert_size, &vs, err, err_size) ||
        !shader(g, viz_spv_frag, viz_spv_frag_size, &fs, err, err_size)) {
        if (vs) vkDestroyShaderModule(g->device, vs, NULL);
        return 0;
    }
    VkPipelineShaderStageCreateInfo stages[2] = {
        {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, NULL, 0,
         VK_SHADER_STAGE_VERTEX_BIT, vs, "main", NULL},
        {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, NULL, 0,
         VK_SHADER_STAGE_FRAGMENT_BIT, fs, "main", NULL}};
    VkVertexInputBindingDescription bind = {0, sizeof(viz_vertex), VK_VERTEX_INPUT_RATE_VERTEX};
    VkVertexInputAttributeDescription attrs[3] = {
        {0, 0, VK_FORMAT_R32G32_SFLOAT, offsetof(viz_vertex, x)},
        {1, 0, VK_FORMAT_R32G32_SFLOAT, offsetof(viz_vertex, u)},
        {2, 0, VK_FORMAT_R8G8B8A8_UNORM, offsetof(viz_vertex, rgba)}};
    VkPipelineVertexInputStateCreateInfo vi = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO};
    vi.vertexBindingDescriptionCount = 1;
    vi.pVertexBindingDescriptions = &bind;
    vi.vertexAttributeDescriptionCount = 3;
    vi.pVertexAttributeDescriptions = attrs;
    VkPipelineInputAssemblyStateCreateInfo ia = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO};
    ia.topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST;
    VkPipelineViewportStateCreateInfo vp = {.sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO};
    vp.viewportCount = vp.scissorCount = 1;
    VkPipelineRasterizationStateCreateInfo rs = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO};
    rs.polygonMode = VK_POLYGON_MODE_FILL;
    rs.cullMode = VK_CULL_MODE_NONE;
    rs.lineWidth = 1.0f;
    VkPipelineMultisampleStateCreateInfo ms = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO};
    ms.rasterizationSamples = VK_SAMPLE_COUNT_1_BIT;
    VkPipelineColorBlendAttachmentState blend = {0};
    blend.blendEnable = VK_TRUE;
    blend.srcColorBlendFactor = VK_BLEND_FACTOR_SRC_ALPHA;
    blend.dstColorBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA;
    blend.colorBlendOp = VK_BLEND_OP_ADD;
    blend.srcAlphaBlendFactor = VK_BLEND_FACTOR_ONE;
    blend.dstAlphaBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA;
    blend.alphaBlendOp = VK_BLEND_OP_ADD;
    blend.colorWriteMask = 0xF;
    VkPipelineColorBlendStateCreateInfo cb = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO};
    cb.attachmentCount = 1;
    cb.pAttachments = &blend;
    VkDynamicState dyn[2] = {VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR};
    VkPipelineDynamicStateCreateInfo ds = {.sType = VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO};
    ds.dynamicStateCount = 2;
    ds.pDynamicStates = dyn;
    VkGraphicsPipelineCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO};
    pi.stageCount = 2;
    pi.pStages = stages;
    pi.pVertexInputState = &vi;
    pi.pInputAssemblyState = &ia;
    pi.pViewportState = &vp;
    pi.pRasterizationState = &rs;
    pi.pMultisampleState = &ms;
    pi.pColorBlendState = &cb;
    pi.pDynamicState = &ds;
    pi.layout = g->layout;
    pi.renderPass = g->pass;
    VkResult r = vkCreateGraphicsPipelines(g->device, VK_NULL_HANDLE, 1, &pi, NULL, &g->pipeline);
    vkDestroyShaderModule(g->device, vs, NULL);
    vkDestroyShaderModule(g->device, fs, NULL);
    if (r != VK_SUCCESS) return viz__fail(err, err_size, "vkCreateGraphicsPipelines", r);
    return 1;
}

int viz__record_draw(viz_gfx *g, VkFramebuffer fb, int w, int h, const viz_vertex *v, uint32_t n,
                     const uint8_t clear[4], char *err, size_t err_size) {
    VkDeviceSize need = (VkDeviceSize)(n ? n : 1) * sizeof(viz_vertex);
    if (need > g->vertices.size) { /* the previous frame is done: the fence was waited on */
        VkDeviceSize size = g->vertices.size ? g->vertices.size : 65536;
        while (size < need) size *= 2;
        viz__buffer_free(g, &g->vertices);
        if (!viz__buffer(g, size, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, &g->vertices, err,
                         err_size)) {
            return 0;
        }
    }
    if (n) memcpy(g->vertices.map, v, (size_t)n * sizeof *v);
    VK_TRY(vkResetCommandBuffer(g->cmd, 0));
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    VK_TRY(vkBeginCommandBuffer(g->cmd, &bi));
    VkClearValue cv;
    for (int c = 0; c < 4; c++) cv.color.float32[c] = clear[c] / 255.0f;
    VkRenderPassBeginInfo rp = {.sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO};
    rp.renderPass = g->pass;
    rp.framebuffer = fb;
    rp.renderArea.extent = (VkExtent2D){(uint32_t)w, (uint32_t)h};
    rp.clearValueCount = 1;
    rp.pClearValues = &cv;
    vkCmdBeginRenderPass(g->cmd, &rp, VK_SUBPASS_CONTENTS_INLINE);
    vkCmdBindPipeline(g->cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, g->pipeline);
    VkViewport viewport = {0, 0, (float)w, (float)h, 0, 1};
    VkRect2D scissor = {{0, 0}, {(uint32_t)w, (uint32_t)h}};
    vkCmdSetViewport(g->cmd, 0, 1, &viewport);
    vkCmdSetScissor(g->cmd, 0, 1, &scissor);
    float inv[2] = {1.0f / (float)w, 1.0f / (float)h};
    vkCmdPushConstants(g->cmd, g->layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof inv, inv);
    vkCmdBindDescriptorSets(g->cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, g->layout, 0, 1, &g->set, 0,
                            NULL);
    VkDeviceSize offset = 0;
    vkCmdBindVertexBuffers(g->cmd, 0, 1, &g->vertices.buf, &offset);
    if (n) vkCmdDraw(g->cmd, n, 1, 0, 0);
    vkCmdEndRenderPass(g->cmd);
    return 1;
}

void viz__readback_rgba(const viz_gfx *g, int w, int h, uint8_t *rgba) {
    const uint8_t *src = g->readback.map;
    int bgra = g->format == VK_FORMAT_B8G8R8A8_UNORM || g->format == VK_FORMAT_B8G8R8A8_SRGB;
    for (size_t i = 0; i < (size_t)w * h; i++) {
        rgba[4 * i + 0] = src[4 * i + (bgra ? 2 : 0)];
        rgba[4 * i + 1] = src[4 * i + 1];
        rgba[4 * i + 2] = src[4 * i + (bgra ? 0 : 2)];
        rgba[4 * i + 3] = 255; /* the window is opaque */
    }
}

static int make_offscreen(viz_gfx *g, int w, int h, char *err, size_t err_size) {
    g->width = w;
    g->height = h;
    g->format = VK_FORMAT_R8G8B8A8_UNORM;
    if (!make_image(g, w, h, g->format,
                    VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                    &g->target, &g->target_mem, &g->target_view, err, err_size) ||
        !viz__make_pass(g, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, err, err_size) ||
        !viz__buffer(g, (VkDeviceSize)w * h * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &g->readback,
                     err, err_size)) {
        return 0;
    }
    VkFramebufferCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
    fi.renderPass = g->pass;
    fi.attachmentCount = 1;
    fi.pAttachments = &g->target_view;
    fi.width = (uint32_t)w;
    fi.height = (uint32_t)h;
    fi.layers = 1;
    VK_TRY(vkCreateFramebuffer(g->device, &fi, NULL, &g->target_fb));
    return 1;
}

viz_gfx *viz_gfx_create(const viz_gfx_desc *d, char *err, size_t err_size) {
    viz_gfx *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    g->window = d->window;
    int ok = make_instance(g, d->validation, err, err_size) &&
             (!g->window || viz__window_init(g, err, err_size)) &&
             pick_device(g, err, err_size) && upload_atlas(g, d, err, err_size);
    if (ok && !g->window) {
        ok = make_offscreen(g, d->width, d->height, err, err_size) &&
             viz__make_pipeline(g, err, err_size);
    } else if (ok) {
        /* the swapchain (and with it the format, pass and pipeline) is made at the first frame */
        g->need_recreate = 1;
    }
    if (!ok) {
        viz_gfx_destroy(g);
        return NULL;
    }
    return g;
}

int viz_gfx_render_offscreen(viz_gfx *g, const viz_vertex *v, uint32_t n, const uint8_t clear[4],
                             uint8_t *rgba, char *err, size_t err_size) {
    if (!viz__record_draw(g, g->target_fb, g->width, g->height, v, n, clear, err, err_size)) {
        return 0;
    }
    VkBufferImageCopy region = {0};
    region.imageSubresource = (VkImageSubresourceLayers){VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    region.imageExtent = (VkExtent3D){(uint32_t)g->width, (uint32_t)g->height, 1};
    vkCmdCopyImageToBuffer(g->cmd, g->target, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                           g->readback.buf, 1, &region);
    VkBufferMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER};
    b.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    b.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    b.srcQueueFamilyIndex = b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    b.buffer = g->readback.buf;
    b.size = VK_WHOLE_SIZE;
    vkCmdPipelineBarrier(g->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0,
                         NULL, 1, &b, 0, NULL);
    if (!submit_and_wait(g, err, err_size)) return 0;
    viz__readback_rgba(g, g->width, g->height, rgba);
    return 1;
}

uint32_t viz_gfx_validation_messages(const viz_gfx *g) { return g ? g->validation_messages : 0; }

void viz_gfx_destroy(viz_gfx *g) {
    if (!g) return;
    if (g->device) {
        vkDeviceWaitIdle(g->device);
        viz__window_destroy(g);
        if (g->target_fb) vkDestroyFramebuffer(g->device, g->target_fb, NULL);
        if (g->target_view) vkDestroyImageView(g->device, g->target_view, NULL);
        if (g->target) vkDestroyImage(g->device, g->target, NULL);
        if (g->target_mem) vkFreeMemory(g->device, g->target_mem, NULL);
        viz__buffer_free(g, &g->vertices);
        viz__buffer_free(g, &g->readback);
        if (g->pipeline) vkDestroyPipeline(g->device, g->pipeline, NULL);
        if (g->layout) vkDestroyPipelineLayout(g->device, g->layout, NULL);
        if (g->pass) vkDestroyRenderPass(g->device, g->pass, NULL);
        if (g->desc_pool) vkDestroyDescriptorPool(g->device, g->desc_pool, NULL);
        if (g->set_layout) vkDestroyDescriptorSetLayout(g->device, g->set_layout, NULL);
        if (g->sampler) vkDestroySampler(g->device, g->sampler, NULL);
        if (g->atlas_view) vkDestroyImageView(g->device, g->atlas_view, NULL);
        if (g->atlas) vkDestroyImage(g->device, g->atlas, NULL);
        if (g->atlas_mem) vkFreeMemory(g->device, g->atlas_mem, NULL);
        if (g->fence) vkDestroyFence(g->device, g->fence, NULL);
        if (g->pool) vkDestroyCommandPool(g->device, g->pool, NULL);
        vkDestroyDevice(g->device, NULL);
    }
    if (g->surface) vkDestroySurfaceKHR(g->instance, g->surface, NULL);
    if (g->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy = (PFN_vkDestroyDebugUtilsMessengerEXT)
            vkGetInstanceProcAddr(g->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy) destroy(g->instance, g->messenger, NULL);
    }
    if (g->instance) vkDestroyInstance(g->instance, NULL);
    free(g);
}

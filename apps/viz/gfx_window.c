/* The windowed half of the renderer: GLFW surface, swapchain (recreated on resize and when out
 * of date), one frame in flight, optional read-back of a presented frame (screenshots). */
#include "gfx_internal.h"

#define GLFW_INCLUDE_VULKAN
#include <GLFW/glfw3.h>

#include <stdio.h>
#include <string.h>

#define VK_TRY(call)                                                                          \
    do {                                                                                      \
        VkResult r_ = (call);                                                                 \
        if (r_ != VK_SUCCESS) return viz__fail(err, err_size, #call, r_);                     \
    } while (0)

const char **viz__window_extensions(uint32_t *count) {
    return glfwGetRequiredInstanceExtensions(count);
}

int viz__window_init(viz_gfx *g, char *err, size_t err_size) {
    VK_TRY(glfwCreateWindowSurface(g->instance, g->window, NULL, &g->surface));
    return 1;
}

int viz__window_surface_ok(viz_gfx *g, VkPhysicalDevice phys, uint32_t family) {
    VkBool32 ok = VK_FALSE;
    return vkGetPhysicalDeviceSurfaceSupportKHR(phys, family, g->surface, &ok) == VK_SUCCESS &&
           ok;
}

static void destroy_swapchain_images(viz_gfx *g) {
    for (uint32_t i = 0; i < g->n_images; i++) {
        if (g->fbs[i]) vkDestroyFramebuffer(g->device, g->fbs[i], NULL);
        if (g->views[i]) vkDestroyImageView(g->device, g->views[i], NULL);
        if (g->rendered[i]) vkDestroySemaphore(g->device, g->rendered[i], NULL);
        g->fbs[i] = VK_NULL_HANDLE;
        g->views[i] = VK_NULL_HANDLE;
        g->rendered[i] = VK_NULL_HANDLE;
    }
    g->n_images = 0;
}

void viz__window_destroy(viz_gfx *g) {
    destroy_swapchain_images(g);
    if (g->swapchain) vkDestroySwapchainKHR(g->device, g->swapchain, NULL);
    if (g->acquired) vkDestroySemaphore(g->device, g->acquired, NULL);
    g->swapchain = VK_NULL_HANDLE;
    g->acquired = VK_NULL_HANDLE;
}

static VkFormat choose_format(viz_gfx *g, VkColorSpaceKHR *space) {
    uint32_t n = 0;
    vkGetPhysicalDeviceSurfaceFormatsKHR(g->phys, g->surface, &n, NULL);
    VkSurfaceFormatKHR fmts[64];
    if (n > 64) n = 64;
    vkGetPhysicalDeviceSurfaceFormatsKHR(g->phys, g->surface, &n, fmts);
    /* UNORM, not sRGB: colours in the window are the bytes of the headless PNGs. */
    for (uint32_t i = 0; i < n; i++) {
        if (fmts[i].format == VK_FORMAT_B8G8R8A8_UNORM ||
            fmts[i].format == VK_FORMAT_R8G8B8A8_UNORM) {
            *space = fmts[i].colorSpace;
            return fmts[i].format;
        }
    }
    *space = n ? fmts[0].colorSpace : VK_COLOR_SPACE_SRGB_NONLINEAR_KHR;
    return n ? fmts[0].format : VK_FORMAT_B8G8R8A8_UNORM;
}

/* Returns 1 on success (also when the window has no area: g->extent is then 0 x 0). */
static int recreate(viz_gfx *g, char *err, size_t err_size) {
    vkDeviceWaitIdle(g->device);
    VkSurfaceCapabilitiesKHR caps;
    VK_TRY(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(g->phys, g->surface, &caps));
    VkExtent2D ext = caps.currentExtent;
    if (ext.width == UINT32_MAX) {
        int w, h;
        glfwGetFramebufferSize(g->window, &w, &h);
        ext.width = (uint32_t)w;
        ext.height = (uint32_t)h;
        if (ext.width < caps.minImageExtent.width) ext.width = caps.minImageExtent.width;
        if (ext.height < caps.minImageExtent.height) ext.height = caps.minImageExtent.height;
        if (ext.width > caps.maxImageExtent.width) ext.width = caps.maxImageExtent.width;
        if (ext.height > caps.maxImageExtent.height) ext.height = caps.maxImageExtent.height;
    }
    g->extent = ext;
    if (ext.width == 0 || ext.height == 0) return 1; /* minimised: wait for a size */
    VkColorSpaceKHR space;
    VkFormat format = choose_format(g, &space);
    if (g->pass && format != g->format) { /* another format: another pass and pipeline */
        vkDestroyPipeline(g->device, g->pipeline, NULL);
        vkDestroyPipelineLayout(g->device, g->layout, NULL);
        vkDestroyRenderPass(g->device, g->pass, NULL);
        g->pipeline = VK_NULL_HANDLE;
        g->layout = VK_NULL_HANDLE;
        g->pass = VK_NULL_HANDLE;
    }
    g->format = format;
    if (!g->pass && (!viz__make_pass(g, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, err, err_size) ||
                     !viz__make_pipeline(g, err, err_size))) {
        return 0;
    }
    uint32_t count = caps.minImageCount + 1;
    if (caps.maxImageCount && count > caps.maxImageCount) count = caps.maxImageCount;
    if (count > VIZ_MAX_IMAGES) count = VIZ_MAX_IMAGES;
    VkSwapchainCreateInfoKHR si = {.sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR};
    si.surface = g->surface;
    si.minImageCount = count;
    si.imageFormat = format;
    si.imageColorSpace = space;
    si.imageExtent = ext;
    si.imageArrayLayers = 1;
    si.imageUsage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT |
                    (caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_SRC_BIT);
    si.imageSharingMode = VK_SHARING_MODE_EXCLUSIVE;
    si.preTransform = caps.currentTransform;
    si.compositeAlpha = (caps.supportedCompositeAlpha & VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR)
                            ? VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR
                            : (VkCompositeAlphaFlagBitsKHR)(caps.supportedCompositeAlpha &
                                                            -caps.supportedCompositeAlpha);
    si.presentMode = VK_PRESENT_MODE_FIFO_KHR; /* always supported */
    si.clipped = VK_TRUE;
    si.oldSwapchain = g->swapchain;
    VkSwapchainKHR sc;
    VK_TRY(vkCreateSwapchainKHR(g->device, &si, NULL, &sc));
    destroy_swapchain_images(g);
    if (g->swapchain) vkDestroySwapchainKHR(g->device, g->swapchain, NULL);
    g->swapchain = sc;
    uint32_t n = 0;
    VK_TRY(vkGetSwapchainImagesKHR(g->device, sc, &n, NULL));
    if (n > VIZ_MAX_IMAGES) {
        snprintf(err, err_size, "the swapchain has %u images, more than %d", n, VIZ_MAX_IMAGES);
        return 0;
    }
    VK_TRY(vkGetSwapchainImagesKHR(g->device, sc, &n, g->images));
    g->n_images = n;
    VkSemaphoreCreateInfo sem = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    if (!g->acquired) VK_TRY(vkCreateSemaphore(g->device, &sem, NULL, &g->acquired));
    for (uint32_t i = 0; i < n; i++) {
        VkImageViewCreateInfo vi = {.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
        vi.image = g->images[i];
        vi.viewType = VK_IMAGE_VIEW_TYPE_2D;
        vi.format = format;
        vi.subresourceRange = (VkImageSubresourceRange){VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
        VK_TRY(vkCreateImageView(g->device, &vi, NULL, &g->views[i]));
        VkFramebufferCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
        fi.renderPass = g->pass;
        fi.attachmentCount = 1;
        fi.pAttachments = &g->views[i];
        fi.width = ext.width;
        fi.height = ext.height;
        fi.layers = 1;
        VK_TRY(vkCreateFramebuffer(g->device, &fi, NULL, &g->fbs[i]));
        VK_TRY(vkCreateSemaphore(g->device, &sem, NULL, &g->rendered[i]));
    }
    g->need_recreate = 0;
    return 1;
}

void viz_gfx_extent(const viz_gfx *g, int *w, int *h) {
    *w = (int)g->extent.width;
    *h = (int)g->extent.height;
}

/* Copies swapchain image idx into the read-back buffer (between the pass and the present). */
/* The screenshot's copy waits for the frame's drawing and is waited for by the host. */
#define SHOT_SRC_STAGES (VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT)
#define SHOT_DST_STAGES (VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT)

static int record_copy(viz_gfx *g, uint32_t idx, char *err, size_t err_size) {
    VkDeviceSize need = (VkDeviceSize)g->extent.width * g->extent.height * 4;
    if (need > g->readback.size) {
        viz__buffer_free(g, &g->readback);
        if (!viz__buffer(g, need, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &g->readback, err,
                         err_size)) {
            return 0;
        }
    }
    viz__image_barrier(g->cmd, g->images[idx], VK_IMAGE_LAYOUT_PRESENT_SRC_KHR,
                       VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
                       VK_ACCESS_TRANSFER_READ_BIT, SHOT_SRC_STAGES, SHOT_DST_STAGES);
    VkBufferImageCopy region = {0};
    region.imageSubresource = (VkImageSubresourceLayers){VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    region.imageExtent = (VkExtent3D){g->extent.width, g->extent.height, 1};
    vkCmdCopyImageToBuffer(g->cmd, g->images[idx], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                           g->readback.buf, 1, &region);
    viz__image_barrier(g->cmd, g->images[idx], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                       VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_ACCESS_TRANSFER_READ_BIT, 0, SHOT_SRC_STAGES, SHOT_DST_STAGES);
    return 1;
}

int viz_gfx_frame(viz_gfx *g, const viz_vertex *v, uint32_t n, const uint8_t clear[4],
                  uint8_t *shot, size_t capacity, int *shot_w, int *shot_h, char *err,
                  size_t err_size) {
    if (shot_w) *shot_w = *shot_h = 0;
    int fw, fh;
    glfwGetFramebufferSize(g->window, &fw, &fh);
    if (fw != (int)g->extent.width || fh != (int)g->extent.height) g->need_recreate = 1;
    if (g->need_recreate && !recreate(g, err, err_size)) return 0;
    if (g->extent.width == 0 || g->extent.height == 0) return 1;
    uint32_t idx;
    VkResult r = vkAcquireNextImageKHR(g->device, g->swapchain, UINT64_MAX, g->acquired,
                                       VK_NULL_HANDLE, &idx);
    if (r == VK_ERROR_OUT_OF_DATE_KHR) {
        g->need_recreate = 1;
        return 1;
    }
    if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR) {
        return viz__fail(err, err_size, "vkAcquireNextImageKHR", r);
    }
    int w = (int)g->extent.width, h = (int)g->extent.height;
    int want_shot = shot && (size_t)w * h * 4 <= capacity;
    if (!viz__record_draw(g, g->fbs[idx], w, h, v, n, clear, err, err_size)) return 0;
    if (want_shot && !record_copy(g, idx, err, err_size)) return 0;
    VK_TRY(vkEndCommandBuffer(g->cmd));
    VkPipelineStageFlags stage = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.waitSemaphoreCount = 1;
    si.pWaitSemaphores = &g->acquired;
    si.pWaitDstStageMask = &stage;
    si.commandBufferCount = 1;
    si.pCommandBuffers = &g->cmd;
    si.signalSemaphoreCount = 1;
    si.pSignalSemaphores = &g->rendered[idx];
    VK_TRY(vkQueueSubmit(g->queue, 1, &si, g->fence));
    VkPresentInfoKHR pi = {.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR};
    pi.waitSemaphoreCount = 1;
    pi.pWaitSemaphores = &g->rendered[idx];
    pi.swapchainCount = 1;
    pi.pSwapchains = &g->swapchain;
    pi.pImageIndices = &idx;
    r = vkQueuePresentKHR(g->queue, &pi);
    if (r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR) {
        g->need_recreate = 1;
    } else if (r != VK_SUCCESS) {
        return viz__fail(err, err_size, "vkQueuePresentKHR", r);
    }
    VK_TRY(vkWaitForFences(g->device, 1, &g->fence, VK_TRUE, UINT64_MAX));
    VK_TRY(vkResetFences(g->device, 1, &g->fence));
    if (want_shot) {
        viz__readback_rgba(g, w, h, shot);
        *shot_w = w;
        *shot_h = h;
    }
    return 1;
}

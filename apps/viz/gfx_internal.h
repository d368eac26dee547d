/* Shared between gfx.c (device, pipeline, offscreen target) and gfx_window.c (swapchain). */
#ifndef VIZ_GFX_INTERNAL_H
#define VIZ_GFX_INTERNAL_H

#include "gfx.h"

#include <vulkan/vulkan.h>

enum { VIZ_MAX_IMAGES = 8 };

typedef struct viz_buffer {
    VkBuffer buf;
    VkDeviceMemory mem;
    void *map;
    VkDeviceSize size;
} viz_buffer;

struct viz_gfx {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    uint32_t validation_messages;
    VkPhysicalDevice phys;
    VkDevice device;
    uint32_t queue_family;
    VkQueue queue;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    VkFormat format;              /* of the colour target */
    VkRenderPass pass;
    VkDescriptorSetLayout set_layout;
    VkDescriptorPool desc_pool;
    VkDescriptorSet set;
    VkPipelineLayout layout;
    VkPipeline pipeline;
    VkImage atlas;
    VkDeviceMemory atlas_mem;
    VkImageView atlas_view;
    VkSampler sampler;
    viz_buffer vertices;
    viz_buffer readback;

    /* headless */
    VkImage target;
    VkDeviceMemory target_mem;
    VkImageView target_view;
    VkFramebuffer target_fb;
    int width, height;

    /* windowed */
    struct GLFWwindow *window;
    VkSurfaceKHR surface;
    VkSwapchainKHR swapchain;
    VkExtent2D extent;
    uint32_t n_images;
    VkImage images[VIZ_MAX_IMAGES];
    VkImageView views[VIZ_MAX_IMAGES];
    VkFramebuffer fbs[VIZ_MAX_IMAGES];
    VkSemaphore acquired;
    VkSemaphore rendered[VIZ_MAX_IMAGES];
    int need_recreate;
};

/* gfx.c */
int viz__fail(char *err, size_t size, const char *what, VkResult r);
int viz__buffer(viz_gfx *g, VkDeviceSize size, VkBufferUsageFlags usage, viz_buffer *out,
                char *err, size_t err_size);
void viz__buffer_free(viz_gfx *g, viz_buffer *b);
int viz__make_pass(viz_gfx *g, VkImageLayout final_layout, char *err, size_t err_size);
/* A layout transition of a whole single-mip colour image, with its access and stage masks. */
void viz__image_barrier(VkCommandBuffer cmd, VkImage img, VkImageLayout from, VkImageLayout to,
                        VkAccessFlags src_access, VkAccessFlags dst_access,
                        VkPipelineStageFlags src_stage, VkPipelineStageFlags dst_stage);
int viz__make_pipeline(viz_gfx *g, char *err, size_t err_size);
/* Begins cmd, uploads vertices, records the render pass into fb of size w x h. */
int viz__record_draw(viz_gfx *g, VkFramebuffer fb, int w, int h, const viz_vertex *v, uint32_t n,
                     const uint8_t clear[4], char *err, size_t err_size);
/* The image's pixels, after a copy into g->readback, as RGBA rows (swizzling BGRA). */
void viz__readback_rgba(const viz_gfx *g, int w, int h, uint8_t *rgba);

/* gfx_window.c */
int viz__window_init(viz_gfx *g, char *err, size_t err_size);
void viz__window_destroy(viz_gfx *g);
int viz__window_surface_ok(viz_gfx *g, VkPhysicalDevice phys, uint32_t family);

#endif

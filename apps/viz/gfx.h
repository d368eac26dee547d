/* A small 2D batch renderer on its own Vulkan instance and device (a graphics queue): one
 * pipeline drawing triangles with (position in pixels, uv, colour) vertices and one texture,
 * the font atlas (coverage in red; a white texel for solid fills). It draws either into an
 * offscreen image that is read back (headless, no window system at all) or into a GLFW
 * window's swapchain. */
#ifndef VIZ_GFX_H
#define VIZ_GFX_H

#include <stddef.h>
#include <stdint.h>

typedef struct viz_vertex {
    float x, y;       /* pixels, origin top left */
    float u, v;       /* atlas coordinates, 0..1 */
    uint8_t rgba[4];
} viz_vertex;

typedef struct viz_gfx viz_gfx;
struct GLFWwindow;

typedef struct viz_gfx_desc {
    struct GLFWwindow *window; /* NULL: headless (offscreen image of width x height) */
    int width, height;         /* headless size */
    int validation;            /* enable VK_LAYER_KHRONOS_validation and count its messages */
    const uint8_t *atlas;      /* atlas_w * atlas_h bytes of coverage */
    int atlas_w, atlas_h;
} viz_gfx_desc;

/* Returns NULL with a message in err on failure. */
viz_gfx *viz_gfx_create(const viz_gfx_desc *desc, char *err, size_t err_size);
void viz_gfx_destroy(viz_gfx *g); /* NULL: no-op */

/* Headless: draws the vertices (a clear to `clear` first) and reads the image back into rgba
 * (width * height * 4 bytes, rows top to bottom). Returns 0 with a message on failure. */
int viz_gfx_render_offscreen(viz_gfx *g, const viz_vertex *v, uint32_t n, const uint8_t clear[4],
                             uint8_t *rgba, char *err, size_t err_size);

/* Windowed: draws one frame into the swapchain and presents it; recreates the swapchain when
 * the window's size changed or the surface is out of date. When screenshot is not NULL, the
 * frame is also read back into it (*shot_w x *shot_h x 4 bytes, at most the given capacity).
 * Returns 0 with a message on failure; 1 on success, also when the frame was skipped (a
 * minimised window). */
int viz_gfx_frame(viz_gfx *g, const viz_vertex *v, uint32_t n, const uint8_t clear[4],
                  uint8_t *screenshot, size_t capacity, int *shot_w, int *shot_h, char *err,
                  size_t err_size);
/* The swapchain's current size in pixels (windowed). */
void viz_gfx_extent(const viz_gfx *g, int *w, int *h);

/* Validation-layer errors and warnings seen so far (0 without validation). */
uint32_t viz_gfx_validation_messages(const viz_gfx *g);

#endif

/* Text: a system TrueType font baked with stb_truetype into a coverage atlas at two sizes
 * (printable ASCII), plus a 4x4 white patch that solid shapes sample. */
#ifndef VIZ_FONT_H
#define VIZ_FONT_H

#include <stdint.h>
#include <stddef.h>

#define VIZ_FONT_DEFAULT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

enum { VIZ_FONT_SMALL = 0, VIZ_FONT_LARGE = 1, VIZ_FONT_SIZES = 2 };

typedef struct viz_glyph {
    uint16_t x0, y0, x1, y1; /* in the atlas */
    float xoff, yoff, xadvance;
} viz_glyph;

typedef struct viz_font {
    uint8_t *atlas; /* w * h coverage bytes */
    int w, h;
    viz_glyph glyphs[VIZ_FONT_SIZES][95];
    float pixel_height[VIZ_FONT_SIZES];
    float ascent[VIZ_FONT_SIZES]; /* baseline below the top of a line */
    float white_u, white_v;       /* the centre of the white patch */
} viz_font;

/* Bakes the font at `path` (NULL: VIZ_FONT_DEFAULT). Returns 0 with a message on failure. */
int viz_font_load(viz_font *f, const char *path, char *err, size_t err_size);
void viz_font_free(viz_font *f);
/* Width in pixels of `s` at `size`. */
float viz_font_width(const viz_font *f, const char *s, int size);

#endif

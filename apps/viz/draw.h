/* The frame's triangle list: filled and outlined rectangles, lines, text, tooltips. Views add
 * to it; the renderer draws it in one call. */
#ifndef VIZ_DRAW_H
#define VIZ_DRAW_H

#include "font.h"
#include "gfx.h"

#include <stdint.h>

typedef struct viz_draw {
    viz_vertex *v;
    uint32_t n, cap;
    int out_of_memory; /* further shapes are dropped */
    const viz_font *font;
} viz_draw;

typedef uint8_t viz_color[4];

extern const viz_color VIZ_BG, VIZ_PANEL, VIZ_FG, VIZ_DIM, VIZ_GRIDLINE, VIZ_ACCENT, VIZ_SELECT;

void viz_draw_reset(viz_draw *d);
void viz_draw_free(viz_draw *d);
void viz_fill(viz_draw *d, float x, float y, float w, float h, const uint8_t c[4]);
void viz_outline(viz_draw *d, float x, float y, float w, float h, float t, const uint8_t c[4]);
void viz_line(viz_draw *d, float x0, float y0, float x1, float y1, float width,
              const uint8_t c[4]);
/* Text with its top-left at (x, y); returns its width. */
float viz_text(viz_draw *d, float x, float y, const char *s, int size, const uint8_t c[4]);
/* Right-aligned / centred at x. */
float viz_text_right(viz_draw *d, float x, float y, const char *s, int size, const uint8_t c[4]);
float viz_text_center(viz_draw *d, float x, float y, const char *s, int size, const uint8_t c[4]);
/* A box of lines ('\n'-separated) near (mx, my), kept inside width x height. */
void viz_tooltip(viz_draw *d, float mx, float my, const char *text, int width, int height);

#endif

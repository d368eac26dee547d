#include "draw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const viz_color VIZ_BG = {22, 24, 29, 255}, VIZ_PANEL = {34, 37, 44, 255},
                VIZ_FG = {232, 232, 232, 255}, VIZ_DIM = {150, 154, 162, 255},
                VIZ_GRIDLINE = {70, 74, 84, 255}, VIZ_ACCENT = {255, 140, 50, 255},
                VIZ_SELECT = {255, 255, 255, 255};

void viz_draw_reset(viz_draw *d) {
    d->n = 0;
    d->out_of_memory = 0;
}

void viz_draw_free(viz_draw *d) {
    free(d->v);
    memset(d, 0, sizeof *d);
}

static viz_vertex *reserve(viz_draw *d, uint32_t count) {
    if (d->n + count > d->cap) {
        uint32_t cap = d->cap ? d->cap : 4096;
        while (cap < d->n + count) cap *= 2;
        viz_vertex *v = cap < (1u << 26) ? realloc(d->v, (size_t)cap * sizeof *v) : NULL;
        if (!v) {
            d->out_of_memory = 1;
            return NULL;
        }
        d->v = v;
        d->cap = cap;
    }
    viz_vertex *out = d->v + d->n;
    d->n += count;
    return out;
}

/* A quad p0..p3 (clockwise or not) with uv corners, as two triangles. */
static void quad(viz_draw *d, const float p[4][2], const float uv[4][2], const uint8_t c[4]) {
    viz_vertex *v = reserve(d, 6);
    if (!v) return;
    static const int order[6] = {0, 1, 2, 0, 2, 3};
    for (int i = 0; i < 6; i++) {
        v[i].x = p[order[i]][0];
        v[i].y = p[order[i]][1];
        v[i].u = uv[order[i]][0];
        v[i].v = uv[order[i]][1];
        memcpy(v[i].rgba, c, 4);
    }
}

void viz_fill(viz_draw *d, float x, float y, float w, float h, const uint8_t c[4]) {
    if (w <= 0 || h <= 0) return;
    float u = d->font->white_u, vv = d->font->white_v;
    const float p[4][2] = {{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}};
    const float uv[4][2] = {{u, vv}, {u, vv}, {u, vv}, {u, vv}};
    quad(d, p, uv, c);
}

void viz_outline(viz_draw *d, float x, float y, float w, float h, float t, const uint8_t c[4]) {
    viz_fill(d, x, y, w, t, c);
    viz_fill(d, x, y + h - t, w, t, c);
    viz_fill(d, x, y + t, t, h - 2 * t, c);
    viz_fill(d, x + w - t, y + t, t, h - 2 * t, c);
}

void viz_line(viz_draw *d, float x0, float y0, float x1, float y1, float width,
              const uint8_t c[4]) {
    float dx = x1 - x0, dy = y1 - y0, len = sqrtf(dx * dx + dy * dy);
    if (len <= 0) return;
    float nx = -dy / len * width * 0.5f, ny = dx / len * width * 0.5f;
    float u = d->font->white_u, vv = d->font->white_v;
    const float p[4][2] = {{x0 + nx, y0 + ny}, {x1 + nx, y1 + ny}, {x1 - nx, y1 - ny},
                           {x0 - nx, y0 - ny}};
    const float uv[4][2] = {{u, vv}, {u, vv}, {u, vv}, {u, vv}};
    quad(d, p, uv, c);
}

float viz_text(viz_draw *d, float x, float y, const char *s, int size, const uint8_t c[4]) {
    const viz_font *f = d->font;
    float pen = roundf(x), base = roundf(y + f->ascent[size]);
    for (; *s; s++) {
        int ch = (unsigned char)*s;
        if (ch < 32 || ch > 126) ch = '?';
        const viz_glyph *g = &f->glyphs[size][ch - 32];
        if (g->x1 > g->x0) {
            float gx = roundf(pen + g->xoff), gy = roundf(base + g->yoff);
            float gw = (float)(g->x1 - g->x0), gh = (float)(g->y1 - g->y0);
            float u0 = (float)g->x0 / f->w, v0 = (float)g->y0 / f->h;
            float u1 = (float)g->x1 / f->w, v1 = (float)g->y1 / f->h;
            const float p[4][2] = {{gx, gy}, {gx + gw, gy}, {gx + gw, gy + gh}, {gx, gy + gh}};
            const float uv[4][2] = {{u0, v0}, {u1, v0}, {u1, v1}, {u0, v1}};
            quad(d, p, uv, c);
        }
        pen += g->xadvance;
    }
    return pen - roundf(x);
}

float viz_text_right(viz_draw *d, float x, float y, const char *s, int size, const uint8_t c[4]) {
    return viz_text(d, x - viz_font_width(d->font, s, size), y, s, size, c);
}

float viz_text_center(viz_draw *d, float x, float y, const char *s, int size,
                      const uint8_t c[4]) {
    return viz_text(d, x - viz_font_width(d->font, s, size) * 0.5f, y, s, size, c);
}

/* Copies the line starting at p (truncated to fit) into line; returns where the next begins. */
static const char *next_line(const char *p, char *line, size_t cap) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    memcpy(line, p, n < cap ? n : cap - 1);
    line[n < cap ? n : cap - 1] = 0;
    return e ? e + 1 : p + n;
}

void viz_tooltip(viz_draw *d, float mx, float my, const char *text, int width, int height) {
    char line[256];
    float w = 0, lh = d->font->pixel_height[VIZ_FONT_SMALL] + 3;
    int lines = 0;
    for (const char *p = text; *p;) {
        p = next_line(p, line, sizeof line);
        float lw = viz_font_width(d->font, line, VIZ_FONT_SMALL);
        if (lw > w) w = lw;
        lines++;
    }
    float bw = w + 16, bh = lines * lh + 10;
    float x = mx + 16, y = my + 16;
    if (x + bw > width) x = mx - bw - 8;
    if (y + bh > height) y = my - bh - 8;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    static const viz_color box = {12, 13, 16, 240};
    viz_fill(d, x, y, bw, bh, box);
    viz_outline(d, x, y, bw, bh, 1, VIZ_GRIDLINE);
    float ty = y + 5;
    for (const char *p = text; *p;) {
        p = next_line(p, line, sizeof line);
        viz_text(d, x + 8, ty, line, VIZ_FONT_SMALL, VIZ_FG);
        ty += lh;
    }
}

#include "font.h"

#include <stb_truetype.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ATLAS_W = 512, ATLAS_H = 512, BAND_H = 248 };

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    unsigned char *data = NULL;
    long n = -1;
    if (fseek(fp, 0, SEEK_END) == 0) n = ftell(fp);
    if (n > 0 && n < (64l << 20) && fseek(fp, 0, SEEK_SET) == 0) {
        data = malloc((size_t)n);
        if (data && fread(data, 1, (size_t)n, fp) != (size_t)n) {
            free(data);
            data = NULL;
        }
    }
    fclose(fp);
    *size = data ? (size_t)n : 0;
    return data;
}

int viz_font_load(viz_font *f, const char *path, char *err, size_t err_size) {
    memset(f, 0, sizeof *f);
    if (!path) path = VIZ_FONT_DEFAULT;
    size_t size;
    unsigned char *ttf = read_file(path, &size);
    if (!ttf) {
        snprintf(err, err_size, "font %s: cannot read it (install fonts-dejavu-core, or pass "
                                "--font FILE.ttf)", path);
        return 0;
    }
    stbtt_fontinfo info;
    if (!stbtt_InitFont(&info, ttf, stbtt_GetFontOffsetForIndex(ttf, 0))) {
        free(ttf);
        snprintf(err, err_size, "font %s: not a TrueType font stb_truetype can read", path);
        return 0;
    }
    f->w = ATLAS_W;
    f->h = ATLAS_H;
    f->atlas = calloc(ATLAS_W, ATLAS_H);
    if (!f->atlas) {
        free(ttf);
        snprintf(err, err_size, "out of memory");
        return 0;
    }
    static const float heights[VIZ_FONT_SIZES] = {15.0f, 21.0f};
    int ascent, descent, gap;
    stbtt_GetFontVMetrics(&info, &ascent, &descent, &gap);
    for (int s = 0; s < VIZ_FONT_SIZES; s++) {
        stbtt_bakedchar baked[95];
        int band_y = s * BAND_H;
        int rc = stbtt_BakeFontBitmap(ttf, 0, heights[s], f->atlas + (size_t)band_y * ATLAS_W,
                                      ATLAS_W, BAND_H, 32, 95, baked);
        if (rc <= 0) {
            free(ttf);
            viz_font_free(f);
            snprintf(err, err_size, "font %s: the glyphs do not fit the atlas", path);
            return 0;
        }
        f->pixel_height[s] = heights[s];
        f->ascent[s] = (float)ascent * stbtt_ScaleForPixelHeight(&info, heights[s]);
        for (int c = 0; c < 95; c++) {
            viz_glyph *g = &f->glyphs[s][c];
            g->x0 = baked[c].x0;
            g->x1 = baked[c].x1;
            g->y0 = (uint16_t)(baked[c].y0 + band_y);
            g->y1 = (uint16_t)(baked[c].y1 + band_y);
            g->xoff = baked[c].xoff;
            g->yoff = baked[c].yoff;
            g->xadvance = baked[c].xadvance;
        }
    }
    free(ttf);
    for (int y = ATLAS_H - 4; y < ATLAS_H; y++) {
        memset(f->atlas + (size_t)y * ATLAS_W + ATLAS_W - 4, 255, 4);
    }
    f->white_u = (ATLAS_W - 2.0f) / ATLAS_W;
    f->white_v = (ATLAS_H - 2.0f) / ATLAS_H;
    return 1;
}

void viz_font_free(viz_font *f) {
    free(f->atlas);
    f->atlas = NULL;
}

float viz_font_width(const viz_font *f, const char *s, int size) {
    float w = 0;
    for (; *s; s++) {
        int c = (unsigned char)*s;
        if (c < 32 || c > 126) c = '?';
        w += f->glyphs[size][c - 32].xadvance;
    }
    return w;
}

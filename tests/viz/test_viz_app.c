/* vkq-viz end to end: headless renders of every view (size, not blank, heatmap colours that
 * follow the report), malformed reports (a clear message, no crash), and the windowed app
 * under Xvfb (starts, draws, takes a screenshot, quits on a scripted key, validation clean).
 *   test_viz_app headless | window | fixture DIR */
#include "colormap.h"
#include "fixture.h"
#include "common/test.h"

#include <cJSON.h>
#include <stb_image.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

/* Runs a shell command; returns its exit code, or -1 (and a failure) if it died of a signal. */
static int run(const char *cmd) {
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st)) {
        CHECK_MSG(0, "%s: did not exit normally (status 0x%x): a crash?", cmd, st);
        return -1;
    }
    return WEXITSTATUS(st);
}

static int viz(const char *args, const char *log) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' --report %s/report.json --model %s/model.gguf %s 2>%s/%s",
             VIZ_APP, dir, dir, args, dir, log);
    return run(cmd);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

typedef struct image {
    unsigned char *px;
    int w, h;
} image;

static image load_png(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    image im = {0};
    int n;
    im.px = stbi_load(path, &im.w, &im.h, &n, 4);
    CHECK_MSG(im.px != NULL, "%s: not a readable PNG", path);
    return im;
}

/* Not blank: many colours, and a good share of pixels that are not the background. */
static void check_not_blank(image im, const char *what) {
    static const unsigned char bg[3] = {22, 24, 29}; /* VIZ_BG in apps/viz/draw.c */
    static unsigned char seen[32768];
    int distinct = 0, other = 0;
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < im.w * im.h; i++) {
        const unsigned char *p = im.px + 4 * i;
        int key = (p[0] >> 3) << 10 | (p[1] >> 3) << 5 | (p[2] >> 3);
        distinct += !seen[key];
        seen[key] = 1;
        other += p[0] != bg[0] || p[1] != bg[1] || p[2] != bg[2];
    }
    CHECK_MSG(distinct >= 12, "%s: only %d colours", what, distinct);
    CHECK_MSG(other > im.w * im.h / 50, "%s: only %d pixels drawn", what, other);
}

static double num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Samples every heatmap cell centre and compares with the colour the report's value must get:
 * the range is the test's own, over the values it wrote for the two formats shown. */
static void check_heatmap(const char *png, const char *layout, viz_metric m, int f0, int f1) {
    image im = load_png(png);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, layout);
    char *text = slurp(path);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    CHECK_MSG(root != NULL, "%s: missing or not JSON", path);
    if (!root || !im.px) {
        cJSON_Delete(root);
        stbi_image_free(im.px);
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int l = -1; l < FIX_LAYERS; l++) {
        for (int r = 0; r < FIX_ROLES; r++) {
            if ((l < 0) != (r == FIX_ROLES - 1)) continue;
            for (int k = 0; k < 2; k++) {
                int f = k ? f1 : f0;
                double v = m == VIZ_METRIC_SQNR ? fix_sqnr(l, r, f) : fix_rel_l2(l, r, f);
                if (!isfinite(v) || (m != VIZ_METRIC_SQNR && v <= 0)) continue;
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
    }
    int cells = 0, bad = 0, missing = 0, best = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cells")) {
        const char *tname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "tensor"));
        const char *fname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "format"));
        int layer = -2, role = -1, f = -1;
        for (int l = -1; l < FIX_LAYERS && tname; l++) {
            for (int r = 0; r < FIX_ROLES; r++) {
                char name[96];
                fix_tensor_name(l, r, name, sizeof name);
                if (!strcmp(name, tname)) layer = l, role = r;
            }
        }
        for (int k = 0; k < FIX_FORMATS && fname; k++) {
            if (!strcmp(fname, fix_formats[k])) f = k;
        }
        CHECK_MSG(layer > -2 && f >= 0, "layout cell %s/%s unknown", tname, fname);
        if (layer < -1 || f < 0) continue;
        double v = m == VIZ_METRIC_SQNR ? fix_sqnr(layer, role, f) : fix_rel_l2(layer, role, f);
        uint8_t want[4];
        if (isnan(v)) viz_color_missing(want), missing++;
        else viz_colormap(viz_badness(m, v, lo, hi), want);
        if (isinf(v)) best++;
        int x = (int)(num(c, "x") + num(c, "w") / 2), y = (int)(num(c, "y") + num(c, "h") / 2);
        CHECK_MSG(x >= 0 && y >= 0 && x < im.w && y < im.h, "cell %s outside the image", tname);
        if (x < 0 || y < 0 || x >= im.w || y >= im.h) continue;
        const unsigned char *p = im.px + 4 * ((size_t)y * im.w + x);
        int ok = abs(p[0] - want[0]) <= 2 && abs(p[1] - want[1]) <= 2 && abs(p[2] - want[2]) <= 2;
        if (!ok && bad++ < 5) {
            fprintf(stderr, "%s: cell %s %s at (%d,%d) is %d,%d,%d, expected %d,%d,%d\n", png,
                    tname, fname, x, y, p[0], p[1], p[2], want[0], want[1], want[2]);
        }
        cells++;
    }
    int expect = 2 * (FIX_LAYERS * (FIX_ROLES - 1) + 1);
    CHECK_MSG(cells == expect, "%s: %d cells, expected %d", layout, cells, expect);
    CHECK_MSG(bad == 0, "%s: %d cells with the wrong colour", png, bad);
    if (f0 == 0) CHECK(missing == 1); /* blk.1.attn_v has no q4_0 entry */
    if (m == VIZ_METRIC_SQNR && f1 == 1) CHECK(best == 1);
    cJSON_Delete(root);
    stbi_image_free(im.px);
}

static void check_size(const char *png, int w, int h) {
    image im = load_png(png);
    if (!im.px) return;
    CHECK_MSG(im.w == w && im.h == h, "%s is %dx%d, expected %dx%d", png, im.w, im.h, w, h);
    check_not_blank(im, png);
    stbi_image_free(im.px);
}

static void malformed(const char *name, const char *json, const char *expect) {
    char path[256], cmd[1024];
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(json, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' --report %s --png %s/bad.png 2>%s/bad.log", VIZ_APP, path,
             dir, dir);
    int rc = run(cmd);
    CHECK_MSG(rc == 1, "%s: exit %d, expected 1", name, rc);
    snprintf(path, sizeof path, "%s/bad.log", dir);
    char *log = slurp(path);
    CHECK_MSG(log && strstr(log, expect), "%s: message \"%s\" lacks \"%s\"", name,
              log ? log : "", expect);
}

/* Pixels that differ by more than 2 in some channel. */
static int differing(const char *a_png, const char *b_png) {
    image a = load_png(a_png), b = load_png(b_png);
    int n = -1;
    if (a.px && b.px && a.w == b.w && a.h == b.h) {
        n = 0;
        for (int i = 0; i < a.w * a.h * 4; i++) {
            if (i % 4 != 3 && abs(a.px[i] - b.px[i]) > 2) n++;
        }
    }
    stbi_image_free(a.px);
    stbi_image_free(b.px);
    return n;
}

/* The centre of tensor `name`'s cell in `panel`, from a layout file. */
static int cell_centre(const char *layout, const char *name, int panel, int *x, int *y) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, layout);
    char *text = slurp(path);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    const cJSON *c, *cells = root ? cJSON_GetObjectItemCaseSensitive(root, "cells") : NULL;
    int found = 0;
    cJSON_ArrayForEach(c, cells) {
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "tensor"));
        if (t && !strcmp(t, name) && num(c, "panel") == panel) {
            *x = (int)(num(c, "x") + num(c, "w") / 2);
            *y = (int)(num(c, "y") + num(c, "h") / 2);
            found = 1;
        }
    }
    cJSON_Delete(root);
    CHECK_MSG(found, "%s: no cell for %s", layout, name);
    return found;
}

/* Orange grid lines over the histogram. */
static int grid_pixels(const char *png) {
    image im = load_png(png);
    int n = 0;
    for (int i = 0; im.px && i < im.w * im.h; i++) {
        const unsigned char *p = im.px + 4 * i;
        n += p[0] > 180 && p[1] > 90 && p[1] < 160 && p[2] < 110;
    }
    stbi_image_free(im.px);
    return n;
}

static void headless(void) {
    char args[512];
    snprintf(args, sizeof args, "--view heatmap --size 1000x640 --png %s/heat.png "
                                "--layout-json %s/heat.json", dir, dir);
    CHECK(viz(args, "heat.log") == 0);
    check_size("heat.png", 1000, 640);
    check_heatmap("heat.png", "heat.json", VIZ_METRIC_SQNR, 0, 1);

    snprintf(args, sizeof args, "--view heatmap --metric rel_l2 --format q8_0 --size 900x600 "
                                "--png %s/heat2.png --layout-json %s/heat2.json", dir, dir);
    CHECK(viz(args, "heat2.log") == 0);
    check_size("heat2.png", 900, 600);
    check_heatmap("heat2.png", "heat2.json", VIZ_METRIC_REL_L2, 1, 2);

    static const char *views[] = {"depth", "histogram", "pareto"};
    for (int i = 0; i < 3; i++) {
        char png[64];
        snprintf(png, sizeof png, "%s.png", views[i]);
        snprintf(args, sizeof args, "--view %s --format q4_k --tensor blk.1.ffn_down.weight "
                                    "--png %s/%s", views[i], dir, png);
        CHECK_MSG(viz(args, "view.log") == 0, "view %s failed", views[i]);
        check_size(png, 1280, 800);
    }
    CHECK_MSG(grid_pixels("histogram.png") > 100, "no quantization grid over the histogram");

    /* a click on a heatmap cell opens its histogram: the same image as asking for it */
    int x = 0, y = 0;
    if (cell_centre("heat.json", "blk.0.attn_k.weight", 0, &x, &y)) {
        snprintf(args, sizeof args, "--size 1000x640 --script \"move 5 5; click %d %d; move -9 -9\" "
                                    "--png %s/click.png", x, y, dir);
        CHECK(viz(args, "click.log") == 0);
        snprintf(args, sizeof args, "--size 1000x640 --view histogram --format q4_0 "
                                    "--tensor blk.0.attn_k.weight --png %s/hist0.png", dir);
        CHECK(viz(args, "hist0.log") == 0);
        CHECK_MSG(differing("click.png", "hist0.png") == 0, "the click did not open the histogram");
    }
    /* hovering shows a tooltip: the image changes */
    snprintf(args, sizeof args, "--size 1000x640 --script \"move %d %d\" --png %s/hover.png", x, y,
             dir);
    CHECK(viz(args, "hover.log") == 0);
    CHECK_MSG(differing("hover.png", "heat.png") > 500, "no tooltip on hover");
    /* keys: m (metric) as --metric, 4 as --view pareto, f as --format of the next format */
    static const char *keys[][2] = {{"key m", "--metric rel_l2"},
                                    {"key 4", "--view pareto"},
                                    {"key tab; key tab", "--view histogram"},
                                    {"key f", "--format q8_0"}};
    for (int i = 0; i < 4; i++) {
        snprintf(args, sizeof args, "--script \"%s\" --png %s/key.png", keys[i][0], dir);
        CHECK(viz(args, "key.log") == 0);
        snprintf(args, sizeof args, "%s --png %s/flag.png", keys[i][1], dir);
        CHECK(viz(args, "flag.log") == 0);
        CHECK_MSG(differing("key.png", "flag.png") == 0, "\"%s\" differs from %s", keys[i][0],
                  keys[i][1]);
    }
}

static void bad_inputs(void) {
    malformed("empty", "", "not valid JSON");
    malformed("truncated", "{\"vkq_analysis\": 1, \"formats\": [\"q4_0\"", "not valid JSON");
    malformed("array", "[1, 2]", "not a JSON object");
    malformed("version", "{\"vkq_analysis\": 2, \"formats\": [\"q4_0\"]}", "version 2");
    malformed("noversion", "{\"formats\": [\"q4_0\"]}", "not a vkq analysis report");
    malformed("noformats", "{\"vkq_analysis\": 1, \"formats\": []}", "names no format");
    malformed("formattype", "{\"vkq_analysis\": 1, \"formats\": [3]}", "formats[0]");
    malformed("tensors", "{\"vkq_analysis\": 1, \"formats\": [\"q4_0\"], \"tensors\": {}}",
              "tensors: expected an array");
    malformed("tensorname", "{\"vkq_analysis\": 1, \"formats\": [\"q4_0\"], \"tensors\": [{}]}",
              "tensors[0].name");
    malformed("number",
              "{\"vkq_analysis\": 1, \"formats\": [\"q4_0\"], \"tensors\": [{\"name\": \"a\", "
              "\"formats\": {\"q4_0\": {\"sqnr_db\": \"high\"}}}]}",
              "tensors[0].formats.q4_0.sqnr_db");
    malformed("layer",
              "{\"vkq_analysis\": 1, \"formats\": [\"q4_0\"], \"tensors\": [{\"name\": \"a\", "
              "\"layer\": 1e300}]}", "tensors[0].layer");
    malformed("ne", "{\"vkq_analysis\": 1, \"formats\": [\"q4_0\"], \"tensors\": [{\"name\": "
                    "\"a\", \"ne\": [1, -5]}]}", "tensors[0].ne[1]");
    malformed("points", "{\"vkq_analysis\": 1, \"formats\": [\"q4_0\"], \"activations\": "
                        "[{\"format\": \"q4_0\", \"accumulated\": [7]}]}",
              "activations[0].accumulated[0]");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' --report %s/nonexistent.json --png %s/x.png 2>/dev/null",
             VIZ_APP, dir, dir);
    CHECK(run(cmd) == 1);
    char args[512];
    snprintf(args, sizeof args, "--font %s/none.ttf --png %s/x.png", dir, dir);
    CHECK(viz(args, "font.log") == 1);
    snprintf(cmd, sizeof cmd, "%s/font.log", dir);
    CHECK(strstr(slurp(cmd), "fonts-dejavu-core") != NULL);
    CHECK(viz("--view nope --png /dev/null", "args.log") == 1);
    CHECK(viz("--size 10x10 --png /dev/null", "args.log") == 2);
    CHECK(viz("--script \"jump 3\" --png /dev/null", "args.log") == 2);
}

/* The windowed app under Xvfb; 77 (skip) only when no X server can be started. */
static int window(void) {
    if (run("command -v xvfb-run >/dev/null 2>&1") != 0 ||
        run("xvfb-run -a true >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_viz_app window: xvfb-run cannot start an X server: skipped\n");
        return 77;
    }
    char args[1024], xvfb[64];
    snprintf(xvfb, sizeof xvfb, "xvfb-run -a -s '-screen 0 1280x1024x24'");
    char cmd[2048];
    /* headless reference and layout at the window's size */
    snprintf(args, sizeof args, "--size 1000x640 --png %s/heat.png --layout-json %s/heat.json",
             dir, dir);
    CHECK(viz(args, "heat.log") == 0);
    snprintf(args, sizeof args, "--size 1000x640 --view histogram --format q4_0 "
                                "--tensor blk.0.attn_k.weight --png %s/hist0.png", dir);
    CHECK(viz(args, "hist0.log") == 0);
    int x = 0, y = 0;
    cell_centre("heat.json", "blk.0.attn_k.weight", 0, &x, &y);

    /* N frames, a scripted click on a cell, then a screenshot: it shows that histogram */
    snprintf(cmd, sizeof cmd, "%s '%s' --report %s/report.json --model %s/model.gguf --validate "
             "--size 1000x640 --frames 8 --screenshot %s/win.png --script \"wait 2; click %d %d; "
             "wait 1; move -9 -9; wait 1\" 2>%s/win.log", xvfb, VIZ_APP, dir, dir, dir, x, y, dir);
    int rc = run(cmd);
    CHECK_MSG(rc == 0, "windowed run: exit %d: %s", rc, slurp(strcat(strcpy(args, dir), "/win.log")));
    check_size("win.png", 1000, 640);
    int diff = differing("win.png", "hist0.png");
    CHECK_MSG(diff >= 0 && diff < 1000 * 640 / 1000, "window and headless differ in %d pixels", diff);

    /* resize (the swapchain is recreated), screenshot, quit on a scripted key */
    snprintf(cmd, sizeof cmd, "%s '%s' --report %s/report.json --model %s/model.gguf --validate "
             "--size 1000x640 --script \"wait 2; resize 800 500; wait 3; screenshot %s/resized.png; "
             "wait 1; key m; key f; key 4; wait 2; key q\" 2>%s/win2.log", xvfb, VIZ_APP, dir, dir,
             dir, dir);
    rc = run(cmd);
    CHECK_MSG(rc == 0, "windowed run 2: exit %d: %s", rc,
              slurp(strcat(strcpy(args, dir), "/win2.log")));
    check_size("resized.png", 800, 500);
    return 0;
}

int main(int argc, char **argv) {
    test_init("test_viz_app");
    const char *mode = argc > 1 ? argv[1] : "headless";
    if (!strcmp(mode, "fixture") && argc > 2) return fix_write(argv[2], 1) ? 0 : 1;
    snprintf(dir, sizeof dir, "/tmp/vkq-viz-XXXXXX");
    if (!mkdtemp(dir) || !fix_write(dir, 1)) {
        CHECK_MSG(0, "cannot write the fixture under %s", dir);
        return test_finish();
    }
    if (!strcmp(mode, "headless")) {
        headless();
        bad_inputs();
    } else if (!strcmp(mode, "window")) {
        if (window() == 77) return 77;
    } else {
        CHECK_MSG(0, "unknown mode %s", mode);
    }
    if (vkq_test_failures == 0) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        run(cmd);
    } else {
        fprintf(stderr, "files kept in %s\n", dir);
    }
    return test_finish();
}

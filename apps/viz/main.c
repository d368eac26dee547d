/* vkq-viz: the per-layer quantization error viewer. Reads a report of `vkq analyze` and the
 * model it describes; shows it in a window (GLFW + Vulkan) or renders one view to PNG. */
#include "app.h"
#include "gfx.h"
#include "script.h"

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <stb_image_write.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SCRIPT = 256, EXIT_VALIDATION = 3 };

static int validation_failed; /* the layer reported something: exit EXIT_VALIDATION */

typedef struct options {
    const char *model, *report, *view, *png, *format, *metric, *tensor, *font, *layout_json;
    const char *screenshot, *script;
    int width, height, frames, validation;
} options;

static const char usage[] =
    "usage: vkq-viz --report REPORT.json [--model MODEL.gguf] [options]\n"
    "  --view heatmap|depth|histogram|pareto   the view to start with (default heatmap)\n"
    "  --format F          the format to show first (a name from the report)\n"
    "  --metric sqnr|rel_l2|weighted   the heatmap's metric (default sqnr)\n"
    "  --tensor NAME       the tensor of the histogram view (default: the worst one)\n"
    "  --png OUT.png       render headless (no window) to OUT.png and exit\n"
    "  --size WxH          window / image size in pixels (default 1280x800)\n"
    "  --layout-json FILE  with --png and the heatmap: write its cell rectangles and values\n"
    "  --screenshot F.png  windowed: save the last frame (see --frames)\n"
    "  --frames N          windowed: quit after N frames\n"
    "  --script \"CMDS\"     scripted input: wait N; move X Y; click X Y; key K;\n"
    "                      screenshot FILE; resize W H\n"
    "  --font FILE.ttf     (default " VIZ_FONT_DEFAULT ")\n"
    "  --validate          Vulkan validation layer on; exit 3 if it reports anything\n"
    "                      (also with VKQ_VALIDATE=1)\n"
    "keys: 1-4 / tab view, m metric, f format, n / p tensor, click a heatmap cell, q / Esc quit\n";

static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->width = 1280;
    o->height = 800;
    const char *v = getenv("VKQ_VALIDATE");
    o->validation = v && !strcmp(v, "1");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "--model")         ? &o->model
                            : !strcmp(a, "--report")      ? &o->report
                            : !strcmp(a, "--view")        ? &o->view
                            : !strcmp(a, "--png")         ? &o->png
                            : !strcmp(a, "--format")      ? &o->format
                            : !strcmp(a, "--metric")      ? &o->metric
                            : !strcmp(a, "--tensor")      ? &o->tensor
                            : !strcmp(a, "--font")        ? &o->font
                            : !strcmp(a, "--layout-json") ? &o->layout_json
                            : !strcmp(a, "--screenshot")  ? &o->screenshot
                            : !strcmp(a, "--script")      ? &o->script
                                                          : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            exit(0);
        } else if (!strcmp(a, "--validate")) {
            o->validation = 1;
        } else if ((slot || !strcmp(a, "--size") || !strcmp(a, "--frames")) && i + 1 >= argc) {
            fprintf(stderr, "vkq-viz: %s needs a value\n", a);
            return 0;
        } else if (slot) {
            *slot = argv[++i];
        } else if (!strcmp(a, "--size")) {
            char extra;
            if (sscanf(argv[++i], "%dx%d%c", &o->width, &o->height, &extra) != 2 ||
                o->width < 64 || o->height < 64 || o->width > 8192 || o->height > 8192) {
                fprintf(stderr, "vkq-viz: --size wants WxH between 64x64 and 8192x8192, not %s\n",
                        argv[i]);
                return 0;
            }
        } else if (!strcmp(a, "--frames")) {
            o->frames = atoi(argv[++i]);
            if (o->frames < 1) {
                fprintf(stderr, "vkq-viz: --frames wants a positive count\n");
                return 0;
            }
        } else {
            fprintf(stderr, "vkq-viz: unknown argument %s\n%s", a, usage);
            return 0;
        }
    }
    if (!o->report) {
        fprintf(stderr, "vkq-viz: --report is required\n%s", usage);
        return 0;
    }
    return 1;
}

/* Report, model, selection and font. Returns 0 after printing why. */
static int app_init(viz_app *a, const options *o) {
    char err[512];
    memset(a, 0, sizeof *a);
    a->tensor = a->weights_tensor = a->weights_format = -1;
    a->report = viz_report_load(o->report, err, sizeof err);
    if (!a->report) {
        fprintf(stderr, "vkq-viz: %s\n", err);
        return 0;
    }
    viz_report *r = a->report;
    if (o->view && (int)(a->view = (viz_view)viz_view_from_name(o->view)) < 0) {
        fprintf(stderr, "vkq-viz: unknown view %s (heatmap, depth, histogram, pareto)\n", o->view);
        return 0;
    }
    if (o->format && (a->format = viz_report_format_index(r, o->format)) < 0) {
        fprintf(stderr, "vkq-viz: the report has no format %s (it has:", o->format);
        for (int f = 0; f < r->n_formats; f++) fprintf(stderr, " %s", r->formats[f]);
        fprintf(stderr, ")\n");
        return 0;
    }
    if (o->metric && (int)(a->metric = (viz_metric)viz_metric_from_name(o->metric)) < 0) {
        fprintf(stderr, "vkq-viz: unknown metric %s (sqnr, rel_l2, weighted)\n", o->metric);
        return 0;
    }
    if (o->tensor && (a->tensor = viz_report_tensor_index(r, o->tensor)) < 0) {
        fprintf(stderr, "vkq-viz: the report has no tensor %s\n", o->tensor);
        return 0;
    }
    if (a->tensor < 0) a->tensor = viz_app_worst_tensor(a);
    vkq_context_desc cd = {.mode = VKQ_DEVICE_MODE_NONE};
    if (vkq_context_create(&cd, &a->ctx) != VKQ_OK) {
        fprintf(stderr, "vkq-viz: %s\n", vkq_context_last_error(a->ctx));
        return 0;
    }
    const char *model = o->model ? o->model : (r->model_path[0] ? r->model_path : NULL);
    if (model && vkq_gguf_open(a->ctx, model, &a->gguf) != VKQ_OK) {
        fprintf(stderr, "vkq-viz: %s%s\n", vkq_context_last_error(a->ctx),
                o->model ? "" : " (the report's model; pass --model to choose another)");
        if (o->model) return 0;
    }
    if (!viz_font_load(&a->font, o->font, err, sizeof err)) {
        fprintf(stderr, "vkq-viz: %s\n", err);
        return 0;
    }
    a->draw.font = &a->font;
    return 1;
}

static void app_free(viz_app *a) {
    viz_weights_free(&a->weights);
    viz_draw_free(&a->draw);
    viz_font_free(&a->font);
    vkq_gguf_close(a->gguf);
    vkq_context_destroy(a->ctx);
    viz_report_free(a->report);
}

static int write_png(const char *path, int w, int h, const uint8_t *rgba) {
    if (!stbi_write_png(path, w, h, 4, rgba, w * 4)) {
        fprintf(stderr, "vkq-viz: cannot write %s\n", path);
        return 0;
    }
    return 1;
}

static int check_validation(const viz_gfx *g, int validation) {
    uint32_t n = viz_gfx_validation_messages(g);
    if (validation && n) {
        fprintf(stderr, "vkq-viz: the validation layer reported %u message(s)\n", n);
        validation_failed = 1;
        return 0;
    }
    return 1;
}

static int run_headless(viz_app *a, const options *o, const viz_cmd *cmds, int n_cmds) {
    viz_input in = {-1, -1, 0};
    for (int i = 0; i < n_cmds; i++) { /* scripted pointer and keys, one frame each */
        const viz_cmd *c = &cmds[i];
        if (c->kind == VIZ_CMD_MOVE || c->kind == VIZ_CMD_CLICK) {
            in = (viz_input){(float)c->a, (float)c->b, c->kind == VIZ_CMD_CLICK};
            viz_app_frame(a, o->width, o->height, &in);
            in.clicked = 0;
        } else if (c->kind == VIZ_CMD_KEY) {
            viz_app_key(a, c->a);
        }
    }
    viz_app_frame(a, o->width, o->height, &in);
    if (a->draw.out_of_memory) fprintf(stderr, "vkq-viz: warning: out of memory, image incomplete\n");
    char err[512];
    viz_gfx_desc gd = {NULL, o->width, o->height, o->validation, a->font.atlas, a->font.w,
                       a->font.h};
    viz_gfx *g = viz_gfx_create(&gd, err, sizeof err);
    if (!g) {
        fprintf(stderr, "vkq-viz: %s\n", err);
        return 0;
    }
    uint8_t *rgba = malloc((size_t)o->width * o->height * 4);
    int ok = rgba && viz_gfx_render_offscreen(g, a->draw.v, a->draw.n, VIZ_BG, rgba, err,
                                              sizeof err);
    if (!ok) fprintf(stderr, "vkq-viz: %s\n", rgba ? err : "out of memory");
    ok = ok && write_png(o->png, o->width, o->height, rgba);
    if (ok && o->layout_json && a->view == VIZ_VIEW_HEATMAP &&
        !viz_heatmap_write_layout(a, o->layout_json)) {
        fprintf(stderr, "vkq-viz: cannot write %s\n", o->layout_json);
        ok = 0;
    }
    free(rgba);
    ok = check_validation(g, o->validation) && ok;
    viz_gfx_destroy(g);
    return ok;
}

/* ---- windowed -------------------------------------------------------------------------------- */

typedef struct window_state {
    viz_app *app;
    int quit;
    int clicked;
    double click_x, click_y;
} window_state;

static void key_action(window_state *s, int key) {
    if (key == 'q' || key == VIZ_KEY_ESCAPE) s->quit = 1;
    else viz_app_key(s->app, key);
}

static void on_char(GLFWwindow *w, unsigned int cp) {
    if (cp < 128) key_action(glfwGetWindowUserPointer(w), (int)cp);
}

static void on_key(GLFWwindow *w, int key, int scancode, int action, int mods) {
    if (action != GLFW_PRESS) return;
    if (key == GLFW_KEY_ESCAPE) key_action(glfwGetWindowUserPointer(w), VIZ_KEY_ESCAPE);
    if (key == GLFW_KEY_TAB) key_action(glfwGetWindowUserPointer(w), '\t');
}

static void on_mouse(GLFWwindow *w, int button, int action, int mods) {
    window_state *s = glfwGetWindowUserPointer(w);
    if (button == GLFW_MOUSE_BUTTON_LEFT && action == GLFW_PRESS) {
        s->clicked = 1;
        glfwGetCursorPos(w, &s->click_x, &s->click_y);
    }
}

static int run_window(viz_app *a, const options *o, const viz_cmd *cmds, int n_cmds) {
    if (!glfwInit()) {
        fprintf(stderr, "vkq-viz: cannot open a window (no display? use --png for headless)\n");
        return 0;
    }
    if (!glfwVulkanSupported()) {
        fprintf(stderr, "vkq-viz: GLFW finds no Vulkan loader for windows\n");
        glfwTerminate();
        return 0;
    }
    glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
    GLFWwindow *win = glfwCreateWindow(o->width, o->height, "vkq-viz", NULL, NULL);
    if (!win) {
        fprintf(stderr, "vkq-viz: cannot create a window\n");
        glfwTerminate();
        return 0;
    }
    window_state st = {a, 0, 0, 0, 0};
    glfwSetWindowUserPointer(win, &st);
    glfwSetCharCallback(win, on_char);
    glfwSetKeyCallback(win, on_key);
    glfwSetMouseButtonCallback(win, on_mouse);
    char err[512];
    viz_gfx_desc gd = {win, 0, 0, o->validation, a->font.atlas, a->font.w, a->font.h};
    viz_gfx *g = viz_gfx_create(&gd, err, sizeof err);
    int ok = g != NULL;
    if (!g) fprintf(stderr, "vkq-viz: %s\n", err);
    uint8_t *shot = NULL;
    size_t shot_cap = 0;
    const char *shot_path = NULL;
    int frame = 0, pc = 0, wait_until = 0, scripted = 0;
    double sx = -1, sy = -1;
    while (ok && !st.quit && !glfwWindowShouldClose(win)) {
        glfwPollEvents();
        viz_input in = {-1, -1, 0};
        for (; pc < n_cmds && frame >= wait_until && !st.quit; pc++) {
            const viz_cmd *c = &cmds[pc];
            if (c->kind == VIZ_CMD_WAIT) wait_until = frame + c->a;
            else if (c->kind == VIZ_CMD_KEY) key_action(&st, c->a);
            else if (c->kind == VIZ_CMD_RESIZE) glfwSetWindowSize(win, c->a, c->b);
            else if (c->kind == VIZ_CMD_SCREENSHOT) shot_path = c->path;
            else {
                scripted = 1;
                sx = c->a;
                sy = c->b;
                if (c->kind == VIZ_CMD_CLICK) {
                    st.clicked = 1;
                    st.click_x = sx;
                    st.click_y = sy;
                }
            }
            if (c->kind == VIZ_CMD_WAIT || c->kind == VIZ_CMD_SCREENSHOT || c->kind == VIZ_CMD_CLICK) {
                pc++;
                break; /* one frame passes before the next command */
            }
        }
        if (st.quit) break;
        int fw, fh, ww, wh;
        glfwGetFramebufferSize(win, &fw, &fh);
        glfwGetWindowSize(win, &ww, &wh);
        double cx, cy, kx = ww ? (double)fw / ww : 1, ky = wh ? (double)fh / wh : 1;
        glfwGetCursorPos(win, &cx, &cy);
        if (scripted) {
            cx = sx;
            cy = sy;
            kx = ky = 1;
        }
        in = (viz_input){(float)(cx * kx), (float)(cy * ky), st.clicked};
        if (st.clicked) in = (viz_input){(float)(st.click_x * kx), (float)(st.click_y * ky), 1};
        st.clicked = 0;
        if (fw == 0 || fh == 0) {
            glfwWaitEventsTimeout(0.1);
            continue;
        }
        int last = o->frames && frame + 1 >= o->frames;
        if (last && o->screenshot) shot_path = o->screenshot;
        viz_app_frame(a, fw, fh, &in);
        size_t need = (size_t)fw * fh * 4;
        if (shot_path && need > shot_cap) {
            free(shot);
            shot = malloc(need);
            shot_cap = shot ? need : 0;
        }
        int w = 0, h = 0;
        ok = viz_gfx_frame(g, a->draw.v, a->draw.n, VIZ_BG, shot_path ? shot : NULL, shot_cap,
                           &w, &h, err, sizeof err);
        if (!ok) fprintf(stderr, "vkq-viz: %s\n", err);
        if (ok && shot_path && w > 0) {
            ok = write_png(shot_path, w, h, shot);
            shot_path = NULL;
        }
        frame++;
        if (last) break;
    }
    free(shot);
    ok = check_validation(g, o->validation) && ok;
    viz_gfx_destroy(g);
    glfwDestroyWindow(win);
    glfwTerminate();
    return ok;
}

#ifdef VIZ_PIN_VULKAN_MODULES
#include <dlfcn.h>
/* Sanitizer builds only: the Vulkan loader's dlclose of the driver and the validation layer
 * would leave LeakSanitizer with "<unknown module>" frames that tests/lsan.supp cannot name. */
static void pin_vulkan_modules(void) {
    static const char *const modules[] = {"libvulkan_lvp.so", "libVkLayer_khronos_validation.so", "libvulkan.so.1"};
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++) dlopen(modules[i], RTLD_NOW | RTLD_NODELETE);
}
#else
static void pin_vulkan_modules(void) {}
#endif

int main(int argc, char **argv) {
    pin_vulkan_modules();
    options o;
    if (!parse_args(argc, argv, &o)) return 2;
    viz_cmd cmds[MAX_SCRIPT];
    int n_cmds = 0;
    char err[512];
    if (o.script && (n_cmds = viz_script_parse(o.script, cmds, MAX_SCRIPT, err, sizeof err)) < 0) {
        fprintf(stderr, "vkq-viz: %s\n", err);
        return 2;
    }
    viz_app a;
    int ok = app_init(&a, &o);
    if (ok) ok = o.png ? run_headless(&a, &o, cmds, n_cmds) : run_window(&a, &o, cmds, n_cmds);
    app_free(&a);
    return validation_failed ? EXIT_VALIDATION : ok ? 0 : 1;
}

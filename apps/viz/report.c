/* Report loader: cJSON tree -> viz_report, checking every type on the way (a malformed or
 * hostile report gives a message naming the JSON path, never a crash). */
#include "report.h"

#include <cJSON.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { MAX_FORMATS = 64, MAX_ROLES = 64, MAX_LAYERS = 100000, MAX_TENSORS = 1000000 };

typedef struct parser {
    char *err;
    size_t err_size;
} parser;

static void *fail(parser *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->err_size, fmt, ap);
    va_end(ap);
    return NULL;
}

static void copy_str(char *dst, size_t size, const char *src) {
    snprintf(dst, size, "%s", src ? src : "");
}

/* A number field: missing -> NAN, null -> `null_value`, a number -> it; else an error. */
static int get_num(parser *p, const cJSON *obj, const char *key, double null_value, double *out,
                   const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        *out = NAN;
    } else if (cJSON_IsNull(v)) {
        *out = null_value;
    } else if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
    } else {
        fail(p, "%s.%s: expected a number or null", where, key);
        return 0;
    }
    return 1;
}

/* A string field: missing or null -> "", a string -> copied (truncated); else an error. */
static int get_str(parser *p, const cJSON *obj, const char *key, char *dst, size_t size,
                   const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    dst[0] = 0;
    if (!v || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsString(v)) {
        fail(p, "%s.%s: expected a string", where, key);
        return 0;
    }
    copy_str(dst, size, v->valuestring);
    return 1;
}

/* An integer in [lo, hi] (missing -> dflt). */
static int get_int(parser *p, const cJSON *obj, const char *key, double lo, double hi, int dflt,
                   int *out, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        *out = dflt;
        return 1;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi) {
        fail(p, "%s.%s: expected an integer in [%.0f, %.0f]", where, key, lo, hi);
        return 0;
    }
    *out = (int)v->valuedouble;
    return 1;
}

/* An array of names (formats, roles) into a new char[n][32]; an empty or missing list is fine. */
static int get_names(parser *p, const cJSON *root, const char *key, int max, char (**out)[32],
                     int *n) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key);
    *out = calloc((size_t)max, 32);
    *n = 0;
    if (!*out) {
        fail(p, "out of memory");
        return 0;
    }
    if (!arr || cJSON_IsNull(arr)) return 1;
    if (!cJSON_IsArray(arr)) {
        fail(p, "%s: expected an array of strings", key);
        return 0;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsString(e) || !e->valuestring[0] || strlen(e->valuestring) >= 32) {
            fail(p, "%s[%d]: expected a non-empty string of at most 31 bytes", key, *n);
            return 0;
        }
        if (*n >= max) {
            fail(p, "%s: more than %d entries", key, max);
            return 0;
        }
        copy_str((*out)[(*n)++], 32, e->valuestring);
    }
    return 1;
}

static int find_name(char (*names)[32], int n, const char *name) {
    for (int i = 0; i < n; i++) {
        if (!strcmp(names[i], name)) return i;
    }
    return -1;
}

static int parse_tensor_format(parser *p, const cJSON *o, viz_tensor_format *f, const char *w) {
    if (!cJSON_IsObject(o)) {
        fail(p, "%s: expected an object", w);
        return 0;
    }
    f->present = 1;
    return get_str(p, o, "type", f->type, sizeof f->type, w) &&
           get_num(p, o, "bytes", NAN, &f->bytes, w) && get_num(p, o, "bpw", NAN, &f->bpw, w) &&
           get_num(p, o, "rmse", NAN, &f->rmse, w) &&
           get_num(p, o, "rel_l2", NAN, &f->rel_l2, w) &&
           get_num(p, o, "sqnr_db", INFINITY, &f->sqnr_db, w) &&
           get_num(p, o, "max_abs", NAN, &f->max_abs, w) &&
           get_num(p, o, "cosine", NAN, &f->cosine, w) &&
           get_num(p, o, "clipped_fraction", NAN, &f->clipped_fraction, w) &&
           get_num(p, o, "weighted_rel_l2", NAN, &f->weighted_rel_l2, w) &&
           get_num(p, o, "weighted_sqnr_db", INFINITY, &f->weighted_sqnr_db, w);
}

/* "blk.17.attn_q.weight" -> 17; -1 otherwise. */
static int layer_from_name(const char *name) {
    if (strncmp(name, "blk.", 4)) return -1;
    char *end;
    long v = strtol(name + 4, &end, 10);
    return (end != name + 4 && *end == '.' && v >= 0 && v < MAX_LAYERS) ? (int)v : -1;
}

static int parse_tensor(parser *p, viz_report *r, const cJSON *o, int index) {
    char w[64];
    snprintf(w, sizeof w, "tensors[%d]", index);
    viz_tensor *t = &r->tensors[index];
    if (!cJSON_IsObject(o)) {
        fail(p, "%s: expected an object", w);
        return 0;
    }
    t->formats = calloc((size_t)(r->n_formats ? r->n_formats : 1), sizeof *t->formats);
    if (!t->formats) {
        fail(p, "out of memory");
        return 0;
    }
    char role[32];
    if (!get_str(p, o, "name", t->name, sizeof t->name, w) ||
        !get_str(p, o, "role", role, sizeof role, w) ||
        !get_str(p, o, "source_type", t->source_type, sizeof t->source_type, w) ||
        !get_int(p, o, "layer", -1, MAX_LAYERS - 1, layer_from_name(t->name), &t->layer, w)) {
        return 0;
    }
    if (!t->name[0]) {
        fail(p, "%s.name: missing or empty", w);
        return 0;
    }
    t->role = -1;
    if (role[0]) {
        t->role = find_name(r->roles, r->n_roles, role);
        if (t->role < 0 && r->n_roles < MAX_ROLES) { /* a role the list forgot: add it */
            copy_str(r->roles[r->n_roles], 32, role);
            t->role = r->n_roles++;
        }
    }
    const cJSON *ne = cJSON_GetObjectItemCaseSensitive(o, "ne");
    t->ne[0] = t->ne[1] = t->ne[2] = t->ne[3] = 1;
    if (ne && !cJSON_IsNull(ne)) {
        if (!cJSON_IsArray(ne) || cJSON_GetArraySize(ne) < 1 || cJSON_GetArraySize(ne) > 4) {
            fail(p, "%s.ne: expected an array of 1 to 4 integers", w);
            return 0;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, ne) {
            if (!cJSON_IsNumber(e) || e->valuedouble < 1 || e->valuedouble > 1e15 ||
                e->valuedouble != floor(e->valuedouble)) {
                fail(p, "%s.ne[%d]: expected a positive integer", w, t->n_dims);
                return 0;
            }
            t->ne[t->n_dims++] = (uint64_t)e->valuedouble;
        }
    }
    const cJSON *fm = cJSON_GetObjectItemCaseSensitive(o, "formats");
    if (fm && !cJSON_IsNull(fm) && !cJSON_IsObject(fm)) {
        fail(p, "%s.formats: expected an object keyed by format", w);
        return 0;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, fm) {
        int f = e->string ? find_name(r->formats, r->n_formats, e->string) : -1;
        if (f < 0) continue; /* a format the top-level list does not name: ignored */
        char wf[128];
        snprintf(wf, sizeof wf, "%s.formats.%s", w, e->string);
        if (!parse_tensor_format(p, e, &t->formats[f], wf)) return 0;
        if (isfinite(t->formats[f].weighted_rel_l2)) r->has_weighted = 1;
    }
    return 1;
}

static int parse_points(parser *p, const cJSON *o, const char *key, viz_depth_point **out,
                        int *n, const char *w) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    *n = 0;
    if (!arr || cJSON_IsNull(arr)) return 1;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > MAX_LAYERS) {
        fail(p, "%s.%s: expected an array of at most %d points", w, key, MAX_LAYERS);
        return 0;
    }
    *out = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof **out);
    if (!*out) {
        fail(p, "out of memory");
        return 0;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        char wp[128];
        snprintf(wp, sizeof wp, "%s.%s[%d]", w, key, *n);
        viz_depth_point *pt = &(*out)[*n];
        if (!cJSON_IsObject(e)) {
            fail(p, "%s: expected an object", wp);
            return 0;
        }
        if (!get_int(p, e, "layer", 0, MAX_LAYERS - 1, *n, &pt->layer, wp) ||
            !get_num(p, e, "cosine", NAN, &pt->cosine, wp) ||
            !get_num(p, e, "sqnr_db", INFINITY, &pt->sqnr_db, wp) ||
            !get_num(p, e, "rel_l2", NAN, &pt->rel_l2, wp)) {
            return 0;
        }
        (*n)++;
    }
    return 1;
}

static int parse_activation(parser *p, viz_report *r, const cJSON *o, int index) {
    char w[64];
    snprintf(w, sizeof w, "activations[%d]", index);
    viz_activation *a = &r->activations[index];
    if (!cJSON_IsObject(o)) {
        fail(p, "%s: expected an object", w);
        return 0;
    }
    if (!get_str(p, o, "format", a->format_name, sizeof a->format_name, w) ||
        !get_num(p, o, "bytes", NAN, &a->bytes, w) || !get_num(p, o, "bpw", NAN, &a->bpw, w) ||
        !get_num(p, o, "kld_mean", NAN, &a->kld_mean, w) ||
        !get_num(p, o, "kld_stderr", NAN, &a->kld_stderr, w) ||
        !get_num(p, o, "top1", NAN, &a->top1, w) ||
        !parse_points(p, o, "accumulated", &a->accumulated, &a->n_accumulated, w) ||
        !parse_points(p, o, "isolated", &a->isolated, &a->n_isolated, w)) {
        return 0;
    }
    a->format = find_name(r->formats, r->n_formats, a->format_name);
    return 1;
}

static int parse_root(parser *p, viz_report *r, const cJSON *root) {
    if (!cJSON_IsObject(root)) return fail(p, "the top level is not a JSON object"), 0;
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "vkq_analysis");
    if (!cJSON_IsNumber(ver)) {
        return fail(p, "not a vkq analysis report (no \"vkq_analysis\" version number)"), 0;
    }
    if (ver->valuedouble != 1) {
        return fail(p, "report version %g is not supported (this viewer reads version 1)",
                    ver->valuedouble), 0;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (model && !cJSON_IsNull(model)) {
        if (!cJSON_IsObject(model)) return fail(p, "model: expected an object"), 0;
        if (!get_str(p, model, "name", r->model_name, sizeof r->model_name, "model") ||
            !get_str(p, model, "path", r->model_path, sizeof r->model_path, "model") ||
            !get_str(p, model, "architecture", r->architecture, sizeof r->architecture,
                     "model") ||
            !get_int(p, model, "n_layer", 0, MAX_LAYERS, 0, &r->n_layer, "model") ||
            !get_num(p, model, "n_params", NAN, &r->n_params, "model")) {
            return 0;
        }
    }
    const cJSON *cal = cJSON_GetObjectItemCaseSensitive(root, "calibration");
    if (cJSON_IsObject(cal)) {
        if (!get_str(p, cal, "path", r->calibration, sizeof r->calibration, "calibration")) {
            return 0;
        }
        if (!r->calibration[0]) copy_str(r->calibration, sizeof r->calibration, "(unnamed)");
    }
    if (!get_names(p, root, "formats", MAX_FORMATS, &r->formats, &r->n_formats) ||
        !get_names(p, root, "roles", MAX_ROLES, &r->roles, &r->n_roles)) {
        return 0;
    }
    if (r->n_formats == 0) return fail(p, "formats: the report names no format"), 0;

    const cJSON *tensors = cJSON_GetObjectItemCaseSensitive(root, "tensors");
    if (tensors && !cJSON_IsNull(tensors)) {
        if (!cJSON_IsArray(tensors) || cJSON_GetArraySize(tensors) > MAX_TENSORS) {
            return fail(p, "tensors: expected an array"), 0;
        }
        r->tensors = calloc((size_t)cJSON_GetArraySize(tensors) + 1, sizeof *r->tensors);
        if (!r->tensors) return fail(p, "out of memory"), 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, tensors) {
            if (!parse_tensor(p, r, e, r->n_tensors)) return 0;
            r->n_tensors++;
            int layer = r->tensors[r->n_tensors - 1].layer;
            if (layer + 1 > r->n_layer) r->n_layer = layer + 1;
        }
    }
    const cJSON *acts = cJSON_GetObjectItemCaseSensitive(root, "activations");
    if (acts && !cJSON_IsNull(acts)) {
        if (!cJSON_IsArray(acts) || cJSON_GetArraySize(acts) > MAX_FORMATS) {
            return fail(p, "activations: expected an array of at most %d entries", MAX_FORMATS), 0;
        }
        r->activations = calloc((size_t)cJSON_GetArraySize(acts) + 1, sizeof *r->activations);
        if (!r->activations) return fail(p, "out of memory"), 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, acts) {
            if (!parse_activation(p, r, e, r->n_activations)) return 0;
            r->n_activations++;
        }
    }
    return 1;
}

viz_report *viz_report_parse(const char *text, size_t len, char *err, size_t err_size) {
    parser p = {err, err_size};
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = (at && at >= text && at <= text + len) ? (size_t)(at - text) : len;
        return fail(&p, "not valid JSON (near byte %zu)", off);
    }
    viz_report *r = calloc(1, sizeof *r);
    if (!r) {
        cJSON_Delete(root);
        return fail(&p, "out of memory");
    }
    int ok = parse_root(&p, r, root);
    cJSON_Delete(root);
    if (!ok) {
        viz_report_free(r);
        return NULL;
    }
    return r;
}

viz_report *viz_report_load(const char *path, char *err, size_t err_size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: cannot open the report", path);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = cap < ((size_t)1 << 32) ? realloc(buf, cap) : NULL;
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, err_size, "%s: too large or out of memory", path);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, err_size, "%s: read error", path);
        return NULL;
    }
    char msg[400];
    viz_report *r = viz_report_parse(buf, len, msg, sizeof msg);
    free(buf);
    if (!r) snprintf(err, err_size, "%s: %s", path, msg);
    return r;
}

void viz_report_free(viz_report *r) {
    if (!r) return;
    for (int i = 0; r->tensors && i < r->n_tensors + 1; i++) free(r->tensors[i].formats);
    for (int i = 0; r->activations && i < r->n_activations + 1; i++) {
        free(r->activations[i].accumulated);
        free(r->activations[i].isolated);
    }
    free(r->tensors);
    free(r->activations);
    free(r->formats);
    free(r->roles);
    free(r);
}

int viz_report_format_index(const viz_report *r, const char *name) {
    for (int i = 0; i < r->n_formats; i++) {
        if (!strcasecmp(r->formats[i], name)) return i;
    }
    return -1;
}

int viz_report_tensor_index(const viz_report *r, const char *name) {
    for (int i = 0; i < r->n_tensors; i++) {
        if (!strcmp(r->tensors[i].name, name)) return i;
    }
    return -1;
}

double viz_metric_value(const viz_report *r, int t, int f, viz_metric m) {
    if (t < 0 || t >= r->n_tensors || f < 0 || f >= r->n_formats) return NAN;
    const viz_tensor_format *tf = &r->tensors[t].formats[f];
    if (!tf->present) return NAN;
    switch (m) {
    case VIZ_METRIC_SQNR: return tf->sqnr_db;
    case VIZ_METRIC_REL_L2: return tf->rel_l2;
    case VIZ_METRIC_WEIGHTED: return tf->weighted_rel_l2;
    default: return NAN;
    }
}

const char *viz_metric_name(viz_metric m) {
    static const char *names[] = {"sqnr", "rel_l2", "weighted"};
    return (unsigned)m < VIZ_METRIC_COUNT ? names[m] : "?";
}

const char *viz_metric_label(viz_metric m) {
    static const char *labels[] = {"SQNR (dB, higher is better)",
                                   "relative L2 error (lower is better)",
                                   "importance-weighted relative L2 (lower is better)"};
    return (unsigned)m < VIZ_METRIC_COUNT ? labels[m] : "?";
}

int viz_metric_higher_is_better(viz_metric m) { return m == VIZ_METRIC_SQNR; }

int viz_metric_from_name(const char *name) {
    for (int m = 0; m < VIZ_METRIC_COUNT; m++) {
        if (!strcmp(name, viz_metric_name((viz_metric)m))) return m;
    }
    return -1;
}

void viz_metric_format(viz_metric m, double v, char *buf, size_t size) {
    if (isnan(v)) {
        snprintf(buf, size, "n/a");
    } else if (m == VIZ_METRIC_SQNR) {
        if (isinf(v)) snprintf(buf, size, "%sinf dB (exact)", v < 0 ? "-" : "");
        else snprintf(buf, size, "%.2f dB", v);
    } else {
        snprintf(buf, size, "%.4g", v);
    }
}

/* vkq_analyze: per-layer quantization error. The plan (which matrices, which type each format
 * gives them), the weight space (each matrix quantized and dequantized row by row on several
 * threads, its error measured), and the report. The activation space is in analyze_act.c. */
#include "analysis/analyze.h"
#include "quant/presets.h"
#include "quant/quant.h"

#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FORMATS 64u
#define MAX_TOKENS 65536u
#define MAX_THREADS 64u

/* ---- the description ---------------------------------------------------------------------- */

static vkq_status check_desc(vkq__diag *d, const vkq_analysis_desc *desc) {
    if (!desc) return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "analyze: desc is NULL");
    if (!desc->model_path) return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "analyze: model_path is required");
    for (size_t i = 0; i < VKQ__ARRAY_LEN(desc->reserved); i++) {
        if (desc->reserved[i]) {
            return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "analyze: reserved[%zu] = %u, must be zero", i,
                             desc->reserved[i]);
        }
    }
    if (!desc->formats || desc->n_formats == 0 || desc->n_formats > MAX_FORMATS) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "analyze: %u formats%s; give 1 to %u", desc->n_formats,
                         desc->formats ? "" : " (formats is NULL)", MAX_FORMATS);
    }
    if (desc->n_overrides && !desc->overrides) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "analyze: %u overrides but overrides is NULL",
                         desc->n_overrides);
    }
    if ((desc->n_tokens && !desc->tokens) || desc->n_tokens > MAX_TOKENS) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "analyze: %u tokens%s; at most %u", desc->n_tokens,
                         desc->tokens ? "" : " but tokens is NULL", MAX_TOKENS);
    }
    return VKQ_OK;
}

static bool weight_type(vkq_type t) { return vkq__type_info_get(t) && t != VKQ_TYPE_Q8_1; }

/* A type's exact lower-case spelling is the type; any other name a preset. */
static vkq_status resolve_format(vkq__diag *d, const char *name, vkq_analysis_format *f) {
    if (!name || !name[0] || strlen(name) >= sizeof f->name) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "analyze: format name '%s' is empty or too long",
                         name ? name : "(null)");
    }
    snprintf(f->name, sizeof f->name, "%s", name);
    vkq_type t = vkq_type_from_name(name);
    if (t != VKQ_TYPE_NONE && !strcmp(vkq_type_name(t), name)) {
        if (!weight_type(t)) return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "analyze: %s is not a weight format", name);
        f->type = t;
        return VKQ_OK;
    }
    f->preset = vkq_quantize_preset_from_name(name);
    if (f->preset == VKQ_QUANTIZE_PRESET_NONE) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "analyze: format '%s' is neither a type (lower-case, as "
                         "\"q4_k\") nor a preset (as \"Q4_K_M\")", name);
    }
    return VKQ_OK;
}

static vkq_status parse_overrides(an_state *s) {
    uint32_t n = s->desc->n_overrides;
    if (!n) return VKQ_OK;
    s->rule_patterns = vkq__calloc(n, sizeof *s->rule_patterns);
    s->rule_types = vkq__calloc(n, sizeof *s->rule_types);
    if (!s->rule_patterns || !s->rule_types) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "analyze: out of memory");
    for (uint32_t i = 0; i < n; i++) {
        const char *o = s->desc->overrides[i];
        const char *eq = o ? strrchr(o, '=') : NULL;
        vkq_type t = eq ? vkq_type_from_name(eq + 1) : VKQ_TYPE_NONE;
        if (!eq || eq == o || !weight_type(t)) {
            return vkq__fail(s->d, VKQ_ERR_INVALID_ARGUMENT, "analyze: override %u '%s': expected PATTERN=TYPE "
                             "with a weight type", i, o ? o : "(null)");
        }
        s->rule_patterns[i] = malloc((size_t)(eq - o) + 1);
        if (!s->rule_patterns[i]) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "analyze: out of memory");
        memcpy(s->rule_patterns[i], o, (size_t)(eq - o));
        s->rule_patterns[i][eq - o] = 0;
        s->rule_types[i] = t;
        s->n_rules = i + 1;
    }
    return VKQ_OK;
}

/* What format f wants for the matrix: the preset's rule or the type, then the overrides. */
static vkq_type choose_type(const an_state *s, const vkq_analysis_format *f, const vkq__gguf_tensor *t) {
    vkq_type type = f->type;
    if (f->preset != VKQ_QUANTIZE_PRESET_NONE) {
        int64_t layer;
        vkq__tensor_role role = vkq__tensor_role_of(t->name.data, &layer);
        type = vkq__preset_choose(f->preset, role, layer, s->n_layer, s->tied_output);
    }
    for (uint32_t i = 0; i < s->n_rules; i++) {
        if (fnmatch(s->rule_patterns[i], t->name.data, 0) == 0) type = s->rule_types[i];
    }
    return type;
}

/* ---- the plan ----------------------------------------------------------------------------- */

static bool is_weight_matrix(const vkq__gguf_tensor *t) {
    size_t n = t->name.len;
    return t->n_dims >= 2 && n > 7 && !strcmp(t->name.data + n - 7, ".weight");
}

static void role_of(const char *name, char *role, size_t cap, int32_t *layer) {
    unsigned n = 0;
    int used = 0;
    *layer = -1;
    if (sscanf(name, "blk.%u.%n", &n, &used) == 1 && used > 0 && n <= INT32_MAX) {
        *layer = (int32_t)n;
        name += used;
    }
    size_t len = strlen(name);
    if (len > 7 && !strcmp(name + len - 7, ".weight")) len -= 7;
    snprintf(role, cap, "%.*s", (int)len, name);
}

static void model_strings(an_state *s) {
    const char *v = NULL;
    vkq_analysis_report *r = s->r;
    if (vkq_gguf_find_key(s->g, "general.architecture") >= 0 &&
        vkq_gguf_get_string(s->g, "general.architecture", &v, NULL) == VKQ_OK && v) {
        snprintf(r->architecture, sizeof r->architecture, "%s", v);
    }
    if (vkq_gguf_find_key(s->g, "general.name") >= 0 && vkq_gguf_get_string(s->g, "general.name", &v, NULL) == VKQ_OK &&
        v) {
        snprintf(r->name, sizeof r->name, "%s", v);
    }
}

static vkq_status plan(an_state *s) {
    vkq_gguf *g = s->g;
    vkq_analysis_report *r = s->r;
    s->tied_output = vkq__gguf_lookup(g->tensor_by_name, g->n_tensors, "output.weight") < 0;
    s->mats = vkq__calloc(g->n_tensors ? g->n_tensors : 1, sizeof *s->mats);
    if (!s->mats) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "analyze: out of memory");
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const vkq__gguf_tensor *t = &g->tensors[i];
        int64_t layer;
        vkq__tensor_role_of(t->name.data, &layer);
        s->n_layer = VKQ__MAX(s->n_layer, layer + 1);
        r->n_params += t->elements;
        r->source_bytes += t->bytes;
        if (is_weight_matrix(t)) {
            s->mats[s->n_mats++] = i;
            s->mat_elements += t->elements;
        }
        if (!strcmp(t->name.data, "token_embd.weight")) r->n_embd = (uint32_t)t->ne[0];
    }
    r->n_layer = (uint32_t)s->n_layer;
    model_strings(s);
    r->tensors = vkq__calloc(s->n_mats ? s->n_mats : 1, sizeof *r->tensors);
    if (!r->tensors) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "analyze: out of memory");
    r->n_tensors = s->n_mats;
    for (uint64_t m = 0; m < s->n_mats; m++) {
        const vkq__gguf_tensor *t = &g->tensors[s->mats[m]];
        vkq_analysis_tensor *at = &r->tensors[m];
        snprintf(at->name, sizeof at->name, "%s", t->name.data);
        role_of(t->name.data, at->role, sizeof at->role, &at->layer);
        at->n_dims = t->n_dims;
        for (uint32_t k = 0; k < 4; k++) at->ne[k] = t->ne[k];
        at->elements = t->elements;
        at->source_type = t->type;
        at->formats = vkq__calloc(r->n_formats, sizeof *at->formats);
        if (!at->formats) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "analyze: out of memory");
        for (uint32_t f = 0; f < r->n_formats; f++) {
            vkq_analysis_weight_metrics *w = &at->formats[f];
            vkq_type wanted = choose_type(s, &r->formats[f], t);
            w->type = vkq__quantize_fallback(wanted, t->ne[0]);
            r->formats[f].n_fallbacks += w->type != wanted;
            uint64_t row_bytes = 0;
            if (!vkq__row_bytes(w->type, t->ne[0], &row_bytes) ||
                !vkq__mul_u64(row_bytes, t->ne[0] ? t->elements / t->ne[0] : 0, &w->bytes)) {
                return vkq__fail(s->d, VKQ_ERR_LIMIT, "analyze: %s: size overflows", at->name);
            }
            w->bpw = t->elements ? 8.0 * (double)w->bytes / (double)t->elements : 0.0;
        }
    }
    /* Whole-model sizes: the other tensors as F32, as vkq_model_quantize writes them. */
    for (uint32_t f = 0; f < r->n_formats; f++) {
        vkq_analysis_format *af = &r->formats[f];
        uint64_t m = 0;
        for (uint64_t i = 0; i < g->n_tensors; i++) {
            const vkq__gguf_tensor *t = &g->tensors[i];
            if (m < s->n_mats && s->mats[m] == i) {
                const vkq_analysis_weight_metrics *w = &r->tensors[m].formats[f];
                af->bytes += w->bytes;
                m++;
            } else {
                af->bytes += t->elements * sizeof(float);
            }
        }
        af->bpw = r->n_params ? 8.0 * (double)af->bytes / (double)r->n_params : 0.0;
    }
    s->total = (double)s->mat_elements * r->n_formats;
    return VKQ_OK;
}

/* ---- the weight space --------------------------------------------------------------------- */

/* Elements that share one scale (a sub-block of the K-formats, a block of the others); 0 for
 * the float types, which do not saturate in a way this counts. */
static uint32_t scale_group(vkq_type t) {
    switch (t) {
    case VKQ_TYPE_F32:
    case VKQ_TYPE_F16:
    case VKQ_TYPE_BF16: return 0;
    case VKQ_TYPE_Q2_K:
    case VKQ_TYPE_Q3_K:
    case VKQ_TYPE_Q6_K: return 16;
    default: return 32;
    }
}

/* Weights beyond their group's extreme reconstructed value by more than half the gap from it
 * to the next distinct reconstructed value: saturated at the grid's end, not rounded. */
static uint64_t count_clipped(const float *x, const float *y, uint64_t n, uint32_t group) {
    uint64_t clipped = 0;
    if (!group) return 0;
    for (uint64_t g0 = 0; g0 < n; g0 += group) {
        uint64_t g1 = VKQ__MIN(g0 + group, n);
        float hi = -INFINITY, lo = INFINITY, hi2 = -INFINITY, lo2 = INFINITY;
        for (uint64_t j = g0; j < g1; j++) hi = VKQ__MAX(hi, y[j]), lo = VKQ__MIN(lo, y[j]);
        for (uint64_t j = g0; j < g1; j++) {
            if (y[j] < hi) hi2 = VKQ__MAX(hi2, y[j]);
            if (y[j] > lo) lo2 = VKQ__MIN(lo2, y[j]);
        }
        double up = hi2 > -INFINITY ? 0.5 * ((double)hi - hi2) : 0.0;
        double down = lo2 < INFINITY ? 0.5 * ((double)lo2 - lo) : 0.0;
        for (uint64_t j = g0; j < g1; j++) clipped += x[j] > hi + up || x[j] < lo - down;
    }
    return clipped;
}

typedef struct wjob {
    const vkq__gguf_tensor *t;
    const uint8_t *src;
    vkq_type type;
    const float *importance;       /* ne[0] values or NULL: for the weighted metrics */
    bool quantize_weighted;        /* and for the quantizer */
    float *dst;                    /* (rows, ne[0]) receives the dequantized result, or NULL */
    uint64_t in_row_bytes, out_row_bytes;
} wjob;

typedef struct wpart {
    const wjob *j;
    uint64_t r0, r1;
    vkq__metrics_acc acc, wacc;
    uint64_t clipped;
    bool oom;
} wpart;

static void *quantize_rows(void *arg) {
    wpart *p = arg;
    const wjob *j = p->j;
    uint64_t ne0 = j->t->ne[0];
    float *x = malloc(ne0 * sizeof *x), *y = malloc(ne0 * sizeof *y);
    void *q = malloc(j->out_row_bytes ? j->out_row_bytes : 1);
    vkq__metrics_acc_init(&p->acc);
    vkq__metrics_acc_init(&p->wacc);
    p->oom = !x || !y || !q;
    uint32_t group = scale_group(j->type);
    for (uint64_t r = p->r0; r < p->r1 && !p->oom; r++) {
        float *out = j->dst ? j->dst + r * ne0 : y;
        vkq__dequantize_row(j->t->type, j->src + r * j->in_row_bytes, x, (int64_t)ne0);
        vkq__quantize_row(j->type, x, q, (int64_t)ne0, j->quantize_weighted ? j->importance : NULL,
                          VKQ__QUANT_SEARCH);
        vkq__dequantize_row(j->type, q, out, (int64_t)ne0);
        vkq__metrics_acc_add(&p->acc, x, out, NULL, (int64_t)ne0);
        if (j->importance) vkq__metrics_acc_add(&p->wacc, x, out, j->importance, (int64_t)ne0);
        p->clipped += count_clipped(x, out, ne0, group);
    }
    free(x), free(y), free(q);
    return NULL;
}

static vkq_status quantize_matrix(an_state *s, uint64_t m, uint32_t f, float *dst) {
    const vkq__gguf_tensor *t = &s->g->tensors[s->mats[m]];
    vkq_analysis_weight_metrics *w = &s->r->tensors[m].formats[f];
    wjob j = {.t = t, .src = s->g->data + s->g->data_offset + t->offset, .type = w->type,
              .importance = s->importance ? s->importance[m] : NULL,
              .quantize_weighted = s->desc->quantize_with_importance != 0, .dst = dst};
    uint64_t rows = t->ne[0] ? t->elements / t->ne[0] : 0;
    vkq__row_bytes(t->type, t->ne[0], &j.in_row_bytes);
    vkq__row_bytes(w->type, t->ne[0], &j.out_row_bytes);
    wpart parts[MAX_THREADS];
    uint32_t n = (uint32_t)VKQ__MIN((uint64_t)s->threads, VKQ__MAX(rows, 1));
    for (uint32_t i = 0; i < n; i++) parts[i] = (wpart){.j = &j, .r0 = rows * i / n, .r1 = rows * (i + 1) / n};
    pthread_t tids[MAX_THREADS];
    uint32_t started = 1;
    for (; started < n; started++) {
        if (pthread_create(&tids[started], NULL, quantize_rows, &parts[started]) != 0) break;
    }
    for (uint32_t i = started; i < n; i++) quantize_rows(&parts[i]); /* threads that did not start */
    quantize_rows(&parts[0]);
    for (uint32_t i = 1; i < started; i++) pthread_join(tids[i], NULL);
    vkq__metrics_acc acc, wacc;
    vkq__metrics_acc_init(&acc);
    vkq__metrics_acc_init(&wacc);
    uint64_t clipped = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (parts[i].oom) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "analyze: %s: no memory for rows", t->name.data);
        vkq__metrics_acc_merge(&acc, &parts[i].acc);
        vkq__metrics_acc_merge(&wacc, &parts[i].wacc);
        clipped += parts[i].clipped;
    }
    vkq__metrics mt;
    vkq__metrics_acc_finish(&acc, &mt);
    w->rmse = mt.rmse, w->rel_l2 = mt.rel_l2, w->sqnr_db = mt.sqnr_db, w->max_abs = mt.max_abs, w->cosine = mt.cosine;
    w->clipped_fraction = t->elements ? (double)clipped / (double)t->elements : 0.0;
    if (j.importance) {
        vkq__metrics_acc_finish(&wacc, &mt);
        w->has_importance = 1;
        w->weighted_rel_l2 = mt.rel_l2, w->weighted_sqnr_db = mt.sqnr_db;
    }
    return vkq__an_progress(s, (double)t->elements);
}

vkq_status vkq__an_progress(an_state *s, double add) {
    s->done += add;
    const vkq_analysis_desc *desc = s->desc;
    if (!desc->progress) return VKQ_OK;
    float f = s->total > 0 ? (float)VKQ__MIN(s->done / s->total, 1.0) : 1.0f;
    if (desc->progress(f, desc->progress_user_data)) return vkq__fail(s->d, VKQ_ERR_STATE, "analyze: cancelled");
    return VKQ_OK;
}

/* Quantizes every matrix in format f; with the activation pass, into the reference states'
 * weights, so that they then hold the quantized model. */
static vkq_status weights_for_format(an_state *s, uint32_t f) {
    for (uint64_t m = 0; m < s->n_mats; m++) {
        const vkq__gguf_tensor *t = &s->g->tensors[s->mats[m]];
        uint32_t rows = 0, cols = 0, rows1 = 0, cols1 = 0;
        float *dst = s->ref[0] ? vkq__ref_matrix(s->ref[0], t->name.data, &rows, &cols) : NULL;
        if (dst && (uint64_t)rows * cols != t->elements) dst = NULL;
        vkq_status st = quantize_matrix(s, m, f, dst);
        if (st) return st;
        float *dst1 = dst && s->ref[1] ? vkq__ref_matrix(s->ref[1], t->name.data, &rows1, &cols1) : NULL;
        if (dst1) memcpy(dst1, dst, t->elements * sizeof(float));
    }
    return VKQ_OK;
}

/* ---- the whole run ------------------------------------------------------------------------ */

static uint32_t default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t)n : 1;
}

static vkq_status run(an_state *s) {
    const vkq_analysis_desc *desc = s->desc;
    vkq_analysis_report *r = s->r;
    vkq_status st = check_desc(s->d, desc);
    if (st) return st;
    s->threads = VKQ__MIN(desc->threads ? desc->threads : default_threads(), MAX_THREADS);
    r->threads = s->threads;
    r->formats = vkq__calloc(desc->n_formats, sizeof *r->formats);
    r->model_path = malloc(strlen(desc->model_path) + 1);
    if (!r->formats || !r->model_path) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "analyze: out of memory");
    strcpy(r->model_path, desc->model_path);
    r->n_formats = desc->n_formats;
    for (uint32_t f = 0; f < desc->n_formats && !st; f++) {
        st = resolve_format(s->d, desc->formats[f], &r->formats[f]);
        for (uint32_t g = 0; g < f && !st; g++) {
            if (!strcmp(r->formats[g].name, r->formats[f].name)) {
                st = vkq__fail(s->d, VKQ_ERR_INVALID_ARGUMENT, "analyze: format '%s' is given twice", r->formats[f].name);
            }
        }
    }
    if (!st) st = parse_overrides(s);
    if (!st) st = vkq__gguf_open_file(s->d, desc->model_path, &s->g);
    if (!st) st = plan(s);
    if (!st && desc->n_tokens) st = vkq__an_act_begin(s);
    for (uint32_t f = 0; f < r->n_formats && !st; f++) {
        st = weights_for_format(s, f);
        if (!st && desc->n_tokens) st = vkq__an_act_format(s, &r->formats[f]);
    }
    if (!st) r->n_tokens = desc->n_tokens;
    if (!st && desc->progress) desc->progress(1.0f, desc->progress_user_data);
    return st;
}

static void state_free(an_state *s) {
    vkq__an_act_end(s);
    for (uint64_t m = 0; s->importance && m < s->n_mats; m++) free(s->importance[m]);
    free(s->importance);
    for (uint32_t i = 0; i < s->n_rules; i++) free(s->rule_patterns[i]);
    free(s->rule_patterns), free(s->rule_types), free(s->mats);
    vkq__gguf_free(s->g);
}

vkq_status vkq_analyze(vkq_context *ctx, const vkq_analysis_desc *desc, vkq_analysis_report *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!ctx) return VKQ_ERR_INVALID_ARGUMENT;
    vkq__diag *d = vkq__context_diag(ctx);
    if (!out) return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "analyze: out is NULL");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    an_state s = {.d = d, .desc = desc, .r = out};
    vkq_status st = run(&s);
    state_free(&s);
    if (st) {
        vkq_analysis_report_free(out);
        return st;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    return VKQ_OK;
}

void vkq_analysis_report_free(vkq_analysis_report *r) {
    if (!r) return;
    for (uint64_t i = 0; r->tensors && i < r->n_tensors; i++) free(r->tensors[i].formats);
    for (uint32_t f = 0; r->formats && f < r->n_formats; f++) {
        free(r->formats[f].accumulated);
        free(r->formats[f].isolated);
    }
    free(r->tensors), free(r->formats), free(r->model_path);
    memset(r, 0, sizeof *r);
}

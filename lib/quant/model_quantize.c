/* vkq_model_quantize: read a GGUF model, quantize its weight matrices row by row on several
 * threads, write the result through the GGUF writer (temporary file, then rename). With a size
 * budget, each matrix is first quantized in every candidate format to measure its error, and
 * budget.c chooses the formats. */
#include "analysis/metrics.h"
#include "gguf/gguf.h"
#include "quant/budget.h"
#include "quant/presets.h"
#include "quant/quant.h"

#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256u
/* Rows are handed out in chunks of about this many weights. */
#define CHUNK_WEIGHTS 65536u

typedef struct override_rule {
    char *pattern;
    vkq_type type;
} override_rule;

/* One tensor of the input and what becomes of it. */
typedef struct plan_entry {
    const vkq__gguf_tensor *t;
    const uint8_t *src;
    bool quantize;
    vkq_type wanted, type;
    float *importance; /* ne[0] values, or NULL */
    void *out;         /* the output tensor's bytes */
    uint64_t out_bytes;
    vkq__metrics_acc acc, wacc;
    double error;      /* sum of squared errors, importance-weighted when there is importance;
                          summed row by row in row order, so the same for any thread count */
    uint32_t n_candidates; /* with a budget: the formats it chooses from; 0 when fixed */
    vkq_type candidates[VKQ__BUDGET_MAX_CANDIDATES];
} plan_entry;

typedef struct quant_state {
    vkq__diag *d;
    const vkq_quantize_desc *desc;
    vkq_gguf *in, *imp;
    vkq_quantize_preset preset;
    vkq_type type;
    override_rule *rules;
    uint32_t n_rules;
    plan_entry *plan;
    uint32_t threads;
    uint64_t total_weights, done_weights;
    uint32_t n_fallbacks, n_dequantized;
    bool budget;           /* desc->target_bpw or target_size */
    uint64_t budget_bytes; /* tensor data the budget allows */
} quant_state;

static bool is_weight_matrix(const vkq__gguf_tensor *t) {
    size_t n = t->name.len;
    return t->n_dims >= 2 && n > 7 && !strcmp(t->name.data + n - 7, ".weight");
}

static vkq_status check_desc(vkq__diag *d, const vkq_quantize_desc *desc) {
    if (!desc) return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "quantize: desc is NULL");
    if (!desc->input_path || !desc->output_path) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "quantize: input_path and output_path "
                                                      "are required");
    }
    for (size_t i = 0; i < VKQ__ARRAY_LEN(desc->reserved); i++) {
        if (desc->reserved[i]) {
            return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "quantize: reserved[%zu] = %u, must be "
                             "zero", i, desc->reserved[i]);
        }
    }
    if (desc->n_overrides && !desc->overrides) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "quantize: %u overrides but overrides is "
                         "NULL", desc->n_overrides);
    }
    return VKQ_OK;
}

static vkq_status check_type(vkq__diag *d, vkq_type t, const char *what) {
    if (!vkq__type_info_get(t) || t == VKQ_TYPE_Q8_1) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "quantize: %s: type %s (%d) is not a "
                         "weight format", what, vkq_type_name(t), (int)t);
    }
    return VKQ_OK;
}

/* Exactly one of preset, type, target and a budget (target_bpw or target_size). */
static vkq_status resolve_target(quant_state *s) {
    const vkq_quantize_desc *desc = s->desc;
    s->budget = desc->target_bpw != 0 || desc->target_size != 0;
    int given = (desc->preset != VKQ_QUANTIZE_PRESET_NONE) + (desc->type != VKQ_TYPE_NONE) +
                (desc->target != NULL) + s->budget;
    if (given != 1) {
        return vkq__fail(s->d, VKQ_ERR_INVALID_ARGUMENT, "quantize: give exactly one of preset, "
                         "type, target and a budget (target_bpw or target_size) (%d given)",
                         given);
    }
    if (s->budget) {
        if (desc->target_bpw != 0 && desc->target_size != 0) {
            return vkq__fail(s->d, VKQ_ERR_INVALID_ARGUMENT, "quantize: give target_bpw or "
                             "target_size, not both");
        }
        if (desc->target_size == 0 && !(desc->target_bpw > 0 && desc->target_bpw <= 64)) {
            return vkq__fail(s->d, VKQ_ERR_INVALID_ARGUMENT, "quantize: target_bpw %g is not "
                             "in (0, 64]", desc->target_bpw);
        }
        return VKQ_OK;
    }
    if (desc->preset != VKQ_QUANTIZE_PRESET_NONE) {
        if ((unsigned)desc->preset >= VKQ_QUANTIZE_PRESET_COUNT) {
            return vkq__fail(s->d, VKQ_ERR_INVALID_ARGUMENT, "quantize: unknown preset %d",
                             (int)desc->preset);
        }
        s->preset = desc->preset;
        return VKQ_OK;
    }
    if (desc->type != VKQ_TYPE_NONE) {
        s->type = desc->type;
        return check_type(s->d, s->type, "target");
    }
    s->preset = vkq_quantize_preset_from_name(desc->target);
    if (s->preset != VKQ_QUANTIZE_PRESET_NONE) return VKQ_OK;
    s->type = vkq_type_from_name(desc->target);
    if (s->type == VKQ_TYPE_NONE) {
        return vkq__fail(s->d, VKQ_ERR_INVALID_ARGUMENT, "quantize: '%s' is neither a preset nor "
                         "a type name", desc->target);
    }
    return check_type(s->d, s->type, desc->target);
}

static vkq_status parse_overrides(quant_state *s) {
    uint32_t n = s->desc->n_overrides;
    if (!n) return VKQ_OK;
    s->rules = vkq__calloc(n, sizeof *s->rules);
    if (!s->rules) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "quantize: out of memory");
    for (uint32_t i = 0; i < n; i++) {
        const char *o = s->desc->overrides[i];
        const char *eq = o ? strrchr(o, '=') : NULL;
        if (!eq || eq == o || !eq[1]) {
            return vkq__fail(s->d, VKQ_ERR_INVALID_ARGUMENT, "quantize: override %u '%s': expected "
                             "PATTERN=TYPE", i, o ? o : "(null)");
        }
        vkq_type t = vkq_type_from_name(eq + 1);
        if (t == VKQ_TYPE_NONE) {
            return vkq__fail(s->d, VKQ_ERR_INVALID_ARGUMENT, "quantize: override '%s': unknown "
                             "type '%s'", o, eq + 1);
        }
        vkq_status st = check_type(s->d, t, o);
        if (st) return st;
        size_t len = (size_t)(eq - o);
        s->rules[i].pattern = malloc(len + 1);
        if (!s->rules[i].pattern) {
            return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "quantize: out of memory");
        }
        memcpy(s->rules[i].pattern, o, len);
        s->rules[i].pattern[len] = 0;
        s->rules[i].type = t;
        s->n_rules = i + 1;
    }
    return VKQ_OK;
}

static vkq_type choose_type(const quant_state *s, const char *name, int64_t n_layer,
                            bool tied_output) {
    vkq_type t = s->type;
    if (s->preset != VKQ_QUANTIZE_PRESET_NONE) {
        int64_t layer;
        vkq__tensor_role role = vkq__tensor_role_of(name, &layer);
        t = vkq__preset_choose(s->preset, role, layer, n_layer, tied_output);
    }
    for (uint32_t i = 0; i < s->n_rules; i++) {
        if (fnmatch(s->rules[i].pattern, name, 0) == 0) t = s->rules[i].type;
    }
    return t;
}

/* The importance of one weight matrix: "<name>.importance", F32, 1-D, ne[0] values. */
static vkq_status load_importance(quant_state *s, plan_entry *e) {
    char name[160];
    snprintf(name, sizeof name, "%s.importance", e->t->name.data);
    int64_t i = vkq__gguf_lookup(s->imp->tensor_by_name, s->imp->n_tensors, name);
    if (i < 0) {
        vkq__log(s->d, VKQ_LOG_WARN, "quantize: %s: no tensor %s; quantizing it without "
                 "importance", s->desc->importance_path, name);
        return VKQ_OK;
    }
    const vkq__gguf_tensor *t = &s->imp->tensors[i];
    if (t->type != VKQ_TYPE_F32 || t->elements != e->t->ne[0]) {
        return vkq__fail(s->d, VKQ_ERR_BAD_FILE, "quantize: %s: tensor %s is %s with %llu "
                         "elements; expected f32 with %llu (ne[0] of %s)",
                         s->desc->importance_path, name, vkq_type_name(t->type),
                         (unsigned long long)t->elements, (unsigned long long)e->t->ne[0],
                         e->t->name.data);
    }
    e->importance = malloc(t->bytes);
    if (!e->importance) {
        return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "quantize: out of memory");
    }
    /* Copied: the file's alignment may be smaller than a float's. */
    memcpy(e->importance, s->imp->data + s->imp->data_offset + t->offset, t->bytes);
    /* Weights of a squared error: a negative or non-finite one would steer every search. */
    for (uint64_t c = 0; c < t->elements; c++) {
        if (!(e->importance[c] >= 0 && e->importance[c] <= FLT_MAX)) {
            return vkq__fail(s->d, VKQ_ERR_BAD_FILE, "quantize: %s: %s[%llu] is %g; importances must be "
                             "finite and >= 0", s->desc->importance_path, name, (unsigned long long)c,
                             (double)e->importance[c]);
        }
    }
    return VKQ_OK;
}

/* Sets the output type and its size. */
static vkq_status set_type(quant_state *s, plan_entry *e, vkq_type type) {
    uint64_t row_bytes = 0, rows = e->t->ne[0] ? e->t->elements / e->t->ne[0] : 0;
    e->type = type;
    if (!vkq__row_bytes(type, e->t->ne[0], &row_bytes) ||
        !vkq__mul_u64(row_bytes, rows, &e->out_bytes)) {
        return vkq__fail(s->d, VKQ_ERR_LIMIT, "quantize: %s: size overflows", e->t->name.data);
    }
    return VKQ_OK;
}

static vkq_status plan_tensors(quant_state *s) {
    vkq_gguf *g = s->in;
    int64_t n_layer = 0;
    bool tied_output = vkq__gguf_lookup(g->tensor_by_name, g->n_tensors, "output.weight") < 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        int64_t layer;
        vkq__tensor_role_of(g->tensors[i].name.data, &layer);
        n_layer = VKQ__MAX(n_layer, layer + 1);
    }
    s->plan = vkq__calloc(g->n_tensors ? g->n_tensors : 1, sizeof *s->plan);
    if (!s->plan) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "quantize: out of memory");
    const vkq__gguf_tensor *first_quantized = NULL;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        plan_entry *e = &s->plan[i];
        e->t = &g->tensors[i];
        e->src = g->data + g->data_offset + e->t->offset;
        e->quantize = is_weight_matrix(e->t);
        e->wanted = e->quantize ? choose_type(s, e->t->name.data, n_layer, tied_output)
                                : VKQ_TYPE_F32;
        if (e->wanted == VKQ_TYPE_NONE) { /* the budget chooses; no override matched */
            e->n_candidates = vkq__budget_candidates(e->t->ne[0], e->candidates);
            /* No candidate fits the rows: fixed, in Q8_0's fallback (F16). */
            e->wanted = e->n_candidates ? e->candidates[0] : VKQ_TYPE_Q8_0;
            s->total_weights += e->n_candidates * e->t->elements; /* the measuring passes */
        }
        vkq_status st = set_type(s, e, vkq__quantize_fallback(e->wanted, e->t->ne[0]));
        if (st) return st;
        if (e->type != e->wanted) {
            s->n_fallbacks++;
            vkq__log(s->d, VKQ_LOG_INFO, "quantize: %s: row length %llu is not a multiple of "
                     "%s's block of %u; using %s", e->t->name.data,
                     (unsigned long long)e->t->ne[0], vkq_type_name(e->wanted),
                     vkq_type_block_elements(e->wanted), vkq_type_name(e->type));
        }
        vkq_type in = e->t->type;
        if (in != VKQ_TYPE_F32 && in != VKQ_TYPE_F16 && in != VKQ_TYPE_BF16) {
            if (!first_quantized) first_quantized = e->t;
            s->n_dequantized++;
        }
        s->total_weights += e->t->elements;
        if (s->imp && e->quantize) {
            st = load_importance(s, e);
            if (st) return st;
        }
    }
    if (first_quantized) {
        vkq__log(s->d, VKQ_LOG_WARN, "quantize: %s: %u tensors are already quantized (%s is %s); "
                 "they are dequantized first, so their error adds to the new format's",
                 s->desc->input_path, s->n_dequantized, first_quantized->name.data,
                 vkq_type_name(first_quantized->type));
    }
    return VKQ_OK;
}

/* ---- quantizing one tensor on several threads ----------------------------------------------- */

typedef struct tensor_job {
    quant_state *s;
    plan_entry *e;
    uint64_t rows, chunk, in_row_bytes, out_row_bytes;
    double *row_error; /* rows: each row's squared error, summed in order at the end */
    atomic_uint_fast64_t next_row, rows_done;
    atomic_int stop; /* 1: cancelled, 2: out of memory */
    pthread_mutex_t mu;
} tensor_job;

static void merge_acc(vkq__metrics_acc *into, const vkq__metrics_acc *a) {
    into->sw += a->sw;
    into->sw_rr += a->sw_rr;
    into->sw_tt += a->sw_tt;
    into->sw_rt += a->sw_rt;
    into->sw_ee += a->sw_ee;
    into->max_abs = VKQ__MAX(into->max_abs, a->max_abs);
}

static void report_progress(tensor_job *j) {
    const vkq_quantize_desc *desc = j->s->desc;
    if (!desc->progress) return;
    uint64_t done = j->s->done_weights + atomic_load(&j->rows_done) * j->e->t->ne[0];
    float f = j->s->total_weights ? (float)((double)done / (double)j->s->total_weights) : 1.0f;
    if (desc->progress(f, desc->progress_user_data)) atomic_store(&j->stop, 1);
}

/* Runs on every worker; `main` is the calling thread, the only one that reports progress. */
static void work(tensor_job *j, bool main) {
    uint64_t ne0 = j->e->t->ne[0];
    float *x = malloc(ne0 * sizeof *x), *y = malloc(ne0 * sizeof *y);
    if (!x || !y) {
        atomic_store(&j->stop, 2);
        free(x), free(y);
        return;
    }
    vkq__metrics_acc acc, wacc;
    vkq__metrics_acc_init(&acc);
    vkq__metrics_acc_init(&wacc);
    const float *imp = j->e->importance;
    while (!atomic_load(&j->stop)) {
        uint64_t r0 = atomic_fetch_add(&j->next_row, j->chunk);
        if (r0 >= j->rows) break;
        uint64_t r1 = VKQ__MIN(r0 + j->chunk, j->rows);
        for (uint64_t r = r0; r < r1; r++) {
            uint8_t *dst = (uint8_t *)j->e->out + r * j->out_row_bytes;
            vkq__dequantize_row(j->e->t->type, j->e->src + r * j->in_row_bytes, x, (int64_t)ne0);
            vkq__quantize_row(j->e->type, x, dst, (int64_t)ne0, imp, VKQ__QUANT_SEARCH);
            vkq__dequantize_row(j->e->type, dst, y, (int64_t)ne0);
            vkq__metrics_acc row, wrow;
            vkq__metrics_acc_init(&row);
            vkq__metrics_acc_init(&wrow);
            vkq__metrics_acc_add(&row, x, y, NULL, (int64_t)ne0);
            if (imp) vkq__metrics_acc_add(&wrow, x, y, imp, (int64_t)ne0);
            merge_acc(&acc, &row);
            merge_acc(&wacc, &wrow);
            j->row_error[r] = imp ? wrow.sw_ee : row.sw_ee;
        }
        atomic_fetch_add(&j->rows_done, r1 - r0);
        if (main) report_progress(j);
    }
    pthread_mutex_lock(&j->mu);
    merge_acc(&j->e->acc, &acc);
    merge_acc(&j->e->wacc, &wacc);
    pthread_mutex_unlock(&j->mu);
    free(x), free(y);
}

static void *worker(void *arg) {
    work(arg, false);
    return NULL;
}

/* Quantizes e->t into a new e->out in e->type; sets e->acc, e->wacc and e->error. */
static vkq_status quantize_tensor(quant_state *s, plan_entry *e) {
    const vkq__gguf_tensor *t = e->t;
    vkq__metrics_acc_init(&e->acc);
    vkq__metrics_acc_init(&e->wacc);
    e->error = 0;
    if (t->elements == 0 || t->ne[0] == 0) {
        e->out = malloc(1);
        if (e->out) return VKQ_OK;
        return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "quantize: out of memory");
    }
    tensor_job j = {.s = s, .e = e, .rows = t->elements / t->ne[0]};
    vkq__row_bytes(t->type, t->ne[0], &j.in_row_bytes);
    vkq__row_bytes(e->type, t->ne[0], &j.out_row_bytes);
    /* Chunks of at most CHUNK_WEIGHTS, and enough of them to keep every thread busy. */
    j.chunk = VKQ__MIN(CHUNK_WEIGHTS / t->ne[0], j.rows / (4u * s->threads));
    j.chunk = VKQ__MAX(j.chunk, 1);
    atomic_init(&j.next_row, 0);
    atomic_init(&j.rows_done, 0);
    atomic_init(&j.stop, 0);
    e->out = malloc(e->out_bytes ? e->out_bytes : 1);
    j.row_error = malloc(j.rows * sizeof *j.row_error);
    if (!e->out || !j.row_error || pthread_mutex_init(&j.mu, NULL) != 0) {
        free(j.row_error);
        return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "quantize: %s: cannot allocate %llu "
                         "bytes", t->name.data, (unsigned long long)e->out_bytes);
    }
    uint64_t chunks = (j.rows + j.chunk - 1) / j.chunk;
    uint32_t extra = (uint32_t)VKQ__MIN((uint64_t)s->threads - 1, chunks - 1);
    pthread_t tids[MAX_THREADS];
    uint32_t started = 0;
    for (; started < extra; started++) {
        if (pthread_create(&tids[started], NULL, worker, &j) != 0) break; /* fewer threads */
    }
    work(&j, true);
    for (uint32_t i = 0; i < started; i++) pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&j.mu);
    int stop = atomic_load(&j.stop);
    for (uint64_t r = 0; !stop && r < j.rows; r++) e->error += j.row_error[r];
    free(j.row_error);
    if (stop == 1) return vkq__fail(s->d, VKQ_ERR_STATE, "quantize: cancelled at %s", t->name.data);
    if (stop == 2) {
        return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "quantize: %s: out of memory for row "
                         "buffers", t->name.data);
    }
    s->done_weights += t->elements;
    return VKQ_OK;
}

/* ---- the size budget ------------------------------------------------------------------------ */

/* The most bytes around the tensor data in the output file: the input's header (the metadata
 * is copied; general.file_type and general.quantization_version may be added) and each
 * tensor's alignment padding. */
static uint64_t file_overhead(const quant_state *s) {
    return s->in->data_offset + 256 + (s->in->n_tensors + 1) * s->in->alignment;
}

static uint64_t all_elements(const quant_state *s) {
    uint64_t n = 0;
    for (uint64_t i = 0; i < s->in->n_tensors; i++) n += s->in->tensors[i].elements;
    return n;
}

/* The budget's tensor data in bytes, from target_bpw (measured as the report's
 * bits_per_weight: 8 * output tensor bytes / all elements) or target_size (the whole file). */
static void set_budget_bytes(quant_state *s) {
    if (s->desc->target_size) {
        uint64_t over = file_overhead(s);
        s->budget_bytes = s->desc->target_size > over ? s->desc->target_size - over : 0;
        return;
    }
    /* target_bpw <= 64: at most 8 bytes per element, which fits (the input has more). */
    s->budget_bytes = (uint64_t)floor(s->desc->target_bpw * (double)all_elements(s) / 8.0);
}

static vkq_status budget_too_small(quant_state *s, uint64_t min_bytes) {
    if (s->desc->target_size) {
        return vkq__fail(s->d, VKQ_ERR_INVALID_ARGUMENT, "quantize: target size %llu bytes is "
                         "below the smallest reachable, %llu bytes (%llu of tensor data with "
                         "every matrix in its cheapest format, and at most %llu of header and "
                         "padding)", (unsigned long long)s->desc->target_size,
                         (unsigned long long)(min_bytes + file_overhead(s)),
                         (unsigned long long)min_bytes, (unsigned long long)file_overhead(s));
    }
    uint64_t n = all_elements(s);
    return vkq__fail(s->d, VKQ_ERR_INVALID_ARGUMENT, "quantize: target %g bits/weight is below "
                     "the smallest reachable, %.4f bits/weight (%llu bytes of tensor data with "
                     "every matrix in its cheapest format; norms, overridden matrices and "
                     "matrices without a candidate are fixed)", s->desc->target_bpw,
                     n ? 8.0 * (double)min_bytes / (double)n : 0.0,
                     (unsigned long long)min_bytes);
}

/* Measures every candidate of every searched matrix (quantized, its error kept, its output
 * freed at once), then lets budget.c choose. The error is the importance-weighted squared
 * error sum_jk imp_k dW_jk^2 where the importance file has the matrix, else the plain one:
 * with imp_k = E[x_k^2] and roughly uncorrelated inputs x, sum_jk dW_jk^2 E[x_k^2] is the
 * expected squared error of the output dW x, so the sum over matrices is the total energy of
 * the output errors the quantization adds, which the allocation minimizes. */
static vkq_status fit_budget(quant_state *s) {
    uint64_t n = s->in->n_tensors, n_items = 0, fixed = 0, least = 0;
    for (uint64_t i = 0; i < n; i++) {
        const plan_entry *e = &s->plan[i];
        n_items += e->n_candidates != 0;
        fixed += e->n_candidates ? 0 : e->out_bytes;
        least += e->out_bytes; /* the searched ones are at their cheapest candidate */
    }
    set_budget_bytes(s);
    if (least > s->budget_bytes) return budget_too_small(s, least); /* before the work */
    vkq__budget_item *items = vkq__calloc(n_items ? n_items : 1, sizeof *items);
    if (!items) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "quantize: out of memory");
    vkq_status st = VKQ_OK;
    for (uint64_t i = 0, k = 0; !st && i < n; i++) {
        plan_entry *e = &s->plan[i];
        if (!e->n_candidates) continue;
        vkq__budget_item *it = &items[k++];
        it->n = e->n_candidates;
        for (uint32_t c = 0; !st && c < it->n; c++) {
            st = set_type(s, e, e->candidates[c]);
            if (!st) st = quantize_tensor(s, e);
            free(e->out);
            e->out = NULL;
            it->bytes[c] = e->out_bytes;
            it->error[c] = e->error;
        }
    }
    uint64_t min_bytes = 0, total = 0;
    double error = 0;
    if (!st) {
        st = vkq__budget_allocate(items, n_items, fixed, s->budget_bytes, &min_bytes, &total,
                                  &error);
        if (st == VKQ_ERR_INVALID_ARGUMENT) st = budget_too_small(s, min_bytes);
        else if (st) st = vkq__fail(s->d, st, "quantize: out of memory");
    }
    for (uint64_t i = 0, k = 0; !st && i < n; i++) {
        plan_entry *e = &s->plan[i];
        if (!e->n_candidates) continue;
        e->wanted = e->candidates[items[k++].chosen];
        st = set_type(s, e, e->wanted);
    }
    if (!st) {
        vkq__log(s->d, VKQ_LOG_INFO, "quantize: budget of %llu bytes of tensor data: %llu chosen "
                 "for %llu matrices searched, total squared error %.6g",
                 (unsigned long long)s->budget_bytes, (unsigned long long)total,
                 (unsigned long long)n_items, error);
    }
    free(items);
    return st;
}

/* The type that holds the most weights among the quantized matrices (lowest type on a tie). */
static vkq_type main_type(const quant_state *s) {
    uint64_t count[VKQ_TYPE_COUNT] = {0};
    for (uint64_t i = 0; i < s->in->n_tensors; i++) {
        const plan_entry *e = &s->plan[i];
        if (e->quantize && (unsigned)e->type < VKQ_TYPE_COUNT) count[e->type] += e->t->elements;
    }
    vkq_type best = VKQ_TYPE_F32;
    for (int t = 0; t < VKQ_TYPE_COUNT; t++) {
        if (count[t] > count[best]) best = (vkq_type)t;
    }
    return best;
}

/* ---- writing -------------------------------------------------------------------------------- */

/* Re-adds one fixed-size array, converting the file's packed little-endian elements into the
 * host C array the writer expects. */
static vkq_status copy_array(quant_state *s, vkq__gguf_writer *w, const vkq__gguf_kv *kv) {
    uint32_t size = vkq__gguf_type_size(kv->arr_type);
    void *buf = malloc(kv->arr_count ? kv->arr_count * 8 : 1);
    if (!buf) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "quantize: out of memory");
    for (uint64_t i = 0; i < kv->arr_count; i++) {
        vkq__gguf_scalar v = vkq__gguf_decode(kv->arr_type, kv->arr_data + i * size);
        switch (kv->arr_type) {
        case VKQ__GGUF_U8: ((uint8_t *)buf)[i] = (uint8_t)v.u; break;
        case VKQ__GGUF_I8: ((int8_t *)buf)[i] = (int8_t)v.i; break;
        case VKQ__GGUF_U16: ((uint16_t *)buf)[i] = (uint16_t)v.u; break;
        case VKQ__GGUF_I16: ((int16_t *)buf)[i] = (int16_t)v.i; break;
        case VKQ__GGUF_U32: ((uint32_t *)buf)[i] = (uint32_t)v.u; break;
        case VKQ__GGUF_I32: ((int32_t *)buf)[i] = (int32_t)v.i; break;
        case VKQ__GGUF_U64: ((uint64_t *)buf)[i] = v.u; break;
        case VKQ__GGUF_I64: ((int64_t *)buf)[i] = v.i; break;
        case VKQ__GGUF_F32: ((float *)buf)[i] = (float)v.f; break;
        case VKQ__GGUF_F64: ((double *)buf)[i] = v.f; break;
        case VKQ__GGUF_BOOL: ((bool *)buf)[i] = v.u != 0; break;
        }
    }
    vkq_gguf_value_type type = vkq__gguf_type_from_id(kv->arr_type);
    vkq_status st = vkq__gguf_writer_add_array(w, kv->key.data, type, buf, kv->arr_count);
    free(buf);
    return st;
}

static vkq_status copy_string_array(quant_state *s, vkq__gguf_writer *w, const vkq__gguf_kv *kv) {
    const char **strs = vkq__calloc(kv->arr_count ? kv->arr_count : 1, sizeof *strs);
    if (!strs) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "quantize: out of memory");
    for (uint64_t i = 0; i < kv->arr_count; i++) strs[i] = kv->arr_strs[i].data;
    vkq_status st = vkq__gguf_writer_add_string_array(w, kv->key.data, strs, kv->arr_count);
    free(strs);
    return st;
}

static vkq_status copy_kv(quant_state *s, vkq__gguf_writer *w, const vkq__gguf_kv *kv) {
    const char *k = kv->key.data;
    switch (kv->type) {
    case VKQ__GGUF_U8: return vkq__gguf_writer_add_u8(w, k, (uint8_t)kv->v.u);
    case VKQ__GGUF_I8: return vkq__gguf_writer_add_i8(w, k, (int8_t)kv->v.i);
    case VKQ__GGUF_U16: return vkq__gguf_writer_add_u16(w, k, (uint16_t)kv->v.u);
    case VKQ__GGUF_I16: return vkq__gguf_writer_add_i16(w, k, (int16_t)kv->v.i);
    case VKQ__GGUF_U32: return vkq__gguf_writer_add_u32(w, k, (uint32_t)kv->v.u);
    case VKQ__GGUF_I32: return vkq__gguf_writer_add_i32(w, k, (int32_t)kv->v.i);
    case VKQ__GGUF_U64: return vkq__gguf_writer_add_u64(w, k, kv->v.u);
    case VKQ__GGUF_I64: return vkq__gguf_writer_add_i64(w, k, kv->v.i);
    case VKQ__GGUF_F32: return vkq__gguf_writer_add_f32(w, k, (float)kv->v.f);
    case VKQ__GGUF_F64: return vkq__gguf_writer_add_f64(w, k, kv->v.f);
    case VKQ__GGUF_BOOL: return vkq__gguf_writer_add_bool(w, k, kv->v.u != 0);
    case VKQ__GGUF_STRING: return vkq__gguf_writer_add_string_n(w, k, kv->str.data, kv->str.len);
    case VKQ__GGUF_ARRAY:
        return kv->arr_type == VKQ__GGUF_STRING ? copy_string_array(s, w, kv)
                                                : copy_array(s, w, kv);
    }
    return vkq__fail(s->d, VKQ_ERR_BAD_FILE, "quantize: key %s has unknown type %u", k, kv->type);
}

static uint32_t file_type(const quant_state *s) {
    if (s->budget) return vkq__budget_file_type(main_type(s));
    return s->preset != VKQ_QUANTIZE_PRESET_NONE ? vkq__preset_file_type(s->preset)
                                                 : vkq__type_file_type(s->type);
}

static vkq_status write_output(quant_state *s) {
    vkq__gguf_writer *w = NULL;
    vkq_status st = vkq__gguf_writer_create(s->d, &w);
    if (!st && s->in->alignment != VKQ__GGUF_DEFAULT_ALIGNMENT) {
        st = vkq__gguf_writer_set_alignment(w, s->in->alignment);
    }
    bool has_qversion = false;
    for (uint64_t i = 0; !st && i < s->in->n_kv; i++) {
        const vkq__gguf_kv *kv = &s->in->kv[i];
        /* The writer adds general.alignment itself; the file type changes. */
        const char *k = kv->key.data;
        if (!strcmp(k, "general.alignment") || !strcmp(k, "general.file_type")) {
            continue;
        }
        has_qversion |= !strcmp(kv->key.data, "general.quantization_version");
        st = copy_kv(s, w, kv);
    }
    if (!st) st = vkq__gguf_writer_add_u32(w, "general.file_type", file_type(s));
    /* The ecosystem's readers expect this key in quantized files (version 2 of the K-formats). */
    if (!st && !has_qversion) st = vkq__gguf_writer_add_u32(w, "general.quantization_version", 2);
    for (uint64_t i = 0; !st && i < s->in->n_tensors; i++) {
        const plan_entry *e = &s->plan[i];
        st = vkq__gguf_writer_add_tensor(w, e->t->name.data, e->type, e->t->n_dims, e->t->ne,
                                         e->out);
    }
    if (!st) st = vkq__gguf_writer_write_file(w, s->desc->output_path);
    vkq__gguf_writer_destroy(w);
    if (st) return vkq__wrap(s->d, st, "quantize: writing %s", s->desc->output_path);
    return VKQ_OK;
}

/* ---- report --------------------------------------------------------------------------------- */

static vkq_status fill_report(quant_state *s, vkq_quantize_report *r) {
    uint64_t n = s->in->n_tensors;
    r->tensors = vkq__calloc(n ? n : 1, sizeof *r->tensors);
    if (!r->tensors) return vkq__fail(s->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "quantize: out of memory");
    r->n_tensors = n;
    for (uint64_t i = 0; i < n; i++) {
        const plan_entry *e = &s->plan[i];
        vkq_quantize_tensor_report *t = &r->tensors[i];
        snprintf(t->name, sizeof t->name, "%s", e->t->name.data);
        t->n_dims = e->t->n_dims;
        memcpy(t->ne, e->t->ne, sizeof t->ne);
        t->elements = e->t->elements;
        t->input_type = e->t->type;
        t->wanted_type = e->wanted;
        t->type = e->type;
        t->fallback = e->type != e->wanted;
        t->quantized = e->quantize;
        t->bytes = e->out_bytes;
        vkq__metrics m;
        vkq__metrics_acc_finish(&e->acc, &m);
        t->rel_l2 = m.rel_l2;
        t->sqnr_db = m.sqnr_db;
        t->has_importance = e->importance != NULL;
        if (e->importance) {
            vkq__metrics_acc_finish(&e->wacc, &m);
            t->weighted_rel_l2 = m.rel_l2;
            t->weighted_sqnr_db = m.sqnr_db;
        }
        r->elements += e->t->elements;
        r->input_bytes += e->t->bytes;
        r->output_bytes += e->out_bytes;
    }
    r->bits_per_weight = r->elements ? 8.0 * (double)r->output_bytes / (double)r->elements : 0;
    r->budget_bytes = s->budget ? s->budget_bytes : 0;
    for (uint64_t i = 0; i < n; i++) r->error_energy += s->plan[i].error;
    r->file_type = file_type(s);
    r->n_fallbacks = s->n_fallbacks;
    r->n_dequantized = s->n_dequantized;
    r->threads = s->threads;
    vkq_gguf *out = NULL;
    /* The file size as written: read back from the header rather than recomputed. */
    if (vkq__gguf_open_file(s->d, s->desc->output_path, &out) == VKQ_OK) {
        r->output_file_size = out->size;
    }
    vkq__gguf_free(out);
    return VKQ_OK;
}

static uint32_t default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t)n : 1;
}

static vkq_status run(quant_state *s) {
    vkq_status st = check_desc(s->d, s->desc);
    if (!st) st = resolve_target(s);
    if (!st) st = parse_overrides(s);
    if (st) return st;
    s->threads = s->desc->threads ? s->desc->threads : default_threads();
    s->threads = VKQ__MIN(s->threads, MAX_THREADS);
    st = vkq__gguf_open_file(s->d, s->desc->input_path, &s->in);
    if (!st && s->desc->importance_path) {
        st = vkq__gguf_open_file(s->d, s->desc->importance_path, &s->imp);
        if (st) vkq__wrap(s->d, st, "quantize: importance file");
    }
    if (!st) st = plan_tensors(s);
    if (!st && s->budget) st = fit_budget(s);
    for (uint64_t i = 0; !st && i < s->in->n_tensors; i++) st = quantize_tensor(s, &s->plan[i]);
    if (!st) st = write_output(s);
    if (!st && s->desc->progress) s->desc->progress(1.0f, s->desc->progress_user_data);
    return st;
}

vkq_status vkq_model_quantize(vkq_context *ctx, const vkq_quantize_desc *desc,
                              vkq_quantize_report *report) {
    if (report) memset(report, 0, sizeof *report);
    if (!ctx) return VKQ_ERR_INVALID_ARGUMENT;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    quant_state s = {.d = vkq__context_diag(ctx), .desc = desc};
    vkq_status st = run(&s);
    if (!st && report) {
        st = fill_report(&s, report);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        report->seconds =
            (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    }
    if (s.plan) {
        for (uint64_t i = 0; i < s.in->n_tensors; i++) {
            free(s.plan[i].out);
            free(s.plan[i].importance);
        }
    }
    free(s.plan);
    for (uint32_t i = 0; i < s.n_rules; i++) free(s.rules[i].pattern);
    free(s.rules);
    vkq__gguf_free(s.in);
    vkq__gguf_free(s.imp);
    if (st && report) vkq_quantize_report_free(report);
    return st;
}

void vkq_quantize_report_free(vkq_quantize_report *report) {
    if (!report) return;
    free(report->tensors);
    memset(report, 0, sizeof *report);
}

/* The analysis report as JSON ("vkq_analysis": 1, read by vkq-viz) and as CSV; both formats
 * are written out in docs/ANALYSIS.md, "Report format". Built in memory, then written
 * atomically. */
#include "analysis/analyze.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sbuf {
    char *data;
    size_t len, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) VKQ__PRINTF(2, 3);
static void put(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->data && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = VKQ__MAX(2 * b->cap, b->len + (size_t)n + 4096);
        char *d = realloc(b->data, cap);
        if (!d) {
            b->oom = true;
            return;
        }
        b->data = d, b->cap = cap;
    }
}

static void json_str(sbuf *b, const char *s) {
    if (!s) {
        put(b, "null");
        return;
    }
    put(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') put(b, "\\%c", *p);
        else if (*p < 0x20) put(b, "\\u%04x", *p);
        else put(b, "%c", *p);
    }
    put(b, "\"");
}

/* A number, or null when it is not finite. */
static void json_num(sbuf *b, double v) {
    if (isfinite(v)) put(b, "%.9g", v);
    else put(b, "null");
}

static void json_key_num(sbuf *b, const char *key, double v) {
    put(b, ", \"%s\": ", key);
    json_num(b, v);
}

static const char *const known_roles[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate",
                                          "ffn_up", "ffn_down", "token_embd", "output"};

/* The roles present: the usual ones in the usual order, then the others as they first appear. */
static void json_roles(sbuf *b, const vkq_analysis_report *r) {
    put(b, "  \"roles\": [");
    bool first = true;
    for (size_t k = 0; k < VKQ__ARRAY_LEN(known_roles); k++) {
        for (uint64_t i = 0; i < r->n_tensors; i++) {
            if (!strcmp(r->tensors[i].role, known_roles[k])) {
                put(b, "%s\"%s\"", first ? "" : ", ", known_roles[k]);
                first = false;
                break;
            }
        }
    }
    for (uint64_t i = 0; i < r->n_tensors; i++) {
        const char *role = r->tensors[i].role;
        bool seen = false;
        for (size_t k = 0; k < VKQ__ARRAY_LEN(known_roles) && !seen; k++) seen = !strcmp(role, known_roles[k]);
        for (uint64_t j = 0; j < i && !seen; j++) seen = !strcmp(role, r->tensors[j].role);
        if (seen) continue;
        put(b, "%s", first ? "" : ", ");
        json_str(b, role);
        first = false;
    }
    put(b, "],\n");
}

static void json_tensor(sbuf *b, const vkq_analysis_report *r, const vkq_analysis_tensor *t) {
    put(b, "    {\"name\": ");
    json_str(b, t->name);
    put(b, ", \"layer\": %d, \"role\": ", (int)t->layer);
    json_str(b, t->role);
    put(b, ", \"ne\": [");
    for (uint32_t k = 0; k < t->n_dims; k++) put(b, "%s%llu", k ? ", " : "", (unsigned long long)t->ne[k]);
    put(b, "], \"source_type\": \"%s\",\n     \"formats\": {", vkq_type_name(t->source_type));
    for (uint32_t f = 0; f < r->n_formats; f++) {
        const vkq_analysis_weight_metrics *w = &t->formats[f];
        put(b, "%s\n       ", f ? "," : "");
        json_str(b, r->formats[f].name);
        put(b, ": {\"type\": \"%s\", \"bytes\": %llu", vkq_type_name(w->type), (unsigned long long)w->bytes);
        json_key_num(b, "bpw", w->bpw);
        json_key_num(b, "rmse", w->rmse);
        json_key_num(b, "rel_l2", w->rel_l2);
        json_key_num(b, "sqnr_db", w->sqnr_db);
        json_key_num(b, "max_abs", w->max_abs);
        json_key_num(b, "cosine", w->cosine);
        json_key_num(b, "clipped_fraction", w->clipped_fraction);
        if (w->has_importance) {
            json_key_num(b, "weighted_rel_l2", w->weighted_rel_l2);
            json_key_num(b, "weighted_sqnr_db", w->weighted_sqnr_db);
        }
        put(b, "}");
    }
    put(b, "}}");
}

static void json_layers(sbuf *b, const char *key, const vkq_analysis_layer_metrics *l, uint32_t n) {
    put(b, ",\n     \"%s\": [", key);
    for (uint32_t i = 0; i < n; i++) {
        put(b, "%s{\"layer\": %u", i ? ", " : "", l[i].layer);
        json_key_num(b, "cosine", l[i].cosine);
        json_key_num(b, "sqnr_db", l[i].sqnr_db);
        json_key_num(b, "rel_l2", l[i].rel_l2);
        put(b, "}");
    }
    put(b, "]");
}

static void json_report(sbuf *b, const vkq_analysis_report *r, const char *calibration_path) {
    put(b, "{\n  \"vkq_analysis\": 1,\n  \"model\": {\"path\": ");
    json_str(b, r->model_path);
    put(b, ", \"name\": ");
    json_str(b, r->name);
    put(b, ", \"architecture\": ");
    json_str(b, r->architecture);
    put(b, ", \"n_layer\": %u, \"n_embd\": %u, \"n_params\": %llu, \"source_bytes\": %llu},\n", r->n_layer,
        r->n_embd, (unsigned long long)r->n_params, (unsigned long long)r->source_bytes);
    put(b, "  \"formats\": [");
    for (uint32_t f = 0; f < r->n_formats; f++) {
        put(b, "%s", f ? ", " : "");
        json_str(b, r->formats[f].name);
    }
    put(b, "],\n  \"format_sizes\": [");
    for (uint32_t f = 0; f < r->n_formats; f++) {
        const vkq_analysis_format *af = &r->formats[f];
        put(b, "%s{\"format\": ", f ? ", " : "");
        json_str(b, af->name);
        put(b, ", \"bytes\": %llu", (unsigned long long)af->bytes);
        json_key_num(b, "bpw", af->bpw);
        put(b, ", \"fallbacks\": %u}", af->n_fallbacks);
    }
    put(b, "],\n  \"calibration\": ");
    if (r->n_tokens) {
        put(b, "{\"path\": ");
        json_str(b, calibration_path);
        put(b, ", \"tokens\": %u}", r->n_tokens);
    } else {
        put(b, "null");
    }
    put(b, ",\n  \"seconds\": %.3f, \"threads\": %u,\n", r->seconds, r->threads);
    json_roles(b, r);
    put(b, "  \"tensors\": [\n");
    for (uint64_t i = 0; i < r->n_tensors; i++) {
        json_tensor(b, r, &r->tensors[i]);
        put(b, "%s\n", i + 1 < r->n_tensors ? "," : "");
    }
    put(b, "  ]");
    if (r->n_tokens) {
        put(b, ",\n  \"activations\": [\n");
        for (uint32_t f = 0; f < r->n_formats; f++) {
            const vkq_analysis_format *af = &r->formats[f];
            put(b, "    {\"format\": ");
            json_str(b, af->name);
            put(b, ", \"bytes\": %llu", (unsigned long long)af->bytes);
            json_key_num(b, "bpw", af->bpw);
            json_key_num(b, "kld_mean", af->kld_mean);
            json_key_num(b, "kld_stderr", af->kld_stderr);
            json_key_num(b, "top1", af->top1);
            json_layers(b, "accumulated", af->accumulated, r->n_layer);
            json_layers(b, "isolated", af->isolated, r->n_layer);
            put(b, "}%s\n", f + 1 < r->n_formats ? "," : "");
        }
        put(b, "  ]");
    }
    put(b, "\n}\n");
}

static vkq_status write_out(vkq__diag *d, sbuf *b, const char *path, const char *what) {
    vkq_status st = b->oom ? vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "analyze: %s report: out of memory", what)
                           : vkq__file_write_atomic(d, path, b->data, b->len);
    free(b->data);
    if (st && !b->oom) return vkq__wrap(d, st, "analyze: writing the %s report", what);
    return st;
}

static vkq_status check_args(vkq_context *ctx, const vkq_analysis_report *r, const char *path) {
    if (!ctx) return VKQ_ERR_INVALID_ARGUMENT;
    if (!r || !path) return vkq__fail(vkq__context_diag(ctx), VKQ_ERR_INVALID_ARGUMENT, "analyze: report and path are required");
    if ((r->n_tensors && !r->tensors) || (r->n_formats && !r->formats)) {
        return vkq__fail(vkq__context_diag(ctx), VKQ_ERR_INVALID_ARGUMENT, "analyze: the report is empty or freed");
    }
    /* The arrays the writers index: each tensor's formats, each format's layers. */
    for (uint64_t i = 0; r->n_formats && i < r->n_tensors; i++) {
        if (!r->tensors[i].formats) {
            return vkq__fail(vkq__context_diag(ctx), VKQ_ERR_INVALID_ARGUMENT,
                             "analyze: report tensor %llu has no formats", (unsigned long long)i);
        }
    }
    for (uint32_t f = 0; r->n_tokens && r->n_layer && f < r->n_formats; f++) {
        if (!r->formats[f].accumulated || !r->formats[f].isolated) {
            return vkq__fail(vkq__context_diag(ctx), VKQ_ERR_INVALID_ARGUMENT,
                             "analyze: report format %u has tokens but no layer metrics", f);
        }
    }
    return VKQ_OK;
}

vkq_status vkq_analysis_write_json(vkq_context *ctx, const vkq_analysis_report *r, const char *calibration_path,
                                   const char *path) {
    vkq_status st = check_args(ctx, r, path);
    if (st) return st;
    sbuf b = {0};
    json_report(&b, r, calibration_path);
    return write_out(vkq__context_diag(ctx), &b, path, "JSON");
}

/* ---- CSV ---------------------------------------------------------------------------------- */

static void csv_num(sbuf *b, double v) {
    if (isfinite(v)) put(b, ",%.9g", v);
    else put(b, ",");
}

static void csv_str(sbuf *b, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        put(b, "%s", s);
        return;
    }
    put(b, "\"");
    for (; *s; s++) put(b, *s == '"' ? "\"\"" : "%c", *s);
    put(b, "\"");
}

static void csv_layers(sbuf *b, const char *kind, const vkq_analysis_format *f, const vkq_analysis_layer_metrics *l,
                       uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        put(b, "%s,", kind);
        csv_str(b, f->name);
        put(b, ",,,%u,,,,", l[i].layer);
        put(b, ",");             /* rmse */
        csv_num(b, l[i].rel_l2);
        csv_num(b, l[i].sqnr_db);
        put(b, ",");             /* max_abs */
        csv_num(b, l[i].cosine);
        put(b, ",,,,,,\n");      /* clipped_fraction .. top1 */
    }
}

vkq_status vkq_analysis_write_csv(vkq_context *ctx, const vkq_analysis_report *r, const char *path) {
    vkq_status st = check_args(ctx, r, path);
    if (st) return st;
    sbuf b = {0};
    put(&b, "kind,format,tensor,role,layer,type,elements,bytes,bpw,rmse,rel_l2,sqnr_db,max_abs,cosine,"
            "clipped_fraction,weighted_rel_l2,weighted_sqnr_db,kld_mean,kld_stderr,top1\n");
    for (uint32_t f = 0; f < r->n_formats; f++) {
        const vkq_analysis_format *af = &r->formats[f];
        put(&b, "model,");
        csv_str(&b, af->name);
        put(&b, ",,,,,,%llu", (unsigned long long)af->bytes);
        csv_num(&b, af->bpw);
        put(&b, ",,,,,,,,");
        if (r->n_tokens) {
            csv_num(&b, af->kld_mean);
            csv_num(&b, af->kld_stderr);
            csv_num(&b, af->top1);
        } else {
            put(&b, ",,,");
        }
        put(&b, "\n");
    }
    for (uint64_t i = 0; i < r->n_tensors; i++) {
        const vkq_analysis_tensor *t = &r->tensors[i];
        for (uint32_t f = 0; f < r->n_formats; f++) {
            const vkq_analysis_weight_metrics *w = &t->formats[f];
            put(&b, "weight,");
            csv_str(&b, r->formats[f].name);
            put(&b, ",");
            csv_str(&b, t->name);
            put(&b, ",");
            csv_str(&b, t->role);
            put(&b, ",%d,%s,%llu,%llu", (int)t->layer, vkq_type_name(w->type), (unsigned long long)t->elements,
                (unsigned long long)w->bytes);
            csv_num(&b, w->bpw);
            csv_num(&b, w->rmse);
            csv_num(&b, w->rel_l2);
            csv_num(&b, w->sqnr_db);
            csv_num(&b, w->max_abs);
            csv_num(&b, w->cosine);
            csv_num(&b, w->clipped_fraction);
            if (w->has_importance) {
                csv_num(&b, w->weighted_rel_l2);
                csv_num(&b, w->weighted_sqnr_db);
            } else {
                put(&b, ",,");
            }
            put(&b, ",,,\n");
        }
    }
    for (uint32_t f = 0; r->n_tokens && f < r->n_formats; f++) {
        csv_layers(&b, "accumulated", &r->formats[f], r->formats[f].accumulated, r->n_layer);
        csv_layers(&b, "isolated", &r->formats[f], r->formats[f].isolated, r->n_layer);
    }
    return write_out(vkq__context_diag(ctx), &b, path, "CSV");
}

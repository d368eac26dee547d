/* The analysis report written by `vkq analyze` (JSON, version 1; the schema is in
 * docs/ANALYSIS.md), loaded into plain arrays. Missing numbers are NAN; JSON null (a non-finite
 * value such as the SQNR of an exact tensor) is +INFINITY for the SQNR fields and NAN elsewhere.
 * Unknown keys are ignored; anything of the wrong type is an error with the JSON path in it. */
#ifndef VIZ_REPORT_H
#define VIZ_REPORT_H

#include <stddef.h>
#include <stdint.h>

enum { VIZ_NAME_MAX = 96 };

typedef enum viz_metric {
    VIZ_METRIC_SQNR = 0,     /* sqnr_db: higher is better */
    VIZ_METRIC_REL_L2 = 1,   /* rel_l2: lower is better */
    VIZ_METRIC_WEIGHTED = 2, /* weighted_rel_l2 (importance-weighted): lower is better */
    VIZ_METRIC_COUNT
} viz_metric;

typedef struct viz_tensor_format {
    int present;             /* the tensor has an entry for this format */
    char type[32];
    double bytes, bpw;
    double rmse, rel_l2, sqnr_db, max_abs, cosine, clipped_fraction;
    double weighted_rel_l2, weighted_sqnr_db;
} viz_tensor_format;

typedef struct viz_tensor {
    char name[VIZ_NAME_MAX];
    int layer;               /* -1 for token_embd / output */
    int role;                /* index into report->roles, -1 if not listed */
    uint64_t ne[4];
    int n_dims;
    char source_type[32];
    viz_tensor_format *formats; /* n_formats entries, in report->formats order */
} viz_tensor;

typedef struct viz_depth_point {
    int layer;
    double cosine, sqnr_db, rel_l2;
} viz_depth_point;

typedef struct viz_activation {
    int format;              /* index into report->formats, -1 if not listed there */
    char format_name[32];
    double bytes, bpw, kld_mean, kld_stderr, top1;
    viz_depth_point *accumulated;
    int n_accumulated;
    viz_depth_point *isolated;
    int n_isolated;
} viz_activation;

typedef struct viz_report {
    char model_name[VIZ_NAME_MAX];
    char model_path[256];
    char architecture[32];
    int n_layer;
    double n_params;
    char (*formats)[32];
    int n_formats;
    char (*roles)[32];
    int n_roles;
    viz_tensor *tensors;
    int n_tensors;
    viz_activation *activations; /* NULL/0 without calibration */
    int n_activations;
    int has_weighted;        /* some tensor carries weighted_rel_l2 */
    char calibration[256];   /* "" when none */
} viz_report;

/* Parses `text` (len bytes). On failure returns NULL and writes a message into err. */
viz_report *viz_report_parse(const char *text, size_t len, char *err, size_t err_size);
/* Reads and parses a file; messages name the file. */
viz_report *viz_report_load(const char *path, char *err, size_t err_size);
void viz_report_free(viz_report *r); /* NULL: no-op */

/* Index of a format / tensor by name, or -1. */
int viz_report_format_index(const viz_report *r, const char *name);
int viz_report_tensor_index(const viz_report *r, const char *name);

/* The metric's value of tensor t in format f (NAN when not available). */
double viz_metric_value(const viz_report *r, int t, int f, viz_metric m);
/* Short name ("sqnr"), axis label with its unit ("SQNR (dB)"), and whether larger is better. */
const char *viz_metric_name(viz_metric m);
const char *viz_metric_label(viz_metric m);
int viz_metric_higher_is_better(viz_metric m);
/* "sqnr" | "rel_l2" | "weighted" -> metric; -1 if unknown. */
int viz_metric_from_name(const char *name);
/* Formats a metric value for display ("21.80 dB", "0.0812", "inf dB", "n/a"). */
void viz_metric_format(viz_metric m, double v, char *buf, size_t size);

#endif

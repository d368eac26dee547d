/* vkq inspect MODEL.gguf [--json]: a GGUF file's metadata and tensor table, with totals and bits
 * per weight. Uses only the public API; opens no Vulkan device. */
#include "cli.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_ARRAY_HEAD 5    /* elements shown of a longer array in text */
#define TEXT_ARRAY_MAX 8     /* arrays up to this length are shown whole in text */
#define TEXT_STRING_MAX 100  /* bytes of a string shown in text */
#define JSON_ARRAY_MAX 64    /* arrays up to this length are written whole in JSON */
#define JSON_ARRAY_HEAD 16   /* elements written of a longer array in JSON */

static void usage(FILE *f) {
    fprintf(f,
            "usage: vkq inspect MODEL.gguf [--json]\n\n"
            "Prints a GGUF file's metadata (every key, its type and value) and its tensor table\n"
            "(name, shape with the row length first, type, bytes, offset), then totals and the\n"
            "average bits per weight. The file is validated as vkq loads it: a malformed file\n"
            "is reported with the field and byte offset at fault.\n\n"
            "  --json      one JSON object instead of text; arrays longer than %d elements are\n"
            "              cut to their first %d, with \"length\" and \"abbreviated\": true\n"
            "  -h, --help  this text\n\n"
            "In text, arrays longer than %d elements show their first %d and the length, and\n"
            "strings longer than %d bytes are cut.\n",
            JSON_ARRAY_MAX, JSON_ARRAY_HEAD, TEXT_ARRAY_MAX, TEXT_ARRAY_HEAD, TEXT_STRING_MAX);
}

/* ---- strings ------------------------------------------------------------------------------ */

/* Length of the UTF-8 sequence starting at s (max bytes available), or 0 if it is invalid. */
static size_t utf8_len(const unsigned char *s, size_t max) {
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
                                 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || n > max || (n == 2 && s[0] < 0xC2)) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
    }
    return n;
}

/* A string as JSON: escapes, and invalid UTF-8 bytes as \u00XX so the output stays valid. */
static void json_string(FILE *f, const char *str, uint64_t len) {
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    for (uint64_t i = 0; i < len;) {
        unsigned char c = s[i];
        size_t n = utf8_len(s + i, (size_t)(len - i));
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c < 0x20 || c == 0x7F || n == 0) fprintf(f, "\\u%04x", c);
        else fwrite(s + i, 1, n, f);
        i += n ? n : 1;
    }
    fputc('"', f);
}

/* A string for a terminal: quoted, control bytes escaped, cut after `max` bytes (on a
 * character boundary) with the full length noted. */
static void text_string(FILE *f, const char *str, uint64_t len, uint64_t max) {
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    uint64_t i = 0;
    while (i < len && i < max) {
        unsigned char c = s[i];
        size_t n = utf8_len(s + i, (size_t)(len - i));
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20 || c == 0x7F || n == 0) fprintf(f, "\\x%02x", c);
        else fwrite(s + i, 1, n, f);
        i += n ? n : 1;
    }
    fputc('"', f);
    if (i < len) fprintf(f, "... (%" PRIu64 " bytes)", len);
}

/* ---- values ------------------------------------------------------------------------------- */

static bool is_signed(vkq_gguf_value_type t) {
    return t == VKQ_GGUF_TYPE_I8 || t == VKQ_GGUF_TYPE_I16 || t == VKQ_GGUF_TYPE_I32 ||
           t == VKQ_GGUF_TYPE_I64;
}
static bool is_float(vkq_gguf_value_type t) {
    return t == VKQ_GGUF_TYPE_F32 || t == VKQ_GGUF_TYPE_F64;
}

static void print_float(FILE *f, double v, bool json, bool is_f32) {
    if (!isfinite(v)) fputs(json ? "null" : (isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"), f);
    else if (json) fprintf(f, is_f32 ? "%.9g" : "%.17g", v);
    else fprintf(f, "%g", v);
}

/* Element `i` of an array (or the scalar, when `array` is false) of type t. Returns false when
 * the library refuses, which cannot happen for a file that opened. */
static bool print_value(FILE *f, const vkq_gguf *g, const char *key, vkq_gguf_value_type t,
                        bool array, uint64_t i, bool json) {
    vkq_status st;
    if (t == VKQ_GGUF_TYPE_STRING) {
        const char *s = NULL;
        uint64_t len = 0;
        st = array ? vkq_gguf_get_array_string(g, key, i, &s, &len)
                   : vkq_gguf_get_string(g, key, &s, &len);
        if (st == VKQ_OK) {
            if (json) json_string(f, s, len);
            else text_string(f, s, len, array ? 40 : TEXT_STRING_MAX);
        }
    } else if (t == VKQ_GGUF_TYPE_BOOL) {
        int b = 0;
        st = array ? vkq_gguf_get_array_bool(g, key, i, 1, &b) : vkq_gguf_get_bool(g, key, &b);
        if (st == VKQ_OK) fputs(b ? "true" : "false", f);
    } else if (is_float(t)) {
        double v = 0;
        st = array ? vkq_gguf_get_array_f64(g, key, i, 1, &v) : vkq_gguf_get_f64(g, key, &v);
        if (st == VKQ_OK) print_float(f, v, json, t == VKQ_GGUF_TYPE_F32);
    } else if (is_signed(t)) {
        int64_t v = 0;
        st = array ? vkq_gguf_get_array_i64(g, key, i, 1, &v) : vkq_gguf_get_i64(g, key, &v);
        if (st == VKQ_OK) fprintf(f, "%" PRId64, v);
    } else {
        uint64_t v = 0;
        st = array ? vkq_gguf_get_array_u64(g, key, i, 1, &v) : vkq_gguf_get_u64(g, key, &v);
        if (st == VKQ_OK) fprintf(f, "%" PRIu64, v);
    }
    return st == VKQ_OK;
}

/* ---- text --------------------------------------------------------------------------------- */

static bool text_metadata(FILE *f, const vkq_gguf *g) {
    uint64_t n = vkq_gguf_key_count(g);
    fprintf(f, "\nmetadata (%" PRIu64 " keys):\n", n);
    for (uint64_t k = 0; k < n; k++) {
        const char *key = vkq_gguf_key_name(g, k);
        vkq_gguf_value_type t = vkq_gguf_key_type(g, k);
        if (t != VKQ_GGUF_TYPE_ARRAY) {
            fprintf(f, "  %-40s %-14s ", key, vkq_gguf_value_type_name(t));
            if (!print_value(f, g, key, t, false, 0, false)) return false;
            fputc('\n', f);
            continue;
        }
        vkq_gguf_value_type et = VKQ_GGUF_TYPE_NONE;
        uint64_t len = 0;
        if (vkq_gguf_get_array_info(g, key, &et, &len) != VKQ_OK) return false;
        char type[32];
        snprintf(type, sizeof type, "%s[%" PRIu64 "]", vkq_gguf_value_type_name(et), len);
        fprintf(f, "  %-40s %-14s [", key, type);
        uint64_t shown = len <= TEXT_ARRAY_MAX ? len : TEXT_ARRAY_HEAD;
        for (uint64_t i = 0; i < shown; i++) {
            if (i) fputs(", ", f);
            if (!print_value(f, g, key, et, true, i, false)) return false;
        }
        if (shown < len) fprintf(f, ", ... %" PRIu64 " more", len - shown);
        fputs("]\n", f);
    }
    return true;
}

static void shape_string(const vkq_gguf_tensor_info *t, char *buf, size_t size) {
    size_t o = 0;
    buf[0] = 0;
    for (uint32_t d = 0; d < t->n_dims && o < size; d++) {
        int w = snprintf(buf + o, size - o, d ? " x %" PRIu64 : "%" PRIu64, t->ne[d]);
        if (w < 0) break;
        o += (size_t)w;
    }
}

typedef struct totals {
    uint64_t tensors, elements, bytes;
    uint64_t count[VKQ_TYPE_COUNT], type_bytes[VKQ_TYPE_COUNT], type_elements[VKQ_TYPE_COUNT];
} totals;

static void add_totals(totals *s, const vkq_gguf_tensor_info *t) {
    s->tensors++;
    s->elements += t->elements;
    s->bytes += t->bytes;
    if ((unsigned)t->type < VKQ_TYPE_COUNT) {
        s->count[t->type]++;
        s->type_bytes[t->type] += t->bytes;
        s->type_elements[t->type] += t->elements;
    }
}

static double bits_per_weight(uint64_t bytes, uint64_t elements) {
    return elements ? 8.0 * (double)bytes / (double)elements : 0.0;
}

static bool text_tensors(FILE *f, const vkq_gguf *g, totals *s) {
    uint64_t n = vkq_gguf_tensor_count(g);
    fprintf(f, "\ntensors (%" PRIu64 "):\n", n);
    fprintf(f, "  %5s  %-34s %-22s %-7s %12s %12s\n", "#", "name", "shape", "type", "bytes",
            "offset");
    for (uint64_t i = 0; i < n; i++) {
        vkq_gguf_tensor_info t;
        if (vkq_gguf_tensor(g, i, &t) != VKQ_OK) return false;
        char shape[96];
        shape_string(&t, shape, sizeof shape);
        fprintf(f, "  %5" PRIu64 "  %-34s %-22s %-7s %12" PRIu64 " %12" PRIu64 "\n", i, t.name,
                shape, vkq_type_name(t.type), t.bytes, t.file_offset);
        add_totals(s, &t);
    }
    fprintf(f, "\ntotal: %" PRIu64 " tensors, %" PRIu64 " weights, %" PRIu64
               " bytes (%.1f MiB), %.3f bits per weight\n",
            s->tensors, s->elements, s->bytes, (double)s->bytes / 1048576.0,
            bits_per_weight(s->bytes, s->elements));
    for (int t = 1; t < VKQ_TYPE_COUNT; t++) {
        if (!s->count[t]) continue;
        fprintf(f, "  %-7s %5" PRIu64 " tensors %12" PRIu64 " weights %10.1f MiB  %.3f bits "
                   "per weight\n",
                vkq_type_name((vkq_type)t), s->count[t], s->type_elements[t],
                (double)s->type_bytes[t] / 1048576.0,
                bits_per_weight(s->type_bytes[t], s->type_elements[t]));
    }
    return true;
}

/* ---- JSON --------------------------------------------------------------------------------- */

static bool json_metadata(FILE *f, const vkq_gguf *g) {
    uint64_t n = vkq_gguf_key_count(g);
    fputs("  \"metadata\": [", f);
    for (uint64_t k = 0; k < n; k++) {
        const char *key = vkq_gguf_key_name(g, k);
        vkq_gguf_value_type t = vkq_gguf_key_type(g, k);
        fputs(k ? ",\n    {\"key\": " : "\n    {\"key\": ", f);
        json_string(f, key, strlen(key));
        fprintf(f, ", \"type\": \"%s\", ", vkq_gguf_value_type_name(t));
        if (t != VKQ_GGUF_TYPE_ARRAY) {
            fputs("\"value\": ", f);
            if (!print_value(f, g, key, t, false, 0, true)) return false;
            fputc('}', f);
            continue;
        }
        vkq_gguf_value_type et = VKQ_GGUF_TYPE_NONE;
        uint64_t len = 0;
        if (vkq_gguf_get_array_info(g, key, &et, &len) != VKQ_OK) return false;
        uint64_t shown = len <= JSON_ARRAY_MAX ? len : JSON_ARRAY_HEAD;
        fprintf(f, "\"element_type\": \"%s\", \"length\": %" PRIu64 ", \"value\": [",
                vkq_gguf_value_type_name(et), len);
        for (uint64_t i = 0; i < shown; i++) {
            if (i) fputs(", ", f);
            if (!print_value(f, g, key, et, true, i, true)) return false;
        }
        fputc(']', f);
        if (shown < len) {
            fprintf(f, ", \"abbreviated\": true, \"note\": \"first %" PRIu64 " of %" PRIu64
                       " elements\"",
                    shown, len);
        }
        fputc('}', f);
    }
    fputs(n ? "\n  ],\n" : "],\n", f);
    return true;
}

static bool json_tensors(FILE *f, const vkq_gguf *g, totals *s) {
    uint64_t n = vkq_gguf_tensor_count(g);
    fputs("  \"tensors\": [", f);
    for (uint64_t i = 0; i < n; i++) {
        vkq_gguf_tensor_info t;
        if (vkq_gguf_tensor(g, i, &t) != VKQ_OK) return false;
        fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        json_string(f, t.name, strlen(t.name));
        fputs(", \"shape\": [", f);
        for (uint32_t d = 0; d < t.n_dims; d++) fprintf(f, d ? ", %" PRIu64 : "%" PRIu64, t.ne[d]);
        fprintf(f, "], \"type\": \"%s\", \"elements\": %" PRIu64 ", \"bytes\": %" PRIu64
                   ", \"offset\": %" PRIu64 "}",
                vkq_type_name(t.type), t.elements, t.bytes, t.file_offset);
        add_totals(s, &t);
    }
    fputs(n ? "\n  ],\n" : "],\n", f);
    fprintf(f, "  \"totals\": {\"tensors\": %" PRIu64 ", \"weights\": %" PRIu64
               ", \"bytes\": %" PRIu64 ", \"bits_per_weight\": %.6g, \"by_type\": {",
            s->tensors, s->elements, s->bytes, bits_per_weight(s->bytes, s->elements));
    bool first = true;
    for (int t = 1; t < VKQ_TYPE_COUNT; t++) {
        if (!s->count[t]) continue;
        fprintf(f, "%s\"%s\": {\"tensors\": %" PRIu64 ", \"weights\": %" PRIu64
                   ", \"bytes\": %" PRIu64 ", \"bits_per_weight\": %.6g}",
                first ? "" : ", ", vkq_type_name((vkq_type)t), s->count[t], s->type_elements[t],
                s->type_bytes[t], bits_per_weight(s->type_bytes[t], s->type_elements[t]));
        first = false;
    }
    fputs("}}\n", f);
    return true;
}

/* ---- command ------------------------------------------------------------------------------ */

static bool inspect(FILE *f, const char *path, const vkq_gguf *g, bool json) {
    totals s;
    memset(&s, 0, sizeof s);
    if (json) {
        fputs("{\n  \"file\": ", f);
        json_string(f, path, strlen(path));
        fprintf(f, ",\n  \"version\": %u,\n  \"alignment\": %u,\n  \"file_size\": %" PRIu64
                   ",\n  \"data_offset\": %" PRIu64 ",\n",
                vkq_gguf_version(g), vkq_gguf_alignment(g), vkq_gguf_file_size(g),
                vkq_gguf_data_offset(g));
        bool ok = json_metadata(f, g) && json_tensors(f, g, &s);
        fputs("}\n", f);
        return ok;
    }
    fprintf(f, "%s: GGUF v%u, %" PRIu64 " bytes, alignment %u, tensor data at byte %" PRIu64
               "\n",
            path, vkq_gguf_version(g), vkq_gguf_file_size(g), vkq_gguf_alignment(g),
            vkq_gguf_data_offset(g));
    return text_metadata(f, g) && text_tensors(f, g, &s);
}

int cmd_inspect(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("inspect", "unknown option '%s'", argv[i]);
        } else if (path) {
            return cli_usage_error("inspect", "one file at a time ('%s' and '%s')", path,
                                   argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path) return cli_usage_error("inspect", "missing MODEL.gguf");
    vkq_context *ctx = cli_context(VKQ_DEVICE_MODE_NONE, NULL, false);
    if (!ctx) return 1;
    vkq_gguf *g = NULL;
    vkq_status st = vkq_gguf_open(ctx, path, &g);
    if (st != VKQ_OK) {
        int rc = cli_fail("inspect", ctx, st, "opening the file");
        vkq_context_destroy(ctx);
        return rc;
    }
    bool ok = inspect(stdout, path, g, json);
    if (!ok) cli_fail("inspect", ctx, VKQ_ERR_STATE, "reading a value");
    vkq_gguf_close(g);
    vkq_context_destroy(ctx);
    if (fflush(stdout) != 0) return 1;
    return ok ? 0 : 1;
}

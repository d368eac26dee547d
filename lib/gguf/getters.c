/* The public vkq_gguf_* functions: open/close, metadata getters with their conversion rules,
 * tensor infos. Getters write to the context's message only when they fail (see vkq.h,
 * Threading), so successful reads from several threads never touch shared state. */
#include "gguf/gguf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef unsigned long long ull; /* for printf */

vkq_status vkq_gguf_open(vkq_context *ctx, const char *path, vkq_gguf **out) {
    if (out) *out = NULL;
    vkq__diag *d = vkq__context_diag(ctx);
    if (!ctx || !path || !out) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "vkq_gguf_open: ctx, path and out must "
                                                      "not be NULL");
    }
    return vkq__gguf_open_file(d, path, out);
}

vkq_status vkq_gguf_open_memory(vkq_context *ctx, const void *data, size_t size,
                                vkq_gguf **out) {
    if (out) *out = NULL;
    vkq__diag *d = vkq__context_diag(ctx);
    if (!ctx || (!data && size) || !out) {
        return vkq__fail(d, VKQ_ERR_INVALID_ARGUMENT, "vkq_gguf_open_memory: ctx and out must "
                                                      "not be NULL, nor data when size > 0");
    }
    return vkq__gguf_open_memory(d, data, size, "gguf (memory)", out);
}

void vkq_gguf_close(vkq_gguf *gguf) { vkq__gguf_free(gguf); }

uint32_t vkq_gguf_version(const vkq_gguf *g) { return g ? g->version : 0; }
uint32_t vkq_gguf_alignment(const vkq_gguf *g) { return g ? g->alignment : 0; }
uint64_t vkq_gguf_data_offset(const vkq_gguf *g) { return g ? g->data_offset : 0; }
uint64_t vkq_gguf_file_size(const vkq_gguf *g) { return g ? g->size : 0; }
uint64_t vkq_gguf_key_count(const vkq_gguf *g) { return g ? g->n_kv : 0; }

const char *vkq_gguf_key_name(const vkq_gguf *g, uint64_t index) {
    return g && index < g->n_kv ? g->kv[index].key.data : NULL;
}

vkq_gguf_value_type vkq_gguf_key_type(const vkq_gguf *g, uint64_t index) {
    return g && index < g->n_kv ? vkq__gguf_type_from_id(g->kv[index].type) : VKQ_GGUF_TYPE_NONE;
}

int64_t vkq_gguf_find_key(const vkq_gguf *g, const char *key) {
    return g && key ? vkq__gguf_lookup(g->kv_by_name, g->n_kv, key) : -1;
}

/* ---- conversions ----------------------------------------------------------------------------- */

typedef enum want {
    WANT_U32,
    WANT_I32,
    WANT_U64,
    WANT_I64,
    WANT_F32,
    WANT_F64,
    WANT_BOOL,
} want;

static const char *const want_names[] = {"u32", "i32", "u64", "i64", "f32", "f64", "bool"};

static bool is_unsigned(uint32_t id) {
    return id == VKQ__GGUF_U8 || id == VKQ__GGUF_U16 || id == VKQ__GGUF_U32 ||
           id == VKQ__GGUF_U64;
}
static bool is_signed(uint32_t id) {
    return id == VKQ__GGUF_I8 || id == VKQ__GGUF_I16 || id == VKQ__GGUF_I32 ||
           id == VKQ__GGUF_I64;
}
static bool is_float(uint32_t id) { return id == VKQ__GGUF_F32 || id == VKQ__GGUF_F64; }

/* Integers go through the widest types with range checks so that the rule "any integer type
 * whose value fits" holds for every pair of types. */
static bool to_i64(uint32_t id, vkq__gguf_scalar v, int64_t *out) {
    if (is_signed(id)) return (*out = v.i), true;
    if (is_unsigned(id) && v.u <= (uint64_t)INT64_MAX) return (*out = (int64_t)v.u), true;
    return false;
}
static bool to_u64(uint32_t id, vkq__gguf_scalar v, uint64_t *out) {
    if (is_unsigned(id)) return (*out = v.u), true;
    if (is_signed(id) && v.i >= 0) return (*out = (uint64_t)v.i), true;
    return false;
}

/* Stores value v (of file type id) into out[0] as `w`; false when it does not convert. */
static bool convert(uint32_t id, vkq__gguf_scalar v, want w, void *out) {
    int64_t i;
    uint64_t u;
    switch (w) {
    case WANT_U32:
        if (!to_u64(id, v, &u) || u > UINT32_MAX) return false;
        *(uint32_t *)out = (uint32_t)u;
        return true;
    case WANT_I32:
        if (!to_i64(id, v, &i) || i < INT32_MIN || i > INT32_MAX) return false;
        *(int32_t *)out = (int32_t)i;
        return true;
    case WANT_U64: return to_u64(id, v, (uint64_t *)out);
    case WANT_I64: return to_i64(id, v, (int64_t *)out);
    case WANT_F32:
        if (!is_float(id)) return false;
        *(float *)out = (float)v.f;
        return true;
    case WANT_F64:
        if (!is_float(id)) return false;
        *(double *)out = v.f;
        return true;
    case WANT_BOOL:
        if (id != VKQ__GGUF_BOOL) return false;
        *(int *)out = v.u != 0;
        return true;
    }
    return false;
}

static void format_value(uint32_t id, vkq__gguf_scalar v, char *buf, size_t size) {
    if (is_signed(id)) snprintf(buf, size, "%lld", (long long)v.i);
    else if (is_float(id)) snprintf(buf, size, "%g", v.f);
    else snprintf(buf, size, "%llu", (ull)v.u);
}

static vkq_status conversion_failed(const vkq_gguf *g, const char *key, const char *element,
                                    uint32_t id, vkq__gguf_scalar v, want w) {
    char tbuf[24], vbuf[48];
    const char *tname = vkq__gguf_type_id_name(id, tbuf, sizeof tbuf);
    bool same_kind = (w <= WANT_I64 && (is_signed(id) || is_unsigned(id))) ||
                     ((w == WANT_F32 || w == WANT_F64) && is_float(id));
    if (same_kind) {
        format_value(id, v, vbuf, sizeof vbuf);
        return vkq__fail(g->diag, VKQ_ERR_WRONG_TYPE, "gguf key '%s'%s is %s %s, which does not "
                                                      "fit %s",
                         key, element, tname, vbuf, want_names[w]);
    }
    return vkq__fail(g->diag, VKQ_ERR_WRONG_TYPE, "gguf key '%s'%s is %s, not %s", key, element,
                     tname, want_names[w]);
}

/* The entry for `key`, or NULL with the error recorded. */
static const vkq__gguf_kv *lookup(const vkq_gguf *g, const char *key, const void *out,
                                  const char *fn, vkq_status *st) {
    if (!g) {
        *st = VKQ_ERR_INVALID_ARGUMENT;
        return NULL;
    }
    if (!key || !out) {
        *st = vkq__fail(g->diag, VKQ_ERR_INVALID_ARGUMENT, "%s: key and out must not be NULL",
                        fn);
        return NULL;
    }
    int64_t i = vkq__gguf_lookup(g->kv_by_name, g->n_kv, key);
    if (i < 0) {
        *st = vkq__fail(g->diag, VKQ_ERR_NOT_FOUND, "gguf key '%s' not found (%s)", key, fn);
        return NULL;
    }
    *st = VKQ_OK;
    return &g->kv[i];
}

static vkq_status get_scalar(const vkq_gguf *g, const char *key, want w, void *out,
                             const char *fn) {
    vkq_status st;
    const vkq__gguf_kv *kv = lookup(g, key, out, fn, &st);
    if (!kv) return st;
    if (!convert(kv->type, kv->v, w, out)) return conversion_failed(g, key, "", kv->type, kv->v, w);
    return VKQ_OK;
}

vkq_status vkq_gguf_get_u32(const vkq_gguf *g, const char *key, uint32_t *out) {
    return get_scalar(g, key, WANT_U32, out, "vkq_gguf_get_u32");
}
vkq_status vkq_gguf_get_i32(const vkq_gguf *g, const char *key, int32_t *out) {
    return get_scalar(g, key, WANT_I32, out, "vkq_gguf_get_i32");
}
vkq_status vkq_gguf_get_u64(const vkq_gguf *g, const char *key, uint64_t *out) {
    return get_scalar(g, key, WANT_U64, out, "vkq_gguf_get_u64");
}
vkq_status vkq_gguf_get_i64(const vkq_gguf *g, const char *key, int64_t *out) {
    return get_scalar(g, key, WANT_I64, out, "vkq_gguf_get_i64");
}
vkq_status vkq_gguf_get_f32(const vkq_gguf *g, const char *key, float *out) {
    return get_scalar(g, key, WANT_F32, out, "vkq_gguf_get_f32");
}
vkq_status vkq_gguf_get_f64(const vkq_gguf *g, const char *key, double *out) {
    return get_scalar(g, key, WANT_F64, out, "vkq_gguf_get_f64");
}
vkq_status vkq_gguf_get_bool(const vkq_gguf *g, const char *key, int *out) {
    return get_scalar(g, key, WANT_BOOL, out, "vkq_gguf_get_bool");
}

static vkq_status wrong_kind(const vkq_gguf *g, const char *key, const vkq__gguf_kv *kv,
                             const char *expected) {
    char tbuf[24], ebuf[24];
    const char *tname = vkq__gguf_type_id_name(kv->type, tbuf, sizeof tbuf);
    if (kv->type == VKQ__GGUF_ARRAY) {
        return vkq__fail(g->diag, VKQ_ERR_WRONG_TYPE, "gguf key '%s' is an array of %s, not %s",
                         key, vkq__gguf_type_id_name(kv->arr_type, ebuf, sizeof ebuf), expected);
    }
    return vkq__fail(g->diag, VKQ_ERR_WRONG_TYPE, "gguf key '%s' is %s, not %s", key, tname,
                     expected);
}

vkq_status vkq_gguf_get_string(const vkq_gguf *g, const char *key, const char **out,
                               uint64_t *len) {
    vkq_status st;
    const vkq__gguf_kv *kv = lookup(g, key, out, "vkq_gguf_get_string", &st);
    if (!kv) return st;
    if (kv->type != VKQ__GGUF_STRING) return wrong_kind(g, key, kv, "string");
    *out = kv->str.data;
    if (len) *len = kv->str.len;
    return VKQ_OK;
}

/* ---- arrays ---------------------------------------------------------------------------------- */

vkq_status vkq_gguf_get_array_info(const vkq_gguf *g, const char *key,
                                   vkq_gguf_value_type *elem_type, uint64_t *count) {
    vkq_status st;
    const vkq__gguf_kv *kv = lookup(g, key, "", "vkq_gguf_get_array_info", &st);
    if (!kv) return st;
    if (kv->type != VKQ__GGUF_ARRAY) return wrong_kind(g, key, kv, "an array");
    if (elem_type) *elem_type = vkq__gguf_type_from_id(kv->arr_type);
    if (count) *count = kv->arr_count;
    return VKQ_OK;
}

/* The array entry for `key` with [first, first + count) inside it, or NULL with the error. */
static const vkq__gguf_kv *array_range(const vkq_gguf *g, const char *key, uint64_t first,
                                       uint64_t count, const void *out, const char *fn,
                                       vkq_status *st) {
    const vkq__gguf_kv *kv = lookup(g, key, count ? out : "", fn, st);
    if (!kv) return NULL;
    if (kv->type != VKQ__GGUF_ARRAY) {
        *st = wrong_kind(g, key, kv, "an array");
        return NULL;
    }
    if (first > kv->arr_count || count > kv->arr_count - first) {
        *st = vkq__fail(g->diag, VKQ_ERR_INVALID_ARGUMENT, "%s: elements [%llu, %llu + %llu) of "
                                                           "gguf key '%s' are past its %llu "
                                                           "elements",
                        fn, (ull)first, (ull)first, (ull)count, key, (ull)kv->arr_count);
        return NULL;
    }
    return kv;
}

static vkq_status get_array(const vkq_gguf *g, const char *key, uint64_t first, uint64_t count,
                            want w, void *out, size_t out_size, const char *fn) {
    vkq_status st;
    const vkq__gguf_kv *kv = array_range(g, key, first, count, out, fn, &st);
    if (!kv) return st;
    uint32_t size = vkq__gguf_type_size(kv->arr_type);
    if (size == 0) { /* strings */
        char tbuf[24];
        return vkq__fail(g->diag, VKQ_ERR_WRONG_TYPE, "gguf key '%s' is an array of %s, not of "
                                                      "%s",
                         key, vkq__gguf_type_id_name(kv->arr_type, tbuf, sizeof tbuf),
                         want_names[w]);
    }
    for (uint64_t i = 0; i < count; i++) {
        vkq__gguf_scalar v = vkq__gguf_decode(kv->arr_type, kv->arr_data + (first + i) * size);
        if (!convert(kv->arr_type, v, w, (char *)out + i * out_size)) {
            char element[48];
            snprintf(element, sizeof element, " element %llu", (ull)(first + i));
            return conversion_failed(g, key, element, kv->arr_type, v, w);
        }
    }
    return VKQ_OK;
}

vkq_status vkq_gguf_get_array_u32(const vkq_gguf *g, const char *key, uint64_t first,
                                  uint64_t count, uint32_t *out) {
    return get_array(g, key, first, count, WANT_U32, out, sizeof *out, "vkq_gguf_get_array_u32");
}
vkq_status vkq_gguf_get_array_i32(const vkq_gguf *g, const char *key, uint64_t first,
                                  uint64_t count, int32_t *out) {
    return get_array(g, key, first, count, WANT_I32, out, sizeof *out, "vkq_gguf_get_array_i32");
}
vkq_status vkq_gguf_get_array_u64(const vkq_gguf *g, const char *key, uint64_t first,
                                  uint64_t count, uint64_t *out) {
    return get_array(g, key, first, count, WANT_U64, out, sizeof *out, "vkq_gguf_get_array_u64");
}
vkq_status vkq_gguf_get_array_i64(const vkq_gguf *g, const char *key, uint64_t first,
                                  uint64_t count, int64_t *out) {
    return get_array(g, key, first, count, WANT_I64, out, sizeof *out, "vkq_gguf_get_array_i64");
}
vkq_status vkq_gguf_get_array_f32(const vkq_gguf *g, const char *key, uint64_t first,
                                  uint64_t count, float *out) {
    return get_array(g, key, first, count, WANT_F32, out, sizeof *out, "vkq_gguf_get_array_f32");
}
vkq_status vkq_gguf_get_array_f64(const vkq_gguf *g, const char *key, uint64_t first,
                                  uint64_t count, double *out) {
    return get_array(g, key, first, count, WANT_F64, out, sizeof *out, "vkq_gguf_get_array_f64");
}
vkq_status vkq_gguf_get_array_bool(const vkq_gguf *g, const char *key, uint64_t first,
                                   uint64_t count, int *out) {
    return get_array(g, key, first, count, WANT_BOOL, out, sizeof *out,
                     "vkq_gguf_get_array_bool");
}

vkq_status vkq_gguf_get_array_string(const vkq_gguf *g, const char *key, uint64_t index,
                                     const char **out, uint64_t *len) {
    vkq_status st;
    const char *fn = "vkq_gguf_get_array_string";
    const vkq__gguf_kv *kv = array_range(g, key, index, 1, out, fn, &st);
    if (!kv) return st;
    if (kv->arr_type != VKQ__GGUF_STRING) {
        char tbuf[24];
        return vkq__fail(g->diag, VKQ_ERR_WRONG_TYPE, "gguf key '%s' is an array of %s, not of "
                                                      "string",
                         key, vkq__gguf_type_id_name(kv->arr_type, tbuf, sizeof tbuf));
    }
    *out = kv->arr_strs[index].data;
    if (len) *len = kv->arr_strs[index].len;
    return VKQ_OK;
}

/* ---- tensors --------------------------------------------------------------------------------- */

uint64_t vkq_gguf_tensor_count(const vkq_gguf *g) { return g ? g->n_tensors : 0; }

static void fill_info(const vkq_gguf *g, const vkq__gguf_tensor *t, vkq_gguf_tensor_info *out) {
    memset(out, 0, sizeof *out);
    out->name = t->name.data;
    out->n_dims = t->n_dims;
    memcpy(out->ne, t->ne, sizeof out->ne);
    out->type = t->type;
    out->elements = t->elements;
    out->bytes = t->bytes;
    out->offset = t->offset;
    out->file_offset = g->data_offset + t->offset;
    out->data = g->data + out->file_offset;
}

vkq_status vkq_gguf_tensor(const vkq_gguf *g, uint64_t index, vkq_gguf_tensor_info *out) {
    if (!g) return VKQ_ERR_INVALID_ARGUMENT;
    if (!out || index >= g->n_tensors) {
        return vkq__fail(g->diag, VKQ_ERR_INVALID_ARGUMENT, "vkq_gguf_tensor: index %llu of %llu "
                                                            "tensors%s",
                         (ull)index, (ull)g->n_tensors, out ? "" : " (out is NULL)");
    }
    fill_info(g, &g->tensors[index], out);
    return VKQ_OK;
}

int64_t vkq_gguf_find_tensor(const vkq_gguf *g, const char *name) {
    return g && name ? vkq__gguf_lookup(g->tensor_by_name, g->n_tensors, name) : -1;
}

vkq_status vkq_gguf_tensor_by_name(const vkq_gguf *g, const char *name,
                                   vkq_gguf_tensor_info *out) {
    if (!g) return VKQ_ERR_INVALID_ARGUMENT;
    if (!name || !out) {
        return vkq__fail(g->diag, VKQ_ERR_INVALID_ARGUMENT, "vkq_gguf_tensor_by_name: name and "
                                                            "out must not be NULL");
    }
    int64_t i = vkq__gguf_lookup(g->tensor_by_name, g->n_tensors, name);
    if (i < 0) {
        return vkq__fail(g->diag, VKQ_ERR_NOT_FOUND, "gguf tensor '%s' not found (%llu tensors "
                                                     "in the file)",
                         name, (ull)g->n_tensors);
    }
    fill_info(g, &g->tensors[i], out);
    return VKQ_OK;
}

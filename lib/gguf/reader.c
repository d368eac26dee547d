/* Opening a GGUF file: header, metadata, tensor infos, and the layout of the data section, each
 * validated before anything relies on it. The order of checks follows the file, so the first
 * problem reported is the first one a reader meets. */
#include "gguf/gguf.h"

#include "quant/quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long ull; /* for printf */

/* The smallest possible entries, used to check counts against the file size before allocating:
 * a key-value entry is an 8-byte key length, a key of at least one byte, a 4-byte type and a
 * value of at least one byte; a tensor info is an 8-byte name length, a name of at least one
 * byte, a 4-byte n_dims, at least one 8-byte dimension, a 4-byte type and an 8-byte offset. */
#define MIN_KV_BYTES 14u
#define MIN_TENSOR_INFO_BYTES 33u

static vkq_status out_of_memory(const vkq__gguf_cursor *c, const char *what, uint64_t count) {
    return vkq__fail(c->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "%s: out of memory for %llu %s",
                     c->file ? c->file : "gguf", (ull)count, what);
}

static vkq_status parse_header(vkq_gguf *g, vkq__gguf_cursor *c) {
    if (c->size < 4 || memcmp(c->data, VKQ__GGUF_MAGIC, 4) != 0) {
        uint8_t m[4] = {0};
        memcpy(m, c->data, c->size < 4 ? (size_t)c->size : 4);
        return vkq__gguf_bad(c, "not a GGUF file: it starts with %02x %02x %02x %02x (%llu bytes),"
                                " expected \"GGUF\" (47 47 55 46)",
                             m[0], m[1], m[2], m[3], (ull)c->size);
    }
    c->pos = 4;
    vkq_status st = vkq__gguf_read_u32(c, "header version", &g->version);
    if (st) return st;
    if (g->version == 1) {
        return vkq__gguf_bad(c, "GGUF version 1 (at byte 4) is not supported: it used 32-bit "
                                "counts; convert the file with a current GGUF tool");
    }
    if (g->version != 2 && g->version != 3) {
        /* v3 allows big-endian files; their version reads byte-swapped here. */
        uint32_t swapped = __builtin_bswap32(g->version);
        if (swapped == 2 || swapped == 3) {
            return vkq__gguf_bad(c, "big-endian GGUF (version %u at byte 4) is not supported",
                                 swapped);
        }
        return vkq__gguf_bad(c, "unsupported GGUF version %u at byte 4 (vkq reads 2 and 3)",
                             g->version);
    }
    uint64_t n_tensors, n_kv;
    st = vkq__gguf_read_u64(c, "header tensor count", &n_tensors);
    if (st) return st;
    st = vkq__gguf_read_u64(c, "header key-value count", &n_kv);
    if (st) return st;
    uint64_t left = c->size - c->pos;
    uint64_t kv_bytes = 0, tensor_bytes = 0, total = 0;
    if (!vkq__mul_u64(n_kv, MIN_KV_BYTES, &kv_bytes) ||
        !vkq__mul_u64(n_tensors, MIN_TENSOR_INFO_BYTES, &tensor_bytes) ||
        !vkq__add_u64(kv_bytes, tensor_bytes, &total) || total > left) {
        return vkq__gguf_bad(c, "header counts %llu tensors (byte 8) and %llu key-values (byte 16),"
                                " which need at least %llu x %u + %llu x %u bytes; the file has "
                                "%llu bytes after the header",
                             (ull)n_tensors, (ull)n_kv, (ull)n_tensors, MIN_TENSOR_INFO_BYTES,
                             (ull)n_kv, MIN_KV_BYTES, (ull)left);
    }
    g->n_tensors = n_tensors;
    g->n_kv = n_kv;
    return VKQ_OK;
}

static const vkq__gguf_kv *find_alignment_kv(const vkq_gguf *g) {
    int64_t i = vkq__gguf_lookup(g->kv_by_name, g->n_kv, "general.alignment");
    return i < 0 ? NULL : &g->kv[i];
}

/* general.alignment decides where the data starts and how offsets must be aligned; a zero or
 * non-power-of-two value would make the layout meaningless, so it is refused, not defaulted. */
static vkq_status check_alignment(vkq_gguf *g, vkq__gguf_cursor *c) {
    g->alignment = VKQ__GGUF_DEFAULT_ALIGNMENT;
    const vkq__gguf_kv *kv = find_alignment_kv(g);
    if (!kv) return VKQ_OK;
    char tbuf[24];
    if (kv->type != VKQ__GGUF_U32) {
        return vkq__gguf_bad(c, "key 'general.alignment' at byte %llu has type %s, expected u32",
                             (ull)kv->file_offset, vkq__gguf_type_id_name(kv->type, tbuf,
                                                                           sizeof tbuf));
    }
    uint64_t a = kv->v.u;
    if (a == 0 || (a & (a - 1)) != 0) {
        return vkq__gguf_bad(c, "key 'general.alignment' at byte %llu is %llu, not a non-zero "
                                "power of two",
                             (ull)kv->file_offset, (ull)a);
    }
    g->alignment = (uint32_t)a;
    return VKQ_OK;
}

static const vkq__gguf_str *kv_name(const vkq_gguf *g, uint64_t i) { return &g->kv[i].key; }

static vkq_status parse_kvs(vkq_gguf *g, vkq__gguf_cursor *c) {
    if (g->n_kv > SIZE_MAX / sizeof(vkq__gguf_kv)) return out_of_memory(c, "keys", g->n_kv);
    g->kv = vkq__calloc((size_t)g->n_kv, sizeof(vkq__gguf_kv));
    g->kv_by_name = vkq__calloc((size_t)g->n_kv, sizeof(vkq__gguf_name_ref));
    if (!g->kv || !g->kv_by_name) return out_of_memory(c, "keys", g->n_kv);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        vkq_status st = vkq__gguf_read_kv(c, &g->arena, i, &g->kv[i]);
        if (st) return st;
        g->kv_by_name[i].name = g->kv[i].key.data;
        g->kv_by_name[i].index = i;
    }
    uint64_t a, b;
    if (vkq__gguf_sort_names(g->kv_by_name, g->n_kv, &a, &b)) {
        char shown[160];
        const vkq__gguf_str *k = kv_name(g, a);
        return vkq__gguf_bad(c, "duplicate key '%s': entries #%llu (byte %llu) and #%llu (byte "
                                "%llu)",
                             vkq__gguf_printable((const uint8_t *)k->data, k->len, shown,
                                                 sizeof shown),
                             (ull)a, (ull)g->kv[a].file_offset, (ull)b,
                             (ull)g->kv[b].file_offset);
    }
    return check_alignment(g, c);
}

/* Shape, type and size of one tensor info, read at the cursor. */
static vkq_status read_tensor_shape(vkq__gguf_cursor *c, const char *label,
                                    vkq__gguf_tensor *t) {
    char what[300];
    snprintf(what, sizeof what, "%s n_dims", label);
    uint64_t at = c->pos;
    vkq_status st = vkq__gguf_read_u32(c, what, &t->n_dims);
    if (st) return st;
    if (t->n_dims < 1 || t->n_dims > VKQ__GGUF_MAX_DIMS) {
        return vkq__gguf_bad(c, "%s: n_dims %u at byte %llu is outside 1..%u", label, t->n_dims,
                             (ull)at, VKQ__GGUF_MAX_DIMS);
    }
    uint64_t elements = 1;
    for (uint32_t i = 0; i < VKQ__GGUF_MAX_DIMS; i++) t->ne[i] = 1;
    for (uint32_t i = 0; i < t->n_dims; i++) {
        snprintf(what, sizeof what, "%s ne[%u]", label, i);
        at = c->pos;
        st = vkq__gguf_read_u64(c, what, &t->ne[i]);
        if (st) return st;
        /* ggml keeps dimensions as int64: a value past INT64_MAX is negative to it. */
        if (t->ne[i] == 0 || t->ne[i] > (uint64_t)INT64_MAX) {
            return vkq__gguf_bad(c, "%s: ne[%u] = %llu at byte %llu must be in 1..2^63-1", label,
                                 i, (ull)t->ne[i], (ull)at);
        }
        if (!vkq__mul_u64(elements, t->ne[i], &elements) || elements > (uint64_t)INT64_MAX) {
            return vkq__gguf_bad(c, "%s: element count overflows at ne[%u] = %llu (byte %llu)",
                                 label, i, (ull)t->ne[i], (ull)at);
        }
    }
    t->elements = elements;
    snprintf(what, sizeof what, "%s type", label);
    at = c->pos;
    uint32_t id;
    st = vkq__gguf_read_u32(c, what, &id);
    if (st) return st;
    t->type = vkq_type_from_gguf_id(id);
    if (t->type == VKQ_TYPE_NONE) {
        return vkq__gguf_bad(c, "%s: tensor type id %u at byte %llu is unknown or not supported "
                                "by vkq",
                             label, id, (ull)at);
    }
    uint64_t row_bytes;
    if (!vkq__row_bytes(t->type, t->ne[0], &row_bytes)) {
        return vkq__gguf_bad(c, "%s (info at byte %llu): row length ne[0] = %llu is not a "
                                "multiple of %s's block of %u elements",
                             label, (ull)t->info_offset, (ull)t->ne[0], vkq_type_name(t->type),
                             vkq_type_block_elements(t->type));
    }
    if (!vkq__mul_u64(row_bytes, elements / t->ne[0], &t->bytes)) {
        return vkq__gguf_bad(c, "%s (info at byte %llu): size in bytes overflows (%llu rows of "
                                "%llu bytes)",
                             label, (ull)t->info_offset, (ull)(elements / t->ne[0]),
                             (ull)row_bytes);
    }
    return VKQ_OK;
}

/* Names become C strings, lookup keys and message text: non-empty, no zero bytes, valid
 * UTF-8, and at most the spec's 64 bytes. */
static vkq_status read_tensor_name(vkq__gguf_cursor *c, vkq__gguf_arena *a, uint64_t index,
                                   vkq__gguf_tensor *t) {
    char what[64], shown[160];
    snprintf(what, sizeof what, "tensor #%llu name", (ull)index);
    vkq_status st = vkq__gguf_read_string(c, a, what, VKQ__GGUF_MAX_NAME_READ, &t->name);
    if (st) return st;
    const uint8_t *n = (const uint8_t *)t->name.data;
    const char *problem = NULL;
    if (t->name.len == 0) problem = "is empty";
    else if (memchr(n, 0, (size_t)t->name.len)) problem = "contains a zero byte";
    else if (!vkq__utf8_valid(n, t->name.len)) problem = "is not valid UTF-8";
    if (problem) {
        return vkq__gguf_bad(c, "tensor #%llu name at byte %llu ('%s') %s", (ull)index,
                             (ull)t->info_offset,
                             vkq__gguf_printable(n, t->name.len, shown, sizeof shown), problem);
    }
    return VKQ_OK;
}

static vkq_status parse_tensor_infos(vkq_gguf *g, vkq__gguf_cursor *c) {
    /* The header check bounds n_tensors by the file size, so these allocations are bounded. */
    if (g->n_tensors > SIZE_MAX / sizeof(vkq__gguf_tensor)) {
        return out_of_memory(c, "tensors", g->n_tensors);
    }
    g->tensors = vkq__calloc((size_t)g->n_tensors, sizeof(vkq__gguf_tensor));
    g->tensor_by_name = vkq__calloc((size_t)g->n_tensors, sizeof(vkq__gguf_name_ref));
    if (!g->tensors || !g->tensor_by_name) return out_of_memory(c, "tensors", g->n_tensors);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        vkq__gguf_tensor *t = &g->tensors[i];
        t->info_offset = c->pos;
        vkq_status st = read_tensor_name(c, &g->arena, i, t);
        if (st) return st;
        char label[220], shown[160];
        snprintf(label, sizeof label, "tensor '%s'",
                 vkq__gguf_printable((const uint8_t *)t->name.data, t->name.len, shown,
                                     sizeof shown));
        st = read_tensor_shape(c, label, t);
        if (st) return st;
        char what[260];
        snprintf(what, sizeof what, "%s data offset", label);
        st = vkq__gguf_read_u64(c, what, &t->offset);
        if (st) return st;
        g->tensor_by_name[i].name = t->name.data;
        g->tensor_by_name[i].index = i;
    }
    uint64_t a, b;
    if (vkq__gguf_sort_names(g->tensor_by_name, g->n_tensors, &a, &b)) {
        return vkq__gguf_bad(c, "duplicate tensor name '%s': tensor infos #%llu (byte %llu) and "
                                "#%llu (byte %llu)",
                             g->tensors[a].name.data, (ull)a, (ull)g->tensors[a].info_offset,
                             (ull)b, (ull)g->tensors[b].info_offset);
    }
    return VKQ_OK;
}

typedef struct extent {
    uint64_t begin, end, index;
} extent;

static int compare_extents(const void *pa, const void *pb) {
    const extent *a = pa, *b = pb;
    if (a->begin != b->begin) return a->begin < b->begin ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Every tensor must lie inside the data section, start on the alignment and overlap no other
 * (sorted by start, each must end before the next begins). */
static vkq_status check_layout(vkq_gguf *g, vkq__gguf_cursor *c) {
    uint64_t end_of_infos = c->pos;
    g->data_offset = vkq__align_up(end_of_infos, g->alignment);
    if (g->n_tensors == 0) {
        /* A vocabulary-only file may end right after its metadata, without padding. */
        if (g->data_offset > c->size) g->data_offset = c->size;
        return VKQ_OK;
    }
    if (g->data_offset > c->size) {
        return vkq__gguf_bad(c, "truncated: tensor infos end at byte %llu, so the data section "
                                "starts at byte %llu (alignment %u), past the end of the file "
                                "(size %llu)",
                             (ull)end_of_infos, (ull)g->data_offset, g->alignment, (ull)c->size);
    }
    uint64_t data_size = c->size - g->data_offset;
    extent *ex = vkq__calloc((size_t)g->n_tensors, sizeof *ex);
    if (!ex) return out_of_memory(c, "tensor extents", g->n_tensors);
    vkq_status st = VKQ_OK;
    for (uint64_t i = 0; i < g->n_tensors && !st; i++) {
        const vkq__gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment != 0) {
            st = vkq__gguf_bad(c, "tensor '%s' (info at byte %llu): data offset %llu is not a "
                                  "multiple of the alignment %u",
                               t->name.data, (ull)t->info_offset, (ull)t->offset, g->alignment);
        } else if (t->offset > data_size || t->bytes > data_size - t->offset) {
            st = vkq__gguf_bad(c, "tensor '%s' (info at byte %llu): data [%llu, +%llu bytes) "
                                  "relative to the data section at byte %llu runs past the end "
                                  "of the file (size %llu; data section %llu bytes)",
                               t->name.data, (ull)t->info_offset, (ull)t->offset, (ull)t->bytes,
                               (ull)g->data_offset, (ull)c->size, (ull)data_size);
        }
        ex[i] = (extent){t->offset, t->offset + t->bytes, i};
    }
    if (!st) qsort(ex, (size_t)g->n_tensors, sizeof *ex, compare_extents);
    for (uint64_t i = 1; i < g->n_tensors && !st; i++) {
        if (ex[i].begin < ex[i - 1].end) {
            const vkq__gguf_tensor *a = &g->tensors[ex[i - 1].index];
            const vkq__gguf_tensor *b = &g->tensors[ex[i].index];
            st = vkq__gguf_bad(c, "tensors '%s' [%llu, %llu) and '%s' [%llu, %llu) overlap in the "
                                  "data section (infos at bytes %llu and %llu)",
                               a->name.data, (ull)ex[i - 1].begin, (ull)ex[i - 1].end,
                               b->name.data, (ull)ex[i].begin, (ull)ex[i].end,
                               (ull)a->info_offset, (ull)b->info_offset);
        }
    }
    free(ex);
    return st;
}

void vkq__gguf_free(vkq_gguf *g) {
    if (!g) return;
    if (g->kv) {
        for (uint64_t i = 0; i < g->n_kv; i++) free(g->kv[i].arr_strs);
    }
    free(g->kv);
    free(g->kv_by_name);
    free(g->tensors);
    free(g->tensor_by_name);
    vkq__gguf_arena_free(&g->arena);
    vkq__file_unmap(&g->map);
    free(g);
}

vkq_status vkq__gguf_open_memory(vkq__diag *d, const void *data, uint64_t size, const char *what,
                                 vkq_gguf **out) {
    *out = NULL;
    vkq_gguf *g = vkq__calloc(1, sizeof *g);
    if (!g) return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "gguf: out of memory");
    g->diag = d;
    g->data = data ? data : (const uint8_t *)"";
    g->size = data ? size : 0;
    vkq__gguf_cursor c = {g->data, g->size, 0, d, what};
    vkq_status st = parse_header(g, &c);
    if (!st) st = parse_kvs(g, &c);
    if (!st) st = parse_tensor_infos(g, &c);
    if (!st) st = check_layout(g, &c);
    if (st) {
        vkq__gguf_free(g);
        return st;
    }
    *out = g;
    return VKQ_OK;
}

vkq_status vkq__gguf_open_file(vkq__diag *d, const char *path, vkq_gguf **out) {
    *out = NULL;
    vkq__mapped_file map;
    vkq_status st = vkq__file_map(d, path, &map);
    if (st) return st;
    st = vkq__gguf_open_memory(d, map.data, map.size, path, out);
    if (st) {
        vkq__file_unmap(&map);
        return st;
    }
    (*out)->map = map;
    return VKQ_OK;
}

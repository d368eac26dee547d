/* Bounds-checked reading of GGUF primitives and key-value entries. Every read first checks that
 * the bytes are there; every length is checked against what is left of the file before anything
 * is allocated for it, so a hostile count costs an error message, not memory. */
#include "gguf/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long ull; /* for printf */

vkq_status vkq__gguf_bad(const vkq__gguf_cursor *c, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vkq__fail(c->d, VKQ_ERR_BAD_FILE, "%s: %s", c->file ? c->file : "gguf", msg);
}

static uint64_t left(const vkq__gguf_cursor *c) { return c->size - c->pos; }

static vkq_status need(const vkq__gguf_cursor *c, const char *what, uint64_t n) {
    if (n <= left(c)) return VKQ_OK;
    return vkq__gguf_bad(c, "truncated: %s at byte %llu needs %llu bytes, only %llu left (file "
                            "size %llu)",
                         what, (ull)c->pos, (ull)n, (ull)left(c), (ull)c->size);
}

static uint64_t le(const uint8_t *p, uint32_t size) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < size; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

vkq__gguf_scalar vkq__gguf_decode(uint32_t id, const uint8_t *p) {
    vkq__gguf_scalar v = {0};
    uint64_t raw = le(p, vkq__gguf_type_size(id));
    switch (id) {
    case VKQ__GGUF_I8: v.i = (int8_t)(uint8_t)raw; break;
    case VKQ__GGUF_I16: v.i = (int16_t)(uint16_t)raw; break;
    case VKQ__GGUF_I32: v.i = (int32_t)(uint32_t)raw; break;
    case VKQ__GGUF_I64: memcpy(&v.i, &raw, 8); break;
    case VKQ__GGUF_F32: {
        uint32_t bits = (uint32_t)raw;
        float f;
        memcpy(&f, &bits, 4);
        v.f = f;
        break;
    }
    case VKQ__GGUF_F64: memcpy(&v.f, &raw, 8); break;
    default: v.u = raw; break; /* unsigned types and bool */
    }
    return v;
}

vkq_status vkq__gguf_read_u32(vkq__gguf_cursor *c, const char *what, uint32_t *out) {
    vkq_status st = need(c, what, 4);
    if (st) return st;
    *out = (uint32_t)le(c->data + c->pos, 4);
    c->pos += 4;
    return VKQ_OK;
}

vkq_status vkq__gguf_read_u64(vkq__gguf_cursor *c, const char *what, uint64_t *out) {
    vkq_status st = need(c, what, 8);
    if (st) return st;
    *out = le(c->data + c->pos, 8);
    c->pos += 8;
    return VKQ_OK;
}

vkq_status vkq__gguf_read_string(vkq__gguf_cursor *c, vkq__gguf_arena *a, const char *what,
                                 uint64_t max_len, vkq__gguf_str *out) {
    uint64_t at = c->pos;
    char w[300];
    snprintf(w, sizeof w, "%s length", what);
    uint64_t len;
    vkq_status st = vkq__gguf_read_u64(c, w, &len);
    if (st) return st;
    if (max_len && len > max_len) {
        return vkq__gguf_bad(c, "%s at byte %llu: length %llu exceeds the limit of %llu bytes",
                             what, (ull)at, (ull)len, (ull)max_len);
    }
    if (len > left(c)) {
        return vkq__gguf_bad(c, "%s at byte %llu: length %llu exceeds the %llu bytes left in the "
                                "file (size %llu)",
                             what, (ull)at, (ull)len, (ull)left(c), (ull)c->size);
    }
    char *copy = vkq__gguf_arena_strdup(a, c->data + c->pos, len);
    if (!copy) {
        return vkq__fail(c->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "%s: %s: out of memory copying %llu "
                                                           "bytes",
                         c->file ? c->file : "gguf", what, (ull)len);
    }
    out->data = copy;
    out->len = len;
    c->pos += len;
    return VKQ_OK;
}

/* A fixed-size value at the cursor. Bools must be 0 or 1: anything else means the file is not
 * what it claims to be, and a reader that took it as true would hide that. */
static vkq_status read_scalar(vkq__gguf_cursor *c, const char *label, uint32_t id,
                              vkq__gguf_scalar *out) {
    char what[300];
    snprintf(what, sizeof what, "%s value", label);
    uint32_t size = vkq__gguf_type_size(id);
    vkq_status st = need(c, what, size);
    if (st) return st;
    if (id == VKQ__GGUF_BOOL && c->data[c->pos] > 1) {
        return vkq__gguf_bad(c, "%s: bool value %u at byte %llu is neither 0 nor 1", label,
                             c->data[c->pos], (ull)c->pos);
    }
    *out = vkq__gguf_decode(id, c->data + c->pos);
    c->pos += size;
    return VKQ_OK;
}

static vkq_status read_string_array(vkq__gguf_cursor *c, vkq__gguf_arena *a, const char *label,
                                    vkq__gguf_kv *kv) {
    /* Each element needs at least its 8-byte length: checked before allocating anything. */
    uint64_t count = kv->arr_count;
    if (count > left(c) / 8) {
        return vkq__gguf_bad(c, "%s: array of %llu strings at byte %llu needs at least 8 bytes "
                                "per string, only %llu left (file size %llu)",
                             label, (ull)count, (ull)c->pos, (ull)left(c), (ull)c->size);
    }
    if (count > SIZE_MAX / sizeof(vkq__gguf_str)) {
        return vkq__gguf_bad(c, "%s: array of %llu strings is too large for this machine", label,
                             (ull)count);
    }
    kv->arr_strs = vkq__calloc((size_t)count, sizeof(vkq__gguf_str));
    if (!kv->arr_strs) {
        return vkq__fail(c->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "%s: %s: out of memory for %llu "
                                                           "strings",
                         c->file ? c->file : "gguf", label, (ull)count);
    }
    for (uint64_t i = 0; i < count; i++) {
        char what[300];
        snprintf(what, sizeof what, "%s element %llu", label, (ull)i);
        vkq_status st = vkq__gguf_read_string(c, a, what, 0, &kv->arr_strs[i]);
        if (st) return st;
    }
    return VKQ_OK;
}

static vkq_status read_array(vkq__gguf_cursor *c, vkq__gguf_arena *a, const char *label,
                             vkq__gguf_kv *kv) {
    char what[300], tbuf[24];
    snprintf(what, sizeof what, "%s array element type", label);
    uint64_t type_at = c->pos;
    vkq_status st = vkq__gguf_read_u32(c, what, &kv->arr_type);
    if (st) return st;
    if (kv->arr_type == VKQ__GGUF_ARRAY) {
        return vkq__gguf_bad(c, "%s: arrays of arrays (element type at byte %llu) are not "
                                "supported",
                             label, (ull)type_at);
    }
    if (kv->arr_type >= VKQ__GGUF_TYPE_COUNT) {
        return vkq__gguf_bad(c, "%s: unknown array element type %u at byte %llu (known: 0..%d)",
                             label, kv->arr_type, (ull)type_at, VKQ__GGUF_TYPE_COUNT - 1);
    }
    snprintf(what, sizeof what, "%s array length", label);
    st = vkq__gguf_read_u64(c, what, &kv->arr_count);
    if (st) return st;
    if (kv->arr_type == VKQ__GGUF_STRING) return read_string_array(c, a, label, kv);

    uint32_t size = vkq__gguf_type_size(kv->arr_type);
    if (kv->arr_count > left(c) / size) {
        return vkq__gguf_bad(c, "%s: array of %llu %s (%u bytes each) at byte %llu exceeds the "
                                "%llu bytes left in the file (size %llu)",
                             label, (ull)kv->arr_count,
                             vkq__gguf_type_id_name(kv->arr_type, tbuf, sizeof tbuf), size,
                             (ull)c->pos, (ull)left(c), (ull)c->size);
    }
    kv->arr_data = c->data + c->pos;
    if (kv->arr_type == VKQ__GGUF_BOOL) {
        for (uint64_t i = 0; i < kv->arr_count; i++) {
            if (kv->arr_data[i] > 1) {
                return vkq__gguf_bad(c, "%s: bool element %llu (value %u) at byte %llu is "
                                        "neither 0 nor 1",
                                     label, (ull)i, kv->arr_data[i], (ull)(c->pos + i));
            }
        }
    }
    c->pos += kv->arr_count * size;
    return VKQ_OK;
}

/* Keys become C strings and lookup names, so they must be non-empty, free of zero bytes (which
 * would make two different keys look the same) and valid UTF-8 as the spec requires. */
static vkq_status check_key(vkq__gguf_cursor *c, uint64_t index, uint64_t at,
                            const vkq__gguf_str *key) {
    char shown[160];
    const uint8_t *k = (const uint8_t *)key->data;
    if (key->len == 0) {
        return vkq__gguf_bad(c, "key #%llu at byte %llu is empty", (ull)index, (ull)at);
    }
    if (memchr(k, 0, (size_t)key->len)) {
        return vkq__gguf_bad(c, "key #%llu at byte %llu ('%s') contains a zero byte", (ull)index,
                             (ull)at, vkq__gguf_printable(k, key->len, shown, sizeof shown));
    }
    if (!vkq__utf8_valid(k, key->len)) {
        return vkq__gguf_bad(c, "key #%llu at byte %llu ('%s') is not valid UTF-8", (ull)index,
                             (ull)at, vkq__gguf_printable(k, key->len, shown, sizeof shown));
    }
    return VKQ_OK;
}

vkq_status vkq__gguf_read_kv(vkq__gguf_cursor *c, vkq__gguf_arena *a, uint64_t index,
                             vkq__gguf_kv *out) {
    memset(out, 0, sizeof *out);
    out->file_offset = c->pos;
    char label[220];
    snprintf(label, sizeof label, "key #%llu", (ull)index);
    vkq_status st = vkq__gguf_read_string(c, a, label, VKQ__GGUF_MAX_KEY, &out->key);
    if (st) return st;
    st = check_key(c, index, out->file_offset, &out->key);
    if (st) return st;

    char shown[160];
    snprintf(label, sizeof label, "key '%s'",
             vkq__gguf_printable((const uint8_t *)out->key.data, out->key.len, shown,
                                 sizeof shown));
    char what[260];
    snprintf(what, sizeof what, "%s value type", label);
    uint64_t type_at = c->pos;
    st = vkq__gguf_read_u32(c, what, &out->type);
    if (st) return st;
    if (out->type >= VKQ__GGUF_TYPE_COUNT) {
        return vkq__gguf_bad(c, "%s: unknown value type %u at byte %llu (known: 0..%d)", label,
                             out->type, (ull)type_at, VKQ__GGUF_TYPE_COUNT - 1);
    }
    if (out->type == VKQ__GGUF_STRING) {
        snprintf(what, sizeof what, "%s string value", label);
        return vkq__gguf_read_string(c, a, what, 0, &out->str);
    }
    if (out->type == VKQ__GGUF_ARRAY) return read_array(c, a, label, out);
    return read_scalar(c, label, out->type, &out->v);
}

/* GGUF writer. Metadata is encoded into bytes as it is added (so the caller's buffers may go
 * away); tensor data is only referenced and copied when the file is written. The file is
 * streamed to a temporary beside the target and renamed into place only when complete. */
#include "gguf/gguf.h"

#include "quant/quant.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef unsigned long long ull; /* for printf */

typedef struct wkv {
    char *key;
    uint8_t *bytes; /* the whole entry as it goes into the file: key, type, value */
    size_t size;
} wkv;

typedef struct wtensor {
    char name[VKQ__GGUF_MAX_NAME_WRITE + 1];
    vkq_type type;
    uint32_t n_dims;
    uint64_t ne[VKQ__GGUF_MAX_DIMS];
    uint64_t bytes;
    const void *data;
} wtensor;

struct vkq__gguf_writer {
    vkq__diag *d;
    uint32_t alignment;
    bool alignment_added; /* general.alignment was added as a key (it is written when this is
                             set or the alignment is not the default) */
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *tensors;
    size_t n_tensors, cap_tensors;
};

/* A growable byte buffer with a sticky out-of-memory flag, for encoding entries. */
typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} bytes;

static void put(bytes *b, const void *src, size_t n) {
    if (b->oom) return;
    if (n > SIZE_MAX - b->len) {
        b->oom = true;
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n) cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_le(bytes *b, uint64_t v, uint32_t size) {
    uint8_t tmp[8];
    for (uint32_t i = 0; i < size; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    put(b, tmp, size);
}

static void put_string(bytes *b, const char *s, uint64_t len) {
    put_le(b, len, 8);
    if (len > SIZE_MAX) {
        b->oom = true;
        return;
    }
    put(b, s, (size_t)len);
}

vkq_status vkq__gguf_writer_create(vkq__diag *d, vkq__gguf_writer **out) {
    *out = vkq__calloc(1, sizeof **out);
    if (!*out) return vkq__fail(d, VKQ_ERR_OUT_OF_HOST_MEMORY, "gguf writer: out of memory");
    (*out)->d = d;
    (*out)->alignment = VKQ__GGUF_DEFAULT_ALIGNMENT;
    return VKQ_OK;
}

void vkq__gguf_writer_destroy(vkq__gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].bytes);
    }
    free(w->kv);
    free(w->tensors);
    free(w);
}

vkq_status vkq__gguf_writer_set_alignment(vkq__gguf_writer *w, uint32_t alignment) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: alignment %u is not a "
                                                         "non-zero power of two",
                         alignment);
    }
    w->alignment = alignment;
    return VKQ_OK;
}

/* What the reader would refuse in a key is refused here, so written files always read back. */
static vkq_status check_new_key(vkq__gguf_writer *w, const char *key) {
    if (!key || !*key) {
        return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: empty or NULL key");
    }
    size_t len = strlen(key);
    if (len > VKQ__GGUF_MAX_KEY || !vkq__utf8_valid((const uint8_t *)key, len)) {
        return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: key of %zu bytes is too "
                                                         "long or not valid UTF-8",
                         len);
    }
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key, key) == 0) {
            return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: duplicate key '%s'",
                             key);
        }
    }
    if (strcmp(key, "general.alignment") == 0) {
        return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: general.alignment must "
                                                         "be a u32 (add_u32 or set_alignment)");
    }
    return VKQ_OK;
}

/* Starts an entry (key and type) in b; the caller appends the value and calls commit(). */
static vkq_status begin(vkq__gguf_writer *w, const char *key, uint32_t type, bytes *b) {
    memset(b, 0, sizeof *b);
    vkq_status st = check_new_key(w, key);
    if (st) return st;
    put_string(b, key, strlen(key));
    put_le(b, type, 4);
    return VKQ_OK;
}

static vkq_status commit(vkq__gguf_writer *w, const char *key, bytes *b) {
    char *k = NULL;
    if (!b->oom && w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 16;
        wkv *kv = realloc(w->kv, cap * sizeof *kv);
        if (kv) {
            w->kv = kv;
            w->cap_kv = cap;
        }
    }
    if (!b->oom && w->n_kv < w->cap_kv) {
        size_t n = strlen(key) + 1;
        k = malloc(n);
        if (k) memcpy(k, key, n);
    }
    if (!k) {
        free(b->p);
        return vkq__fail(w->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "gguf writer: out of memory adding "
                                                           "key '%s'",
                         key);
    }
    w->kv[w->n_kv++] = (wkv){k, b->p, b->len};
    return VKQ_OK;
}

static vkq_status add_scalar(vkq__gguf_writer *w, const char *key, uint32_t id, uint64_t bits) {
    if (key && strcmp(key, "general.alignment") == 0) {
        /* The alignment key and the layout must agree, so the key is the writer's to write. */
        if (id != VKQ__GGUF_U32 || bits > UINT32_MAX) {
            return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: general.alignment "
                                                             "must be a u32");
        }
        if (w->alignment_added) {
            return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: duplicate key "
                                                             "'general.alignment'");
        }
        vkq_status st = vkq__gguf_writer_set_alignment(w, (uint32_t)bits);
        if (!st) w->alignment_added = true;
        return st;
    }
    bytes b;
    vkq_status st = begin(w, key, id, &b);
    if (st) return st;
    put_le(&b, bits, vkq__gguf_type_size(id));
    return commit(w, key, &b);
}

vkq_status vkq__gguf_writer_add_u8(vkq__gguf_writer *w, const char *key, uint8_t v) {
    return add_scalar(w, key, VKQ__GGUF_U8, v);
}
vkq_status vkq__gguf_writer_add_i8(vkq__gguf_writer *w, const char *key, int8_t v) {
    return add_scalar(w, key, VKQ__GGUF_I8, (uint8_t)v);
}
vkq_status vkq__gguf_writer_add_u16(vkq__gguf_writer *w, const char *key, uint16_t v) {
    return add_scalar(w, key, VKQ__GGUF_U16, v);
}
vkq_status vkq__gguf_writer_add_i16(vkq__gguf_writer *w, const char *key, int16_t v) {
    return add_scalar(w, key, VKQ__GGUF_I16, (uint16_t)v);
}
vkq_status vkq__gguf_writer_add_u32(vkq__gguf_writer *w, const char *key, uint32_t v) {
    return add_scalar(w, key, VKQ__GGUF_U32, v);
}
vkq_status vkq__gguf_writer_add_i32(vkq__gguf_writer *w, const char *key, int32_t v) {
    return add_scalar(w, key, VKQ__GGUF_I32, (uint32_t)v);
}
vkq_status vkq__gguf_writer_add_u64(vkq__gguf_writer *w, const char *key, uint64_t v) {
    return add_scalar(w, key, VKQ__GGUF_U64, v);
}
vkq_status vkq__gguf_writer_add_i64(vkq__gguf_writer *w, const char *key, int64_t v) {
    return add_scalar(w, key, VKQ__GGUF_I64, (uint64_t)v);
}
vkq_status vkq__gguf_writer_add_f32(vkq__gguf_writer *w, const char *key, float v) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    return add_scalar(w, key, VKQ__GGUF_F32, bits);
}
vkq_status vkq__gguf_writer_add_f64(vkq__gguf_writer *w, const char *key, double v) {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    return add_scalar(w, key, VKQ__GGUF_F64, bits);
}
vkq_status vkq__gguf_writer_add_bool(vkq__gguf_writer *w, const char *key, bool v) {
    return add_scalar(w, key, VKQ__GGUF_BOOL, v ? 1 : 0);
}

vkq_status vkq__gguf_writer_add_string_n(vkq__gguf_writer *w, const char *key, const char *v,
                                         uint64_t len) {
    if (!v && len) {
        return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: key '%s': NULL string",
                         key ? key : "(null)");
    }
    bytes b;
    vkq_status st = begin(w, key, VKQ__GGUF_STRING, &b);
    if (st) return st;
    put_string(&b, v ? v : "", len);
    return commit(w, key, &b);
}

vkq_status vkq__gguf_writer_add_string(vkq__gguf_writer *w, const char *key, const char *v) {
    return vkq__gguf_writer_add_string_n(w, key, v, v ? strlen(v) : 0);
}

/* Host value i of a C array of the type that matches file type `id`, as raw little-endian
 * bits. */
static uint64_t host_bits(uint32_t id, const void *data, uint64_t i) {
    switch (id) {
    case VKQ__GGUF_U8: return ((const uint8_t *)data)[i];
    case VKQ__GGUF_I8: return (uint8_t)((const int8_t *)data)[i];
    case VKQ__GGUF_U16: return ((const uint16_t *)data)[i];
    case VKQ__GGUF_I16: return (uint16_t)((const int16_t *)data)[i];
    case VKQ__GGUF_U32: return ((const uint32_t *)data)[i];
    case VKQ__GGUF_I32: return (uint32_t)((const int32_t *)data)[i];
    case VKQ__GGUF_U64: return ((const uint64_t *)data)[i];
    case VKQ__GGUF_I64: return (uint64_t)((const int64_t *)data)[i];
    case VKQ__GGUF_BOOL: return ((const bool *)data)[i] ? 1 : 0;
    case VKQ__GGUF_F32: {
        uint32_t bits;
        memcpy(&bits, (const float *)data + i, 4);
        return bits;
    }
    case VKQ__GGUF_F64: {
        uint64_t bits;
        memcpy(&bits, (const double *)data + i, 8);
        return bits;
    }
    }
    return 0;
}

vkq_status vkq__gguf_writer_add_array(vkq__gguf_writer *w, const char *key,
                                      vkq_gguf_value_type elem_type, const void *data,
                                      uint64_t count) {
    uint32_t id = vkq__gguf_type_id(elem_type);
    uint32_t size = id == UINT32_MAX ? 0 : vkq__gguf_type_size(id);
    if (size == 0 || (!data && count)) {
        return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: key '%s': arrays of %s "
                                                         "need add_string_array, or data is NULL",
                         key ? key : "(null)", vkq_gguf_value_type_name(elem_type));
    }
    bytes b;
    vkq_status st = begin(w, key, VKQ__GGUF_ARRAY, &b);
    if (st) return st;
    put_le(&b, id, 4);
    put_le(&b, count, 8);
    for (uint64_t i = 0; i < count && !b.oom; i++) put_le(&b, host_bits(id, data, i), size);
    return commit(w, key, &b);
}

vkq_status vkq__gguf_writer_add_string_array(vkq__gguf_writer *w, const char *key,
                                             const char *const *strs, uint64_t count) {
    if (!strs && count) {
        return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: key '%s': NULL strings",
                         key ? key : "(null)");
    }
    bytes b;
    vkq_status st = begin(w, key, VKQ__GGUF_ARRAY, &b);
    if (st) return st;
    put_le(&b, VKQ__GGUF_STRING, 4);
    put_le(&b, count, 8);
    for (uint64_t i = 0; i < count && !b.oom; i++) {
        const char *s = strs[i] ? strs[i] : "";
        put_string(&b, s, strlen(s));
    }
    return commit(w, key, &b);
}

static vkq_status check_tensor(vkq__gguf_writer *w, const char *name, vkq_type type,
                               uint32_t n_dims, const uint64_t *ne, const void *data,
                               uint64_t *bytes_out) {
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > VKQ__GGUF_MAX_NAME_WRITE ||
        !vkq__utf8_valid((const uint8_t *)name, len)) {
        return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: tensor name '%s' must be "
                                                         "1..%u bytes of UTF-8",
                         name ? name : "(null)", VKQ__GGUF_MAX_NAME_WRITE);
    }
    if (n_dims < 1 || n_dims > VKQ__GGUF_MAX_DIMS || !ne || !data) {
        return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: tensor '%s': n_dims %u "
                                                         "(1..4), ne and data are required",
                         name, n_dims);
    }
    uint64_t elements = 1, row_bytes = 0;
    for (uint32_t i = 0; i < n_dims; i++) {
        if (ne[i] == 0 || !vkq__mul_u64(elements, ne[i], &elements) ||
            elements > (uint64_t)INT64_MAX) {
            return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: tensor '%s': bad "
                                                             "dimension ne[%u] = %llu",
                             name, i, (ull)ne[i]);
        }
    }
    if (!vkq__row_bytes(type, ne[0], &row_bytes) ||
        !vkq__mul_u64(row_bytes, elements / ne[0], bytes_out)) {
        return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: tensor '%s': type %s "
                                                         "cannot hold rows of %llu elements",
                         name, vkq_type_name(type), (ull)ne[0]);
    }
    for (size_t i = 0; i < w->n_tensors; i++) {
        if (strcmp(w->tensors[i].name, name) == 0) {
            return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: duplicate tensor "
                                                             "'%s'",
                             name);
        }
    }
    return VKQ_OK;
}

vkq_status vkq__gguf_writer_add_tensor(vkq__gguf_writer *w, const char *name, vkq_type type,
                                       uint32_t n_dims, const uint64_t *ne, const void *data) {
    uint64_t bytes = 0;
    vkq_status st = check_tensor(w, name, type, n_dims, ne, data, &bytes);
    if (st) return st;
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? w->cap_tensors * 2 : 16;
        wtensor *t = realloc(w->tensors, cap * sizeof *t);
        if (!t) {
            return vkq__fail(w->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "gguf writer: out of memory "
                                                               "adding tensor '%s'",
                             name);
        }
        w->tensors = t;
        w->cap_tensors = cap;
    }
    wtensor *t = &w->tensors[w->n_tensors++];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, strlen(name) + 1);
    t->type = type;
    t->n_dims = n_dims;
    for (uint32_t i = 0; i < VKQ__GGUF_MAX_DIMS; i++) t->ne[i] = i < n_dims ? ne[i] : 1;
    t->bytes = bytes;
    t->data = data;
    return VKQ_OK;
}

/* ---- output ---------------------------------------------------------------------------------- */

/* Where the bytes go: a FILE or a memory buffer. Errors are sticky so the layout code stays
 * linear; the first one is reported at the end. */
typedef struct sink {
    FILE *f;
    bytes mem;
    int err; /* errno of the first failed write */
    uint64_t written;
} sink;

static void emit(sink *s, const void *p, uint64_t n) {
    if (s->err || n == 0) return;
    if (s->f) {
        if (fwrite(p, 1, (size_t)n, s->f) != n) s->err = errno ? errno : EIO;
    } else {
        put(&s->mem, p, (size_t)n);
        if (s->mem.oom) s->err = ENOMEM;
    }
    s->written += n;
}

static void emit_le(sink *s, uint64_t v, uint32_t size) {
    uint8_t tmp[8];
    for (uint32_t i = 0; i < size; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    emit(s, tmp, size);
}

static void emit_padding(sink *s, uint32_t alignment) {
    static const uint8_t zeros[256];
    uint64_t pad = vkq__align_up(s->written, alignment) - s->written;
    while (pad > 0) {
        uint64_t n = pad < sizeof zeros ? pad : sizeof zeros;
        emit(s, zeros, n);
        pad -= n;
    }
}

static void emit_all(const vkq__gguf_writer *w, sink *s) {
    bool alignment_key = w->alignment_added || w->alignment != VKQ__GGUF_DEFAULT_ALIGNMENT;
    emit(s, VKQ__GGUF_MAGIC, 4);
    emit_le(s, 3, 4); /* version */
    emit_le(s, w->n_tensors, 8);
    emit_le(s, w->n_kv + (alignment_key ? 1 : 0), 8);
    if (alignment_key) {
        static const char key[] = "general.alignment";
        emit_le(s, sizeof key - 1, 8);
        emit(s, key, sizeof key - 1);
        emit_le(s, VKQ__GGUF_U32, 4);
        emit_le(s, w->alignment, 4);
    }
    for (size_t i = 0; i < w->n_kv; i++) emit(s, w->kv[i].bytes, w->kv[i].size);
    uint64_t offset = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        const wtensor *t = &w->tensors[i];
        size_t len = strlen(t->name);
        emit_le(s, len, 8);
        emit(s, t->name, len);
        emit_le(s, t->n_dims, 4);
        for (uint32_t k = 0; k < t->n_dims; k++) emit_le(s, t->ne[k], 8);
        emit_le(s, vkq_type_gguf_id(t->type), 4);
        emit_le(s, offset, 8);
        offset = vkq__align_up(offset + t->bytes, w->alignment);
    }
    emit_padding(s, w->alignment);
    for (size_t i = 0; i < w->n_tensors; i++) {
        emit(s, w->tensors[i].data, w->tensors[i].bytes);
        emit_padding(s, w->alignment);
    }
}

vkq_status vkq__gguf_writer_write_memory(vkq__gguf_writer *w, void **data, size_t *size) {
    *data = NULL;
    *size = 0;
    sink s = {0};
    emit_all(w, &s);
    if (s.err) {
        free(s.mem.p);
        return vkq__fail(w->d, VKQ_ERR_OUT_OF_HOST_MEMORY, "gguf writer: out of memory after "
                                                           "%llu bytes",
                         (ull)s.written);
    }
    *data = s.mem.p;
    *size = s.mem.len;
    return VKQ_OK;
}

vkq_status vkq__gguf_writer_write_file(vkq__gguf_writer *w, const char *path) {
    char tmp[4096];
    int n = path ? snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) : -1;
    if (n < 0 || (size_t)n >= sizeof tmp) {
        return vkq__fail(w->d, VKQ_ERR_INVALID_ARGUMENT, "gguf writer: bad output path");
    }
    sink s = {0};
    s.f = fopen(tmp, "wb");
    if (!s.f) {
        return vkq__fail(w->d, VKQ_ERR_IO, "gguf writer: create %s: %s", tmp, strerror(errno));
    }
    emit_all(w, &s);
    if (!s.err && fflush(s.f) != 0) s.err = errno ? errno : EIO;
    if (!s.err && fsync(fileno(s.f)) != 0) s.err = errno ? errno : EIO;
    if (fclose(s.f) != 0 && !s.err) s.err = errno ? errno : EIO;
    if (!s.err && rename(tmp, path) != 0) s.err = errno ? errno : EIO;
    if (s.err) {
        remove(tmp);
        return vkq__fail(w->d, VKQ_ERR_IO, "gguf writer: writing %s failed after %llu bytes: %s",
                         path, (ull)s.written, strerror(s.err));
    }
    return VKQ_OK;
}

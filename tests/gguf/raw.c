#include "raw.h"

#include <stdlib.h>
#include <string.h>

void raw_free(raw *r) {
    free(r->p);
    memset(r, 0, sizeof *r);
}

void raw_bytes(raw *r, const void *p, size_t n) {
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 256;
        while (cap < r->len + n) cap *= 2;
        r->p = realloc(r->p, cap);
        if (!r->p) abort(); /* test code: out of memory ends the test */
        r->cap = cap;
    }
    if (n) memcpy(r->p + r->len, p, n);
    r->len += n;
}

void raw_u8(raw *r, uint8_t v) { raw_bytes(r, &v, 1); }

void raw_u32(raw *r, uint32_t v) {
    uint8_t b[4];
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
    raw_bytes(r, b, 4);
}

void raw_u64(raw *r, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    raw_bytes(r, b, 8);
}

void raw_str_n(raw *r, const char *s, size_t n) {
    raw_u64(r, n);
    raw_bytes(r, s, n);
}

void raw_str(raw *r, const char *s) { raw_str_n(r, s, strlen(s)); }

void raw_header(raw *r, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    raw_bytes(r, "GGUF", 4);
    raw_u32(r, version);
    raw_u64(r, n_tensors);
    raw_u64(r, n_kv);
}

void raw_kv_u32(raw *r, const char *key, uint32_t v) {
    raw_str(r, key);
    raw_u32(r, 4);
    raw_u32(r, v);
}

void raw_kv_string(raw *r, const char *key, const char *v) {
    raw_str(r, key);
    raw_u32(r, 8);
    raw_str(r, v);
}

void raw_tensor_info(raw *r, const char *name, uint32_t n_dims, const uint64_t *ne,
                     uint32_t ggml_type, uint64_t offset) {
    raw_str(r, name);
    raw_u32(r, n_dims);
    for (uint32_t i = 0; i < n_dims; i++) raw_u64(r, ne[i]);
    raw_u32(r, ggml_type);
    raw_u64(r, offset);
}

void raw_zeros(raw *r, size_t n) {
    static const uint8_t z[64];
    while (n) {
        size_t k = n < sizeof z ? n : sizeof z;
        raw_bytes(r, z, k);
        n -= k;
    }
}

void raw_pad(raw *r, size_t alignment) {
    size_t rem = r->len % alignment;
    if (rem) raw_zeros(r, alignment - rem);
}

/* A byte builder for hand-made GGUF files, including malformed ones the writer refuses to
 * produce. Little-endian like the format; no validation at all, on purpose. */
#ifndef VKQ_TEST_GGUF_RAW_H
#define VKQ_TEST_GGUF_RAW_H

#include <stddef.h>
#include <stdint.h>

typedef struct raw {
    uint8_t *p;
    size_t len, cap;
} raw;

void raw_free(raw *r);
void raw_bytes(raw *r, const void *p, size_t n);
void raw_u8(raw *r, uint8_t v);
void raw_u32(raw *r, uint32_t v);
void raw_u64(raw *r, uint64_t v);
/* u64 length + bytes */
void raw_str(raw *r, const char *s);
void raw_str_n(raw *r, const char *s, size_t n);
/* "GGUF", version, tensor count, kv count */
void raw_header(raw *r, uint32_t version, uint64_t n_tensors, uint64_t n_kv);
/* key + type 4 (u32) + value */
void raw_kv_u32(raw *r, const char *key, uint32_t v);
void raw_kv_string(raw *r, const char *key, const char *v);
/* name, n_dims, ne[], ggml type id, offset */
void raw_tensor_info(raw *r, const char *name, uint32_t n_dims, const uint64_t *ne,
                     uint32_t ggml_type, uint64_t offset);
/* zero bytes up to a multiple of `alignment` */
void raw_pad(raw *r, size_t alignment);
void raw_zeros(raw *r, size_t n);

#endif

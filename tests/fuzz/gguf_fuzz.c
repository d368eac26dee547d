/* libFuzzer target for the GGUF reader: any input must either open, with every value, array
 * element and tensor byte readable through the public getters, or be refused with
 * VKQ_ERR_BAD_FILE (or out-of-memory) and a message. Crashes, reads out of bounds (the input
 * buffer is exactly the input's size, so AddressSanitizer sees them), undefined behaviour and
 * silent failures are findings.
 *
 * Build: scripts/fuzz.sh SECONDS (clang, -fsanitize=fuzzer,address,undefined). The reader's
 * sources are compiled into this executable with the fuzzer's instrumentation; the GPU layer
 * is not linked, so the one function of it the reader calls is defined below. */
#include "gguf/gguf.h"

#include <stdlib.h>
#include <string.h>

/* gpu/context.c's accessor, which vkq_gguf_open uses; this target has no context. */
vkq__diag *vkq__context_diag(vkq_context *ctx) {
    (void)ctx;
    return NULL;
}

static volatile uint64_t sink; /* keeps reads from being optimized away */

static void read_array(const vkq_gguf *g, const char *key) {
    vkq_gguf_value_type et = VKQ_GGUF_TYPE_NONE;
    uint64_t n = 0;
    if (vkq_gguf_get_array_info(g, key, &et, &n) != VKQ_OK) __builtin_trap();
    for (uint64_t i = 0; i < n; i++) {
        const char *s;
        uint64_t len;
        uint64_t u;
        int64_t v;
        double f;
        if (et == VKQ_GGUF_TYPE_STRING) {
            if (vkq_gguf_get_array_string(g, key, i, &s, &len) != VKQ_OK) __builtin_trap();
            if (s[len] != '\0') __builtin_trap();
            sink += len ? (uint8_t)s[len - 1] : 0;
        } else if (vkq_gguf_get_array_u64(g, key, i, 1, &u) == VKQ_OK) {
            sink += u;
        } else if (vkq_gguf_get_array_i64(g, key, i, 1, &v) == VKQ_OK) {
            sink += (uint64_t)v;
        } else if (vkq_gguf_get_array_f64(g, key, i, 1, &f) == VKQ_OK) {
            sink += (uint64_t)(f == f);
        }
    }
    /* Out of range must be refused, not read. */
    uint32_t x;
    if (vkq_gguf_get_array_u32(g, key, n, 1, &x) != VKQ_ERR_INVALID_ARGUMENT) __builtin_trap();
}

static void read_everything(const vkq_gguf *g) {
    for (uint64_t k = 0; k < vkq_gguf_key_count(g); k++) {
        const char *key = vkq_gguf_key_name(g, k);
        if (!key || vkq_gguf_find_key(g, key) != (int64_t)k) __builtin_trap();
        vkq_gguf_value_type t = vkq_gguf_key_type(g, k);
        uint64_t u;
        int64_t i;
        double f;
        int b;
        const char *s;
        uint64_t len;
        if (t == VKQ_GGUF_TYPE_ARRAY) read_array(g, key);
        else if (t == VKQ_GGUF_TYPE_STRING && vkq_gguf_get_string(g, key, &s, &len) == VKQ_OK)
            sink += len + (uint8_t)s[0];
        else if (vkq_gguf_get_u64(g, key, &u) == VKQ_OK) sink += u;
        else if (vkq_gguf_get_i64(g, key, &i) == VKQ_OK) sink += (uint64_t)i;
        else if (vkq_gguf_get_f64(g, key, &f) == VKQ_OK) sink += (uint64_t)(f == f);
        else if (vkq_gguf_get_bool(g, key, &b) == VKQ_OK) sink += (uint64_t)b;
        else __builtin_trap(); /* a value no getter can read */
    }
    for (uint64_t t = 0; t < vkq_gguf_tensor_count(g); t++) {
        vkq_gguf_tensor_info info;
        if (vkq_gguf_tensor(g, t, &info) != VKQ_OK) __builtin_trap();
        if (vkq_gguf_find_tensor(g, info.name) != (int64_t)t) __builtin_trap();
        if (info.file_offset % vkq_gguf_alignment(g) != 0) __builtin_trap();
        if (info.file_offset + info.bytes > vkq_gguf_file_size(g)) __builtin_trap();
        const uint8_t *p = info.data;
        sink += p[0] + p[info.bytes - 1]; /* the first and last byte: both must be mapped */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vkq__diag d;
    memset(&d, 0, sizeof d);
    vkq_gguf *g = NULL;
    vkq_status st = vkq__gguf_open_memory(&d, data, size, "fuzz", &g);
    if (st == VKQ_OK) {
        if (!g) __builtin_trap();
        read_everything(g);
        vkq__gguf_free(g);
        return 0;
    }
    if (g) __builtin_trap();
    if (st != VKQ_ERR_BAD_FILE && st != VKQ_ERR_OUT_OF_HOST_MEMORY) __builtin_trap();
    if (d.message[0] == '\0') __builtin_trap(); /* every refusal explains itself */
    return 0;
}

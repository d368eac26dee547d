/* Malformed and hostile files: each must be refused with the exact status and a message that
 * names what is wrong. Every file is handed to the reader in a buffer of exactly its size, so
 * that AddressSanitizer catches any read past the end. */
#include "gguf_tests.h"

#include "raw.h"

#include <stdlib.h>
#include <string.h>

static bool verbose_messages(void) {
    const char *v = getenv("VKQ_TEST_VERBOSE");
    return v && *v && strcmp(v, "0") != 0;
}

/* Opens bytes[0..len) from an exact-size copy; returns the status. */
static vkq_status open_exact(vkq_context *ctx, const uint8_t *bytes, size_t len) {
    uint8_t *copy = malloc(len ? len : 1);
    if (len) memcpy(copy, bytes, len);
    vkq_gguf *g = (vkq_gguf *)&copy;
    gguf_test_clear_error(ctx);
    vkq_status st = vkq_gguf_open_memory(ctx, copy, len, &g);
    CHECK_MSG((st == VKQ_OK) == (g != NULL), "open returned %d with handle %p", (int)st,
              (void *)g);
    vkq_gguf_close(g);
    free(copy);
    return st;
}

static void expect(vkq_context *ctx, raw *r, vkq_status want, const char *needle1,
                   const char *needle2, const char *label) {
    vkq_status st = open_exact(ctx, r->p, r->len);
    const char *msg = vkq_context_last_error(ctx);
    CHECK_MSG(st == want, "%s: got %s, want %s (%s)", label, vkq_status_string(st),
              vkq_status_string(want), msg);
    if (want != VKQ_OK) {
        CHECK_MSG(msg && *msg, "%s: empty message", label);
        CHECK_MSG(!needle1 || strstr(msg, needle1), "%s: '%s' lacks '%s'", label, msg, needle1);
        CHECK_MSG(!needle2 || strstr(msg, needle2), "%s: '%s' lacks '%s'", label, msg, needle2);
        if (verbose_messages()) printf("  %-34s %s\n", label, msg);
    }
    raw_free(r);
}

#define EXPECT_BAD(r, n1, n2, label) expect(ctx, (r), VKQ_ERR_BAD_FILE, (n1), (n2), (label))

/* ---- headers --------------------------------------------------------------------------------- */

static void bad_headers(vkq_context *ctx) {
    raw r = {0};
    EXPECT_BAD(&r, "not a GGUF file", "0 bytes", "empty file");
    raw_bytes(&r, "GGU", 3);
    EXPECT_BAD(&r, "not a GGUF file", "3 bytes", "3-byte file");
    raw_bytes(&r, "GGML", 4);
    raw_zeros(&r, 20);
    EXPECT_BAD(&r, "not a GGUF file", "47 47 4d 4c", "wrong magic");
    raw_bytes(&r, "GGUF", 4);
    EXPECT_BAD(&r, "header version", "byte 4", "no version");
    raw_header(&r, 1, 0, 0);
    EXPECT_BAD(&r, "version 1 (at byte 4) is not supported", NULL, "version 1");
    raw_header(&r, 4, 0, 0);
    EXPECT_BAD(&r, "unsupported GGUF version 4", NULL, "version 4");
    raw_header(&r, 0x03000000u, 0, 0);
    EXPECT_BAD(&r, "big-endian", NULL, "big-endian v3");
    raw_header(&r, 0, 0, 0);
    EXPECT_BAD(&r, "unsupported GGUF version 0", NULL, "version 0");
    raw_header(&r, 3, 0, 0);
    r.len -= 3;
    EXPECT_BAD(&r, "key-value count", "byte 16", "cut in kv count");
    /* The smallest valid files. */
    raw_header(&r, 3, 0, 0);
    expect(ctx, &r, VKQ_OK, NULL, NULL, "empty v3");
    raw_header(&r, 2, 0, 0);
    expect(ctx, &r, VKQ_OK, NULL, NULL, "empty v2");
}

static void huge_counts(vkq_context *ctx) {
    raw r = {0};
    raw_header(&r, 3, UINT64_MAX, 0);
    EXPECT_BAD(&r, "18446744073709551615 tensors", NULL, "tensor count 2^64-1");
    raw_header(&r, 3, 0, UINT64_MAX);
    EXPECT_BAD(&r, "18446744073709551615 key-values", NULL, "kv count 2^64-1");
    raw_header(&r, 3, 1ull << 62, 1ull << 62);
    EXPECT_BAD(&r, "tensors", "key-values", "counts overflow the product");
    /* One more entry than could fit: 2 real keys, count 3. */
    raw_header(&r, 3, 0, 3);
    raw_kv_u32(&r, "a", 1);
    raw_kv_u32(&r, "b", 2);
    EXPECT_BAD(&r, "3 key-values", NULL, "kv count one too many");
    raw_header(&r, 3, 0, 2);
    raw_kv_u32(&r, "a", 1);
    raw_kv_u32(&r, "b", 2);
    expect(ctx, &r, VKQ_OK, NULL, NULL, "kv count exact");
    /* Counts the size check lets through but the entries do not back up. */
    raw_header(&r, 3, 0, 3);
    raw_kv_string(&r, "abcdefghijklmnopqrstuvwxyz", "0123456789012345678901234567890123456789");
    EXPECT_BAD(&r, "truncated", "key #1", "kv count with too few entries");
}

static void huge_lengths(vkq_context *ctx) {
    raw r = {0};
    raw_header(&r, 3, 0, 1);
    raw_u64(&r, UINT64_MAX);
    raw_zeros(&r, 16);
    EXPECT_BAD(&r, "key #0", "18446744073709551615", "key length 2^64-1");
    raw_header(&r, 3, 0, 1);
    raw_u64(&r, 1ull << 20);
    raw_zeros(&r, 16);
    EXPECT_BAD(&r, "key #0", "65535", "key length over the spec's cap");
    raw_header(&r, 3, 0, 1);
    raw_u64(&r, 100);
    raw_bytes(&r, "short", 5);
    raw_zeros(&r, 10);
    EXPECT_BAD(&r, "key #0", "exceeds the", "key length past the end");
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "s");
    raw_u32(&r, 8);
    raw_u64(&r, UINT64_MAX - 3);
    raw_zeros(&r, 8);
    EXPECT_BAD(&r, "key 's' string value", "18446744073709551612", "string length huge");
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "arr");
    raw_u32(&r, 9);
    raw_u32(&r, 4); /* u32 elements */
    raw_u64(&r, 1ull << 62);
    raw_zeros(&r, 16);
    EXPECT_BAD(&r, "key 'arr'", "4611686018427387904 u32", "u32 array count huge");
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "arr");
    raw_u32(&r, 9);
    raw_u32(&r, 12); /* f64: count * 8 overflows 64 bits */
    raw_u64(&r, UINT64_MAX / 4);
    raw_zeros(&r, 16);
    EXPECT_BAD(&r, "key 'arr'", "f64", "f64 array count overflowing");
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "arr");
    raw_u32(&r, 9);
    raw_u32(&r, 8); /* strings */
    raw_u64(&r, 1ull << 40);
    raw_zeros(&r, 16);
    EXPECT_BAD(&r, "key 'arr'", "1099511627776 strings", "string array count huge");
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "arr");
    raw_u32(&r, 9);
    raw_u32(&r, 8);
    raw_u64(&r, 2);
    raw_str(&r, "ok");
    raw_u64(&r, 1000);
    raw_bytes(&r, "cut", 3);
    EXPECT_BAD(&r, "key 'arr' element 1", "1000", "string element past the end");
}

static void bad_values(vkq_context *ctx) {
    raw r = {0};
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "weird");
    raw_u32(&r, 13);
    raw_zeros(&r, 8);
    EXPECT_BAD(&r, "key 'weird'", "unknown value type 13", "value type 13");
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "weird");
    raw_u32(&r, UINT32_MAX);
    raw_zeros(&r, 8);
    EXPECT_BAD(&r, "key 'weird'", "4294967295", "value type 2^32-1");
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "nested");
    raw_u32(&r, 9);
    raw_u32(&r, 9);
    raw_u64(&r, 1);
    raw_zeros(&r, 16);
    EXPECT_BAD(&r, "key 'nested'", "arrays of arrays", "nested array");
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "arr");
    raw_u32(&r, 9);
    raw_u32(&r, 99);
    raw_u64(&r, 1);
    raw_zeros(&r, 16);
    EXPECT_BAD(&r, "key 'arr'", "element type 99", "array element type 99");
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "flag");
    raw_u32(&r, 7);
    raw_u8(&r, 2);
    EXPECT_BAD(&r, "key 'flag'", "bool value 2", "bool 2");
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "flags");
    raw_u32(&r, 9);
    raw_u32(&r, 7);
    raw_u64(&r, 3);
    raw_bytes(&r, "\x01\x00\x05", 3);
    EXPECT_BAD(&r, "key 'flags'", "element 2", "bool array element 5");
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "cut");
    raw_u32(&r, 10);
    raw_zeros(&r, 7);
    EXPECT_BAD(&r, "key 'cut' value", "needs 8 bytes", "u64 value cut short");
}

static void bad_keys(vkq_context *ctx) {
    static const struct {
        const char *bytes;
        size_t len;
        const char *needle;
        const char *label;
    } keys[] = {
        {"", 0, "is empty", "empty key"},
        {"a\xff", 2, "not valid UTF-8", "key with 0xFF"},
        {"\xc0\xaf", 2, "not valid UTF-8", "overlong '/'"},
        {"\xed\xa0\x80", 3, "not valid UTF-8", "surrogate"},
        {"\xf4\x90\x80\x80", 4, "not valid UTF-8", "past U+10FFFF"},
        {"ab\xe2\x82", 4, "not valid UTF-8", "cut multi-byte"},
        {"\x80x", 2, "not valid UTF-8", "lone continuation"},
        {"a\0b", 3, "zero byte", "key with NUL"},
    };
    for (size_t i = 0; i < VKQ__ARRAY_LEN(keys); i++) {
        raw r = {0};
        raw_header(&r, 3, 0, 1);
        raw_str_n(&r, keys[i].bytes, keys[i].len);
        raw_u32(&r, 4);
        raw_u32(&r, 1);
        EXPECT_BAD(&r, keys[i].needle, "key #0", keys[i].label);
    }
    raw r = {0};
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "ключ.✓.\xf0\x9f\x98\x80");
    raw_u32(&r, 4);
    raw_u32(&r, 1);
    expect(ctx, &r, VKQ_OK, NULL, NULL, "valid UTF-8 key");
    raw_header(&r, 3, 0, 3);
    raw_kv_u32(&r, "x.first", 1);
    raw_kv_u32(&r, "x.other", 2);
    raw_kv_string(&r, "x.first", "again");
    EXPECT_BAD(&r, "duplicate key 'x.first'", "#0", "duplicate key");
}

static void bad_alignment(vkq_context *ctx) {
    static const uint32_t values[] = {0, 3, 48, 0x80000001u};
    for (size_t i = 0; i < VKQ__ARRAY_LEN(values); i++) {
        raw r = {0};
        raw_header(&r, 3, 0, 1);
        raw_kv_u32(&r, "general.alignment", values[i]);
        char value[16];
        snprintf(value, sizeof value, "is %u,", values[i]);
        EXPECT_BAD(&r, "general.alignment", value, "alignment not a power of two");
    }
    raw r = {0};
    raw_header(&r, 3, 0, 1);
    raw_str(&r, "general.alignment");
    raw_u32(&r, 10); /* u64 */
    raw_u64(&r, 32);
    EXPECT_BAD(&r, "general.alignment", "type u64, expected u32", "alignment as u64");
    /* A huge alignment pushes the data section past the end of the file. */
    uint64_t ne[1] = {32};
    raw_header(&r, 3, 1, 1);
    raw_kv_u32(&r, "general.alignment", 1u << 30);
    raw_tensor_info(&r, "t", 1, ne, 0, 0);
    raw_zeros(&r, 128);
    EXPECT_BAD(&r, "data section starts at byte 1073741824", NULL, "alignment 2^30");
    raw_header(&r, 3, 1, 1);
    raw_kv_u32(&r, "general.alignment", 8);
    raw_tensor_info(&r, "t", 1, ne, 0, 0);
    raw_pad(&r, 8);
    raw_zeros(&r, 128);
    expect(ctx, &r, VKQ_OK, NULL, NULL, "alignment 8");
}

/* ---- tensor infos and layout --------------------------------------------------------------- */

typedef struct tinfo {
    const char *name;
    uint32_t n_dims;
    uint64_t ne[5];
    uint32_t type; /* ggml id */
    uint64_t offset;
} tinfo;

/* One key, the given tensor infos, padding to 32, data_bytes zero bytes of data. */
static void tensors_file(raw *r, const tinfo *t, size_t n, size_t data_bytes) {
    raw_header(r, 3, n, 1);
    raw_kv_string(r, "general.architecture", "llama");
    for (size_t i = 0; i < n; i++) {
        raw_tensor_info(r, t[i].name, t[i].n_dims, t[i].ne, t[i].type, t[i].offset);
    }
    raw_pad(r, 32);
    raw_zeros(r, data_bytes);
}

static void bad_tensor_infos(vkq_context *ctx) {
    raw r = {0};
    /* Baseline: valid. q4_0 {64, 2} is 4 blocks of 18 bytes = 72 bytes, then f32 {8} at 96. */
    tinfo ok[2] = {{"a.weight", 2, {64, 2}, 2, 0}, {"b.weight", 1, {8}, 0, 96}};
    tensors_file(&r, ok, 2, 128);
    expect(ctx, &r, VKQ_OK, NULL, NULL, "valid tensors");

    tinfo t[2];
    memcpy(t, ok, sizeof t);
    t[1].type = 99;
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'b.weight'", "type id 99", "ggml type 99");
    t[1].type = 16; /* IQ2_XXS: a real GGUF type vkq does not run */
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'b.weight'", "type id 16", "ggml type 16");
    t[1].type = 4; /* the removed Q4_2 */
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'b.weight'", "type id 4", "ggml type 4");

    memcpy(t, ok, sizeof t);
    t[0].n_dims = 0;
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'a.weight'", "n_dims 0", "n_dims 0");
    t[0].n_dims = 5;
    t[0].ne[2] = t[0].ne[3] = t[0].ne[4] = 1;
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'a.weight'", "n_dims 5", "n_dims 5");
    memcpy(t, ok, sizeof t);
    t[0].ne[1] = 0;
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'a.weight'", "ne[1] = 0", "zero dimension");
    t[0].ne[1] = 1ull << 63;
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'a.weight'", "ne[1] = 9223372036854775808", "dimension past int64");
    t[0].n_dims = 4;
    t[0].ne[0] = 1ull << 32, t[0].ne[1] = 1ull << 20, t[0].ne[2] = 1ull << 20, t[0].ne[3] = 1;
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'a.weight'", "element count overflows", "element count overflow");
    memcpy(t, ok, sizeof t);
    t[0].ne[0] = 33;
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'a.weight'", "ne[0] = 33 is not a multiple of q4_0", "row not blocks");
    memcpy(t, ok, sizeof t);
    t[0].ne[0] = 1ull << 62, t[0].ne[1] = 1; /* bytes = 2^57 * 18 overflows */
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'a.weight'", NULL, "byte size beyond the file");

    memcpy(t, ok, sizeof t);
    t[1].offset = 100;
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'b.weight'", "offset 100 is not a multiple of the alignment 32",
               "misaligned offset");
    t[1].offset = 128;
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'b.weight'", "runs past the end", "data past the end");
    t[1].offset = UINT64_MAX - 31;
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor 'b.weight'", "runs past the end", "offset near 2^64");
    t[1].offset = 96; /* ends exactly at the end of the file: valid */
    tensors_file(&r, t, 2, 128);
    expect(ctx, &r, VKQ_OK, NULL, NULL, "tensor ending at the end of the file");
    t[1].offset = 64; /* a.weight is [0, 72) */
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "'a.weight' [0, 72)", "overlap", "overlapping tensors");
    t[1].offset = 0;
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "overlap", NULL, "tensors at the same offset");

    memcpy(t, ok, sizeof t);
    t[1].name = "a.weight";
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "duplicate tensor name 'a.weight'", "#0", "duplicate tensor");
    t[1].name = "";
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor #1 name", "is empty", "empty tensor name");
    t[1].name = "bad\xfe";
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor #1 name", "not valid UTF-8", "tensor name not UTF-8");
    t[1].name = "n23456789012345678901234567890123456789012345678901234567890123456";
    tensors_file(&r, t, 2, 128);
    EXPECT_BAD(&r, "tensor #1 name", "limit of 64", "tensor name of 66 bytes");
    t[1].name = "n234567890123456789012345678901234567890123456789012345678901234";
    tensors_file(&r, t, 2, 128);
    expect(ctx, &r, VKQ_OK, NULL, NULL, "tensor name of 64 bytes");
}

void test_malformed(vkq_context *ctx) {
    bad_headers(ctx);
    huge_counts(ctx);
    huge_lengths(ctx);
    bad_values(ctx);
    bad_keys(ctx);
    bad_alignment(ctx);
    bad_tensor_infos(ctx);
}

/* ---- truncation and corruption of a real-looking file --------------------------------------- */

void test_truncation(vkq_context *ctx) {
    vkq__diag *d = vkq__context_diag(ctx);
    vkq__synth_desc desc = {0};
    desc.n_embd = 64;
    desc.n_ff = 128;
    desc.n_layer = 1;
    desc.n_head = 2;
    for (int i = 0; i < VKQ__SYNTH_ROLE_COUNT; i++) desc.types[i] = VKQ_TYPE_Q4_0;
    desc.types[VKQ__SYNTH_ATTN_V] = VKQ_TYPE_Q8_0;
    void *mem = NULL;
    size_t size = 0;
    CHECK_OK(ctx, vkq__synth_write_memory(d, &desc, &mem, &size));
    if (!mem) return;
    vkq_gguf *g = NULL;
    CHECK_OK(ctx, vkq_gguf_open_memory(ctx, mem, size, &g));
    if (!g) {
        free(mem);
        return;
    }
    /* Everything up to the end of the last tensor's data is needed; padding after it is not. */
    uint64_t needed = 0;
    for (uint64_t i = 0; i < vkq_gguf_tensor_count(g); i++) {
        vkq_gguf_tensor_info info;
        CHECK_OK(ctx, vkq_gguf_tensor(g, i, &info));
        needed = VKQ__MAX(needed, info.file_offset + info.bytes);
    }
    vkq_gguf_close(g);
    /* Every cut inside the header and metadata (each section boundary among them), and every
     * 7th byte of the data, which is read only as ranges. */
    int failures = 0;
    for (uint64_t cut = 0; cut < size; cut++) {
        if (cut > 4096 && cut < needed - 64 && cut % 7) continue;
        vkq_status st = open_exact(ctx, mem, (size_t)cut);
        vkq_status want = cut < needed ? VKQ_ERR_BAD_FILE : VKQ_OK;
        const char *msg = vkq_context_last_error(ctx);
        if (st != want || (st != VKQ_OK && !*msg)) {
            if (failures++ < 5) {
                CHECK_MSG(false, "cut at %llu of %zu: got %s, want %s: %s",
                          (unsigned long long)cut, size, vkq_status_string(st),
                          vkq_status_string(want), msg);
            }
        }
    }
    CHECK_MSG(failures == 0, "%d truncations gave the wrong result", failures);

    /* Random single-byte corruption of the header: any outcome but a crash, a read out of
     * bounds (the sanitizers watch) or a failure without a message. */
    uint8_t *copy = malloc(size);
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, mem, size);
        uint64_t limit = VKQ__MIN((uint64_t)size, 8192u);
        uint64_t at = test_rand_u64() % limit;
        copy[at] = (uint8_t)test_rand_u64();
        if (round % 3 == 0) copy[(at + 1) % limit] = 0xFF;
        vkq_status st = open_exact(ctx, copy, size);
        CHECK_MSG(st == VKQ_OK || (st == VKQ_ERR_BAD_FILE && *vkq_context_last_error(ctx)),
                  "corruption at byte %llu: %s", (unsigned long long)at, vkq_status_string(st));
    }
    free(copy);
    free(mem);
}

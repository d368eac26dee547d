/* Write -> read round trips of every metadata value type and every tensor format, the getters'
 * conversion rules, and the writer's own refusals (including the atomic-write guarantee). */
#include "gguf_tests.h"

#include "quant/quant.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_FIXED 10 /* fixed-size value types: u8 i8 u16 i16 u32 i32 u64 i64 f32 f64 (+ bool) */

/* What was written, to compare with what is read. */
typedef struct expected {
    uint8_t u8s[100];
    int8_t i8s[100];
    uint16_t u16s[100];
    int16_t i16s[100];
    uint32_t u32s[100];
    int32_t i32s[100];
    uint64_t u64s[100];
    int64_t i64s[100];
    float f32s[100];
    double f64s[100];
    bool bools[100];
    uint64_t n; /* elements in each array */
    uint8_t *tensor_data[VKQ_TYPE_COUNT + 3];
    uint64_t tensor_bytes[VKQ_TYPE_COUNT + 3];
    char tensor_names[VKQ_TYPE_COUNT + 3][64];
    uint64_t tensor_ne[VKQ_TYPE_COUNT + 3][4];
    uint32_t tensor_dims[VKQ_TYPE_COUNT + 3];
    vkq_type tensor_types[VKQ_TYPE_COUNT + 3];
    size_t n_tensors;
    uint32_t alignment;
} expected;

static const char *const strings[] = {"", "a", "héllo wörld ✓", "tab\tnewline\n",
                                      "\xf0\x9f\x98\x80"};
static const char with_nul[] = {'a', 0, 'b', 0, 'c'};

static void fill_expected(expected *e) {
    e->n = (uint64_t)test_rand_int(1, 100);
    for (uint64_t i = 0; i < e->n; i++) {
        uint64_t r = test_rand_u64();
        e->u8s[i] = (uint8_t)r;
        e->i8s[i] = (int8_t)(r >> 8);
        e->u16s[i] = (uint16_t)(r >> 16);
        e->i16s[i] = (int16_t)(r >> 24);
        e->u32s[i] = (uint32_t)(r >> 32);
        e->i32s[i] = (int32_t)r;
        e->u64s[i] = test_rand_u64();
        e->i64s[i] = (int64_t)test_rand_u64();
        e->f32s[i] = test_rand_normal() * 1000.0f;
        e->f64s[i] = (double)test_rand_normal() * 1e-200;
        e->bools[i] = (r >> 40) & 1;
    }
    /* The edges: extremes, negative zero, infinities, a subnormal. */
    e->u64s[0] = UINT64_MAX;
    e->i64s[0] = INT64_MIN;
    e->f32s[0] = -0.0f;
    if (e->n > 1) e->f32s[1] = INFINITY, e->f64s[1] = -INFINITY;
    if (e->n > 2) e->f32s[2] = 1e-45f;
}

static void add_metadata(vkq_context *ctx, vkq__gguf_writer *w, const expected *e) {
    CHECK_OK(ctx, vkq__gguf_writer_add_u8(w, "s.u8", 250));
    CHECK_OK(ctx, vkq__gguf_writer_add_i8(w, "s.i8", -100));
    CHECK_OK(ctx, vkq__gguf_writer_add_u16(w, "s.u16", 60000));
    CHECK_OK(ctx, vkq__gguf_writer_add_i16(w, "s.i16", -30000));
    CHECK_OK(ctx, vkq__gguf_writer_add_u32(w, "s.u32", 4000000000u));
    CHECK_OK(ctx, vkq__gguf_writer_add_i32(w, "s.i32", -2000000000));
    CHECK_OK(ctx, vkq__gguf_writer_add_u64(w, "s.u64", UINT64_MAX));
    CHECK_OK(ctx, vkq__gguf_writer_add_i64(w, "s.i64", INT64_MIN));
    CHECK_OK(ctx, vkq__gguf_writer_add_f32(w, "s.f32", 3.5f));
    CHECK_OK(ctx, vkq__gguf_writer_add_f64(w, "s.f64", -1e300));
    CHECK_OK(ctx, vkq__gguf_writer_add_bool(w, "s.true", true));
    CHECK_OK(ctx, vkq__gguf_writer_add_bool(w, "s.false", false));
    CHECK_OK(ctx, vkq__gguf_writer_add_string(w, "s.string", strings[2]));
    CHECK_OK(ctx, vkq__gguf_writer_add_string(w, "s.empty", ""));
    CHECK_OK(ctx, vkq__gguf_writer_add_string_n(w, "s.nul", with_nul, sizeof with_nul));
    CHECK_OK(ctx, vkq__gguf_writer_add_string(w, "ключ.ü", "unicode key"));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "a.u8", VKQ_GGUF_TYPE_U8, e->u8s, e->n));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "a.i8", VKQ_GGUF_TYPE_I8, e->i8s, e->n));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "a.u16", VKQ_GGUF_TYPE_U16, e->u16s, e->n));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "a.i16", VKQ_GGUF_TYPE_I16, e->i16s, e->n));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "a.u32", VKQ_GGUF_TYPE_U32, e->u32s, e->n));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "a.i32", VKQ_GGUF_TYPE_I32, e->i32s, e->n));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "a.u64", VKQ_GGUF_TYPE_U64, e->u64s, e->n));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "a.i64", VKQ_GGUF_TYPE_I64, e->i64s, e->n));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "a.f32", VKQ_GGUF_TYPE_F32, e->f32s, e->n));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "a.f64", VKQ_GGUF_TYPE_F64, e->f64s, e->n));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "a.bool", VKQ_GGUF_TYPE_BOOL, e->bools, e->n));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "a.empty", VKQ_GGUF_TYPE_U32, NULL, 0));
    CHECK_OK(ctx, vkq__gguf_writer_add_string_array(w, "a.strings", strings,
                                                    VKQ__ARRAY_LEN(strings)));
}

/* One tensor of every format (2-D, a few blocks per row), plus 1-, 3- and 4-D ones. */
static void add_tensors(vkq_context *ctx, vkq__gguf_writer *w, expected *e) {
    for (int t = VKQ_TYPE_NONE + 1; t <= VKQ_TYPE_COUNT + 2; t++) {
        size_t i = e->n_tensors++;
        vkq_type type = t < VKQ_TYPE_COUNT ? (vkq_type)t : VKQ_TYPE_F32;
        uint32_t block = vkq_type_block_elements(type);
        uint32_t dims = t < VKQ_TYPE_COUNT ? 2 : (uint32_t)(t - VKQ_TYPE_COUNT) * 2 + 1; /* 1,3 */
        if (t == VKQ_TYPE_COUNT + 2) dims = 4;
        uint64_t ne[4] = {block * (uint64_t)test_rand_int(1, 3), (uint64_t)test_rand_int(1, 5),
                          2, 3};
        snprintf(e->tensor_names[i], sizeof e->tensor_names[i], "t.%s.%ud", vkq_type_name(type),
                 dims);
        uint64_t rows = 1;
        for (uint32_t k = 1; k < dims; k++) rows *= ne[k];
        uint64_t row_bytes = 0;
        CHECK(vkq__row_bytes(type, ne[0], &row_bytes));
        e->tensor_bytes[i] = row_bytes * rows;
        e->tensor_data[i] = malloc(e->tensor_bytes[i]);
        for (uint64_t b = 0; b < e->tensor_bytes[i]; b++) {
            e->tensor_data[i][b] = (uint8_t)test_rand_u64();
        }
        for (uint32_t k = 0; k < 4; k++) e->tensor_ne[i][k] = k < dims ? ne[k] : 1;
        e->tensor_dims[i] = dims;
        e->tensor_types[i] = type;
        CHECK_OK(ctx, vkq__gguf_writer_add_tensor(w, e->tensor_names[i], type, dims, ne,
                                                  e->tensor_data[i]));
    }
}

static void check_arrays(vkq_context *ctx, const vkq_gguf *g, const expected *e) {
    uint32_t u32s[100];
    int32_t i32s[100];
    uint64_t u64s[100];
    int64_t i64s[100];
    float f32s[100];
    double f64s[100];
    int bools[100];
    uint64_t n = e->n;
    CHECK_OK(ctx, vkq_gguf_get_array_u32(g, "a.u8", 0, n, u32s));
    for (uint64_t i = 0; i < n; i++) CHECK(u32s[i] == e->u8s[i]);
    CHECK_OK(ctx, vkq_gguf_get_array_i32(g, "a.i8", 0, n, i32s));
    for (uint64_t i = 0; i < n; i++) CHECK(i32s[i] == e->i8s[i]);
    CHECK_OK(ctx, vkq_gguf_get_array_u32(g, "a.u16", 0, n, u32s));
    for (uint64_t i = 0; i < n; i++) CHECK(u32s[i] == e->u16s[i]);
    CHECK_OK(ctx, vkq_gguf_get_array_i32(g, "a.i16", 0, n, i32s));
    for (uint64_t i = 0; i < n; i++) CHECK(i32s[i] == e->i16s[i]);
    CHECK_OK(ctx, vkq_gguf_get_array_u32(g, "a.u32", 0, n, u32s));
    for (uint64_t i = 0; i < n; i++) CHECK(u32s[i] == e->u32s[i]);
    CHECK_OK(ctx, vkq_gguf_get_array_i32(g, "a.i32", 0, n, i32s));
    for (uint64_t i = 0; i < n; i++) CHECK(i32s[i] == e->i32s[i]);
    CHECK_OK(ctx, vkq_gguf_get_array_u64(g, "a.u64", 0, n, u64s));
    for (uint64_t i = 0; i < n; i++) CHECK(u64s[i] == e->u64s[i]);
    CHECK_OK(ctx, vkq_gguf_get_array_i64(g, "a.i64", 0, n, i64s));
    for (uint64_t i = 0; i < n; i++) CHECK(i64s[i] == e->i64s[i]);
    CHECK_OK(ctx, vkq_gguf_get_array_f32(g, "a.f32", 0, n, f32s));
    CHECK(memcmp(f32s, e->f32s, n * sizeof *f32s) == 0); /* bit-exact, -0.0 included */
    CHECK_OK(ctx, vkq_gguf_get_array_f64(g, "a.f64", 0, n, f64s));
    CHECK(memcmp(f64s, e->f64s, n * sizeof *f64s) == 0);
    CHECK_OK(ctx, vkq_gguf_get_array_bool(g, "a.bool", 0, n, bools));
    for (uint64_t i = 0; i < n; i++) CHECK(bools[i] == (int)e->bools[i]);
    /* A sub-range reads the same elements. */
    if (n > 3) {
        CHECK_OK(ctx, vkq_gguf_get_array_i64(g, "a.i64", 2, n - 3, i64s));
        CHECK(i64s[0] == e->i64s[2] && i64s[n - 4] == e->i64s[n - 2]);
    }
    vkq_gguf_value_type et = VKQ_GGUF_TYPE_NONE;
    uint64_t count = 99;
    CHECK_OK(ctx, vkq_gguf_get_array_info(g, "a.empty", &et, &count));
    CHECK(et == VKQ_GGUF_TYPE_U32 && count == 0);
    CHECK_OK(ctx, vkq_gguf_get_array_u32(g, "a.empty", 0, 0, NULL));
    CHECK_OK(ctx, vkq_gguf_get_array_info(g, "a.strings", &et, &count));
    CHECK(et == VKQ_GGUF_TYPE_STRING && count == VKQ__ARRAY_LEN(strings));
    for (uint64_t i = 0; i < count; i++) {
        const char *s = NULL;
        uint64_t len = 0;
        CHECK_OK(ctx, vkq_gguf_get_array_string(g, "a.strings", i, &s, &len));
        CHECK(s && strcmp(s, strings[i]) == 0 && len == strlen(strings[i]));
    }
}

static void check_scalars(vkq_context *ctx, const vkq_gguf *g) {
    uint32_t u32 = 0;
    int32_t i32 = 0;
    uint64_t u64 = 0;
    int64_t i64 = 0;
    float f32 = 0;
    double f64 = 0;
    int b = -1;
    CHECK_OK(ctx, vkq_gguf_get_u32(g, "s.u8", &u32));
    CHECK(u32 == 250);
    CHECK_OK(ctx, vkq_gguf_get_i32(g, "s.i8", &i32));
    CHECK(i32 == -100);
    CHECK_OK(ctx, vkq_gguf_get_u32(g, "s.u16", &u32));
    CHECK(u32 == 60000);
    CHECK_OK(ctx, vkq_gguf_get_i32(g, "s.i16", &i32));
    CHECK(i32 == -30000);
    CHECK_OK(ctx, vkq_gguf_get_u32(g, "s.u32", &u32));
    CHECK(u32 == 4000000000u);
    CHECK_OK(ctx, vkq_gguf_get_i32(g, "s.i32", &i32));
    CHECK(i32 == -2000000000);
    CHECK_OK(ctx, vkq_gguf_get_u64(g, "s.u64", &u64));
    CHECK(u64 == UINT64_MAX);
    CHECK_OK(ctx, vkq_gguf_get_i64(g, "s.i64", &i64));
    CHECK(i64 == INT64_MIN);
    CHECK_OK(ctx, vkq_gguf_get_f32(g, "s.f32", &f32));
    CHECK(f32 == 3.5f);
    CHECK_OK(ctx, vkq_gguf_get_f64(g, "s.f64", &f64));
    CHECK(f64 == -1e300);
    CHECK_OK(ctx, vkq_gguf_get_bool(g, "s.true", &b));
    CHECK(b == 1);
    CHECK_OK(ctx, vkq_gguf_get_bool(g, "s.false", &b));
    CHECK(b == 0);
    const char *s = NULL;
    uint64_t len = 0;
    CHECK_OK(ctx, vkq_gguf_get_string(g, "s.string", &s, &len));
    CHECK(s && strcmp(s, strings[2]) == 0 && len == strlen(strings[2]));
    CHECK_OK(ctx, vkq_gguf_get_string(g, "s.empty", &s, NULL));
    CHECK(s && *s == '\0');
    CHECK_OK(ctx, vkq_gguf_get_string(g, "s.nul", &s, &len));
    CHECK(len == sizeof with_nul && memcmp(s, with_nul, sizeof with_nul) == 0 && s[len] == 0);
    CHECK_OK(ctx, vkq_gguf_get_string(g, "ключ.ü", &s, NULL));
    CHECK(s && strcmp(s, "unicode key") == 0);
}

static void check_tensors(vkq_context *ctx, const vkq_gguf *g, const expected *e) {
    CHECK(vkq_gguf_tensor_count(g) == e->n_tensors);
    for (size_t i = 0; i < e->n_tensors; i++) {
        vkq_gguf_tensor_info info;
        memset(&info, 0xAB, sizeof info);
        CHECK_OK(ctx, vkq_gguf_tensor(g, i, &info));
        CHECK(strcmp(info.name, e->tensor_names[i]) == 0);
        CHECK(info.n_dims == e->tensor_dims[i] && info.type == e->tensor_types[i]);
        CHECK(memcmp(info.ne, e->tensor_ne[i], sizeof info.ne) == 0);
        CHECK(info.bytes == e->tensor_bytes[i]);
        CHECK(info.elements == info.ne[0] * info.ne[1] * info.ne[2] * info.ne[3]);
        CHECK(info.file_offset % e->alignment == 0 && info.offset % e->alignment == 0);
        CHECK(info.file_offset == vkq_gguf_data_offset(g) + info.offset);
        CHECK(info.data && memcmp(info.data, e->tensor_data[i], info.bytes) == 0);
        CHECK(vkq_gguf_find_tensor(g, e->tensor_names[i]) == (int64_t)i);
        vkq_gguf_tensor_info by_name;
        CHECK_OK(ctx, vkq_gguf_tensor_by_name(g, e->tensor_names[i], &by_name));
        CHECK(by_name.data == info.data && by_name.bytes == info.bytes);
    }
    CHECK(vkq_gguf_data_offset(g) % e->alignment == 0);
    CHECK(vkq_gguf_find_tensor(g, "no.such.tensor") == -1);
}

static void check_file(vkq_context *ctx, const vkq_gguf *g, const expected *e) {
    CHECK(vkq_gguf_version(g) == 3);
    CHECK(vkq_gguf_alignment(g) == e->alignment);
    /* File order is add order; general.alignment (written by the writer) comes first. */
    uint64_t first = e->alignment != 32 ? 1 : 0;
    CHECK(vkq_gguf_key_count(g) == first + 16 + 13);
    if (first) CHECK(strcmp(vkq_gguf_key_name(g, 0), "general.alignment") == 0);
    CHECK(strcmp(vkq_gguf_key_name(g, first), "s.u8") == 0);
    CHECK(vkq_gguf_key_type(g, first) == VKQ_GGUF_TYPE_U8);
    CHECK(vkq_gguf_key_type(g, first + 7) == VKQ_GGUF_TYPE_I64);
    CHECK(vkq_gguf_key_type(g, first + 16) == VKQ_GGUF_TYPE_ARRAY);
    CHECK(vkq_gguf_key_name(g, vkq_gguf_key_count(g)) == NULL);
    CHECK(vkq_gguf_key_type(g, vkq_gguf_key_count(g)) == VKQ_GGUF_TYPE_NONE);
    CHECK(vkq_gguf_find_key(g, "s.f64") == (int64_t)(first + 9));
    CHECK(vkq_gguf_find_key(g, "s.f6") == -1);
    check_scalars(ctx, g);
    check_arrays(ctx, g, e);
    check_tensors(ctx, g, e);
}

static void roundtrip_once(vkq_context *ctx, uint32_t alignment) {
    vkq__diag *d = vkq__context_diag(ctx);
    expected *e = calloc(1, sizeof *e);
    e->alignment = alignment;
    fill_expected(e);
    vkq__gguf_writer *w = NULL;
    CHECK_OK(ctx, vkq__gguf_writer_create(d, &w));
    if (alignment != 32) CHECK_OK(ctx, vkq__gguf_writer_set_alignment(w, alignment));
    add_metadata(ctx, w, e);
    add_tensors(ctx, w, e);

    void *mem = NULL;
    size_t size = 0;
    CHECK_OK(ctx, vkq__gguf_writer_write_memory(w, &mem, &size));
    vkq_gguf *g = NULL;
    CHECK_OK(ctx, vkq_gguf_open_memory(ctx, mem, size, &g));
    if (g) check_file(ctx, g, e);
    vkq_gguf_close(g);

    /* The same through a file, and the file's bytes are the memory image's. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/vkq_test_gguf_%ld.gguf", (long)getpid());
    CHECK_OK(ctx, vkq__gguf_writer_write_file(w, path));
    g = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, path, &g));
    if (g) {
        check_file(ctx, g, e);
        CHECK(vkq_gguf_file_size(g) == size);
        vkq_gguf_tensor_info info;
        CHECK_OK(ctx, vkq_gguf_tensor(g, 0, &info));
        CHECK(memcmp((const uint8_t *)info.data - info.file_offset, mem, size) == 0);
    }
    vkq_gguf_close(g);
    remove(path);
    free(mem);
    vkq__gguf_writer_destroy(w);
    for (size_t i = 0; i < e->n_tensors; i++) free(e->tensor_data[i]);
    free(e);
}

void test_roundtrip(vkq_context *ctx) {
    roundtrip_once(ctx, 32);
    roundtrip_once(ctx, 64);
    roundtrip_once(ctx, 1);
    roundtrip_once(ctx, 4096);
}

/* ---- getter conversions and errors ----------------------------------------------------------- */

static void expect_fail(vkq_context *ctx, vkq_status got, vkq_status want, const char *needle1,
                        const char *needle2, int line) {
    const char *msg = vkq_context_last_error(ctx);
    CHECK_MSG(got == want, "line %d: got %s, want %s (%s)", line, vkq_status_string(got),
              vkq_status_string(want), msg);
    CHECK_MSG(needle1 == NULL || strstr(msg, needle1), "line %d: '%s' lacks '%s'", line, msg,
              needle1);
    CHECK_MSG(needle2 == NULL || strstr(msg, needle2), "line %d: '%s' lacks '%s'", line, msg,
              needle2);
    gguf_test_clear_error(ctx);
}
#define EXPECT_FAIL(expr, want, n1, n2) expect_fail(ctx, (expr), (want), (n1), (n2), __LINE__)

void test_getters(vkq_context *ctx) {
    vkq__diag *d = vkq__context_diag(ctx);
    vkq__gguf_writer *w = NULL;
    CHECK_OK(ctx, vkq__gguf_writer_create(d, &w));
    int32_t minus[3] = {5, -1, 7};
    double f64s[2] = {0.5, 1e300};
    CHECK_OK(ctx, vkq__gguf_writer_add_u8(w, "k.u8", 200));
    CHECK_OK(ctx, vkq__gguf_writer_add_i32(w, "k.neg", -1));
    CHECK_OK(ctx, vkq__gguf_writer_add_u64(w, "k.big", 1ull << 40));
    CHECK_OK(ctx, vkq__gguf_writer_add_f64(w, "k.f64", 0.25));
    CHECK_OK(ctx, vkq__gguf_writer_add_string(w, "k.str", "text"));
    CHECK_OK(ctx, vkq__gguf_writer_add_bool(w, "k.bool", true));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "k.ints", VKQ_GGUF_TYPE_I32, minus, 3));
    CHECK_OK(ctx, vkq__gguf_writer_add_array(w, "k.f64s", VKQ_GGUF_TYPE_F64, f64s, 2));
    void *mem = NULL;
    size_t size = 0;
    CHECK_OK(ctx, vkq__gguf_writer_write_memory(w, &mem, &size));
    vkq__gguf_writer_destroy(w);
    vkq_gguf *g = NULL;
    CHECK_OK(ctx, vkq_gguf_open_memory(ctx, mem, size, &g));
    if (!g) {
        free(mem);
        return;
    }
    uint32_t u32;
    int32_t i32;
    uint64_t u64;
    int64_t i64;
    float f32;
    int b;
    const char *s;
    /* Conversions that fit. */
    CHECK_OK(ctx, vkq_gguf_get_u64(g, "k.u8", &u64));
    CHECK(u64 == 200);
    CHECK_OK(ctx, vkq_gguf_get_i32(g, "k.u8", &i32));
    CHECK(i32 == 200);
    CHECK_OK(ctx, vkq_gguf_get_i64(g, "k.neg", &i64));
    CHECK(i64 == -1);
    CHECK_OK(ctx, vkq_gguf_get_f32(g, "k.f64", &f32));
    CHECK(f32 == 0.25f);
    CHECK_OK(ctx, vkq_gguf_get_u64(g, "k.big", &u64));
    CHECK(u64 == 1ull << 40);
    /* Missing keys and wrong types name the key and both types. */
    EXPECT_FAIL(vkq_gguf_get_u32(g, "k.missing", &u32), VKQ_ERR_NOT_FOUND, "'k.missing'", NULL);
    EXPECT_FAIL(vkq_gguf_get_u32(g, "k.neg", &u32), VKQ_ERR_WRONG_TYPE, "'k.neg'", "i32 -1");
    EXPECT_FAIL(vkq_gguf_get_u32(g, "k.neg", &u32), VKQ_ERR_WRONG_TYPE, "u32", NULL);
    EXPECT_FAIL(vkq_gguf_get_u32(g, "k.big", &u32), VKQ_ERR_WRONG_TYPE, "'k.big'", "u64");
    EXPECT_FAIL(vkq_gguf_get_u32(g, "k.str", &u32), VKQ_ERR_WRONG_TYPE, "string", "u32");
    EXPECT_FAIL(vkq_gguf_get_u32(g, "k.f64", &u32), VKQ_ERR_WRONG_TYPE, "f64", "u32");
    EXPECT_FAIL(vkq_gguf_get_f32(g, "k.u8", &f32), VKQ_ERR_WRONG_TYPE, "u8", "f32");
    EXPECT_FAIL(vkq_gguf_get_bool(g, "k.u8", &b), VKQ_ERR_WRONG_TYPE, "u8", "bool");
    EXPECT_FAIL(vkq_gguf_get_string(g, "k.bool", &s, NULL), VKQ_ERR_WRONG_TYPE, "bool", "string");
    EXPECT_FAIL(vkq_gguf_get_string(g, "k.ints", &s, NULL), VKQ_ERR_WRONG_TYPE, "array of i32",
                "string");
    EXPECT_FAIL(vkq_gguf_get_u32(g, "k.ints", &u32), VKQ_ERR_WRONG_TYPE, "array", "u32");
    EXPECT_FAIL(vkq_gguf_get_array_info(g, "k.str", NULL, NULL), VKQ_ERR_WRONG_TYPE, "k.str",
                "array");
    /* Arrays: element conversions, ranges. */
    uint32_t u32s[3];
    CHECK_OK(ctx, vkq_gguf_get_array_u32(g, "k.ints", 2, 1, u32s));
    CHECK(u32s[0] == 7);
    EXPECT_FAIL(vkq_gguf_get_array_u32(g, "k.ints", 0, 3, u32s), VKQ_ERR_WRONG_TYPE, "element 1",
                "does not fit u32");
    EXPECT_FAIL(vkq_gguf_get_array_u32(g, "k.ints", 2, 2, u32s), VKQ_ERR_INVALID_ARGUMENT,
                "k.ints", "3 elements");
    EXPECT_FAIL(vkq_gguf_get_array_u32(g, "k.ints", UINT64_MAX, 2, u32s),
                VKQ_ERR_INVALID_ARGUMENT, "k.ints", NULL);
    EXPECT_FAIL(vkq_gguf_get_array_string(g, "k.ints", 0, &s, NULL), VKQ_ERR_WRONG_TYPE,
                "array of i32", "string");
    EXPECT_FAIL(vkq_gguf_get_array_i32(g, "k.f64s", 0, 1, &i32), VKQ_ERR_WRONG_TYPE, "f64",
                "i32");
    float f32s[2];
    CHECK_OK(ctx, vkq_gguf_get_array_f32(g, "k.f64s", 0, 2, f32s));
    CHECK(f32s[0] == 0.5f && isinf(f32s[1])); /* f64 -> f32 rounds, here to infinity */
    /* NULL arguments. */
    EXPECT_FAIL(vkq_gguf_get_u32(g, NULL, &u32), VKQ_ERR_INVALID_ARGUMENT, NULL, NULL);
    EXPECT_FAIL(vkq_gguf_get_u32(g, "k.u8", NULL), VKQ_ERR_INVALID_ARGUMENT, NULL, NULL);
    CHECK(vkq_gguf_get_u32(NULL, "k.u8", &u32) == VKQ_ERR_INVALID_ARGUMENT);
    CHECK(vkq_gguf_find_key(g, NULL) == -1 && vkq_gguf_find_key(NULL, "k.u8") == -1);
    vkq_gguf_tensor_info info;
    EXPECT_FAIL(vkq_gguf_tensor(g, 0, &info), VKQ_ERR_INVALID_ARGUMENT, "index 0 of 0", NULL);
    EXPECT_FAIL(vkq_gguf_tensor_by_name(g, "x.weight", &info), VKQ_ERR_NOT_FOUND, "'x.weight'",
                NULL);
    vkq_gguf_close(g);
    vkq_gguf_close(NULL);
    free(mem);
    /* Opening: NULL arguments, missing files. */
    vkq_gguf *out = (vkq_gguf *)&out;
    EXPECT_FAIL(vkq_gguf_open(ctx, NULL, &out), VKQ_ERR_INVALID_ARGUMENT, NULL, NULL);
    CHECK(out == NULL);
    CHECK(vkq_gguf_open(NULL, "x", &out) == VKQ_ERR_INVALID_ARGUMENT);
    EXPECT_FAIL(vkq_gguf_open(ctx, "/nonexistent/dir/model.gguf", &out), VKQ_ERR_NOT_FOUND,
                "/nonexistent/dir/model.gguf", NULL);
    EXPECT_FAIL(vkq_gguf_open(ctx, "/tmp", &out), VKQ_ERR_IO, "/tmp", NULL);
    EXPECT_FAIL(vkq_gguf_open_memory(ctx, NULL, 5, &out), VKQ_ERR_INVALID_ARGUMENT, NULL, NULL);
}

/* ---- writer refusals ------------------------------------------------------------------------ */

static int count_temporaries(const char *dir, const char *prefix) {
    int n = 0;
    DIR *dp = opendir(dir);
    if (!dp) return -1;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 && strstr(de->d_name, ".tmp.")) n++;
    }
    closedir(dp);
    return n;
}

void test_writer_errors(vkq_context *ctx) {
    vkq__diag *d = vkq__context_diag(ctx);
    vkq__gguf_writer *w = NULL;
    CHECK_OK(ctx, vkq__gguf_writer_create(d, &w));
    float data[64] = {0};
    uint64_t ne[2] = {32, 2};
    CHECK_OK(ctx, vkq__gguf_writer_add_u32(w, "dup", 1));
    EXPECT_FAIL(vkq__gguf_writer_add_u32(w, "dup", 2), VKQ_ERR_INVALID_ARGUMENT, "'dup'", NULL);
    EXPECT_FAIL(vkq__gguf_writer_add_u32(w, "", 2), VKQ_ERR_INVALID_ARGUMENT, "empty", NULL);
    EXPECT_FAIL(vkq__gguf_writer_add_u32(w, "bad\xff", 2), VKQ_ERR_INVALID_ARGUMENT, "UTF-8",
                NULL);
    EXPECT_FAIL(vkq__gguf_writer_add_u64(w, "general.alignment", 64), VKQ_ERR_INVALID_ARGUMENT,
                "general.alignment", NULL);
    EXPECT_FAIL(vkq__gguf_writer_add_u32(w, "general.alignment", 48), VKQ_ERR_INVALID_ARGUMENT,
                "48", NULL);
    EXPECT_FAIL(vkq__gguf_writer_set_alignment(w, 0), VKQ_ERR_INVALID_ARGUMENT, "power of two",
                NULL);
    CHECK_OK(ctx, vkq__gguf_writer_add_tensor(w, "t", VKQ_TYPE_F32, 2, ne, data));
    EXPECT_FAIL(vkq__gguf_writer_add_tensor(w, "t", VKQ_TYPE_F32, 2, ne, data),
                VKQ_ERR_INVALID_ARGUMENT, "duplicate tensor 't'", NULL);
    uint64_t odd[2] = {33, 1};
    EXPECT_FAIL(vkq__gguf_writer_add_tensor(w, "q", VKQ_TYPE_Q4_0, 2, odd, data),
                VKQ_ERR_INVALID_ARGUMENT, "q4_0", "33");
    EXPECT_FAIL(vkq__gguf_writer_add_tensor(w, "q", VKQ_TYPE_F32, 5, ne, data),
                VKQ_ERR_INVALID_ARGUMENT, "n_dims 5", NULL);
    uint64_t zero[2] = {32, 0};
    EXPECT_FAIL(vkq__gguf_writer_add_tensor(w, "q", VKQ_TYPE_F32, 2, zero, data),
                VKQ_ERR_INVALID_ARGUMENT, "ne[1] = 0", NULL);
    EXPECT_FAIL(vkq__gguf_writer_add_tensor(w, "q", VKQ_TYPE_NONE, 2, ne, data),
                VKQ_ERR_INVALID_ARGUMENT, "none", NULL);
    char long_name[80];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    EXPECT_FAIL(vkq__gguf_writer_add_tensor(w, long_name, VKQ_TYPE_F32, 2, ne, data),
                VKQ_ERR_INVALID_ARGUMENT, "1..63 bytes", NULL);

    /* A failed write leaves neither output nor temporary: here the target is a directory, so
     * the final rename fails after the whole file was written. */
    char dir[64], target[96];
    snprintf(dir, sizeof dir, "/tmp/vkq_test_gguf_dir_%ld", (long)getpid());
    snprintf(target, sizeof target, "%s/out.gguf", dir);
    mkdir(dir, 0755);
    mkdir(target, 0755);
    EXPECT_FAIL(vkq__gguf_writer_write_file(w, target), VKQ_ERR_IO, "out.gguf", NULL);
    struct stat sb;
    CHECK(stat(target, &sb) == 0 && S_ISDIR(sb.st_mode));
    CHECK(count_temporaries(dir, "out.gguf") == 0);
    rmdir(target);
    /* A target in a missing directory: nothing is created. */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/no/such/dir/out.gguf", dir);
    EXPECT_FAIL(vkq__gguf_writer_write_file(w, missing), VKQ_ERR_IO, "out.gguf", NULL);
    /* A successful write replaces an existing file and leaves no temporary. */
    FILE *f = fopen(target, "wb");
    if (f) {
        fputs("old contents", f);
        fclose(f);
    }
    CHECK_OK(ctx, vkq__gguf_writer_write_file(w, target));
    vkq_gguf *g = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, target, &g));
    CHECK(g && vkq_gguf_tensor_count(g) == 1);
    vkq_gguf_close(g);
    CHECK(count_temporaries(dir, "out.gguf") == 0);
    remove(target);
    rmdir(dir);
    vkq__gguf_writer_destroy(w);
    vkq__gguf_writer_destroy(NULL);
}

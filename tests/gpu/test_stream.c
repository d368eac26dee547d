/* Streaming kernels (copy, element-wise) against their CPU references on sizes that are not
 * multiples of the workgroup size, and the split path for bindings larger than
 * maxStorageBufferRange (forced by lowering the limit in the context descriptor). */
#include "common/test.h"
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

static void check_binary(vkq_context *ctx, vkq__binary_op op, uint64_t n) {
    float *a = malloc(n * 4), *b = malloc(n * 4), *want = malloc(n * 4), *got = malloc(n * 4);
    for (uint64_t i = 0; i < n; i++) a[i] = test_rand_normal(), b[i] = test_rand_normal();
    vkq__ref_binary(op, a, b, want, n);
    vkq__buffer ba, bb, bo;
    CHECK_OK(ctx, vkq__buffer_create(ctx, n * 4, VKQ__MEM_DEVICE, "a", &ba));
    CHECK_OK(ctx, vkq__buffer_create(ctx, n * 4, VKQ__MEM_DEVICE, "b", &bb));
    CHECK_OK(ctx, vkq__buffer_create(ctx, n * 4, VKQ__MEM_DEVICE, "out", &bo));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &ba, 0, a, n * 4));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &bb, 0, b, n * 4));
    CHECK_OK(ctx, vkq__buffer_fill(ctx, &bo, 0x7fc00000u)); /* NaN: unwritten outputs show */
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    CHECK_OK(ctx, vkq__op_binary(rec, op, vkq__view_of(&ba), vkq__view_of(&bb), vkq__view_of(&bo), n));
    CHECK_OK(ctx, vkq__recording_submit_wait(rec));
    CHECK_OK(ctx, vkq__buffer_download(ctx, &bo, 0, got, n * 4));
    /* One IEEE operation per element: the result must be bit-exact. */
    uint64_t bad = 0;
    for (uint64_t i = 0; i < n; i++) bad += memcmp(&got[i], &want[i], 4) != 0;
    CHECK_MSG(bad == 0, "binary op %d, n=%llu: %llu elements differ", (int)op, (unsigned long long)n,
              (unsigned long long)bad);
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &ba), vkq__buffer_destroy(ctx, &bb), vkq__buffer_destroy(ctx, &bo);
    free(a), free(b), free(want), free(got);
}

static void check_copy(vkq_context *ctx, uint64_t bytes) {
    uint8_t *src = malloc(bytes), *got = malloc(bytes);
    for (uint64_t i = 0; i < bytes; i++) src[i] = (uint8_t)test_rand_u64();
    vkq__buffer bs, bd;
    CHECK_OK(ctx, vkq__buffer_create(ctx, bytes, VKQ__MEM_DEVICE, "src", &bs));
    CHECK_OK(ctx, vkq__buffer_create(ctx, bytes, VKQ__MEM_DEVICE, "dst", &bd));
    CHECK_OK(ctx, vkq__buffer_upload(ctx, &bs, 0, src, bytes));
    CHECK_OK(ctx, vkq__buffer_fill(ctx, &bd, 0xdeadbeefu));
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    CHECK_OK(ctx, vkq__op_copy(rec, vkq__view_of(&bs), vkq__view_of(&bd)));
    CHECK_OK(ctx, vkq__recording_submit_wait(rec));
    CHECK_OK(ctx, vkq__buffer_download(ctx, &bd, 0, got, bytes));
    CHECK_MSG(memcmp(src, got, bytes) == 0, "copy of %llu bytes differs", (unsigned long long)bytes);
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &bs), vkq__buffer_destroy(ctx, &bd);
    free(src), free(got);
}

static void check_wrong_arguments(vkq_context *ctx) {
    vkq__buffer b;
    CHECK_OK(ctx, vkq__buffer_create(ctx, 1024, VKQ__MEM_DEVICE, "b", &b));
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    CHECK_STATUS(ctx, vkq__op_copy(rec, vkq__subview(&b, 0, 100), vkq__subview(&b, 512, 100)),
                 VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq__op_binary(rec, VKQ__BINARY_ADD, vkq__view_of(&b), vkq__view_of(&b),
                                     vkq__view_of(&b), 1000), VKQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vkq_context_last_error(ctx), "1000") != NULL);
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &b);
}

int main(void) {
    test_init("test_gpu_stream");
    vkq_context *ctx = test_gpu_context();
    if (ctx) {
        for (int i = 0; i < 4; i++) {
            uint64_t n = (uint64_t)test_rand_int(1, 300000);
            check_binary(ctx, VKQ__BINARY_ADD, n);
            check_binary(ctx, VKQ__BINARY_MUL, n);
            check_copy(ctx, 16 * (uint64_t)test_rand_int(1, 100000));
        }
        check_binary(ctx, VKQ__BINARY_ADD, 1);
        check_binary(ctx, VKQ__BINARY_MUL, 257);
        check_wrong_arguments(ctx);
        test_gpu_context_destroy(ctx);
    }
    /* Split path: a 4 KiB binding limit forces every op above into many dispatches. */
    vkq_context_desc desc = {.max_storage_buffer_range = 4096};
    ctx = test_gpu_context_desc(desc);
    if (ctx) {
        check_binary(ctx, VKQ__BINARY_ADD, 1025 * 7 + 3);
        check_binary(ctx, VKQ__BINARY_MUL, 4096);
        check_copy(ctx, 16 * 1000 + 16);
        test_gpu_context_destroy(ctx);
    }
    return test_finish();
}

/* get_rows for every format: values within one ulp of the reference dequantization (in
 * practice bit-exact), repeated ids, an out-of-range id (a row of zeros), and the argument
 * checks. */
#include "kernels_test.h"

#include <string.h>

static void check_errors(vkq_context *ctx) {
    vkq__buffer b;
    CHECK_OK(ctx, vkq__buffer_create(ctx, 4096, VKQ__MEM_DEVICE, "b", &b));
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    vkq__view v = vkq__view_of(&b);
    CHECK_STATUS(ctx, vkq__op_get_rows(rec, VKQ_TYPE_Q6_K, v, 128, 4, v, 1, v), VKQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vkq_context_last_error(ctx), "q6_k") != NULL);
    CHECK_STATUS(ctx, vkq__op_get_rows(rec, VKQ_TYPE_Q8_0, v, 64, 1000, v, 1, v), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq__op_get_rows(rec, VKQ_TYPE_Q8_1, v, 64, 4, v, 1, v), VKQ_ERR_UNSUPPORTED);
    CHECK_OK(ctx, vkq__op_get_rows(rec, VKQ_TYPE_Q8_0, v, 64, 4, v, 0, v)); /* nothing to do */
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &b);
}

int main(void) {
    test_init("test_kernels_get_rows");
    vkq_context *ctx = test_gpu_context();
    if (ctx) {
        for (int i = 0; i < kernel_type_count; i++) {
            vkq_type t = kernel_types[i];
            uint32_t bk = kernel_block(t);
            check_get_rows(ctx, t, 37, bk == 8 ? 8 * 13 : 3 * bk, 11, true);
            check_get_rows(ctx, t, 1, bk == 8 ? 32 : bk, 1, false);
        }
        check_errors(ctx);
        test_gpu_context_destroy(ctx);
    }
    return test_finish();
}

/* The public kernel benchmark (vkq_context_bench_kernel): exact status codes for NULL
 * arguments, a context without a device, bad descriptors; and one small run of each kernel. */
#include "common/test.h"

#include <string.h>

static void check_arguments(void) {
    vkq_kernel_bench_desc d = {.type = VKQ_TYPE_Q4_0, .m = 8, .k = 64};
    vkq_kernel_bench_result r;
    CHECK(vkq_context_bench_kernel(NULL, &d, &r) == VKQ_ERR_INVALID_ARGUMENT);
    vkq_context_desc none = {.mode = VKQ_DEVICE_MODE_NONE};
    vkq_context *ctx = NULL;
    CHECK(vkq_context_create(&none, &ctx) == VKQ_OK);
    CHECK_STATUS(ctx, vkq_context_bench_kernel(ctx, NULL, &r), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_context_bench_kernel(ctx, &d, NULL), VKQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, vkq_context_bench_kernel(ctx, &d, &r), VKQ_ERR_STATE);
    vkq_context_destroy(ctx);
}

static void check_runs(vkq_context *ctx) {
    vkq_kernel_bench_result r;
    vkq_kernel_bench_desc d = {.type = VKQ_TYPE_Q4_0, .m = 8, .k = 48};
    CHECK_STATUS(ctx, vkq_context_bench_kernel(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT); /* k */
    CHECK(strstr(vkq_context_last_error(ctx), "q4_0") != NULL);
    d.k = 64, d.reserved[3] = 1;
    CHECK_STATUS(ctx, vkq_context_bench_kernel(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    d.reserved[3] = 0, d.type = VKQ_TYPE_Q8_1;
    CHECK_STATUS(ctx, vkq_context_bench_kernel(ctx, &d, &r), VKQ_ERR_UNSUPPORTED);
    d.type = VKQ_TYPE_Q6_K, d.k = 256, d.m = 33, d.repeats = 3;
    static const vkq_kernel kernels[] = {VKQ_KERNEL_DEFAULT, VKQ_KERNEL_MATVEC, VKQ_KERNEL_MATMUL, VKQ_KERNEL_GET_ROWS};
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
        d.kernel = kernels[i];
        d.n = kernels[i] == VKQ_KERNEL_MATMUL ? 20 : 3;
        CHECK_OK(ctx, vkq_context_bench_kernel(ctx, &d, &r));
        CHECK(r.seconds_median > 0 && r.seconds_min <= r.seconds_median && r.seconds_median <= r.seconds_max);
        CHECK(r.gbps > 0 && r.weight_bytes > 0 && r.variant[0]);
        CHECK((r.gflops > 0) == (kernels[i] != VKQ_KERNEL_GET_ROWS));
    }
    d.kernel = VKQ_KERNEL_MATMUL, d.tile_m = 6;
    CHECK_STATUS(ctx, vkq_context_bench_kernel(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
    /* The integer-dot matvec: Q6_K has none; Q4_0 runs where the build and the device have it. */
    d.kernel = VKQ_KERNEL_MATVEC_DOT, d.tile_m = 0, d.n = 3;
    CHECK_STATUS(ctx, vkq_context_bench_kernel(ctx, &d, &r), VKQ_ERR_UNSUPPORTED);
    d.type = VKQ_TYPE_Q4_0, d.k = 64;
    vkq_status st = vkq_context_bench_kernel(ctx, &d, &r);
    CHECK_MSG(st == VKQ_OK || st == VKQ_ERR_UNSUPPORTED, "%s", vkq_context_last_error(ctx));
    if (st == VKQ_OK) CHECK(r.gbps > 0 && r.gflops > 0 && strstr(r.variant, "matvec_dot_q4_0") != NULL);
    d.kernel = (vkq_kernel)5;
    CHECK_STATUS(ctx, vkq_context_bench_kernel(ctx, &d, &r), VKQ_ERR_INVALID_ARGUMENT);
}

int main(void) {
    test_init("test_kernels_bench");
    check_arguments();
    vkq_context *ctx = test_gpu_context();
    if (ctx) {
        check_runs(ctx);
        test_gpu_context_destroy(ctx);
    }
    return test_finish();
}

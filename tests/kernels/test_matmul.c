/* matmul for every format: n just past the matvec range, n larger than one tile and not a
 * multiple of it, odd row counts, k not a multiple of the k-tile (float formats), small tiles,
 * residual and bias adds, views at unaligned offsets. */
#include "kernels_test.h"

static void check_format(vkq_context *ctx, vkq_type t) {
    uint32_t bk = kernel_block(t);
    uint32_t k2 = bk == 8 ? 40 : 2 * bk;              /* floats: not a multiple of the 32 k-tile */
    uint32_t k3 = bk == 8 ? 88 : 3 * bk;
    product_case cases[] = {
        /* nine vectors: the first n the automatic choice sends to matmul (on GPUs; CPU drivers
         * stay with matvec) */
        {.type = t, .m = 33, .k = k2, .n = 9},
        /* several tiles in both directions, neither a multiple; residual; offset views */
        {.type = t, .m = 65, .k = k3, .n = (uint32_t)test_rand_int(40, 100), .add = ADD_RESIDUAL,
         .w_off = 4, .x_off = 16, .y_off = 4},
        /* a one-block row, a single row, small tiles, a bias */
        {.type = t, .m = 1, .k = bk == 8 ? 32 : bk, .n = 33, .add = ADD_BIAS,
         .cfg = {.kernel = VKQ__MUL_MAT_MATMUL, .tile_m = 8, .tile_n = 4}},
        /* the GPU default: 4 x 4 outputs per invocation (64 x 64 tiles where shared memory allows) */
        {.type = t, .m = 70, .k = k3, .n = 67, .add = ADD_RESIDUAL,
         .cfg = {.kernel = VKQ__MUL_MAT_MATMUL, .block = 4, .tile_m = bk == 256 ? 32 : 64, .tile_n = bk == 256 ? 16 : 64}},
        /* odd invocation counts: 12 x 20 tiles of 4 x 4 */
        {.type = t, .m = 29, .k = k2, .n = 23, .cfg = {.kernel = VKQ__MUL_MAT_MATMUL, .tile_m = 12, .tile_n = 20}},
        /* matmul forced for one vector, residual in place */
        {.type = t, .m = 20, .k = k2, .n = 1, .add = ADD_IN_PLACE, .cfg = {.kernel = VKQ__MUL_MAT_MATMUL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_product(ctx, &cases[i]);
}

int main(void) {
    test_init("test_kernels_matmul");
    vkq_context *ctx = test_gpu_context();
    if (ctx) {
        for (int i = 0; i < kernel_type_count; i++) check_format(ctx, kernel_types[i]);
        test_gpu_context_destroy(ctx);
    }
    return test_finish();
}

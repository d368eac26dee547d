/* The split paths: with maxStorageBufferRange lowered to 64 KiB in the context descriptor, W and
 * the gathered table are bound in row chunks and X / Y / add / out in vector chunks, one dispatch
 * per piece, for every format and all three kernels. */
#include "kernels_test.h"

#define RANGE (64u << 10)

int main(void) {
    test_init("test_kernels_split");
    vkq_context_desc desc = {.max_storage_buffer_range = RANGE};
    vkq_context *ctx = test_gpu_context_desc(desc);
    if (ctx) {
        for (int i = 0; i < kernel_type_count; i++) {
            vkq_type t = kernel_types[i];
            uint32_t k = 512;
            uint64_t row_bytes = (uint64_t)k / vkq_type_block_elements(t) * vkq_type_block_bytes(t);
            /* W of about 2.3 binding limits, an odd number of rows */
            uint32_t m = (uint32_t)((RANGE * 9 / 4) / row_bytes) | 1u;
            product_case mv = {.type = t, .m = m, .k = k, .n = 3, .add = ADD_RESIDUAL, .w_off = 4};
            check_product(ctx, &mv);
            /* X is 40 * 2 KiB: split into vectors as well */
            product_case mm = {.type = t, .m = m, .k = k, .n = 40, .add = ADD_BIAS, .x_off = 16, .y_off = 4};
            check_product(ctx, &mm);
            check_get_rows(ctx, t, m, k, 40, true);
        }
        test_gpu_context_destroy(ctx);
    }
    return test_finish();
}

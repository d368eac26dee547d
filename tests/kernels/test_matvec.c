/* matvec for every format: one-block rows, odd row counts, n = 1..8 and beyond (several
 * passes), both reductions (subgroup and shared memory), fused residual and bias adds, views at
 * unaligned offsets; and the argument checks. */
#include "kernels_test.h"

#include <string.h>

/* Both layouts (invocations side by side along a row, then a subgroup or shared-memory
 * reduction: the GPU default; one row per invocation: the CPU-driver default) are tested on
 * every device, whichever is its default. */
static void check_format(vkq_context *ctx, vkq_type t) {
    uint32_t bk = kernel_block(t);
    uint32_t k_odd = bk == 256 ? 3 * 256 : bk == 32 ? 7 * 32 : 13 * 8; /* odd number of blocks */
    uint32_t k_one = bk == 8 ? 32 : bk;
    const vkq__matvec_layout shared = VKQ__MATVEC_LAYOUT_SHARED, lane = VKQ__MATVEC_LAYOUT_LANE;
    product_case cases[] = {
        /* a row of one block, one row, one vector, the device's defaults */
        {.type = t, .m = 1, .k = k_one, .n = 1},
        /* odd rows, a few vectors, residual add, views off their buffers' aligned starts */
        {.type = t, .m = 33, .k = k_odd, .n = (uint32_t)test_rand_int(2, 8), .add = ADD_RESIDUAL,
         .w_off = 4, .x_off = 16, .y_off = 4, .cfg = {.layout = shared}},
        /* the shared-memory reduction, a broadcast bias */
        {.type = t, .m = 7, .k = k_odd, .n = 1, .add = ADD_BIAS, .cfg = {.layout = shared, .no_subgroup = true}},
        /* shared memory again, odd rows per workgroup (outputs outnumber invocations), residual
         * accumulated in place */
        {.type = t, .m = 129, .k = 2 * k_one, .n = (uint32_t)test_rand_int(2, 8), .add = ADD_IN_PLACE,
         .cfg = {.layout = shared, .no_subgroup = true, .workgroup_size = 16, .rows = 3}},
        /* the GPU default shape: 64 invocations, two rows; eight vectors */
        {.type = t, .m = 65, .k = k_one, .n = 8, .cfg = {.layout = shared, .workgroup_size = 64, .rows = 2}},
        /* one row per invocation: a partial last workgroup, three rows each, residual, offsets */
        {.type = t, .m = 37, .k = k_odd, .n = (uint32_t)test_rand_int(2, 8), .add = ADD_RESIDUAL,
         .w_off = 4, .x_off = 16, .y_off = 4, .cfg = {.layout = lane, .workgroup_size = 16, .rows = 3}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_product(ctx, &cases[i]);
}

static void check_many_vectors(vkq_context *ctx) {
    /* matvec forced beyond 8 vectors: passes of 8 and a remainder */
    product_case c = {.type = VKQ_TYPE_Q4_K, .m = 17, .k = 512, .n = 19, .add = ADD_RESIDUAL,
                      .cfg = {.kernel = VKQ__MUL_MAT_MATVEC}};
    check_product(ctx, &c);
    c.type = VKQ_TYPE_Q5_0, c.k = 96, c.n = 11, c.add = ADD_NONE;
    c.cfg.layout = VKQ__MATVEC_LAYOUT_SHARED;
    check_product(ctx, &c);
}

static void check_errors(vkq_context *ctx) {
    vkq__buffer b;
    CHECK_OK(ctx, vkq__buffer_create(ctx, 1 << 16, VKQ__MEM_DEVICE, "b", &b));
    vkq__recording *rec;
    CHECK_OK(ctx, vkq__recording_create(ctx, 0, &rec));
    CHECK_OK(ctx, vkq__recording_begin(rec));
    vkq__view v = vkq__view_of(&b);
    vkq__mul_mat_args a = {.wtype = VKQ_TYPE_Q4_0, .w = v, .m = 4, .k = 48, .x = v, .n = 1, .y = v};
    CHECK_STATUS(ctx, vkq__op_mul_mat(rec, &a), VKQ_ERR_INVALID_ARGUMENT); /* k not whole blocks */
    CHECK(strstr(vkq_context_last_error(ctx), "q4_0") && strstr(vkq_context_last_error(ctx), "48"));
    a.k = 64, a.w = vkq__subview(&b, 0, 4 * 36 - 2);
    CHECK_STATUS(ctx, vkq__op_mul_mat(rec, &a), VKQ_ERR_INVALID_ARGUMENT); /* W view too short */
    CHECK(strstr(vkq_context_last_error(ctx), "W view") != NULL);
    a.w = v, a.x = vkq__subview(&b, 4, 1024);
    CHECK_STATUS(ctx, vkq__op_mul_mat(rec, &a), VKQ_ERR_INVALID_ARGUMENT); /* X misaligned */
    a.x = v, a.wtype = VKQ_TYPE_Q8_1;
    CHECK_STATUS(ctx, vkq__op_mul_mat(rec, &a), VKQ_ERR_UNSUPPORTED);
    CHECK(strstr(vkq_context_last_error(ctx), "q8_1") != NULL);
    a.wtype = VKQ_TYPE_F16, a.k = 12;
    CHECK_STATUS(ctx, vkq__op_mul_mat(rec, &a), VKQ_ERR_INVALID_ARGUMENT); /* float rows: k % 8 */
    a.k = 64;
    vkq__mul_mat_config cfg = {.kernel = VKQ__MUL_MAT_MATVEC, .workgroup_size = 24};
    CHECK_STATUS(ctx, vkq__op_mul_mat_config(rec, &a, &cfg, NULL), VKQ_ERR_INVALID_ARGUMENT);
    cfg = (vkq__mul_mat_config){.kernel = VKQ__MUL_MAT_MATMUL, .tile_m = 6};
    CHECK_STATUS(ctx, vkq__op_mul_mat_config(rec, &a, &cfg, NULL), VKQ_ERR_INVALID_ARGUMENT);
    cfg = (vkq__mul_mat_config){.kernel = VKQ__MUL_MAT_MATMUL, .tile_m = 512, .tile_n = 4};
    CHECK_STATUS(ctx, vkq__op_mul_mat_config(rec, &a, &cfg, NULL), VKQ_ERR_LIMIT); /* shared memory */
    CHECK(strstr(vkq_context_last_error(ctx), "shared memory") != NULL);
    vkq__recording_destroy(rec);
    vkq__buffer_destroy(ctx, &b);
    for (int i = 0; i < kernel_type_count; i++) CHECK(vkq__mul_mat_supported(ctx, kernel_types[i]));
    CHECK(!vkq__mul_mat_supported(ctx, VKQ_TYPE_Q8_1));
    CHECK(!vkq__mul_mat_supported(ctx, VKQ_TYPE_NONE));
}

int main(void) {
    test_init("test_kernels_matvec");
    vkq_context *ctx = test_gpu_context();
    if (ctx) {
        for (int i = 0; i < kernel_type_count; i++) check_format(ctx, kernel_types[i]);
        check_many_vectors(ctx);
        check_errors(ctx);
        test_gpu_context_destroy(ctx);
    }
    return test_finish();
}

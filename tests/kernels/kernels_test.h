/* Shared by the kernel tests: one product or gather run on the GPU and compared with the CPU
 * reference on fresh random inputs. */
#ifndef VKQ_KERNELS_TEST_H
#define VKQ_KERNELS_TEST_H

#include "common/test.h"
#include "ops/products.h"

/* Every weight format with product kernels. */
extern const vkq_type kernel_types[];
extern const int kernel_type_count;

typedef enum add_mode {
    ADD_NONE = 0,
    ADD_RESIDUAL = 1,  /* add: n vectors, stride m */
    ADD_BIAS = 2,      /* add: one vector, stride 0 */
    ADD_IN_PLACE = 3,  /* add is y itself (a residual accumulated in place) */
} add_mode;

typedef struct product_case {
    vkq_type type;
    uint32_t m, k, n;
    add_mode add;
    vkq__mul_mat_config cfg;
    uint32_t w_off, x_off, y_off; /* view offsets inside their buffers (bytes) */
} product_case;

/* Block elements the product kernels need k to be a multiple of (8 for float formats). */
uint32_t kernel_block(vkq_type type);

/* Bytes of a row of k elements of type. */
uint64_t kernel_row_bytes(vkq_type type, uint32_t k);
/* Random weights (m rows of k), quantized row by row with the closed form (the kernels only
 * care about the layout): the packed bytes (plus 4 spare), and their dequantized values in
 * *deq. Both malloc'd. */
uint8_t *kernel_random_weights(vkq_type type, uint32_t m, uint32_t k, float **deq);

/* Runs Y = W·X (+ add) on the GPU and checks it against vkq__ref_mul_mat. */
void check_product(vkq_context *ctx, const product_case *c);

/* Gathers n_ids rows (ids random, some repeated, one out of range when `with_invalid`) and
 * checks them against vkq__ref_get_rows within one ulp (zeros for the out-of-range id). */
void check_get_rows(vkq_context *ctx, vkq_type type, uint32_t n_rows, uint32_t k, uint32_t n_ids,
                    bool with_invalid);

#endif

/* Every weight format through the whole forward pass, GPU against the C reference. Both read
 * the same quantized weights, so they differ only by accumulation order (and the kernels'
 * float16 paths where the device uses them): 5e-3 of the largest logit. Both rope layouts. The
 * formats with an integer-dot kernel once more with VKQ_DOT=1 (8-bit activations). */
#include "engine_test.h"
#include "ops/products.h"

int main(void) {
    test_init("test_engine_formats");
    vkq_context *ctx = test_gpu_context();
    static const vkq_type formats[] = {VKQ_TYPE_F16, VKQ_TYPE_BF16, VKQ_TYPE_Q4_0, VKQ_TYPE_Q4_1,
                                       VKQ_TYPE_Q5_0, VKQ_TYPE_Q5_1, VKQ_TYPE_Q8_0, VKQ_TYPE_Q2_K,
                                       VKQ_TYPE_Q3_K, VKQ_TYPE_Q4_K, VKQ_TYPE_Q5_K, VKQ_TYPE_Q6_K,
                                       VKQ_TYPE_IQ4_NL, VKQ_TYPE_IQ4_XS};
    for (size_t f = 0; ctx && f < sizeof formats / sizeof formats[0]; f++) {
        vkq__synth_desc desc = {.n_embd = 256, .n_ff = 512, .n_layer = 1, .n_head = 4, .n_head_kv = 1,
                                .seed = vkq_test_seed + f};
        for (int r = 0; r < VKQ__SYNTH_ROLE_COUNT; r++) desc.types[r] = formats[f];
        char path[256];
        if (!engine_test_write(&desc, path, sizeof path)) continue;
        engine_test_compare(ctx, path, VKQ_TYPE_F16, 3, 5, 5e-3, vkq_type_name(formats[f]));
        if (vkq__mul_mat_dot_supported(ctx, formats[f])) {
            /* The integer-dot products wherever the device has them (lavapipe: emulated, so not
             * the default there). Their 8-bit activations are off by up to amax/254 per element
             * of each block of 32: about 0.7 % relative error per product on random inputs
             * (tests/kernels/test_dot.c), which the layer and the output projection carry to
             * the logits: measured up to 2.1e-2 of the largest logit over 5 seeds, against
             * a tolerance of 5e-3 for the float path; 6e-2 leaves a margin of about 3. */
            char label[64];
            snprintf(label, sizeof label, "%s, integer dot", vkq_type_name(formats[f]));
            setenv("VKQ_DOT", "1", 1);
            engine_test_compare(ctx, path, VKQ_TYPE_F16, 3, 5, 6e-2, label);
            unsetenv("VKQ_DOT");
        }
        unlink(path);
    }
    test_gpu_context_destroy(ctx);
    return test_finish();
}

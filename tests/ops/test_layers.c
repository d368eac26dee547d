/* tests/ops: the row kernels, activations, rotary embedding and argmax. */
#include "ops_test.h"

#include <stdlib.h>

int main(void) {
    test_init("test_ops_layers");
    const char *v = getenv("VKQ_TEST_VERBOSE");
    ops_verbose = v && *v == '1';
    vkq_context *ctx = test_gpu_context();
    if (ctx) {
        test_norm_act(ctx);
        test_rope(ctx);
        test_argmax(ctx);
        test_sample(ctx);
        test_gpu_context_destroy(ctx);
    }
    return test_finish();
}

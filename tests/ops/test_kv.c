/* tests/ops: KV-cache write and attention. */
#include "ops_test.h"

#include <stdlib.h>

int main(void) {
    test_init("test_ops_attention");
    const char *v = getenv("VKQ_TEST_VERBOSE");
    ops_verbose = v && *v == '1';
    vkq_context *ctx = test_gpu_context();
    if (ctx) {
        test_kv_write(ctx);
        test_attention(ctx);
        test_gpu_context_destroy(ctx);
    }
    return test_finish();
}

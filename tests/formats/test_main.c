/* The formats area: block layouts, fp16/bf16, reference quantizers, error metrics. */
#include "formats_test.h"

int main(void) {
    test_init("formats");
    test_half();
    test_layouts();
    test_metrics();
    test_public_api();
    test_quantize();
    return test_finish();
}

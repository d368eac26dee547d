/* GGUF reader, writer and synthetic models: round trips of every value type and tensor format,
 * getter conversion rules, and malformed files refused with the exact status and a message. */
#include "gguf_tests.h"

#include <string.h>

vkq_context *gguf_test_context(void) {
    vkq_context_desc desc = {0};
    desc.mode = VKQ_DEVICE_MODE_NONE;
    vkq_context *ctx = NULL;
    vkq_status st = vkq_context_create(&desc, &ctx);
    CHECK_MSG(st == VKQ_OK, "context (no device): %s: %s", vkq_status_string(st),
              vkq_context_last_error(ctx));
    if (st != VKQ_OK) {
        vkq_context_destroy(ctx);
        return NULL;
    }
    return ctx;
}

void gguf_test_clear_error(vkq_context *ctx) {
    vkq__diag *d = vkq__context_diag(ctx);
    if (d) d->message[0] = '\0';
}

int main(void) {
    test_init("test_gguf");
    vkq_context *ctx = gguf_test_context();
    if (ctx) {
        test_roundtrip(ctx);
        test_getters(ctx);
        test_writer_errors(ctx);
        test_malformed(ctx);
        test_truncation(ctx);
        test_synthetic(ctx);
    }
    vkq_context_destroy(ctx);
    return test_finish();
}

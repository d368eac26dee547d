/* An application that knows vkq only through its installed header and library. */
#include <vkq.h>

#include <stdio.h>

int main(void) {
    vkq_context *ctx = NULL;
    vkq_context_desc desc = {.mode = VKQ_DEVICE_MODE_NONE};
    vkq_status st = vkq_context_create(&desc, &ctx);
    printf("consumer: vkq %u, context %s\n", vkq_version(), vkq_status_string(st));
    vkq_context_destroy(ctx);
    return st == VKQ_OK ? 0 : 1;
}

// vkq.h compiles as C++ (-pedantic) and links: extern "C" linkage is right.
#include "vkq.h"

#include <cstdio>
#include <cstring>

int main() {
    vkq_context *ctx = nullptr;
    vkq_context_desc desc = {};
    desc.mode = VKQ_DEVICE_MODE_NONE;
    vkq_status st = vkq_context_create(&desc, &ctx);
    bool ok = st == VKQ_OK && ctx != nullptr && std::strcmp(vkq_status_string(VKQ_OK), "ok") == 0;
    vkq_context_destroy(ctx);
    std::printf("header_cpp: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

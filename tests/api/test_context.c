/* The public context API: exact status codes for NULL arguments, bad descriptors, bad device
 * choices, calls in the wrong mode; destroy(NULL); the device report; the pipeline cache
 * surviving a corrupt file; validation messages being counted. */
#include "common/test.h"
#include "gpu/gpu.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void null_arguments(void) {
    CHECK(vkq_context_create(NULL, NULL) == VKQ_ERR_INVALID_ARGUMENT);
    vkq_context_destroy(NULL);
    CHECK(strlen(vkq_context_last_error(NULL)) > 0);
    CHECK(vkq_context_validation_messages(NULL) == 0);
    CHECK(vkq_context_device_index(NULL) == -1);
    uint32_t n;
    vkq_device_info info;
    vkq_bandwidth_result bw;
    CHECK(vkq_context_device_count(NULL, &n) == VKQ_ERR_INVALID_ARGUMENT);
    CHECK(vkq_context_device_info(NULL, 0, &info) == VKQ_ERR_INVALID_ARGUMENT);
    CHECK(vkq_context_measure_bandwidth(NULL, 0, 0, &bw) == VKQ_ERR_INVALID_ARGUMENT);
}

static void expect_create_error(vkq_context_desc desc, vkq_status want, const char *fragment) {
    vkq_context *ctx = NULL;
    vkq_status st = vkq_context_create(&desc, &ctx);
    CHECK_MSG(st == want, "create: %s, expected %s (%s)", vkq_status_string(st), vkq_status_string(want),
              vkq_context_last_error(ctx));
    CHECK(ctx != NULL); /* the failed context carries the message */
    CHECK_MSG(strstr(vkq_context_last_error(ctx), fragment) != NULL, "message '%s' lacks '%s'",
              vkq_context_last_error(ctx), fragment);
    vkq_context_destroy(ctx);
}

static void bad_descriptors(void) {
    vkq_context_desc d = {0};
    d.mode = (vkq_device_mode)7;
    expect_create_error(d, VKQ_ERR_INVALID_ARGUMENT, "mode 7");
    d = (vkq_context_desc){0};
    d.log_level = (vkq_log_level)9;
    expect_create_error(d, VKQ_ERR_INVALID_ARGUMENT, "log_level 9");
    d = (vkq_context_desc){0};
    d.reserved[3] = 1;
    expect_create_error(d, VKQ_ERR_INVALID_ARGUMENT, "reserved[3]");
    d = (vkq_context_desc){0};
    d.device = "4000000";
    expect_create_error(d, VKQ_ERR_NOT_FOUND, "device index 4000000");
    d.device = "no such gpu, surely";
    expect_create_error(d, VKQ_ERR_NOT_FOUND, "no such gpu, surely");
}

static void no_device_mode(void) {
    vkq_context_desc d = {.mode = VKQ_DEVICE_MODE_NONE};
    vkq_context *ctx = NULL;
    CHECK_OK(ctx, vkq_context_create(&d, &ctx));
    uint32_t n = 99;
    CHECK_OK(ctx, vkq_context_device_count(ctx, &n));
    CHECK(n == 0);
    CHECK(vkq_context_device_index(ctx) == -1);
    vkq_device_info info;
    CHECK_STATUS(ctx, vkq_context_device_info(ctx, 0, &info), VKQ_ERR_INVALID_ARGUMENT);
    vkq_bandwidth_result bw;
    CHECK_STATUS(ctx, vkq_context_measure_bandwidth(ctx, 0, 0, &bw), VKQ_ERR_STATE);
    vkq_context_destroy(ctx);
}

static void device_report(void) {
    vkq_context *ctx = test_gpu_context();
    if (!ctx) return;
    uint32_t n = 0;
    CHECK_OK(ctx, vkq_context_device_count(ctx, &n));
    CHECK(n >= 1);
    int idx = vkq_context_device_index(ctx);
    CHECK(idx >= 0 && (uint32_t)idx < n);
    vkq_device_info info;
    CHECK_OK(ctx, vkq_context_device_info(ctx, (uint32_t)idx, &info));
    CHECK(info.name[0] != '\0');
    CHECK(info.api_version >= (1u << 22 | 1u << 12)); /* at least 1.1 */
    CHECK(info.subgroup_size >= 1);
    CHECK(info.max_storage_buffer_range >= 1u << 27); /* the spec's minimum is 2^27 */
    CHECK(info.max_shared_memory >= 16384);
    CHECK(info.heap_count >= 1);
    CHECK_STATUS(ctx, vkq_context_device_info(ctx, n, &info), VKQ_ERR_INVALID_ARGUMENT);
    /* Choosing the same device by its index and by part of its name. */
    char index_text[16];
    snprintf(index_text, sizeof index_text, "%d", idx);
    vkq_context_desc d = {.device = index_text};
    vkq_context *by_index = test_gpu_context_desc(d);
    CHECK(vkq_context_device_index(by_index) == idx);
    test_gpu_context_destroy(by_index);
    char part[8] = {0};
    memcpy(part, info.name, 4);
    d.device = part;
    vkq_context *by_name = test_gpu_context_desc(d);
    CHECK(by_name != NULL);
    test_gpu_context_destroy(by_name);
    /* A small bandwidth measurement gives a positive, ordered result. */
    vkq_bandwidth_result bw;
    CHECK_OK(ctx, vkq_context_measure_bandwidth(ctx, 1 << 20, 3, &bw));
    CHECK(bw.gbps_min > 0 && bw.gbps_min <= bw.gbps_median && bw.gbps_median <= bw.gbps_max);
    CHECK(bw.repeats == 3 && bw.bytes == 1 << 20);
    test_gpu_context_destroy(ctx);
}

static void pipeline_cache_survives_garbage(void) {
    char path[] = "/tmp/vkq-test-cache-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    /* Garbage shaped like a header, then a foreign header: both must be ignored. */
    uint8_t junk[200];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)test_rand_u64();
    uint32_t hdr[2] = {32, 1};
    memcpy(junk, hdr, sizeof hdr);
    CHECK(write(fd, junk, sizeof junk) == (ssize_t)sizeof junk);
    close(fd);
    for (int round = 0; round < 3; round++) {
        vkq_context_desc d = {.pipeline_cache = path};
        vkq_context *ctx = test_gpu_context_desc(d);
        if (!ctx) break;
        vkq_bandwidth_result bw; /* builds the copy pipeline, so the cache has something */
        CHECK_OK(ctx, vkq_context_measure_bandwidth(ctx, 1 << 16, 1, &bw));
        test_gpu_context_destroy(ctx);
        if (round == 0) {
            /* After a clean run the file holds a valid cache; truncate it for the next round. */
            CHECK(truncate(path, 40) == 0);
        }
    }
    unlink(path);
}

static void validation_messages_are_counted(void) {
    vkq_context *ctx = test_gpu_context();
    if (!ctx) return;
    CHECK(vkq_context_validation_messages(ctx) == 0);
    /* A buffer of size 0 is invalid usage (VUID-VkBufferCreateInfo-size-00912). */
    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 0,
                               .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
    VkBuffer buf = VK_NULL_HANDLE;
    fprintf(stderr, "(the next validation message is expected)\n");
    VkResult r = vkCreateBuffer(ctx->device, &info, NULL, &buf);
    if (r == VK_SUCCESS && buf) vkDestroyBuffer(ctx->device, buf, NULL);
    CHECK_MSG(vkq_context_validation_messages(ctx) > 0, "the validation layer is not active");
    vkq_context_destroy(ctx);
}

int main(void) {
    test_init("test_api_context");
    null_arguments();
    bad_descriptors();
    no_device_mode();
    device_report();
    pipeline_cache_survives_garbage();
    validation_messages_are_counted();
    return test_finish();
}

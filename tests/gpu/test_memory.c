/* The suballocator and transfers: many buffers share blocks, freed ranges are reused, uploads
 * and downloads round-trip at odd offsets, and sizes over the limits are refused clearly. */
#include "common/test.h"
#include "gpu/gpu.h"

#include <stdlib.h>
#include <string.h>

static void round_trip(vkq_context *ctx, vkq__mem_kind kind) {
    enum { N = 40 };
    vkq__buffer bufs[N];
    uint8_t *data[N];
    for (int i = 0; i < N; i++) {
        uint64_t size = (uint64_t)test_rand_int(1, 200000);
        CHECK_OK(ctx, vkq__buffer_create(ctx, size, kind, "round trip", &bufs[i]));
        data[i] = malloc(size);
        for (uint64_t j = 0; j < size; j++) data[i][j] = (uint8_t)test_rand_u64();
        CHECK_OK(ctx, vkq__buffer_upload(ctx, &bufs[i], 0, data[i], size));
    }
    /* Free every other buffer, allocate again into the holes, and check nothing overlapped. */
    for (int i = 0; i < N; i += 2) vkq__buffer_destroy(ctx, &bufs[i]), free(data[i]);
    for (int i = 0; i < N; i += 2) {
        uint64_t size = (uint64_t)test_rand_int(1, 100000);
        CHECK_OK(ctx, vkq__buffer_create(ctx, size, kind, "refill", &bufs[i]));
        data[i] = malloc(size);
        memset(data[i], i, size);
        CHECK_OK(ctx, vkq__buffer_upload(ctx, &bufs[i], 0, data[i], size));
    }
    for (int i = 0; i < N; i++) {
        uint8_t *got = malloc(bufs[i].size);
        CHECK_OK(ctx, vkq__buffer_download(ctx, &bufs[i], 0, got, bufs[i].size));
        CHECK_MSG(!memcmp(got, data[i], bufs[i].size), "buffer %d (kind %d) corrupted", i, (int)kind);
        /* A partial download at an odd offset. */
        if (bufs[i].size > 10) {
            uint8_t part[7];
            CHECK_OK(ctx, vkq__buffer_download(ctx, &bufs[i], 3, part, 7));
            CHECK(!memcmp(part, data[i] + 3, 7));
        }
        free(got), free(data[i]);
        vkq__buffer_destroy(ctx, &bufs[i]);
    }
}

static void limits(void) {
    /* A 1 MiB allocation limit: bigger requests are refused with VKQ_ERR_LIMIT and a message
     * with the numbers; the staging path still works in chunks. */
    vkq_context_desc desc = {.max_allocation_size = 1 << 20};
    vkq_context *ctx = test_gpu_context_desc(desc);
    if (!ctx) return;
    vkq__buffer b;
    CHECK_STATUS(ctx, vkq__buffer_create(ctx, (1 << 20) + 1, VKQ__MEM_DEVICE, "too big", &b), VKQ_ERR_LIMIT);
    CHECK(strstr(vkq_context_last_error(ctx), "1048577") != NULL);
    CHECK(strstr(vkq_context_last_error(ctx), "too big") != NULL);
    CHECK_OK(ctx, vkq__buffer_create(ctx, 1 << 20, VKQ__MEM_DEVICE, "fits", &b));
    uint8_t x = 0;
    CHECK_STATUS(ctx, vkq__buffer_upload(ctx, &b, 1 << 20, &x, 1), VKQ_ERR_INVALID_ARGUMENT);
    vkq__buffer_destroy(ctx, &b);
    test_gpu_context_destroy(ctx);
}

int main(void) {
    test_init("test_gpu_memory");
    vkq_context *ctx = test_gpu_context();
    if (ctx) {
        round_trip(ctx, VKQ__MEM_DEVICE);
        round_trip(ctx, VKQ__MEM_HOST);
        vkq__buffer_destroy(ctx, NULL); /* no-op */
        test_gpu_context_destroy(ctx);
    }
    limits();
    return test_finish();
}

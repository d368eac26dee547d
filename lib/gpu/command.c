/* Recordings: a command buffer of dispatches and transfers with the descriptor sets they use,
 * submitted and waited for with a fence, and resubmitted as often as wanted (decode records a
 * step once and replays it per token). Errors while recording are kept and returned by submit,
 * so that recording code stays linear. */
#include "gpu/gpu.h"

#include <stdlib.h>
#include <string.h>

#define SETS_PER_POOL 128
#define FENCE_TIMEOUT_NS (600ull * 1000 * 1000 * 1000)

struct vkq__recording {
    vkq_context *ctx;
    VkCommandBuffer cmd;
    VkFence fence;
    VkDescriptorPool *pools;
    uint32_t n_pools, cur_pool;
    VkQueryPool queries;
    uint32_t max_timestamps;
    bool recording, recorded, begun;
    bool in_flight; /* submitted and not yet waited for: the fence will signal */
    vkq_status error;
    /* Profiling (vkq__recording_profile_enable): marks[i] names the dispatch that ends at
     * timestamp i + 1 of prof_queries; totals accumulate over submissions. */
    VkQueryPool prof_queries;
    uint32_t prof_max, n_marks;
    const char **marks;
    uint64_t *ticks;
    vkq__profile_total *totals;
    uint32_t n_totals, cap_totals;
    uint64_t untimed, untimed_recorded;
};

static vkq_status add_pool(vkq__recording *rec) {
    vkq_context *ctx = rec->ctx;
    VkDescriptorPool *bigger = realloc(rec->pools, (rec->n_pools + 1) * sizeof *bigger);
    if (!bigger) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "recording: descriptor pools");
    rec->pools = bigger;
    VkDescriptorPoolSize size = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_POOL * VKQ__MAX_BINDINGS};
    VkDescriptorPoolCreateInfo info = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                       .maxSets = SETS_PER_POOL, .poolSizeCount = 1, .pPoolSizes = &size};
    VKQ__VK(ctx, vkCreateDescriptorPool(ctx->device, &info, NULL, &rec->pools[rec->n_pools]),
            "recording: descriptor pool");
    rec->n_pools++;
    return VKQ_OK;
}

vkq_status vkq__recording_create(vkq_context *ctx, uint32_t max_timestamps, vkq__recording **out) {
    *out = NULL;
    if (!ctx->device) return vkq__fail(&ctx->diag, VKQ_ERR_STATE, "recording: the context has no device");
    vkq__recording *rec = vkq__calloc(1, sizeof *rec);
    if (!rec) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "recording: no memory");
    rec->ctx = ctx;
    VkCommandBufferAllocateInfo cinfo = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                         .commandPool = ctx->command_pool,
                                         .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1};
    VkFenceCreateInfo finfo = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkResult r = vkAllocateCommandBuffers(ctx->device, &cinfo, &rec->cmd);
    if (r == VK_SUCCESS) r = vkCreateFence(ctx->device, &finfo, NULL, &rec->fence);
    if (r == VK_SUCCESS && max_timestamps) {
        if (!ctx->caps.info.timestamps) {
            vkq__recording_destroy(rec);
            return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED,
                             "recording: the compute queue of %s has no timestamps", ctx->caps.info.name);
        }
        VkQueryPoolCreateInfo qinfo = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                       .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = max_timestamps};
        r = vkCreateQueryPool(ctx->device, &qinfo, NULL, &rec->queries);
        rec->max_timestamps = max_timestamps;
    }
    vkq_status st = r == VK_SUCCESS ? add_pool(rec) : vkq__vk_fail(ctx, r, "vkAllocateCommandBuffers", "recording");
    if (st) {
        vkq__recording_destroy(rec);
        return st;
    }
    *out = rec;
    return VKQ_OK;
}

vkq_context *vkq__recording_context(const vkq__recording *rec) { return rec->ctx; }

void vkq__recording_destroy(vkq__recording *rec) {
    if (!rec) return;
    VkDevice dev = rec->ctx->device;
    if (rec->fence) {
        /* Never free what the GPU may still be using; an unsubmitted fence never signals. */
        if (rec->in_flight) vkWaitForFences(dev, 1, &rec->fence, VK_TRUE, FENCE_TIMEOUT_NS);
        vkDestroyFence(dev, rec->fence, NULL);
    }
    for (uint32_t i = 0; i < rec->n_pools; i++) vkDestroyDescriptorPool(dev, rec->pools[i], NULL);
    free(rec->pools);
    if (rec->queries) vkDestroyQueryPool(dev, rec->queries, NULL);
    if (rec->prof_queries) vkDestroyQueryPool(dev, rec->prof_queries, NULL);
    free(rec->marks), free(rec->ticks), free(rec->totals);
    if (rec->cmd) vkFreeCommandBuffers(dev, rec->ctx->command_pool, 1, &rec->cmd);
    free(rec);
}

vkq_status vkq__recording_begin(vkq__recording *rec) {
    vkq_context *ctx = rec->ctx;
    VKQ__VK(ctx, vkResetCommandBuffer(rec->cmd, 0), "recording");
    for (uint32_t i = 0; i < rec->n_pools; i++) {
        VKQ__VK(ctx, vkResetDescriptorPool(ctx->device, rec->pools[i], 0), "recording");
    }
    rec->cur_pool = 0;
    rec->error = VKQ_OK;
    VkCommandBufferBeginInfo info = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VKQ__VK(ctx, vkBeginCommandBuffer(rec->cmd, &info), "recording");
    if (rec->queries) vkCmdResetQueryPool(rec->cmd, rec->queries, 0, rec->max_timestamps);
    rec->n_marks = 0;
    rec->untimed_recorded = 0;
    if (rec->prof_queries) {
        vkCmdResetQueryPool(rec->cmd, rec->prof_queries, 0, rec->prof_max + 1);
        vkCmdWriteTimestamp(rec->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, rec->prof_queries, 0);
    }
    rec->recording = true;
    rec->recorded = false;
    rec->begun = true;
    return VKQ_OK;
}

static VkDescriptorSet allocate_set(vkq__recording *rec, VkDescriptorSetLayout layout) {
    vkq_context *ctx = rec->ctx;
    for (;;) {
        VkDescriptorSetAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                            .descriptorPool = rec->pools[rec->cur_pool],
                                            .descriptorSetCount = 1, .pSetLayouts = &layout};
        VkDescriptorSet set = VK_NULL_HANDLE;
        VkResult r = vkAllocateDescriptorSets(ctx->device, &info, &set);
        if (r == VK_SUCCESS) return set;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) {
            rec->error = vkq__vk_fail(ctx, r, "vkAllocateDescriptorSets", "recording");
            return VK_NULL_HANDLE;
        }
        if (++rec->cur_pool == rec->n_pools && (rec->error = add_pool(rec))) return VK_NULL_HANDLE;
    }
}

vkq_status vkq__recording_dispatch(vkq__recording *rec, const vkq__pipeline *p,
                                   const vkq__view *bindings, const void *push,
                                   uint32_t gx, uint32_t gy, uint32_t gz) {
    vkq_context *ctx = rec->ctx;
    if (rec->error) return rec->error;
    if (!rec->recording) {
        return rec->error = vkq__fail(&ctx->diag, VKQ_ERR_STATE, "dispatch outside begin/submit");
    }
    const uint32_t *maxc = ctx->caps.info.max_workgroup_count;
    if (gx == 0 || gy == 0 || gz == 0 || gx > maxc[0] || gy > maxc[1] || gz > maxc[2]) {
        return rec->error = vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                                      "dispatch of %u x %u x %u workgroups: the device allows "
                                      "%u x %u x %u (and none may be 0)",
                                      gx, gy, gz, maxc[0], maxc[1], maxc[2]);
    }
    VkDescriptorBufferInfo infos[VKQ__MAX_BINDINGS];
    VkWriteDescriptorSet writes[VKQ__MAX_BINDINGS];
    VkDescriptorSet set = allocate_set(rec, p->set_layout);
    if (!set) return rec->error;
    for (uint32_t i = 0; i < p->n_bindings; i++) {
        if (bindings[i].size > ctx->caps.max_storage_range) {
            return rec->error = vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                                          "binding %u of %llu bytes exceeds maxStorageBufferRange %llu",
                                          i, (unsigned long long)bindings[i].size,
                                          (unsigned long long)ctx->caps.max_storage_range);
        }
        infos[i] = (VkDescriptorBufferInfo){bindings[i].buffer, bindings[i].offset, bindings[i].size};
        writes[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                           .dstSet = set, .dstBinding = i, .descriptorCount = 1,
                                           .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                           .pBufferInfo = &infos[i]};
    }
    vkUpdateDescriptorSets(ctx->device, p->n_bindings, writes, 0, NULL);
    vkCmdBindPipeline(rec->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    vkCmdBindDescriptorSets(rec->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, NULL);
    if (p->push_size) {
        vkCmdPushConstants(rec->cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p->push_size, push);
    }
    vkCmdDispatch(rec->cmd, gx, gy, gz);
    rec->recorded = true;
    if (rec->prof_queries) {
        if (rec->n_marks < rec->prof_max) {
            rec->marks[rec->n_marks++] = p->name;
            vkCmdWriteTimestamp(rec->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, rec->prof_queries, rec->n_marks);
        } else {
            rec->untimed_recorded++;
        }
    }
    return VKQ_OK;
}

void vkq__recording_barrier(vkq__recording *rec) {
    if (!rec->recording) return;
    VkMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                         .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                         .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                          VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(rec->cmd, stages, stages, 0, 1, &b, 0, NULL, 0, NULL);
}

void vkq__recording_copy(vkq__recording *rec, vkq__view src, vkq__view dst) {
    if (!rec->recording) return;
    VkBufferCopy region = {src.offset, dst.offset, VKQ__MIN(src.size, dst.size)};
    vkCmdCopyBuffer(rec->cmd, src.buffer, dst.buffer, 1, &region);
    rec->recorded = true;
}

void vkq__recording_fill(vkq__recording *rec, vkq__view dst, uint32_t pattern) {
    if (!rec->recording) return;
    vkCmdFillBuffer(rec->cmd, dst.buffer, dst.offset, dst.size / 4 * 4, pattern);
    rec->recorded = true;
}

void vkq__recording_timestamp(vkq__recording *rec, uint32_t index) {
    if (!rec->recording || !rec->queries || index >= rec->max_timestamps) return;
    vkCmdWriteTimestamp(rec->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, rec->queries, index);
}

/* Adds the last submission's dispatch times to the totals. Kernel names are static strings,
 * so they are matched by address; a step uses a few dozen distinct kernels. */
static vkq_status profile_accumulate(vkq__recording *rec) {
    vkq_context *ctx = rec->ctx;
    rec->untimed += rec->untimed_recorded;
    if (!rec->n_marks) return VKQ_OK;
    VKQ__VK(ctx, vkGetQueryPoolResults(ctx->device, rec->prof_queries, 0, rec->n_marks + 1,
                                       (rec->n_marks + 1) * sizeof *rec->ticks, rec->ticks, sizeof *rec->ticks,
                                       VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
            "profile timestamps");
    for (uint32_t i = 0; i < rec->n_marks; i++) {
        uint32_t t = 0;
        while (t < rec->n_totals && rec->totals[t].kernel != rec->marks[i]) t++;
        if (t == rec->n_totals) {
            if (rec->n_totals == rec->cap_totals) {
                uint32_t cap = rec->cap_totals ? 2 * rec->cap_totals : 32;
                vkq__profile_total *bigger = realloc(rec->totals, cap * sizeof *bigger);
                if (!bigger) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "profile: no memory");
                rec->totals = bigger, rec->cap_totals = cap;
            }
            rec->totals[rec->n_totals++] = (vkq__profile_total){rec->marks[i], 0, 0.0};
        }
        /* Clocks whose valid bits wrap between two marks would give a huge difference. */
        uint64_t d = rec->ticks[i + 1] >= rec->ticks[i] ? rec->ticks[i + 1] - rec->ticks[i] : 0;
        rec->totals[t].calls++;
        rec->totals[t].seconds += (double)d * ctx->caps.info.timestamp_period_ns * 1e-9;
    }
    return VKQ_OK;
}

vkq_status vkq__recording_profile_enable(vkq__recording *rec, uint32_t max_dispatches) {
    vkq_context *ctx = rec->ctx;
    if (rec->prof_queries) return VKQ_OK;
    if (!ctx->caps.info.timestamps) {
        return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED, "profile: the compute queue of %s has no timestamps",
                         ctx->caps.info.name);
    }
    if (!max_dispatches) return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "profile: max_dispatches is 0");
    rec->marks = calloc(max_dispatches, sizeof *rec->marks);
    rec->ticks = calloc((size_t)max_dispatches + 1, sizeof *rec->ticks);
    if (!rec->marks || !rec->ticks) {
        free(rec->marks), free(rec->ticks);
        rec->marks = NULL, rec->ticks = NULL;
        return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "profile: no memory");
    }
    VkQueryPoolCreateInfo qinfo = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                   .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = max_dispatches + 1};
    VKQ__VK(ctx, vkCreateQueryPool(ctx->device, &qinfo, NULL, &rec->prof_queries), "profile");
    rec->prof_max = max_dispatches;
    return VKQ_OK;
}

const vkq__profile_total *vkq__recording_profile(const vkq__recording *rec, uint32_t *count, uint64_t *untimed) {
    *count = rec->n_totals;
    if (untimed) *untimed = rec->untimed;
    return rec->n_totals ? rec->totals : NULL;
}

void vkq__recording_profile_clear(vkq__recording *rec) {
    rec->n_totals = 0;
    rec->untimed = 0;
}

vkq_status vkq__recording_submit_wait(vkq__recording *rec) {
    vkq_context *ctx = rec->ctx;
    if (rec->error) return rec->error;
    if (!rec->begun) {
        return vkq__fail(&ctx->diag, VKQ_ERR_STATE, "submit: nothing was recorded (call begin first)");
    }
    if (rec->recording) {
        VKQ__VK(ctx, vkEndCommandBuffer(rec->cmd), "recording");
        rec->recording = false;
    }
    VKQ__VK(ctx, vkResetFences(ctx->device, 1, &rec->fence), "submit");
    VkSubmitInfo info = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                         .pCommandBuffers = &rec->cmd};
    VKQ__VK(ctx, vkQueueSubmit(ctx->queue, 1, &info, rec->fence), "submit");
    rec->in_flight = true;
    VkResult r = vkWaitForFences(ctx->device, 1, &rec->fence, VK_TRUE, FENCE_TIMEOUT_NS);
    if (r == VK_SUCCESS) rec->in_flight = false;
    if (r == VK_TIMEOUT) {
        return vkq__fail(&ctx->diag, VKQ_ERR_DEVICE_LOST,
                         "submit: the device did not finish within %llu s",
                         (unsigned long long)(FENCE_TIMEOUT_NS / 1000000000ull));
    }
    if (r != VK_SUCCESS) return vkq__vk_fail(ctx, r, "vkWaitForFences", "submit");
    return rec->prof_queries ? profile_accumulate(rec) : VKQ_OK;
}

vkq_status vkq__recording_elapsed(vkq__recording *rec, uint32_t begin, uint32_t end, double *seconds) {
    vkq_context *ctx = rec->ctx;
    if (!rec->queries || begin >= rec->max_timestamps || end >= rec->max_timestamps) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT, "timestamps %u..%u: recording has %u",
                         begin, end, rec->max_timestamps);
    }
    uint64_t t[2];
    VKQ__VK(ctx, vkGetQueryPoolResults(ctx->device, rec->queries, begin, 1, sizeof t[0], &t[0], sizeof t[0],
                                       VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT), "timestamps");
    VKQ__VK(ctx, vkGetQueryPoolResults(ctx->device, rec->queries, end, 1, sizeof t[1], &t[1], sizeof t[1],
                                       VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT), "timestamps");
    *seconds = (double)(t[1] - t[0]) * ctx->caps.info.timestamp_period_ns * 1e-9;
    return VKQ_OK;
}

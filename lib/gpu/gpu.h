/* lib/gpu — Vulkan: instance, device choice and capabilities, memory, buffers, pipelines,
 * command recording, timestamps. Internal to libvkq. */
#ifndef VKQ_GPU_H
#define VKQ_GPU_H

#include "base/base.h"
#include "gpu/shader_table.h"

#include <vulkan/vulkan.h>

#define VKQ__MAX_BINDINGS 8
#define VKQ__MAX_SPEC 8

/* ---- capabilities of the opened device, as the kernels need them ---------------------------- */

typedef struct vkq__caps {
    vkq_device_info info;          /* the public report */
    uint64_t max_storage_range;    /* the limit in force (device's, or the desc's override) */
    uint64_t max_alloc;            /* likewise for one allocation */
    uint32_t subgroup_size;
    bool subgroup_arithmetic;      /* subgroupAdd etc. in compute */
    bool subgroup_size_control;    /* can require a full subgroup of a chosen size */
    bool float16, int8, storage16, storage8, dot, coopmat;
    uint32_t needs_supported;      /* VKQ__SHADER_NEEDS_* bits this device can run */
} vkq__caps;

/* ---- memory: a few large allocations, suballocated ------------------------------------------- */

typedef enum vkq__mem_kind {
    VKQ__MEM_DEVICE = 0, /* device-local; weights, activations, caches */
    VKQ__MEM_HOST = 1,   /* host-visible and mapped; small parameter buffers, readbacks */
    VKQ__MEM_KIND_COUNT
} vkq__mem_kind;

typedef struct vkq__block vkq__block;

/* A range of one big VkBuffer. Bind it with (buffer, offset, size); `mapped` is non-NULL when
 * the memory is host-visible (also for device-local memory on unified-memory devices). */
typedef struct vkq__buffer {
    VkBuffer buffer;
    uint64_t offset;
    uint64_t size;
    uint8_t *mapped;
    vkq__block *block;
} vkq__buffer;

/* Allocates `size` bytes (rounded up to the storage-offset alignment). VKQ_ERR_LIMIT when size
 * exceeds one allocation; VKQ_ERR_OUT_OF_DEVICE_MEMORY when the device is full. */
vkq_status vkq__buffer_create(vkq_context *ctx, uint64_t size, vkq__mem_kind kind,
                              const char *what, vkq__buffer *out);
void vkq__buffer_destroy(vkq_context *ctx, vkq__buffer *buf);
/* Host -> device and back, through a mapping or the context's staging buffer. Synchronous. */
vkq_status vkq__buffer_upload(vkq_context *ctx, const vkq__buffer *dst, uint64_t offset,
                              const void *src, uint64_t size);
vkq_status vkq__buffer_download(vkq_context *ctx, const vkq__buffer *src, uint64_t offset,
                                void *dst, uint64_t size);
/* Fills with a 32-bit pattern (vkCmdFillBuffer), synchronous. */
vkq_status vkq__buffer_fill(vkq_context *ctx, const vkq__buffer *dst, uint32_t pattern);

/* A view of part of a buffer, as a shader binding sees it. */
typedef struct vkq__view {
    VkBuffer buffer;
    uint64_t offset;
    uint64_t size;
} vkq__view;

static inline vkq__view vkq__view_of(const vkq__buffer *b) {
    vkq__view v = {b->buffer, b->offset, b->size};
    return v;
}
static inline vkq__view vkq__subview(const vkq__buffer *b, uint64_t offset, uint64_t size) {
    vkq__view v = {b->buffer, b->offset + offset, size};
    return v;
}

/* ---- pipelines ------------------------------------------------------------------------------ */

typedef struct vkq__pipeline {
    VkPipeline pipeline;
    VkPipelineLayout layout;
    VkDescriptorSetLayout set_layout;
    uint32_t n_bindings;
    uint32_t push_size;
    uint32_t local_size_x; /* specialization constant 0 by convention */
    const char *name;      /* the shader module's name (static storage) */
} vkq__pipeline;

typedef struct vkq__pipeline_desc {
    const char *shader;            /* a name from the shader table */
    uint32_t n_bindings;           /* storage buffers at set 0, bindings 0..n-1 */
    uint32_t push_size;            /* bytes of push constants (mirrored C struct) */
    uint32_t spec[VKQ__MAX_SPEC];  /* specialization constants 0..n_spec-1 (uint32 each);
                                      constant 0 is the workgroup size x by convention */
    uint32_t n_spec;
    uint32_t required_subgroup_size; /* 0: any; else require it (subgroup size control) */
} vkq__pipeline_desc;

/* Returns a pipeline for the description, creating and caching it on first use. The pipeline
 * belongs to the context. VKQ_ERR_NOT_FOUND when the shader is not in this build;
 * VKQ_ERR_UNSUPPORTED when the device lacks what it needs. */
vkq_status vkq__pipeline_get(vkq_context *ctx, const vkq__pipeline_desc *desc,
                             const vkq__pipeline **out);
/* Whether a module exists in this build and the device can run it. */
bool vkq__shader_available(vkq_context *ctx, const char *shader);

/* ---- recordings: a command buffer of dispatches, submitted once or many times --------------- */

typedef struct vkq__recording vkq__recording;

vkq_status vkq__recording_create(vkq_context *ctx, uint32_t max_timestamps,
                                 vkq__recording **out);
void vkq__recording_destroy(vkq__recording *rec);
vkq_context *vkq__recording_context(const vkq__recording *rec);
/* Starts (or restarts, discarding what was recorded) recording. */
vkq_status vkq__recording_begin(vkq__recording *rec);
/* Records one dispatch. Bindings are views; push constants are copied. groups are workgroups
 * in x, y, z; each must be within the device's maxComputeWorkGroupCount. */
vkq_status vkq__recording_dispatch(vkq__recording *rec, const vkq__pipeline *p,
                                   const vkq__view *bindings, const void *push,
                                   uint32_t gx, uint32_t gy, uint32_t gz);
/* Makes every earlier shader write visible to every later shader read (and transfer). */
void vkq__recording_barrier(vkq__recording *rec);
/* Transfer commands (vkCmdCopyBuffer / vkCmdFillBuffer); sizes of fills are multiples of 4. */
void vkq__recording_copy(vkq__recording *rec, vkq__view src, vkq__view dst);
void vkq__recording_fill(vkq__recording *rec, vkq__view dst, uint32_t pattern);
void vkq__recording_timestamp(vkq__recording *rec, uint32_t index);
/* Ends recording (if needed), submits, waits for the fence. May be called again to re-run
 * what was recorded. */
vkq_status vkq__recording_submit_wait(vkq__recording *rec);
/* Seconds between two timestamps of the last completed submission. */
vkq_status vkq__recording_elapsed(vkq__recording *rec, uint32_t begin, uint32_t end,
                                  double *seconds);

/* Profiling. Once enabled, the recording starts with a timestamp and follows every dispatch
 * with one, so a dispatch's time is the difference to the mark before it: its own run plus any
 * wait at the barrier in front of it (dispatches that overlap on a GPU are charged to the one
 * that finishes later; the sum is the recording's GPU time). After each successful
 * submit_wait the times are added to per-kernel totals, which survive re-recording and
 * replays. At most max_dispatches per recording are timed; the rest run untimed and are
 * counted. VKQ_ERR_UNSUPPORTED when the queue has no timestamps. */
typedef struct vkq__profile_total {
    const char *kernel; /* the pipeline's shader name (static storage) */
    uint64_t calls;
    double seconds;
} vkq__profile_total;
vkq_status vkq__recording_profile_enable(vkq__recording *rec, uint32_t max_dispatches);
/* The totals (NULL with *count 0 when nothing was timed); *untimed: dispatches run past the cap. */
const vkq__profile_total *vkq__recording_profile(const vkq__recording *rec, uint32_t *count, uint64_t *untimed);
void vkq__recording_profile_clear(vkq__recording *rec);

/* ---- the context ---------------------------------------------------------------------------- */

typedef struct vkq__block_list vkq__block_list;

struct vkq_context {
    vkq__diag diag;
    vkq_context_desc desc;
    char device_filter[256];
    char pipeline_cache_path[4096];
    bool validation;
    uint32_t validation_messages; /* atomic */

    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    uint32_t n_physical;
    VkPhysicalDevice *physical;   /* (n_physical) */
    int device_index;             /* -1: none opened */
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    vkq__caps caps;
    VkPhysicalDeviceMemoryProperties mem_props;
    uint32_t mem_type[VKQ__MEM_KIND_COUNT]; /* memory type index per kind */

    vkq__block *blocks[VKQ__MEM_KIND_COUNT]; /* linked lists of big allocations */
    uint64_t block_size;          /* default size of a new block */

    VkPipelineCache pipeline_cache;
    struct vkq__pipeline_entry *pipelines; /* linked list cache */
    VkCommandPool command_pool;
    vkq__recording *transfer;     /* for staging copies and fills */
    vkq__buffer staging;          /* host-visible, lazily created */
};

/* VkResult -> status with a message naming the call and the object. */
vkq_status vkq__vk_fail(vkq_context *ctx, VkResult r, const char *call, const char *what);
const char *vkq__vk_result_string(VkResult r);
#define VKQ__VK(ctx, call, what)                                      \
    do {                                                              \
        VkResult vkq__r = (call);                                     \
        if (vkq__r != VK_SUCCESS) return vkq__vk_fail(ctx, vkq__r, #call, what); \
    } while (0)

/* Internal parts of context creation (instance.c, caps.c, device.c, memory.c, pipeline.c). */
vkq_status vkq__instance_create(vkq_context *ctx);
void vkq__instance_destroy(vkq_context *ctx);
void vkq__caps_query(VkInstance instance, VkPhysicalDevice phys, vkq_device_info *info);
bool vkq__device_has_extension(VkPhysicalDevice phys, const char *name);
vkq_status vkq__device_open(vkq_context *ctx);
void vkq__device_close(vkq_context *ctx);
vkq_status vkq__memory_init(vkq_context *ctx);
void vkq__memory_release(vkq_context *ctx);
vkq_status vkq__pipeline_cache_load(vkq_context *ctx);
void vkq__pipeline_cache_save_and_release(vkq_context *ctx);

#endif

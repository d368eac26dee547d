/*
 * vkq.h — quantized language models on any Vulkan GPU.
 *
 * vkq loads GGUF models, runs them through its own SPIR-V compute shaders (dequantization fused
 * into the products), quantizes models itself and measures what quantization costs. This header
 * is the whole public interface of libvkq.
 *
 * A complete example: generate greedily from a prompt (error handling shortened to one check;
 * every call returns a vkq_status, and vkq_context_last_error() explains a failure):
 *
 *     vkq_context *ctx = NULL;
 *     vkq_context_desc cdesc = {0};             // zero means default everywhere
 *     if (vkq_context_create(&cdesc, &ctx) != VKQ_OK) {
 *         fprintf(stderr, "%s\n", vkq_context_last_error(ctx));
 *         vkq_context_destroy(ctx);
 *         return 1;
 *     }
 *     vkq_model *model = NULL;
 *     vkq_model_desc mdesc = {.path = "model.gguf"};
 *     vkq_model_load(ctx, &mdesc, &model);
 *     vkq_session *s = NULL;
 *     vkq_session_create(model, NULL, &s);      // NULL desc: defaults (f16 KV cache)
 *     const vkq_tokenizer *tok = vkq_model_tokenizer(model);
 *     int32_t ids[256];
 *     size_t n = 0;
 *     vkq_tokenizer_encode(tok, "The capital of France is", 24,
 *                          VKQ_TOKENIZE_ADD_SPECIAL | VKQ_TOKENIZE_PARSE_SPECIAL, ids, 256, &n);
 *     vkq_session_eval(s, ids, (uint32_t)n, NULL);
 *     vkq_detokenizer *dt = NULL;
 *     vkq_detokenizer_create(tok, 0, &dt);
 *     vkq_sampler_desc greedy = {0};            // temperature 0: argmax on the GPU
 *     for (int i = 0; i < 32; i++) {
 *         int32_t t;
 *         char text[256];
 *         size_t len;
 *         vkq_session_sample(s, &greedy, NULL, 0, &t);
 *         if (vkq_tokenizer_is_end_of_turn(tok, t)) break;
 *         vkq_detokenizer_push(dt, t, text, sizeof text, &len);
 *         fwrite(text, 1, len, stdout);
 *         vkq_session_eval(s, &t, 1, NULL);     // replays the recorded decode step
 *     }
 *     vkq_detokenizer_destroy(dt);
 *     vkq_session_destroy(s);
 *     vkq_model_destroy(model);
 *     vkq_context_destroy(ctx);
 *
 * What vkq does not do: train; run architectures outside the llama family; talk to the network;
 * print, abort or exit on its own (every failure is a returned vkq_status plus a message).
 *
 * Errors. Every function that can fail returns vkq_status. The message that goes with the last
 * failure on a context (which operation, which object, which numbers) is kept in the context and
 * read with vkq_context_last_error(). Nothing is printed unless a log callback is installed.
 *
 * Ownership. Every _create/_open has a _destroy/_close; passing NULL to it is a no-op. Strings
 * and arrays returned by a getter belong to the object they came from and live as long as it.
 *
 * Threading. There is no global mutable state. A vkq_context may be used from one thread at a
 * time (calls on it must be externally synchronized). Objects created from a context follow the
 * same rule unless their functions say otherwise. The log callback may be called from any thread
 * that is inside a vkq call, and from the Vulkan driver's threads for validation messages.
 */
#ifndef VKQ_H
#define VKQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(VKQ_SHARED_BUILD)
#define VKQ_API __declspec(dllexport)
#elif defined(__GNUC__)
#define VKQ_API __attribute__((visibility("default")))
#else
#define VKQ_API
#endif

#define VKQ_VERSION_MAJOR 0
#define VKQ_VERSION_MINOR 1
#define VKQ_VERSION_PATCH 0

/* ---------------------------------------------------------------------------------------------
 * Status codes. Coarse on purpose: the message from vkq_context_last_error() carries the detail.
 * ------------------------------------------------------------------------------------------- */

#define VKQ_STATUS_LIST(X)                                                                    \
    X(VKQ_OK, 0, "ok")                                                                        \
    X(VKQ_ERR_INVALID_ARGUMENT, 1, "invalid argument")                                        \
    X(VKQ_ERR_OUT_OF_HOST_MEMORY, 2, "out of host memory")                                    \
    X(VKQ_ERR_OUT_OF_DEVICE_MEMORY, 3, "out of device memory")                                \
    X(VKQ_ERR_NO_DEVICE, 4, "no usable Vulkan device")                                        \
    X(VKQ_ERR_UNSUPPORTED, 5, "not supported by this device or build")                       \
    X(VKQ_ERR_LIMIT, 6, "exceeds a device or format limit")                                   \
    X(VKQ_ERR_VULKAN, 7, "Vulkan call failed")                                                \
    X(VKQ_ERR_DEVICE_LOST, 8, "device lost")                                                  \
    X(VKQ_ERR_IO, 9, "file input/output failed")                                              \
    X(VKQ_ERR_BAD_FILE, 10, "malformed file")                                                 \
    X(VKQ_ERR_NOT_FOUND, 11, "not found")                                                     \
    X(VKQ_ERR_WRONG_TYPE, 12, "wrong type")                                                   \
    X(VKQ_ERR_STATE, 13, "call made in the wrong state or order")

typedef enum vkq_status {
#define VKQ__STATUS_ENUM(name, value, text) name = value,
    VKQ_STATUS_LIST(VKQ__STATUS_ENUM)
#undef VKQ__STATUS_ENUM
} vkq_status;

/* A short English phrase for a status ("malformed file"); never NULL, also for unknown values. */
VKQ_API const char *vkq_status_string(vkq_status status);

/* Version of the library actually linked, as MAJOR*10000 + MINOR*100 + PATCH. */
VKQ_API uint32_t vkq_version(void);

/* ---------------------------------------------------------------------------------------------
 * Logging
 * ------------------------------------------------------------------------------------------- */

typedef enum vkq_log_level {
    VKQ_LOG_DEFAULT = 0, /* in a descriptor: VKQ_LOG_WARN */
    VKQ_LOG_ERROR = 1,
    VKQ_LOG_WARN = 2,
    VKQ_LOG_INFO = 3,
    VKQ_LOG_DEBUG = 4,
} vkq_log_level;

/* Receives one complete message (no trailing newline). Must be reentrant; see Threading. */
typedef void (*vkq_log_fn)(vkq_log_level level, const char *message, void *user_data);

/* ---------------------------------------------------------------------------------------------
 * Context: a Vulkan instance, one device and its compute queue, memory and pipelines.
 * ------------------------------------------------------------------------------------------- */

typedef struct vkq_context vkq_context;

typedef enum vkq_device_mode {
    VKQ_DEVICE_MODE_DEFAULT = 0, /* open a Vulkan device; fail with VKQ_ERR_NO_DEVICE if none */
    VKQ_DEVICE_MODE_NONE = 1,    /* no Vulkan at all: file, quantization and CPU work only */
    VKQ_DEVICE_MODE_LIST = 2,    /* create the instance and list devices, open none (vkq info) */
} vkq_device_mode;

typedef struct vkq_context_desc {
    vkq_device_mode mode;        /* default: open a device */
    const char *device;          /* NULL: best (discrete > integrated > virtual > CPU, then the
                                    larger device-local heap); "N": the device with index N;
                                    otherwise the first whose name contains this text, ignoring
                                    case */
    int validation;              /* non-zero: enable VK_LAYER_KHRONOS_validation and count its
                                    messages. Also enabled when the environment has
                                    VKQ_VALIDATE=1. Default off. */
    vkq_log_fn log;              /* NULL: nothing is ever printed */
    void *log_user_data;
    vkq_log_level log_level;     /* default: VKQ_LOG_WARN */
    const char *pipeline_cache;  /* NULL: a file under $XDG_CACHE_HOME/vkq (or ~/.cache/vkq)
                                    named after the device and driver; "": no persistent cache */
    uint64_t max_storage_buffer_range; /* 0: the device's limit; smaller values force the
                                          split paths (tests) */
    uint64_t max_allocation_size;      /* 0: the device's limit; smaller values likewise */
    uint32_t reserved[16];       /* must be zero */
} vkq_context_desc;

/* Creates a context. `desc` may be NULL (all defaults). On success *out is a new context. On
 * failure *out is still set to a context that holds only the error message, so that
 * vkq_context_last_error() can explain it; destroy it afterwards. *out is NULL only if not even
 * that could be allocated (vkq_context_last_error(NULL) then says so). */
VKQ_API vkq_status vkq_context_create(const vkq_context_desc *desc, vkq_context **out);

/* Waits for the device to go idle, writes the pipeline cache, frees everything. NULL: no-op. */
VKQ_API void vkq_context_destroy(vkq_context *ctx);

/* The message of the last failure on this context ("" if none). Owned by the context, valid
 * until the next call on it. For ctx == NULL: a fixed out-of-memory message. */
VKQ_API const char *vkq_context_last_error(const vkq_context *ctx);

/* Number of validation-layer errors and warnings seen since creation (0 when validation is off).
 * Safe to call from any thread. */
VKQ_API uint32_t vkq_context_validation_messages(const vkq_context *ctx);

/* ---------------------------------------------------------------------------------------------
 * Devices and their capabilities
 * ------------------------------------------------------------------------------------------- */

typedef enum vkq_device_type {
    VKQ_DEVICE_TYPE_OTHER = 0,
    VKQ_DEVICE_TYPE_DISCRETE = 1,
    VKQ_DEVICE_TYPE_INTEGRATED = 2,
    VKQ_DEVICE_TYPE_VIRTUAL = 3,
    VKQ_DEVICE_TYPE_CPU = 4,
} vkq_device_type;

#define VKQ_MAX_HEAPS 8
#define VKQ_MAX_COOPMAT_SHAPES 8

typedef struct vkq_memory_heap {
    uint64_t size;
    int device_local;        /* VK_MEMORY_HEAP_DEVICE_LOCAL_BIT */
    int host_visible;        /* some device-local type of this heap is also host-visible */
} vkq_memory_heap;

typedef struct vkq_coopmat_shape {
    uint32_t m, n, k;
    uint32_t a_type, c_type; /* VkComponentTypeKHR values */
} vkq_coopmat_shape;

/* What vkq knows of one physical device. Filled by vkq_context_device_info; plain data. */
typedef struct vkq_device_info {
    char name[256];
    char driver_name[256];
    char driver_info[256];
    vkq_device_type type;
    uint32_t vendor_id, device_id;
    uint32_t api_version;        /* VK_MAKE_API_VERSION encoding */
    uint32_t driver_version;     /* vendor-specific encoding */
    uint32_t subgroup_size;      /* default subgroup size */
    uint32_t subgroup_size_min, subgroup_size_max; /* with subgroup size control, else = size */
    int subgroup_size_control;
    uint32_t subgroup_ops;       /* VkSubgroupFeatureFlags in compute shaders */
    uint32_t max_shared_memory;  /* maxComputeSharedMemorySize, bytes */
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_count[3];
    uint64_t max_storage_buffer_range;
    uint64_t max_allocation_size;
    uint32_t max_allocation_count;
    uint32_t min_storage_buffer_offset_alignment;
    uint32_t max_push_constants;
    uint32_t heap_count;
    vkq_memory_heap heaps[VKQ_MAX_HEAPS];
    int device_local_host_visible; /* some memory type is both: uploads need no staging copy */
    int float16_arithmetic, int8_arithmetic;
    int storage_16bit, storage_8bit;
    int integer_dot_product;     /* VK_KHR_shader_integer_dot_product */
    int integer_dot_4x8_packed_accelerated; /* signed 4x8 packed dot is hardware-accelerated */
    int cooperative_matrix;      /* VK_KHR_cooperative_matrix */
    uint32_t coopmat_shape_count;
    vkq_coopmat_shape coopmat_shapes[VKQ_MAX_COOPMAT_SHAPES];
    int timestamps;              /* compute queue supports timestamps */
    float timestamp_period_ns;
    uint32_t reserved[32];
} vkq_device_info;

/* Number of Vulkan devices the instance sees (0 in VKQ_DEVICE_MODE_NONE). */
VKQ_API vkq_status vkq_context_device_count(vkq_context *ctx, uint32_t *count);

/* Capabilities of device `index` (0 .. count-1). */
VKQ_API vkq_status vkq_context_device_info(vkq_context *ctx, uint32_t index,
                                           vkq_device_info *out);

/* Index of the opened device, or -1 when none is open. */
VKQ_API int vkq_context_device_index(const vkq_context *ctx);

/* The device's read+write memory bandwidth, measured with vkq's copy kernel and GPU
 * timestamps: bytes read plus bytes written per second, median of `repeats` runs after one
 * warm-up. This is the speed limit of decoding. bytes: buffer size (0: 256 MiB, capped by the
 * device's allocation limit); repeats: 0 means 10. */
typedef struct vkq_bandwidth_result {
    double gbps_median, gbps_min, gbps_max; /* 1e9 bytes/s */
    uint64_t bytes;                           /* per copy: bytes read (= bytes written) */
    uint32_t repeats;
    uint32_t reserved[8];
} vkq_bandwidth_result;

VKQ_API vkq_status vkq_context_measure_bandwidth(vkq_context *ctx, uint64_t bytes,
                                                 uint32_t repeats, vkq_bandwidth_result *out);

/* ---------------------------------------------------------------------------------------------
 * Tensor types (weight, activation and cache formats). Values are vkq's own, stable; GGUF's
 * numeric ids are given by vkq_type_gguf_id. Zero is "none/default" as in every vkq enum.
 * ------------------------------------------------------------------------------------------- */

typedef enum vkq_type {
    VKQ_TYPE_NONE = 0,
    VKQ_TYPE_F32 = 1,
    VKQ_TYPE_F16 = 2,
    VKQ_TYPE_BF16 = 3,
    VKQ_TYPE_Q4_0 = 4,
    VKQ_TYPE_Q4_1 = 5,
    VKQ_TYPE_Q5_0 = 6,
    VKQ_TYPE_Q5_1 = 7,
    VKQ_TYPE_Q8_0 = 8,
    VKQ_TYPE_Q8_1 = 9,
    VKQ_TYPE_Q2_K = 10,
    VKQ_TYPE_Q3_K = 11,
    VKQ_TYPE_Q4_K = 12,
    VKQ_TYPE_Q5_K = 13,
    VKQ_TYPE_Q6_K = 14,
    VKQ_TYPE_IQ4_NL = 15,
    VKQ_TYPE_IQ4_XS = 16,
    VKQ_TYPE_COUNT
} vkq_type;

/* Lower-case name as GGUF tools spell it ("q4_k"); "none" for VKQ_TYPE_NONE or unknown. */
VKQ_API const char *vkq_type_name(vkq_type type);
/* VKQ_TYPE_NONE when no type has that name (case-insensitive). */
VKQ_API vkq_type vkq_type_from_name(const char *name);
/* The GGUF ggml_type id (Q4_0 -> 2), or UINT32_MAX for VKQ_TYPE_NONE/unknown. */
VKQ_API uint32_t vkq_type_gguf_id(vkq_type type);
/* VKQ_TYPE_NONE for an id vkq does not know. */
VKQ_API vkq_type vkq_type_from_gguf_id(uint32_t gguf_id);
/* Elements per block (1, 32 or 256) and bytes per block; 0 for unknown types. */
VKQ_API uint32_t vkq_type_block_elements(vkq_type type);
VKQ_API uint32_t vkq_type_block_bytes(vkq_type type);

/* ---------------------------------------------------------------------------------------------
 * Quantization and dequantization of plain arrays (CPU reference). Decoding is bit-exact with
 * the GGUF block definitions. These need no context: they cannot fail except on bad
 * arguments, so the status is the whole report. They keep no state and may be called from any
 * thread at once.
 * ------------------------------------------------------------------------------------------- */

/* Dequantizes n elements of `type` from src (n / vkq_type_block_elements(type) packed blocks,
 * vkq_type_block_bytes(type) bytes each, no alignment needed) into dst (n floats).
 * VKQ_ERR_INVALID_ARGUMENT if src or dst is NULL, type is not a known type, or n is not a
 * multiple of the type's block size; nothing is written then. n == 0 succeeds and writes
 * nothing. Any bytes decode without error (a half that is NaN or infinite decodes as such). */
VKQ_API vkq_status vkq_dequantize(vkq_type type, const void *src, float *dst, uint64_t n);

/* Quantizes n floats from src into n / vkq_type_block_elements(type) blocks of `type` at dst
 * and sets *bytes_written to their size (n / block_elements * block_bytes). Scales are chosen
 * by a weighted least-squares search that is never worse than the closed-form (min/max)
 * choice. importance: NULL for plain squared error, or n non-negative weights, element j's
 * squared error counting importance[j] times (an importance matrix gives the mean of x^2 per
 * input column; pass that column's value for every element of the column). Q8_1 is accepted
 * (an activation format). For F32/F16/BF16 this is a conversion with round-to-nearest-even.
 * VKQ_ERR_INVALID_ARGUMENT if src, dst or bytes_written is NULL, type is unknown, or n is not a
 * multiple of the block size; then nothing is written to dst and *bytes_written (when not
 * NULL) is 0. src should be finite: NaN or infinite inputs give valid blocks with unspecified
 * values. */
VKQ_API vkq_status vkq_quantize(vkq_type type, const float *src, void *dst, uint64_t n,
                                const float *importance /* n or NULL */, size_t *bytes_written);

/* ---------------------------------------------------------------------------------------------
 * GGUF files (reader). See the formats section of docs/ for what is validated.
 * ------------------------------------------------------------------------------------------- */

/* ---------------------------------------------------------------------------------------------
 * Models: a GGUF file of the llama family (llama, mistral, qwen2 and the models built on them),
 * its weights uploaded once to the context's device. Immutable after loading, so one model can
 * serve several sessions; the model must outlive its sessions and its context must outlive it.
 * ------------------------------------------------------------------------------------------- */

typedef struct vkq_model vkq_model;

/* Called during loading with the fraction done (0..1). Return non-zero to cancel the load
 * (vkq_model_load then returns VKQ_ERR_STATE, "cancelled"). */
typedef int (*vkq_progress_fn)(float fraction, void *user_data);

typedef struct vkq_model_desc {
    const char *path;             /* GGUF file; required */
    vkq_progress_fn progress;     /* NULL: no progress reports */
    void *progress_user_data;
    uint32_t reserved[16];        /* must be zero */
} vkq_model_desc;

typedef enum vkq_rope_type {
    VKQ_ROPE_DEFAULT = 0,         /* from the architecture */
    VKQ_ROPE_NORMAL = 1,          /* pairs (2i, 2i+1): llama, mistral */
    VKQ_ROPE_NEOX = 2,            /* pairs (i, i + n_rot/2): qwen2 */
} vkq_rope_type;

typedef struct vkq_model_info {
    char architecture[32];        /* general.architecture: "llama", "qwen2", ... */
    char name[128];               /* general.name, or "" */
    uint32_t n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_rot;
    float rope_freq_base, rope_freq_scale, norm_eps;
    vkq_rope_type rope_type;
    int tied_output;              /* the output projection reuses token_embd */
    int has_qkv_bias;
    uint64_t n_params;            /* weights, elements */
    uint64_t weight_bytes;        /* bytes of all weights as stored (= read per decoded token,
                                     except the embedding table, of which one row is read) */
    vkq_type dominant_type;       /* the type holding most of the weight bytes */
    uint32_t bos, eos;            /* token ids; UINT32_MAX when the file has none */
    uint32_t reserved[16];
} vkq_model_info;

/* Loads and validates the file, uploads its weights. Refuses, with a message naming the
 * architecture, tensor or type: unsupported architectures, missing or mis-shaped tensors,
 * tensor types the device cannot multiply. Errors go to vkq_context_last_error(ctx). */
VKQ_API vkq_status vkq_model_load(vkq_context *ctx, const vkq_model_desc *desc, vkq_model **out);
/* NULL: no-op. All sessions of the model must be destroyed first. */
VKQ_API void vkq_model_destroy(vkq_model *model);
VKQ_API vkq_status vkq_model_info_get(const vkq_model *model, vkq_model_info *out);
/* The model's tokenizer (see the Tokenizer section), owned by the model; NULL when the file
 * has no vocabulary (such a model is evaluated from token ids). */
VKQ_API const struct vkq_tokenizer *vkq_model_tokenizer(const vkq_model *model);
/* The GGUF file the model came from (metadata, tensors); owned by the model. */
VKQ_API const struct vkq_gguf *vkq_model_gguf(const vkq_model *model);

/* ---------------------------------------------------------------------------------------------
 * Sessions: one sequence being evaluated — its KV cache, activations and recorded commands.
 * Used by one thread at a time. Several sessions may share a model.
 * ------------------------------------------------------------------------------------------- */

typedef struct vkq_session vkq_session;

typedef struct vkq_session_desc {
    uint32_t n_ctx;               /* tokens the KV cache holds; 0: min(training context, 4096) */
    uint32_t n_batch;             /* most tokens per prefill submission; 0: 256 */
    vkq_type kv_type;             /* VKQ_TYPE_NONE (default) = F16; also Q8_0, Q4_0 */
    uint32_t collect_importance;  /* non-zero: every eval also sums, on the GPU, x^2 of each
                                     input column of every weight matrix, for
                                     vkq_session_save_importance (an importance matrix). Costs
                                     a small dispatch per product input, and decode steps run
                                     without the fused products */
    uint32_t profile;             /* non-zero: time every dispatch with GPU timestamps, summed per
                                     kernel for vkq_session_profile (a timestamp per dispatch:
                                     cheap, but leave it off when timing whole runs) */
    uint32_t reserved[14];        /* must be zero */
} vkq_session_desc;

VKQ_API vkq_status vkq_session_create(vkq_model *model, const vkq_session_desc *desc,
                                      vkq_session **out);
VKQ_API void vkq_session_destroy(vkq_session *session);
/* Forgets every evaluated token (position 0, cache emptied). */
VKQ_API vkq_status vkq_session_reset(vkq_session *session);
/* Forgets the tokens from `position` on (position <= the current one): the next eval continues
 * there. Cheap: the cache rows past the position are simply never read. */
VKQ_API vkq_status vkq_session_rewind(vkq_session *session, uint32_t position);
/* Tokens evaluated so far (the position of the next one). */
VKQ_API uint32_t vkq_session_position(const vkq_session *session);
VKQ_API uint32_t vkq_session_context_size(const vkq_session *session);

/* Evaluates `n` tokens at the current position (prefill in batches of n_batch; a single token
 * replays the recorded decode step). Afterwards the logits of the last token are available
 * through vkq_session_logits and vkq_session_sample. If `all_logits` is non-NULL it receives
 * n × n_vocab floats, the logits after every token (for perplexity). Running past n_ctx is
 * VKQ_ERR_LIMIT and evaluates nothing. A token id >= n_vocab is VKQ_ERR_INVALID_ARGUMENT. */
VKQ_API vkq_status vkq_session_eval(vkq_session *session, const int32_t *tokens, uint32_t n,
                                    float *all_logits);
/* Copies the last token's n_vocab logits. VKQ_ERR_STATE before any eval. */
VKQ_API vkq_status vkq_session_logits(vkq_session *session, float *logits);

/* Writes what a session created with collect_importance gathered since its creation (or the
 * last vkq_session_clear_importance; vkq_session_reset does not clear it, so one collection
 * may span many windows of text): for every weight matrix the mean over evaluated tokens of
 * x^2 of each input column, as the F32 tensor "<weight name>.importance" of a GGUF file (keys
 * general.type = "imatrix", vkq.importance.tokens), which vkq_quantize_desc.importance_path
 * reads. Matrices reading the same input (q/k/v, gate/up) get the same vector; the output
 * projection's covers only the tokens whose logits were computed (all of them when
 * all_logits is used). The file is written atomically. VKQ_ERR_STATE: collection off, or no
 * token evaluated yet; VKQ_ERR_IO: the file cannot be written. */
VKQ_API vkq_status vkq_session_save_importance(vkq_session *session, const char *path);
/* Zeroes the collected sums. VKQ_ERR_STATE when collection is off. */
VKQ_API vkq_status vkq_session_clear_importance(vkq_session *session);

/* Where the GPU time of a session created with desc.profile went: one entry per (phase,
 * kernel), summed over every eval since creation or vkq_session_profile_clear. A dispatch's
 * time runs from the end of the work before it to its own end (so it includes the wait at the
 * barrier in front of it; on a GPU, dispatches that overlap are charged to the one that ends
 * later), and the entries of a phase add up to its GPU time. Entries come sorted by phase, then
 * by time, longest first. */
typedef struct vkq_profile_entry {
    const char *phase;            /* "prefill" (batches of more than one token), "decode" (one
                                     token, the replayed step) or "sample" (GPU sampling) */
    const char *kernel;           /* the shader, e.g. "matvec_q4_0_sg" (static storage) */
    uint64_t calls;               /* dispatches timed */
    double seconds;               /* their GPU time */
} vkq_profile_entry;
/* Copies up to `capacity` entries and sets *count to the number there are: VKQ_ERR_LIMIT when
 * that exceeds capacity (entries may be NULL when capacity is 0). VKQ_ERR_STATE when the
 * session was created without desc.profile. */
VKQ_API vkq_status vkq_session_profile(vkq_session *session, vkq_profile_entry *entries, uint32_t capacity,
                                       uint32_t *count);
/* Zeroes the profile. VKQ_ERR_STATE when profiling is off. */
VKQ_API vkq_status vkq_session_profile_clear(vkq_session *session);

typedef struct vkq_sampler_desc {
    float temperature;            /* 0: greedy (argmax, computed on the GPU) */
    uint32_t top_k;               /* 0: off */
    float top_p;                  /* 0 or >= 1: off */
    float min_p;                  /* 0: off */
    float repeat_penalty;         /* 0 or 1: off */
    uint32_t repeat_last_n;       /* tokens the penalty looks back over; 0: 64 */
    uint64_t seed;                /* 0: 1. The same seed and inputs give the same tokens */
    uint32_t reserved[8];
} vkq_sampler_desc;

/* Chooses the next token from the last logits. `recent`/`n_recent` are the tokens the
 * repetition penalty sees (may be NULL/0). Deterministic for a seed: the session keeps the
 * random state, vkq_session_reset does not reset it (vkq_session_seed does). */
VKQ_API vkq_status vkq_session_sample(vkq_session *session, const vkq_sampler_desc *sampler,
                                      const int32_t *recent, uint32_t n_recent, int32_t *token);
VKQ_API void vkq_session_seed(vkq_session *session, uint64_t seed);

/* ---------------------------------------------------------------------------------------------
 * Kernel benchmarks: one weight-product kernel timed with GPU timestamps on random data of a
 * chosen format and shape (what `vkq bench kernels` prints). For tuning and for performance
 * reports; running models does not need it.
 * ------------------------------------------------------------------------------------------- */

typedef enum vkq_kernel {
    VKQ_KERNEL_DEFAULT = 0,   /* the product vkq would use: matvec for n <= 8, matmul beyond
                                 (CPU drivers: matvec at every n) */
    VKQ_KERNEL_MATVEC = 1,    /* matrix-vector (decode), in passes of up to 8 vectors */
    VKQ_KERNEL_MATMUL = 2,    /* tiled matrix-matrix (prefill) */
    VKQ_KERNEL_GET_ROWS = 3,  /* gather of n rows of the m x k table (token embeddings) */
    VKQ_KERNEL_MATVEC_DOT = 4, /* integer dot product (decode): X quantized to 8 bits (Q8_1),
                                  then the matvec on it; both dispatches are timed. Q4_0, Q4_1,
                                  Q5_0, Q5_1, Q8_0; VKQ_ERR_UNSUPPORTED where the build or the
                                  device (shaderIntegerDotProduct) lacks it */
} vkq_kernel;

typedef struct vkq_kernel_bench_desc {
    vkq_kernel kernel;           /* default: see VKQ_KERNEL_DEFAULT */
    vkq_type type;               /* weight format; required */
    uint32_t m, k;               /* W: m rows of k elements; required, k a whole number of
                                    blocks (a multiple of 8 for F32/F16/BF16) */
    uint32_t n;                  /* vectors (rows gathered for GET_ROWS); 0: 1 */
    uint32_t repeats;            /* timed runs; 0: 10. The median is reported */
    uint32_t warmup;             /* untimed runs before them; 0: 1 */
    /* Tuning overrides; 0 is the library's choice for the device. Bad values give
     * VKQ_ERR_INVALID_ARGUMENT or VKQ_ERR_LIMIT with the device's limits in the message. */
    uint32_t workgroup_size;     /* matvec: a power of two */
    uint32_t rows_per_workgroup; /* matvec: 1..8 */
    uint32_t tile_m, tile_n;     /* matmul: multiples of 4 */
    int no_subgroup;             /* matvec: non-zero reduces in shared memory even where the
                                    device has subgroup arithmetic */
    int matvec_layout;           /* matvec: 1 invocations side by side along each row (the GPU
                                    layout), 2 one row per invocation (the CPU-driver layout);
                                    0: by device type */
    uint32_t reserved[16];       /* must be zero */
} vkq_kernel_bench_desc;

typedef struct vkq_kernel_bench_result {
    double seconds_median, seconds_min, seconds_max; /* one run: the kernel's dispatches */
    uint64_t weight_bytes;       /* bytes of W read per run (of the gathered rows for GET_ROWS) */
    double gbps;                 /* weight_bytes / seconds_median, in 1e9 B/s */
    double gflops;               /* 2 m k n / seconds_median, in 1e9 FLOP/s (0 for GET_ROWS) */
    char variant[96];            /* shader and configuration, e.g. "matvec_q4_0_sg wg 64 rows 2" */
    uint32_t reserved[16];
} vkq_kernel_bench_result;

/* Allocates W (random values quantized to `type`), X and Y on the context's device, records the
 * kernel once between two timestamps, runs it desc->warmup + desc->repeats times and frees
 * everything. Each run reads W from device memory once (no repetition inside a run, so a W
 * smaller than the GPU's caches may be served partly from cache). *out is zeroed first.
 * VKQ_ERR_INVALID_ARGUMENT for a NULL argument, a bad shape or a non-zero reserved field;
 * VKQ_ERR_UNSUPPORTED when the device has no timestamps or the format no product kernel;
 * VKQ_ERR_STATE for a context without a device; memory errors as they come. */
VKQ_API vkq_status vkq_context_bench_kernel(vkq_context *ctx, const vkq_kernel_bench_desc *desc,
                                            vkq_kernel_bench_result *out);

/* ---------------------------------------------------------------------------------------------
 * Tokenizer: text to token ids and back, and chat prompts, built from a GGUF file's tokenizer.*
 * keys. Two vocabulary kinds: byte-level BPE ("gpt2": SmolLM2, Qwen2, Llama 3) and
 * SentencePiece ("llama": LLaMA 2, Mistral). Token ids are int32_t, as in the session API.
 *
 * Text in is any bytes: what is not valid UTF-8 is read as U+FFFD, one per maximal ill-formed
 * subsequence (as Python's bytes.decode(errors="replace") does). Text out is always valid UTF-8.
 *
 * Threading: a vkq_tokenizer is immutable; every vkq_tokenizer_* call on it may run on any
 * number of threads at once. Only vkq_tokenizer_load writes a message (into its context); the
 * others report through their status alone: VKQ_ERR_INVALID_ARGUMENT (NULL pointers, ids out of
 * range), VKQ_ERR_LIMIT (the output buffer is too small: *length or *n_tokens then holds the
 * size needed, so call again with that much), VKQ_ERR_OUT_OF_HOST_MEMORY. A vkq_detokenizer
 * is one stream of tokens, used by one thread at a time.
 * ------------------------------------------------------------------------------------------- */

struct vkq_gguf;
typedef struct vkq_tokenizer vkq_tokenizer;

/* Builds the tokenizer described by an open GGUF file. Everything is copied: the file may be
 * closed afterwards. Errors (message in vkq_context_last_error(ctx)): VKQ_ERR_NOT_FOUND (the
 * file has no tokenizer), VKQ_ERR_UNSUPPORTED (tokenizer.ggml.model other than "gpt2" and
 * "llama"), VKQ_ERR_BAD_FILE / VKQ_ERR_WRONG_TYPE (inconsistent keys),
 * VKQ_ERR_OUT_OF_HOST_MEMORY, VKQ_ERR_INVALID_ARGUMENT (NULL ctx, gguf or out). A pre-tokenizer
 * (tokenizer.ggml.pre) or chat template vkq does not know is not an error: the tokenizer falls
 * back (gpt2 splitting; ChatML) and logs a warning. */
VKQ_API vkq_status vkq_tokenizer_load(vkq_context *ctx, const struct vkq_gguf *gguf,
                                      vkq_tokenizer **out);
/* NULL: no-op. Detokenizers created from it must be destroyed first. */
VKQ_API void vkq_tokenizer_destroy(vkq_tokenizer *tok);

/* Number of tokens (0 for NULL). */
VKQ_API uint32_t vkq_tokenizer_vocab_size(const vkq_tokenizer *tok);

typedef enum vkq_special_token {
    VKQ_SPECIAL_NONE = 0,
    VKQ_SPECIAL_BOS = 1, /* beginning of sequence */
    VKQ_SPECIAL_EOS = 2, /* end of sequence */
    VKQ_SPECIAL_UNK = 3, /* unknown */
    VKQ_SPECIAL_PAD = 4, /* padding */
    VKQ_SPECIAL_EOT = 5, /* end of turn, where the file names one (tokenizer.ggml.eot_token_id) */
} vkq_special_token;

/* The id of a special token, or -1 when the vocabulary has none. */
VKQ_API int32_t vkq_tokenizer_special(const vkq_tokenizer *tok, vkq_special_token which);
/* Non-zero for the tokens at which generation should stop: EOS, end of turn, and control tokens
 * spelled like the usual end-of-turn markers (<|im_end|>, <|eot_id|>, <|endoftext|>, ...). */
VKQ_API int vkq_tokenizer_is_end_of_turn(const vkq_tokenizer *tok, int32_t token);
/* The token's spelling as the vocabulary stores it ("Ġthe", "▁the", "<|im_end|>"), owned by
 * tok; NULL for an id out of range. For display and debugging: text comes from decoding. */
VKQ_API const char *vkq_tokenizer_token_text(const vkq_tokenizer *tok, int32_t token);

#define VKQ_TOKENIZE_ADD_SPECIAL (1u << 0)   /* BOS (and EOS) as the model's file asks for them
                                                (tokenizer.ggml.add_bos_token, add_eos_token) */
#define VKQ_TOKENIZE_PARSE_SPECIAL (1u << 1) /* control tokens written in the text, such as
                                                "<|im_start|>", become those tokens; without
                                                it they are tokenized as plain text */

/* Tokenizes `length` bytes of text (text may be NULL when length is 0). Writes at most
 * `capacity` ids (tokens may be NULL when capacity is 0) and sets *n_tokens to the number the
 * whole text needs; VKQ_ERR_LIMIT when that is more than capacity. To tokenize a chat, format it
 * with vkq_tokenizer_format_chat and pass both flags. */
VKQ_API vkq_status vkq_tokenizer_encode(const vkq_tokenizer *tok, const char *text,
                                        size_t length, uint32_t flags, int32_t *tokens,
                                        size_t capacity, size_t *n_tokens);

#define VKQ_DECODE_SPECIAL (1u << 0)    /* control tokens come out as their spelling
                                           ("<|im_end|>"); by default as nothing */
#define VKQ_DECODE_TEXT_START (1u << 1) /* detokenizer: the first token begins a text, so the
                                           space SentencePiece put in front of it is dropped
                                           (vkq_tokenizer_decode always does this) */

/* The text of n tokens, NUL-terminated. *length (without the terminator) is set in any case;
 * VKQ_ERR_LIMIT when capacity < *length + 1. Invalid UTF-8 that the tokens spell comes out as
 * U+FFFD. */
VKQ_API vkq_status vkq_tokenizer_decode(const vkq_tokenizer *tok, const int32_t *tokens,
                                        size_t n, uint32_t flags, char *text, size_t capacity,
                                        size_t *length);

/* Streaming decoder for generated tokens: each push returns only complete UTF-8 characters,
 * holding back the bytes of a character that the next token will finish (byte tokens, emoji
 * split across tokens). Bytes that cannot become a character come out as U+FFFD. */
typedef struct vkq_detokenizer vkq_detokenizer;

/* flags: VKQ_DECODE_*. The tokenizer must outlive the detokenizer. */
VKQ_API vkq_status vkq_detokenizer_create(const vkq_tokenizer *tok, uint32_t flags,
                                          vkq_detokenizer **out);
/* NULL: no-op. */
VKQ_API void vkq_detokenizer_destroy(vkq_detokenizer *dt);
/* Decodes one token into text (not NUL-terminated): *length bytes, possibly 0. A capacity of
 * 3 * (spelling length + 8) bytes always suffices. VKQ_ERR_LIMIT leaves the stream unchanged. */
VKQ_API vkq_status vkq_detokenizer_push(vkq_detokenizer *dt, int32_t token, char *text,
                                        size_t capacity, size_t *length);
/* Ends the stream: held bytes of an unfinished character come out as U+FFFD (up to 3 bytes).
 * The detokenizer then starts a new stream, as if just created. */
VKQ_API vkq_status vkq_detokenizer_flush(vkq_detokenizer *dt, char *text, size_t capacity,
                                         size_t *length);

/* Chat prompts. vkq does not run Jinja: the model's template (tokenizer.chat_template) is
 * recognized as one of these families and formatted as that family's template renders it. */
typedef enum vkq_chat_template {
    VKQ_CHAT_TEMPLATE_NONE = 0,
    VKQ_CHAT_TEMPLATE_CHATML = 1,  /* <|im_start|>role\ncontent<|im_end|>\n: SmolLM2, Qwen; a
                                      default system turn in the template is kept */
    VKQ_CHAT_TEMPLATE_LLAMA2 = 2,  /* [INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] reply */
    VKQ_CHAT_TEMPLATE_LLAMA3 = 3,  /* <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|> */
    VKQ_CHAT_TEMPLATE_MISTRAL = 4, /* [INST] user [/INST]reply</s>; a system message goes in
                                      front of the next user message, then a blank line */
} vkq_chat_template;

typedef struct vkq_chat_message {
    const char *role;    /* "system", "user", "assistant" (others: as the family allows) */
    const char *content; /* NUL-terminated UTF-8 */
} vkq_chat_message;

/* The family the model's template was recognized as. *is_fallback (may be NULL) is set non-zero
 * when the file has no template or one vkq does not recognize: ChatML is used then, which the
 * model may not have been trained on. */
VKQ_API vkq_chat_template vkq_tokenizer_chat_template(const vkq_tokenizer *tok,
                                                      int *is_fallback);
/* Formats a conversation as a prompt, NUL-terminated; with add_generation_prompt non-zero it
 * ends where the assistant's reply begins. The BOS token at the very start is left out:
 * tokenize the result with VKQ_TOKENIZE_ADD_SPECIAL | VKQ_TOKENIZE_PARSE_SPECIAL, which adds it
 * when the model wants it. *length (without the terminator) is set in any case; VKQ_ERR_LIMIT
 * when capacity < *length + 1. */
VKQ_API vkq_status vkq_tokenizer_format_chat(const vkq_tokenizer *tok,
                                             const vkq_chat_message *messages, size_t n,
                                             int add_generation_prompt, char *text,
                                             size_t capacity, size_t *length);

/* ---------------------------------------------------------------------------------------------
 * Analysis: what quantization costs a model, measured on text. Perplexity of a session on a
 * token stream and, against a reference session (the unquantized model, say), the
 * KL-divergence of the next-token distributions, token by token.
 * ------------------------------------------------------------------------------------------- */

typedef struct vkq_perplexity_result vkq_perplexity_result;

/* Called after each window with the figures so far (the KLD percentiles are 0 until the end)
 * and the number of windows the run will take. Return non-zero to cancel (vkq_perplexity then
 * returns VKQ_ERR_STATE, "cancelled"). */
typedef int (*vkq_perplexity_progress_fn)(const vkq_perplexity_result *so_far,
                                          uint32_t n_windows, void *user_data);

typedef struct vkq_perplexity_desc {
    uint32_t n_ctx;               /* window length in tokens; 0: 512, or the sessions' context
                                     when that is smaller. At least 4, at most the context of
                                     the session (and of the reference) */
    uint32_t max_windows;         /* 0: every whole window the tokens make */
    vkq_session *reference;       /* NULL: perplexity only. Otherwise a session on the same
                                     context, of a model with the same vocabulary size, run on
                                     the same windows for the KLD figures. May be `s` itself */
    vkq_perplexity_progress_fn progress; /* NULL: no progress reports */
    void *progress_user_data;
    uint32_t reserved[16];        /* must be zero */
} vkq_perplexity_desc;

/* Figures over the scored tokens. Standard errors are those of the mean over tokens (tokens
 * treated as independent samples, as llama.cpp does); the perplexity's is propagated from the
 * mean NLL's: ppl_stderr = ppl * nll_stderr. Logs are natural. */
struct vkq_perplexity_result {
    uint32_t n_ctx;               /* the window length used */
    uint32_t n_windows;           /* windows evaluated */
    uint64_t n_scored;            /* tokens scored: n_windows * (n_ctx - 1 - n_ctx / 2) */
    double nll_mean, nll_stderr;  /* -log p(next token), mean over scored tokens */
    double ppl, ppl_stderr;       /* exp(nll_mean) */
    /* The rest only with a reference (has_reference non-zero), else 0. */
    int has_reference;
    double ref_nll_mean, ref_nll_stderr, ref_ppl, ref_ppl_stderr; /* the same, for the reference */
    double kld_mean, kld_stderr;  /* KL(p_ref || p_test) = sum p_ref log(p_ref / p_test) */
    double kld_median, kld_p90, kld_p95, kld_p99, kld_max; /* over the scored tokens */
    double top1_agreement;        /* fraction of tokens where both models' argmax agree */
    double dp_mean, dp_rms;       /* dp = p_test(next) - p_ref(next): mean and root mean square */
    uint32_t reserved[16];
};

/* Perplexity of session `s` on tokens[0..n): the tokens are cut into floor(n / n_ctx)
 * non-overlapping windows (capped by max_windows; the rest is not used). Each window is
 * evaluated from an empty cache (vkq_session_reset) with every token's logits; its first half
 * is context, and the logits at positions n_ctx/2 .. n_ctx-2 are scored against the token that
 * follows. Tokens are used as given: to start every window with BOS, put it there. With
 * desc->reference, the reference session evaluates the same windows. The sessions are left
 * holding the last window. `desc` may be NULL (all defaults); *out is zeroed first.
 * Errors (message in the context's last error): VKQ_ERR_INVALID_ARGUMENT for NULL s, tokens or
 * out, a non-zero reserved field, a window under 4 tokens, fewer than n_ctx tokens, a reference
 * on another context or with another vocabulary size, a token id out of range; VKQ_ERR_LIMIT
 * for a window longer than a session's context; VKQ_ERR_STATE when cancelled; device and memory
 * errors as they come. Uses the sessions (and their context) from the calling thread only. */
VKQ_API vkq_status vkq_perplexity(vkq_session *s, const int32_t *tokens, uint32_t n,
                                  const vkq_perplexity_desc *desc, vkq_perplexity_result *out);

/* [model quantization section] ----------------------------------------------------------------
 * Quantizing a model: read a GGUF file, write a copy with its weight matrices in other block
 * formats (vkq quantize). Runs on the CPU: the context may be VKQ_DEVICE_MODE_NONE.
 * ------------------------------------------------------------------------------------------- */

/* Mixes of formats by tensor role, named as llama.cpp names its file types. The rules (which
 * tensor gets which format) are listed in docs/FORMATS.md, "Quantizing a model". */
typedef enum vkq_quantize_preset {
    VKQ_QUANTIZE_PRESET_NONE = 0, /* no preset: a single type (desc.type) */
    VKQ_QUANTIZE_PRESET_Q4_0 = 1,
    VKQ_QUANTIZE_PRESET_Q8_0 = 2,
    VKQ_QUANTIZE_PRESET_Q6_K = 3,
    VKQ_QUANTIZE_PRESET_Q4_K_S = 4,
    VKQ_QUANTIZE_PRESET_Q4_K_M = 5,
    VKQ_QUANTIZE_PRESET_Q5_K_M = 6,
    VKQ_QUANTIZE_PRESET_Q3_K_M = 7,
    VKQ_QUANTIZE_PRESET_Q2_K = 8,
    VKQ_QUANTIZE_PRESET_IQ4_XS = 9,
    VKQ_QUANTIZE_PRESET_COUNT
} vkq_quantize_preset;

/* "Q4_K_M", ...; "none" for NONE or unknown values. */
VKQ_API const char *vkq_quantize_preset_name(vkq_quantize_preset preset);
/* Case-insensitive; VKQ_QUANTIZE_PRESET_NONE when no preset has that name. */
VKQ_API vkq_quantize_preset vkq_quantize_preset_from_name(const char *name);

typedef struct vkq_quantize_desc {
    const char *input_path;       /* GGUF file with F32, F16 or BF16 weights (quantized ones
                                     are dequantized first, with a warning); required */
    const char *output_path;      /* written atomically (temporary file, then rename): on any
                                     failure it is left as it was; required */
    /* The target: exactly one of preset, type, target and a budget (target_bpw or
     * target_size, below). */
    vkq_quantize_preset preset;   /* a mix of formats by tensor role */
    vkq_type type;                /* every weight matrix in this type (any type but Q8_1) */
    const char *target;           /* a name: a preset ("q4_k_m") if one has it, else a type
                                     ("q5_0"); so "q4_0" is the preset, whose output.weight is
                                     q6_k, and desc.type = VKQ_TYPE_Q4_0 is q4_0 throughout */
    const char *const *overrides; /* n_overrides strings "PATTERN=TYPE": weight matrices whose
                                     name matches the glob PATTERN (*, ?, [...]) get TYPE; when
                                     several match, the last one wins. NULL: none */
    uint32_t n_overrides;
    const char *importance_path;  /* NULL: none. A GGUF file with an F32 tensor
                                     "<weight name>.importance" of ne[0] values per weight
                                     matrix (mean x^2 of each input column); matrices without
                                     one are quantized without importance */
    uint32_t threads;             /* 0: one per online CPU */
    vkq_progress_fn progress;     /* NULL: none. Called on the calling thread with the fraction
                                     of weights done; non-zero return cancels (VKQ_ERR_STATE) */
    void *progress_user_data;
    /* A size budget: each weight matrix gets the format that, with all the others, meets it
     * with the least total squared error (importance-weighted where the importance file has
     * the matrix), measured by quantizing each matrix in each candidate: q2_k q3_k q4_k q5_k
     * q6_k q8_0 for rows that are a multiple of 256, q4_0 q5_0 q8_0 for multiples of 32. The
     * search costs about one quantization per candidate. Overridden matrices keep their
     * override, other tensors stay f32, matrices with no candidate take the fallback (f16);
     * their bytes count against the budget. A budget below what the cheapest candidates
     * reach fails with VKQ_ERR_INVALID_ARGUMENT, whose message gives that smallest size. */
    double target_bpw;            /* 0: none. Bits per weight of the output, as the report's
                                     bits_per_weight (8 * tensor bytes / all elements); (0, 64] */
    uint64_t target_size;         /* 0: none. Bytes of the output file, header included */
    uint32_t reserved[16];        /* must be zero */
} vkq_quantize_desc;

typedef struct vkq_quantize_tensor_report {
    char name[64];
    uint32_t n_dims;
    uint64_t ne[4];
    uint64_t elements;
    vkq_type input_type;
    vkq_type wanted_type;         /* what the preset, type and overrides chose */
    vkq_type type;                /* what was written: wanted_type, or a fallback when ne[0] is
                                     not a multiple of wanted_type's block (then fallback != 0) */
    int fallback;
    int quantized;                /* non-zero for weight matrices; 0 for tensors kept as F32 */
    uint64_t bytes;               /* in the output */
    double rel_l2, sqnr_db;       /* reconstruction against the (dequantized) input; 0 and
                                     +INFINITY when exact */
    int has_importance;           /* the importance file had this matrix */
    double weighted_rel_l2, weighted_sqnr_db; /* the same, each column's error weighted by its
                                                 importance; only with has_importance */
    uint32_t reserved[8];
} vkq_quantize_tensor_report;

typedef struct vkq_quantize_report {
    vkq_quantize_tensor_report *tensors; /* n_tensors, file order; free with
                                            vkq_quantize_report_free */
    uint64_t n_tensors;
    uint64_t elements;            /* all tensors */
    uint64_t input_bytes;         /* tensor data of the input */
    uint64_t output_bytes;        /* tensor data of the output (without padding) */
    uint64_t output_file_size;
    double bits_per_weight;       /* 8 * output_bytes / elements */
    uint32_t file_type;           /* general.file_type written (llama.cpp's LLAMA_FTYPE_*; with a
                                     budget, the one for the type that holds the most weights,
                                     as llama.cpp guesses: q4_k -> Q4_K_M) */
    uint32_t n_fallbacks;         /* tensors written in a fallback type */
    uint32_t n_dequantized;       /* quantized input tensors that were dequantized first */
    uint32_t threads;             /* threads used */
    double seconds;
    uint64_t budget_bytes;        /* with a budget: the tensor data it allowed (output_bytes is
                                     at most this); else 0 */
    double error_energy;          /* sum over tensors of the squared reconstruction error,
                                     importance-weighted where there is importance: what a
                                     budget minimizes */
    uint32_t reserved[16];
} vkq_quantize_report;

/* Quantizes desc->input_path into desc->output_path: weight matrices (tensors of two or more
 * dimensions named "*.weight") get the type the target and overrides give them, or a fallback
 * when their rows do not fit its blocks; every other tensor (norms, biases) is written as F32.
 * Metadata is copied, general.file_type set, the alignment kept. report (may be NULL) receives
 * the figures; free it with vkq_quantize_report_free, also after a failure (it is then empty).
 * Errors: VKQ_ERR_INVALID_ARGUMENT (NULL ctx/desc/paths, no target or several, unknown type or
 * preset name, Q8_1 target, override without '=' or with an unknown type, non-zero reserved,
 * target_bpw out of range, a budget too small to meet),
 * VKQ_ERR_NOT_FOUND (no input or importance file), VKQ_ERR_BAD_FILE (malformed input or
 * importance file, an importance tensor of the wrong type or length), VKQ_ERR_IO (the output
 * cannot be written), VKQ_ERR_OUT_OF_HOST_MEMORY, VKQ_ERR_STATE (cancelled). The whole output
 * is held in host memory until it is written. */
VKQ_API vkq_status vkq_model_quantize(vkq_context *ctx, const vkq_quantize_desc *desc,
                                      vkq_quantize_report *report);
/* Frees what vkq_model_quantize allocated in the report and zeroes it. NULL: no-op. */
VKQ_API void vkq_quantize_report_free(vkq_quantize_report *report);

/* ---------------------------------------------------------------------------------------------
 * Analysis: per-layer quantization error (vkq analyze). Where quantization hurts a model: for
 * each weight matrix and each format, the error of the matrix quantized and dequantized by vkq's
 * own quantizer (weight space); with calibration tokens, the error of the hidden state after
 * each layer and of the final logits against the unquantized model, from the CPU reference
 * forward pass (activation space). Runs on the CPU: the context may be VKQ_DEVICE_MODE_NONE.
 * The definitions of the figures and the JSON and CSV report formats: docs/ANALYSIS.md.
 * ------------------------------------------------------------------------------------------- */

typedef struct vkq_analysis_desc {
    const char *model_path;       /* the source model (GGUF), required. Quantized weights are
                                     dequantized first: the source is what they dequantize to */
    const char *const *formats;   /* n_formats names, required. The exact lower-case spelling
                                     of a type ("q4_k", "q8_0", "f32": vkq_type_name) is that
                                     type for every weight matrix; any other name is a preset
                                     (vkq_quantize_preset_from_name, case-insensitive: "Q4_K_M",
                                     "Q4_0"), each matrix getting the type the preset gives it.
                                     A type that does not fit a matrix's rows falls back as
                                     vkq_model_quantize does */
    uint32_t n_formats;           /* 1..64 */
    const char *const *overrides; /* n_overrides "PATTERN=TYPE" rules as in vkq_quantize_desc
                                     (glob on the tensor name, last match wins); NULL: none */
    uint32_t n_overrides;
    const int32_t *tokens;        /* calibration tokens, evaluated as one sequence from position
                                     0; NULL (with n_tokens 0): weight-space metrics only */
    uint32_t n_tokens;            /* 0, or 1..65536 */
    int quantize_with_importance; /* 0 (default): quantize as vkq quantize does without
                                     --imatrix; non-zero: weight each matrix's quantization
                                     error with the importance measured on the tokens */
    uint32_t threads;             /* 0: one per online CPU; at most 64 are used
                                     (the report says how many) */
    vkq_progress_fn progress;     /* NULL: none. Called on the calling thread with the fraction
                                     done; non-zero return cancels (VKQ_ERR_STATE) */
    void *progress_user_data;
    uint32_t reserved[16];        /* must be zero */
} vkq_analysis_desc;

/* One weight matrix in one format. Errors are of the dequantized matrix against the source's,
 * over all its elements (vkq's metrics module; see docs/ANALYSIS.md for the definitions). */
typedef struct vkq_analysis_weight_metrics {
    vkq_type type;                /* the type used: the format's choice, or its fallback */
    uint64_t bytes;               /* of the matrix in that type */
    double bpw;                   /* 8 * bytes / elements */
    double rmse, rel_l2, sqnr_db, max_abs, cosine; /* exact: 0, 0, +INFINITY, 0, 1 */
    double clipped_fraction;      /* fraction of weights saturated at their scale group's grid
                                     end: beyond the group's extreme reconstructed value by more
                                     than half the grid step there (docs/ANALYSIS.md) */
    int has_importance;           /* the weighted figures below are set */
    double weighted_rel_l2, weighted_sqnr_db; /* each column's error weighted by its importance
                                                 (mean x^2 of that input on the tokens) */
    uint32_t reserved[8];
} vkq_analysis_weight_metrics;

typedef struct vkq_analysis_tensor {
    char name[64];                /* "blk.0.attn_q.weight" */
    char role[32];                /* "attn_q", ..., "token_embd", "output": the name without
                                     "blk.N." and ".weight" */
    int32_t layer;                /* N of "blk.N.", -1 for the others */
    uint32_t n_dims;
    uint64_t ne[4];               /* ne[0]: row length */
    uint64_t elements;
    vkq_type source_type;         /* as stored in the source file */
    vkq_analysis_weight_metrics *formats; /* n_formats, in the desc's order */
    uint32_t reserved[8];
} vkq_analysis_tensor;

/* The hidden state (residual stream) after one layer against the source model's, over all the
 * calibration tokens. */
typedef struct vkq_analysis_layer_metrics {
    uint32_t layer;
    double cosine, sqnr_db, rel_l2;
    uint32_t reserved[4];
} vkq_analysis_layer_metrics;

typedef struct vkq_analysis_format {
    char name[32];                /* as given in the desc */
    vkq_quantize_preset preset;   /* the preset, or VKQ_QUANTIZE_PRESET_NONE for a type */
    vkq_type type;                /* the type, or VKQ_TYPE_NONE for a preset */
    uint64_t bytes;               /* the whole model: matrices in their types, other tensors
                                     F32, as vkq_model_quantize writes them */
    double bpw;                   /* 8 * bytes / all elements */
    uint32_t n_fallbacks;         /* matrices in a fallback type */
    /* With calibration tokens (the report's n_tokens > 0) only: */
    double kld_mean, kld_stderr;  /* KL(p_source || p_quantized) of the next-token
                                     distributions, mean over the token positions and its
                                     standard error */
    double top1;                  /* fraction of positions where both argmaxes agree */
    vkq_analysis_layer_metrics *accumulated; /* n_layer: every matrix quantized */
    vkq_analysis_layer_metrics *isolated;    /* n_layer: layer L's matrices quantized, fed the
                                                source model's input of layer L */
    uint32_t reserved[8];
} vkq_analysis_format;

typedef struct vkq_analysis_report {
    char *model_path;             /* copy of desc->model_path */
    char architecture[32], name[128];
    uint32_t n_layer, n_embd;     /* n_embd 0 when the file has no llama hyperparameters */
    uint64_t n_params;            /* elements of all tensors */
    uint64_t source_bytes;        /* tensor data of the source file */
    uint32_t n_formats;
    vkq_analysis_format *formats; /* n_formats, in the desc's order */
    uint64_t n_tensors;
    vkq_analysis_tensor *tensors; /* the weight matrices, in file order */
    uint32_t n_tokens;            /* calibration tokens used; 0: weight space only */
    uint32_t threads;
    double seconds;
    uint32_t reserved[16];
} vkq_analysis_report;

/* Runs the analysis that desc describes into *out (zeroed first; free it with
 * vkq_analysis_report_free, also after a failure). Weight matrices are the tensors of two or
 * more dimensions named "*.weight". Activation-space figures need a llama-family model.
 * Errors (message in vkq_context_last_error(ctx)): VKQ_ERR_INVALID_ARGUMENT (NULL ctx, desc or
 * out; no formats or more than 64; a format that is neither a type nor a preset, is Q8_1, or
 * is given twice; a bad override; n_tokens without tokens or over 65536; a token id out of the
 * vocabulary; a non-zero reserved field), VKQ_ERR_NOT_FOUND (no model file), VKQ_ERR_BAD_FILE (malformed
 * file, or tokens given for a file that is not a llama-family model), VKQ_ERR_OUT_OF_HOST_MEMORY
 * (the activation pass holds two dequantized copies of the model in host memory),
 * VKQ_ERR_STATE (cancelled). */
VKQ_API vkq_status vkq_analyze(vkq_context *ctx, const vkq_analysis_desc *desc,
                               vkq_analysis_report *out);
/* Frees what vkq_analyze allocated in the report and zeroes it. NULL: no-op. */
VKQ_API void vkq_analysis_report_free(vkq_analysis_report *report);

/* Writes the report as JSON (the "vkq_analysis": 1 format of docs/ANALYSIS.md, read by
 * vkq-viz) or as CSV (weight rows, then activation rows; columns in docs/ANALYSIS.md).
 * calibration_path: the text the tokens came from, recorded in the report; NULL: none.
 * Non-finite numbers are written as null (JSON) or an empty field (CSV). The file is written
 * whole to a temporary beside `path`, then renamed over it. Errors: VKQ_ERR_INVALID_ARGUMENT
 * (NULL ctx, report or path; a report whose arrays are missing, as one freed or filled by
 * hand), VKQ_ERR_IO, VKQ_ERR_OUT_OF_HOST_MEMORY. */
VKQ_API vkq_status vkq_analysis_write_json(vkq_context *ctx, const vkq_analysis_report *report,
                                           const char *calibration_path, const char *path);
VKQ_API vkq_status vkq_analysis_write_csv(vkq_context *ctx, const vkq_analysis_report *report,
                                          const char *path);

/* [gguf section — declarations below this line] */

/* A GGUF file opened for reading: memory-mapped, every count, length, offset, shape and type
 * checked when it is opened (a malformed or hostile file gives VKQ_ERR_BAD_FILE with a message
 * naming the field, the byte offset and the values, never a crash). GGUF versions 2 and 3 are
 * read; version 1 and big-endian files are refused.
 *
 * Immutable after open. Functions that cannot fail (counts, names, find) may be called from any
 * number of threads at once. The getters that return vkq_status write nothing but their outputs
 * when they succeed; when they fail they write the message into the context, so calls that may
 * fail on one context must not run concurrently with each other or with other calls on that
 * context. Strings and pointers returned belong to the vkq_gguf and stay valid until
 * vkq_gguf_close. The context passed to vkq_gguf_open must outlive the vkq_gguf.
 * A NULL vkq_gguf is accepted everywhere: counts and sizes are 0, names NULL, finds -1, and
 * status-returning calls give VKQ_ERR_INVALID_ARGUMENT without a message (there is no
 * context to keep one). */
typedef struct vkq_gguf vkq_gguf;

/* Metadata value types. vkq's own numbering (0 is NONE as in every vkq enum); the file's ids
 * differ. */
typedef enum vkq_gguf_value_type {
    VKQ_GGUF_TYPE_NONE = 0, /* no such key / index out of range */
    VKQ_GGUF_TYPE_U8 = 1,
    VKQ_GGUF_TYPE_I8 = 2,
    VKQ_GGUF_TYPE_U16 = 3,
    VKQ_GGUF_TYPE_I16 = 4,
    VKQ_GGUF_TYPE_U32 = 5,
    VKQ_GGUF_TYPE_I32 = 6,
    VKQ_GGUF_TYPE_U64 = 7,
    VKQ_GGUF_TYPE_I64 = 8,
    VKQ_GGUF_TYPE_F32 = 9,
    VKQ_GGUF_TYPE_F64 = 10,
    VKQ_GGUF_TYPE_BOOL = 11,
    VKQ_GGUF_TYPE_STRING = 12,
    VKQ_GGUF_TYPE_ARRAY = 13,
    VKQ_GGUF_TYPE_COUNT
} vkq_gguf_value_type;

/* "u8", "i32", "f32", "bool", "string", "array", ...; "none" for NONE or unknown values. */
VKQ_API const char *vkq_gguf_value_type_name(vkq_gguf_value_type type);

/* Maps and validates the file at `path`. `ctx` (required) may be a VKQ_DEVICE_MODE_NONE
 * context; failures are explained by vkq_context_last_error(ctx). On success *out is a new
 * handle (close it with vkq_gguf_close); on failure *out is NULL. Errors: VKQ_ERR_NOT_FOUND (no
 * such file), VKQ_ERR_IO, VKQ_ERR_BAD_FILE, VKQ_ERR_OUT_OF_HOST_MEMORY,
 * VKQ_ERR_INVALID_ARGUMENT (NULL ctx, path or out). */
VKQ_API vkq_status vkq_gguf_open(vkq_context *ctx, const char *path, vkq_gguf **out);

/* Same for a file already in memory (an Android asset, a buffer). The bytes are not copied:
 * they must stay valid and unchanged until vkq_gguf_close. */
VKQ_API vkq_status vkq_gguf_open_memory(vkq_context *ctx, const void *data, size_t size,
                                        vkq_gguf **out);

/* Unmaps and frees. NULL: no-op. Invalidates every string and pointer obtained from it. */
VKQ_API void vkq_gguf_close(vkq_gguf *gguf);

/* The file's GGUF version (2 or 3). */
VKQ_API uint32_t vkq_gguf_version(const vkq_gguf *gguf);
/* Data alignment in bytes (general.alignment, default 32): a power of two. */
VKQ_API uint32_t vkq_gguf_alignment(const vkq_gguf *gguf);
/* Byte offset of the tensor data section in the file; size of the whole file. */
VKQ_API uint64_t vkq_gguf_data_offset(const vkq_gguf *gguf);
VKQ_API uint64_t vkq_gguf_file_size(const vkq_gguf *gguf);

/* ---- metadata -------------------------------------------------------------------------------
 * Keys are unique, non-empty UTF-8 without zero bytes. Index order is file order.
 * Conversions: the integer getters accept a value of any integer type that fits the requested
 * type exactly (a u8 read as u32, an i32 of 5 read as u64); floats, bools and strings are not
 * converted to integers. The float getters accept f32 and f64 (f64 read as f32 rounds). A
 * value that does not fit, or a value of another kind, is VKQ_ERR_WRONG_TYPE with a message
 * naming the key, its type and the requested type; a missing key is VKQ_ERR_NOT_FOUND. */

VKQ_API uint64_t vkq_gguf_key_count(const vkq_gguf *gguf);
/* Name of key `index`, or NULL when index >= count. Never fails, writes nothing. */
VKQ_API const char *vkq_gguf_key_name(const vkq_gguf *gguf, uint64_t index);
/* Type of key `index` (VKQ_GGUF_TYPE_NONE when out of range). Never fails, writes nothing. */
VKQ_API vkq_gguf_value_type vkq_gguf_key_type(const vkq_gguf *gguf, uint64_t index);
/* Index of `key`, or -1 when absent (no message is written). */
VKQ_API int64_t vkq_gguf_find_key(const vkq_gguf *gguf, const char *key);

VKQ_API vkq_status vkq_gguf_get_u32(const vkq_gguf *gguf, const char *key, uint32_t *out);
VKQ_API vkq_status vkq_gguf_get_i32(const vkq_gguf *gguf, const char *key, int32_t *out);
VKQ_API vkq_status vkq_gguf_get_u64(const vkq_gguf *gguf, const char *key, uint64_t *out);
VKQ_API vkq_status vkq_gguf_get_i64(const vkq_gguf *gguf, const char *key, int64_t *out);
VKQ_API vkq_status vkq_gguf_get_f32(const vkq_gguf *gguf, const char *key, float *out);
VKQ_API vkq_status vkq_gguf_get_f64(const vkq_gguf *gguf, const char *key, double *out);
/* *out is 1 for true, 0 for false. Only a bool value is accepted. */
VKQ_API vkq_status vkq_gguf_get_bool(const vkq_gguf *gguf, const char *key, int *out);
/* *out: NUL-terminated copy owned by the gguf. The string may itself contain zero bytes; *len
 * (may be NULL) is its full length in bytes. Strings are returned as stored (not checked for
 * UTF-8). */
VKQ_API vkq_status vkq_gguf_get_string(const vkq_gguf *gguf, const char *key, const char **out,
                                       uint64_t *len);

/* Element type and length of an array value. Either output may be NULL. A non-array value is
 * VKQ_ERR_WRONG_TYPE. Arrays of arrays are refused when the file is opened. */
VKQ_API vkq_status vkq_gguf_get_array_info(const vkq_gguf *gguf, const char *key,
                                           vkq_gguf_value_type *elem_type, uint64_t *count);
/* Copy elements [first, first + count) of an array, converted as the scalar getters do (an
 * element that does not fit fails the call; *out may then be partly written).
 * first + count > length is VKQ_ERR_INVALID_ARGUMENT. count 0 is allowed (out may be NULL). */
VKQ_API vkq_status vkq_gguf_get_array_u32(const vkq_gguf *gguf, const char *key, uint64_t first,
                                          uint64_t count, uint32_t *out);
VKQ_API vkq_status vkq_gguf_get_array_i32(const vkq_gguf *gguf, const char *key, uint64_t first,
                                          uint64_t count, int32_t *out);
VKQ_API vkq_status vkq_gguf_get_array_u64(const vkq_gguf *gguf, const char *key, uint64_t first,
                                          uint64_t count, uint64_t *out);
VKQ_API vkq_status vkq_gguf_get_array_i64(const vkq_gguf *gguf, const char *key, uint64_t first,
                                          uint64_t count, int64_t *out);
VKQ_API vkq_status vkq_gguf_get_array_f32(const vkq_gguf *gguf, const char *key, uint64_t first,
                                          uint64_t count, float *out);
VKQ_API vkq_status vkq_gguf_get_array_f64(const vkq_gguf *gguf, const char *key, uint64_t first,
                                          uint64_t count, double *out);
VKQ_API vkq_status vkq_gguf_get_array_bool(const vkq_gguf *gguf, const char *key,
                                           uint64_t first, uint64_t count, int *out);
/* Element `index` of an array of strings, as vkq_gguf_get_string returns strings. */
VKQ_API vkq_status vkq_gguf_get_array_string(const vkq_gguf *gguf, const char *key,
                                             uint64_t index, const char **out, uint64_t *len);

/* ---- tensors --------------------------------------------------------------------------------
 * Shapes follow GGUF: ne[0] is the row length (the input dimension of a weight matrix), so
 * blk.0.attn_q.weight is {n_embd, n_embd} and token_embd.weight is {n_embd, n_vocab}. Each
 * tensor's data is `bytes` bytes in the map, aligned to vkq_gguf_alignment() within the file;
 * tensors do not overlap. Names are unique, non-empty UTF-8 of at most 64 bytes. */

typedef struct vkq_gguf_tensor_info {
    const char *name;      /* owned by the gguf */
    uint32_t n_dims;       /* 1..4 */
    uint64_t ne[4];        /* elements per dimension; dimensions past n_dims are 1 */
    vkq_type type;
    uint64_t elements;     /* product of ne */
    uint64_t bytes;        /* size of the data */
    uint64_t offset;       /* from the start of the data section */
    uint64_t file_offset;  /* from the start of the file */
    const void *data;      /* into the map; valid until vkq_gguf_close; read-only */
    uint32_t reserved[8];
} vkq_gguf_tensor_info;

VKQ_API uint64_t vkq_gguf_tensor_count(const vkq_gguf *gguf);
/* Info of tensor `index` (file order). VKQ_ERR_INVALID_ARGUMENT when index >= count. */
VKQ_API vkq_status vkq_gguf_tensor(const vkq_gguf *gguf, uint64_t index,
                                   vkq_gguf_tensor_info *out);
/* Index of the tensor named `name`, or -1 (no message is written). */
VKQ_API int64_t vkq_gguf_find_tensor(const vkq_gguf *gguf, const char *name);
/* Info of the tensor named `name`; VKQ_ERR_NOT_FOUND (with the name in the message) if none. */
VKQ_API vkq_status vkq_gguf_tensor_by_name(const vkq_gguf *gguf, const char *name,
                                           vkq_gguf_tensor_info *out);

#ifdef __cplusplus
}
#endif

#endif /* VKQ_H */

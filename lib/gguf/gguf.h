/* lib/gguf — GGUF reader (memory-mapped, validated before use), writer, synthetic test models.
 * Internal to libvkq (names vkq__*); the public reader API is the vkq_gguf_* section of vkq.h.
 *
 * File layout (GGUF v2/v3, little-endian):
 *   "GGUF" u32 version, u64 tensor_count, u64 kv_count
 *   kv_count  x { string key, u32 value_type, value }
 *   tensor_count x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
 *   padding to `alignment` (general.alignment, default 32), then the tensor data; each tensor's
 *   offset is relative to that data start and a multiple of `alignment`.
 *   string = u64 length + bytes (no terminator); array = u32 element type, u64 count, elements. */
#ifndef VKQ_GGUF_H
#define VKQ_GGUF_H

#include "base/base.h"

/* The GGUF value-type ids as they appear in files (not vkq_gguf_value_type, whose 0 is NONE). */
enum {
    VKQ__GGUF_U8 = 0,
    VKQ__GGUF_I8 = 1,
    VKQ__GGUF_U16 = 2,
    VKQ__GGUF_I16 = 3,
    VKQ__GGUF_U32 = 4,
    VKQ__GGUF_I32 = 5,
    VKQ__GGUF_F32 = 6,
    VKQ__GGUF_BOOL = 7,
    VKQ__GGUF_STRING = 8,
    VKQ__GGUF_ARRAY = 9,
    VKQ__GGUF_U64 = 10,
    VKQ__GGUF_I64 = 11,
    VKQ__GGUF_F64 = 12,
    VKQ__GGUF_TYPE_COUNT = 13
};

#define VKQ__GGUF_MAGIC "GGUF"
#define VKQ__GGUF_DEFAULT_ALIGNMENT 32u
#define VKQ__GGUF_MAX_DIMS 4u
/* The spec caps tensor names at 64 bytes; ggml's readers need them shorter than 64 (they keep a
 * terminator in a 64-byte field), so the writer stays below that while the reader accepts 64. */
#define VKQ__GGUF_MAX_NAME_READ 64u
#define VKQ__GGUF_MAX_NAME_WRITE 63u
/* The spec caps keys at 2^16 - 1 bytes. */
#define VKQ__GGUF_MAX_KEY 65535u

/* Converts between file ids and the public enum; NONE / UINT32_MAX when out of range. */
vkq_gguf_value_type vkq__gguf_type_from_id(uint32_t id);
uint32_t vkq__gguf_type_id(vkq_gguf_value_type type);
/* Bytes of one element of a fixed-size type; 0 for string, array and unknown ids. */
uint32_t vkq__gguf_type_size(uint32_t id);
/* Name of a file type id for messages ("u32", "string", "type id 77"); buf holds >= 24 bytes. */
const char *vkq__gguf_type_id_name(uint32_t id, char *buf, size_t size);

/* True when s[0..len) is well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF). Zero bytes are valid UTF-8 but are rejected separately where a C string is made. */
bool vkq__utf8_valid(const uint8_t *s, uint64_t len);

/* ---- reader ---------------------------------------------------------------------------------- */

/* A string copied out of the file: NUL-terminated, `len` bytes before the terminator (a value
 * string may itself contain zero bytes; keys and tensor names never do). */
typedef struct vkq__gguf_str {
    const char *data;
    uint64_t len;
} vkq__gguf_str;

/* A fixed-size value widened: u for unsigned types and bool, i for signed, f for floats. */
typedef union vkq__gguf_scalar {
    uint64_t u;
    int64_t i;
    double f;
} vkq__gguf_scalar;

/* Decodes one value of fixed-size file type `id` (size vkq__gguf_type_size(id) > 0) stored
 * little-endian at p, at any alignment. */
vkq__gguf_scalar vkq__gguf_decode(uint32_t id, const uint8_t *p);

typedef struct vkq__gguf_kv {
    vkq__gguf_str key;
    uint32_t type;        /* file type id, VKQ__GGUF_* */
    uint64_t file_offset; /* where the entry starts, for messages */
    vkq__gguf_scalar v;       /* fixed-size scalar types */
    vkq__gguf_str str;        /* type STRING */
    uint32_t arr_type;        /* type ARRAY: element type id */
    uint64_t arr_count;       /* type ARRAY: element count */
    const uint8_t *arr_data;  /* fixed-size elements: packed little-endian, in the file */
    vkq__gguf_str *arr_strs;  /* string elements: copies, arr_count of them */
} vkq__gguf_kv;

typedef struct vkq__gguf_tensor {
    vkq__gguf_str name;
    uint32_t n_dims;
    uint64_t ne[VKQ__GGUF_MAX_DIMS]; /* ne[0] = row length; unused dimensions are 1 */
    vkq_type type;
    uint64_t offset;      /* from the start of the data section */
    uint64_t bytes;
    uint64_t elements;
    uint64_t info_offset; /* where its tensor-info entry starts in the file, for messages */
} vkq__gguf_tensor;

/* Chunked storage for the strings copied out of the file (freed all at once). */
typedef struct vkq__gguf_arena_block vkq__gguf_arena_block;
typedef struct vkq__gguf_arena {
    vkq__gguf_arena_block *head;
} vkq__gguf_arena;

/* Copies `len` bytes and a terminator; NULL when out of memory. */
char *vkq__gguf_arena_strdup(vkq__gguf_arena *a, const uint8_t *s, uint64_t len);
void vkq__gguf_arena_free(vkq__gguf_arena *a);

/* A name and the index of its entry; arrays of these are sorted by name so that lookups are
 * O(log n) and duplicates are found in O(n log n) even for hostile entry counts. */
typedef struct vkq__gguf_name_ref {
    const char *name;
    uint64_t index;
} vkq__gguf_name_ref;

/* Sorts by name (ties by index). Returns true and the indices of one duplicate pair (a < b) when
 * two names are equal. */
bool vkq__gguf_sort_names(vkq__gguf_name_ref *refs, uint64_t n, uint64_t *dup_a,
                          uint64_t *dup_b);
/* Index of `name` in sorted refs, or -1. */
int64_t vkq__gguf_lookup(const vkq__gguf_name_ref *refs, uint64_t n, const char *name);

struct vkq_gguf {
    vkq__diag *diag; /* the context's; getters write here only when they fail */
    vkq__mapped_file map; /* owned when opened from a path; zero when opened from memory */
    const uint8_t *data;
    uint64_t size;
    uint32_t version;
    uint32_t alignment;
    uint64_t data_offset; /* start of the tensor data section */
    uint64_t n_kv;
    vkq__gguf_kv *kv;
    vkq__gguf_name_ref *kv_by_name; /* sorted by key, for binary search */
    uint64_t n_tensors;
    vkq__gguf_tensor *tensors;
    vkq__gguf_name_ref *tensor_by_name;
    vkq__gguf_arena arena;
};

/* Parses and validates a whole file held in memory. `data` must outlive the handle (it is not
 * copied). Every failure is VKQ_ERR_BAD_FILE (or VKQ_ERR_OUT_OF_HOST_MEMORY) with a message that
 * names the field, the byte offset and the values; `what` (a path, or NULL) prefixes it. */
vkq_status vkq__gguf_open_memory(vkq__diag *d, const void *data, uint64_t size, const char *what,
                                 vkq_gguf **out);
/* Maps `path` and parses it; VKQ_ERR_IO / VKQ_ERR_NOT_FOUND when it cannot be mapped. */
vkq_status vkq__gguf_open_file(vkq__diag *d, const char *path, vkq_gguf **out);
void vkq__gguf_free(vkq_gguf *g);

/* Header and metadata parsing (parse.c), used by vkq__gguf_open_memory. */
typedef struct vkq__gguf_cursor {
    const uint8_t *data;
    uint64_t size;
    uint64_t pos;
    vkq__diag *d;
    const char *file; /* prefix for messages */
} vkq__gguf_cursor;

vkq_status vkq__gguf_read_u32(vkq__gguf_cursor *c, const char *what, uint32_t *out);
vkq_status vkq__gguf_read_u64(vkq__gguf_cursor *c, const char *what, uint64_t *out);
/* Reads a string, copying it into the arena. max_len: refuse longer ones (0: no cap beyond the
 * file size). */
vkq_status vkq__gguf_read_string(vkq__gguf_cursor *c, vkq__gguf_arena *a, const char *what,
                                 uint64_t max_len, vkq__gguf_str *out);
/* Reads one key-value entry at the cursor. */
vkq_status vkq__gguf_read_kv(vkq__gguf_cursor *c, vkq__gguf_arena *a, uint64_t index,
                             vkq__gguf_kv *out);

/* Formats "FILE: message" (FILE from c->file, or "gguf") and fails with VKQ_ERR_BAD_FILE. */
vkq_status vkq__gguf_bad(const vkq__gguf_cursor *c, const char *fmt, ...) VKQ__PRINTF(2, 3);
/* Writes a printable, length-capped rendering of a name that may be hostile (invalid UTF-8,
 * control bytes, megabytes long) into buf, for messages. Returns buf. */
const char *vkq__gguf_printable(const uint8_t *s, uint64_t len, char *buf, size_t size);

/* ---- writer ---------------------------------------------------------------------------------- */

/* Collects metadata (copied when added) and tensors (data by pointer, copied when written), then
 * writes a GGUF v3 file. Validates as the reader does (names, shapes, types, duplicates), so what
 * it writes always reads back. Not thread-safe; one writer per thread. */
typedef struct vkq__gguf_writer vkq__gguf_writer;

/* `d` receives the messages of every call on the writer; it must outlive the writer. */
vkq_status vkq__gguf_writer_create(vkq__diag *d, vkq__gguf_writer **out);
void vkq__gguf_writer_destroy(vkq__gguf_writer *w);

/* Data alignment, a power of two (default 32). A value other than 32 also adds the key
 * general.alignment (u32), as readers expect. Call before adding tensors or later: the layout is
 * computed when writing. */
vkq_status vkq__gguf_writer_set_alignment(vkq__gguf_writer *w, uint32_t alignment);

/* Scalars. `key` must be non-empty UTF-8 without zero bytes, at most 65535 bytes, and new. */
vkq_status vkq__gguf_writer_add_u8(vkq__gguf_writer *w, const char *key, uint8_t v);
vkq_status vkq__gguf_writer_add_i8(vkq__gguf_writer *w, const char *key, int8_t v);
vkq_status vkq__gguf_writer_add_u16(vkq__gguf_writer *w, const char *key, uint16_t v);
vkq_status vkq__gguf_writer_add_i16(vkq__gguf_writer *w, const char *key, int16_t v);
vkq_status vkq__gguf_writer_add_u32(vkq__gguf_writer *w, const char *key, uint32_t v);
vkq_status vkq__gguf_writer_add_i32(vkq__gguf_writer *w, const char *key, int32_t v);
vkq_status vkq__gguf_writer_add_u64(vkq__gguf_writer *w, const char *key, uint64_t v);
vkq_status vkq__gguf_writer_add_i64(vkq__gguf_writer *w, const char *key, int64_t v);
vkq_status vkq__gguf_writer_add_f32(vkq__gguf_writer *w, const char *key, float v);
vkq_status vkq__gguf_writer_add_f64(vkq__gguf_writer *w, const char *key, double v);
vkq_status vkq__gguf_writer_add_bool(vkq__gguf_writer *w, const char *key, bool v);
vkq_status vkq__gguf_writer_add_string(vkq__gguf_writer *w, const char *key, const char *v);
/* A string of `len` bytes that may contain zero bytes. */
vkq_status vkq__gguf_writer_add_string_n(vkq__gguf_writer *w, const char *key, const char *v,
                                         uint64_t len);
/* An array of a fixed-size type: `data` holds `count` values in host representation of the C
 * type that matches elem_type (uint8_t .. double; bool as `bool`). Copied now. */
vkq_status vkq__gguf_writer_add_array(vkq__gguf_writer *w, const char *key,
                                      vkq_gguf_value_type elem_type, const void *data,
                                      uint64_t count);
/* An array of NUL-terminated strings, copied now. */
vkq_status vkq__gguf_writer_add_string_array(vkq__gguf_writer *w, const char *key,
                                             const char *const *strs, uint64_t count);

/* A tensor of `n_dims` (1..4) dimensions, ne[0] the row length (a multiple of the type's block
 * size). `data` holds the tensor's bytes as the type lays them out (vkq__row_bytes per row); it
 * is NOT copied now and must stay valid until the last write call. */
vkq_status vkq__gguf_writer_add_tensor(vkq__gguf_writer *w, const char *name, vkq_type type,
                                       uint32_t n_dims, const uint64_t *ne, const void *data);

/* Writes the file: streams to "path.tmp.<pid>" beside the target, flushes it, renames it over
 * `path`. On any failure the temporary is removed and `path` is left as it was. */
vkq_status vkq__gguf_writer_write_file(vkq__gguf_writer *w, const char *path);
/* Same bytes into a new malloc'd buffer (free with free()). */
vkq_status vkq__gguf_writer_write_memory(vkq__gguf_writer *w, void **data, size_t *size);

/* ---- synthetic models (tests, fuzz corpus) --------------------------------------------------- */

typedef enum vkq__synth_role {
    VKQ__SYNTH_TOKEN_EMBD = 0, /* token_embd.weight {n_embd, n_vocab} */
    VKQ__SYNTH_ATTN_Q,         /* blk.N.attn_q.weight {n_embd, n_embd} */
    VKQ__SYNTH_ATTN_K,         /* blk.N.attn_k.weight {n_embd, n_head_kv * head_dim} */
    VKQ__SYNTH_ATTN_V,         /* blk.N.attn_v.weight {n_embd, n_head_kv * head_dim} */
    VKQ__SYNTH_ATTN_OUTPUT,    /* blk.N.attn_output.weight {n_embd, n_embd} */
    VKQ__SYNTH_FFN_GATE,       /* blk.N.ffn_gate.weight {n_embd, n_ff} */
    VKQ__SYNTH_FFN_UP,         /* blk.N.ffn_up.weight {n_embd, n_ff} */
    VKQ__SYNTH_FFN_DOWN,       /* blk.N.ffn_down.weight {n_ff, n_embd} */
    VKQ__SYNTH_OUTPUT,         /* output.weight {n_embd, n_vocab}, only with untied_output */
    VKQ__SYNTH_ROLE_COUNT
} vkq__synth_role;

typedef enum vkq__synth_tokenizer {
    VKQ__SYNTH_TOKENIZER_DEFAULT = 0, /* gpt2 */
    VKQ__SYNTH_TOKENIZER_GPT2 = 1,    /* byte-level BPE: byte tokens, merges, <|im_start|> ... */
    VKQ__SYNTH_TOKENIZER_LLAMA = 2,   /* SentencePiece: <unk> <s> </s>, <0xNN> byte tokens */
    VKQ__SYNTH_TOKENIZER_NONE = 3,    /* no tokenizer keys at all (tiny files for fuzzing) */
} vkq__synth_tokenizer;

/* Zero means default in every field. Matrix rows (n_embd, n_ff) must be multiples of the block
 * size of the formats chosen for the tensors that use them (256 for K-quants and IQ4_XS). */
typedef struct vkq__synth_desc {
    uint32_t n_embd;          /* default 256 */
    uint32_t n_ff;            /* default 512 */
    uint32_t n_layer;         /* default 2 */
    uint32_t n_head;          /* default 4 */
    uint32_t n_head_kv;       /* default n_head / 2 (grouped-query attention), at least 1 */
    uint32_t n_vocab;         /* default: the tokenizer's own vocabulary (about 330 tokens);
                                 larger values pad it with extra tokens; with no tokenizer
                                 the default is 64 */
    uint32_t n_ctx;           /* llama.context_length, default 256 */
    float rope_freq_base;     /* default 10000 */
    float norm_eps;           /* default 1e-5 */
    vkq__synth_tokenizer tokenizer;
    vkq_type types[VKQ__SYNTH_ROLE_COUNT]; /* per role; default F32. Norms are always F32. */
    bool untied_output;       /* write output.weight; default: tied to token_embd */
    uint64_t seed;            /* default 1 */
    const char *name;         /* general.name, default "vkq synthetic <architecture>" */
    const char *architecture; /* general.architecture and the prefix of the hyperparameter keys
                                 ("<arch>.block_count", ...); default "llama". "qwen2" also
                                 writes the attention biases blk.N.attn_{q,k,v}.bias (F32,
                                 {n_head * head_dim}, {n_head_kv * head_dim} x2), as Qwen2 files
                                 have them. Any other name (up to 31 bytes) writes a llama-shaped
                                 file under that name: files of unsupported architectures. */
} vkq__synth_desc;

/* Builds the model's metadata and random weights (normal, scaled by 1/sqrt(row length); norms
 * near 1) quantized with vkq__quantize_row, in a writer the caller then writes and destroys.
 * `*buffers` receives the tensor storage the writer points into; free it with free() after the
 * writer is done. */
vkq_status vkq__synth_build(vkq__diag *d, const vkq__synth_desc *desc, vkq__gguf_writer **out,
                            void **buffers);
/* The tokenizer part (synthetic_vocab.c): the vocabulary size for `requested` (0: the
 * tokenizer's own), and its tokenizer.* keys. */
vkq_status vkq__synth_vocab_size(vkq__diag *d, vkq__synth_tokenizer kind, uint32_t requested,
                                 uint32_t *n_vocab);
vkq_status vkq__synth_add_vocab(vkq__diag *d, vkq__gguf_writer *w, vkq__synth_tokenizer kind,
                                uint32_t n_vocab);
/* Build and write to `path` (atomic) in one call. */
vkq_status vkq__synth_write_file(vkq__diag *d, const vkq__synth_desc *desc, const char *path);
/* Build into a new malloc'd buffer (free with free()). */
vkq_status vkq__synth_write_memory(vkq__diag *d, const vkq__synth_desc *desc, void **data,
                                   size_t *size);

#endif

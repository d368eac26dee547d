/* Writes the fuzzer's seed corpus: small synthetic models (each tokenizer kind, several tensor
 * formats) and a file with every metadata value type. Usage: make_corpus DIR.
 * The committed corpus (tests/fuzz/corpus/) came from this program; rerun it when the writer's
 * output changes. */
#include "gguf/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vkq__diag diag;

static int write_synth(const char *dir, const char *name, vkq__synth_tokenizer tok,
                       vkq_type a, vkq_type b, uint32_t n_embd) {
    vkq__synth_desc desc = {0};
    desc.n_embd = n_embd;
    desc.n_ff = n_embd;
    desc.n_layer = 1;
    desc.n_head = 2;
    desc.n_ctx = 64;
    desc.tokenizer = tok;
    desc.name = name;
    for (int i = 0; i < VKQ__SYNTH_ROLE_COUNT; i++) desc.types[i] = i % 2 ? a : b;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.gguf", dir, name);
    if (vkq__synth_write_file(&diag, &desc, path) != VKQ_OK) {
        fprintf(stderr, "make_corpus: %s: %s\n", path, diag.message);
        return 1;
    }
    return 0;
}

static int write_values(const char *dir) {
    vkq__gguf_writer *w = NULL;
    if (vkq__gguf_writer_create(&diag, &w) != VKQ_OK) return 1;
    static const uint16_t u16s[] = {1, 2, 65535};
    static const int64_t i64s[] = {-1, 0, 1};
    static const double f64s[] = {0.5, -2.0};
    static const bool bools[] = {true, false};
    static const char *const strs[] = {"a", "", "\xc4\xa0t"};
    static const uint8_t q8[2 * 34] = {0x00, 0x3c};
    static const float f32[4] = {1, 2, 3, 4};
    uint64_t ne_q8[2] = {32, 2}, ne_f32[3] = {1, 2, 2};
    vkq_status st = vkq__gguf_writer_set_alignment(w, 64);
    if (!st) st = vkq__gguf_writer_add_u8(w, "u8", 1);
    if (!st) st = vkq__gguf_writer_add_i8(w, "i8", -1);
    if (!st) st = vkq__gguf_writer_add_u16(w, "u16", 2);
    if (!st) st = vkq__gguf_writer_add_i16(w, "i16", -2);
    if (!st) st = vkq__gguf_writer_add_u32(w, "u32", 3);
    if (!st) st = vkq__gguf_writer_add_i32(w, "i32", -3);
    if (!st) st = vkq__gguf_writer_add_u64(w, "u64", 4);
    if (!st) st = vkq__gguf_writer_add_i64(w, "i64", -4);
    if (!st) st = vkq__gguf_writer_add_f32(w, "f32", 0.5f);
    if (!st) st = vkq__gguf_writer_add_f64(w, "f64", 0.25);
    if (!st) st = vkq__gguf_writer_add_bool(w, "bool", true);
    if (!st) st = vkq__gguf_writer_add_string(w, "string", "text");
    if (!st) st = vkq__gguf_writer_add_array(w, "a.u16", VKQ_GGUF_TYPE_U16, u16s, 3);
    if (!st) st = vkq__gguf_writer_add_array(w, "a.i64", VKQ_GGUF_TYPE_I64, i64s, 3);
    if (!st) st = vkq__gguf_writer_add_array(w, "a.f64", VKQ_GGUF_TYPE_F64, f64s, 2);
    if (!st) st = vkq__gguf_writer_add_array(w, "a.bool", VKQ_GGUF_TYPE_BOOL, bools, 2);
    if (!st) st = vkq__gguf_writer_add_string_array(w, "a.str", strs, 3);
    if (!st) st = vkq__gguf_writer_add_tensor(w, "q", VKQ_TYPE_Q8_0, 2, ne_q8, q8);
    if (!st) st = vkq__gguf_writer_add_tensor(w, "f", VKQ_TYPE_F32, 3, ne_f32, f32);
    /* One row of each 256-element format: synthetic models with them are too big for seeds. */
    static const vkq_type big[] = {VKQ_TYPE_Q2_K, VKQ_TYPE_Q3_K, VKQ_TYPE_Q4_K,
                                   VKQ_TYPE_Q5_K, VKQ_TYPE_Q6_K, VKQ_TYPE_IQ4_XS};
    static const uint8_t zeros[256];
    for (size_t i = 0; i < sizeof big / sizeof big[0] && !st; i++) {
        uint64_t ne[1] = {256};
        st = vkq__gguf_writer_add_tensor(w, vkq_type_name(big[i]), big[i], 1, ne, zeros);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/values.gguf", dir);
    if (!st) st = vkq__gguf_writer_write_file(w, path);
    vkq__gguf_writer_destroy(w);
    if (st) fprintf(stderr, "make_corpus: %s: %s\n", path, diag.message);
    return st != VKQ_OK;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    int bad = write_values(argv[1]);
    bad |= write_synth(argv[1], "tiny_none", VKQ__SYNTH_TOKENIZER_NONE, VKQ_TYPE_Q4_0,
                       VKQ_TYPE_Q8_0, 32);
    bad |= write_synth(argv[1], "tiny_gpt2", VKQ__SYNTH_TOKENIZER_GPT2, VKQ_TYPE_Q5_1,
                       VKQ_TYPE_IQ4_NL, 32);
    bad |= write_synth(argv[1], "tiny_llama", VKQ__SYNTH_TOKENIZER_LLAMA, VKQ_TYPE_F16,
                       VKQ_TYPE_Q4_1, 32);
    return bad;
}

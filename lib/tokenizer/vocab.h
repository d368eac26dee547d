/* The tokenizer object itself, shared by the files of lib/tokenizer (nowhere else). */
#ifndef VKQ_TOKENIZER_VOCAB_H
#define VKQ_TOKENIZER_VOCAB_H

#include "tokenizer/tokenizer.h"

#define VKQ__MAX_EOG 16

struct vkq_tokenizer {
    vkq__vocab_kind kind;
    vkq__pretok pre;
    bool ignore_merges; /* llama3: a piece that is a token as a whole is not merged */
    bool add_bos, add_eos, add_space_prefix;

    uint32_t n_tokens;
    uint32_t *tok_off, *tok_len; /* [n_tokens] spelling = pool + off (NUL-terminated), len */
    float *scores;               /* [n_tokens] */
    uint8_t *types;              /* [n_tokens] VKQ__TOKEN_* */
    char *pool;

    /* Spelling -> id: open addressing, slot = id + 1, 0 = empty; capacity a power of two. */
    uint32_t *index;
    uint32_t index_mask;

    /* BPE merges: (left id, right id) -> rank and result id, open addressing; key UINT64_MAX
     * marks an empty slot. */
    uint64_t *merge_key;
    uint32_t *merge_rank;
    int32_t *merge_result;
    uint32_t merge_mask; /* 0 when there are no merges */

    /* BPE: the token of each byte's GPT-2 character; SPM: <0xNN>. -1 when missing. */
    int32_t byte_token[256];
    /* BPE: the character standing for each byte, and back (-1 for other characters). */
    uint16_t byte_char[256];
    int16_t char_byte[0x144];

    /* Tokens matched whole in text (control, unknown, user-defined), bucketed by first byte,
     * longest first within a bucket: ids special[special_first[b] .. special_first[b + 1]). */
    int32_t *special;
    uint32_t special_first[257];

    int32_t ids[VKQ__SPECIAL_EOM + 1]; /* by vkq__special, -1 = none */
    int32_t eog[VKQ__MAX_EOG];
    uint32_t n_eog;

    vkq__chat_template chat;
};

uint64_t vkq__hash_bytes(const void *data, size_t len);

/* Id of the token of the pair (left, right) with its merge rank, or -1. */
static inline int32_t vkq__merge_find(const vkq__tokenizer *tok, int32_t left, int32_t right,
                                      uint32_t *rank) {
    if (!tok->merge_mask || left < 0 || right < 0) return -1;
    uint64_t key = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    for (uint32_t i = (uint32_t)(h >> 32) & tok->merge_mask;; i = (i + 1) & tok->merge_mask) {
        if (tok->merge_key[i] == UINT64_MAX) return -1;
        if (tok->merge_key[i] == key) {
            *rank = tok->merge_rank[i];
            return tok->merge_result[i];
        }
    }
}

#endif

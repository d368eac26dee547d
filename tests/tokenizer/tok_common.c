/* Helpers shared by the tokenizer test executables. */
#include "tok_tests.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

vkq_context *tok_context(void) {
    vkq_context_desc desc = {0};
    desc.mode = VKQ_DEVICE_MODE_NONE;
    vkq_context *ctx = NULL;
    vkq_status st = vkq_context_create(&desc, &ctx);
    CHECK_MSG(st == VKQ_OK, "context (no device): %s", vkq_status_string(st));
    if (st != VKQ_OK) {
        vkq_context_destroy(ctx);
        return NULL;
    }
    return ctx;
}

double tok_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

bool tok_same_ids(const char *what, const int32_t *got, size_t n_got, const int32_t *want,
                  size_t n_want) {
    size_t i = 0;
    while (i < n_got && i < n_want && got[i] == want[i]) i++;
    if (i == n_got && i == n_want) return true;
    fprintf(stderr, "%s: ids differ at %zu (got %zu ids, want %zu): got %d, want %d\n", what, i,
            n_got, n_want, i < n_got ? got[i] : -1, i < n_want ? want[i] : -1);
    return false;
}

vkq__tokenizer *tok_bpe(const char *const *extra, size_t n_extra, const char *const *merges,
                        size_t n_merges, const char *pre) {
    /* Byte characters in byte order, so token b is byte b's character. */
    char texts[256][8];
    const char *tokens[256 + 16];
    int32_t types[256 + 16];
    uint32_t next = 0x100;
    for (int b = 0; b < 256; b++) {
        bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        uint32_t cp = printable ? (uint32_t)b : next++;
        uint8_t u[4];
        size_t n = vkq__utf8_encode(cp, u);
        memcpy(texts[b], u, n);
        texts[b][n] = '\0';
        tokens[b] = texts[b];
        types[b] = VKQ__TOKEN_NORMAL;
    }
    for (size_t i = 0; i < n_extra && i < 16; i++) {
        tokens[256 + i] = extra[i];
        /* Spellings like "<|...|>" are control tokens, as in real vocabularies. */
        types[256 + i] = extra[i][0] == '<' && extra[i][1] == '|' ? VKQ__TOKEN_CONTROL
                                                                  : VKQ__TOKEN_NORMAL;
    }
    vkq__tokenizer_desc desc = vkq__tokenizer_desc_defaults(VKQ__VOCAB_BPE);
    desc.n_tokens = 256 + (uint32_t)VKQ__MIN(n_extra, 16);
    desc.tokens = tokens;
    desc.token_types = types;
    desc.n_merges = (uint32_t)n_merges;
    desc.merges = merges;
    desc.pre = pre;
    for (uint32_t i = 256; i < desc.n_tokens; i++) {
        if (types[i] == VKQ__TOKEN_CONTROL && desc.eos < 0) desc.eos = (int32_t)i;
    }
    vkq__tokenizer *tok = NULL;
    vkq_status st = vkq__tokenizer_create(NULL, &desc, &tok);
    CHECK_MSG(st == VKQ_OK, "tiny bpe: %s", vkq_status_string(st));
    return tok;
}

vkq__tokenizer *tok_tiny_bpe(void) {
    static const char *const extra[] = {"<|im_end|>", "\xc4\xa0t", "he", "\xc4\xa0the", "in",
                                        "\xc4\xa0in"};
    static const char *const merges[] = {"\xc4\xa0 t", "h e", "\xc4\xa0t he", "i n",
                                         "\xc4\xa0 in"};
    return tok_bpe(extra, 6, merges, 5, "gpt2");
}

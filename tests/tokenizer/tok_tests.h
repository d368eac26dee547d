/* Shared pieces of the tokenizer tests. */
#ifndef VKQ_TOK_TESTS_H
#define VKQ_TOK_TESTS_H

#include "common/test.h"
#include "fixture.h"
#include "tokenizer/tokenizer.h"

#include <stdbool.h>
#include <stddef.h>

/* A context without a device (files and CPU work only); counts a failure when it cannot. */
vkq_context *tok_context(void);

/* The SentencePiece vocabulary of fixtures/spm_vocab.txt, written into a GGUF file in memory
 * with vkq's writer and loaded through the public API (vkq_gguf_open_memory,
 * vkq_tokenizer_load). *gguf_data must be freed after the tokenizer is destroyed. */
vkq_tokenizer *tok_load_spm(vkq_context *ctx, void **gguf_data);

/* A byte-level BPE vocabulary built from arrays: the 256 byte characters (token b is byte b),
 * then up to 16 extra tokens ("<|...|>" ones are control tokens, the first of them EOS). */
vkq__tokenizer *tok_bpe(const char *const *extra, size_t n_extra, const char *const *merges,
                        size_t n_merges, const char *pre);
/* tok_bpe with <|im_end|> (256), "Ġt" (257), "he", "Ġthe", "in", "Ġin" (261) and the merges
 * "Ġ t", "h e", "Ġt he", "i n", "Ġ in". */
vkq__tokenizer *tok_tiny_bpe(void);

/* Milliseconds of a monotonic clock. */
double tok_now_ms(void);

/* Texts (in the fixtures) compare as ids: prints the first difference and returns whether they
 * agree. */
bool tok_same_ids(const char *what, const int32_t *got, size_t n_got, const int32_t *want,
                  size_t n_want);

void test_utf8(void);
void test_pretok(void);
void test_spm(void);
void test_detok(void);
void test_chat(void);
void test_api(void);
void test_bpe_rules(void);

#endif

/* The parts of the gguf test executable (one file per concern) and what they share. */
#ifndef VKQ_TEST_GGUF_TESTS_H
#define VKQ_TEST_GGUF_TESTS_H

#include "common/test.h"
#include "gguf/gguf.h"

/* A context without Vulkan: the reader and writer need none. NULL (and a failure) if it cannot
 * be created. */
vkq_context *gguf_test_context(void);

/* Empties the context's message, so that a check for a non-empty message after a failure
 * cannot be satisfied by an earlier one. */
void gguf_test_clear_error(vkq_context *ctx);

void test_roundtrip(vkq_context *ctx);
void test_getters(vkq_context *ctx);
void test_writer_errors(vkq_context *ctx);
void test_malformed(vkq_context *ctx);
void test_truncation(vkq_context *ctx);
void test_synthetic(vkq_context *ctx);

#endif

/* The streaming detokenizer: characters split across tokens come out whole, once complete;
 * bytes that never form a character come out as U+FFFD; a full buffer changes nothing. */
#include "tok_tests.h"

#include <stdlib.h>
#include <string.h>

#define R "\xef\xbf\xbd" /* U+FFFD */

static int32_t byte_token(const vkq_tokenizer *tok, unsigned b) {
    char name[8];
    snprintf(name, sizeof name, "<0x%02X>", b);
    int32_t id = vkq__token_find(tok, name, 6);
    CHECK_MSG(id >= 0, "no byte token %s", name);
    return id;
}

/* Pushes tokens one by one, checks each push's output length, returns all output. */
static size_t push_all(vkq_detokenizer *dt, const int32_t *ids, const size_t *lens, size_t n,
                       char *out) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        CHECK(vkq_detokenizer_push(dt, ids[i], out + w, 64, &k) == VKQ_OK);
        CHECK_MSG(k == lens[i], "push %zu gave %zu bytes, want %zu", i, k, lens[i]);
        w += k;
    }
    return w;
}

static void check_spm_stream(const vkq_tokenizer *tok) {
    vkq_detokenizer *dt = NULL;
    CHECK(vkq_detokenizer_create(tok, 0, &dt) == VKQ_OK);
    if (!dt) return;
    char out[256];
    /* U+1F600 as four byte tokens: nothing until the last, then the whole character. */
    int32_t emoji[] = {byte_token(tok, 0xF0), byte_token(tok, 0x9F), byte_token(tok, 0x98),
                       byte_token(tok, 0x80)};
    size_t lens[] = {0, 0, 0, 4};
    size_t w = push_all(dt, emoji, lens, 4, out);
    CHECK(w == 4 && memcmp(out, "\xf0\x9f\x98\x80", 4) == 0);
    /* A byte that cannot start a character: U+FFFD at once. */
    int32_t ff = byte_token(tok, 0xFF);
    size_t three = 3;
    w = push_all(dt, &ff, &three, 1, out);
    CHECK(w == 3 && memcmp(out, R, 3) == 0);
    /* An unfinished character broken by ordinary text: U+FFFD, then the text. */
    int32_t word[8];
    size_t n_word = 0;
    CHECK(vkq_tokenizer_encode(tok, "the", 3, 0, word, 8, &n_word) == VKQ_OK && n_word >= 1);
    char word_text[32];
    size_t word_len = 0;
    CHECK(vkq_tokenizer_decode(tok, word, n_word, 0, word_text, sizeof word_text, &word_len) ==
          VKQ_OK);
    int32_t broken[] = {byte_token(tok, 0xE2), byte_token(tok, 0x82), word[0]};
    size_t k = 0;
    CHECK(vkq_detokenizer_push(dt, broken[0], out, 64, &k) == VKQ_OK && k == 0);
    CHECK(vkq_detokenizer_push(dt, broken[1], out, 64, &k) == VKQ_OK && k == 0);
    CHECK(vkq_detokenizer_push(dt, broken[2], out, 64, &k) == VKQ_OK);
    CHECK_MSG(k >= 4 && memcmp(out, R " ", 4) == 0, "got %s", fx_show((uint8_t *)out, k));
    /* Held bytes at the end of the stream: flush turns them into U+FFFD. */
    CHECK(vkq_detokenizer_push(dt, emoji[0], out, 64, &k) == VKQ_OK && k == 0);
    CHECK(vkq_detokenizer_flush(dt, out, 2, &k) == VKQ_ERR_LIMIT && k == 3);
    CHECK(vkq_detokenizer_flush(dt, out, 64, &k) == VKQ_OK && k == 3 && memcmp(out, R, 3) == 0);
    CHECK(vkq_detokenizer_flush(dt, out, 64, &k) == VKQ_OK && k == 0);
    /* A buffer too small: VKQ_ERR_LIMIT with the size needed, and the stream is unchanged. */
    for (int i = 0; i < 3; i++) CHECK(vkq_detokenizer_push(dt, emoji[i], out, 64, &k) == VKQ_OK);
    CHECK(vkq_detokenizer_push(dt, emoji[3], out, 3, &k) == VKQ_ERR_LIMIT && k == 4);
    CHECK(vkq_detokenizer_push(dt, emoji[3], out, 4, &k) == VKQ_OK && k == 4 &&
          memcmp(out, "\xf0\x9f\x98\x80", 4) == 0);
    CHECK(vkq_detokenizer_push(dt, 100000, out, 64, &k) == VKQ_ERR_INVALID_ARGUMENT);
    vkq_detokenizer_destroy(dt);

    /* SentencePiece's leading space: kept by default (generated text continues a prompt), dropped
     * at a text start. */
    CHECK(vkq_tokenizer_encode(tok, "the", 3, 0, word, 8, &n_word) == VKQ_OK);
    for (int start = 0; start < 2; start++) {
        CHECK(vkq_detokenizer_create(tok, start ? VKQ_DECODE_TEXT_START : 0, &dt) == VKQ_OK);
        w = 0;
        for (size_t i = 0; i < n_word; i++) {
            CHECK(vkq_detokenizer_push(dt, word[i], out + w, 64, &k) == VKQ_OK);
            w += k;
        }
        const char *want = start ? "the" : " the";
        CHECK_MSG(w == strlen(want) && memcmp(out, want, w) == 0, "start %d: %s", start,
                  fx_show((uint8_t *)out, w));
        vkq_detokenizer_destroy(dt);
    }
}

/* Byte-level BPE: the tiny vocabulary has no merges of non-ASCII bytes, so every byte of a
 * multi-byte character is its own token. Each push must still give whole characters. */
static void check_bpe_stream(void) {
    vkq__tokenizer *tok = tok_tiny_bpe();
    if (!tok) return;
    const char *text = "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80! the end";
    int32_t ids[128];
    size_t n = 0;
    CHECK(vkq_tokenizer_encode(tok, text, strlen(text), 0, ids, 128, &n) == VKQ_OK);
    vkq__detok dt;
    vkq__detok_init(&dt, tok, 0);
    char out[256];
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        CHECK(vkq__detok_push(&dt, ids[i], out + w, sizeof out - w, &k) == VKQ_OK);
        /* Each chunk is valid UTF-8 on its own: repairing it changes nothing. */
        uint8_t again[64];
        vkq__utf8_stream u = {0};
        size_t k2 = vkq__utf8_feed(&u, (uint8_t *)out + w, k, again);
        CHECK(k2 == k && u.n_held == 0);
        w += k;
    }
    size_t k = 0;
    CHECK(vkq__detok_flush(&dt, out + w, sizeof out - w, &k) == VKQ_OK && k == 0);
    CHECK_MSG(w == strlen(text) && memcmp(out, text, w) == 0, "streamed %s",
              fx_show((uint8_t *)out, w));
    /* Pieces are raw bytes, not characters. */
    size_t len = 0;
    char piece[8];
    CHECK(vkq__token_to_piece(tok, ids[3], 0, piece, sizeof piece, &len) == VKQ_OK && len == 1 &&
          (uint8_t)piece[0] == 0xC3);
    CHECK(vkq__token_to_piece(tok, ids[3], 0, piece, 0, &len) == VKQ_ERR_LIMIT && len == 1);
    vkq__tokenizer_destroy(tok);
}

void test_detok(void) {
    vkq_context *ctx = tok_context();
    if (!ctx) return;
    void *data = NULL;
    vkq_tokenizer *tok = tok_load_spm(ctx, &data);
    if (tok) check_spm_stream(tok);
    vkq_tokenizer_destroy(tok);
    free(data);
    vkq_context_destroy(ctx);
    check_bpe_stream();
}

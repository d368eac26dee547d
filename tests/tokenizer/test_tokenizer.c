/* Tokenizer tests that need no model file: UTF-8 repair, the pre-tokenizers against HF
 * tokenizers' splits, the SentencePiece path against the sentencepiece package, the streaming
 * detokenizer, chat templates against Jinja renderings, the public API's statuses. The
 * fixtures come from tools/tokenizer_reference.py. */
#include "tok_tests.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- UTF-8 repair ------------------------------------------------------------------------- */

static void check_repair(const char *in, size_t n, const char *want) {
    uint8_t out[64];
    vkq__utf8_stream s = {0};
    size_t w = vkq__utf8_feed(&s, (const uint8_t *)in, n, out);
    w += vkq__utf8_finish(&s, out + w);
    CHECK_MSG(w == strlen(want) && memcmp(out, want, w) == 0, "repair of %s gave %s",
              fx_show((const uint8_t *)in, n), fx_show(out, w));
    /* Fed one byte at a time, the output is the same: the state carries across pieces. */
    vkq__utf8_stream s1 = {0};
    size_t w1 = 0;
    uint8_t out1[64];
    for (size_t i = 0; i < n; i++) w1 += vkq__utf8_feed(&s1, (const uint8_t *)in + i, 1, out1 + w1);
    w1 += vkq__utf8_finish(&s1, out1 + w1);
    CHECK_MSG(w1 == w && memcmp(out1, out, w) == 0, "byte-wise repair of %s differs",
              fx_show((const uint8_t *)in, n));
}

#define R "\xef\xbf\xbd" /* U+FFFD */

void test_utf8(void) {
    /* Expected values are what Python's bytes.decode("utf-8", "replace") gives. */
    check_repair("plain", 5, "plain");
    check_repair("caf\xc3\xa9 \xf0\x9f\x98\x80", 10, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    check_repair("\xff", 1, R);
    check_repair("\xc3\x28", 2, R "(");
    check_repair("\xe2\x82", 2, R);
    check_repair("\xf0\x9f\x98 ", 4, R " ");
    check_repair("\xed\xa0\x80", 3, R R R);
    check_repair("\xc0\xaf", 2, R R);
    check_repair("\xf4\x90\x80\x80", 4, R R R R);
    check_repair("\xf0\x80\x80", 3, R R R);
    check_repair("\xe0\x80\xaf", 3, R R R);
    check_repair("a\xc3", 2, "a" R);
    check_repair("\xf0\x9f\x98\x80\x80", 5, "\xf0\x9f\x98\x80" R);
    /* Random bytes: output is valid UTF-8 and never more than 3 bytes per input byte. */
    for (int t = 0; t < 200; t++) {
        uint8_t in[32], out[128];
        size_t n = (size_t)test_rand_int(0, 32);
        for (size_t i = 0; i < n; i++) in[i] = (uint8_t)test_rand_int(0x70, 0xFF);
        vkq__utf8_stream s = {0};
        size_t w = vkq__utf8_feed(&s, in, n, out);
        w += vkq__utf8_finish(&s, out + w);
        CHECK(w <= 3 * n);
        vkq__utf8_stream v = {0};
        uint8_t again[512];
        size_t w2 = vkq__utf8_feed(&v, out, w, again);
        CHECK_MSG(w2 == w && v.n_held == 0 && memcmp(again, out, w) == 0,
                  "repair output of %s is not valid UTF-8", fx_show(in, n));
    }
    /* Character classes at the edges the regexes care about. */
    CHECK(vkq__cp_class(0x00A0) == VKQ__CP_SPACE);
    CHECK(vkq__cp_class(0x3000) == VKQ__CP_SPACE);
    CHECK(vkq__cp_class(0x001C) == VKQ__CP_OTHER); /* Python's isspace, not White_Space */
    CHECK(vkq__cp_class(0x200B) == VKQ__CP_OTHER);
    CHECK(vkq__cp_class(0x00E9) == VKQ__CP_LETTER);
    CHECK(vkq__cp_class(0x4E2D) == VKQ__CP_LETTER);
    CHECK(vkq__cp_class(0x0663) == VKQ__CP_NUMBER);
    CHECK(vkq__cp_class(0x00BD) == VKQ__CP_NUMBER);
    CHECK(vkq__cp_class(0x1F600) == VKQ__CP_OTHER);
    CHECK(vkq__cp_class(0x0301) == VKQ__CP_OTHER); /* combining marks are \p{M}, not \p{L} */
}

/* ---- pre-tokenizers ------------------------------------------------------------------------ */

void test_pretok(void) {
    fx_file f;
    if (!fx_load(&f, "pretok_cases.txt")) {
        vkq_test_failures++;
        return;
    }
    size_t pos = 0, cases = 0, agree = 0, pieces_total = 0;
    fx_case c;
    while (fx_next_case(&f, &pos, &c)) {
        vkq__pretok kind;
        CHECK(vkq__pretok_from_name(fx_get(&c, "pre"), &kind));
        size_t len, n_want;
        uint8_t *text = fx_bytes(&f, fx_get(&c, "text"), &len);
        int32_t *want = fx_ints(fx_get(&c, "pieces"), &n_want);
        int32_t got[4096];
        size_t n_got = 0;
        for (size_t p = 0; p < len && n_got < 4096;) {
            size_t k = vkq__pretok_next(kind, (const char *)text, len, p);
            got[n_got++] = (int32_t)k;
            p += k;
        }
        cases++;
        pieces_total += n_want;
        if (tok_same_ids(c.name, got, n_got, want, n_want)) {
            agree++;
        } else {
            fprintf(stderr, "  text: %s\n", fx_show(text, len));
            vkq_test_failures++;
        }
        free(text);
        free(want);
    }
    printf("pre-tokenizers vs HF tokenizers: %zu/%zu texts split alike (%zu pieces)\n", agree,
           cases, pieces_total);
    CHECK(cases > 100);
    fx_free(&f);
    vkq__pretok k;
    CHECK(!vkq__pretok_from_name("no-such-pre", &k) && k == VKQ__PRETOK_GPT2);
    CHECK(vkq__pretok_from_name(NULL, &k) && k == VKQ__PRETOK_GPT2);
    CHECK(vkq__pretok_from_name("llama-bpe", &k) && k == VKQ__PRETOK_LLAMA3);
}

/* ---- BPE merge rules (expected ids checked with HF tokenizers' BPE on the same vocabularies) -- */

static void check_ids(vkq__tokenizer *tok, const char *text, const int32_t *want, size_t n_want) {
    int32_t got[64];
    size_t n = 0;
    CHECK(vkq__tokenize(tok, text, strlen(text), false, false, got, 64, &n) == VKQ_OK);
    if (!tok_same_ids(text, got, n, want, n_want)) vkq_test_failures++;
}

void test_bpe_rules(void) {
    /* Equal ranks merge leftmost first: "aaa" is "aa a", not "a aa". */
    const char *aa[] = {"aa"}, *aa_m[] = {"a a"};
    vkq__tokenizer *tok = tok_bpe(aa, 1, aa_m, 1, "gpt2");
    check_ids(tok, "aaa", (const int32_t[]){256, 'a'}, 2);
    check_ids(tok, "aaaaa", (const int32_t[]){256, 256, 'a'}, 3);
    vkq__tokenizer_destroy(tok);

    /* The lower rank wins wherever it is: "b c" (rank 0) before "a b" (rank 1). */
    const char *abc[] = {"ab", "bc"}, *abc_m[] = {"b c", "a b"};
    tok = tok_bpe(abc, 2, abc_m, 2, "gpt2");
    check_ids(tok, "abc", (const int32_t[]){'a', 257}, 2);
    vkq__tokenizer_destroy(tok);

    /* llama3 vocabularies ignore merges for a piece that is a token as a whole ("abc" has no
     * merge path here); " abc" is not a token, so it is merged as usual. */
    const char *ig[] = {"ab", "abc"}, *ig_m[] = {"a b"};
    tok = tok_bpe(ig, 2, ig_m, 1, "llama3");
    check_ids(tok, "abc abc", (const int32_t[]){257, ' ', 256, 'c'}, 4);
    vkq__tokenizer_destroy(tok);
    tok = tok_bpe(ig, 2, ig_m, 1, "gpt2");
    check_ids(tok, "abc abc", (const int32_t[]){256, 'c', ' ', 256, 'c'}, 5);
    vkq__tokenizer_destroy(tok);

    /* Merges naming tokens the vocabulary lacks are skipped; an unknown pre-tokenizer name
     * falls back to gpt2 splitting. Neither fails the load. */
    const char *bad_m[] = {"a b", "x yz", "nospace", ""};
    tok = tok_bpe(ig, 2, bad_m, 4, "no-such-pre");
    CHECK(tok && vkq__tokenizer_pretok(tok) == VKQ__PRETOK_GPT2);
    if (tok) check_ids(tok, "abc", (const int32_t[]){256, 'c'}, 2);
    vkq__tokenizer_destroy(tok);
}

/* ---- public API statuses -------------------------------------------------------------------- */

void test_api(void) {
    vkq__tokenizer *tok = tok_tiny_bpe();
    if (!tok) return;
    int32_t ids[64];
    size_t n = 99;
    CHECK(vkq_tokenizer_encode(NULL, "a", 1, 0, ids, 64, &n) == VKQ_ERR_INVALID_ARGUMENT && n == 0);
    CHECK(vkq_tokenizer_encode(tok, NULL, 1, 0, ids, 64, &n) == VKQ_ERR_INVALID_ARGUMENT);
    CHECK(vkq_tokenizer_encode(tok, "a", 1, 0, NULL, 64, &n) == VKQ_ERR_INVALID_ARGUMENT);
    CHECK(vkq_tokenizer_encode(tok, "a", 1, 0, ids, 64, NULL) == VKQ_ERR_INVALID_ARGUMENT);
    CHECK(vkq_tokenizer_encode(tok, NULL, 0, 0, NULL, 0, &n) == VKQ_OK && n == 0);
    /* Too small a buffer: LIMIT, and the count needed, which then suffices. */
    const char *text = " the thin in";
    CHECK(vkq_tokenizer_encode(tok, text, strlen(text), 0, ids, 2, &n) == VKQ_ERR_LIMIT && n > 2);
    size_t need = n;
    CHECK(vkq_tokenizer_encode(tok, text, strlen(text), 0, ids, need, &n) == VKQ_OK && n == need);
    CHECK(vkq_tokenizer_encode(tok, text, strlen(text), 0, NULL, 0, &n) == VKQ_ERR_LIMIT &&
          n == need);
    /* " the" merges to one token through "Ġt" + "he"; " thin" to "Ġt" "h" "in". */
    const int32_t want[] = {259, 257, 'h', 260, 261};
    CHECK(tok_same_ids("tiny bpe", ids, n, want, 5));
    char out[64];
    size_t len = 99;
    CHECK(vkq_tokenizer_decode(tok, ids, n, 0, out, sizeof out, &len) == VKQ_OK && len == 12 &&
          strcmp(out, text) == 0);
    CHECK(vkq_tokenizer_decode(tok, ids, n, 0, out, 12, &len) == VKQ_ERR_LIMIT && len == 12);
    CHECK(vkq_tokenizer_decode(tok, ids, n, 0, NULL, 0, &len) == VKQ_ERR_LIMIT && len == 12);
    int32_t bad = 5000;
    CHECK(vkq_tokenizer_decode(tok, &bad, 1, 0, out, sizeof out, &len) ==
          VKQ_ERR_INVALID_ARGUMENT);
    /* Specials: control token matched only with PARSE_SPECIAL; rendered only with SPECIAL. */
    CHECK(vkq_tokenizer_encode(tok, "<|im_end|>", 10, VKQ_TOKENIZE_PARSE_SPECIAL, ids, 64, &n) ==
              VKQ_OK && n == 1 && ids[0] == 256);
    CHECK(vkq_tokenizer_encode(tok, "<|im_end|>", 10, 0, ids, 64, &n) == VKQ_OK && n == 10);
    int32_t eos = 256;
    CHECK(vkq_tokenizer_decode(tok, &eos, 1, 0, out, sizeof out, &len) == VKQ_OK && len == 0);
    CHECK(vkq_tokenizer_decode(tok, &eos, 1, VKQ_DECODE_SPECIAL, out, sizeof out, &len) == VKQ_OK &&
          strcmp(out, "<|im_end|>") == 0);
    CHECK(vkq_tokenizer_special(tok, VKQ_SPECIAL_EOS) == 256);
    CHECK(vkq_tokenizer_special(tok, VKQ_SPECIAL_BOS) == -1);
    CHECK(vkq_tokenizer_special(tok, (vkq_special_token)99) == -1);
    CHECK(vkq_tokenizer_is_end_of_turn(tok, 256) == 1 && vkq_tokenizer_is_end_of_turn(tok, 5) == 0);
    CHECK(vkq_tokenizer_vocab_size(tok) == 262 && vkq_tokenizer_vocab_size(NULL) == 0);
    CHECK(strcmp(vkq_tokenizer_token_text(tok, 259), "\xc4\xa0the") == 0);
    CHECK(vkq_tokenizer_token_text(tok, -1) == NULL && vkq_tokenizer_token_text(tok, 262) == NULL);
    int fallback = 0;
    CHECK(vkq_tokenizer_chat_template(tok, &fallback) == VKQ_CHAT_TEMPLATE_CHATML && fallback);
    CHECK(vkq_tokenizer_chat_template(NULL, &fallback) == VKQ_CHAT_TEMPLATE_NONE);
    vkq_detokenizer *dt = NULL;
    CHECK(vkq_detokenizer_create(NULL, 0, &dt) == VKQ_ERR_INVALID_ARGUMENT && dt == NULL);
    CHECK(vkq_detokenizer_push(NULL, 1, out, sizeof out, &len) == VKQ_ERR_INVALID_ARGUMENT);
    vkq_detokenizer_destroy(NULL);
    vkq_tokenizer_destroy(NULL);
    /* A pathological piece: 10 KB of one letter is one pre-token; merging stays fast. */
    size_t big = 10000;
    char *a = malloc(big);
    int32_t *many = malloc(big * sizeof *many);
    memset(a, 'a', big);
    double t0 = tok_now_ms();
    CHECK(vkq_tokenizer_encode(tok, a, big, 0, many, big, &n) == VKQ_OK && n == big);
    double ms = tok_now_ms() - t0;
    CHECK_MSG(ms < 100.0, "10 KB without a space took %.1f ms", ms);
    free(a);
    free(many);
    vkq__tokenizer_destroy(tok);
    /* Loading from a GGUF file without a tokenizer, and with NULL arguments. */
    vkq_context *ctx = tok_context();
    if (!ctx) return;
    vkq_tokenizer *t2 = (vkq_tokenizer *)1;
    CHECK(vkq_tokenizer_load(ctx, NULL, &t2) == VKQ_ERR_INVALID_ARGUMENT && t2 == NULL);
    vkq_context_destroy(ctx);
}

int main(void) {
    test_init("test_tokenizer");
    test_utf8();
    test_pretok();
    test_bpe_rules();
    test_api();
    test_spm();
    test_detok();
    test_chat();
    return test_finish();
}

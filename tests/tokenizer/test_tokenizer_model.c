/* SmolLM2-135M-Instruct's tokenizer, read from the real GGUF file, against the ids that HF
 * tokenizers computes for the same vocabulary (fixtures/smollm2_cases.txt): with its own
 * pre-tokenizer ("smollm") and, to try the other splitters on a real vocabulary, with gpt2,
 * llama3 and qwen2 splitting. Also: decoding gives the text back, streaming, speed, chat.
 * VKQ_TEST_MODEL names the file (scripts/test.sh sets it from scripts/fetch_model.sh). */
#include "tok_tests.h"

#include <stdlib.h>
#include <string.h>

#define N_PRE 4
static const char *const pre_names[N_PRE] = {"smollm", "gpt2", "llama3", "qwen2"};

typedef struct totals {
    size_t cases, cases_agree, ids, ids_agree;
} totals;

static void check_metadata(vkq_context *ctx, vkq_tokenizer *tok) {
    CHECK(vkq_tokenizer_vocab_size(tok) == 49152);
    CHECK(vkq__tokenizer_kind(tok) == VKQ__VOCAB_BPE);
    CHECK(vkq__tokenizer_pretok(tok) == VKQ__PRETOK_SMOLLM);
    CHECK(vkq_tokenizer_special(tok, VKQ_SPECIAL_BOS) == 1);
    CHECK(vkq_tokenizer_special(tok, VKQ_SPECIAL_EOS) == 2);
    CHECK(vkq_tokenizer_special(tok, VKQ_SPECIAL_UNK) == 0);
    CHECK(vkq_tokenizer_special(tok, VKQ_SPECIAL_PAD) == 2);
    CHECK(vkq_tokenizer_is_end_of_turn(tok, 2) && vkq_tokenizer_is_end_of_turn(tok, 0));
    CHECK(!vkq_tokenizer_is_end_of_turn(tok, 1) && !vkq_tokenizer_is_end_of_turn(tok, 100));
    int fallback = 1;
    CHECK(vkq_tokenizer_chat_template(tok, &fallback) == VKQ_CHAT_TEMPLATE_CHATML && !fallback);
    const vkq__chat_template *t = vkq__tokenizer_chat(tok);
    CHECK(t->default_system && strcmp(t->default_system, "You are a helpful AI assistant named "
                                                         "SmolLM, trained by Hugging Face") == 0);
    /* add_bos_token is false: ADD_SPECIAL adds nothing. */
    int32_t ids[8];
    size_t n = 0;
    CHECK_OK(ctx, vkq_tokenizer_encode(tok, "Hi", 2, VKQ_TOKENIZE_ADD_SPECIAL, ids, 8, &n));
    CHECK(n == 1 && ids[0] != 1);
}

/* One tokenizer per pre-tokenizer over the same vocabulary, built from the file's keys. */
static bool make_variants(vkq_context *ctx, const vkq_gguf *g, vkq__tokenizer *v[N_PRE]) {
    for (int i = 0; i < N_PRE; i++) {
        vkq__tokenizer_desc desc;
        vkq__tokenizer_arrays arrays;
        v[i] = NULL;
        vkq__diag d = {0};
        vkq_status st = vkq__tokenizer_desc_read(&d, g, &desc, &arrays);
        if (st == VKQ_OK) {
            desc.pre = pre_names[i];
            st = vkq__tokenizer_create(&d, &desc, &v[i]);
            vkq__tokenizer_arrays_free(&arrays);
        }
        CHECK_MSG(st == VKQ_OK, "%s: %s", pre_names[i], d.message);
        if (st != VKQ_OK) return false;
    }
    (void)ctx;
    return true;
}

static void check_case(vkq__tokenizer *const v[N_PRE], const fx_file *f, const fx_case *c,
                       totals *tot) {
    const char *pre = fx_get(c, "pre");
    int which = 0;
    while (which < N_PRE && strcmp(pre_names[which], pre) != 0) which++;
    if (which == N_PRE) {
        CHECK_MSG(false, "%s: unknown pre %s", c->name, pre);
        return;
    }
    size_t len, n_want, n = 0;
    uint8_t *text = fx_bytes(f, fx_get(c, "text"), &len);
    int32_t *want = fx_ints(fx_get(c, "ids"), &n_want);
    bool special = fx_get_int(c, "special", 0) != 0;
    int32_t got[2048];
    CHECK(vkq__tokenize(v[which], (const char *)text, len, false, special, got, 2048, &n) == VKQ_OK);
    tot->cases++;
    tot->ids += n_want;
    for (size_t i = 0; i < n && i < n_want && got[i] == want[i]; i++) tot->ids_agree++;
    if (tok_same_ids(c->name, got, n, want, n_want)) {
        tot->cases_agree++;
    } else {
        fprintf(stderr, "  text: %s\n", fx_show(text, len));
        vkq_test_failures++;
    }
    /* Decoding (control tokens spelled out) gives the text back, repaired where needed. */
    char out[4096], repaired[4096];
    size_t out_len = 0;
    vkq__utf8_stream u = {0};
    size_t rl = vkq__utf8_feed(&u, text, len, (uint8_t *)repaired);
    rl += vkq__utf8_finish(&u, (uint8_t *)repaired + rl);
    CHECK(vkq_tokenizer_decode(v[which], got, n, VKQ_DECODE_SPECIAL, out, sizeof out, &out_len) ==
          VKQ_OK);
    CHECK_MSG(out_len == rl && memcmp(out, repaired, rl) == 0, "%s: decodes to %s", c->name,
              fx_show((uint8_t *)out, out_len));
    free(text);
    free(want);
}

static void check_fixture(vkq__tokenizer *const v[N_PRE]) {
    fx_file f;
    if (!fx_load(&f, "smollm2_cases.txt")) {
        vkq_test_failures++;
        return;
    }
    totals tot = {0};
    size_t pos = 0;
    fx_case c;
    while (fx_next_case(&f, &pos, &c)) check_case(v, &f, &c, &tot);
    printf("SmolLM2 vs HF tokenizers: %zu/%zu texts agree, %zu/%zu ids (prefix match)\n",
           tot.cases_agree, tot.cases, tot.ids_agree, tot.ids);
    CHECK(tot.cases > 100);
    fx_free(&f);
}

/* 10 KB of the fixture's awkward texts: well under 100 ms. */
static void check_speed(vkq_tokenizer *tok) {
    fx_file f;
    if (!fx_load(&f, "smollm2_cases.txt")) return;
    char *text = malloc(12000);
    size_t total = 0;
    while (total < 10240) {
        for (size_t i = 0; i < f.n_lines && total < 10240; i++) {
            const char *d = fx_key_value(f.lines[i], "def");
            const char *sp = d ? strchr(d, ' ') : NULL;
            if (!sp) continue;
            size_t len;
            uint8_t *b = fx_bytes(&f, sp + 1, &len);
            if (total + len < 12000) {
                memcpy(text + total, b, len);
                total += len;
            }
            free(b);
        }
    }
    int32_t *ids = malloc(total * sizeof *ids);
    size_t n = 0;
    double best = 1e9;
    for (int r = 0; r < 3; r++) {
        double t0 = tok_now_ms();
        CHECK(vkq_tokenizer_encode(tok, text, total, VKQ_TOKENIZE_PARSE_SPECIAL, ids, total, &n) ==
              VKQ_OK);
        double ms = tok_now_ms() - t0;
        if (ms < best) best = ms;
    }
    printf("SmolLM2: %zu bytes -> %zu tokens in %.2f ms (best of 3)\n", total, n, best);
    CHECK_MSG(best < 100.0, "10 KB took %.1f ms", best);
    free(ids);
    free(text);
    fx_free(&f);
}

/* Emoji and CJK split over several tokens: each push gives whole characters only. */
static void check_stream(vkq_tokenizer *tok) {
    const char *text = "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd \xe6\x97\xa5\xe6\x9c\xac"
                       "\xe8\xaa\x9e caf\xc3\xa9 \xf0\x9f\x87\xab\xf0\x9f\x87\xb7";
    int32_t ids[64];
    size_t n = 0;
    CHECK(vkq_tokenizer_encode(tok, text, strlen(text), 0, ids, 64, &n) == VKQ_OK);
    vkq_detokenizer *dt = NULL;
    CHECK(vkq_detokenizer_create(tok, 0, &dt) == VKQ_OK);
    if (!dt) return;
    char out[256];
    size_t w = 0, held_pushes = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        CHECK(vkq_detokenizer_push(dt, ids[i], out + w, sizeof out - w, &k) == VKQ_OK);
        uint8_t again[256];
        vkq__utf8_stream u = {0};
        CHECK(vkq__utf8_feed(&u, (uint8_t *)out + w, k, again) == k && u.n_held == 0);
        held_pushes += k == 0;
        w += k;
    }
    size_t k = 0;
    CHECK(vkq_detokenizer_flush(dt, out + w, sizeof out - w, &k) == VKQ_OK && k == 0);
    CHECK(w == strlen(text) && memcmp(out, text, w) == 0);
    CHECK_MSG(held_pushes > 0, "no token split a character (%zu tokens)", n);
    vkq_detokenizer_destroy(dt);
}

static void check_chat(vkq_context *ctx, vkq_tokenizer *tok) {
    const vkq_chat_message msgs[] = {{"user", "What is 2+2?"}};
    char prompt[512];
    size_t len = 0;
    CHECK_OK(ctx, vkq_tokenizer_format_chat(tok, msgs, 1, 1, prompt, sizeof prompt, &len));
    const char *want = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained "
                       "by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                       "<|im_start|>assistant\n";
    CHECK_MSG(strcmp(prompt, want) == 0, "prompt: %s", fx_show((uint8_t *)prompt, len));
    int32_t ids[128];
    size_t n = 0;
    CHECK_OK(ctx, vkq_tokenizer_encode(tok, prompt, len,
                                       VKQ_TOKENIZE_ADD_SPECIAL | VKQ_TOKENIZE_PARSE_SPECIAL, ids,
                                       128, &n));
    size_t starts = 0, ends = 0;
    for (size_t i = 0; i < n; i++) {
        starts += ids[i] == 1;
        ends += ids[i] == 2;
    }
    CHECK(n > 10 && ids[0] == 1 && starts == 3 && ends == 2);
}

int main(void) {
    test_init("test_tokenizer_model");
    const char *path = getenv("VKQ_TEST_MODEL");
    if (!path || !*path) {
        fprintf(stderr, "test_tokenizer_model: VKQ_TEST_MODEL is not set; run scripts/test.sh, or "
                        "set it to the path scripts/fetch_model.sh prints\n");
        vkq_test_failures++;
        return test_finish();
    }
    vkq_context *ctx = tok_context();
    if (!ctx) return test_finish();
    vkq_gguf *g = NULL;
    CHECK_OK(ctx, vkq_gguf_open(ctx, path, &g));
    vkq_tokenizer *tok = NULL;
    if (g) CHECK_OK(ctx, vkq_tokenizer_load(ctx, g, &tok));
    vkq__tokenizer *variants[N_PRE] = {0};
    if (tok) {
        check_metadata(ctx, tok);
        if (make_variants(ctx, g, variants)) check_fixture(variants);
        check_speed(tok);
        check_stream(tok);
        check_chat(ctx, tok);
    }
    for (int i = 0; i < N_PRE; i++) vkq__tokenizer_destroy(variants[i]);
    vkq_tokenizer_destroy(tok);
    vkq_gguf_close(g);
    vkq_context_destroy(ctx);
    return test_finish();
}

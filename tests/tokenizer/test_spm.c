/* The SentencePiece path against the sentencepiece package: a BPE vocabulary with byte fallback
 * trained by tools/tokenizer_reference.py, written here into a GGUF file with vkq's writer,
 * loaded through the public API, and compared id for id on the awkward texts. */
#include "tok_tests.h"

#include "gguf/gguf.h"

#include <stdlib.h>
#include <string.h>

typedef struct spm_vocab {
    char **pieces;
    float *scores;
    int32_t *types;
    uint32_t n;
    uint32_t bos, eos, unk;
} spm_vocab;

static bool read_vocab(spm_vocab *v) {
    fx_file f;
    memset(v, 0, sizeof *v);
    if (!fx_load(&f, "spm_vocab.txt")) return false;
    v->pieces = calloc(f.n_lines, sizeof *v->pieces);
    v->scores = calloc(f.n_lines, sizeof *v->scores);
    v->types = calloc(f.n_lines, sizeof *v->types);
    for (size_t i = 0; i < f.n_lines; i++) {
        const char *val;
        if ((val = fx_key_value(f.lines[i], "bos"))) v->bos = (uint32_t)atoi(val);
        if ((val = fx_key_value(f.lines[i], "eos"))) v->eos = (uint32_t)atoi(val);
        if ((val = fx_key_value(f.lines[i], "unk"))) v->unk = (uint32_t)atoi(val);
        if ((val = fx_key_value(f.lines[i], "piece"))) {
            char *end;
            v->types[v->n] = (int32_t)strtol(val, &end, 10);
            v->scores[v->n] = strtof(end, &end);
            size_t len;
            v->pieces[v->n] = (char *)fx_bytes(&f, end + 1, &len);
            v->n++;
        }
    }
    fx_free(&f);
    return v->n > 0;
}

static void free_vocab(spm_vocab *v) {
    for (uint32_t i = 0; i < v->n; i++) free(v->pieces[i]);
    free(v->pieces);
    free(v->scores);
    free(v->types);
}

/* Writes the vocabulary's tokenizer keys; `model` and `n_scores` let tests break the file. */
static bool write_gguf(const spm_vocab *v, const char *model, uint32_t n_scores, void **data,
                       size_t *size) {
    vkq__diag d = {0};
    vkq__gguf_writer *w = NULL;
    bool ok = vkq__gguf_writer_create(&d, &w) == VKQ_OK;
    ok = ok && vkq__gguf_writer_add_string(w, "general.architecture", "llama") == VKQ_OK;
    if (model) ok = ok && vkq__gguf_writer_add_string(w, "tokenizer.ggml.model", model) == VKQ_OK;
    ok = ok && vkq__gguf_writer_add_string_array(w, "tokenizer.ggml.tokens",
                                                 (const char *const *)v->pieces, v->n) == VKQ_OK;
    ok = ok && vkq__gguf_writer_add_array(w, "tokenizer.ggml.scores", VKQ_GGUF_TYPE_F32, v->scores,
                                          n_scores) == VKQ_OK;
    ok = ok && vkq__gguf_writer_add_array(w, "tokenizer.ggml.token_type", VKQ_GGUF_TYPE_I32,
                                          v->types, v->n) == VKQ_OK;
    ok = ok && vkq__gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", v->bos) == VKQ_OK;
    ok = ok && vkq__gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", v->eos) == VKQ_OK;
    ok = ok && vkq__gguf_writer_add_u32(w, "tokenizer.ggml.unknown_token_id", v->unk) == VKQ_OK;
    ok = ok && vkq__gguf_writer_add_bool(w, "tokenizer.ggml.add_bos_token", true) == VKQ_OK;
    ok = ok && vkq__gguf_writer_add_bool(w, "tokenizer.ggml.add_space_prefix", true) == VKQ_OK;
    ok = ok && vkq__gguf_writer_write_memory(w, data, size) == VKQ_OK;
    CHECK_MSG(ok, "writing the SentencePiece GGUF: %s", d.message);
    vkq__gguf_writer_destroy(w);
    return ok;
}

static vkq_status load_from(vkq_context *ctx, const void *data, size_t size, vkq_tokenizer **tok) {
    vkq_gguf *g = NULL;
    vkq_status st = vkq_gguf_open_memory(ctx, data, size, &g);
    CHECK_MSG(st == VKQ_OK, "gguf: %s", vkq_context_last_error(ctx));
    if (st != VKQ_OK) return st;
    st = vkq_tokenizer_load(ctx, g, tok);
    vkq_gguf_close(g); /* the tokenizer keeps copies: it must work after this */
    return st;
}

vkq_tokenizer *tok_load_spm(vkq_context *ctx, void **gguf_data) {
    spm_vocab v;
    *gguf_data = NULL;
    if (!read_vocab(&v)) {
        vkq_test_failures++;
        return NULL;
    }
    size_t size = 0;
    vkq_tokenizer *tok = NULL;
    if (write_gguf(&v, "llama", v.n, gguf_data, &size)) {
        vkq_status st = load_from(ctx, *gguf_data, size, &tok);
        CHECK_MSG(st == VKQ_OK, "tokenizer: %s", vkq_context_last_error(ctx));
    }
    free_vocab(&v);
    return tok;
}

static void check_bad_files(vkq_context *ctx) {
    spm_vocab v;
    if (!read_vocab(&v)) return;
    void *data = NULL;
    size_t size = 0;
    vkq_tokenizer *tok = NULL;
    if (write_gguf(&v, NULL, v.n, &data, &size)) {
        CHECK_STATUS(ctx, load_from(ctx, data, size, &tok), VKQ_ERR_NOT_FOUND);
        CHECK(tok == NULL);
    }
    free(data);
    if (write_gguf(&v, "bert", v.n, &data, &size)) {
        CHECK_STATUS(ctx, load_from(ctx, data, size, &tok), VKQ_ERR_UNSUPPORTED);
        CHECK(strstr(vkq_context_last_error(ctx), "bert") != NULL);
    }
    free(data);
    if (write_gguf(&v, "llama", v.n - 1, &data, &size)) {
        CHECK_STATUS(ctx, load_from(ctx, data, size, &tok), VKQ_ERR_BAD_FILE);
        CHECK(strstr(vkq_context_last_error(ctx), "tokenizer.ggml.scores") != NULL);
    }
    free(data);
    free_vocab(&v);
}

static void check_cases(vkq_tokenizer *tok) {
    fx_file f;
    if (!fx_load(&f, "spm_cases.txt")) {
        vkq_test_failures++;
        return;
    }
    size_t pos = 0, cases = 0, agree = 0, ids_total = 0, ids_agree = 0;
    fx_case c;
    while (fx_next_case(&f, &pos, &c)) {
        size_t len, n_want, n = 0;
        uint8_t *text = fx_bytes(&f, fx_get(&c, "text"), &len);
        int32_t *want = fx_ints(fx_get(&c, "ids"), &n_want);
        uint32_t flags = (fx_get_int(&c, "add", 0) ? VKQ_TOKENIZE_ADD_SPECIAL : 0) |
                         (fx_get_int(&c, "special", 0) ? VKQ_TOKENIZE_PARSE_SPECIAL : 0);
        int32_t got[2048];
        CHECK_STATUS(NULL, vkq_tokenizer_encode(tok, (const char *)text, len, flags, got, 2048, &n),
                     VKQ_OK);
        cases++;
        ids_total += n_want;
        for (size_t i = 0; i < n && i < n_want && got[i] == want[i]; i++) ids_agree++;
        if (tok_same_ids(c.name, got, n, want, n_want)) {
            agree++;
        } else {
            fprintf(stderr, "  text: %s\n", fx_show(text, len));
            vkq_test_failures++;
        }
        /* Decoding gives the text back (repaired where it was not UTF-8). */
        char out[4096], repaired[4096];
        size_t out_len = 0;
        vkq__utf8_stream u = {0};
        size_t rl = vkq__utf8_feed(&u, text, len, (uint8_t *)repaired);
        rl += vkq__utf8_finish(&u, (uint8_t *)repaired + rl);
        size_t skip = (flags & VKQ_TOKENIZE_ADD_SPECIAL) ? 1 : 0;
        CHECK(vkq_tokenizer_decode(tok, got + skip, n - skip, 0, out, sizeof out, &out_len) == VKQ_OK);
        CHECK_MSG(out_len == rl && memcmp(out, repaired, rl) == 0, "%s: decodes to %s", c.name,
                  fx_show((const uint8_t *)out, out_len));
        free(text);
        free(want);
    }
    printf("sentencepiece: %zu/%zu texts agree, %zu/%zu ids (prefix match)\n", agree, cases,
           ids_agree, ids_total);
    CHECK(cases > 30);
    fx_free(&f);
}

static void check_speed(vkq_tokenizer *tok) {
    static const char chunk[] = "The quick brown fox, 12345 jumps; caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac "
                                "\xf0\x9f\x98\x80 over\tthe\n lazy dog's back.  ";
    size_t n_chunk = sizeof chunk - 1, total = 0;
    char *text = malloc(10240 + n_chunk);
    while (total < 10240) {
        memcpy(text + total, chunk, n_chunk);
        total += n_chunk;
    }
    int32_t *ids = malloc(total * sizeof *ids);
    size_t n = 0;
    double t0 = tok_now_ms();
    CHECK(vkq_tokenizer_encode(tok, text, total, 0, ids, total, &n) == VKQ_OK);
    double ms = tok_now_ms() - t0;
    printf("sentencepiece: %zu bytes -> %zu tokens in %.2f ms\n", total, n, ms);
    CHECK_MSG(ms < 100.0, "10 KB took %.1f ms", ms);
    free(ids);
    free(text);
}

/* The synthetic test models of lib/gguf (what engine tests load): both tokenizer kinds load,
 * and text survives the round trip. */
static void check_synthetic(vkq_context *ctx) {
    const vkq__synth_tokenizer kinds[] = {VKQ__SYNTH_TOKENIZER_GPT2, VKQ__SYNTH_TOKENIZER_LLAMA};
    for (int k = 0; k < 2; k++) {
        vkq__synth_desc desc = {0};
        desc.tokenizer = kinds[k];
        desc.n_layer = 1;
        void *data = NULL;
        size_t size = 0;
        vkq__diag d = {0};
        CHECK_MSG(vkq__synth_write_memory(&d, &desc, &data, &size) == VKQ_OK, "synth: %s",
                  d.message);
        vkq_tokenizer *tok = NULL;
        if (data) CHECK_OK(ctx, load_from(ctx, data, size, &tok));
        if (tok) {
            const char *text = "hello world, the answer is 42! caf\xc3\xa9 \xf0\x9f\x98\x80";
            int32_t ids[128];
            size_t n = 0, len = 0;
            CHECK_OK(ctx, vkq_tokenizer_encode(tok, text, strlen(text), VKQ_TOKENIZE_ADD_SPECIAL,
                                               ids, 128, &n));
            CHECK(n > 0 && (k == 0 || ids[0] == vkq_tokenizer_special(tok, VKQ_SPECIAL_BOS)));
            char out[256];
            CHECK_OK(ctx, vkq_tokenizer_decode(tok, ids, n, 0, out, sizeof out, &len));
            CHECK_MSG(strcmp(out, text) == 0, "synthetic %s: %s", k ? "llama" : "gpt2", out);
        }
        vkq_tokenizer_destroy(tok);
        free(data);
    }
}

void test_spm(void) {
    vkq_context *ctx = tok_context();
    if (!ctx) return;
    void *data = NULL;
    vkq_tokenizer *tok = tok_load_spm(ctx, &data);
    if (tok) {
        CHECK(vkq__tokenizer_kind(tok) == VKQ__VOCAB_SPM);
        CHECK(vkq_tokenizer_special(tok, VKQ_SPECIAL_BOS) == 1);
        CHECK(vkq_tokenizer_special(tok, VKQ_SPECIAL_UNK) == 0);
        check_cases(tok);
        check_speed(tok);
        /* Control tokens in text: plain text by default, the tokens with PARSE_SPECIAL. */
        int32_t ids[32];
        size_t n = 0;
        CHECK(vkq_tokenizer_encode(tok, "<s>hi</s>", 9, VKQ_TOKENIZE_PARSE_SPECIAL, ids, 32, &n) ==
              VKQ_OK);
        CHECK(n >= 3 && ids[0] == 1 && ids[n - 1] == 2);
    }
    vkq_tokenizer_destroy(tok);
    free(data);
    check_bad_files(ctx);
    check_synthetic(ctx);
    vkq_context_destroy(ctx);
}

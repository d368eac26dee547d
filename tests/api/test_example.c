/* The example at the top of vkq.h, run as written (on a synthetic model with a byte-level BPE
 * vocabulary), so that the manual stays true. */
#include "common/test.h"
#include "gguf/gguf.h"

#include <unistd.h>

static int example(const char *path) {
    vkq_context *ctx = NULL;
    vkq_context_desc cdesc = {0};
    cdesc.validation = 1;
    if (vkq_context_create(&cdesc, &ctx) != VKQ_OK) {
        fprintf(stderr, "%s\n", vkq_context_last_error(ctx));
        vkq_context_destroy(ctx);
        return 1;
    }
    vkq_model *model = NULL;
    vkq_model_desc mdesc = {.path = path};
    CHECK_OK(ctx, vkq_model_load(ctx, &mdesc, &model));
    vkq_session *s = NULL;
    CHECK_OK(ctx, vkq_session_create(model, NULL, &s));
    const vkq_tokenizer *tok = vkq_model_tokenizer(model);
    CHECK(tok != NULL);
    int32_t ids[256];
    size_t n = 0;
    CHECK(vkq_tokenizer_encode(tok, "The capital of France is", 24,
                               VKQ_TOKENIZE_ADD_SPECIAL | VKQ_TOKENIZE_PARSE_SPECIAL, ids, 256, &n) == VKQ_OK);
    CHECK(n > 0);
    CHECK_OK(ctx, vkq_session_eval(s, ids, (uint32_t)n, NULL));
    vkq_detokenizer *dt = NULL;
    CHECK(vkq_detokenizer_create(tok, 0, &dt) == VKQ_OK);
    vkq_sampler_desc greedy = {0};
    int generated = 0;
    for (int i = 0; i < 32; i++) {
        int32_t t;
        char text[256];
        size_t len;
        CHECK_OK(ctx, vkq_session_sample(s, &greedy, NULL, 0, &t));
        if (vkq_tokenizer_is_end_of_turn(tok, t)) break;
        CHECK(vkq_detokenizer_push(dt, t, text, sizeof text, &len) == VKQ_OK);
        fwrite(text, 1, len, stdout);
        CHECK_OK(ctx, vkq_session_eval(s, &t, 1, NULL));
        generated++;
    }
    printf("\n");
    CHECK(vkq_session_position(s) == n + (uint32_t)generated);
    vkq_detokenizer_destroy(dt);
    vkq_session_destroy(s);
    vkq_model_destroy(model);
    CHECK(vkq_context_validation_messages(ctx) == 0);
    vkq_context_destroy(ctx);
    return 0;
}

int main(void) {
    test_init("test_api_example");
    char path[128];
    snprintf(path, sizeof path, "/tmp/vkq-example-%ld.gguf", (long)getpid());
    vkq__diag d = {0};
    vkq__synth_desc desc = {.n_embd = 64, .n_ff = 128, .n_layer = 1, .n_head = 2, .seed = vkq_test_seed};
    CHECK_MSG(vkq__synth_write_file(&d, &desc, path) == VKQ_OK, "%s", d.message);
    CHECK(example(path) == 0);
    unlink(path);
    return test_finish();
}

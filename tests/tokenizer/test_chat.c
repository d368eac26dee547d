/* Chat templates: each family's format against the reference templates rendered by Jinja
 * (fixtures/chat_cases.txt), and the cases the templates themselves cannot show. */
#include "tok_tests.h"

#include <stdlib.h>
#include <string.h>

static vkq__chat_family family_of_case(const char *name) {
    if (strncmp(name, "llama2/", 7) == 0) return VKQ__CHAT_LLAMA2;
    if (strncmp(name, "llama3/", 7) == 0) return VKQ__CHAT_LLAMA3;
    if (strncmp(name, "mistral/", 8) == 0) return VKQ__CHAT_MISTRAL;
    return VKQ__CHAT_CHATML;
}

static void check_fixture(void) {
    fx_file f;
    if (!fx_load(&f, "chat_cases.txt")) {
        vkq_test_failures++;
        return;
    }
    size_t pos = 0, cases = 0, agree = 0;
    fx_case c;
    while (fx_next_case(&f, &pos, &c)) {
        size_t tl, bl, el, xl;
        uint8_t *tmpl = fx_bytes(&f, fx_get(&c, "template"), &tl);
        uint8_t *bos = fx_bytes(&f, fx_get(&c, "bos"), &bl);
        uint8_t *eos = fx_bytes(&f, fx_get(&c, "eos"), &el);
        uint8_t *expect = fx_bytes(&f, fx_get(&c, "expect"), &xl);
        vkq__chat_msg msgs[16];
        uint8_t *contents[16];
        size_t n = 0;
        for (size_t i = c.first; i < c.end && n < 16; i++) {
            const char *v = fx_key_value(f.lines[i], "msg");
            if (!v) continue;
            static char roles[16][32];
            const char *sp = strchr(v, ' ');
            snprintf(roles[n], sizeof roles[n], "%.*s", (int)(sp - v), v);
            size_t cl;
            contents[n] = fx_bytes(&f, sp + 1, &cl);
            msgs[n] = (vkq__chat_msg){roles[n], (const char *)contents[n]};
            n++;
        }
        vkq__chat_template t;
        CHECK(vkq__chat_template_parse((const char *)tmpl, bl ? (const char *)bos : NULL,
                                       (const char *)eos, &t) == VKQ_OK);
        CHECK_MSG(t.family == family_of_case(c.name) && !t.fallback, "%s: recognized as %d",
                  c.name, (int)t.family);
        char out[2048];
        size_t len = 0;
        vkq_status st = vkq__chat_format(&t, msgs, n, fx_get_int(&c, "gen", 0) != 0, out,
                                         sizeof out, &len);
        cases++;
        if (st == VKQ_OK && len == xl && memcmp(out, expect, xl) == 0) {
            agree++;
        } else {
            fprintf(stderr, "%s: got  %s\n", c.name, fx_show((uint8_t *)out, len));
            fprintf(stderr, "%s: want %s\n", c.name, fx_show(expect, xl));
            vkq_test_failures++;
        }
        vkq__chat_template_free(&t);
        for (size_t i = 0; i < n; i++) free(contents[i]);
        free(tmpl);
        free(bos);
        free(eos);
        free(expect);
    }
    printf("chat templates vs jinja2: %zu/%zu conversations formatted alike\n", agree, cases);
    CHECK(cases >= 30);
    fx_free(&f);
}

static void check_format(const vkq__chat_template *t, const vkq__chat_msg *m, size_t n, bool gen,
                         const char *want) {
    char out[1024];
    size_t len = 0;
    CHECK(vkq__chat_format(t, m, n, gen, out, sizeof out, &len) == VKQ_OK);
    CHECK_MSG(len == strlen(want) && strcmp(out, want) == 0, "got %s",
              fx_show((uint8_t *)out, len));
}

void test_chat(void) {
    check_fixture();
    const vkq__chat_msg sys_user[] = {{"system", "Be brief."}, {"user", "Hi"}};
    vkq__chat_template t;

    /* Mistral's template refuses a system message; vkq puts it before the next user message. */
    CHECK(vkq__chat_template_parse("{{ bos_token }}{% ... %}[INST]", NULL, NULL, &t) == VKQ_OK);
    CHECK(t.family == VKQ__CHAT_MISTRAL && !t.fallback);
    check_format(&t, sys_user, 2, true, "[INST] Be brief.\n\nHi [/INST]");
    vkq__chat_template_free(&t);

    /* No template, or one of no known family: ChatML, flagged as a fallback. */
    const char *unknown[] = {NULL, "", "{% for m in messages %}{{ m.content }}{% endfor %}"};
    for (size_t i = 0; i < 3; i++) {
        CHECK(vkq__chat_template_parse(unknown[i], NULL, NULL, &t) == VKQ_OK);
        CHECK(t.family == VKQ__CHAT_CHATML && t.fallback && !t.default_system);
        check_format(&t, sys_user, 2, true,
                     "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                     "<|im_start|>assistant\n");
        vkq__chat_template_free(&t);
    }

    /* A ChatML default system turn written with an escaped newline and quote (Qwen style), and
     * one that is computed (not a literal): only the literal is taken. */
    CHECK(vkq__chat_template_parse("{{ '<|im_start|>system\\n' + messages[0]['content'] }}"
                                   "{{ '<|im_start|>system\\nYou\\'re Qwen.<|im_end|>\\n' }}",
                                   NULL, NULL, &t) == VKQ_OK);
    CHECK(t.default_system && strcmp(t.default_system, "You're Qwen.") == 0);
    const vkq__chat_msg user[] = {{"user", "Hi"}};
    check_format(&t, user, 1, false,
                 "<|im_start|>system\nYou're Qwen.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
    check_format(&t, sys_user, 2, false,
                 "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
    check_format(&t, NULL, 0, true, "<|im_start|>assistant\n");

    /* Buffer handling: LIMIT with the length needed; exactly enough room works. */
    char out[64];
    size_t len = 0;
    CHECK(vkq__chat_format(&t, user, 1, true, out, 10, &len) == VKQ_ERR_LIMIT);
    size_t need = len;
    char *big = malloc(need + 1);
    CHECK(vkq__chat_format(&t, user, 1, true, big, need, &len) == VKQ_ERR_LIMIT && len == need);
    CHECK(vkq__chat_format(&t, user, 1, true, big, need + 1, &len) == VKQ_OK && len == need &&
          big[need] == '\0');
    free(big);
    const vkq__chat_msg bad[] = {{NULL, "x"}};
    CHECK(vkq__chat_format(&t, bad, 1, true, out, sizeof out, &len) == VKQ_ERR_INVALID_ARGUMENT);
    vkq__chat_template_free(&t);
}

/* vkq chat: an interactive conversation using the model's chat template. Each turn formats the
 * whole conversation, and only the tokens past what the session already holds are evaluated. */
#include "generate.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: vkq chat [-m MODEL] [--system TEXT] [options]\n\n"
               "Reads a line at a time from stdin and answers with the model's chat template\n"
               "(ChatML, Llama 2, Llama 3, Mistral). An empty line or end of input quits;\n"
               "'/reset' starts over.\n\n"
               "  --system TEXT      a system message\n%s", gen_options_help);
}

typedef struct conversation {
    vkq_chat_message *msgs;
    uint32_t n, cap;
} conversation;

static bool add(conversation *c, const char *role, const char *content) {
    if (c->n == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 16;
        vkq_chat_message *m = realloc(c->msgs, cap * sizeof *m);
        if (!m) return false;
        c->msgs = m, c->cap = cap;
    }
    char *copy = strdup(content);
    if (!copy) return false;
    c->msgs[c->n++] = (vkq_chat_message){role, copy};
    return true;
}

static void clear(conversation *c, uint32_t keep) {
    while (c->n > keep) free((char *)c->msgs[--c->n].content);
}

/* Formats and tokenizes the conversation; returns the tokens (caller frees) or NULL. */
static int32_t *tokenize_conversation(vkq_model *model, const conversation *c, uint32_t *n, vkq_status *st) {
    const vkq_tokenizer *tok = vkq_model_tokenizer(model);
    size_t len = 0, count = 0;
    *st = vkq_tokenizer_format_chat(tok, c->msgs, c->n, 1, NULL, 0, &len);
    if (*st && *st != VKQ_ERR_LIMIT) return NULL;
    char *text = malloc(len + 1);
    size_t cap = len + 16;
    int32_t *tokens = malloc(cap * sizeof *tokens);
    *st = text && tokens ? vkq_tokenizer_format_chat(tok, c->msgs, c->n, 1, text, len + 1, &len) : VKQ_ERR_OUT_OF_HOST_MEMORY;
    if (!*st) *st = vkq_tokenizer_encode(tok, text, len, VKQ_TOKENIZE_ADD_SPECIAL | VKQ_TOKENIZE_PARSE_SPECIAL, tokens, cap, &count);
    *n = (uint32_t)count;
    free(text);
    if (*st) free(tokens), tokens = NULL;
    return tokens;
}

int cmd_chat(int argc, char **argv) {
    gen_options o;
    gen_defaults(&o);
    o.n_predict = 512;
    const char *system = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return usage(stdout), 0;
        int r = gen_parse_option("chat", argc, argv, &i, &o);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(argv[i], "--system") && i + 1 < argc) system = argv[++i];
        else return cli_usage_error("chat", "unknown or incomplete option '%s'", argv[i]);
    }
    vkq_context *ctx;
    vkq_model *model;
    vkq_session *s;
    if (gen_open("chat", &o, &ctx, &model, &s)) return gen_close(ctx, model, s), 1;
    conversation c = {0};
    uint32_t base = 0;
    if (system && add(&c, "system", system)) base = 1;
    int32_t *history = NULL; /* exactly the tokens the session holds */
    uint32_t n_history = 0, hcap = 0;
    char line[8192];
    vkq_status st = VKQ_OK;
    for (;;) {
        fputs("> ", stderr);
        if (!fgets(line, sizeof line, stdin)) break;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0]) break;
        if (!strcmp(line, "/reset")) {
            clear(&c, base), vkq_session_reset(s), n_history = 0;
            continue;
        }
        if (!add(&c, "user", line)) break;
        uint32_t n = 0;
        int32_t *tokens = tokenize_conversation(model, &c, &n, &st);
        if (!tokens) break;
        /* Keep the cache for the prefix the session already holds; evaluate only the rest. */
        uint32_t same = 0;
        while (same < n_history && same < n && history[same] == tokens[same]) same++;
        if (same == n) same = n - 1; /* at least one token to evaluate, for fresh logits */
        if ((st = vkq_session_rewind(s, same))) {
            free(tokens);
            break;
        }
        n_history = same;
        gen_stats stats;
        st = gen_run(ctx, model, s, &o, tokens + same, n - same, &history, &n_history, &hcap, &stats);
        fputc('\n', stdout);
        fflush(stdout); /* before the statistics on stderr */
        free(tokens);
        if (st) break;
        /* The assistant's turn, as text, for the next formatting of the conversation. */
        char answer[32768];
        size_t alen = 0;
        vkq_detokenizer *d = NULL;
        if (!vkq_detokenizer_create(vkq_model_tokenizer(model), 0, &d)) {
            for (uint32_t i = n; i < n_history && alen + 512 < sizeof answer; i++) {
                size_t l = 0;
                if (!vkq_detokenizer_push(d, history[i], answer + alen, sizeof answer - alen - 1, &l)) alen += l;
            }
            vkq_detokenizer_destroy(d);
        }
        answer[alen] = '\0';
        if (!add(&c, "assistant", answer)) break;
        fprintf(stderr, "[%u prompt tokens %.1f t/s, %u generated %.1f t/s]\n", stats.prompt_tokens,
                stats.prompt_tokens / (stats.prompt_seconds > 0 ? stats.prompt_seconds : 1), stats.generated,
                stats.generated / (stats.gen_seconds > 0 ? stats.gen_seconds : 1));
    }
    int rc = st ? cli_fail("chat", ctx, st, "the conversation") : 0;
    clear(&c, 0);
    free(c.msgs), free(history);
    gen_close(ctx, model, s);
    return rc;
}

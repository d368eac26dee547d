/* vkq run: generate text from a prompt, streamed, then the prompt and generation speeds. */
#include "generate.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: vkq run [-m MODEL] -p PROMPT [options]\n\n"
               "Evaluates the prompt and streams the continuation to stdout; the speeds (tokens/s)\n"
               "go to stderr at the end.\n\n"
               "  -p, --prompt TEXT  the prompt (default: a short story opening)\n"
               "  --chat             wrap the prompt in the model's chat template as a user turn\n"
               "%s", gen_options_help);
}

int cmd_run(int argc, char **argv) {
    gen_options o;
    gen_defaults(&o);
    const char *prompt = "Once upon a time, in a small village by the sea,";
    bool chat = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return usage(stdout), 0;
        int r = gen_parse_option("run", argc, argv, &i, &o);
        if (r < 0) return 2;
        if (r) continue;
        if ((!strcmp(argv[i], "-p") || !strcmp(argv[i], "--prompt")) && i + 1 < argc) prompt = argv[++i];
        else if (!strcmp(argv[i], "--chat")) chat = true;
        else return cli_usage_error("run", "unknown or incomplete option '%s'", argv[i]);
    }
    vkq_context *ctx;
    vkq_model *model;
    vkq_session *s;
    if (gen_open("run", &o, &ctx, &model, &s)) return gen_close(ctx, model, s), 1;

    const vkq_tokenizer *tok = vkq_model_tokenizer(model);
    char *formatted = NULL;
    const char *text = prompt;
    vkq_status st = VKQ_OK;
    if (chat) {
        vkq_chat_message msg = {"user", prompt};
        size_t len = 0;
        st = vkq_tokenizer_format_chat(tok, &msg, 1, 1, NULL, 0, &len);
        if (st == VKQ_ERR_LIMIT || st == VKQ_OK) {
            formatted = malloc(len + 1);
            st = formatted ? vkq_tokenizer_format_chat(tok, &msg, 1, 1, formatted, len + 1, &len) : VKQ_ERR_OUT_OF_HOST_MEMORY;
            text = formatted;
        }
    }
    size_t n = 0, cap = strlen(text) + 16;
    int32_t *tokens = malloc(cap * sizeof *tokens), *history = NULL;
    uint32_t n_history = 0, hcap = 0;
    if (!st) st = tokens ? vkq_tokenizer_encode(tok, text, strlen(text), VKQ_TOKENIZE_ADD_SPECIAL | VKQ_TOKENIZE_PARSE_SPECIAL, tokens, cap, &n) : VKQ_ERR_OUT_OF_HOST_MEMORY;
    gen_stats stats;
    if (!st) {
        if (!chat) fputs(prompt, stdout);
        st = gen_run(ctx, model, s, &o, tokens, (uint32_t)n, &history, &n_history, &hcap, &stats);
        fputc('\n', stdout);
        fflush(stdout);
    }
    int rc = 0;
    if (st) {
        rc = cli_fail("run", ctx, st, "generation");
    } else {
        fprintf(stderr, "prompt: %u tokens in %.2f s, %.1f tokens/s; generation: %u tokens in %.2f s, %.1f tokens/s\n",
                stats.prompt_tokens, stats.prompt_seconds, stats.prompt_tokens / (stats.prompt_seconds > 0 ? stats.prompt_seconds : 1),
                stats.generated, stats.gen_seconds, stats.generated / (stats.gen_seconds > 0 ? stats.gen_seconds : 1));
    }
    free(tokens), free(history), free(formatted);
    gen_close(ctx, model, s);
    return rc;
}

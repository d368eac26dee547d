#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

bool cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return true;
    }
    return false;
}

bool cli_parse_u64(const char *s, unsigned long long *out) {
    if (!s || !*s) return false;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s) return false;
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1ull << 10, end++;
    else if (*end == 'M' || *end == 'm') mul = 1ull << 20, end++;
    else if (*end == 'G' || *end == 'g') mul = 1ull << 30, end++;
    if (*end) return false;
    *out = v * mul;
    return true;
}

static void log_stderr(vkq_log_level level, const char *message, void *user_data) {
    (void)user_data;
    fprintf(stderr, "vkq: %s%s\n", level == VKQ_LOG_ERROR ? "error: " : "", message);
}

vkq_context *cli_context(vkq_device_mode mode, const char *device, bool verbose) {
    vkq_context_desc desc = {0};
    desc.mode = mode;
    desc.device = device;
    if (verbose) {
        desc.log = log_stderr;
        desc.log_level = VKQ_LOG_INFO;
    }
    vkq_context *ctx = NULL;
    vkq_status st = vkq_context_create(&desc, &ctx);
    if (st != VKQ_OK) {
        fprintf(stderr, "vkq: %s: %s\n", vkq_status_string(st), vkq_context_last_error(ctx));
        vkq_context_destroy(ctx);
        return NULL;
    }
    return ctx;
}

int cli_fail(const char *cmd, vkq_context *ctx, vkq_status st, const char *what) {
    fprintf(stderr, "vkq %s: %s failed (%s): %s\n", cmd, what, vkq_status_string(st),
            vkq_context_last_error(ctx));
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vkq %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'vkq %s --help')\n", cmd);
    va_end(ap);
    return 2;
}

void cli_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

char *cli_read_text(const char *cmd, const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return fprintf(stderr, "vkq %s: cannot open %s\n", cmd, path), NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *bigger = realloc(buf, 2 * cap + 1);
        if (!bigger) free(buf);
        buf = bigger, cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad) return fprintf(stderr, "vkq %s: cannot read %s\n", cmd, path), free(buf), NULL;
    buf[n] = 0;
    *len = n;
    return buf;
}

vkq_status cli_tokenize(const vkq_tokenizer *tok, const char *text, size_t len, int32_t **tokens, size_t *n) {
    size_t cap = len + 16; /* a token covers at least one byte, plus BOS and EOS */
    *tokens = malloc(cap * sizeof **tokens);
    if (!*tokens) return VKQ_ERR_OUT_OF_HOST_MEMORY;
    return vkq_tokenizer_encode(tok, text, len, VKQ_TOKENIZE_ADD_SPECIAL, *tokens, cap, n);
}

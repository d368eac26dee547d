/* Chat prompts. vkq does not run Jinja: a model's tokenizer.chat_template is recognized by the
 * markers of the families below, and each family's format is written out here as its reference
 * template renders it (the tests compare with those templates rendered by Jinja itself).
 *
 *   ChatML  (SmolLM2, Qwen)  <|im_start|>{role}\n{content}<|im_end|>\n ... and, with the
 *                            generation prompt, <|im_start|>assistant\n. Templates that add a
 *                            system turn of their own when the chat has none (SmolLM2, Qwen)
 *                            have it read from the template text and added likewise.
 *   Llama 2                  <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {reply} </s>
 *                            <s>[INST] {user} [/INST] — contents stripped, as the template does.
 *   Llama 3                  <|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n
 *                            {content, trimmed}<|eot_id|> ... generation prompt
 *                            <|start_header_id|>assistant<|end_header_id|>\n\n.
 *   Mistral (v0.1/v0.2)      <s>[INST] {user} [/INST]{reply}</s>[INST] {user} [/INST]. The
 *                            template refuses system messages; here a system message goes in
 *                            front of the next user message, separated by a blank line.
 *
 * The BOS at the very start is left out (see vkq__chat_format). Unknown templates fall back to
 * ChatML and say so (vkq__chat_template.fallback). */
#include "tokenizer/tokenizer.h"

#include <stdlib.h>
#include <string.h>

static char *dup_cstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

/* Decodes the Jinja string literal that continues at q up to "<|im_end|>": the default system
 * text of a ChatML template. NULL when the literal ends (a quote: the text is computed, such as
 * messages[0]['content']) or holds an expression before the marker. */
static char *literal_until_end(const char *q) {
    static const char end[] = "<|im_end|>";
    size_t cap = strlen(q) + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    while (*q) {
        if (strncmp(q, end, sizeof end - 1) == 0) {
            buf[n] = '\0';
            if (n > 0) return buf;
            break;
        }
        if (*q == '\'' || *q == '"' || *q == '{' || *q == '}') break;
        if (*q == '\\' && q[1]) {
            char e = q[1];
            buf[n++] = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
            q += 2;
            continue;
        }
        buf[n++] = *q++;
    }
    free(buf);
    return NULL;
}

static char *chatml_default_system(const char *text) {
    static const char marker[] = "<|im_start|>system";
    for (const char *p = strstr(text, marker); p; p = strstr(p + 1, marker)) {
        const char *q = p + sizeof marker - 1;
        if (*q == '\n') {
            q++; /* a newline written into the template as is (SmolLM2's) */
        } else if (q[0] == '\\' && q[1] == 'n') {
            q += 2; /* or as an escape (Qwen's) */
        } else {
            continue;
        }
        char *s = literal_until_end(q);
        if (s) return s;
    }
    return NULL;
}

vkq_status vkq__chat_template_parse(const char *text, const char *bos, const char *eos,
                                    vkq__chat_template *out) {
    memset(out, 0, sizeof *out);
    out->bos = dup_cstr(bos ? bos : "<s>");
    out->eos = dup_cstr(eos ? eos : "</s>");
    if (!out->bos || !out->eos) {
        vkq__chat_template_free(out);
        return VKQ_ERR_OUT_OF_HOST_MEMORY;
    }
    out->family = VKQ__CHAT_CHATML;
    if (!text || !*text) {
        out->fallback = true;
    } else if (strstr(text, "<|im_start|>")) {
        out->default_system = chatml_default_system(text);
    } else if (strstr(text, "<|start_header_id|>")) {
        out->family = VKQ__CHAT_LLAMA3;
    } else if (strstr(text, "[INST]")) {
        out->family = strstr(text, "<<SYS>>") ? VKQ__CHAT_LLAMA2 : VKQ__CHAT_MISTRAL;
    } else {
        out->fallback = true;
    }
    return VKQ_OK;
}

void vkq__chat_template_free(vkq__chat_template *t) {
    if (!t) return;
    free(t->default_system);
    free(t->bos);
    free(t->eos);
    memset(t, 0, sizeof *t);
}

/* ---- output ------------------------------------------------------------------------------------ */

/* Appends while there is room (always keeping one byte for the terminator) and counts all. */
typedef struct writer {
    char *out;
    size_t cap, n;
    bool failed; /* out of memory */
} writer;

static void put_n(writer *w, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (w->n + i + 1 < w->cap) w->out[w->n + i] = s[i];
    }
    w->n += len;
}

static void put(writer *w, const char *s) { put_n(w, s, strlen(s)); }

/* Python's str.isspace, which Jinja's trim filter and str.strip() use: Unicode White_Space plus
 * the ASCII separators U+001C..U+001F. */
static bool py_space(uint32_t cp) {
    return (cp >= 0x1C && cp <= 0x1F) || vkq__cp_class(cp) == VKQ__CP_SPACE;
}

/* Both ends of s without surrounding whitespace: [*b, *e). */
static void strip_span(const char *s, size_t len, size_t *b, size_t *e) {
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0, j = len;
    while (i < j) {
        size_t k;
        uint32_t cp = vkq__utf8_decode(u + i, j - i, &k);
        if (!py_space(cp)) break;
        i += k;
    }
    while (j > i) {
        size_t start = j - 1;
        while (start > i && j - start < 4 && (u[start] & 0xC0) == 0x80) start--;
        size_t k;
        uint32_t cp = vkq__utf8_decode(u + start, j - start, &k);
        if (start + k != j || !py_space(cp)) break;
        j = start;
    }
    *b = i;
    *e = j;
}

static void put_stripped(writer *w, const char *s, size_t len) {
    size_t b, e;
    strip_span(s, len, &b, &e);
    put_n(w, s + b, e - b);
}

static bool is_role(const vkq__chat_msg *m, const char *role) { return strcmp(m->role, role) == 0; }

/* ---- families ---------------------------------------------------------------------------------- */

static void format_chatml(const vkq__chat_template *t, const vkq__chat_msg *m, size_t n,
                          bool gen, writer *w) {
    if (t->default_system && n > 0 && !is_role(&m[0], "system")) {
        put(w, "<|im_start|>system\n");
        put(w, t->default_system);
        put(w, "<|im_end|>\n");
    }
    for (size_t i = 0; i < n; i++) {
        put(w, "<|im_start|>");
        put(w, m[i].role);
        put(w, "\n");
        put(w, m[i].content);
        put(w, "<|im_end|>\n");
    }
    if (gen) put(w, "<|im_start|>assistant\n");
}

static void format_llama3(const vkq__chat_msg *m, size_t n, bool gen, writer *w) {
    for (size_t i = 0; i < n; i++) {
        put(w, "<|start_header_id|>");
        put(w, m[i].role);
        put(w, "<|end_header_id|>\n\n");
        put_stripped(w, m[i].content, strlen(m[i].content));
        put(w, "<|eot_id|>");
    }
    if (gen) put(w, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

/* The template strips the whole content, system block included, so the block is built first. */
static void format_llama2(const vkq__chat_template *t, const vkq__chat_msg *m, size_t n, writer *w) {
    const char *sys = NULL;
    if (n > 0 && is_role(&m[0], "system")) {
        sys = m[0].content;
        m++;
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        bool user = is_role(&m[i], "user"), assistant = is_role(&m[i], "assistant");
        if (!user && !assistant) continue; /* the template writes nothing for other roles */
        const char *content = m[i].content;
        char *joined = NULL;
        if (i == 0 && sys) {
            static const char open[] = "<<SYS>>\n", close[] = "\n<</SYS>>\n\n";
            size_t ls = strlen(sys), lc = strlen(content);
            joined = malloc(sizeof open - 1 + ls + sizeof close - 1 + lc + 1);
            if (!joined) {
                w->failed = true;
                return;
            }
            memcpy(joined, open, sizeof open - 1);
            memcpy(joined + sizeof open - 1, sys, ls);
            memcpy(joined + sizeof open - 1 + ls, close, sizeof close - 1);
            memcpy(joined + sizeof open - 1 + ls + sizeof close - 1, content, lc + 1);
            content = joined;
        }
        if (user) {
            if (w->n > 0) put(w, t->bos); /* the leading BOS is the caller's (add_special) */
            put(w, "[INST] ");
            put_stripped(w, content, strlen(content));
            put(w, " [/INST]");
        } else {
            put(w, " ");
            put_stripped(w, content, strlen(content));
            put(w, " ");
            put(w, t->eos);
        }
        free(joined);
    }
}

static void format_mistral(const vkq__chat_template *t, const vkq__chat_msg *m, size_t n,
                           writer *w) {
    const char *sys = NULL; /* waits for the next user message */
    for (size_t i = 0; i < n; i++) {
        if (is_role(&m[i], "system")) {
            sys = m[i].content;
        } else if (is_role(&m[i], "user")) {
            put(w, "[INST] ");
            if (sys) {
                put(w, sys);
                put(w, "\n\n");
                sys = NULL;
            }
            put(w, m[i].content);
            put(w, " [/INST]");
        } else if (is_role(&m[i], "assistant")) {
            put(w, m[i].content);
            put(w, t->eos);
        }
    }
}

vkq_status vkq__chat_format(const vkq__chat_template *t, const vkq__chat_msg *msgs, size_t n,
                            bool add_generation_prompt, char *out, size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!t || !n_out || (!msgs && n) || (!out && cap)) return VKQ_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        if (!msgs[i].role || !msgs[i].content) return VKQ_ERR_INVALID_ARGUMENT;
    }
    writer w = {out, cap, 0, false};
    switch (t->family) {
    case VKQ__CHAT_LLAMA2:
        format_llama2(t, msgs, n, &w);
        break;
    case VKQ__CHAT_LLAMA3:
        format_llama3(msgs, n, add_generation_prompt, &w);
        break;
    case VKQ__CHAT_MISTRAL:
        format_mistral(t, msgs, n, &w);
        break;
    case VKQ__CHAT_CHATML:
    default:
        format_chatml(t, msgs, n, add_generation_prompt, &w);
        break;
    }
    if (w.failed) return VKQ_ERR_OUT_OF_HOST_MEMORY;
    *n_out = w.n;
    if (w.n >= cap) return VKQ_ERR_LIMIT;
    out[w.n] = '\0';
    return VKQ_OK;
}

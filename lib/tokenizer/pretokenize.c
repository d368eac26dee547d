/* Pre-tokenizers of byte-level BPE vocabularies: the regexes that cut text into the pieces BPE
 * merges within, written out by hand over the character classes of unicode.c.
 *
 * Each regex is an alternation tried left to right at the current position, and together its
 * alternatives match any character, so the pieces tile the text. A function below returns the
 * length of the match at one position; the comments give the alternative each branch is. The
 * only backtracking that matters is in the whitespace rules, worked out where they are. */
#include "tokenizer/tokenizer.h"

#include <string.h>

typedef struct cursor {
    const uint8_t *s;
    size_t len;
    bool digit_stops; /* smollm: every \p{N} is a piece of its own, so it ends the text that
                         the regex sees (a lookahead at it sees the end, not a \S) */
} cursor;

static uint32_t cp_at(const cursor *c, size_t pos, size_t *n) {
    if (c->s[pos] < 0x80) {
        *n = 1;
        return c->s[pos];
    }
    return vkq__utf8_decode(c->s + pos, c->len - pos, n);
}

static int class_at(const cursor *c, size_t pos) {
    size_t n;
    return vkq__cp_class(cp_at(c, pos, &n));
}

static bool at_end(const cursor *c, size_t pos) {
    return pos >= c->len || (c->digit_stops && class_at(c, pos) == VKQ__CP_NUMBER);
}

/* End of the run of characters of class `cls` that starts at pos (pos itself when none). */
static size_t run_of(const cursor *c, size_t pos, int cls) {
    while (!at_end(c, pos)) {
        size_t n;
        if (vkq__cp_class(cp_at(c, pos, &n)) != cls) break;
        pos += n;
    }
    return pos;
}

/* 's|'t|'re|'ve|'m|'ll|'d at pos (an apostrophe); length or 0. With ignore_case, as (?i:...)
 * under Unicode case folding: upper case, and U+017F LONG S, which folds to 's'. */
static size_t contraction(const cursor *c, size_t pos, bool ignore_case) {
    static const char *const forms[] = {"s", "t", "re", "ve", "m", "ll", "d"};
    for (size_t f = 0; f < VKQ__ARRAY_LEN(forms); f++) {
        size_t p = pos + 1;
        const char *form = forms[f];
        bool ok = true;
        for (; *form && ok; form++) {
            if (at_end(c, p)) {
                ok = false;
                break;
            }
            size_t n;
            uint32_t cp = cp_at(c, p, &n);
            ok = cp == (uint32_t)*form ||
                 (ignore_case && (cp == (uint32_t)*form - 32u || (*form == 's' && cp == 0x17F)));
            p += n;
        }
        if (ok) return p - pos;
    }
    return 0;
}

/* Whitespace at pos: \s+(?!\S) gives the run but its last character when the run is followed
 * by a non-space (that one then leads the next piece, " ?\p{L}+" and kin); a single space before
 * a non-space falls through to the plain \s+. */
static size_t space_run(const cursor *c, size_t pos) {
    size_t end = pos, last = pos;
    while (!at_end(c, end) && class_at(c, end) == VKQ__CP_SPACE) {
        size_t n;
        cp_at(c, end, &n);
        last = end;
        end += n;
    }
    if (at_end(c, end) || last == pos) return end - pos;
    return last - pos;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static size_t match_gpt2(const cursor *c, size_t pos) {
    if (c->s[pos] == '\'') {
        size_t n = contraction(c, pos, false);
        if (n) return n;
    }
    size_t p = pos + (c->s[pos] == ' ' ? 1 : 0);
    if (!at_end(c, p)) {
        int cls = class_at(c, p);
        if (cls != VKQ__CP_SPACE) return run_of(c, p, cls) - pos;
    }
    size_t n;
    if (class_at(c, pos) == VKQ__CP_SPACE) return space_run(c, pos);
    cp_at(c, pos, &n); /* not reached: every class is handled above */
    return n;
}

static bool is_newline(uint8_t b) { return b == '\r' || b == '\n'; }

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}|
 *  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static size_t match_llama3(const cursor *c, size_t pos, int max_digits) {
    if (c->s[pos] == '\'') {
        size_t n = contraction(c, pos, true);
        if (n) return n;
    }
    size_t n0;
    int cls = vkq__cp_class(cp_at(c, pos, &n0));
    /* [^\r\n\p{L}\p{N}]?\p{L}+ : a letter run, with one character of anything else but a
     * newline or a number glued in front ("\tword", "(word", " word"). */
    if (cls == VKQ__CP_LETTER) return run_of(c, pos, VKQ__CP_LETTER) - pos;
    if (cls != VKQ__CP_NUMBER && !is_newline(c->s[pos]) && !at_end(c, pos + n0) &&
        class_at(c, pos + n0) == VKQ__CP_LETTER) {
        return run_of(c, pos + n0, VKQ__CP_LETTER) - pos;
    }
    if (cls == VKQ__CP_NUMBER) {
        size_t p = pos;
        for (int k = 0; k < max_digits && !at_end(c, p) && class_at(c, p) == VKQ__CP_NUMBER; k++) {
            size_t n;
            cp_at(c, p, &n);
            p += n;
        }
        return p - pos;
    }
    /*  ?[^\s\p{L}\p{N}]+[\r\n]* : punctuation keeps the newlines that follow it. */
    size_t p = pos + (c->s[pos] == ' ' ? 1 : 0);
    if (!at_end(c, p) && class_at(c, p) == VKQ__CP_OTHER) {
        p = run_of(c, p, VKQ__CP_OTHER);
        while (p < c->len && is_newline(c->s[p])) p++;
        return p - pos;
    }
    if (cls != VKQ__CP_SPACE) return n0; /* not reached */
    /* \s*[\r\n]+ : greedy \s* backs off to the last newline of the run, so the piece is the run
     * up to and including its last \r or \n. */
    size_t end = pos, last_nl = SIZE_MAX;
    while (end < c->len && class_at(c, end) == VKQ__CP_SPACE) {
        size_t n;
        cp_at(c, end, &n);
        if (is_newline(c->s[end])) last_nl = end;
        end += n;
    }
    if (last_nl != SIZE_MAX) return last_nl + 1 - pos;
    return space_run(c, pos);
}

size_t vkq__pretok_next(vkq__pretok kind, const char *text, size_t len, size_t pos) {
    cursor c = {(const uint8_t *)text, len, kind == VKQ__PRETOK_SMOLLM};
    switch (kind) {
    case VKQ__PRETOK_LLAMA3:
        return match_llama3(&c, pos, 3);
    case VKQ__PRETOK_QWEN2:
        return match_llama3(&c, pos, 1);
    case VKQ__PRETOK_SMOLLM: {
        size_t n;
        if (vkq__cp_class(cp_at(&c, pos, &n)) == VKQ__CP_NUMBER) return n;
        return match_gpt2(&c, pos);
    }
    case VKQ__PRETOK_GPT2:
    default:
        return match_gpt2(&c, pos);
    }
}

/* tokenizer.ggml.pre values (as llama.cpp's converter writes them) and the regex each uses. */
static const struct {
    const char *name;
    vkq__pretok kind;
} pretok_names[] = {
    {"default", VKQ__PRETOK_GPT2},      {"gpt2", VKQ__PRETOK_GPT2},
    {"gpt-2", VKQ__PRETOK_GPT2},        {"mpt", VKQ__PRETOK_GPT2},
    {"olmo", VKQ__PRETOK_GPT2},         {"jais", VKQ__PRETOK_GPT2},
    {"llama3", VKQ__PRETOK_LLAMA3},     {"llama-v3", VKQ__PRETOK_LLAMA3},
    {"llama-bpe", VKQ__PRETOK_LLAMA3},  {"falcon3", VKQ__PRETOK_LLAMA3},
    {"dbrx", VKQ__PRETOK_LLAMA3},       {"smaug-bpe", VKQ__PRETOK_LLAMA3},
    {"qwen2", VKQ__PRETOK_QWEN2},       {"deepseek-r1-qwen", VKQ__PRETOK_QWEN2},
    {"megrez", VKQ__PRETOK_QWEN2},      {"smollm", VKQ__PRETOK_SMOLLM},
    {"starcoder", VKQ__PRETOK_SMOLLM},  {"refact", VKQ__PRETOK_SMOLLM},
    {"command-r", VKQ__PRETOK_SMOLLM},  {"codeshell", VKQ__PRETOK_SMOLLM},
    {"exaone", VKQ__PRETOK_SMOLLM},
};

bool vkq__pretok_from_name(const char *name, vkq__pretok *out) {
    *out = VKQ__PRETOK_GPT2;
    if (!name || !*name) return true; /* no key: the gpt2 regex, as converters mean it */
    for (size_t i = 0; i < VKQ__ARRAY_LEN(pretok_names); i++) {
        if (strcmp(name, pretok_names[i].name) == 0) {
            *out = pretok_names[i].kind;
            return true;
        }
    }
    return false;
}

const char *vkq__pretok_name(vkq__pretok kind) {
    switch (kind) {
    case VKQ__PRETOK_LLAMA3:
        return "llama3";
    case VKQ__PRETOK_QWEN2:
        return "qwen2";
    case VKQ__PRETOK_SMOLLM:
        return "smollm";
    case VKQ__PRETOK_GPT2:
    default:
        return "gpt2";
    }
}

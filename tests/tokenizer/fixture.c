#include "fixture.h"

#include "common/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool fx_load(fx_file *f, const char *name) {
    memset(f, 0, sizeof *f);
    char rel[256];
    snprintf(rel, sizeof rel, "tests/tokenizer/fixtures/%s", name);
    const char *path = test_source_path(rel);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "cannot open fixture %s\n", path);
        return false;
    }
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->data = malloc((size_t)size + 1);
    size_t got = f->data ? fread(f->data, 1, (size_t)size, fp) : 0;
    fclose(fp);
    if (!f->data || got != (size_t)size) {
        fprintf(stderr, "cannot read fixture %s\n", path);
        free(f->data);
        f->data = NULL;
        return false;
    }
    f->data[size] = '\0';
    size_t cap = 1;
    for (long i = 0; i < size; i++) cap += f->data[i] == '\n';
    f->lines = calloc(cap, sizeof *f->lines);
    for (char *p = f->data; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        if (*p && *p != '#') f->lines[f->n_lines++] = p;
        p = nl ? nl + 1 : NULL;
    }
    return true;
}

void fx_free(fx_file *f) {
    free(f->data);
    free(f->lines);
    memset(f, 0, sizeof *f);
}

const char *fx_key_value(const char *line, const char *key) {
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0) return NULL;
    if (line[n] == '\0') return "";
    return line[n] == ' ' ? line + n + 1 : NULL;
}

bool fx_next_case(const fx_file *f, size_t *pos, fx_case *c) {
    for (; *pos < f->n_lines; (*pos)++) {
        const char *name = fx_key_value(f->lines[*pos], "case");
        if (!name) continue;
        c->file = f;
        c->name = name;
        c->first = *pos + 1;
        size_t e = c->first;
        while (e < f->n_lines && strcmp(f->lines[e], "end") != 0) e++;
        c->end = e;
        *pos = e;
        return true;
    }
    return false;
}

const char *fx_get(const fx_case *c, const char *key) {
    for (size_t i = c->first; i < c->end; i++) {
        const char *v = fx_key_value(c->file->lines[i], key);
        if (v) return v;
    }
    return NULL;
}

int fx_get_int(const fx_case *c, const char *key, int fallback) {
    const char *v = fx_get(c, key);
    return v ? atoi(v) : fallback;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

uint8_t *fx_bytes(const fx_file *f, const char *value, size_t *len) {
    *len = 0;
    if (!value) return calloc(1, 1);
    if (value[0] == '@') {
        for (size_t i = 0; i < f->n_lines; i++) {
            const char *d = fx_key_value(f->lines[i], "def");
            size_t n = strlen(value + 1);
            if (d && strncmp(d, value + 1, n) == 0 && d[n] == ' ') return fx_bytes(f, d + n + 1, len);
            if (d && strcmp(d, value + 1) == 0) return calloc(1, 1); /* defined empty */
        }
        fprintf(stderr, "fixture: %s is not defined\n", value);
        return calloc(1, 1);
    }
    size_t n = strlen(value) / 2;
    uint8_t *out = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)(hexval(value[2 * i]) * 16 + hexval(value[2 * i + 1]));
    }
    out[n] = 0;
    *len = n;
    return out;
}

int32_t *fx_ints(const char *value, size_t *n) {
    size_t cap = 1;
    for (const char *p = value ? value : ""; *p; p++) cap += *p == ' ';
    int32_t *out = calloc(cap, sizeof *out);
    *n = 0;
    const char *p = value ? value : "";
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) break;
        out[(*n)++] = (int32_t)v;
        p = end;
        while (*p == ' ') p++;
    }
    return out;
}

const char *fx_show(const uint8_t *s, size_t n) {
    static char buf[512];
    size_t w = 0;
    for (size_t i = 0; i < n && w + 5 < sizeof buf; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7F && s[i] != '\\') {
            buf[w++] = (char)s[i];
        } else {
            w += (size_t)snprintf(buf + w, sizeof buf - w, "\\x%02x", s[i]);
        }
    }
    buf[w] = '\0';
    return buf;
}

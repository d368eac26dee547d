/* Reader of the fixture files that tools/tokenizer_reference.py writes: one "key value..." record
 * per line, '#' comments, byte strings in hex or "@NAME" (a "def NAME HEX" record), cases from
 * "case NAME" to "end". */
#ifndef VKQ_TOKENIZER_FIXTURE_H
#define VKQ_TOKENIZER_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fx_file {
    char *data;    /* the file, with each line's end replaced by a terminator */
    char **lines;  /* record lines (no comments, no blank lines) */
    size_t n_lines;
} fx_file;

typedef struct fx_case {
    const fx_file *file;
    const char *name;
    size_t first, end; /* its lines: [first, end) */
} fx_case;

/* Loads tests/tokenizer/fixtures/<name>. False (with a message on stderr) if it cannot. */
bool fx_load(fx_file *f, const char *name);
void fx_free(fx_file *f);

/* The record's key is the first word; the value is the rest of the line (NULL if none). */
const char *fx_key_value(const char *line, const char *key);
/* Steps through the cases: start with *pos = 0; false after the last. */
bool fx_next_case(const fx_file *f, size_t *pos, fx_case *c);
/* Value of the first record `key` of the case, or NULL. */
const char *fx_get(const fx_case *c, const char *key);
int fx_get_int(const fx_case *c, const char *key, int fallback);
/* Decodes a byte string value (hex or @NAME); malloc'd, NUL-terminated (len excludes it). */
uint8_t *fx_bytes(const fx_file *f, const char *value, size_t *len);
/* Parses space-separated integers; malloc'd (never NULL), count in *n. */
int32_t *fx_ints(const char *value, size_t *n);

/* A printable rendering of bytes for messages, in a static buffer. */
const char *fx_show(const uint8_t *s, size_t n);

#endif

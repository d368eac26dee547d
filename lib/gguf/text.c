/* Text helpers of the GGUF reader: UTF-8 validation, printable renderings of hostile names for
 * messages, the string arena, and sorted name indexes. */
#include "gguf/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool vkq__utf8_valid(const uint8_t *s, uint64_t len) {
    uint64_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        uint64_t n;
        uint32_t min;
        if ((c & 0xE0) == 0xC0) {
            cp = c & 0x1F, n = 2, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            cp = c & 0x0F, n = 3, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            cp = c & 0x07, n = 4, min = 0x10000;
        } else {
            return false; /* a continuation byte where a lead byte belongs, or 0xF8..0xFF */
        }
        if (n > len - i) return false;
        for (uint64_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* Overlong forms would give one name several spellings; surrogates are not scalars. */
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n;
    }
    return true;
}

const char *vkq__gguf_printable(const uint8_t *s, uint64_t len, char *buf, size_t size) {
    /* Names in messages come from the file: keep them short and free of control bytes so a
     * hostile file cannot flood or garble a terminal. Bytes >= 0x80 are kept as they are when
     * the whole name is valid UTF-8, escaped otherwise. */
    if (size < 8) {
        if (size) buf[0] = '\0';
        return buf;
    }
    bool utf8 = vkq__utf8_valid(s, len);
    size_t o = 0;
    const size_t cap = size - 1;
    for (uint64_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        bool plain = (c >= 0x20 && c < 0x7F && c != '\\') || (c >= 0x80 && utf8);
        size_t need = plain ? 1 : 4;
        if (o + need + 3 > cap) { /* room for "..." */
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (plain) {
            buf[o++] = (char)c;
        } else {
            snprintf(buf + o, 5, "\\x%02x", c);
            o += 4;
        }
    }
    buf[o] = '\0';
    return buf;
}

/* ---- arena ----------------------------------------------------------------------------------- */

struct vkq__gguf_arena_block {
    vkq__gguf_arena_block *next;
    size_t size, used;
    char data[];
};

char *vkq__gguf_arena_strdup(vkq__gguf_arena *a, const uint8_t *s, uint64_t len) {
    if (len >= SIZE_MAX - sizeof(vkq__gguf_arena_block) - 1) return NULL;
    size_t need = (size_t)len + 1;
    vkq__gguf_arena_block *b = a->head;
    if (!b || b->size - b->used < need) {
        /* Blocks of 64 KiB keep the allocation count low for vocabularies of ~100k strings; a
         * longer string gets a block of its own. */
        size_t block = need > 65536 ? need : 65536;
        b = malloc(sizeof *b + block);
        if (!b) return NULL;
        b->size = block;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    char *p = b->data + b->used;
    if (len) memcpy(p, s, (size_t)len);
    p[len] = '\0';
    b->used += need;
    return p;
}

void vkq__gguf_arena_free(vkq__gguf_arena *a) {
    vkq__gguf_arena_block *b = a->head;
    while (b) {
        vkq__gguf_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

/* ---- sorted name indexes --------------------------------------------------------------------- */

static int compare_refs(const void *pa, const void *pb) {
    const vkq__gguf_name_ref *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    if (c) return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

bool vkq__gguf_sort_names(vkq__gguf_name_ref *refs, uint64_t n, uint64_t *dup_a,
                          uint64_t *dup_b) {
    if (n > 1) qsort(refs, (size_t)n, sizeof *refs, compare_refs);
    for (uint64_t i = 1; i < n; i++) {
        if (strcmp(refs[i - 1].name, refs[i].name) == 0) {
            *dup_a = refs[i - 1].index;
            *dup_b = refs[i].index;
            return true;
        }
    }
    return false;
}

int64_t vkq__gguf_lookup(const vkq__gguf_name_ref *refs, uint64_t n, const char *name) {
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(refs[mid].name, name);
        if (c == 0) return (int64_t)refs[mid].index;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

/* The merge loop both vocabulary kinds share: symbols in a linked list, candidate pairs in a
 * binary heap ordered by priority and then position. Popping a pair whose sides have changed
 * since it was pushed skips it, so each merge costs O(log n) and a word of n bytes O(n log n) —
 * also for pathological inputs like 10 KB without a single space. */
#include "tokenizer/tokenizer.h"

#include <stdlib.h>

void vkq__scratch_free(vkq__scratch *s) {
    free(s->syms);
    free(s->heap);
    free(s->buf);
    *s = (vkq__scratch){0};
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

bool vkq__scratch_reserve(vkq__scratch *s, size_t n_syms, size_t n_buf) {
    return grow((void **)&s->syms, &s->syms_cap, n_syms, sizeof *s->syms) &&
           grow((void **)&s->buf, &s->buf_cap, n_buf, 1);
}

/* Position (the left symbol's index, which is its order in the text) breaks ties, so equal
 * priorities merge leftmost first, as both references do. */
static bool before(const vkq__pair *a, const vkq__pair *b) {
    if (a->priority != b->priority) return a->priority < b->priority;
    return a->left < b->left;
}

static bool heap_push(vkq__scratch *s, vkq__pair p) {
    if (!grow((void **)&s->heap, &s->heap_cap, s->heap_n + 1, sizeof *s->heap)) return false;
    size_t i = s->heap_n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&p, &s->heap[parent])) break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = p;
    return true;
}

static vkq__pair heap_pop(vkq__scratch *s) {
    vkq__pair top = s->heap[0];
    vkq__pair last = s->heap[--s->heap_n];
    size_t i = 0, n = s->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&s->heap[c + 1], &s->heap[c])) c++;
        if (!before(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

static bool try_pair(const vkq__tokenizer *tok, vkq__scratch *s, const uint8_t *text, int32_t l,
                     int32_t r, vkq__pair_fn pair) {
    if (l < 0 || r < 0) return true;
    vkq__pair p;
    if (!pair(tok, text, &s->syms[l], &s->syms[r], &p.priority, &p.result)) return true;
    p.left = (uint32_t)l;
    p.right = (uint32_t)r;
    p.left_len = s->syms[l].len;
    p.right_len = s->syms[r].len;
    return heap_push(s, p);
}

bool vkq__merge_symbols(const vkq__tokenizer *tok, vkq__scratch *s, size_t n, const uint8_t *text,
                        vkq__pair_fn pair) {
    s->heap_n = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (!try_pair(tok, s, text, (int32_t)i, (int32_t)(i + 1), pair)) return false;
    }
    while (s->heap_n > 0) {
        vkq__pair p = heap_pop(s);
        vkq__sym *l = &s->syms[p.left], *r = &s->syms[p.right];
        /* Stale: one side has merged with something else since this pair was found. Symbols
         * only grow to the right, so equal lengths and adjacency mean nothing changed. */
        if (l->len != p.left_len || r->len != p.right_len || l->next != (int32_t)p.right) continue;
        l->len += r->len;
        l->id = p.result;
        l->next = r->next;
        if (r->next >= 0) s->syms[r->next].prev = (int32_t)p.left;
        r->len = 0;
        if (!try_pair(tok, s, text, l->prev, (int32_t)p.left, pair) ||
            !try_pair(tok, s, text, (int32_t)p.left, l->next, pair)) {
            return false;
        }
    }
    return true;
}

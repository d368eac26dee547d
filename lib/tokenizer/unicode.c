/* UTF-8 decoding, encoding and repair, and the character classes of the pre-tokenizers. */
#include "tokenizer/tokenizer.h"

/* Unicode's White_Space property. It is what Oniguruma's \s matches in the HF tokenizers that
 * the tests compare with (U+001C..U+001F, which Python's str.isspace accepts, are not in it). */
static bool is_white_space(uint32_t cp) {
    if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    if (cp < 0x85) return false;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

int vkq__cp_class(uint32_t cp) {
    if (cp < 0x80) {
        /* ASCII decides most of real text; no table search for it. */
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return VKQ__CP_LETTER;
        if (cp >= '0' && cp <= '9') return VKQ__CP_NUMBER;
        return is_white_space(cp) ? VKQ__CP_SPACE : VKQ__CP_OTHER;
    }
    if (is_white_space(cp)) return VKQ__CP_SPACE;
    uint32_t lo = 0, hi = vkq__unicode_range_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const vkq__unicode_range *r = &vkq__unicode_ranges[mid];
        if (cp < r->first) {
            hi = mid;
        } else if (cp > r->last) {
            lo = mid + 1;
        } else {
            return r->cls;
        }
    }
    return VKQ__CP_OTHER;
}

size_t vkq__utf8_seq_len(uint8_t lead) {
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    return 0; /* continuation bytes, overlong leads C0/C1, F5..FF */
}

uint32_t vkq__utf8_decode(const uint8_t *s, size_t n, size_t *len) {
    size_t k = vkq__utf8_seq_len(s[0]);
    if (k == 0 || k > n) { /* not expected on repaired text; keep going byte by byte */
        *len = 1;
        return VKQ__CP_REPLACEMENT;
    }
    *len = k;
    switch (k) {
    case 1:
        return s[0];
    case 2:
        return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    case 3:
        return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    default:
        return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
               ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    }
}

size_t vkq__utf8_encode(uint32_t cp, uint8_t out[4]) {
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* The second byte's range depends on the lead: it is what rules out overlong forms (E0, F0),
 * surrogates (ED) and code points past U+10FFFF (F4). Later bytes are always 80..BF. */
static bool continuation_ok(uint8_t lead, size_t index, uint8_t b) {
    if (index == 1) {
        switch (lead) {
        case 0xE0:
            return b >= 0xA0 && b <= 0xBF;
        case 0xED:
            return b >= 0x80 && b <= 0x9F;
        case 0xF0:
            return b >= 0x90 && b <= 0xBF;
        case 0xF4:
            return b >= 0x80 && b <= 0x8F;
        default:
            break;
        }
    }
    return b >= 0x80 && b <= 0xBF;
}

static size_t put_replacement(uint8_t *out, size_t at) {
    if (out) {
        out[at] = 0xEF;
        out[at + 1] = 0xBF;
        out[at + 2] = 0xBD;
    }
    return 3;
}

size_t vkq__utf8_feed(vkq__utf8_stream *s, const uint8_t *in, size_t n, uint8_t *out) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = in[i];
        if (s->n_held > 0) {
            if (continuation_ok(s->held[0], s->n_held, b)) {
                s->held[s->n_held++] = b;
                if (s->n_held == s->need) {
                    if (out) {
                        for (size_t k = 0; k < s->n_held; k++) out[w + k] = s->held[k];
                    }
                    w += s->n_held;
                    s->n_held = 0;
                }
                continue;
            }
            /* The held bytes are a maximal ill-formed subpart: one U+FFFD for all of them, and
             * b starts afresh (it may well be a valid character of its own). */
            w += put_replacement(out, w);
            s->n_held = 0;
        }
        size_t k = vkq__utf8_seq_len(b);
        if (k == 1) {
            if (out) out[w] = b;
            w++;
        } else if (k == 0) {
            w += put_replacement(out, w);
        } else {
            s->held[0] = b;
            s->n_held = 1;
            s->need = (uint8_t)k;
        }
    }
    return w;
}

size_t vkq__utf8_finish(vkq__utf8_stream *s, uint8_t *out) {
    if (s->n_held == 0) return 0;
    s->n_held = 0;
    return put_replacement(out, 0);
}

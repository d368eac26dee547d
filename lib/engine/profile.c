/* vkq_session_profile: the per-kernel GPU times the session's recordings summed (see
 * vkq__recording_profile_enable), gathered into one list by phase. */
#include "engine/session.h"

#include <stdlib.h>
#include <string.h>

typedef struct phase {
    const char *name;
    vkq__recording *rec;
} phase;

static int by_time(const void *a, const void *b) {
    const vkq_profile_entry *x = a, *y = b;
    return (x->seconds < y->seconds) - (x->seconds > y->seconds);
}

vkq_status vkq_session_profile(vkq_session *s, vkq_profile_entry *entries, uint32_t capacity, uint32_t *count) {
    if (!s || !count || (capacity && !entries)) {
        return vkq__fail(s ? &s->ctx->diag : NULL, VKQ_ERR_INVALID_ARGUMENT, "vkq_session_profile: NULL argument");
    }
    *count = 0;
    if (!s->profile) {
        return vkq__fail(&s->ctx->diag, VKQ_ERR_STATE, "vkq_session_profile: the session was created without desc.profile");
    }
    const phase phases[] = {{"prefill", s->prefill}, {"decode", s->decode}, {"sample", s->sampler}};
    uint32_t total = 0, n[VKQ__ARRAY_LEN(phases)];
    const vkq__profile_total *t[VKQ__ARRAY_LEN(phases)];
    for (size_t p = 0; p < VKQ__ARRAY_LEN(phases); p++) {
        t[p] = vkq__recording_profile(phases[p].rec, &n[p], NULL);
        total += n[p];
    }
    /* Sorted in full, so that a short capacity gets the same first entries. */
    vkq_profile_entry *all = total ? malloc(total * sizeof *all) : NULL;
    if (total && !all) return vkq__fail(&s->ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "vkq_session_profile: no memory");
    for (size_t p = 0, at = 0; p < VKQ__ARRAY_LEN(phases); at += n[p], p++) {
        for (uint32_t i = 0; i < n[p]; i++) {
            all[at + i] = (vkq_profile_entry){phases[p].name, t[p][i].kernel, t[p][i].calls, t[p][i].seconds};
        }
        if (n[p]) qsort(all + at, n[p], sizeof *all, by_time);
    }
    if (total && capacity) memcpy(entries, all, VKQ__MIN(total, capacity) * sizeof *all);
    free(all);
    *count = total;
    if (total > capacity) {
        return vkq__fail(&s->ctx->diag, VKQ_ERR_LIMIT, "vkq_session_profile: %u entries, capacity %u", total, capacity);
    }
    return VKQ_OK;
}

vkq_status vkq_session_profile_clear(vkq_session *s) {
    if (!s) return vkq__fail(NULL, VKQ_ERR_INVALID_ARGUMENT, "vkq_session_profile_clear: session is NULL");
    if (!s->profile) {
        return vkq__fail(&s->ctx->diag, VKQ_ERR_STATE,
                         "vkq_session_profile_clear: the session was created without desc.profile");
    }
    vkq__recording_profile_clear(s->decode);
    vkq__recording_profile_clear(s->prefill);
    vkq__recording_profile_clear(s->sampler);
    return VKQ_OK;
}

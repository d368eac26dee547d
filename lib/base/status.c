/* Status strings and the diagnostic record every handle carries. */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vkq_status_string(vkq_status status) {
    switch (status) {
#define VKQ__STATUS_CASE(name, value, text) \
    case name:                              \
        return text;
        VKQ_STATUS_LIST(VKQ__STATUS_CASE)
#undef VKQ__STATUS_CASE
    }
    return "unknown status";
}

uint32_t vkq_version(void) {
    return VKQ_VERSION_MAJOR * 10000 + VKQ_VERSION_MINOR * 100 + VKQ_VERSION_PATCH;
}

static void emit(vkq__diag *d, vkq_log_level level, const char *message) {
    vkq_log_level limit = d->log_level == VKQ_LOG_DEFAULT ? VKQ_LOG_WARN : d->log_level;
    if (d->log && level <= limit) d->log(level, message, d->log_user_data);
}

vkq_status vkq__failv(vkq__diag *d, vkq_status status, const char *fmt, va_list ap) {
    if (!d) return status;
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    emit(d, VKQ_LOG_ERROR, d->message);
    return status;
}

vkq_status vkq__fail(vkq__diag *d, vkq_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vkq__failv(d, status, fmt, ap);
    va_end(ap);
    return status;
}

vkq_status vkq__wrap(vkq__diag *d, vkq_status status, const char *fmt, ...) {
    if (!d) return status;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Prefix, ": ", then as much of the old message as still fits. */
    size_t np = strlen(prefix), no = strlen(d->message), cap = sizeof d->message - 1;
    if (np + 2 > cap) np = cap - 2;
    if (np + 2 + no > cap) no = cap - np - 2;
    memmove(d->message + np + 2, d->message, no);
    memcpy(d->message, prefix, np);
    memcpy(d->message + np, ": ", 2);
    d->message[np + 2 + no] = '\0';
    return status;
}

void vkq__log(vkq__diag *d, vkq_log_level level, const char *fmt, ...) {
    if (!d || !d->log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    emit(d, level, line);
}

void *vkq__calloc(size_t count, size_t size) {
    if (count == 0 || size == 0) return calloc(1, 1);
    return calloc(count, size);
}

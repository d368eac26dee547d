/* The few documented debugging switches (docs/DEBUGGING.md), read here and nowhere else. */
#include "base.h"

#include <stdlib.h>
#include <string.h>

vkq__env vkq__env_read(void) {
    vkq__env e = {0};
    const char *v = getenv("VKQ_VALIDATE");
    e.validate = v && strcmp(v, "0") != 0 && v[0] != '\0';
    v = getenv("VKQ_FUSE");
    e.fuse = !v ? 1 : !strcmp(v, "0") ? 0 : !strcmp(v, "all") ? 2 : 1;
    v = getenv("VKQ_DOT");
    e.dot = !v || !v[0] ? -1 : !strcmp(v, "0") ? 0 : 1;
    return e;
}

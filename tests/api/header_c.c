/* vkq.h compiles as strict C99 with -pedantic, and its status strings are complete. */
#include "vkq.h"

#include <stdio.h>
#include <string.h>

int main(void) {
    int bad = 0;
#define CHECK_NAME(name, value, text) \
    bad += strcmp(vkq_status_string(name), text) != 0 || (int)(name) != (value);
    VKQ_STATUS_LIST(CHECK_NAME)
#undef CHECK_NAME
    bad += strcmp(vkq_status_string((vkq_status)999), "unknown status") != 0;
    bad += vkq_version() != VKQ_VERSION_MAJOR * 10000 + VKQ_VERSION_MINOR * 100 + VKQ_VERSION_PATCH;
    printf("header_c: %s\n", bad ? "FAILED" : "ok");
    printf("%d passed, %d failed\n", bad ? 0 : 1, bad ? 1 : 0);
    return bad != 0;
}

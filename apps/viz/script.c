#include "script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_one(const char *s, viz_cmd *c, char *err, size_t err_size) {
    char word[32] = "", arg[256] = "";
    int x, y, n;
    memset(c, 0, sizeof *c);
    if (sscanf(s, "%31s%n", word, &n) != 1) return 0; /* empty: skipped */
    const char *rest = s + n;
    if (!strcmp(word, "wait") && sscanf(rest, "%d", &x) == 1 && x >= 0 && x < 1000000) {
        c->kind = VIZ_CMD_WAIT;
        c->a = x;
    } else if ((!strcmp(word, "move") || !strcmp(word, "click")) &&
               sscanf(rest, "%d %d", &x, &y) == 2) {
        c->kind = word[0] == 'm' ? VIZ_CMD_MOVE : VIZ_CMD_CLICK;
        c->a = x;
        c->b = y;
    } else if (!strcmp(word, "resize") && sscanf(rest, "%d %d", &x, &y) == 2 && x > 0 && y > 0 &&
               x <= 16384 && y <= 16384) {
        c->kind = VIZ_CMD_RESIZE;
        c->a = x;
        c->b = y;
    } else if (!strcmp(word, "key") && sscanf(rest, "%255s", arg) == 1) {
        c->kind = VIZ_CMD_KEY;
        if (!strcmp(arg, "tab")) c->a = '\t';
        else if (!strcmp(arg, "escape") || !strcmp(arg, "esc")) c->a = VIZ_KEY_ESCAPE;
        else if (strlen(arg) == 1) c->a = (unsigned char)arg[0];
        else goto bad;
    } else if (!strcmp(word, "screenshot") && sscanf(rest, "%255s", arg) == 1) {
        c->kind = VIZ_CMD_SCREENSHOT;
        snprintf(c->path, sizeof c->path, "%s", arg);
    } else {
        goto bad;
    }
    return 1;
bad:
    snprintf(err, err_size, "script: cannot read \"%s\" (wait N | move X Y | click X Y | key K | "
                            "screenshot FILE | resize W H)", s);
    return -1;
}

int viz_script_parse(const char *text, viz_cmd *cmds, int max, char *err, size_t err_size) {
    int n = 0;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, ';');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char one[300];
        if (len >= sizeof one) {
            snprintf(err, err_size, "script: a command is too long");
            return -1;
        }
        memcpy(one, p, len);
        one[len] = 0;
        viz_cmd c;
        int rc = parse_one(one, &c, err, err_size);
        if (rc < 0) return -1;
        if (rc > 0) {
            if (n == max) {
                snprintf(err, err_size, "script: more than %d commands", max);
                return -1;
            }
            cmds[n++] = c;
        }
        p = e ? e + 1 : p + len;
    }
    return n;
}

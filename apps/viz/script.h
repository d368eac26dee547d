/* Scripted input for tests and demos: "wait 3; move 200 150; click 200 150; key m; key q".
 * wait N: let N frames pass (windowed; nothing headless). move X Y / click X Y: the pointer, in
 * pixels. key K: a key (a letter or digit, "tab", "escape"). screenshot FILE: the next frame
 * as PNG (windowed). resize W H: the window's size (windowed). */
#ifndef VIZ_SCRIPT_H
#define VIZ_SCRIPT_H

#include <stddef.h>

typedef enum viz_cmd_kind {
    VIZ_CMD_WAIT, VIZ_CMD_MOVE, VIZ_CMD_CLICK, VIZ_CMD_KEY, VIZ_CMD_SCREENSHOT, VIZ_CMD_RESIZE
} viz_cmd_kind;

enum { VIZ_KEY_ESCAPE = 27 };

typedef struct viz_cmd {
    viz_cmd_kind kind;
    int a, b;       /* frames; x y; w h; the key's character ('\t', 27 for escape) */
    char path[256];
} viz_cmd;

/* Parses up to max commands; returns the count, or -1 with a message. */
int viz_script_parse(const char *text, viz_cmd *cmds, int max, char *err, size_t err_size);

#endif

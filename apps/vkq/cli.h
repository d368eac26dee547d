/* Shared pieces of the vkq command-line tool: subcommand table, option parsing, output. */
#ifndef VKQ_CLI_H
#define VKQ_CLI_H

#include "vkq.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} cli_command;

/* Each subcommand lives in its own file. */
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int bench_model(int argc, char **argv); /* vkq bench -m MODEL */
int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
/* [more subcommand declarations below this line] */
int cmd_quantize(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_imatrix(int argc, char **argv);

/* True when argv[i] is -h or --help anywhere. */
bool cli_wants_help(int argc, char **argv);
/* Parses an unsigned integer with optional K/M/G suffix (powers of 1024); false if bad. */
bool cli_parse_u64(const char *s, unsigned long long *out);
/* Creates a context (prints the error and returns NULL on failure). device may be NULL. */
vkq_context *cli_context(vkq_device_mode mode, const char *device, bool verbose);
/* Prints "vkq CMD: message" to stderr and returns 1 (or 2 for usage errors). */
int cli_fail(const char *cmd, vkq_context *ctx, vkq_status st, const char *what);
int cli_usage_error(const char *cmd, const char *fmt, ...);

/* The whole file, NUL-terminated, its length in *len; NULL after a message naming cmd on failure. */
char *cli_read_text(const char *cmd, const char *path, size_t *len);
/* Text to tokens (malloc'd into *tokens, count in *n). BOS is added only when the model's file
 * asks for it, as the model was trained; control-token spellings in the text stay plain text. */
vkq_status cli_tokenize(const vkq_tokenizer *tok, const char *text, size_t len, int32_t **tokens, size_t *n);

/* Writes s as a JSON string literal (quotes and escapes). */
void cli_json_string(FILE *f, const char *s);

#endif

/* Model loading with a progress bar, and the token generation loop shared by run and chat. */
#ifndef VKQ_CLI_GENERATE_H
#define VKQ_CLI_GENERATE_H

#include "cli.h"

typedef struct gen_options {
    const char *model;            /* path; NULL: the default model in the cache */
    const char *device;
    uint32_t n_ctx, n_predict;
    vkq_type kv_type;
    vkq_sampler_desc sampler;
    bool verbose;
} gen_options;

typedef struct gen_stats {
    uint32_t prompt_tokens, generated;
    double prompt_seconds, gen_seconds;
} gen_stats;

/* Parses one sampling/model option at argv[*i] (advancing *i past its value). Returns 1 when
 * consumed, 0 when not an option of this set, -1 on a bad value (message printed). */
int gen_parse_option(const char *cmd, int argc, char **argv, int *i, gen_options *o);
/* Help text for the options gen_parse_option knows. */
extern const char *gen_options_help;
void gen_defaults(gen_options *o);

/* Loads the model (progress bar on stderr) and makes a session. */
int gen_open(const char *cmd, const gen_options *o, vkq_context **ctx, vkq_model **model, vkq_session **session);
void gen_close(vkq_context *ctx, vkq_model *model, vkq_session *session);

/* Evaluates `prompt` (n tokens), then samples and streams up to n_predict tokens to stdout,
 * stopping at an end-of-generation token. history/n_history: every token the session holds, in
 * order (what the repetition penalty sees); grown with the prompt and the output (capacity in
 * *cap). Returns a vkq_status. */
vkq_status gen_run(vkq_context *ctx, vkq_model *model, vkq_session *s, const gen_options *o, const int32_t *prompt,
                   uint32_t n, int32_t **history, uint32_t *n_history, uint32_t *cap, gen_stats *stats);

double gen_now(void);

#endif

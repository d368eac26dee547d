/* vkq bench -m MODEL: prompt and generation speed of a model, and how close generation comes to
 * the device's measured memory bandwidth. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct bench_args {
    const char *model, *device;
    unsigned long long p, n, repeats;
    vkq_type kv;
    bool json, profile;
} bench_args;

static int parse(int argc, char **argv, bench_args *a) {
    *a = (bench_args){.p = 512, .n = 128, .repeats = 3, .kv = VKQ_TYPE_F16};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool v = i + 1 < argc;
        if (!strcmp(o, "--json")) a->json = true;
        else if (!strcmp(o, "--profile")) a->profile = true;
        else if ((!strcmp(o, "-m") || !strcmp(o, "--model")) && v) a->model = argv[++i];
        else if (!strcmp(o, "--device") && v) a->device = argv[++i];
        else if (!strcmp(o, "-p") && v) { if (!cli_parse_u64(argv[++i], &a->p) || a->p > 65536) return cli_usage_error("bench", "bad -p"); }
        else if (!strcmp(o, "-n") && v) { if (!cli_parse_u64(argv[++i], &a->n) || a->n > 65536) return cli_usage_error("bench", "bad -n"); }
        else if (!strcmp(o, "--repeats") && v) { if (!cli_parse_u64(argv[++i], &a->repeats) || !a->repeats || a->repeats > 1000) return cli_usage_error("bench", "bad --repeats"); }
        else if (!strcmp(o, "--kv-type") && v) {
            a->kv = vkq_type_from_name(argv[++i]);
            if (a->kv != VKQ_TYPE_F16 && a->kv != VKQ_TYPE_Q8_0 && a->kv != VKQ_TYPE_Q4_0) return cli_usage_error("bench", "bad --kv-type");
        } else return cli_usage_error("bench", "unknown or incomplete option '%s'", o);
    }
    if (!a->model) return cli_usage_error("bench", "-m MODEL is required");
    return 0;
}

/* n + 1 pseudo-random token ids, the same every run. */
static int32_t *random_tokens(uint64_t n, uint32_t n_vocab) {
    int32_t *tokens = malloc((n + 1) * sizeof *tokens);
    if (!tokens) return NULL;
    uint64_t x = 88172645463325252ull;
    for (uint64_t i = 0; i < n + 1; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        tokens[i] = (int32_t)(x % n_vocab);
    }
    return tokens;
}

/* One run from an empty cache: the p-token prompt, then n single-token decode steps; t[0..2]:
 * the clock before the prompt, after it and after the decode steps. */
static vkq_status run_once(vkq_session *s, const bench_args *a, const int32_t *tokens, double t[3]) {
    vkq_status st = VKQ_OK;
    vkq_session_reset(s);
    t[0] = now();
    if (a->p) st = vkq_session_eval(s, tokens, (uint32_t)a->p, NULL);
    t[1] = now();
    for (uint64_t i = 0; !st && i < a->n; i++) st = vkq_session_eval(s, &tokens[a->p + i], 1, NULL);
    t[2] = now();
    return st;
}

/* Times `repeats` runs of a p-token prompt and of n single-token decode steps after it. */
static vkq_status measure(vkq_session *s, const bench_args *a, uint32_t n_vocab, double *pp, double *tg) {
    int32_t *tokens = random_tokens(a->p + a->n, n_vocab);
    if (!tokens) return VKQ_ERR_OUT_OF_HOST_MEMORY;
    vkq_status st = VKQ_OK;
    /* Run 0 is the warm-up (pipeline creation, first touches of memory), not counted. */
    for (uint64_t r = 0; !st && r <= a->repeats; r++) {
        double t[3];
        st = run_once(s, a, tokens, t);
        if (!st && r > 0) pp[r - 1] = a->p / (t[1] - t[0]), tg[r - 1] = a->n / (t[2] - t[1]);
    }
    free(tokens);
    return st;
}

/* One more run (prompt, then n decode steps) in a session that times every dispatch, after a
 * warm-up run; printed per phase and kernel. Separate from the timed runs, which carry no
 * timestamps. */
static vkq_status profile_run(vkq_model *model, const bench_args *a, uint32_t n_vocab) {
    vkq_session_desc sd = {.n_ctx = (uint32_t)(a->p + a->n + 1), .kv_type = a->kv, .profile = 1};
    vkq_session *s = NULL;
    vkq_profile_entry *e = NULL;
    uint32_t count = 0;
    int32_t *tokens = random_tokens(a->p + a->n, n_vocab);
    double t[3] = {0};
    vkq_status st = tokens ? vkq_session_create(model, &sd, &s) : VKQ_ERR_OUT_OF_HOST_MEMORY;
    /* The first run warms up (pipeline creation) and is dropped from the profile. */
    if (!st) st = run_once(s, a, tokens, t);
    if (!st) st = vkq_session_profile_clear(s);
    if (!st) st = run_once(s, a, tokens, t);
    free(tokens);
    if (!st && (st = vkq_session_profile(s, NULL, 0, &count)) == VKQ_ERR_LIMIT) {
        e = malloc(count * sizeof *e);
        st = e ? vkq_session_profile(s, e, count, &count) : VKQ_ERR_OUT_OF_HOST_MEMORY;
    }
    if (!st && a->json) {
        printf("{\"profile\": [");
        for (uint32_t i = 0; i < count; i++) {
            printf("%s{\"phase\": \"%s\", \"kernel\": \"%s\", \"calls\": %llu, \"seconds\": %.9f}", i ? ", " : "",
                   e[i].phase, e[i].kernel, (unsigned long long)e[i].calls, e[i].seconds);
        }
        printf("]}\n");
    } else if (!st) {
        const char *phases[] = {"prefill", "decode", "sample"};
        for (size_t p = 0; p < 3; p++) {
            double sum = 0;
            uint64_t calls = 0;
            for (uint32_t i = 0; i < count; i++) {
                if (!strcmp(e[i].phase, phases[p])) sum += e[i].seconds, calls += e[i].calls;
            }
            if (!calls) continue;
            bool dec = p == 1;
            double steps = dec ? (double)a->n : 1.0, wall = dec ? t[2] - t[1] : t[1] - t[0];
            printf("\n%s: %.2f ms of GPU time %s (%.0f dispatches), %.2f ms wall\n", phases[p], 1e3 * sum / steps,
                   dec ? "per token" : "for the prompt", calls / steps, 1e3 * wall / steps);
            printf("  %-28s %10s %12s %10s %7s\n", "kernel", "calls", "ms", "us/call", "share");
            for (uint32_t i = 0; i < count; i++) {
                if (strcmp(e[i].phase, phases[p])) continue;
                printf("  %-28s %10.1f %12.3f %10.1f %6.1f%%\n", e[i].kernel, e[i].calls / steps,
                       1e3 * e[i].seconds / steps, 1e6 * e[i].seconds / (double)e[i].calls, 100 * e[i].seconds / sum);
            }
        }
    }
    free(e);
    vkq_session_destroy(s);
    return st;
}

int bench_model(int argc, char **argv) {
    bench_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc;
    vkq_context *ctx = cli_context(VKQ_DEVICE_MODE_DEFAULT, a.device, false);
    if (!ctx) return 1;
    vkq_model *model = NULL;
    vkq_session *s = NULL;
    vkq_model_desc md = {.path = a.model};
    vkq_status st = vkq_model_load(ctx, &md, &model);
    vkq_model_info info;
    if (!st) st = vkq_model_info_get(model, &info);
    vkq_session_desc sd = {.n_ctx = (uint32_t)(a.p + a.n + 1), .kv_type = a.kv};
    if (!st) st = vkq_session_create(model, &sd, &s);
    double *pp = calloc(a.repeats, sizeof *pp), *tg = calloc(a.repeats, sizeof *tg);
    if (!st) st = pp && tg ? measure(s, &a, info.n_vocab, pp, tg) : VKQ_ERR_OUT_OF_HOST_MEMORY;
    vkq_bandwidth_result bw = {0};
    if (!st) st = vkq_context_measure_bandwidth(ctx, 0, 5, &bw);
    if (st) {
        rc = cli_fail("bench", ctx, st, "model benchmark");
    } else {
        qsort(pp, a.repeats, sizeof *pp, cmp), qsort(tg, a.repeats, sizeof *tg, cmp);
        double pp_med = pp[a.repeats / 2], tg_med = tg[a.repeats / 2];
        /* Bytes a decode step must read: every weight once (the embedding table only when it is
         * also the output projection), plus on average half the KV cache of the run. */
        uint64_t bytes = info.weight_bytes;
        double kv_bytes_per_pos = 2.0 * info.n_layer * info.n_head_kv * info.head_dim *
                                  (a.kv == VKQ_TYPE_F16 ? 2.0 : a.kv == VKQ_TYPE_Q8_0 ? 34.0 / 32 : 18.0 / 32);
        double per_token = (double)bytes + kv_bytes_per_pos * (a.p + a.n / 2.0);
        double eff = per_token * tg_med * 1e-9;
        vkq_device_info dev;
        vkq_context_device_info(ctx, (uint32_t)vkq_context_device_index(ctx), &dev);
        if (a.json) {
            printf("{\"device\": ");
            cli_json_string(stdout, dev.name);
            printf(", \"model\": ");
            cli_json_string(stdout, a.model);
            printf(", \"weight_bytes\": %llu, \"kv_type\": \"%s\", \"prompt_tokens\": %llu, \"prompt_tps\": %.2f, "
                   "\"gen_tokens\": %llu, \"gen_tps\": %.2f, \"gen_gbps\": %.2f, \"copy_gbps\": %.2f, "
                   "\"bandwidth_fraction\": %.3f, \"repeats\": %llu}\n",
                   (unsigned long long)bytes, vkq_type_name(a.kv), a.p, pp_med, a.n, tg_med, eff, bw.gbps_median,
                   eff / bw.gbps_median, a.repeats);
        } else {
            printf("device: %s\nmodel: %s (%.1f MiB of weights, %s)\n", dev.name, a.model, bytes / 1048576.0,
                   vkq_type_name(info.dominant_type));
            printf("prompt     %5llu tokens: %8.1f tokens/s\n", a.p, pp_med);
            printf("generation %5llu tokens: %8.1f tokens/s, %.1f GB/s read = %.0f%% of the measured copy bandwidth (%.1f GB/s)\n",
                   a.n, tg_med, eff, 100 * eff / bw.gbps_median, bw.gbps_median);
            printf("(median of %llu runs after a warm-up; KV cache %s)\n", a.repeats, vkq_type_name(a.kv));
        }
    }
    if (!rc && a.profile) {
        vkq_session_destroy(s);
        s = NULL;
        if ((st = profile_run(model, &a, info.n_vocab))) rc = cli_fail("bench", ctx, st, "profile run");
    }
    free(pp), free(tg);
    vkq_session_destroy(s);
    vkq_model_destroy(model);
    vkq_context_destroy(ctx);
    return rc;
}

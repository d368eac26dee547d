/* vkq bench: measurements of the device (bandwidth now; kernels and models as they land). */
#include "cli.h"

#include <string.h>

int bench_kernels(int argc, char **argv); /* bench_kernels.c */

static const char *help =
    "usage: vkq bench bandwidth [--device D] [--bytes N] [--repeats R] [--json]\n"
    "       vkq bench kernels [--format F] [--m M --k K] [--n N] [--quick] [--json] ...\n"
    "       vkq bench -m MODEL [-p 512] [-n 128] [--kv-type f16|q8_0|q4_0] [--repeats R] [--profile] [--json]\n\n"
    "-m MODEL    prompt (-p tokens) and generation (-n tokens) speed in tokens/s, median of R\n"
    "            runs (default 3) after a warm-up; for generation also the bytes read per token\n"
    "            x tokens/s, as a fraction of the measured copy bandwidth.\n"
    "  --profile    afterwards one more run with every dispatch timed on the GPU: time per\n"
    "               kernel for the prompt and per decoded token (with --json: a second line,\n"
    "               {\"profile\": [{phase, kernel, calls, seconds}, ...]})\n"
    "bandwidth   read+write memory bandwidth of the device, measured with vkq's copy kernel\n"
    "            and GPU timestamps: (bytes read + bytes written) / time, median of R runs\n"
    "            after a warm-up. This is the speed limit of decoding.\n\n"
    "  --device D   device index or name substring (default: the best device)\n"
    "  --bytes N    buffer size, K/M/G suffixes allowed (default 256M, capped by the device)\n"
    "  --repeats R  timed runs (default 10)\n"
    "  --json       machine-readable output\n\n"
    "kernels     matvec GB/s and matmul GFLOP/s of every weight format (see its --help)\n";

static int bench_bandwidth(int argc, char **argv) {
    const char *device = NULL;
    unsigned long long bytes = 0, repeats = 10;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--device") && has_value) device = argv[++i];
        else if (!strcmp(a, "--bytes") && has_value) {
            if (!cli_parse_u64(argv[++i], &bytes)) return cli_usage_error("bench", "bad --bytes '%s'", argv[i]);
        } else if (!strcmp(a, "--repeats") && has_value) {
            if (!cli_parse_u64(argv[++i], &repeats) || repeats == 0 || repeats > 100000) {
                return cli_usage_error("bench", "bad --repeats '%s'", argv[i]);
            }
        } else return cli_usage_error("bench", "unknown or incomplete option '%s'", a);
    }
    vkq_context *ctx = cli_context(VKQ_DEVICE_MODE_DEFAULT, device, false);
    if (!ctx) return 1;
    vkq_device_info info;
    vkq_context_device_info(ctx, (uint32_t)vkq_context_device_index(ctx), &info);
    vkq_bandwidth_result r;
    vkq_status st = vkq_context_measure_bandwidth(ctx, bytes, (uint32_t)repeats, &r);
    if (st) {
        int rc = cli_fail("bench", ctx, st, "bandwidth measurement");
        vkq_context_destroy(ctx);
        return rc;
    }
    if (json) {
        printf("{\"device\": ");
        cli_json_string(stdout, info.name);
        printf(", \"bytes\": %llu, \"repeats\": %u, \"gbps_median\": %.3f, \"gbps_min\": %.3f, "
               "\"gbps_max\": %.3f}\n", (unsigned long long)r.bytes, r.repeats, r.gbps_median,
               r.gbps_min, r.gbps_max);
    } else {
        printf("device: %s\n", info.name);
        printf("copy of %.1f MiB, %u runs: %.2f GB/s read+write (median; min %.2f, max %.2f)\n",
               r.bytes / 1048576.0, r.repeats, r.gbps_median, r.gbps_min, r.gbps_max);
    }
    vkq_context_destroy(ctx);
    return 0;
}

int cmd_bench(int argc, char **argv) {
    /* Before the help check: `vkq bench kernels --help` prints the kernels' own options. */
    if (argc >= 2 && !strcmp(argv[1], "kernels")) return bench_kernels(argc - 1, argv + 1);
    if (argc < 2 || (cli_wants_help(argc, argv))) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "bandwidth")) return bench_bandwidth(argc - 1, argv + 1);
    if (!strcmp(argv[1], "-m") || !strcmp(argv[1], "--model")) return bench_model(argc, argv);
    return cli_usage_error("bench", "unknown benchmark '%s'", argv[1]);
}

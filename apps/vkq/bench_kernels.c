/* vkq bench kernels: matvec GB/s (weight bytes read per second, and its fraction of the measured
 * copy bandwidth) and matmul GFLOP/s for every weight format on the shapes of a 7B-class model
 * and of the test model. Public API only (vkq_context_bench_kernel). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int bench_kernels(int argc, char **argv);

typedef struct shape {
    uint32_t m, k;
} shape;

/* attn (4096 x 4096), ffn up/gate (11008 x 4096) and ffn down (4096 x 11008) of a 7B llama;
 * then the same three of the 135M test model (n_embd 576, n_ff 1536). */
static const shape default_shapes[] = {{4096, 4096}, {11008, 4096}, {4096, 11008},
                                       {576, 576},   {1536, 576},   {576, 1536}};
/* --quick: one 7B-class matrix and the test model. */
static const shape quick_shapes[] = {{4096, 4096}, {576, 576}, {1536, 576}, {576, 1536}};

static const vkq_type all_formats[] = {
    VKQ_TYPE_F32,  VKQ_TYPE_F16,  VKQ_TYPE_BF16, VKQ_TYPE_Q4_0,   VKQ_TYPE_Q4_1,
    VKQ_TYPE_Q5_0, VKQ_TYPE_Q5_1, VKQ_TYPE_Q8_0, VKQ_TYPE_Q2_K,   VKQ_TYPE_Q3_K,
    VKQ_TYPE_Q4_K, VKQ_TYPE_Q5_K, VKQ_TYPE_Q6_K, VKQ_TYPE_IQ4_NL, VKQ_TYPE_IQ4_XS,
};

static const char *help =
    "usage: vkq bench kernels [--format F[,F...]] [--m M --k K] [--n N] [--n-matmul N]\n"
    "                         [--kernel matvec|matmul|get_rows|matvec_dot|both] [--repeats R]\n"
    "                         [--quick] [--json] [--device D] [--wg W] [--rows R] [--tile-m T]\n"
    "                         [--tile-n T] [--no-subgroup] [--layout shared|lane]\n\n"
    "Times the weight-product kernels with GPU timestamps on random data (median of R runs after\n"
    "a warm-up). matvec: weight bytes read per second and their fraction of the copy bandwidth\n"
    "(vkq bench bandwidth), the decode speed limit. matmul: GFLOP/s (2 m k n per run).\n\n"
    "  --format F     formats, comma-separated (default: all)\n"
    "  --m M --k K    one shape: W of M rows of K elements (default: 7B-class 4096x4096,\n"
    "                 11008x4096, 4096x11008 and test-model 576x576, 1536x576, 576x1536)\n"
    "  --n N          matvec vectors (default 1)\n"
    "  --n-matmul N   matmul vectors (default 512; 64 with --quick)\n"
    "  --kernel K     what to time (default both: matvec and matmul). matvec_dot: the integer-dot\n"
    "                 matvec (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0; devices with shaderIntegerDotProduct),\n"
    "                 timed together with the quantization of X to 8 bits that it needs\n"
    "  --repeats R    timed runs (default 10; 3 with --quick)\n"
    "  --quick        fewer shapes (4096x4096 and the test model), repeats and vectors\n"
    "  --json         machine-readable output\n"
    "  --device D     device index or name substring\n"
    "  --wg, --rows, --tile-m, --tile-n, --no-subgroup, --layout   tuning overrides (see\n"
    "                 vkq_kernel_bench_desc in vkq.h)\n";

typedef struct options {
    const char *device, *formats;
    unsigned long long m, k, n, n_mm, repeats, wg, rows, tile_m, tile_n;
    bool json, quick, no_subgroup, do_matvec, do_matmul, do_get_rows, do_dot;
    int layout;
} options;

static bool parse_u32(const char *s, unsigned long long *out) {
    return cli_parse_u64(s, out) && *out > 0 && *out <= 0xffffffffull;
}

static int parse_kernel(options *o, const char *v) {
    o->do_matvec = !strcmp(v, "matvec") || !strcmp(v, "both");
    o->do_matmul = !strcmp(v, "matmul") || !strcmp(v, "both");
    o->do_get_rows = !strcmp(v, "get_rows");
    o->do_dot = !strcmp(v, "matvec_dot");
    if (o->do_matvec || o->do_matmul || o->do_get_rows || o->do_dot) return 0;
    return cli_usage_error("bench", "bad --kernel '%s'", v);
}

static int parse(int argc, char **argv, options *o) {
    static const struct { const char *name; size_t field; } nums[] = {
        {"--m", offsetof(options, m)}, {"--k", offsetof(options, k)}, {"--n", offsetof(options, n)},
        {"--n-matmul", offsetof(options, n_mm)}, {"--repeats", offsetof(options, repeats)},
        {"--wg", offsetof(options, wg)}, {"--rows", offsetof(options, rows)},
        {"--tile-m", offsetof(options, tile_m)}, {"--tile-n", offsetof(options, tile_n)},
    };
    memset(o, 0, sizeof *o);
    o->do_matvec = o->do_matmul = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc, done = false;
        for (size_t j = 0; j < sizeof nums / sizeof nums[0] && !done; j++) {
            if (strcmp(a, nums[j].name)) continue;
            unsigned long long *field = (unsigned long long *)((char *)o + nums[j].field);
            if (!has_value || !parse_u32(argv[++i], field)) return cli_usage_error("bench", "bad %s", a);
            done = true;
        }
        if (done) continue;
        if (!strcmp(a, "--json")) o->json = true;
        else if (!strcmp(a, "--quick")) o->quick = true;
        else if (!strcmp(a, "--no-subgroup")) o->no_subgroup = true;
        else if (!strcmp(a, "--device") && has_value) o->device = argv[++i];
        else if (!strcmp(a, "--format") && has_value) o->formats = argv[++i];
        else if (!strcmp(a, "--layout") && has_value) {
            const char *v = argv[++i];
            o->layout = !strcmp(v, "shared") ? 1 : !strcmp(v, "lane") ? 2 : -1;
            if (o->layout < 0) return cli_usage_error("bench", "bad --layout '%s'", v);
        }
        else if (!strcmp(a, "--kernel") && has_value) {
            int rc = parse_kernel(o, argv[++i]);
            if (rc) return rc;
        } else return cli_usage_error("bench", "unknown or incomplete option '%s'", a);
    }
    if (!o->m != !o->k) return cli_usage_error("bench", "--m and --k go together");
    if (!o->n) o->n = 1;
    if (!o->n_mm) o->n_mm = o->quick ? 64 : 512;
    if (!o->repeats) o->repeats = o->quick ? 3 : 10;
    return 0;
}

/* Formats from --format (comma-separated names) or all; returns the count, 0 on a bad name. */
static size_t pick_formats(const char *list, vkq_type *out) {
    if (!list) {
        memcpy(out, all_formats, sizeof all_formats);
        return sizeof all_formats / sizeof all_formats[0];
    }
    size_t n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        vkq_type t = vkq_type_from_name(tok);
        if (t == VKQ_TYPE_NONE || n == 64) return 0;
        out[n++] = t;
    }
    return n;
}

typedef struct row_out {
    bool first;
    double copy_gbps;
} row_out;

static void print_result(const options *o, row_out *ro, vkq_type t, shape s, const char *kernel, uint32_t n,
                         vkq_status st, vkq_context *ctx, const vkq_kernel_bench_result *r) {
    bool mm = !strcmp(kernel, "matmul");
    double frac = ro->copy_gbps > 0 ? r->gbps / ro->copy_gbps : 0;
    if (o->json) {
        printf("%s\n    {\"format\": \"%s\", \"m\": %u, \"k\": %u, \"kernel\": \"%s\", \"n\": %u, ",
               ro->first ? "" : ",", vkq_type_name(t), s.m, s.k, kernel, n);
        ro->first = false;
        if (st) {
            printf("\"error\": ");
            cli_json_string(stdout, vkq_context_last_error(ctx));
            printf("}");
            return;
        }
        printf("\"seconds\": %.9f, \"gbps\": %.3f, \"copy_fraction\": %.4f, \"gflops\": %.3f, \"variant\": ",
               r->seconds_median, r->gbps, frac, r->gflops);
        cli_json_string(stdout, r->variant);
        printf("}");
        return;
    }
    printf("%-7s %5u x %-5u %-8s n %-4u ", vkq_type_name(t), s.m, s.k, kernel, n);
    if (st) {
        printf("n/a: %s\n", vkq_context_last_error(ctx));
    } else if (!strcmp(kernel, "get_rows")) {
        printf("%9.3f ms  %8.2f GB/s of rows read                %s\n", r->seconds_median * 1e3, r->gbps, r->variant);
    } else if (mm) {
        printf("%9.3f ms                                 %8.2f GFLOP/s  %s\n", r->seconds_median * 1e3, r->gflops,
               r->variant);
    } else {
        printf("%9.3f ms  %8.2f GB/s  %5.1f %% of copy  %8.2f GFLOP/s  %s\n", r->seconds_median * 1e3, r->gbps,
               100 * frac, r->gflops, r->variant);
    }
}

static void run_one(vkq_context *ctx, const options *o, row_out *ro, vkq_type t, shape s, vkq_kernel kernel) {
    vkq_kernel_bench_desc d = {
        .kernel = kernel, .type = t, .m = s.m, .k = s.k,
        .n = (uint32_t)(kernel == VKQ_KERNEL_MATMUL ? o->n_mm : o->n), .repeats = (uint32_t)o->repeats,
        .workgroup_size = (uint32_t)o->wg, .rows_per_workgroup = (uint32_t)o->rows,
        .tile_m = (uint32_t)o->tile_m, .tile_n = (uint32_t)o->tile_n, .no_subgroup = o->no_subgroup,
        .matvec_layout = o->layout,
    };
    vkq_kernel_bench_result r;
    vkq_status st = vkq_context_bench_kernel(ctx, &d, &r);
    const char *name = kernel == VKQ_KERNEL_MATVEC       ? "matvec"
                       : kernel == VKQ_KERNEL_MATMUL     ? "matmul"
                       : kernel == VKQ_KERNEL_MATVEC_DOT ? "matvec_dot"
                                                         : "get_rows";
    print_result(o, ro, t, s, name, d.n, st, ctx, &r);
    fflush(stdout);
}

int bench_kernels(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        fputs(help, stdout);
        return 0;
    }
    options o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc;
    vkq_type formats[64];
    size_t n_formats = pick_formats(o.formats, formats);
    if (!n_formats) return cli_usage_error("bench", "bad --format '%s'", o.formats);
    shape one = {(uint32_t)o.m, (uint32_t)o.k};
    const shape *shapes = o.m ? &one : o.quick ? quick_shapes : default_shapes;
    size_t n_shapes = o.m ? 1 : o.quick ? sizeof quick_shapes / sizeof quick_shapes[0]
                                        : sizeof default_shapes / sizeof default_shapes[0];
    vkq_context *ctx = cli_context(VKQ_DEVICE_MODE_DEFAULT, o.device, false);
    if (!ctx) return 1;
    vkq_device_info info;
    vkq_context_device_info(ctx, (uint32_t)vkq_context_device_index(ctx), &info);
    vkq_bandwidth_result bw;
    vkq_status st = vkq_context_measure_bandwidth(ctx, o.quick ? 64ull << 20 : 0, o.quick ? 5 : 10, &bw);
    if (st) {
        rc = cli_fail("bench", ctx, st, "bandwidth measurement");
        vkq_context_destroy(ctx);
        return rc;
    }
    row_out ro = {.first = true, .copy_gbps = bw.gbps_median};
    if (o.json) {
        printf("{\"device\": ");
        cli_json_string(stdout, info.name);
        printf(", \"copy_gbps\": %.3f, \"repeats\": %llu, \"results\": [", bw.gbps_median, o.repeats);
    } else {
        printf("device: %s; copy bandwidth %.2f GB/s (read+write, median)\n", info.name, bw.gbps_median);
        printf("median of %llu runs; matvec GB/s counts the weight bytes read\n", o.repeats);
    }
    for (size_t f = 0; f < n_formats; f++) {
        for (size_t s = 0; s < n_shapes; s++) {
            if (o.do_matvec) run_one(ctx, &o, &ro, formats[f], shapes[s], VKQ_KERNEL_MATVEC);
            if (o.do_matmul) run_one(ctx, &o, &ro, formats[f], shapes[s], VKQ_KERNEL_MATMUL);
            if (o.do_get_rows) run_one(ctx, &o, &ro, formats[f], shapes[s], VKQ_KERNEL_GET_ROWS);
            if (o.do_dot) run_one(ctx, &o, &ro, formats[f], shapes[s], VKQ_KERNEL_MATVEC_DOT);
        }
    }
    if (o.json) printf("\n]}\n");
    vkq_context_destroy(ctx);
    return 0;
}

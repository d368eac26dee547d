/* vkq info: every Vulkan device and what vkq knows of it, as text or JSON. */
#include "cli.h"

#include <string.h>

static const char *help =
    "usage: vkq info [--json]\n\n"
    "Lists every Vulkan device the loader sees with the capabilities vkq uses (subgroups,\n"
    "shared memory, buffer and allocation limits, memory heaps, float16/int8, 8/16-bit storage,\n"
    "integer dot product, cooperative matrices, timestamps), and marks the device vkq would\n"
    "choose by default.\n\n"
    "  --json   machine-readable output\n";

static const char *type_name(vkq_device_type t) {
    static const char *names[] = {"other", "discrete", "integrated", "virtual", "cpu"};
    return (unsigned)t < 5 ? names[t] : "other";
}

static void subgroup_ops_text(uint32_t ops, char *buf, size_t size) {
    static const char *names[] = {"basic", "vote", "arithmetic", "ballot", "shuffle",
                                  "shuffle_relative", "clustered", "quad"};
    buf[0] = '\0';
    for (int i = 0; i < 8; i++) {
        if (!(ops & (1u << i))) continue;
        if (buf[0]) strncat(buf, ",", size - strlen(buf) - 1);
        strncat(buf, names[i], size - strlen(buf) - 1);
    }
}

static void print_text(const vkq_device_info *d, uint32_t index, bool chosen) {
    char ops[128];
    subgroup_ops_text(d->subgroup_ops, ops, sizeof ops);
    printf("device %u%s: %s\n", index, chosen ? " (default)" : "", d->name);
    printf("  type %s, vendor 0x%04x, device 0x%04x, Vulkan %u.%u.%u\n", type_name(d->type),
           d->vendor_id, d->device_id, d->api_version >> 22, (d->api_version >> 12) & 0x3ff,
           d->api_version & 0xfff);
    printf("  driver %s (%s)\n", d->driver_name[0] ? d->driver_name : "?", d->driver_info);
    printf("  subgroup size %u (range %u..%u, control %s), ops %s\n", d->subgroup_size,
           d->subgroup_size_min, d->subgroup_size_max, d->subgroup_size_control ? "yes" : "no", ops);
    printf("  shared memory %u B, workgroup invocations %u, workgroup count %u x %u x %u\n",
           d->max_shared_memory, d->max_workgroup_invocations, d->max_workgroup_count[0],
           d->max_workgroup_count[1], d->max_workgroup_count[2]);
    printf("  max storage buffer range %llu B (%.0f MiB), max allocation %llu B (%.0f MiB), "
           "allocations %u, offset alignment %u, push constants %u B\n",
           (unsigned long long)d->max_storage_buffer_range, d->max_storage_buffer_range / 1048576.0,
           (unsigned long long)d->max_allocation_size, d->max_allocation_size / 1048576.0,
           d->max_allocation_count, d->min_storage_buffer_offset_alignment, d->max_push_constants);
    for (uint32_t h = 0; h < d->heap_count; h++) {
        printf("  heap %u: %.2f GiB%s%s\n", h, d->heaps[h].size / 1073741824.0,
               d->heaps[h].device_local ? ", device-local" : "",
               d->heaps[h].host_visible ? ", host-visible" : "");
    }
    printf("  float16 %s, int8 %s, 16-bit storage %s, 8-bit storage %s\n",
           d->float16_arithmetic ? "yes" : "no", d->int8_arithmetic ? "yes" : "no",
           d->storage_16bit ? "yes" : "no", d->storage_8bit ? "yes" : "no");
    printf("  integer dot product %s%s, cooperative matrix %s", d->integer_dot_product ? "yes" : "no",
           d->integer_dot_4x8_packed_accelerated ? " (4x8 accelerated)" : "",
           d->cooperative_matrix ? "yes" : "no");
    for (uint32_t i = 0; i < d->coopmat_shape_count; i++) {
        const vkq_coopmat_shape *s = &d->coopmat_shapes[i];
        printf("%s%ux%ux%u", i ? ", " : " (", s->m, s->n, s->k);
        if (i + 1 == d->coopmat_shape_count) printf(")");
    }
    printf("\n  timestamps %s, period %.3f ns\n", d->timestamps ? "yes" : "no", d->timestamp_period_ns);
}

static void print_json(const vkq_device_info *d, uint32_t index, bool chosen, bool last) {
    printf("    {\"index\": %u, \"default\": %s, \"name\": ", index, chosen ? "true" : "false");
    cli_json_string(stdout, d->name);
    printf(", \"type\": \"%s\", \"vendor_id\": %u, \"device_id\": %u,\n", type_name(d->type),
           d->vendor_id, d->device_id);
    printf("     \"api_version\": \"%u.%u.%u\", \"driver_name\": ", d->api_version >> 22,
           (d->api_version >> 12) & 0x3ff, d->api_version & 0xfff);
    cli_json_string(stdout, d->driver_name);
    printf(", \"driver_info\": ");
    cli_json_string(stdout, d->driver_info);
    printf(",\n     \"subgroup_size\": %u, \"subgroup_size_min\": %u, \"subgroup_size_max\": %u, "
           "\"subgroup_size_control\": %s, \"subgroup_ops\": %u,\n",
           d->subgroup_size, d->subgroup_size_min, d->subgroup_size_max,
           d->subgroup_size_control ? "true" : "false", d->subgroup_ops);
    printf("     \"max_shared_memory\": %u, \"max_workgroup_invocations\": %u, "
           "\"max_workgroup_count\": [%u, %u, %u],\n", d->max_shared_memory,
           d->max_workgroup_invocations, d->max_workgroup_count[0], d->max_workgroup_count[1],
           d->max_workgroup_count[2]);
    printf("     \"max_storage_buffer_range\": %llu, \"max_allocation_size\": %llu, "
           "\"max_allocation_count\": %u, \"min_storage_buffer_offset_alignment\": %u, "
           "\"max_push_constants\": %u,\n", (unsigned long long)d->max_storage_buffer_range,
           (unsigned long long)d->max_allocation_size, d->max_allocation_count,
           d->min_storage_buffer_offset_alignment, d->max_push_constants);
    printf("     \"heaps\": [");
    for (uint32_t h = 0; h < d->heap_count; h++) {
        printf("%s{\"size\": %llu, \"device_local\": %s, \"host_visible\": %s}", h ? ", " : "",
               (unsigned long long)d->heaps[h].size, d->heaps[h].device_local ? "true" : "false",
               d->heaps[h].host_visible ? "true" : "false");
    }
    printf("], \"device_local_host_visible\": %s,\n", d->device_local_host_visible ? "true" : "false");
    printf("     \"float16\": %s, \"int8\": %s, \"storage_16bit\": %s, \"storage_8bit\": %s, "
           "\"integer_dot_product\": %s, \"integer_dot_4x8_packed_accelerated\": %s,\n",
           d->float16_arithmetic ? "true" : "false", d->int8_arithmetic ? "true" : "false",
           d->storage_16bit ? "true" : "false", d->storage_8bit ? "true" : "false",
           d->integer_dot_product ? "true" : "false",
           d->integer_dot_4x8_packed_accelerated ? "true" : "false");
    printf("     \"cooperative_matrix\": %s, \"cooperative_matrix_shapes\": [",
           d->cooperative_matrix ? "true" : "false");
    for (uint32_t i = 0; i < d->coopmat_shape_count; i++) {
        const vkq_coopmat_shape *s = &d->coopmat_shapes[i];
        printf("%s{\"m\": %u, \"n\": %u, \"k\": %u, \"a_type\": %u, \"c_type\": %u}", i ? ", " : "",
               s->m, s->n, s->k, s->a_type, s->c_type);
    }
    printf("],\n     \"timestamps\": %s, \"timestamp_period_ns\": %.6g}%s\n",
           d->timestamps ? "true" : "false", d->timestamp_period_ns, last ? "" : ",");
}

int cmd_info(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        fputs(help, stdout);
        return 0;
    }
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = true;
        else return cli_usage_error("info", "unknown option '%s'", argv[i]);
    }
    /* Open the default device too, so that the report can say which one vkq would use. */
    vkq_context *ctx = cli_context(VKQ_DEVICE_MODE_DEFAULT, NULL, false);
    if (!ctx) ctx = cli_context(VKQ_DEVICE_MODE_LIST, NULL, false);
    if (!ctx) return 1;
    uint32_t n = 0;
    vkq_context_device_count(ctx, &n);
    int chosen = vkq_context_device_index(ctx);
    if (json) printf("{\n  \"vkq_version\": \"%u.%u.%u\",\n  \"devices\": [\n", VKQ_VERSION_MAJOR,
                     VKQ_VERSION_MINOR, VKQ_VERSION_PATCH);
    else if (n == 0) printf("no Vulkan devices\n");
    for (uint32_t i = 0; i < n; i++) {
        vkq_device_info d;
        vkq_status st = vkq_context_device_info(ctx, i, &d);
        if (st) {
            int rc = cli_fail("info", ctx, st, "device query");
            vkq_context_destroy(ctx);
            return rc;
        }
        if (json) print_json(&d, i, (int)i == chosen, i + 1 == n);
        else print_text(&d, i, (int)i == chosen);
    }
    if (json) printf("  ]\n}\n");
    vkq_context_destroy(ctx);
    return 0;
}

/* vkq — command-line front end of libvkq. One binary, one subcommand per file. */
#include "cli.h"

#include <string.h>

static const cli_command commands[] = {
    {"run", "generate text from a prompt", cmd_run},
    {"chat", "talk with a model, using its chat template", cmd_chat},
    {"info", "list Vulkan devices and their capabilities", cmd_info},
    {"bench", "measure the device: memory bandwidth, kernels", cmd_bench},
    /* [more subcommands below this line] */
    {"quantize", "quantize a GGUF model into other block formats", cmd_quantize},
    {"perplexity", "perplexity of a text, and KL-divergence against a reference model", cmd_perplexity},
    {"inspect", "print a GGUF file's metadata and tensor table", cmd_inspect},
    {"imatrix", "importance matrix (mean x^2 per input column) from calibration text", cmd_imatrix},
    {"analyze", "per-tensor and per-layer quantization error, as JSON and CSV", cmd_analyze},
};

static void usage(FILE *f) {
    fprintf(f,
            "vkq %u.%u.%u — quantized language models on any Vulkan GPU\n\n"
            "usage: vkq COMMAND [options]   (vkq COMMAND --help for its options)\n\n"
            "commands:\n",
            VKQ_VERSION_MAJOR, VKQ_VERSION_MINOR, VKQ_VERSION_PATCH);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(f, "\nenvironment: VKQ_VALIDATE=1 turns on the Vulkan validation layer.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("vkq %u.%u.%u\n", VKQ_VERSION_MAJOR, VKQ_VERSION_MINOR, VKQ_VERSION_PATCH);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "vkq: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}

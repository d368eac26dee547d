#include "fixture.h"

#include "gguf/gguf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const fix_roles[FIX_ROLES] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                          "ffn_gate", "ffn_up", "ffn_down", "token_embd"};
const char *const fix_formats[FIX_FORMATS] = {"q4_0", "q8_0", "q4_k"};

double fix_sqnr(int layer, int role, int format) {
    if (layer == 1 && role == 2 && format == 0) return NAN;      /* missing: a grey cell */
    if (layer == 2 && role == 0 && format == 1) return INFINITY; /* exact: the best colour */
    /* distinct values; ffn_down and deeper layers worse; q8_0 much better */
    return 24.0 - 1.5 * layer - 0.7 * role + (format == 1 ? 25.0 : format == 2 ? 4.0 : 0.0);
}

double fix_rel_l2(int layer, int role, int format) {
    double s = fix_sqnr(layer, role, format);
    if (isnan(s)) return NAN;
    return isinf(s) ? 0.0 : pow(10.0, -s / 20.0);
}

void fix_tensor_name(int layer, int role, char *buf, size_t size) {
    if (layer < 0) snprintf(buf, size, "%s.weight", fix_roles[role]);
    else snprintf(buf, size, "blk.%d.%s.weight", layer, fix_roles[role]);
}

static void number(FILE *f, const char *key, double v) {
    if (isnan(v)) return;
    if (isinf(v)) fprintf(f, ", \"%s\": null", key);
    else fprintf(f, ", \"%s\": %.17g", key, v);
}

static void tensor(FILE *f, int layer, int role, int first) {
    char name[96];
    fix_tensor_name(layer, role, name, sizeof name);
    int rows = role == 6 ? 256 : role == 5 || role == 4 ? 512 : role == 7 ? 330 : 256;
    int cols = role == 6 ? 512 : 256;
    if (role == 1 || role == 2) rows = 128; /* n_head_kv * head_dim */
    fprintf(f, "%s\n  {\"name\": \"%s\", \"layer\": %d, \"role\": \"%s\", \"ne\": [%d, %d], "
               "\"source_type\": \"f32\", \"unknown_key\": [1, {\"x\": 2}], \"formats\": {",
            first ? "" : ",", name, layer, fix_roles[role], cols, rows);
    int any = 0;
    for (int fm = 0; fm < FIX_FORMATS; fm++) {
        double s = fix_sqnr(layer, role, fm);
        if (isnan(s)) continue;
        double bpw = fm == 0 ? 4.5 : fm == 1 ? 8.5 : 4.5;
        fprintf(f, "%s\"%s\": {\"type\": \"%s\", \"bytes\": %.0f, \"bpw\": %g", any ? ", " : "",
                fix_formats[fm], fix_formats[fm], (double)rows * cols * bpw / 8, bpw);
        number(f, "rel_l2", fix_rel_l2(layer, role, fm));
        number(f, "sqnr_db", s);
        number(f, "rmse", 0.001);
        number(f, "cosine", 0.999);
        number(f, "max_abs", 0.02);
        number(f, "clipped_fraction", 0.0);
        number(f, "weighted_rel_l2", fix_rel_l2(layer, role, fm) * 0.9);
        fprintf(f, "}");
        any = 1;
    }
    fprintf(f, "}}");
}

static void activation(FILE *f, int fm, int first) {
    double bpw = fm == 0 ? 4.6 : fm == 1 ? 8.6 : 4.7, kld = fm == 0 ? 0.12 : fm == 1 ? 0.004 : 0.06;
    fprintf(f, "%s\n  {\"format\": \"%s\", \"bytes\": 1000000, \"bpw\": %g, \"kld_mean\": %g, "
               "\"kld_stderr\": %g, \"top1\": 0.9",
            first ? "" : ",", fix_formats[fm], bpw, kld, kld * 0.05);
    for (int which = 0; which < 2; which++) {
        fprintf(f, ", \"%s\": [", which ? "isolated" : "accumulated");
        for (int l = 0; l < FIX_LAYERS; l++) {
            double s = (fm == 1 ? 45.0 : 25.0) - (which ? 1.0 : 3.0 * l) - fm;
            fprintf(f, "%s{\"layer\": %d, \"cosine\": 0.99, \"sqnr_db\": %g, \"rel_l2\": %g}",
                    l ? ", " : "", l, s, pow(10.0, -s / 20.0));
        }
        fprintf(f, "]");
    }
    fprintf(f, "}");
}

int fix_write(const char *dir, int activations) {
    char path[512];
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    vkq__diag d = {0};
    vkq__synth_desc desc = {.n_embd = 256, .n_ff = 512, .n_layer = FIX_LAYERS, .n_head = 4,
                            .seed = 7};
    if (vkq__synth_write_file(&d, &desc, path) != VKQ_OK) {
        fprintf(stderr, "synthetic model: %s\n", d.message);
        return 0;
    }
    snprintf(path, sizeof path, "%s/report.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fprintf(f, "{\"vkq_analysis\": 1,\n \"model\": {\"path\": \"%s/model.gguf\", \"name\": "
               "\"fixture \\\"model\\\"\", \"architecture\": \"llama\", \"n_layer\": %d, "
               "\"n_embd\": 256, \"n_params\": 1000000},\n \"formats\": [",
            dir, FIX_LAYERS);
    for (int fm = 0; fm < FIX_FORMATS; fm++) fprintf(f, "%s\"%s\"", fm ? ", " : "", fix_formats[fm]);
    fprintf(f, "],\n \"calibration\": %s,\n \"roles\": [",
            activations ? "{\"path\": \"text.txt\", \"tokens\": 64}" : "null");
    for (int r = 0; r < FIX_ROLES; r++) fprintf(f, "%s\"%s\"", r ? ", " : "", fix_roles[r]);
    fprintf(f, "],\n \"tensors\": [");
    int first = 1;
    for (int l = 0; l < FIX_LAYERS; l++) {
        for (int r = 0; r < FIX_ROLES - 1; r++, first = 0) tensor(f, l, r, first);
    }
    tensor(f, -1, 7, 0);
    fprintf(f, "]");
    if (activations) {
        fprintf(f, ",\n \"activations\": [");
        for (int fm = 0; fm < FIX_FORMATS; fm++) activation(f, fm, fm == 0);
        fprintf(f, "]");
    }
    fprintf(f, "\n}\n");
    return fclose(f) == 0;
}

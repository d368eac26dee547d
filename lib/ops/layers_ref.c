/* CPU references of the layer ops (lib/ops/layers.h): plain loops written for clarity, with
 * double accumulation, used by tests/ops to check the shaders. Pure functions. */
#include "ops/layers.h"
#include "quant/half.h"
#include "quant/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void vkq__ref_rms_norm(const float *x, const float *weight, float *out, uint32_t n, uint32_t rows,
                       float eps) {
    for (uint32_t r = 0; r < rows; r++) {
        const float *xr = x + (uint64_t)r * n;
        double ss = 0;
        for (uint32_t i = 0; i < n; i++) ss += (double)xr[i] * xr[i];
        double scale = 1.0 / sqrt(ss / n + eps);
        for (uint32_t i = 0; i < n; i++) {
            out[(uint64_t)r * n + i] = (float)(xr[i] * scale * (weight ? weight[i] : 1.0));
        }
    }
}

/* ---- rope ---------------------------------------------------------------------------------- */

static double rope_theta(const vkq__rope *rope, const float *factors, uint32_t pos, uint32_t i) {
    double inv_freq = pow((double)rope->freq_base, -2.0 * i / rope->n_rot);
    return (double)pos * rope->freq_scale * inv_freq / (factors ? factors[i] : 1.0);
}

/* One head's row of head_dim values at position pos. */
static void rope_row(const vkq__rope *rope, const float *factors, const float *x, float *out,
                     uint32_t head_dim, uint32_t pos) {
    for (uint32_t e = rope->n_rot; e < head_dim; e++) out[e] = x[e];
    for (uint32_t i = 0; i < rope->n_rot / 2; i++) {
        uint32_t ia = rope->mode == VKQ__ROPE_NEOX ? i : 2 * i;
        uint32_t ib = rope->mode == VKQ__ROPE_NEOX ? i + rope->n_rot / 2 : 2 * i + 1;
        double theta = rope_theta(rope, factors, pos, i);
        double c = cos(theta), s = sin(theta), a = x[ia], b = x[ib];
        out[ia] = (float)(a * c - b * s);
        out[ib] = (float)(a * s + b * c);
    }
}

void vkq__ref_rope(const vkq__rope *rope, const float *freq_factors, const float *x, float *out,
                   uint32_t n_tokens, uint32_t n_heads, uint32_t head_dim, uint32_t pos0) {
    for (uint32_t t = 0; t < n_tokens; t++) {
        for (uint32_t h = 0; h < n_heads; h++) {
            uint64_t off = ((uint64_t)t * n_heads + h) * head_dim;
            rope_row(rope, freq_factors, x + off, out + off, head_dim, pos0 + t);
        }
    }
}

/* ---- KV cache ------------------------------------------------------------------------------ */

/* Converts one row of head_dim floats into a cache row (padding zeroed, as the GPU writes it). */
static void store_row(vkq_type type, const float *x, uint8_t *row, uint32_t head_dim) {
    uint32_t bytes = vkq__kv_row_bytes(type, head_dim);
    memset(row, 0, bytes);
    if (type == VKQ_TYPE_F16) {
        for (uint32_t e = 0; e < head_dim; e++) vkq__wr_u16(row + 2 * e, vkq__fp32_to_fp16(x[e]));
    } else {
        vkq__quantize_row(type, x, row, head_dim, NULL, VKQ__QUANT_CLOSED_FORM);
    }
}

static void load_row(vkq_type type, const uint8_t *row, float *x, uint32_t head_dim) {
    if (type == VKQ_TYPE_F16) {
        for (uint32_t e = 0; e < head_dim; e++) x[e] = vkq__rd_half(row + 2 * e);
    } else {
        vkq__dequantize_row(type, row, x, head_dim);
    }
}

void vkq__ref_kv_write(const vkq__kv_layout *kv, const vkq__rope *rope, const float *freq_factors,
                       const float *k, const float *v, uint8_t *k_cache, uint8_t *v_cache,
                       uint32_t n_tokens, uint32_t pos0) {
    uint32_t hd = kv->head_dim, rb = vkq__kv_row_bytes(kv->type, hd);
    float row[VKQ__KV_MAX_HEAD_DIM];
    for (uint32_t t = 0; t < n_tokens && pos0 + t < kv->n_ctx; t++) {
        for (uint32_t h = 0; h < kv->n_head_kv; h++) {
            uint64_t in = ((uint64_t)t * kv->n_head_kv + h) * hd;
            uint64_t dst = ((uint64_t)h * kv->n_ctx + pos0 + t) * rb;
            rope_row(rope, freq_factors, k + in, row, hd, pos0 + t);
            store_row(kv->type, row, k_cache + dst, hd);
            store_row(kv->type, v + in, v_cache + dst, hd);
        }
    }
}

/* ---- attention ----------------------------------------------------------------------------- */

void vkq__ref_attention(const vkq__kv_layout *kv, const float *q, const uint8_t *k_cache,
                        const uint8_t *v_cache, float *out, uint32_t n_tokens, uint32_t n_head,
                        uint32_t pos0, float scale) {
    uint32_t hd = kv->head_dim, rb = vkq__kv_row_bytes(kv->type, hd);
    uint32_t ratio = n_head / kv->n_head_kv;
    uint32_t len = VKQ__MIN(pos0 + n_tokens, kv->n_ctx);
    double sc = scale != 0.0f ? scale : 1.0 / sqrt((double)hd);
    /* The cache rows in use, dequantized once: (n_head_kv, len, head_dim). */
    float *kf = malloc((size_t)kv->n_head_kv * len * hd * sizeof(float));
    float *vf = malloc((size_t)kv->n_head_kv * len * hd * sizeof(float));
    double *p = malloc((size_t)len * sizeof(double));
    if (!kf || !vf || !p) { /* the tests see NaN outputs rather than a crash */
        for (uint64_t i = 0; i < (uint64_t)n_tokens * n_head * hd; i++) out[i] = NAN;
        free(kf), free(vf), free(p);
        return;
    }
    for (uint32_t h = 0; h < kv->n_head_kv; h++) {
        for (uint32_t j = 0; j < len; j++) {
            uint64_t src = ((uint64_t)h * kv->n_ctx + j) * rb, dst = ((uint64_t)h * len + j) * hd;
            load_row(kv->type, k_cache + src, kf + dst, hd);
            load_row(kv->type, v_cache + src, vf + dst, hd);
        }
    }
    for (uint32_t t = 0; t < n_tokens; t++) {
        uint32_t n_keys = VKQ__MIN(pos0 + t + 1, len);
        for (uint32_t h = 0; h < n_head; h++) {
            const float *qh = q + ((uint64_t)t * n_head + h) * hd;
            const float *kh = kf + (uint64_t)(h / ratio) * len * hd;
            const float *vh = vf + (uint64_t)(h / ratio) * len * hd;
            double m = -INFINITY, sum = 0;
            for (uint32_t j = 0; j < n_keys; j++) {
                double s = 0;
                for (uint32_t e = 0; e < hd; e++) s += (double)qh[e] * kh[(uint64_t)j * hd + e];
                p[j] = s * sc;
                if (p[j] > m) m = p[j];
            }
            for (uint32_t j = 0; j < n_keys; j++) sum += (p[j] = exp(p[j] - m));
            float *oh = out + ((uint64_t)t * n_head + h) * hd;
            for (uint32_t e = 0; e < hd; e++) {
                double acc = 0;
                for (uint32_t j = 0; j < n_keys; j++) acc += p[j] * vh[(uint64_t)j * hd + e];
                oh[e] = (float)(acc / sum);
            }
        }
    }
    free(kf), free(vf), free(p);
}

/* ---- activations, softmax, argmax ---------------------------------------------------------- */

static double silu(double g) { return g / (1.0 + exp(-g)); }

void vkq__ref_swiglu(const float *gate, const float *up, float *out, uint32_t n, uint32_t rows,
                     uint32_t gate_stride, uint32_t up_stride) {
    if (!gate_stride) gate_stride = n;
    if (!up_stride) up_stride = n;
    for (uint32_t r = 0; r < rows; r++) {
        for (uint32_t i = 0; i < n; i++) {
            double g = gate[(uint64_t)r * gate_stride + i], u = up[(uint64_t)r * up_stride + i];
            out[(uint64_t)r * n + i] = (float)(silu(g) * u);
        }
    }
}

void vkq__ref_silu(const float *x, float *out, uint32_t count) {
    for (uint32_t i = 0; i < count; i++) out[i] = (float)silu(x[i]);
}

void vkq__ref_softmax(const float *x, float *out, uint32_t n, uint32_t rows, float scale) {
    for (uint32_t r = 0; r < rows; r++) {
        const float *xr = x + (uint64_t)r * n;
        double m = -INFINITY, sum = 0;
        for (uint32_t i = 0; i < n; i++) m = fmax(m, (double)scale * xr[i]);
        for (uint32_t i = 0; i < n; i++) sum += exp((double)scale * xr[i] - m);
        for (uint32_t i = 0; i < n; i++) out[(uint64_t)r * n + i] = (float)(exp((double)scale * xr[i] - m) / sum);
    }
}

void vkq__ref_argmax(const float *x, uint32_t *ids, uint32_t n, uint32_t rows) {
    for (uint32_t r = 0; r < rows; r++) {
        const float *xr = x + (uint64_t)r * n;
        uint32_t best = 0;
        bool found = false;
        for (uint32_t i = 0; i < n; i++) {
            if (isnan(xr[i])) continue;
            if (!found || xr[i] > xr[best]) best = i, found = true; /* strict: the first max stays */
        }
        ids[r] = best;
    }
}

/* ---- sampling ------------------------------------------------------------------------------ */

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* The largest value tau among sorted (descending, m values) with
 * sum_{v_i >= tau} exp(v_i - lmax) >= target; ties at tau are all counted. */
static float mass_threshold(const float *sorted, uint32_t m, double lmax, double target) {
    double cum = 0;
    for (uint32_t i = 0; i < m;) {
        uint32_t j = i;
        while (j < m && sorted[j] == sorted[i]) cum += exp((double)sorted[j++] - lmax);
        if (cum >= target) return sorted[i];
        i = j;
    }
    return m ? sorted[m - 1] : -INFINITY;
}

uint32_t vkq__ref_sample(const float *logits, uint32_t n, const vkq__step_params *params) {
    if (!(params->temperature > 0.0f)) {
        uint32_t id = 0;
        vkq__ref_argmax(logits, &id, n, 1);
        return id;
    }
    float *sorted = malloc((size_t)n * sizeof(float));
    if (!sorted) return 0;
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!isnan(logits[i])) sorted[m++] = logits[i];
    }
    if (!m) {
        free(sorted);
        return 0;
    }
    qsort(sorted, m, sizeof(float), cmp_desc);
    float lmax = sorted[0], tau = -INFINITY;
    if (params->top_k > 0 && params->top_k < m) tau = sorted[params->top_k - 1];
    uint32_t in_k = 0;
    while (in_k < m && sorted[in_k] >= tau) in_k++;
    if (params->top_p < 1.0f) {
        double z = 0;
        for (uint32_t i = 0; i < in_k; i++) z += exp((double)sorted[i] - lmax);
        double target = fmax((double)params->top_p * z, 1.0); /* the maximum alone weighs 1 */
        tau = fmaxf(tau, mass_threshold(sorted, in_k, lmax, target));
    }
    if (params->min_p > 0.0f) tau = fmaxf(tau, lmax + logf(params->min_p));
    free(sorted);

    double total = 0, inv_t = 1.0 / params->temperature;
    uint32_t last = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!isnan(logits[i]) && logits[i] >= tau) total += exp((logits[i] - (double)lmax) * inv_t), last = i;
    }
    double u = (double)params->rand * total, run = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (isnan(logits[i]) || logits[i] < tau) continue;
        run += exp((logits[i] - (double)lmax) * inv_t);
        if (run > u) return i;
    }
    return last;
}

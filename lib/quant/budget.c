/* Quantizing to a size budget: which formats a matrix may take, and the choice of one per matrix.
 *
 * The problem: matrix i in format c costs bytes_ic and leaves squared error err_ic; choose one c
 * per matrix with sum bytes <= budget and the least sum err. (model_quantize.c measures err as
 * sum_jk importance_k * dW_jk^2, which, with input second moments importance_k = E[x_k^2] and
 * roughly uncorrelated inputs, is the expected squared error of the matrix's output; the sum over
 * matrices is the model's total output-error energy.)
 *
 * The method is the classic rate-distortion one (as in bit allocation for transform coding):
 * on each matrix's lower convex hull of (bytes, error), each step up costs some bytes and removes
 * some error, and along the hull the error removed per byte falls. Start every matrix at its
 * cheapest format, then take the steps of all matrices in decreasing error-per-byte order while
 * they fit; a matrix whose next step does not fit stops there (its later steps are worth less
 * per byte), the others may still fill the rest. When every matrix ends at the same rate this
 * is exactly optimal for the bytes it spends (a Lagrangian solution); otherwise it is close, and
 * the bytes left unspent are fewer than one step of one matrix. A larger budget never gives a
 * larger total error: where two budgets first part ways the larger one takes a step that the
 * smaller one cannot afford, and the smaller one's later steps remove at most that step's rate
 * per byte over fewer bytes than that step costs. Points off the hull (a format that costs
 * more than another and removes less per byte than a dearer one) are never chosen. */
#include "quant/budget.h"

#include "quant/presets.h"

#include <math.h>
#include <stdlib.h>

uint32_t vkq__budget_candidates(uint64_t ne0, vkq_type out[VKQ__BUDGET_MAX_CANDIDATES]) {
    static const vkq_type k_formats[] = {VKQ_TYPE_Q2_K, VKQ_TYPE_Q3_K, VKQ_TYPE_Q4_K,
                                         VKQ_TYPE_Q5_K, VKQ_TYPE_Q6_K, VKQ_TYPE_Q8_0};
    static const vkq_type legacy[] = {VKQ_TYPE_Q4_0, VKQ_TYPE_Q5_0, VKQ_TYPE_Q8_0};
    const vkq_type *list = NULL;
    uint32_t n = 0;
    if (ne0 && ne0 % 256 == 0) list = k_formats, n = VKQ__ARRAY_LEN(k_formats);
    else if (ne0 && ne0 % 32 == 0) list = legacy, n = VKQ__ARRAY_LEN(legacy);
    for (uint32_t i = 0; i < n; i++) out[i] = list[i];
    return n;
}

/* A step along one item's hull: from hull point `from` to the next. */
typedef struct step {
    uint64_t item;
    uint32_t to;   /* candidate index reached */
    uint32_t rank; /* position along the hull: 0 for the first step */
    uint64_t cost;
    double rate;   /* error removed per byte, > 0 */
} step;

static double error_of(const vkq__budget_item *it, uint32_t c) {
    return isnan(it->error[c]) ? INFINITY : it->error[c];
}

/* The item's lower convex hull, cheapest point first, as candidate indices; returns its length.
 * Only points that lower the error are on it, and rates fall strictly along it. */
static uint32_t hull(const vkq__budget_item *it, uint32_t out[VKQ__BUDGET_MAX_CANDIDATES]) {
    uint32_t order[VKQ__BUDGET_MAX_CANDIDATES];
    for (uint32_t i = 0; i < it->n; i++) order[i] = i;
    for (uint32_t i = 1; i < it->n; i++) { /* insertion sort by (bytes, error, index) */
        uint32_t v = order[i], j = i;
        while (j > 0) {
            uint32_t u = order[j - 1];
            bool after = it->bytes[u] > it->bytes[v] ||
                         (it->bytes[u] == it->bytes[v] && error_of(it, u) > error_of(it, v));
            if (!after) break;
            order[j] = u;
            j--;
        }
        order[j] = v;
    }
    uint32_t h = 0;
    out[h++] = order[0];
    for (uint32_t k = 1; k < it->n; k++) {
        uint32_t p = order[k];
        double ep = error_of(it, p);
        if (!(ep < error_of(it, out[h - 1]))) continue; /* costs more, removes nothing */
        while (h >= 2) {
            uint32_t a = out[h - 2], b = out[h - 1];
            double ab = (error_of(it, a) - error_of(it, b)) / (double)(it->bytes[b] - it->bytes[a]);
            double bp = (error_of(it, b) - ep) / (double)(it->bytes[p] - it->bytes[b]);
            if (ab > bp) break; /* still convex at b */
            h--;
        }
        out[h++] = p;
    }
    return h;
}

static int step_cmp(const void *pa, const void *pb) {
    const step *a = pa, *b = pb;
    if (a->rate != b->rate) return a->rate > b->rate ? -1 : 1;
    if (a->item != b->item) return a->item < b->item ? -1 : 1;
    return a->rank < b->rank ? -1 : a->rank > b->rank;
}

vkq_status vkq__budget_allocate(vkq__budget_item *items, uint64_t n_items, uint64_t fixed_bytes,
                                uint64_t budget, uint64_t *min_bytes, uint64_t *total_bytes,
                                double *total_error) {
    *min_bytes = *total_bytes = 0;
    *total_error = 0;
    uint64_t n_steps = 0, least = fixed_bytes;
    for (uint64_t i = 0; i < n_items; i++) {
        uint32_t h[VKQ__BUDGET_MAX_CANDIDATES];
        uint32_t len = hull(&items[i], h);
        items[i].chosen = h[0];
        least += items[i].bytes[h[0]];
        n_steps += len - 1;
    }
    *min_bytes = least;
    vkq_status st = VKQ_OK;
    if (least > budget) {
        st = VKQ_ERR_INVALID_ARGUMENT;
    } else if (n_steps) {
        step *steps = vkq__calloc(n_steps, sizeof *steps);
        bool *stopped = vkq__calloc(n_items, sizeof *stopped);
        if (!steps || !stopped) {
            free(steps), free(stopped);
            return VKQ_ERR_OUT_OF_HOST_MEMORY;
        }
        uint64_t k = 0;
        for (uint64_t i = 0; i < n_items; i++) {
            const vkq__budget_item *it = &items[i];
            uint32_t h[VKQ__BUDGET_MAX_CANDIDATES];
            uint32_t len = hull(it, h);
            for (uint32_t j = 0; j + 1 < len; j++) {
                uint64_t cost = it->bytes[h[j + 1]] - it->bytes[h[j]];
                double gain = error_of(it, h[j]) - error_of(it, h[j + 1]);
                steps[k++] = (step){.item = i, .to = h[j + 1], .rank = j, .cost = cost,
                                    .rate = gain / (double)cost};
            }
        }
        qsort(steps, n_steps, sizeof *steps, step_cmp);
        uint64_t left = budget - least;
        for (k = 0; k < n_steps; k++) {
            const step *s = &steps[k];
            if (stopped[s->item]) continue;
            if (s->cost > left) {
                stopped[s->item] = true; /* its later steps are worth less per byte */
                continue;
            }
            left -= s->cost;
            items[s->item].chosen = s->to;
        }
        free(steps), free(stopped);
    }
    *total_bytes = fixed_bytes;
    for (uint64_t i = 0; i < n_items; i++) {
        *total_bytes += items[i].bytes[items[i].chosen];
        *total_error += items[i].error[items[i].chosen];
    }
    return st;
}

uint32_t vkq__budget_file_type(vkq_type main) {
    /* LLAMA_FTYPE_MOSTLY_Q3_K_M, _Q4_K_M, _Q5_K_M: llama.cpp's own guess for these types. */
    switch (main) {
    case VKQ_TYPE_Q3_K: return 12;
    case VKQ_TYPE_Q4_K: return 15;
    case VKQ_TYPE_Q5_K: return 17;
    default: return vkq__type_file_type(main);
    }
}

/* lib/quant — quantizing a model to a size budget (budget.c): which formats a weight matrix may
 * get, and the allocation of one format per matrix from measured errors so that the total size
 * meets the budget with the least total error. Used by vkq_model_quantize (model_quantize.c),
 * which measures the errors. Internal. */
#ifndef VKQ_QUANT_BUDGET_H
#define VKQ_QUANT_BUDGET_H

#include "base/base.h"

#define VKQ__BUDGET_MAX_CANDIDATES 6

/* The formats a budget chooses from for a matrix with rows of ne0 elements, cheapest first:
 * ne0 % 256 == 0: q2_k q3_k q4_k q5_k q6_k q8_0; else ne0 % 32 == 0: q4_0 q5_0 q8_0; else none
 * (the matrix keeps its fallback type and its bytes are fixed). Returns how many. */
uint32_t vkq__budget_candidates(uint64_t ne0, vkq_type out[VKQ__BUDGET_MAX_CANDIDATES]);

/* One matrix in the search: its candidates' sizes and errors (any order), and the choice. */
typedef struct vkq__budget_item {
    uint32_t n;                                  /* 1 .. VKQ__BUDGET_MAX_CANDIDATES */
    uint64_t bytes[VKQ__BUDGET_MAX_CANDIDATES];  /* output bytes of each candidate */
    double error[VKQ__BUDGET_MAX_CANDIDATES];    /* its squared error sum; NaN counts as worst */
    uint32_t chosen;                             /* out: index of the chosen candidate */
} vkq__budget_item;

/* Chooses one candidate per item so that fixed_bytes + the chosen bytes <= budget, greedily on
 * each item's lower convex hull of (bytes, error), by error removed per byte (see budget.c).
 * Deterministic: equal rates go to the lower item index first. *min_bytes receives
 * fixed_bytes + every item's cheapest candidate, the smallest total that can be met;
 * *total_bytes and *total_error what was chosen (bytes include fixed_bytes). Returns VKQ_OK,
 * VKQ_ERR_INVALID_ARGUMENT when *min_bytes > budget (the choices are then the cheapest ones),
 * VKQ_ERR_OUT_OF_HOST_MEMORY; records no message (the caller knows what the budget means). */
vkq_status vkq__budget_allocate(vkq__budget_item *items, uint64_t n_items, uint64_t fixed_bytes,
                                uint64_t budget, uint64_t *min_bytes, uint64_t *total_bytes,
                                double *total_error);

/* llama.cpp's general.file_type for a budget's mix whose matrices hold most weights in `main`.
 * llama.cpp, reading a file without the key, guesses it from the type of the most tensors
 * (q4_k -> LLAMA_FTYPE_MOSTLY_Q4_K_M, ...) and marks the guess with LLAMA_FTYPE_GUESSED (1024);
 * this names the type of the most weights the same way, without the flag: the key states the
 * mix, and gguf-py and other readers know only the plain values. */
uint32_t vkq__budget_file_type(vkq_type main);

#endif

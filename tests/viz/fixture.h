/* The viewer tests' inputs, made by the test itself: a synthetic GGUF model and a report JSON
 * with known values for it (the schema of docs/ANALYSIS.md, version 1). */
#ifndef VIZ_TEST_FIXTURE_H
#define VIZ_TEST_FIXTURE_H

#include <stddef.h>

enum { FIX_LAYERS = 3, FIX_ROLES = 8, FIX_FORMATS = 3 };

extern const char *const fix_roles[FIX_ROLES];     /* attn_q ... ffn_down, token_embd */
extern const char *const fix_formats[FIX_FORMATS]; /* q4_0, q8_0, q4_k */

/* The report's value of (layer, role, format); layer -1 with role token_embd. NAN: the entry is
 * left out; INFINITY: written as null (an exact tensor). */
double fix_sqnr(int layer, int role, int format);
double fix_rel_l2(int layer, int role, int format);
/* "blk.L.<role>.weight" or "token_embd.weight". */
void fix_tensor_name(int layer, int role, char *buf, size_t size);

/* Writes model.gguf and report.json under dir (with activations when `activations`); returns
 * 0 on failure after printing why. */
int fix_write(const char *dir, int activations);

#endif

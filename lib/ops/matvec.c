/* matvec: Y = W·X (+ add) for up to 8 vectors per pass over W (shaders/matvec.comp). Picks the
 * subgroup-reduction variant where the device has subgroup arithmetic, the shared-memory one
 * elsewhere, and the workgroup size and rows per workgroup from the device. */
#include "ops/products.h"

#include <stdio.h>

#define MATVEC_MAX_VECTORS 8
#define MATVEC_MAX_ROWS 8

typedef struct matvec_push {
    uint32_t rows, row0, nb, w_skip;
    uint32_t x_skip, x_stride, y_skip, y_stride;
    uint32_t add_skip, add_stride, has_add;
    uint32_t w2_skip; /* swiglu: the W_up binding's skip */
    uint32_t norm_skip;
    float eps;
} matvec_push;
_Static_assert(sizeof(matvec_push) == 56, "mirrors Push in shaders/matvec.comp");

typedef struct matvec_plan {
    bool subgroup, lane;
    uint32_t wg, rows, min_subgroup;
    const char *kernel;  /* "matvec" or "matvec_swiglu" */
    vkq__view w_up;      /* matvec_swiglu: the second weight matrix */
} matvec_plan;

static bool is_pow2(uint32_t v) { return v && !(v & (v - 1)); }

/* Shared memory of the reduction: one float per output and subgroup (or per invocation). */
static uint64_t matvec_shared_bytes(const matvec_plan *p, uint32_t nvec, bool norm) {
    uint64_t per_output = p->subgroup ? (p->wg + p->min_subgroup - 1) / p->min_subgroup : p->wg;
    uint64_t matrices = p->w_up.size ? 2 : 1; /* swiglu reduces gate and up sums */
    uint64_t norm_bytes = norm ? (uint64_t)nvec * p->wg * 4 : 4; /* the fused norm's reduction */
    return (uint64_t)p->rows * nvec * per_output * 4 * matrices + norm_bytes;
}

/* Device defaults. GPUs: 64 invocations (two NVIDIA warps, one AMD wave64, several Intel/Mali
 * subgroups) side by side along 2 rows, so that loads coalesce and each slot's x values serve
 * two rows. CPU drivers (lavapipe) run invocations as SIMD lanes of one core: there one row per
 * lane makes the x loads the same in every lane and needs no reduction; 4 rows per lane reuse
 * each x load four times, which matters because llvmpipe still loads per lane (measured with vkq
 * bench kernels for n = 1..8, docs/PERFORMANCE.md). */
static void matvec_defaults(vkq_context *ctx, uint32_t n, matvec_plan *p) {
    const vkq_device_info *i = &ctx->caps.info;
    if (i->type == VKQ_DEVICE_TYPE_CPU) {
        p->lane = true;
        p->wg = VKQ__MAX(i->subgroup_size, 8u);
        p->rows = 4;
    } else {
        p->lane = false;
        p->wg = VKQ__MAX(64u, i->subgroup_size);
        p->rows = n <= 4 ? 2 : 1;
    }
    while (p->wg > i->max_workgroup_invocations || p->wg > i->max_workgroup_size[0]) p->wg /= 2;
}

static vkq_status matvec_plan_make(vkq_context *ctx, const vkq__mul_mat_args *a, const vkq__product_format *f,
                                   const vkq__mul_mat_config *cfg, matvec_plan *p) {
    char name[64];
    snprintf(name, sizeof name, "%s_%s_sg", p->kernel, f->name);
    p->subgroup = !cfg->no_subgroup && ctx->caps.subgroup_arithmetic && vkq__shader_available(ctx, name);
    p->min_subgroup = p->subgroup ? VKQ__MAX(ctx->caps.info.subgroup_size_min, 1u) : 1;
    matvec_defaults(ctx, a->n, p);
    if (cfg->layout) p->lane = cfg->layout == VKQ__MATVEC_LAYOUT_LANE;
    if (cfg->workgroup_size) p->wg = cfg->workgroup_size;
    if (cfg->rows) p->rows = cfg->rows;
    const vkq_device_info *i = &ctx->caps.info;
    if (!is_pow2(p->wg) || p->wg > i->max_workgroup_invocations || p->wg > i->max_workgroup_size[0] ||
        p->rows < 1 || p->rows > MATVEC_MAX_ROWS) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "matvec %s: workgroup size %u (a power of two up to %u) and %u rows per "
                         "workgroup (1..%d)",
                         f->name, p->wg, VKQ__MIN(i->max_workgroup_invocations, i->max_workgroup_size[0]),
                         p->rows, MATVEC_MAX_ROWS);
    }
    uint64_t shared = matvec_shared_bytes(p, VKQ__MIN(a->n, (uint32_t)MATVEC_MAX_VECTORS), a->norm.size != 0);
    if (shared > i->max_shared_memory) {
        return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                         "matvec %s: workgroup size %u with %u rows needs %llu B shared memory, "
                         "device allows %u",
                         f->name, p->wg, p->rows, (unsigned long long)shared, i->max_shared_memory);
    }
    return VKQ_OK;
}

static vkq_status matvec_chunk(vkq__recording *rec, const vkq__mul_mat_args *a, const vkq__product_format *f,
                               const void *data, const vkq__product_chunk *c) {
    vkq_context *ctx = vkq__recording_context(rec);
    const matvec_plan *p = data;
    char name[64];
    snprintf(name, sizeof name, "%s_%s%s", p->kernel, f->name, p->subgroup ? "_sg" : "");
    bool swiglu = p->w_up.size != 0;
    vkq__pipeline_desc d = {.shader = name, .n_bindings = swiglu ? 6 : 5, .push_size = sizeof(matvec_push),
                            .spec = {p->wg, p->rows, c->n, p->min_subgroup, p->lane, a->norm.size != 0},
                            .n_spec = 6};
    const vkq__pipeline *pl;
    vkq_status st = vkq__pipeline_get(ctx, &d, &pl);
    if (st) return vkq__wrap(&ctx->diag, st, "matvec %s", f->name);
    matvec_push push = {
        .rows = c->rows, .row0 = c->row0, .nb = a->k / f->qk, .w_skip = c->w_skip,
        .x_skip = c->x_skip, .x_stride = a->k / 4, .y_skip = c->y_skip, .y_stride = a->m,
        .add_skip = c->add_skip, .add_stride = a->add_stride, .has_add = a->add.size != 0,
        .eps = a->norm_eps,
    };
    uint64_t rows_per_group = (uint64_t)p->rows * (p->lane ? p->wg : 1);
    uint64_t groups = (c->rows + rows_per_group - 1) / rows_per_group;
    /* The shader walks row groups in a grid-stride loop: capping the grid is always correct. */
    groups = VKQ__MIN(groups, (uint64_t)ctx->caps.info.max_workgroup_count[0]);
    vkq__view b[6] = {c->w, c->x, c->y, c->add, c->w, c->x};
    vkq__view *norm = &b[swiglu ? 5 : 4];
    if (a->norm.size) {
        /* Each chunk holds whole vectors: every one needs the whole norm weight. */
        uint32_t skip;
        vkq__product_bind(ctx, a->norm, 0, (uint64_t)a->k * 4, norm, &skip);
        push.norm_skip = skip / 16;
    } /* else: X bound again, never read */
    if (swiglu) {
        /* Same format and shape as W: the same rows of W_up, bound the way the chunk bound W. */
        uint64_t row_bytes = (uint64_t)a->k / f->qk * f->qbytes;
        vkq__product_bind(ctx, p->w_up, (uint64_t)c->row0 * row_bytes, (uint64_t)c->rows * row_bytes, &b[4],
                          &push.w2_skip);
    }
    return vkq__recording_dispatch(rec, pl, b, &push, (uint32_t)groups, 1, 1);
}

vkq_status vkq__matvec_record(vkq__recording *rec, const vkq__mul_mat_args *a,
                              const vkq__product_format *f, const vkq__mul_mat_config *cfg,
                              char *variant) {
    vkq_context *ctx = vkq__recording_context(rec);
    matvec_plan p = {.kernel = "matvec"};
    vkq_status st = matvec_plan_make(ctx, a, f, cfg, &p);
    if (st) return st;
    if (variant) {
        snprintf(variant, 96, "matvec_%s%s wg %u rows %u%s", f->name, p.subgroup ? "_sg" : "", p.wg, p.rows,
                 p.lane ? " per lane" : "");
    }
    return vkq__product_for_each_chunk(rec, a, f, MATVEC_MAX_VECTORS, matvec_chunk, &p);
}

vkq_status vkq__matvec_swiglu_record(vkq__recording *rec, const vkq__mul_mat_args *a,
                                     const vkq__product_format *f, vkq__view w_up,
                                     const vkq__mul_mat_config *cfg) {
    vkq_context *ctx = vkq__recording_context(rec);
    matvec_plan p = {.kernel = "matvec_swiglu", .w_up = w_up};
    vkq_status st = matvec_plan_make(ctx, a, f, cfg, &p);
    if (st) return st;
    return vkq__product_for_each_chunk(rec, a, f, MATVEC_MAX_VECTORS, matvec_chunk, &p);
}

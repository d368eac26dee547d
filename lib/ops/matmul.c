/* matmul: Y = W·X (+ add) for many vectors (shaders/matmul.comp): W and X tiles through shared
 * memory, a block of outputs per invocation, float32 throughout. Tile sizes come from the
 * device's shared memory and workgroup limits. */
#include "ops/products.h"

#include <stdio.h>


typedef struct matmul_push {
    uint32_t rows, row0, nb, w_skip;
    uint32_t k, n, x_skip, x_stride;
    uint32_t y_skip, y_stride, add_skip, add_stride;
    uint32_t has_add;
} matmul_push;
_Static_assert(sizeof(matmul_push) == 52, "mirrors Push in shaders/matmul.comp");

typedef struct matmul_plan {
    uint32_t tm, tn, tk;
    uint32_t rm, rn; /* outputs per invocation along m and n */
} matmul_plan;

static uint64_t matmul_shared_bytes(const matmul_plan *p) {
    return (uint64_t)(p->tm + p->tn) * (p->tk + 1) * 4;
}

static uint32_t matmul_threads(const matmul_plan *p) { return (p->tm / p->rm) * (p->tn / p->rn); }

/* Outputs per invocation along one side: the preferred block, or 4 when the tile is not a
 * multiple of it. */
static uint32_t reg_block(uint32_t tile, uint32_t preferred) { return tile % preferred ? 4 : preferred; }

/* GPUs start from 64 x 64 tiles with 4 x 4 outputs per invocation (256 invocations, each W
 * element reused 64 times from shared memory) and halve the larger side until the tiles fit.
 * CPU drivers run a workgroup on one core and load shared memory per SIMD lane: 8 x 8 outputs
 * per invocation halve the loads per multiply-add against 4 x 4; 64 x 32 tiles (32 invocations)
 * keep both tiles in the core's L1 cache (measured, docs/PERFORMANCE.md). */
static void matmul_defaults(vkq_context *ctx, matmul_plan *p, uint32_t *reg) {
    const vkq_device_info *i = &ctx->caps.info;
    bool cpu = i->type == VKQ_DEVICE_TYPE_CPU;
    *reg = cpu ? 8 : 4;
    p->tm = 64;
    p->tn = cpu ? 32 : 64;
    p->rm = p->rn = *reg;
    while ((matmul_shared_bytes(p) > i->max_shared_memory || matmul_threads(p) > i->max_workgroup_invocations ||
            matmul_threads(p) > i->max_workgroup_size[0]) &&
           (p->tm > 8 || p->tn > 8)) {
        if (p->tn >= p->tm) p->tn /= 2;
        else p->tm /= 2;
        p->rm = reg_block(p->tm, *reg), p->rn = reg_block(p->tn, *reg);
    }
}

static vkq_status matmul_plan_make(vkq_context *ctx, const vkq__product_format *f,
                                   const vkq__mul_mat_config *cfg, matmul_plan *p) {
    const vkq_device_info *i = &ctx->caps.info;
    uint32_t reg;
    p->tk = VKQ__MAX(32u, f->span);
    matmul_defaults(ctx, p, &reg);
    if (cfg->block == 4 || cfg->block == 8) {
        reg = cfg->block;
        p->rm = reg_block(p->tm, reg), p->rn = reg_block(p->tn, reg);
    }
    if (cfg->tile_m) p->tm = cfg->tile_m, p->rm = reg_block(p->tm, reg);
    if (cfg->tile_n) p->tn = cfg->tile_n, p->rn = reg_block(p->tn, reg);
    if (p->tm % 4 || p->tn % 4 || p->tm == 0 || p->tn == 0 || matmul_threads(p) > i->max_workgroup_invocations ||
        matmul_threads(p) > i->max_workgroup_size[0]) {
        return vkq__fail(&ctx->diag, VKQ_ERR_INVALID_ARGUMENT,
                         "matmul %s: tile %u x %u (multiples of 4, at most %u invocations of %u x %u "
                         "outputs each)",
                         f->name, p->tm, p->tn, i->max_workgroup_invocations, p->rm, p->rn);
    }
    if (matmul_shared_bytes(p) > i->max_shared_memory) {
        return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                         "matmul %s: tile %u x %u x %u needs %llu B shared memory, device allows %u",
                         f->name, p->tm, p->tn, p->tk, (unsigned long long)matmul_shared_bytes(p),
                         i->max_shared_memory);
    }
    return VKQ_OK;
}

static vkq_status matmul_chunk(vkq__recording *rec, const vkq__mul_mat_args *a, const vkq__product_format *f,
                               const void *data, const vkq__product_chunk *c) {
    vkq_context *ctx = vkq__recording_context(rec);
    const matmul_plan *p = data;
    char name[64];
    snprintf(name, sizeof name, "matmul_%s", f->name);
    vkq__pipeline_desc d = {.shader = name, .n_bindings = 4, .push_size = sizeof(matmul_push),
                            .spec = {matmul_threads(p), p->tm, p->tn, p->rm, p->rn, p->tk}, .n_spec = 6};
    const vkq__pipeline *pl;
    vkq_status st = vkq__pipeline_get(ctx, &d, &pl);
    if (st) return vkq__wrap(&ctx->diag, st, "matmul %s", f->name);
    uint64_t gx = (c->rows + p->tm - 1) / p->tm, gy = (c->n + p->tn - 1) / p->tn;
    if (gx > ctx->caps.info.max_workgroup_count[0]) {
        return vkq__fail(&ctx->diag, VKQ_ERR_LIMIT,
                         "matmul %s: %u rows need %llu workgroups of %u rows, device allows %u",
                         f->name, c->rows, (unsigned long long)gx, p->tm, ctx->caps.info.max_workgroup_count[0]);
    }
    matmul_push push = {
        .rows = c->rows, .row0 = c->row0, .nb = a->k / f->qk, .w_skip = c->w_skip,
        .k = a->k, .n = c->n, .x_skip = c->x_skip, .x_stride = a->k / 4,
        .y_skip = c->y_skip, .y_stride = a->m, .add_skip = c->add_skip, .add_stride = a->add_stride,
        .has_add = a->add.size != 0,
    };
    vkq__view b[4] = {c->w, c->x, c->y, c->add};
    return vkq__recording_dispatch(rec, pl, b, &push, (uint32_t)gx, (uint32_t)gy, 1);
}

vkq_status vkq__matmul_record(vkq__recording *rec, const vkq__mul_mat_args *a,
                              const vkq__product_format *f, const vkq__mul_mat_config *cfg,
                              char *variant) {
    vkq_context *ctx = vkq__recording_context(rec);
    matmul_plan p;
    vkq_status st = matmul_plan_make(ctx, f, cfg, &p);
    if (st) return st;
    if (variant) snprintf(variant, 96, "matmul_%s tile %u x %u x %u, %u x %u per invocation", f->name, p.tm, p.tn,
                          p.tk, p.rm, p.rn);
    /* Vectors per dispatch: as many as the grid's y dimension holds. */
    uint64_t max_vectors = (uint64_t)p.tn * ctx->caps.info.max_workgroup_count[1];
    return vkq__product_for_each_chunk(rec, a, f, (uint32_t)VKQ__MIN(max_vectors, UINT32_MAX),
                                       matmul_chunk, &p);
}

/*
 * runner.c - one scenario on one fresh machine: the simulator's boot loader
 * runs the shared kernel boot and the workload executor; counters are
 * gathered at every mark and at the end.
 */
#include "tools/runner.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocators/heap.h"
#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "kernel/layout.h"
#include "sim/bootload.h"

void
run_options_default(struct run_options *o)
{
    memset(o, 0, sizeof(*o));
    cost_model_default(&o->cost);
    o->view_mark = -1;
}

bool
run_check_strategy(const struct scenario *sc, const char *strategy, char *err, size_t len)
{
    bool from_script = strcmp(strategy, sc->strategy) == 0 && sc->strategy_line != 0;
    char where[300];
    if (from_script)
        snprintf(where, sizeof(where), "%s:%u:%u", sc->file, sc->strategy_line, sc->strategy_col);
    else
        snprintf(where, sizeof(where), "command line");
    const struct vmm_ops *ops = vmm_find(strategy);
    if (ops == NULL) {
        char list[128];
        snprintf(list, sizeof(list), "%s", RUN_STRATEGIES);
        for (char *c = list; *c; c++)
            if (*c == ',') {
                memmove(c + 1, c, strlen(c) + 1);
                c[0] = ',';
                c[1] = ' ';
                c++;
            }
        snprintf(err, len, "%s: error: unknown strategy '%s' (%s)", where, strategy, list);
        return false;
    }
    uint64_t reach = (uint64_t)ops->reach_frames << PAGE_SHIFT;
    if (reach < sc->ram_size) {
        if (sc->ram_line != 0)
            snprintf(where, sizeof(where), "%s:%u:%u", sc->file, sc->ram_line, sc->ram_col);
        snprintf(err, len,
                 "%s: error: strategy %s reaches only %llu MiB of physical memory; this machine "
                 "has %llu MiB (use ram=%lluM or less)",
                 where, strategy, (unsigned long long)(reach >> 20),
                 (unsigned long long)(sc->ram_size >> 20), (unsigned long long)(reach >> 20));
        return false;
    }
    return true;
}

struct run_ctx {
    const struct scenario *sc;
    const struct run_options *o;
    struct run_result *r;
};

/* Everything the report shows, read from the machine and the kernel.  It
 * runs inside the machine (at a mark) or just after it (at the end). */
static void
collect(struct sim *s, const struct vmm_stats *vs, const struct pmm_stats *ps,
        const struct heap_stats *hs, const struct cost_model *cm, struct counters *c)
{
    const struct mmu_counters *m = &sim_mmu(s)->ctr;
    const struct sim_stats *st = sim_stats(s);
    memset(c, 0, sizeof(*c));
    c->v[CTR_READS] = m->accesses[MMU_SUP_READ] + m->accesses[MMU_USER_READ];
    c->v[CTR_WRITES] = m->accesses[MMU_SUP_WRITE] + m->accesses[MMU_USER_WRITE];
    c->v[CTR_ACCESSES] = c->v[CTR_READS] + c->v[CTR_WRITES];
    c->v[CTR_USER_ACCESSES] = m->accesses[MMU_USER_READ] + m->accesses[MMU_USER_WRITE];
    c->v[CTR_TLB_HITS] = m->tlb_hits;
    c->v[CTR_TLB_MISSES] = m->tlb_misses;
    uint64_t paged = m->tlb_hits + m->tlb_misses + m->dirty_rewalks;
    c->v[CTR_TLB_HIT_PERMILLE] = paged ? m->tlb_hits * 1000 / paged : 0;
    c->v[CTR_WALKS] = m->walks;
    c->v[CTR_WALK_READS] = m->walk_reads;
    c->v[CTR_AD_UPDATES] = m->ad_updates;
    c->v[CTR_DIRTY_REWALKS] = m->dirty_rewalks;
    c->v[CTR_FAULTS] = m->faults;
    c->v[CTR_INVLPG] = m->invlpg;
    c->v[CTR_CR3_WRITES] = m->cr3_writes;
    c->v[CTR_FULL_FLUSHES] = m->full_flushes;
    c->v[CTR_DROPPED_INVLPG] = m->dropped_invlpg;
    c->v[CTR_DROPPED_CR3] = m->dropped_cr3;
    c->v[CTR_DROPPED_FULL] = m->dropped_full;
    c->v[CTR_EVICTIONS] = m->evictions;
    c->v[CTR_GLOBALS_KEPT] = m->globals_kept;
    c->v[CTR_RECURSIVE_ACCESSES] = st->region_accesses[SIM_REGION_RECURSIVE];
    c->v[CTR_FOREIGN_ACCESSES] = st->region_accesses[SIM_REGION_FOREIGN];
    c->v[CTR_TEMPMAP_ACCESSES] = st->region_accesses[SIM_REGION_TEMPMAP];
    c->v[CTR_DIRECTMAP_ACCESSES] = st->region_accesses[SIM_REGION_DIRECTMAP];
    run_kernel_counters(vs, ps, hs, sim_ram_size(s), c);
    counters_apply_cost(c, cm);
}

void
run_kernel_counters(const struct vmm_stats *vs, const struct pmm_stats *ps,
                    const struct heap_stats *hs, uint64_t ram, struct counters *c)
{
    c->v[CTR_FOREIGN_SWITCHES] = vs->foreign_switches;
    c->v[CTR_TEMPMAP_MAPS] = vs->tmp_maps;
    c->v[CTR_TEMPMAP_REUSES] = vs->tmp_reuses;
    c->v[CTR_PD_FRAMES] = vs->pd_frames;
    c->v[CTR_PT_FRAMES] = vs->pt_frames;
    c->v[CTR_FRAMES_USED] = ps->total_frames - ps->free_frames - ps->reserved_frames;
    c->v[CTR_HEAP_USED] = hs->used_bytes;
    c->v[CTR_HEAP_WASTED] = hs->wasted_bytes;
    c->v[CTR_HEAP_PAGING] = vs->heap_bytes;
    c->v[CTR_KVA_BYTES] = vs->kva_bytes;
    uint64_t reach = (uint64_t)vs->reach_frames << PAGE_SHIFT;
    c->v[CTR_REACH_BYTES] = reach < ram ? reach : ram;
}

const char *
run_default_pmm(const struct scenario *sc, const char *strategy)
{
    if (sc->pmm[0] != '\0')
        return sc->pmm;
    return strcmp(strategy, "recursive") == 0 ? "stack" : "bitmap";
}

/* The live slots of the workload and their directories. */
static unsigned
live_spaces(const struct scenario *sc, struct run_space *out)
{
    unsigned n = 0;
    uint32_t cur = vmm_current();
    for (uint32_t slot = 0; slot < sc->nspaces; slot++) {
        uint32_t h;
        const struct vmm_space *vs;
        if (!wl_slot_space(slot, &h) || (vs = vmm_space_info(h)) == NULL)
            continue;
        out[n].name = sc->spaces[slot];
        out[n].pd = vs->vs_pd_pa;
        out[n].current = h == cur;
        n++;
    }
    return n;
}

static void
view(struct run_ctx *x, struct sim *s)
{
    struct run_space *spaces = calloc(x->sc->nspaces + 1, sizeof(*spaces));
    if (spaces == NULL)
        return;
    unsigned n = live_spaces(x->sc, spaces);
    x->o->view_fn(x->o->view_ctx, s, spaces, n);
    free(spaces);
}

static void
on_mark(void *ctx, struct sim *s, uint32_t id)
{
    struct run_ctx *x = ctx;
    struct counters *at;
    if (id == WL_MARK_WORKLOAD) {
        at = &x->r->boot;
        x->r->boot_done = true;
    } else if (id < x->r->nmarks) {
        at = &x->r->marks[id];
        x->r->reached[id] = true;
    } else {
        return;
    }
    struct vmm_stats vs;
    struct pmm_stats ps;
    struct heap_stats hs;
    vmm_stats(&vs);
    pmm_stats(&ps);
    heap_stats(&hs);
    collect(s, &vs, &ps, &hs, &x->o->cost, at);
    if (id == WL_MARK_WORKLOAD)
        return;
    if (x->o->view_fn != NULL && x->o->view_mark == (int)id)
        view(x, s);
}

/* One trace line: where in the scenario (or "boot"), what, its effect, and
 * the kernel function that did it. */
static void
on_event(void *ctx, struct sim *s, const struct sim_event *ev)
{
    static const char *const names[] = {"invlpg", "cr0", "cr3", "cr4", "#PF"};
    struct run_ctx *x = ctx;
    char where[300] = "boot", effect[64];
    uint32_t line;
    vaddr_t op = wl_current_op();
    if (op != 0 &&
        sim_read_virt(s, op + (vaddr_t)offsetof(struct wl_op, line), &line, sizeof(line)))
        snprintf(where, sizeof(where), "%s:%u", x->sc->file, line);
    if (ev->kind == SIM_EV_FAULT)
        snprintf(effect, sizeof(effect), "error 0x%x", ev->error);
    else if (ev->kind == SIM_EV_CR3)
        snprintf(effect, sizeof(effect), "dropped %llu, kept %llu", (unsigned long long)ev->dropped,
                 (unsigned long long)ev->kept);
    else
        snprintf(effect, sizeof(effect), "dropped %llu", (unsigned long long)ev->dropped);
    fprintf(x->o->trace, "%-28s %-6s 0x%08x  %-22s %s\n", where, names[ev->kind], ev->value, effect,
            ev->where);
}

/* The kernel's own figures, read after a run stopped inside the kernel (the
 * boot loader gathers them only when the kernel returns). */
struct kstats {
    struct vmm_stats vmm;
    struct pmm_stats pmm;
    struct heap_stats heap;
};

static void
read_kstats(void *arg)
{
    struct kstats *k = arg;
    vmm_stats(&k->vmm);
    pmm_stats(&k->pmm);
    heap_stats(&k->heap);
}

struct end_view {
    struct run_ctx *x;
    struct sim *s;
};

static void
view_at_end(void *arg)
{
    struct end_view *e = arg;
    view(e->x, e->s);
}

static void
describe_failure(struct sim *s, enum bootload_status st, const struct bootload_result *br,
                 const struct scenario *sc, char *buf, size_t len)
{
    switch (st) {
    case BOOTLOAD_STOPPED: {
        size_t n = 0;
        uint32_t line;
        vaddr_t op = wl_current_op();
        if (br->boot == BOOT_OK && op != 0 && /* stopped in the workload */
            sim_read_virt(s, op + (vaddr_t)offsetof(struct wl_op, line), &line, sizeof(line)))
            n = (size_t)snprintf(buf, len, "%s:%u: while running this line:\n", sc->file, line);
        if (n < len)
            sim_format_stop(sim_last_stop(s), buf + n, len - n);
        break;
    }
    case BOOTLOAD_BOOT_FAILED:
        snprintf(buf, len, "kernel boot failed: %s", boot_strerror(br->boot));
        break;
    case BOOTLOAD_WORKLOAD_FAILED:
        snprintf(buf, len, "%s:%u: the kernel refused this operation: %s", sc->file, br->wl.line,
                 wl_strerror(br->wl.status));
        break;
    default:
        snprintf(buf, len, "%s", bootload_strerror(st));
        break;
    }
    size_t l = strlen(buf);
    while (l > 0 && buf[l - 1] == '\n')
        buf[--l] = '\0';
}

bool
run_scenario(const struct scenario *sc, const struct run_options *o, struct run_result *r,
             char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->strategy, sizeof(r->strategy), "%s", o->strategy ? o->strategy : sc->strategy);
    r->nmarks = sc->nmarks;
    r->marks = calloc(sc->nmarks + 1, sizeof(*r->marks));
    r->reached = calloc(sc->nmarks + 1, sizeof(*r->reached));
    if (r->marks == NULL || r->reached == NULL) {
        snprintf(err, errlen, "out of host memory");
        return false;
    }
    struct sim_config cfg;
    sim_config_default(&cfg);
    cfg.ram_size = sc->ram_size;
    cfg.mmu = sc->mmu;
    struct sim *s = sim_create(&cfg, err, errlen);
    if (s == NULL) {
        run_result_free(r);
        return false;
    }
    struct run_ctx x = {sc, o, r};
    sim_set_mark(s, on_mark, &x);
    if (o->trace != NULL)
        sim_set_event(s, on_event, &x);

    struct bootload_config bc = {
        .strategy = r->strategy,
        .pmm = run_default_pmm(sc, r->strategy),
        .cr4 = (sc->pse ? CR4_PSE : 0) | (sc->pge ? CR4_PGE : 0),
        .ops = sc->ops,
        .nops = sc->nops,
    };
    struct bootload_result br;
    enum bootload_status st = bootload_run(s, &bc, &br);
    r->ok = st == BOOTLOAD_OK;
    if (!r->ok)
        describe_failure(s, st, &br, sc, r->error, sizeof(r->error));
    if (st == BOOTLOAD_STOPPED) {
        r->stop = *sim_last_stop(s);
        struct kstats k;
        if (sim_run(s, read_kstats, &k)) {
            br.vmm = k.vmm;
            br.pmm = k.pmm;
            br.heap = k.heap;
        }
    } else if (o->view_fn != NULL && o->view_mark < 0) {
        struct end_view e = {&x, s};
        sim_run(s, view_at_end, &e);
    }
    collect(s, &br.vmm, &br.pmm, &br.heap, &o->cost, &r->final);
    /* The workload's own figures: boot's events taken out of every mark. */
    if (r->boot_done && !o->with_boot) {
        counters_since(&r->final, &r->boot, &o->cost);
        for (uint32_t i = 0; i < r->nmarks; i++)
            if (r->reached[i])
                counters_since(&r->marks[i], &r->boot, &o->cost);
    }
    if (br.vmm.unreachable_frames != 0)
        r->reach_limit_mb = br.vmm.reach_frames >> (20 - PAGE_SHIFT);
    sim_destroy(s);
    return true;
}

void
run_result_free(struct run_result *r)
{
    free(r->marks);
    free(r->reached);
    r->marks = NULL;
    r->reached = NULL;
}

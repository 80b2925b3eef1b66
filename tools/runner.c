/*
 * runner.c - one scenario on one fresh machine: the simulator's boot loader
 * runs the shared kernel boot and the workload executor; counters are
 * gathered at every mark and at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include "tools/runner.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/bootload.h"
#include "tools/callers.h"
#include "tools/registry.h"
#include "tools/timeline.h"

void
run_options_default(struct run_options *o)
{
    memset(o, 0, sizeof(*o));
    cost_model_default(&o->cost);
    o->view_mark = -1;
    o->diff_mark = -1;
    o->max_ops = RUN_MAX_OPS_DEFAULT;
}

const char *
run_strategy_name(const struct scenario *sc, const char *given)
{
    if (given != NULL)
        return given;
    return sc->strategy[0] != '\0' ? sc->strategy : reg_default_strategy();
}

bool
run_check_pmm(const struct scenario *sc, char *err, size_t len)
{
    if (sc->pmm[0] == '\0' || reg_pmm_exists(sc->pmm))
        return true;
    char where[300], list[128];
    if (sc->pmm_line != 0)
        snprintf(where, sizeof(where), "%s:%u:%u", sc->file, sc->pmm_line, sc->pmm_col);
    else
        snprintf(where, sizeof(where), "command line");
    reg_names(true, ", ", list, sizeof(list));
    snprintf(err, len, "%s: error: unknown frame allocator '%s' (%s)", where, sc->pmm, list);
    return false;
}

bool
run_set_pmm(struct scenario *sc, const char *pmm, char *err, size_t len)
{
    if (pmm != NULL) {
        snprintf(sc->pmm, sizeof(sc->pmm), "%s", pmm);
        sc->pmm_line = 0;
    }
    return run_check_pmm(sc, err, len);
}

void
run_bootload_config(const struct scenario *sc, const char *strategy, const char *pmm,
                    struct bootload_config *bc)
{
    *bc = (struct bootload_config){
        .strategy = strategy,
        .pmm = pmm,
        .cr4 = (sc->pse ? CR4_PSE : 0) | (sc->pge ? CR4_PGE : 0),
        .flags = sc->kernel4m ? KMOD_FLAG_KERNEL4M : 0,
        .ops = sc->ops,
        .nops = sc->nops,
    };
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
    struct reg_strategy rs;
    if (!reg_strategy_find(strategy, &rs)) {
        char list[512];
        reg_names(false, ", ", list, sizeof(list));
        snprintf(err, len, "%s: error: unknown strategy '%s' (%s)", where, strategy, list);
        return false;
    }
    uint64_t reach = rs.reach_bytes;
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
    struct timespec start; /* progress: when the run began */
    int shown;             /* progress: width of the line on stderr, 0 if none */
    double shown_at;       /* progress: when it was last written (seconds into the run) */
    char log_last[256];    /* the last kernel log line */
    uint32_t log_op;       /* where the kernel was (sim_kernel_at) when it was written */
    struct sim *s;         /* the machine of this run */
    bool logged;
    struct timeline *tl; /* --trace-json, NULL if not asked */
};

/* A figure the kernel published on the simulator (run_figure_fn). */
static bool
sim_fig(void *ctx, const char *name, uint32_t *value)
{
    return sim_figure(ctx, name, value);
}

/* A figure the kernel published, 0 if it did not. */
static uint32_t
figure_or_0(run_figure_fn fig, void *ctx, const char *name)
{
    uint32_t v = 0;
    return fig(ctx, name, &v) ? v : 0;
}

static uint32_t
fig(struct sim *s, const char *name)
{
    return figure_or_0(sim_fig, s, name);
}

/* The kernel publishes its figures and live spaces (a run that stopped
 * inside the kernel did not get to do it at its end). */
static void
publish(void *arg)
{
    (void)arg;
    wl_publish();
}

void
run_mmu_counters(const struct mmu_counters *m, struct counters *c)
{
    c->v[CTR_READS] = m->accesses[MMU_SUP_READ] + m->accesses[MMU_USER_READ];
    c->v[CTR_WRITES] = m->accesses[MMU_SUP_WRITE] + m->accesses[MMU_USER_WRITE];
    c->v[CTR_ACCESSES] = c->v[CTR_READS] + c->v[CTR_WRITES];
    c->v[CTR_USER_ACCESSES] = m->accesses[MMU_USER_READ] + m->accesses[MMU_USER_WRITE];
    c->v[CTR_TLB_HITS] = m->tlb_hits;
    c->v[CTR_TLB_MISSES] = m->tlb_misses;
    c->v[CTR_WALKS] = m->walks;
    c->v[CTR_WALK_READS] = m->walk_reads;
    c->v[CTR_AD_UPDATES] = m->ad_updates;
    c->v[CTR_DIRTY_REWALKS] = m->dirty_rewalks;
    c->v[CTR_FAULTS] = m->faults;
    c->v[CTR_TLB_STALE_USES] = m->stale_uses + m->stale_pde;
    c->v[CTR_TLB_STALE_HARMLESS] = m->stale_harmless;
    c->v[CTR_INVLPG] = m->invlpg;
    c->v[CTR_CR3_WRITES] = m->cr3_writes;
    c->v[CTR_FULL_FLUSHES] = m->full_flushes;
    c->v[CTR_DROPPED_INVLPG] = m->dropped_invlpg;
    c->v[CTR_DROPPED_CR3] = m->dropped_cr3;
    c->v[CTR_DROPPED_FULL] = m->dropped_full;
    c->v[CTR_EVICTIONS] = m->evictions;
    c->v[CTR_GLOBALS_KEPT] = m->globals_kept;
    c->v[CTR_LINT_USELESS_INVLPG] = m->lint[MMU_LINT_USELESS_INVLPG];
    c->v[CTR_LINT_CR3_FLUSH] = m->lint[MMU_LINT_CR3_FLUSH];
    c->v[CTR_LINT_WINDOW_FLUSH] = m->lint[MMU_LINT_WINDOW_FLUSH];
}

/*
 * Everything the report shows, read from the machine and the kernel.  It
 * runs inside the machine (at a mark) or just after it (at the end).
 *
 * Frames in use are counted from the allocators, independently of what
 * the kernel says they hold: those the PMM handed out, the placement
 * memory taken at boot (whole frames) and the boot directory's early
 * tables the kernel still uses (in the image).  The rows frames.pd,
 * frames.pt, frames.data, frames.heap and frames.boot say what they hold
 * and add up to it (tests/cli.sh checks that on every shipped scenario).
 */
static void
collect(struct sim *s, const struct cost_model *cm, struct counters *c)
{
    memset(c, 0, sizeof(*c));
    run_mmu_counters(&sim_mmu(s)->ctr, c);
    /* NAME.accesses of the reach group: the kernel's region NAME. */
    for (int i = 0; i < CTR_COUNT; i++) {
        const char *name = counter_info[i].name, *dot = strrchr(name, '.');
        char region[SIM_REGION_NAME_MAX];
        if (strcmp(counter_info[i].group, "reach") != 0 || dot == NULL ||
            strcmp(dot, ".accesses") != 0 || (size_t)(dot - name) >= sizeof(region))
            continue;
        memcpy(region, name, (size_t)(dot - name));
        region[dot - name] = '\0';
        c->v[i] = sim_region_accesses(s, region);
    }
    c->v[CTR_RECURSIVE_LARGE_PAGE_HITS] = sim_stats(s)->large_page_hits;
    run_kernel_counters(sim_fig, s, sim_ram_size(s), c);
    counters_derive(c, cm);
}

void
run_kernel_counters(run_figure_fn fig, void *ctx, uint64_t ram, struct counters *c)
{
#define F(name) figure_or_0(fig, ctx, name)
    c->v[CTR_FOREIGN_SWITCHES] = F("vmm.foreign_switches");
    c->v[CTR_TEMPMAP_MAPS] = F("vmm.tmp_maps");
    c->v[CTR_TEMPMAP_REUSES] = F("vmm.tmp_reuses");
    uint32_t placement_frames = (F("placement.used_bytes") + PAGE_SIZE - 1) / PAGE_SIZE;
    uint32_t pt = F("vmm.pt_frames"), kpt = F("vmm.kernel_pt_frames");
    c->v[CTR_PD_FRAMES] = F("vmm.pd_frames");
    c->v[CTR_PT_FRAMES] = pt;
    c->v[CTR_PT_USER_FRAMES] = pt - kpt;
    c->v[CTR_PT_KERNEL_FRAMES] = kpt;
    c->v[CTR_DATA_FRAMES] = F("vmm.user_pages");
    c->v[CTR_HEAP_FRAMES] = F("vmm.kernel_pages") - F("vmm.heap_paging_frames");
    c->v[CTR_BOOT_FRAMES] = placement_frames - F("vmm.boot_bytes") / PAGE_SIZE;
    c->v[CTR_FRAMES_USED] =
        (F("pmm.total_frames") - F("pmm.free_frames") - F("pmm.reserved_frames")) +
        placement_frames + F("vmm.early_pt_frames");
    c->v[CTR_HEAP_USED] = F("heap.used_bytes") + F("pageheap.used_bytes");
    c->v[CTR_HEAP_WASTED] = F("heap.wasted_bytes");
    c->v[CTR_HEAP_PAGING] = F("vmm.heap_bytes");
    c->v[CTR_KVA_BYTES] = F("vmm.kva_bytes");
    uint64_t reach = (uint64_t)F("vmm.reach_frames") << PAGE_SHIFT;
    c->v[CTR_REACH_BYTES] = reach < ram ? reach : ram;
#undef F
}

const char *
run_expect_name(enum run_expect e)
{
    static const char *const names[] = {
        [RUN_EXPECT_PASS] = "pass",
        [RUN_EXPECT_FAIL] = "FAIL",
        [RUN_EXPECT_NOT_REACHED] = "not reached",
        [RUN_EXPECT_NOT_MEASURED] = "not measured",
    };
    return names[e];
}

enum run_expect
run_expect_outcome(const struct scenario *sc, const struct run_result *r, uint32_t i, uint64_t *v,
                   uint64_t *w)
{
    const struct scn_expect *e = &sc->expects[i];
    int id = counter_find(e->counter);
    int rid = e->rhs[0] != '\0' ? counter_find(e->rhs) : -1;
    *v = *w = 0;
    if (!r->reached[e->mark])
        return RUN_EXPECT_NOT_REACHED;
    if ((r->unmeasured & (1ull << id)) || (rid >= 0 && (r->unmeasured & (1ull << rid))))
        return RUN_EXPECT_NOT_MEASURED;
    *v = r->marks[e->mark].v[id];
    *w = rid >= 0 ? r->marks[e->mark].v[rid] : e->value;
    return scn_cmp_eval(e->cmp, *v, *w) ? RUN_EXPECT_PASS : RUN_EXPECT_FAIL;
}

bool
run_expectations_pass(const struct scenario *sc, const struct run_result *r)
{
    if (!r->ok)
        return false;
    for (uint32_t i = 0; i < sc->nexpects; i++) {
        uint64_t v, w;
        enum run_expect o = run_expect_outcome(sc, r, i, &v, &w);
        if (o != RUN_EXPECT_PASS && o != RUN_EXPECT_NOT_MEASURED)
            return false;
    }
    return true;
}

const char *
run_default_pmm(const struct scenario *sc, const char *strategy)
{
    struct reg_strategy rs;
    if (sc->pmm[0] != '\0')
        return sc->pmm;
    /* An unknown strategy gets none: its boot fails on the name. */
    return reg_strategy_find(strategy, &rs) ? rs.pmm : "";
}

/* The live spaces the kernel published, by their scenario names. */
static unsigned
live_spaces(const struct scenario *sc, const struct sim *s, struct run_space *out)
{
    unsigned n = 0, np;
    const struct sim_space *sp = sim_spaces(s, &np);
    for (unsigned i = 0; i < np; i++) {
        if (sp[i].id >= sc->nspaces)
            continue;
        out[n].name = sc->spaces[sp[i].id];
        out[n].pd = sp[i].pd;
        out[n].current = sp[i].current;
        n++;
    }
    return n;
}

static void
view(struct run_ctx *x, struct sim *s)
{
    unsigned np;
    sim_spaces(s, &np);
    struct run_space *spaces = calloc(np + 1, sizeof(*spaces));
    if (spaces == NULL)
        return;
    unsigned n = live_spaces(x->sc, s, spaces);
    x->o->view_fn(x->o->view_ctx, s, spaces, n);
    free(spaces);
}

/* The scenario line of the op the kernel said it is running, 0 if none. */
static uint32_t
current_line(const struct scenario *sc, const struct sim *s)
{
    uint32_t op = sim_kernel_at(s); /* index + 1 */
    return op != 0 && op <= sc->nops ? sc->ops[op - 1].line : 0;
}

/* The progress line: from PROGRESS_AFTER seconds into a run, at most
 * PROGRESS_RATE times a second. */
#define PROGRESS_AFTER 3.0
#define PROGRESS_RATE 4.0
static void
progress(struct run_ctx *x, const struct sim *s)
{
    struct timespec now;
    if (!x->o->progress)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double t =
        (double)(now.tv_sec - x->start.tv_sec) + (double)(now.tv_nsec - x->start.tv_nsec) / 1e9;
    if (t < PROGRESS_AFTER || t < x->shown_at + 1.0 / PROGRESS_RATE)
        return;
    char limit[32] = "";
    if (x->o->max_ops != 0)
        snprintf(limit, sizeof(limit), " of %u", x->o->max_ops);
    uint32_t done = 0;
    sim_figure(s, "wl.executed", &done);
    int n = fprintf(stderr, "\rpagesim: %s: %u%s operations, %s:%u, %.0f s", x->r->strategy, done,
                    limit, x->sc->file, current_line(x->sc, s), t);
    if (n > 0 && n < x->shown)
        fprintf(stderr, "%*s", x->shown - n, "");
    if (n > x->shown)
        x->shown = n;
    x->shown_at = t;
    fflush(stderr);
}

static void
on_mark(void *ctx, struct sim *s, uint32_t id)
{
    struct run_ctx *x = ctx;
    if (id == WL_MARK_PROGRESS) {
        progress(x, s);
        return;
    }
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
    collect(s, &x->o->cost, at);
    if (id == WL_MARK_WORKLOAD) {
        if (!x->o->with_boot)
            sim_profile_reset(s);
        return;
    }
    if (x->o->view_fn != NULL && (x->o->view_mark == (int)id || x->o->diff_mark == (int)id))
        view(x, s);
}

/*
 * The cycles a linted event wasted by the cost model: a useless INVLPG its
 * invlpg cost; a CR3 flush its cr3_write cost, plus a refill walk (2
 * walk_reads) for each entry it removed beyond the needed ones, minus the
 * needed INVLPGs it saved (at least 0).
 */
static uint64_t
run_lint_wasted(const struct cost_model *cm, enum mmu_lint kind, uint64_t dropped, uint32_t needed)
{
    if (kind == MMU_LINT_USELESS_INVLPG)
        return cm->invlpg;
    if (kind == MMU_LINT_NONE)
        return 0;
    uint64_t cost = cm->cr3_write + 2 * cm->walk_read * (dropped > needed ? dropped - needed : 0);
    uint64_t saved = (uint64_t)needed * cm->invlpg;
    return cost > saved ? cost - saved : 0;
}

/* Adds a linted event to the run's table (run_options.explain). */
static void
add_lint(struct run_ctx *x, const struct sim_event *ev)
{
    const char *site = ev->chain[callers_site(ev->chain, ev->nchain)];
    struct run_result *r = x->r;
    struct run_lint *l = NULL;
    for (unsigned i = 0; i < r->nlint && l == NULL; i++)
        if (r->lint[i].kind == ev->lint && strcmp(r->lint[i].site, site) == 0)
            l = &r->lint[i];
    if (l == NULL && r->nlint < RUN_LINT_MAX) {
        l = &r->lint[r->nlint++];
        l->kind = ev->lint;
        snprintf(l->site, sizeof(l->site), "%s", site);
    }
    if (l == NULL)
        l = &r->lint_other;
    l->count++;
    l->wasted += run_lint_wasted(&x->o->cost, ev->lint, ev->dropped, ev->lint_needed);
}

static int
lint_order(const void *a, const void *b)
{
    const struct run_lint *p = a, *q = b;
    if (p->kind != q->kind)
        return p->kind < q->kind ? -1 : 1;
    if (p->wasted != q->wasted)
        return p->wasted > q->wasted ? -1 : 1;
    return strcmp(p->site, q->site);
}

void
run_lint_report(FILE *out, const struct run_result *r)
{
    struct run_lint sorted[RUN_LINT_MAX];
    memcpy(sorted, r->lint, r->nlint * sizeof(sorted[0]));
    qsort(sorted, r->nlint, sizeof(sorted[0]), lint_order);
    fprintf(out, "Flush lint by call site (kind, site, count, wasted cycles):\n");
    if (r->nlint == 0)
        fprintf(out, "  none\n");
    for (unsigned i = 0; i < r->nlint; i++)
        fprintf(out, "  %-15s %-28s %8llu %10llu\n", mmu_lint_name(sorted[i].kind), sorted[i].site,
                (unsigned long long)sorted[i].count, (unsigned long long)sorted[i].wasted);
    if (r->lint_other.count != 0)
        fprintf(out, "  %-15s %-28s %8llu %10llu\n", "(other sites)", "",
                (unsigned long long)r->lint_other.count, (unsigned long long)r->lint_other.wasted);
}

/* sim_event_fn: the event into the flush lint (--explain) and the timeline,
 * and one trace line: where in the scenario (or "boot"), what, its effect,
 * and the kernel functions that did it, up to the first that is not a
 * wrapper. */
static void
on_event(void *ctx, struct sim *s, const struct sim_event *ev)
{
    struct run_ctx *x = ctx;
    char where[300], effect[64], who[CALLERS_TEXT_MAX];
    if (x->o->explain && ev->lint != MMU_LINT_NONE && (x->r->boot_done || x->o->with_boot))
        add_lint(x, ev);
    if (x->tl != NULL)
        timeline_event(x->tl, s, ev);
    if (x->o->trace == NULL)
        return;
    scn_where(x->sc, sim_kernel_at(s), where, sizeof(where));
    const char *name = timeline_event_text(ev, effect, sizeof(effect));
    callers_format(ev->chain, ev->nchain, who, sizeof(who));
    fprintf(x->o->trace, "%-28s %-6s 0x%08x  %-22s %s\n", where, name, ev->value, effect, who);
}

static void
on_at(void *ctx, struct sim *s, uint32_t where)
{
    timeline_at(((struct run_ctx *)ctx)->tl, s, where);
}

static void
on_stale(void *ctx, struct sim *s, const struct mmu_stale *st, const struct sim_stale_case *c)
{
    timeline_stale(((struct run_ctx *)ctx)->tl, s, st, c);
}

static void
on_log(void *ctx, const char *line)
{
    struct run_ctx *x = ctx;
    if (x->o->log != NULL)
        fprintf(x->o->log, "  %s\n", line);
    snprintf(x->log_last, sizeof(x->log_last), "%s", line);
    x->log_op = x->s != NULL ? sim_kernel_at(x->s) : 0;
    x->logged = true;
}

/* The failing op of a workload error as the scenario says it, with the
 * space or allocation it was about by name: 'map in "shell"'. */
static void
describe_op(const struct scenario *sc, const struct wl_error *e, char *buf, size_t len)
{
    static const char *const words[WL_NOPS] = {
        [WL_SPACE_CREATE] = "space create",
        [WL_SPACE_DESTROY] = "space destroy",
        [WL_SPACE_SWITCH] = "space switch",
        [WL_SPACE_FORK] = "space fork",
        [WL_MAP] = "map in",
        [WL_UNMAP] = "unmap in",
        [WL_TOUCH] = "touch",
        [WL_KMALLOC] = "kmalloc",
        [WL_KFREE] = "kfree",
    };
    uint32_t op = e->op_index < sc->nops ? WL_OPCODE(sc->ops[e->op_index].op) : WL_NOPS;
    const char *word = op < WL_NOPS && words[op] != NULL ? words[op] : "operation";
    bool alloc = op == WL_KMALLOC || op == WL_KFREE;
    const char *name = NULL;
    if (alloc && e->object < sc->nhandles)
        name = sc->handles[e->object];
    else if (!alloc && e->object < sc->nspaces)
        name = sc->spaces[e->object];
    /* A fork's error is about its source when the source is what is missing. */
    const char *from =
        op == WL_SPACE_FORK && (e->status == WL_NO_SPACE || e->status == WL_DESTROYED) ? " from"
                                                                                       : "";
    if (name != NULL)
        snprintf(buf, len, "%s%s \"%s\"", word, from, name);
    else if ((op == WL_MAP || op == WL_UNMAP) && sc->ops[e->op_index].a == WL_CURRENT)
        snprintf(buf, len, "%s the current space", word);
    else if (op == WL_MAP || op == WL_UNMAP) /* the space is not known (a metal report) */
        snprintf(buf, len, "%s", op == WL_MAP ? "map" : "unmap");
    else
        snprintf(buf, len, "%s", word);
}

void
run_describe_wl(const struct scenario *sc, const struct wl_error *e, uint32_t max_ops, char *buf,
                size_t len)
{
    if (e->status == WL_LIMIT) {
        snprintf(buf, len,
                 "%s:%u: stopped before this line: the run reached its limit of %u executed "
                 "operations (--max-ops N raises it; 0 for no limit)",
                 sc->file, e->line, max_ops);
        return;
    }
    char what[SCN_NAME_MAX + 32];
    describe_op(sc, e, what, sizeof(what));
    snprintf(buf, len, "%s:%u: %s failed: %s", sc->file, e->line, what, wl_strerror(e->status));
}

/* Adds the kernel log line the failing op (or the boot) wrote, if any. */
static void
quote_log(const struct run_ctx *x, enum bootload_status st, char *buf, size_t len)
{
    uint32_t op = sim_kernel_at(x->s);
    bool in_op = st == BOOTLOAD_WORKLOAD_FAILED || (st == BOOTLOAD_STOPPED && op != 0) ||
                 st == BOOTLOAD_BOOT_FAILED;
    size_t n = strlen(buf);
    if (x->logged && in_op && x->log_op == op && n < len)
        snprintf(buf + n, len - n, "\nkernel log: %s", x->log_last);
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
                 const struct scenario *sc, uint32_t max_ops, char *buf, size_t len)
{
    switch (st) {
    case BOOTLOAD_STOPPED: {
        size_t n = 0;
        uint32_t line = current_line(sc, s);
        if (br->boot == BOOT_OK && line != 0) /* stopped in the workload */
            n = (size_t)snprintf(buf, len, "%s:%u: while running this line:\n", sc->file, line);
        if (n < len)
            sim_format_stop(sim_last_stop(s), buf + n, len - n);
        break;
    }
    case BOOTLOAD_SETUP_FAILED:
        snprintf(buf, len, "%s: %s", bootload_strerror(st), br->setup_error);
        break;
    case BOOTLOAD_BOOT_FAILED:
        snprintf(buf, len, "kernel boot failed: %s", boot_strerror(br->boot));
        break;
    case BOOTLOAD_WORKLOAD_FAILED:
        run_describe_wl(sc, &br->wl, max_ops, buf, len);
        break;
    default:
        snprintf(buf, len, "%s", bootload_strerror(st));
        break;
    }
    size_t l = strlen(buf);
    while (l > 0 && buf[l - 1] == '\n')
        buf[--l] = '\0';
}

/* One line "  LABEL at WHERE by CHAIN" of a stale case. */
static size_t
chain_line(const struct scenario *sc, const char *label, uint32_t at,
           const char (*names)[SIM_NAME_MAX], unsigned n, char *buf, size_t len)
{
    const char *chain[SIM_CHAIN_MAX];
    char where[300], who[CALLERS_TEXT_MAX];
    for (unsigned i = 0; i < n; i++)
        chain[i] = names[i];
    scn_where(sc, at, where, sizeof(where));
    if (n != 0)
        callers_format(chain, n, who, sizeof(who));
    else
        snprintf(who, sizeof(who), "(not known)");
    int k = snprintf(buf, len, "  %s at %s by %s\n", label, where, who);
    return k < 0 ? 0 : (size_t)k;
}

/* The detector's cases, one paragraph each, then the first access through
 * a window that reached a large page's data, into buf (empty if none). */
static void
format_stale(const struct scenario *sc, const struct sim *s, char *buf, size_t len)
{
    unsigned n;
    const struct sim_stale_case *cs = sim_stale_cases(s, &n);
    size_t used = 0;
    buf[0] = '\0';
#define ADD(expr)                                                                                  \
    do {                                                                                           \
        if (used < len)                                                                            \
            used += (expr);                                                                        \
    } while (0)
#define PUT(...) ADD((size_t)snprintf(buf + used, len - used, __VA_ARGS__))
    for (unsigned i = 0; i < n; i++) {
        const struct sim_stale_case *c = &cs[i];
        const struct mmu_stale *st = &c->st;
        const char *what = st->cls == MMU_STALE_PDE ? "PDE" : st->large ? "PDE (4 MiB)" : "PTE";
        PUT("stale TLB use: %s (%s) at 0x%08x, CR3=0x%08x, cpu %u, %llu use%s\n",
            mmu_stale_class_name(st->cls), mmu_stale_is_bug(st->cls) ? "bug" : "harmless", st->va,
            st->cr3, c->cpu, (unsigned long long)c->uses, c->uses == 1 ? "" : "s");
        if (st->cls == MMU_STALE_PDE)
            PUT("  PDE changed without invalidation: %s @0x%08x was 0x%08x, now 0x%08x\n", what,
                st->addr, st->cached, st->current);
        else
            PUT("  cached %s @0x%08x = 0x%08x, now 0x%08x\n", what, st->addr, st->cached,
                st->current);
        ADD(chain_line(sc, "changed", c->write_at, c->write_chain, c->nwrite, buf + used,
                       used < len ? len - used : 0));
        if (c->nlast != 0)
            ADD(chain_line(sc, "changed again", c->last_at, c->last_chain, c->nlast, buf + used,
                           used < len ? len - used : 0));
        ADD(chain_line(sc, "used", c->use_at, c->use_chain, c->nuse, buf + used,
                       used < len ? len - used : 0));
        if (c->nskipped != 0)
            ADD(chain_line(sc, "INVLPG skipped (--inject)", c->skipped_at, c->skipped_chain,
                           c->nskipped, buf + used, used < len ? len - used : 0));
    }
    const struct sim_stats *ss = sim_stats(s);
    if (ss->large_page_hits != 0) {
        const struct sim_large_hit *h = &ss->large_hit;
        PUT("large page through a paging-structure window: %llu access%s, the first at 0x%08x\n",
            (unsigned long long)ss->large_page_hits, ss->large_page_hits == 1 ? "" : "es", h->va);
        PUT("  PDE 0x%08x maps a 4 MiB page (PS=1): read as a PTE it shows that page's data\n",
            h->pde);
        ADD(chain_line(sc, "used", h->at, h->chain, h->nchain, buf + used,
                       used < len ? len - used : 0));
    }
    if (used >= len && len > 0)
        buf[len - 1] = '\0';
#undef PUT
#undef ADD
}

bool
run_parse_inject(const char *spec, struct sim_inject *in, char *err, size_t len)
{
    static const char *const kinds[] = {"skip-invlpg=", "skip-cr3-flush="};
    for (unsigned k = 0; k < 2; k++) {
        size_t l = strlen(kinds[k]);
        if (strncmp(spec, kinds[k], l) != 0)
            continue;
        const char *v = spec + l;
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        bool number = v[0] >= '0' && v[0] <= '9';
        if (number && (*end != '\0' || errno != 0 || n == 0 || n > UINT32_MAX))
            break;
        if (k == 1 && !number)
            break;
        if (!number) {
            if (v[0] == '\0' || strlen(v) >= sizeof(in->skip_invlpg_fn))
                break;
            snprintf(in->skip_invlpg_fn, sizeof(in->skip_invlpg_fn), "%s", v);
        } else if (k == 0) {
            in->skip_invlpg = (uint32_t)n;
        } else {
            in->skip_cr3_flush = (uint32_t)n;
        }
        return true;
    }
    snprintf(err, len,
             "bad --inject '%s' (skip-invlpg=N, skip-invlpg=FUNCTION or skip-cr3-flush=N, N from "
             "1)",
             spec);
    return false;
}

bool
run_scenario(const struct scenario *sc, const struct run_options *o, struct run_result *r,
             char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->strategy, sizeof(r->strategy), "%s", run_strategy_name(sc, o->strategy));
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
    struct run_ctx x = {.sc = sc, .o = o, .r = r, .s = s};
    clock_gettime(CLOCK_MONOTONIC, &x.start);
    sim_set_mark(s, on_mark, &x);
    sim_set_log(s, on_log, &x);
    if (o->log != NULL)
        fprintf(o->log, "kernel log: %s, strategy %s\n", sc->file, r->strategy);
    if (o->trace_json != NULL && (x.tl = timeline_begin(o->trace_json, sc, r->strategy)) == NULL) {
        snprintf(err, errlen, "out of host memory");
        sim_destroy(s);
        run_result_free(r);
        return false;
    }
    if (o->trace != NULL || x.tl != NULL || o->explain)
        sim_set_event(s, on_event, &x);
    if (x.tl != NULL) {
        sim_set_at(s, on_at, &x);
        sim_set_stale(s, on_stale, &x);
    }

    if (o->profile_fn != NULL && !sim_profile_on(s)) {
        snprintf(err, errlen, "out of host memory");
        if (x.tl != NULL)
            timeline_end(x.tl, s);
        sim_destroy(s);
        run_result_free(r);
        return false;
    }
    sim_set_inject(s, &o->inject);
    sim_set_strict_tlb(s, o->strict_tlb);
    if (o->stale_off)
        sim_stale_off(s);
    const char *pmm = run_default_pmm(sc, r->strategy);
    snprintf(r->pmm, sizeof(r->pmm), "%s", pmm);
    struct bootload_config bc;
    run_bootload_config(sc, r->strategy, pmm, &bc);
    bc.max_ops = o->max_ops;
    struct bootload_result br;
    enum bootload_status st = bootload_run(s, &bc, &br);
    if (x.shown > 0)
        fprintf(stderr, "\r%*s\r", x.shown, "");
    r->ok = st == BOOTLOAD_OK;
    /* Stopped: the kernel was stopped (a fault report, or the work bound);
     * failed: the kernel refused an operation or could not boot. */
    r->stopped =
        st == BOOTLOAD_STOPPED || (st == BOOTLOAD_WORKLOAD_FAILED && br.wl.status == WL_LIMIT);
    if (st == BOOTLOAD_STOPPED)
        r->stop = *sim_last_stop(s);
    if (st == BOOTLOAD_BOOT_FAILED)
        r->boot_status = br.boot;
    if (st == BOOTLOAD_WORKLOAD_FAILED) {
        r->wl_status = br.wl.status;
        r->line = br.wl.line;
    }
    if (!r->ok) {
        describe_failure(s, st, &br, sc, o->max_ops, r->error, sizeof(r->error));
        quote_log(&x, st, r->error, sizeof(r->error));
    }
    /* The kernel's figures and live spaces as it left them: the loader
     * publishes them when the kernel returns to it, this after a stop
     * inside it; none if it never ran. */
    bool published = st != BOOTLOAD_SETUP_FAILED;
    if (st == BOOTLOAD_STOPPED)
        published = sim_run(s, publish, NULL);
    if (published && st != BOOTLOAD_STOPPED && o->view_fn != NULL && o->view_mark < 0) {
        struct end_view e = {&x, s};
        sim_run(s, view_at_end, &e);
    }
    collect(s, &o->cost, &r->final);
    if (o->profile_fn != NULL)
        o->profile_fn(o->profile_ctx, s);
    if (x.tl != NULL)
        timeline_end(x.tl, s);
    /* The workload's own figures: boot's events taken out of every mark. */
    r->with_boot = o->with_boot || !r->boot_done;
    if (!r->with_boot) {
        counters_since(&r->final, &r->boot, &o->cost);
        for (uint32_t i = 0; i < r->nmarks; i++)
            if (r->reached[i])
                counters_since(&r->marks[i], &r->boot, &o->cost);
    }
    if (fig(s, "vmm.unreachable_frames") != 0)
        r->reach_limit_mb = fig(s, "vmm.reach_frames") >> (20 - PAGE_SHIFT);
    format_stale(sc, s, r->stale, sizeof(r->stale));
    sim_destroy(s);
    return true;
}

const char *
run_status(const struct run_result *r)
{
    if (r->skipped)
        return "n/a";
    if (r->ok)
        return "ok";
    return r->stopped ? "stopped" : "failed";
}

void
run_result_free(struct run_result *r)
{
    free(r->marks);
    free(r->reached);
    r->marks = NULL;
    r->reached = NULL;
}

/* Writes or reads all len bytes of buf; false if the pipe ends first. */
static bool
pipe_io(int fd, void *buf, size_t len, bool write_it)
{
    char *p = buf;
    while (len > 0) {
        ssize_t k = write_it ? write(fd, p, len) : read(fd, p, len);
        if (k <= 0)
            return false;
        p += k;
        len -= (size_t)k;
    }
    return true;
}

/* The child's side: one run, its result down the pipe, then exit. */
static _Noreturn void
run_child(int fd, const struct scenario *sc, const struct run_options *o)
{
    struct run_result r;
    char err[SCN_ERR_MAX] = "";
    bool made = run_scenario(sc, o, &r, err, sizeof(err));
    bool sent = pipe_io(fd, &made, sizeof(made), true) && pipe_io(fd, err, sizeof(err), true);
    if (sent && made)
        sent = pipe_io(fd, &r, sizeof(r), true) &&
               pipe_io(fd, r.marks, (sc->nmarks + 1) * sizeof(*r.marks), true) &&
               pipe_io(fd, r.reached, (sc->nmarks + 1) * sizeof(*r.reached), true);
    _exit(sent ? 0 : 1);
}

/* The parent's side: the result of the child at fd (and pid). */
static bool
run_collect(int fd, pid_t pid, const struct scenario *sc, const struct run_options *o,
            struct run_result *r, char *err, size_t errlen)
{
    bool made = false, got;
    char cerr[SCN_ERR_MAX];
    struct run_result tmp;
    struct counters *marks = calloc(sc->nmarks + 1, sizeof(*marks));
    bool *reached = calloc(sc->nmarks + 1, sizeof(*reached));
    got = marks != NULL && reached != NULL && pipe_io(fd, &made, sizeof(made), false) &&
          pipe_io(fd, cerr, sizeof(cerr), false);
    if (got && made)
        got = pipe_io(fd, &tmp, sizeof(tmp), false) &&
              pipe_io(fd, marks, (sc->nmarks + 1) * sizeof(*marks), false) &&
              pipe_io(fd, reached, (sc->nmarks + 1) * sizeof(*reached), false);
    close(fd);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got && !made) {
        free(marks);
        free(reached);
        snprintf(err, errlen, "%s", cerr);
        return false;
    }
    if (!got) {
        /* The child died: a failed run that says how. */
        memset(&tmp, 0, sizeof(tmp));
        snprintf(tmp.strategy, sizeof(tmp.strategy), "%s", o->strategy);
        tmp.nmarks = sc->nmarks;
        if (WIFSIGNALED(status))
            snprintf(tmp.error, sizeof(tmp.error), "the process of this run ended by signal %d",
                     WTERMSIG(status));
        else
            snprintf(tmp.error, sizeof(tmp.error), "the process of this run ended (status %d)",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    *r = tmp;
    r->marks = marks;
    r->reached = reached;
    return true;
}

bool
run_scenarios(const struct scenario *sc, const struct run_options *o, struct run_result *r,
              unsigned n, unsigned jobs, char *err, size_t errlen)
{
    if (jobs <= 1 || n <= 1) {
        for (unsigned k = 0; k < n; k++) {
            if (!run_scenario(sc, &o[k], &r[k], err, errlen)) {
                while (k-- > 0)
                    run_result_free(&r[k]);
                return false;
            }
        }
        return true;
    }
    int fd[n];
    pid_t pid[n];
    unsigned started = 0, done = 0;
    bool ok = true;
    memset(r, 0, n * sizeof(*r));
    fflush(NULL); /* nothing buffered is written twice */
    while (done < n) {
        while (ok && started < n && started - done < jobs) {
            int p[2];
            if (pipe(p) != 0) {
                snprintf(err, errlen, "cannot make a pipe for a run");
                ok = false;
                break;
            }
            pid_t c = fork();
            if (c == 0) {
                close(p[0]);
                run_child(p[1], sc, &o[started]);
            }
            close(p[1]);
            if (c < 0) {
                close(p[0]);
                snprintf(err, errlen, "cannot start the process of a run");
                ok = false;
                break;
            }
            fd[started] = p[0];
            pid[started++] = c;
        }
        if (done == started)
            break;
        if (!run_collect(fd[done], pid[done], sc, &o[done], &r[done], err, errlen))
            ok = false;
        else if (!ok)
            run_result_free(&r[done]);
        done++;
    }
    if (!ok) {
        for (unsigned k = 0; k < done; k++)
            if (r[k].marks != NULL)
                run_result_free(&r[k]);
    }
    return ok;
}

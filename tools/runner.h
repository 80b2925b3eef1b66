/*
 * runner.h - runs a parsed scenario on a fresh simulated machine under one
 * paging strategy and collects every figure of the report, at the end and
 * at each mark (snapshot or expect line).
 */
#ifndef PAGESIM_RUNNER_H
#define PAGESIM_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel/boot.h"
#include "kernel/workload.h"
#include "sim/sim.h"
#include "tools/counters.h"
#include "tools/scenario.h"

#define RUN_MAX_OPS_DEFAULT 100000000 /* executed ops before a run is stopped */
#define RUN_STR_(x) #x
#define RUN_STR(x) RUN_STR_(x)
#define RUN_MAX_OPS_DEFAULT_TEXT RUN_STR(RUN_MAX_OPS_DEFAULT) /* the same, for help texts */

/* One live address space, as graphs and dumps see it. */
struct run_space {
    const char *name;
    paddr_t pd;   /* physical address of its page directory */
    bool current; /* loaded in CR3 */
};

/* Called at the chosen mark (or at the end) while the machine is live. */
typedef void (*run_view_fn)(void *ctx, struct sim *s, const struct run_space *spaces,
                            unsigned nspaces);

/* Called after the run, the machine still live (sim_profile_stacks). */
typedef void (*run_profile_fn)(void *ctx, struct sim *s);

struct run_options {
    const char *strategy; /* NULL: the scenario's own (run_strategy_name) */
    struct cost_model cost;
    int view_mark;    /* mark id for view_fn; -1: at the end of the run */
    int diff_mark;    /* a mark before view_mark where view_fn is called too; -1: none */
    bool with_boot;   /* event counts from machine reset instead of from the workload's start */
    FILE *trace;      /* if not NULL: one line per INVLPG, CR write and #PF */
    FILE *trace_json; /* if not NULL: the run as a Chrome trace-event file (timeline.h) */
    FILE *log;        /* if not NULL: a header line, then each kernel log line */
    run_view_fn view_fn;
    void *view_ctx;
    uint32_t max_ops;         /* ops the workload may execute; 0: no limit */
    bool progress;            /* an updating progress line on stderr once a run is slow */
    struct sim_inject inject; /* fault injection (sim_set_inject); zero: none */
    bool strict_tlb;          /* stop at the first bug-class stale TLB use */
    bool stale_off;           /* the detector off (sim_stale_off): benchmarks only */
    /* If not NULL: the run is profiled (sim_profile_on; from the workload's
     * start unless with_boot) and profile_fn called at its end. */
    run_profile_fn profile_fn;
    void *profile_ctx;
    bool explain; /* gather the flush lint by call site (run_result.lint) */
};

/* The counters that come from the MMU's (event counts only; derived ones
 * not computed): the one place that names them for reports and profiles. */
void run_mmu_counters(const struct mmu_counters *m, struct counters *c);

/*
 * Parses one --inject SPEC into *in: skip-invlpg=N (the Nth INVLPG of the
 * run, boot included, from 1), skip-invlpg=FUNCTION (every INVLPG whose
 * kernel call chain names FUNCTION) or skip-cr3-flush=N.  False with a
 * message in err if SPEC is none of these.
 */
bool run_parse_inject(const char *spec, struct sim_inject *in, char *err, size_t len);

/* One flush-lint kind (enum mmu_lint) at one call site: the first kernel
 * function of the event's chain that is not a flush wrapper (callers.h). */
#define RUN_LINT_MAX 32
struct run_lint {
    enum mmu_lint kind;
    char site[64];
    uint64_t count;
    uint64_t wasted; /* cycles by the cost model (runner.c run_lint_wasted) */
};

struct run_result {
    char strategy[SCN_NAME_MAX];
    char pmm[SCN_NAME_MAX]; /* the frame allocator it ran on */
    bool ok;                /* the workload ran to its end */
    bool stopped;           /* not ok: the machine stopped the kernel (else the kernel failed) */
    bool skipped;           /* not run: the strategy cannot run on this machine (error says why) */
    char error[1024];       /* why not: the stop report or the workload error */
    /* Not ok because the kernel failed: how, in its own terms (BOOT_OK,
     * WL_OK and 0 when it did not fail that way). */
    enum boot_status boot_status;
    enum wl_status wl_status;
    uint32_t line; /* the scenario line of the failed op */
    /* Event counts (all groups but memory) run from the workload's start
     * (WL_MARK_WORKLOAD), or from machine reset with with_boot or when the
     * run stopped before the workload began (boot_done false). */
    struct counters final;
    struct counters boot; /* what boot cost: from reset to the workload's start */
    bool boot_done;       /* the workload started */
    bool with_boot;       /* final and marks count from reset (run_options.with_boot) */
    /* The snapshots final was narrowed to (--from, --at), "" for none. */
    char from[SCN_NAME_MAX], at[SCN_NAME_MAX];
    struct counters *marks; /* counters at each mark id */
    bool *reached;          /* whether the run got to each mark */
    uint32_t nmarks;
    uint32_t reach_limit_mb; /* physmap: RAM beyond this is unreachable; 0: none */
    uint64_t unmeasured;     /* bit 1 << counter id: not measured (a bare-metal run) */
    struct sim_stop stop;    /* why the run stopped (kind SIM_STOP_NONE if it did not) */
    /* The stale TLB uses the detector found, one paragraph per distinct
     * case (empty if none; see run_stale_report). */
    char stale[8192];
    /* With run_options.explain: the flush lint of the workload (of boot
     * too with with_boot), by kind and call site; past RUN_LINT_MAX sites,
     * the rest is summed in lint_other. */
    struct run_lint lint[RUN_LINT_MAX];
    unsigned nlint;
    struct run_lint lint_other;
};
_Static_assert(CTR_COUNT <= 64, "run_result.unmeasured has one bit per counter");

void run_options_default(struct run_options *o);
/* The strategy a run of sc uses: given (--strategy) unless NULL, else the
 * scenario's strategy line, else the registry's default. */
const char *run_strategy_name(const struct scenario *sc, const char *given);
/* Checks that the strategy exists and can run on the scenario's machine;
 * false with a "file:line:col: error:" message otherwise. */
bool run_check_strategy(const struct scenario *sc, const char *strategy, char *err, size_t len);
/* Checks that the scenario's frame allocator (sc->pmm, if set) exists;
 * false with a "file:line:col: error:" (or "command line: error:") message
 * naming the allocators otherwise. */
bool run_check_pmm(const struct scenario *sc, char *err, size_t len);
/* Sets the scenario's frame allocator to pmm (--pmm, overriding its pmm
 * line) unless pmm is NULL, then checks it as run_check_pmm. */
bool run_set_pmm(struct scenario *sc, const char *pmm, char *err, size_t len);
struct bootload_config;
/* The boot of sc under strategy on frame allocator pmm, as both builds load
 * it: CR4 from the machine's pse and pge, its flags, its ops; every other
 * field zero. */
void run_bootload_config(const struct scenario *sc, const char *strategy, const char *pmm,
                         struct bootload_config *bc);
/* Runs; returns false if the machine could not be created (err set).  A
 * kernel failure is a completed call with r->ok false; its r->error names
 * the scenario line, the space or allocation by its scenario name, the
 * cause, and quotes the kernel log line the failing op (or boot) wrote. */
bool run_scenario(const struct scenario *sc, const struct run_options *o, struct run_result *r,
                  char *err, size_t errlen);
void run_result_free(struct run_result *r);

/* Describes a failed workload op e of sc into buf the way a run's error
 * does: 'FILE:LINE: map in "a" failed: CAUSE', or the op limit max_ops
 * reached.  e->object may be WL_NO_OBJECT (then the op is not named). */
void run_describe_wl(const struct scenario *sc, const struct wl_error *e, uint32_t max_ops,
                     char *buf, size_t len);

/*
 * Runs n runs of sc, run k with o[k] into r[k], each in a child process of
 * its own and at most jobs at a time (jobs <= 1: one after the other in
 * this process).  The results are those run_scenario gives, whatever the
 * order the children end in.  Returns false with a message in err if a run
 * could not be made (then no result is left to free).  A child that dies
 * gives a failed result saying how.
 */
bool run_scenarios(const struct scenario *sc, const struct run_options *o, struct run_result *r,
                   unsigned n, unsigned jobs, char *err, size_t errlen);

/*
 * How a run ended: "ok"; "stopped" (the machine stopped the kernel: a fault
 * it did not handle, a wild access, a panic); "failed" (the kernel could
 * not boot or refused an operation); "n/a" (not run: the strategy cannot
 * run on this machine).  When it is not "ok", r->error says why.
 */
const char *run_status(const struct run_result *r);

/* Looks up a figure the kernel published (kernel/figures.h) by name; false
 * if it did not publish it. */
typedef bool (*run_figure_fn)(void *ctx, const char *name, uint32_t *value);

/* The counters that come from the kernel's own figures (frames, heap,
 * windows and the strategy's counts), on a machine with ram bytes: the one
 * place that turns figures into counters, for the simulator and for metal. */
void run_kernel_counters(run_figure_fn fig, void *ctx, uint64_t ram, struct counters *c);

/* The outcome of an expect line in a run. */
enum run_expect {
    RUN_EXPECT_PASS,
    RUN_EXPECT_FAIL,
    RUN_EXPECT_NOT_REACHED,  /* the run did not get to its mark */
    RUN_EXPECT_NOT_MEASURED, /* on a counter the run does not measure */
};
/* "pass", "FAIL", "not reached" or "not measured". */
const char *run_expect_name(enum run_expect e);
/* The outcome of expect line i of sc in r, checked in that order: not
 * reached, not measured (either counter), then the comparison; *v the
 * counter's value and *w the value it is compared with (the line's number,
 * or its right-hand counter's value) when compared (else both 0). */
enum run_expect run_expect_outcome(const struct scenario *sc, const struct run_result *r,
                                   uint32_t i, uint64_t *v, uint64_t *w);

/* Whether the run completed and every expect line passes or is on a
 * counter the run does not measure (run_expect_outcome). */
bool run_expectations_pass(const struct scenario *sc, const struct run_result *r);

/* Writes the --explain table: a heading, then one line per kind and call
 * site (sorted by kind, then wasted cycles, most first, then name):
 * kind, site, count, wasted cycles. */
void run_lint_report(FILE *out, const struct run_result *r);

/* The frame allocator a run of strategy uses: the scenario's, else the default. */
const char *run_default_pmm(const struct scenario *sc, const char *strategy);

#endif

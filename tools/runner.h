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

#include "allocators/heap.h"
#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "sim/sim.h"
#include "tools/counters.h"
#include "tools/scenario.h"

#define RUN_STRATEGIES "heap,pageheap,recursive,tempmap,tempmap-lazy,physmap"

/* One live address space, as graphs and dumps see it. */
struct run_space {
    const char *name;
    paddr_t pd;   /* physical address of its page directory */
    bool current; /* loaded in CR3 */
};

/* Called at the chosen mark (or at the end) while the machine is live. */
typedef void (*run_view_fn)(void *ctx, struct sim *s, const struct run_space *spaces,
                            unsigned nspaces);

struct run_options {
    const char *strategy; /* NULL: the scenario's own */
    struct cost_model cost;
    int view_mark; /* mark id for view_fn; -1: at the end of the run */
    bool with_boot; /* event counts from machine reset instead of from the workload's start */
    FILE *trace;   /* if not NULL: one line per INVLPG, CR write and #PF */
    run_view_fn view_fn;
    void *view_ctx;
};

struct run_result {
    char strategy[SCN_NAME_MAX];
    bool ok;          /* the workload ran to its end */
    bool skipped;     /* not run: the strategy cannot run on this machine (error says why) */
    char error[1024]; /* why not: the stop report or the workload error */
    /* Event counts (all groups but memory) run from the workload's start
     * (WL_MARK_WORKLOAD), or from machine reset with with_boot or when the
     * run stopped before the workload began (boot_done false). */
    struct counters final;
    struct counters boot;   /* what boot cost: from reset to the workload's start */
    bool boot_done;         /* the workload started */
    struct counters *marks; /* counters at each mark id */
    bool *reached;          /* whether the run got to each mark */
    uint32_t nmarks;
    uint32_t reach_limit_mb; /* physmap: RAM beyond this is unreachable; 0: none */
    uint64_t unmeasured;     /* bit 1 << counter id: not measured (a bare-metal run) */
    struct sim_stop stop;    /* why the run stopped (kind SIM_STOP_NONE if it did not) */
};
_Static_assert(CTR_COUNT <= 64, "run_result.unmeasured has one bit per counter");

void run_options_default(struct run_options *o);
/* Checks that the strategy exists and can run on the scenario's machine;
 * false with a "file:line:col: error:" message otherwise. */
bool run_check_strategy(const struct scenario *sc, const char *strategy, char *err, size_t len);
/* Runs; returns false if the machine could not be created (err set).  A
 * kernel failure is a completed call with r->ok false. */
bool run_scenario(const struct scenario *sc, const struct run_options *o, struct run_result *r,
                  char *err, size_t errlen);
void run_result_free(struct run_result *r);

/* The counters that come from the kernel's own figures (frames, heap,
 * windows and the strategy's counts), on a machine with ram bytes. */
void run_kernel_counters(const struct vmm_stats *vs, const struct pmm_stats *ps,
                         const struct heap_stats *hs, uint64_t ram, struct counters *c);

/* The frame allocator a run of strategy uses: the scenario's, else the default. */
const char *run_default_pmm(const struct scenario *sc, const char *strategy);

#endif

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
    FILE *trace;   /* if not NULL: one line per INVLPG, CR write and #PF */
    FILE *log;     /* if not NULL: a header line, then each kernel log line */
    run_view_fn view_fn;
    void *view_ctx;
};

struct run_result {
    char strategy[SCN_NAME_MAX];
    bool ok;          /* the workload ran to its end */
    bool skipped;     /* not run: the strategy cannot run on this machine (error says why) */
    char error[1024]; /* why not: the stop report or the workload error */
    struct counters final;
    struct counters *marks; /* counters at each mark id */
    bool *reached;          /* whether the run got to each mark */
    uint32_t nmarks;
    uint32_t reach_limit_mb; /* physmap: RAM beyond this is unreachable; 0: none */
};

void run_options_default(struct run_options *o);
/* Checks that the strategy exists and can run on the scenario's machine;
 * false with a "file:line:col: error:" message otherwise. */
bool run_check_strategy(const struct scenario *sc, const char *strategy, char *err, size_t len);
/* Runs; returns false if the machine could not be created (err set).  A
 * kernel failure is a completed call with r->ok false; its r->error names
 * the scenario line, the space or allocation by its scenario name, the
 * cause, and quotes the kernel log line the failing op (or boot) wrote. */
bool run_scenario(const struct scenario *sc, const struct run_options *o, struct run_result *r,
                  char *err, size_t errlen);
void run_result_free(struct run_result *r);

#endif

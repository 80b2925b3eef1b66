/*
 * profile.h - the per-function profile of a run (pagesim profile): the
 * MMU's counters charged to the kernel call stacks that caused them
 * (sim_profile_stacks), as a table per function or as folded stacks.
 */
#ifndef PAGESIM_PROFILE_H
#define PAGESIM_PROFILE_H

#include <stdbool.h>
#include <stdio.h>

#include "sim/sim.h"
#include "tools/counters.h"

/*
 * Writes the profile of the machine's run to out.  Table: one row per
 * kernel function, the first of each stack's chain (innermost first) that
 * is not a flush/switch wrapper (callers.h), with its accesses, TLB
 * misses, walks, A/D updates, INVLPGs, CR3 writes, faults, stale uses and
 * cycles (cost model cm), sorted by cycles (then by name), and a total
 * row; the columns sum to the run's counters.  Folded: one line per
 * distinct stack, "outer;...;inner CYCLES", in name order, stacks of no
 * cycles left out (flamegraph.pl, speedscope).  Returns false if out of
 * host memory.
 */
bool profile_write(FILE *out, struct sim *s, const struct cost_model *cm, bool folded);

#endif

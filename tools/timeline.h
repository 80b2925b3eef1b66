/*
 * timeline.h - the run as a Chrome trace-event file (run --trace-json),
 * which Perfetto and chrome://tracing open: each scenario op executed a
 * complete slice, each INVLPG, CR0/CR3/CR4 write, page fault and stale TLB
 * use an instant event with its kernel call chain, and a counter track of
 * valid TLB entries.  The clock is the count of memory accesses the
 * current CPU made so far (one "microsecond" each), so the file is the
 * same bytes on every run.
 */
#ifndef PAGESIM_TIMELINE_H
#define PAGESIM_TIMELINE_H

#include <stdio.h>

#include "sim/sim.h"
#include "tools/scenario.h"

struct timeline;

/* Starts a timeline of a run of sc under strategy into out (which the
 * caller closes after timeline_end); NULL if host memory is short. */
struct timeline *timeline_begin(FILE *out, const struct scenario *sc, const char *strategy);

/* The kernel said it is at op where (sim_at_fn): the open slice ends, the
 * op's one begins (none for 0). */
void timeline_at(struct timeline *t, struct sim *s, uint32_t where);

/* The name of event ev ("invlpg", "cr0", "cr3", "cr4", "#PF"), and its
 * effect into effect: "error 0xE", "dropped N, kept M" or "dropped N"; as
 * both the trace and the timeline show them. */
const char *timeline_event_text(const struct sim_event *ev, char *effect, size_t len);

/* One INVLPG, CR write or fault (sim_event_fn). */
void timeline_event(struct timeline *t, struct sim *s, const struct sim_event *ev);

/* One stale TLB use (sim_stale_fn). */
void timeline_stale(struct timeline *t, struct sim *s, const struct mmu_stale *st,
                    const struct sim_stale_case *c);

/* Ends the open slice at the run's last access, finishes the file and
 * frees t. */
void timeline_end(struct timeline *t, struct sim *s);

#endif

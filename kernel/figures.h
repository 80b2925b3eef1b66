/*
 * figures.h - the kernel's own accounting, published to the machine through
 * arch_figure() so that the machine reports it without knowing the
 * kernel's data structures (on the simulator the host collects it, on
 * metal it is a line on COM1).
 */
#ifndef PAGESIM_FIGURES_H
#define PAGESIM_FIGURES_H

/*
 * Publishes the kernel's own accounting, each figure as
 * arch_figure(name, value): the fields of vmm_stats, pmm_stats and the
 * heaps' heap_stats as "vmm.FIELD", "pmm.FIELD", "heap.FIELD" and
 * "pageheap.FIELD", and placement_used() as "placement.used_bytes"
 * (figures.c lists them; the workload executor also publishes
 * "wl.executed" before a progress mark).  Reading them makes no access to
 * simulated memory (they are the kernel's static variables).  Called
 * before each mark and when a run ends.
 */
void kfig_publish(void);

#endif

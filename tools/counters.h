/*
 * counters.h - every figure a run reports, by name: the MMU's counters, the
 * simulator's region counts and the kernel's own accounting.  Reports,
 * comparisons and `expect` lines all use these names.
 */
#ifndef PAGESIM_COUNTERS_H
#define PAGESIM_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>

#define COUNTERS(X)                                                                                \
    /* id, name, group, description */                                                             \
    X(ACCESSES, "accesses", "mmu", "memory accesses translated")                                   \
    X(READS, "reads", "mmu", "reads")                                                              \
    X(WRITES, "writes", "mmu", "writes")                                                           \
    X(USER_ACCESSES, "accesses.user", "mmu", "accesses made in user mode")                         \
    X(TLB_HITS, "tlb.hits", "mmu", "TLB hits")                                                     \
    X(TLB_MISSES, "tlb.misses", "mmu", "TLB misses")                                               \
    X(TLB_HIT_PERMILLE, "tlb.hit_permille", "mmu", "hits per 1000 paged accesses")                 \
    X(WALKS, "walks", "mmu", "page walks")                                                         \
    X(WALK_READS, "walk_reads", "mmu", "paging entries read by walks")                             \
    X(AD_UPDATES, "ad_updates", "mmu", "accessed/dirty bit updates")                               \
    X(DIRTY_REWALKS, "dirty_rewalks", "mmu", "walks to set a dirty bit")                           \
    X(FAULTS, "faults", "mmu", "page faults")                                                      \
    X(INVLPG, "invlpg", "inval", "INVLPG instructions")                                            \
    X(CR3_WRITES, "cr3_writes", "inval", "CR3 writes")                                             \
    X(FULL_FLUSHES, "full_flushes", "inval", "full flushes (globals too)")                         \
    X(DROPPED_INVLPG, "dropped.invlpg", "inval", "entries dropped by INVLPG")                      \
    X(DROPPED_CR3, "dropped.cr3", "inval", "entries dropped by CR3 writes")                        \
    X(DROPPED_FULL, "dropped.full", "inval", "entries dropped by full flushes")                    \
    X(EVICTIONS, "evictions", "inval", "entries evicted by LRU")                                   \
    X(GLOBALS_KEPT, "globals_kept", "inval", "global entries kept over CR3 writes")                \
    X(RECURSIVE_ACCESSES, "recursive.accesses", "reach", "accesses through the self-map")          \
    X(FOREIGN_ACCESSES, "foreign.accesses", "reach", "accesses through the foreign slot")          \
    X(FOREIGN_SWITCHES, "foreign.switches", "reach", "foreign-slot repointings")                   \
    X(TEMPMAP_ACCESSES, "tempmap.accesses", "reach", "accesses through the temporary window")      \
    X(TEMPMAP_MAPS, "tempmap.maps", "reach", "temporary-window maps")                              \
    X(TEMPMAP_REUSES, "tempmap.reuses", "reach", "temporary-window slot reuses")                   \
    X(DIRECTMAP_ACCESSES, "directmap.accesses", "reach",                                           \
      "accesses through the direct map at 0xC0000000")                                             \
    X(PD_FRAMES, "frames.pd", "memory", "frames holding page directories")                         \
    X(PT_FRAMES, "frames.pt", "memory", "frames holding page tables")                              \
    X(FRAMES_USED, "frames.used", "memory", "frames in use")                                       \
    X(HEAP_USED, "heap.used", "memory", "kernel heap bytes in use (kmalloc)")                      \
    X(HEAP_WASTED, "heap.wasted", "memory", "kernel heap bytes in holes too small to use")         \
    X(HEAP_PAGING, "heap.paging", "memory", "heap bytes holding paging structures")                \
    X(KVA_BYTES, "kva.bytes", "memory", "kernel VA taken by the strategy's windows and maps")      \
    X(REACH_BYTES, "reach.bytes", "memory", "physical memory the strategy can reach")              \
    X(CYCLES, "cycles", "cost", "estimated cycles (cost model)")

enum counter_id {
#define X(id, name, group, desc) CTR_##id,
    COUNTERS(X)
#undef X
        CTR_COUNT
};

struct counter_info {
    const char *name;
    const char *group;
    const char *desc;
};
extern const struct counter_info counter_info[CTR_COUNT];

struct counters {
    uint64_t v[CTR_COUNT];
};

/* The id of a counter name, or -1. */
int counter_find(const char *name);

/* Cost model: cycles charged per event, from published measurements. */
struct cost_model {
    uint64_t access;    /* a TLB hit */
    uint64_t walk_read; /* one paging-entry read by a walk */
    uint64_t invlpg;
    uint64_t cr3_write;
    uint64_t ad_update;
    uint64_t fault;
};
void cost_model_default(struct cost_model *cm);
/* The largest constant --cost takes: with it, 2^44 events still fit. */
#define COST_MAX 1000000ull
/* Sets one constant by name ("invlpg", "cr3_write", ...); false if unknown. */
bool cost_model_set(struct cost_model *cm, const char *name, uint64_t value);
void counters_apply_cost(struct counters *c, const struct cost_model *cm);

/* Turns c into the events since base: event counts are subtracted, current
 * values (the memory group) are kept, the hit rate and cost recomputed. */
void counters_since(struct counters *c, const struct counters *base, const struct cost_model *cm);

#endif

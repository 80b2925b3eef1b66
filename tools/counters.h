/*
 * counters.h - every figure a run reports, by name: the MMU's counters, the
 * simulator's region counts and the kernel's own accounting.  Reports,
 * comparisons and `expect` lines all use these names.
 */
#ifndef PAGESIM_COUNTERS_H
#define PAGESIM_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Every counter: id, name, group, merit, and one line saying exactly what it
 * counts (run --help and the README's counter table print that line).  The
 * merit says whether a strategy is better with a lower value (LOWER), a
 * higher one (HIGHER), or neither (NONE: the row describes the workload or
 * which mechanism a strategy uses); compare marks the best value of a merit
 * row.  Events count from the workload's first line (boot is reported
 * apart; --with-boot counts from machine reset); the memory group holds
 * current values.
 */
#define COUNTERS(X)                                                                                \
    X(ACCESSES, "accesses", "mmu", NONE,                                                           \
      "translations of kernel and user accesses to simulated memory (per page, per try)")          \
    X(READS, "reads", "mmu", NONE, "of accesses, the reads")                                       \
    X(WRITES, "writes", "mmu", NONE, "of accesses, the writes")                                    \
    X(USER_ACCESSES, "accesses.user", "mmu", NONE,                                                 \
      "of accesses, those made in user mode (the scenario's user touches)")                        \
    X(TLB_HITS, "tlb.hits", "mmu", NONE,                                                           \
      "of accesses, those translated by a TLB entry without a walk")                               \
    X(TLB_MISSES, "tlb.misses", "mmu", LOWER, "of accesses, those that found no TLB entry")        \
    X(TLB_HIT_PERMILLE, "tlb.hit_permille", "mmu", HIGHER,                                         \
      "1000 * tlb.hits / (tlb.hits + tlb.misses + dirty_rewalks), rounded down")                   \
    X(WALKS, "walks", "mmu", LOWER, "page walks: tlb.misses + dirty_rewalks")                      \
    X(WALK_READS, "walk_reads", "mmu", LOWER, "PDEs and PTEs read by walks (not in accesses)")     \
    X(AD_UPDATES, "ad_updates", "mmu", LOWER,                                                      \
      "PDEs and PTEs written by walks to set the accessed and/or dirty bit")                       \
    X(DIRTY_REWALKS, "dirty_rewalks", "mmu", LOWER,                                                \
      "walks of writes through a TLB entry whose dirty bit is clear")                              \
    X(FAULTS, "faults", "mmu", LOWER, "page faults raised, handled or not")                        \
    X(TLB_STALE_USES, "tlb.stale_uses", "mmu", LOWER,                                              \
      "stale TLB uses that are bugs: frame changed, unmapped, rights reduced, stale PDE")          \
    X(TLB_STALE_HARMLESS, "tlb.stale_harmless", "mmu", LOWER,                                      \
      "stale TLB uses that are harmless: rights increased, or only A/D or other flags changed")    \
    X(INVLPG, "invlpg", "inval", LOWER, "INVLPG instructions")                                     \
    X(CR3_WRITES, "cr3_writes", "inval", LOWER, "CR3 writes")                                      \
    X(FULL_FLUSHES, "full_flushes", "inval", LOWER,                                                \
      "whole-TLB flushes: paging turned on or off, CR4.PGE or CR4.PSE changed")                    \
    X(DROPPED_INVLPG, "dropped.invlpg", "inval", LOWER, "TLB entries removed by INVLPG")           \
    X(DROPPED_CR3, "dropped.cr3", "inval", LOWER, "non-global TLB entries removed by CR3 writes")  \
    X(DROPPED_FULL, "dropped.full", "inval", LOWER, "TLB entries removed by whole-TLB flushes")    \
    X(EVICTIONS, "evictions", "inval", LOWER,                                                      \
      "TLB entries replaced (least recently used) to make room in a full set")                     \
    X(GLOBALS_KEPT, "globals_kept", "inval", NONE,                                                 \
      "global TLB entries that survived a CR3 write, summed over the writes")                      \
    X(LINT_USELESS_INVLPG, "lint.useless_invlpg", "inval", LOWER,                                  \
      "INVLPGs that removed no TLB entry and found no PDE pending invalidation")                   \
    X(LINT_CR3_FLUSH, "lint.cr3_flush", "inval", LOWER,                                            \
      "CR3 reloads of the same value when fewer than 4 INVLPGs covered every changed entry")       \
    X(LINT_WINDOW_FLUSH, "lint.window_flush", "inval", LOWER,                                      \
      "CR3 reloads of the same value that removed 2+ entries, exactly one of them changed")        \
    X(RECURSIVE_ACCESSES, "recursive.accesses", "reach", NONE,                                     \
      "kernel accesses to the self-map 0xFFC00000-0xFFFFFFFF, except page 0xFFFFE000")             \
    X(RECURSIVE_LARGE_PAGE_HITS, "recursive.large_page_hits", "reach", LOWER,                      \
      "accesses through the self-map or foreign window that reach a 4 MiB page's data")            \
    X(FOREIGN_ACCESSES, "foreign.accesses", "reach", NONE,                                         \
      "kernel accesses to the foreign slot 0xFF800000-0xFFBFFFFF and to 0xFFFFE000")               \
    X(FOREIGN_SWITCHES, "foreign.switches", "reach", NONE,                                         \
      "times the foreign slot (PDE 1022) was pointed at another space")                            \
    X(TEMPMAP_ACCESSES, "tempmap.accesses", "reach", NONE,                                         \
      "kernel accesses to the temporary window 0xFC000000-0xFC3FFFFF (scratch slots too)")         \
    X(TEMPMAP_MAPS, "tempmap.maps", "reach", NONE,                                                 \
      "frames mapped into a slot of the temporary window, scratch slots included")                 \
    X(TEMPMAP_REUSES, "tempmap.reuses", "reach", NONE,                                             \
      "of tempmap.maps, those into a slot that was used before")                                   \
    X(DIRECTMAP_ACCESSES, "directmap.accesses", "reach", NONE,                                     \
      "kernel accesses to 0xC0000000-0xEFFFFFFF: the early 16 MiB and physmap's direct map")       \
    X(PD_FRAMES, "frames.pd", "memory", LOWER,                                                     \
      "frames holding page directories: one per space, the kernel's included")                     \
    X(PT_FRAMES, "frames.pt", "memory", LOWER,                                                     \
      "frames holding page tables: frames.pt.user + frames.pt.kernel")                             \
    X(PT_USER_FRAMES, "frames.pt.user", "memory", LOWER,                                           \
      "frames holding page tables of user halves, all spaces")                                     \
    X(PT_KERNEL_FRAMES, "frames.pt.kernel", "memory", LOWER,                                       \
      "frames holding the kernel-half tables all spaces share, the boot loader's included")        \
    X(DATA_FRAMES, "frames.data", "memory", NONE, "frames mapped at user pages, all spaces")       \
    X(HEAP_FRAMES, "frames.heap", "memory", LOWER,                                                 \
      "heap and page-heap frames (heaps never shrink) not holding a directory or table")           \
    X(BOOT_FRAMES, "frames.boot", "memory", LOWER,                                                 \
      "other placement memory taken at boot: frame allocator and page-heap bookkeeping")           \
    X(FRAMES_USED, "frames.used", "memory", LOWER,                                                 \
      "frames in use: frames.pd + frames.pt + frames.data + frames.heap + frames.boot")            \
    X(HEAP_USED, "heap.used", "memory", LOWER,                                                     \
      "bytes in live blocks: kernel heap payloads and page-heap pages")                            \
    X(HEAP_WASTED, "heap.wasted", "memory", LOWER,                                                 \
      "kernel heap bytes in free blocks too small to use, headers included")                       \
    X(HEAP_PAGING, "heap.paging", "memory", LOWER,                                                 \
      "of heap.used, directories, tables and shadow arrays (heap, pageheap)")                      \
    X(KVA_BYTES, "kva.bytes", "memory", LOWER,                                                     \
      "kernel virtual space set aside for windows, slots, self-map or direct map")                 \
    X(REACH_BYTES, "reach.bytes", "memory", HIGHER,                                                \
      "physical memory the strategy can reach, at most the machine's RAM")                         \
    X(CYCLES, "cycles", "cost", LOWER,                                                             \
      "accesses, walk_reads, invlpg, cr3_writes, ad_updates, faults, each times its cost")

/* Whether a lower or a higher value of a counter is better (or neither). */
enum counter_merit { CTR_MERIT_LOWER = -1, CTR_MERIT_NONE = 0, CTR_MERIT_HIGHER = 1 };

/* The width of the counter-name column of every table (the longest name
 * and one space). */
#define COUNTER_NAME_WIDTH 26

enum counter_id {
#define X(id, name, group, merit, desc) CTR_##id,
    COUNTERS(X)
#undef X
        CTR_COUNT
};

struct counter_info {
    const char *name;
    const char *group;
    enum counter_merit merit;
    const char *desc; /* one line: exactly what it counts */
};
extern const struct counter_info counter_info[CTR_COUNT];

struct counters {
    uint64_t v[CTR_COUNT];
};

/* The id of a counter name, or -1. */
int counter_find(const char *name);

/* Writes the counter list of `run --help`: a heading, then one line per
 * counter: name, merit, description (the README's counter table has the
 * same lines). */
void counters_help(FILE *out);

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
/* Computes the counters derived from others: the hit rate and the cost. */
void counters_derive(struct counters *c, const struct cost_model *cm);

/* Turns c into the events since base: event counts are subtracted, current
 * values (the memory group) are kept, the derived counters recomputed. */
void counters_since(struct counters *c, const struct counters *base, const struct cost_model *cm);

#endif

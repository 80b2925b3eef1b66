/* kern_vmm.h - kernel-style test programs for the paging strategies, run
 * on a machine booted by sim/bootload.c. */
#ifndef PAGESIM_TESTS_KERN_VMM_H
#define PAGESIM_TESTS_KERN_VMM_H

#include <stdint.h>

#include "allocators/heap.h"
#include "allocators/pmm.h"
#include "allocators/vmm.h"

/* The kernel's statistics, as the allocators give them. */
struct kv_stats {
    struct vmm_stats vmm;
    struct pmm_stats pmm;
    struct heap_stats heap, pageheap;
};

/* Fills the struct kv_stats at arg (run it with sim_run on a booted machine). */
void kv_stats_read(void *arg);

/* Where the programs leave their findings (kernel data, read by the host). */
struct kv_result {
    uint32_t failed_line;          /* line of kern_vmm.c of the first failed check; 0: none */
    uint32_t failed_value;         /* a value that check looked at */
    uint32_t free_before;          /* PMM free frames before the measured cycle */
    uint32_t free_after;           /* ... and after it */
    uint32_t user_pages;           /* vmm_stats.user_pages at the end */
    uint32_t pd_frames, pt_frames; /* vmm_stats at the end */
    uint32_t heap_pte_flags;       /* PTE flags of the first kernel heap page */
};
extern struct kv_result kv_result;

/* Map, unmap and translate in the current space and in a foreign one. */
void kv_map_unmap(void *arg);

/* A warm-up create/map/destroy cycle, then the measured one (free counts). */
void kv_leak(void *arg);

/* Fork from the current and from a foreign space: contents copied, the
 * copies independent. */
void kv_fork(void *arg);

/* A kmalloc (the heap grows one page), a read of it, then a switch to a new
 * space: the heap page's PTE flags in heap_pte_flags. */
void kv_heap_then_switch(void *arg);

/* The recursive-map mistake: the "PTEs" of KERNEL_BASE and KERNEL_BASE +
 * KERNEL_LOAD_PA (two reads, one window page) read through the self-map
 * without looking at their PDE, as if the kernel half were 4 KiB tables. */
void kv_kpte_unchecked(void *arg);

/* The same PTE read as it should be: the PDE first, through the self-map's
 * directory page, and the table only if that PDE is present without PS. */
void kv_kpte_checked(void *arg);

/*
 * What kv_fake_strategy saw: [0] with three spaces of its own live, [1]
 * once they are gone.  user_pt_frames is pt_frames - kernel_pt_frames;
 * frames_taken is how many fewer frames the PMM has free than before the
 * first space.
 */
struct kv_fake {
    uint32_t spaces[2], pd_frames[2], user_pt_frames[2], frames_taken[2];
};
extern struct kv_fake kv_fake;

/* On a machine of KA_RAM_SIZE: the boot directory of ka_paging_on, the
 * bitmap PMM, and the tests' own strategy "early", whose create counts
 * nothing; two spaces created, one with two pages, a fork of it, all three
 * destroyed. */
void kv_fake_strategy(void *arg);

#endif

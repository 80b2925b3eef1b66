/* kern_alloc.h - kernel-side machinery for the allocator tests: a booted
 * machine (paging, placement, PMM, heaps) and a heap grow function. */
#ifndef PAGESIM_TESTS_KERN_ALLOC_H
#define PAGESIM_TESTS_KERN_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/x86.h"

/*
 * Physical layout of the 16 MiB test machine:
 *   0x00100000 page directory (PDE 1023 maps it onto itself)
 *   0x00101000 four page tables for phys 0..16 MiB, used both by the
 *              identity map (PDEs 0..3) and the early map (PDEs 768..771)
 *   0x00200000 - 0x003FFFFF placement memory
 *   0x00400000 - 0x00FFFFFF frames a test may release to the PMM
 */
#define KA_RAM_SIZE (16u << 20)
#define KA_NFRAMES (KA_RAM_SIZE / PAGE_SIZE)
#define KA_PD_PA 0x00100000u
#define KA_PT_PA 0x00101000u
#define KA_PLACEMENT_PA 0x00200000u
#define KA_PLACEMENT_END 0x00400000u
#define KA_FRAMES_PA 0x00400000u

/* What ka_boot sets up; zero fields take the defaults. */
struct ka_boot {
    const char *pmm;         /* "bitmap", "stack" (NULL: no PMM in use) */
    paddr_t release_pa;      /* frames released to the PMM ... */
    uint32_t release_frames; /* ... this many from release_pa */
    vaddr_t heap_end;        /* kernel heap range end (0: KHEAP_END) */
    vaddr_t pageheap_end;    /* page heap range end (0: PAGEHEAP_END) */
};

/* What ka_grow did. */
struct ka_counters {
    uint32_t grow_calls;   /* calls that succeeded */
    uint32_t grow_pages;   /* pages mapped */
    uint32_t table_frames; /* frames taken for page tables */
};
extern struct ka_counters ka_counters;

/* Builds the boot page directory and tables and turns paging on; arg unused. */
void ka_paging_on(void *arg);

/* ka_paging_on, then placement at [KA_PLACEMENT_PA, KA_PLACEMENT_END), the
 * PMM of the struct ka_boot at arg, both heaps over ka_grow, and the
 * placement allocator sealed.  Panics if a step fails. */
void ka_boot(void *arg);

/* Maps npages frames from the PMM at va, page tables included, through the
 * recursive slot.  Returns false when the PMM runs dry. */
bool ka_grow(vaddr_t va, uint32_t npages);

/* Writes len bytes (a multiple of 4) at va with words derived from seed. */
void ka_fill(vaddr_t va, uint32_t len, uint32_t seed);

/* Returns true if the len bytes at va still hold ka_fill's words for seed. */
bool ka_verify(vaddr_t va, uint32_t len, uint32_t seed);

/* Copies n bytes from src to dst (kernel addresses), as kernel code would. */
void ka_copy(vaddr_t dst, vaddr_t src, uint32_t n);

#endif

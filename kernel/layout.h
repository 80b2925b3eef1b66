/*
 * layout.h - the kernel's virtual memory map, the same in every address
 * space from 0xC0000000 up (PDEs 768..1021 are shared; 1022 and 1023 are
 * each space's foreign and recursive slots).
 *
 *   0x00000000 - 0xBFFFFFFF  user space, per address space
 *   0xC0000000 - 0xEFFFFFFF  direct map of physical memory (physmap strategy,
 *                            768 MiB at most); its first 16 MiB are the early
 *                            boot mapping every strategy keeps (kernel image
 *                            at 0xC0100000, boot structures, placement memory)
 *   0xF0000000 - 0xF7FFFFFF  kernel heap (kmalloc)
 *   0xF8000000 - 0xFBFFFFFF  page-only heap
 *   0xFC000000 - 0xFC3FFFFF  temporary mapping window (1024 slots)
 *   0xFF800000 - 0xFFBFFFFF  foreign slot: another space's tables (PDE 1022)
 *   0xFFC00000 - 0xFFFFFFFF  recursive self-map (PDE 1023)
 */
#ifndef PAGESIM_LAYOUT_H
#define PAGESIM_LAYOUT_H

#include "kernel/bootlayout.h" /* KERNEL_BASE, KERNEL_PDX, KERNEL_LOAD_PA, EARLY_MAP_SIZE */
#include "mmu/x86.h"

#define P2V(pa) ((vaddr_t)(pa) + KERNEL_BASE) /* early map / direct map only */
#define V2P(va) ((paddr_t)(va)-KERNEL_BASE)

#define PHYSMAP_BASE KERNEL_BASE
#define PHYSMAP_END 0xF0000000u
#define PHYSMAP_MAX (PHYSMAP_END - PHYSMAP_BASE) /* 768 MiB */

#define KHEAP_START 0xF0000000u
#define KHEAP_END 0xF8000000u
#define PAGEHEAP_START 0xF8000000u
#define PAGEHEAP_END 0xFC000000u
#define TEMPMAP_BASE 0xFC000000u
#define TEMPMAP_SLOTS 1024u
#define TEMPMAP_END (TEMPMAP_BASE + TEMPMAP_SLOTS * PAGE_SIZE)

/*
 * The names under which the kernel registers its windows (arch_region):
 * the report counts accesses to region NAME as `NAME.accesses`.
 */
#define REGION_DIRECTMAP "directmap" /* the early 16 MiB, physmap's direct map */
#define REGION_TEMPMAP "tempmap"     /* the temporary-mapping window and scratch slots */
#define REGION_RECURSIVE "recursive" /* the self-map: the current space's tables */
#define REGION_FOREIGN "foreign"     /* the foreign slot and the foreign directory */

/* Kernel page tables preallocated at boot cover [KERNEL_BASE, KERNEL_TABLES_END). */
#define KERNEL_TABLES_END TEMPMAP_END

#endif

/*
 * ptdump.h - the canonical dump of every live address space's page
 * directory and page tables, the one both builds print so that their final
 * tables can be compared line by line.  It reads paging structures by
 * physical address through a reader the machine provides (the simulator's
 * RAM, or a side-effect-free window on metal), so dumping sets no accessed
 * bit and costs no TLB entry.
 *
 * Lines, in order of space handle (space 0 is the kernel's own):
 *   space H pd 0xPPPPPPPP            a live space and its directory
 *   pde I 0xVVVVVVVV                 every non-zero PDE of that directory
 *   pt I                             the table of PDE I follows (user PDEs of
 *                                    every space; kernel PDEs of space 0 only,
 *                                    as every space shares those tables)
 *   pte F L 0xVVVVVVVV               non-zero PTEs F..L of that table: entry
 *                                    F + k holds VVVVVVVV + k * 4096
 * Values are printed whole, accessed and dirty bits included.
 */
#ifndef PAGESIM_PTDUMP_H
#define PAGESIM_PTDUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/layout.h"
#include "mmu/x86.h"

/* Copies the 1024 words of the frame at physical address pa into words. */
typedef void (*ptdump_read_fn)(void *ctx, paddr_t pa, uint32_t *words);
/* Receives one line of the dump (no newline). */
typedef void (*ptdump_emit_fn)(void *ctx, const char *line);

/* Dumps every live space (vmm_space_info) as above. */
void ptdump_spaces(ptdump_read_fn read, ptdump_emit_fn emit, void *ctx);

/*
 * The one exclusion when the two builds' tables are compared: accessed and
 * dirty bits of entries that map any part of the kernel image area
 * [PTDUMP_AD_EXCLUDED_START, PTDUMP_AD_EXCLUDED_END) (kernel/bootlayout.h).
 * On metal the CPU sets them when it fetches the kernel's instructions and
 * uses its stack, static data, GDT, IDT and TSS, all of which live there;
 * the simulator runs that code natively on the host and never sees those
 * accesses.  For 4 KiB pages that is the image's PTEs; for a PDE, the one
 * whose 4 MiB holds the image (its A bit, and its D bit if it maps a 4 MiB
 * page).
 */
#define PTDUMP_AD_EXCLUDED_START P2V(KERNEL_LOAD_PA)
#define PTDUMP_AD_EXCLUDED_END P2V(BOOT_IMAGE_END)

/* The bits of an entry mapping [va, va + size) that the comparison ignores. */
static inline uint32_t
ptdump_ignored_bits(vaddr_t va, uint32_t size)
{
    bool overlaps = va < PTDUMP_AD_EXCLUDED_END && va + (size - 1) >= PTDUMP_AD_EXCLUDED_START;
    return overlaps ? (PTE_A | PTE_D) : 0;
}

#endif

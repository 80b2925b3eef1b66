/*
 * boot.h - what the entry code hands the kernel (a digest of the Multiboot
 * information, all 32-bit fields) and the boot sequence shared by the
 * simulator and the bare-metal kernel.
 *
 * On entry: the kernel is linked at KERNEL_BASE + its load address, paging
 * is on with a boot directory in CR3 that maps physical [0, early_map_size)
 * both at 0 and at KERNEL_BASE (EARLY_MAP_SIZE), and CR4 holds the features
 * the entry chose (PSE, PGE).  The boot information itself lies in the
 * early mapping.
 */
#ifndef PAGESIM_BOOT_H
#define PAGESIM_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/x86.h"

#define BOOT_MMAP_MAX 32u
#define BOOT_MMAP_USABLE 1u   /* Multiboot memory type 1: available RAM */
#define BOOT_MMAP_RESERVED 2u /* Multiboot memory type 2: reserved */

struct boot_mmap_entry {
    uint32_t base;   /* physical */
    uint32_t length; /* bytes; base + length - 1 must not pass 4 GiB */
    uint32_t type;   /* BOOT_MMAP_USABLE or anything else (reserved) */
};

struct boot_info {
    uint32_t mmap_count;
    struct boot_mmap_entry mmap[BOOT_MMAP_MAX];
    uint32_t kernel_start, kernel_end;   /* physical, the loaded image and its bss */
    uint32_t modules_start, modules_end; /* physical, all modules; equal if none */
    uint32_t early_map_size;             /* bytes mapped by the boot directory */
};

enum boot_status {
    BOOT_OK = 0,
    BOOT_BAD_INFO,         /* inconsistent boot information */
    BOOT_UNKNOWN_STRATEGY, /* no paging strategy by that name */
    BOOT_UNKNOWN_PMM,      /* no frame allocator by that name */
    BOOT_NO_MEMORY,        /* placement memory too small for the boot structures */
    BOOT_VMM_FAILED,       /* the strategy could not build the kernel directory */
};

/* Returns a short constant description of st. */
const char *boot_strerror(enum boot_status st);

/* With on, the next kernel_boot maps the early mapping of the kernel half
 * with 4 MiB pages (the module's KMOD_FLAG_KERNEL4M; needs CR4.PSE). */
void boot_set_kernel4m(bool on);

/*
 * Boots the memory managers from bi: the placement allocator over the
 * first free memory of the early mapping, the frame allocator pmm_name
 * (image, modules, the first MiB and placement memory reserved), the
 * kernel directory of strategy (loaded in CR3, the boot directory
 * abandoned), the PMM's zero fn, and the kernel and page heaps growing
 * through the strategy.
 */
enum boot_status kernel_boot(const struct boot_info *bi, const char *strategy,
                             const char *pmm_name);

/* The kernel virtual address of the first module (valid after kernel_boot). */
vaddr_t boot_modules_va(void);

#endif

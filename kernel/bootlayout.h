/*
 * bootlayout.h - the physical layout every loader hands the kernel: the
 * simulator's (sim/bootload.c) and the bare-metal entry (kernel/metal/),
 * whatever the Multiboot loader did.  Numbers only, so that the metal entry
 * (assembly) and its linker script include this file too.
 *
 *   0x00000000 - 0x000FFFFF  first MiB: firmware, never given to the PMM
 *   0x00100000 - 0x003EFFFF  the kernel image (text, data, bss, stack); the
 *                            metal linker script fails if it grows past this
 *   0x003F0000               struct boot_info
 *   0x003FB000               boot page directory: PDEs 0..3 and 768..771
 *   0x003FC000 - 0x003FFFFF  four boot page tables mapping physical 0..16 MiB
 *   0x00400000               the module (kernel/module.h), moved here by the
 *                            metal entry from wherever the loader put it
 *   after the module         placement memory, from the next page up
 *
 * [KERNEL_LOAD_PA, BOOT_IMAGE_END) is the image area: boot_info reports it
 * as the kernel image on both builds, so placement and frame numbers do not
 * depend on the size of the real image.
 */
#ifndef PAGESIM_BOOTLAYOUT_H
#define PAGESIM_BOOTLAYOUT_H

#ifdef __ASSEMBLER__
#define BOOT_U(x) x
#else
#define BOOT_U(x) x##u
#endif

#define KERNEL_BASE BOOT_U(0xC0000000)
#define KERNEL_PDX (KERNEL_BASE >> 22)    /* 768: the first PDE of the kernel half */
#define KERNEL_LOAD_PA BOOT_U(0x00100000) /* image loaded at 1 MiB */
#define EARLY_MAP_SIZE BOOT_U(0x01000000) /* phys 0..16 MiB at 0 and at KERNEL_BASE */
#define BOOT_IMAGE_END BOOT_U(0x00400000) /* end of the image area */
#define BOOT_INFO_PA BOOT_U(0x003F0000)   /* struct boot_info; the image ends below */
#define BOOT_PD_PA BOOT_U(0x003FB000)     /* boot page directory */
#define BOOT_PT_PA BOOT_U(0x003FC000)     /* EARLY_MAP_SIZE / 4 MiB boot page tables */
#define BOOT_MODULE_PA BOOT_U(0x00400000) /* the module */

#endif

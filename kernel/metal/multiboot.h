/*
 * multiboot.h - the parts of the Multiboot 0.6.96 specification the
 * bare-metal entry uses: the header it carries and the information the
 * loader passes in EBX.
 */
#ifndef PAGESIM_METAL_MULTIBOOT_H
#define PAGESIM_METAL_MULTIBOOT_H

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_PAGE_ALIGN 0x1  /* modules on page boundaries */
#define MB_HEADER_MEMORY_INFO 0x2 /* mem_* and the memory map, please */
#define MB_HEADER_FLAGS (MB_HEADER_PAGE_ALIGN | MB_HEADER_MEMORY_INFO)
#define MB_BOOT_MAGIC 0x2BADB002 /* in EAX at entry */
/* The header lies 4-byte aligned within the image's first 8 KiB, its
 * checksum making magic + flags + checksum 0 (mod 2^32). */
#define MB_HEADER_SEARCH 8192

#ifndef __ASSEMBLER__
#include <stdint.h>

#define MB_INFO_MODS (1u << 3) /* mods_count and mods_addr are valid */
#define MB_INFO_MMAP (1u << 6) /* mmap_length and mmap_addr are valid */

struct mb_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
};

/* One memory-map entry; `size` counts the bytes after itself. */
struct mb_mmap_entry {
    uint32_t size;
    uint64_t addr;
    uint64_t len;
    uint32_t type;
} __attribute__((packed));

struct mb_module {
    uint32_t mod_start, mod_end; /* physical, [start, end) */
    uint32_t string;
    uint32_t reserved;
};
#endif

#endif

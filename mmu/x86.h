/*
 * x86.h - architectural facts of IA-32 32-bit paging (Intel SDM Vol. 3A,
 * chapter 4 and section 2.5), shared by the MMU model and kernel code.
 * Freestanding: only <stdint.h>.
 */
#ifndef PAGESIM_X86_H
#define PAGESIM_X86_H

#include <stdint.h>

typedef uint32_t paddr_t; /* physical address */
typedef uint32_t vaddr_t; /* linear (virtual) address */
typedef uint32_t pde_t;   /* page-directory entry */
typedef uint32_t pte_t;   /* page-table entry */

/*
 * A linear address under 32-bit paging:
 *
 *  31                   22 21                   12 11                      0
 * +-----------------------+-----------------------+-------------------------+
 * |  page directory index |   page table index    |     offset in page      |
 * +-----------------------+-----------------------+-------------------------+
 *          PDX(va)                 PTX(va)                 PGOFF(va)
 *
 * With CR4.PSE=1 and PDE.PS=1 the low 22 bits are the offset in a 4 MiB page.
 */
#define PAGE_SHIFT 12
#define PAGE_SIZE (1u << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PDX_SHIFT 22
#define LPAGE_SIZE (1u << PDX_SHIFT) /* 4 MiB page */
#define LPAGE_MASK (~(LPAGE_SIZE - 1))
#define NPDENTRIES 1024
#define NPTENTRIES 1024

#define PDX(va) ((((uint32_t)(va)) >> PDX_SHIFT) & 0x3FFu)
#define PTX(va) ((((uint32_t)(va)) >> PAGE_SHIFT) & 0x3FFu)
#define PGOFF(va) (((uint32_t)(va)) & (PAGE_SIZE - 1))
#define LPGOFF(va) (((uint32_t)(va)) & (LPAGE_SIZE - 1))
#define PGADDR(pdx, ptx, off)                                                                      \
    ((vaddr_t)(((uint32_t)(pdx) << PDX_SHIFT) | ((uint32_t)(ptx) << PAGE_SHIFT) | (uint32_t)(off)))
#define PAGE_ROUND_DOWN(a) (((uint32_t)(a)) & PAGE_MASK)
#define PAGE_ROUND_UP(a) ((((uint32_t)(a)) + PAGE_SIZE - 1) & PAGE_MASK)

/* Bit numbers of PDE/PTE fields (SDM Tables 4-4 to 4-6). */
#define PTE_BIT_P 0     /* present */
#define PTE_BIT_W 1     /* R/W: writes allowed */
#define PTE_BIT_U 2     /* U/S: user-mode accesses allowed */
#define PTE_BIT_PWT 3   /* page-level write-through */
#define PTE_BIT_PCD 4   /* page-level cache disable */
#define PTE_BIT_A 5     /* accessed */
#define PTE_BIT_D 6     /* dirty (PTE, or PDE that maps a 4 MiB page) */
#define PTE_BIT_PS 7    /* page size, in a PDE; PAT in a 4 KiB PTE */
#define PTE_BIT_G 8     /* global (PTE, or PDE that maps a 4 MiB page) */
#define PTE_BIT_AVL0 9  /* bits 9..11 are ignored by hardware (AVL) */
#define PDE_BIT_LPAT 12 /* PAT bit of a PDE that maps a 4 MiB page */

#define PTE_P (1u << PTE_BIT_P)
#define PTE_W (1u << PTE_BIT_W)
#define PTE_U (1u << PTE_BIT_U)
#define PTE_PWT (1u << PTE_BIT_PWT)
#define PTE_PCD (1u << PTE_BIT_PCD)
#define PTE_A (1u << PTE_BIT_A)
#define PTE_D (1u << PTE_BIT_D)
#define PTE_PS (1u << PTE_BIT_PS)
#define PTE_PAT (1u << PTE_BIT_PS) /* same bit as PS, in a 4 KiB PTE */
#define PTE_G (1u << PTE_BIT_G)
#define PTE_AVL (7u << PTE_BIT_AVL0)
#define PDE_LPAT (1u << PDE_BIT_LPAT)

#define PTE_ADDR_MASK 0xFFFFF000u  /* frame of a PTE / table of a PDE */
#define PDE_LADDR_MASK 0xFFC00000u /* frame of a 4 MiB page */
/*
 * Bits 21:13 of a 4 MiB PDE.  With PSE-36 they would carry physical address
 * bits 39:32; this model has 32-bit physical addresses (MAXPHYADDR = 32), so
 * the SDM makes all of them reserved: a set bit gives a #PF with RSVD=1.
 */
#define PDE_LRSVD_MASK 0x003FE000u

#define PTE_FLAGS_MASK 0x00000FFFu  /* flag bits of a PTE, or of a PDE that names a table */
#define PDE_LFLAGS_MASK 0x00001FFFu /* flag bits of a 4 MiB PDE: PAT is bit 12 */

#define PTE_ADDR(e) ((uint32_t)(e)&PTE_ADDR_MASK)
#define PDE_LADDR(e) ((uint32_t)(e)&PDE_LADDR_MASK)

/* Control registers (SDM section 2.5). */
#define CR0_PE (1u << 0)  /* protection enable */
#define CR0_WP (1u << 16) /* supervisor writes honour R/W */
#define CR0_PG (1u << 31) /* paging */
#define CR3_ADDR_MASK 0xFFFFF000u
#define CR3_PWT (1u << 3)
#define CR3_PCD (1u << 4)
#define CR4_PSE (1u << 4) /* 4 MiB pages */
#define CR4_PAE (1u << 5) /* not modelled: must stay 0 */
#define CR4_PGE (1u << 7) /* global pages */

/* Page-fault error code (SDM section 4.7). */
#define PF_ERR_P (1u << 0)    /* 0: not present; 1: protection violation */
#define PF_ERR_W (1u << 1)    /* the access was a write */
#define PF_ERR_U (1u << 2)    /* the access was made in user mode */
#define PF_ERR_RSVD (1u << 3) /* a reserved bit was set in a paging entry */

/* Recursive mapping: PDE 1023 maps the page directory onto itself. */
#define RECURSIVE_SLOT 1023u
#define RECURSIVE_PT_BASE 0xFFC00000u /* page tables of the current space */
#define RECURSIVE_PD 0xFFFFF000u      /* page directory of the current space */
#define FOREIGN_SLOT 1022u
#define FOREIGN_PT_BASE 0xFF800000u /* page tables of the foreign space */
#define FOREIGN_PD 0xFFFFE000u      /* its directory: PDE 1022 seen through slot 1023 */

#endif

/*
 * vmm_strategy.h - the contract of a paging strategy (a file of allocators/
 * defining a const struct vmm_ops listed in the registry, vmm_registry.c)
 * and what the generic layer offers it; no other caller.
 *
 * A strategy decides where directories and tables live and how the kernel
 * reaches them; the generic layer does the rest.  Its duties:
 *
 *   name, summary, pmm   its name, one line on how it works, and the frame
 *                        allocator it prefers (struct vmm_ops).
 *   reach_frames         the frames it can reach; the boot leaves the rest
 *                        of RAM out of the PMM.
 *   reach                struct vmm_reach below: open and close a directory
 *                        or table, make and free a table, free a directory,
 *                        and where the kernel's PTEs and PDEs are reached.
 *                        The walker (vmm_walk.c) does every map, unmap,
 *                        translate, fork and destroy through it, and counts
 *                        the user tables; new_table and free_table only get
 *                        and give back the memory.
 *   boot                 completes the kernel space: windows, self-map,
 *                        direct map (kernel tables from vmm_boot_table, which
 *                        counts them).
 *   create               a directory at sp->vs_pd_pa holding the kernel
 *                        PDEs [KERNEL_PDX, VMM_KPDE_END) (vmm_copy_kernel_pdes
 *                        copies them); on failure nothing of it is left.  It
 *                        counts nothing: vmm_space_create counts the
 *                        directory and vmm_space_destroy uncounts it.
 *   kmap, kunmap, zero_frame  reach any frame it can reach (fork's copies,
 *                        the PMM's zeroing); VMM_WINDOW_OPS for the window.
 *   flushed              forgets what a CR3 write flushed (may be NULL).
 *   stats                adds its own figures: heap bytes, kernel address
 *                        space, events only it sees (foreign_switches).  It
 *                        writes no global: vmm_stats calls it.
 *   invalidation         every INVLPG or CR3 reload through vmm_invlpg and
 *                        vmm_flush_tlb, which count them, for a window slot
 *                        or a self-map page it repoints.
 *
 * Kernel pages it maps itself carry vmm_kernel_global().  Its state lives
 * in static variables, set again by its boot.
 */
#ifndef PAGESIM_VMM_STRATEGY_H
#define PAGESIM_VMM_STRATEGY_H

#include <stdbool.h>
#include <stdint.h>

#include "allocators/heap.h"
#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "kernel/layout.h"

/* Entry flags of a user page table's PDE (rights are decided by the PTEs)
 * and of the kernel's own PDEs and window slots. */
#define VMM_USER_PDE (PTE_P | PTE_W | PTE_U)
#define VMM_KERNEL_PDE (PTE_P | PTE_W)

/*
 * Returns PTE_G if CR4.PGE was on at vmm_boot, else 0.  Pages the kernel
 * maps in its own half (heap growth, temporary and scratch slots, the
 * direct map) carry it, so their translations survive CR3 writes; the lazy
 * window's slots do not, as it relies on a CR3 reload to flush them.  The
 * early mapping the entry handed over is left as it came (not global),
 * unless vmm_set_kernel4m asked for it as 4 MiB pages (global).
 */
uint32_t vmm_kernel_global(void);

/* Kernel PDEs a new directory copies: [KERNEL_PDX, VMM_KPDE_END). */
#define VMM_KPDE_END (PDX(KERNEL_TABLES_END - 1) + 1)
#define VMM_NKPDE (VMM_KPDE_END - KERNEL_PDX)

/* User PDEs: [0, VMM_NUPDE). */
#define VMM_NUPDE KERNEL_PDX

/* The scratch slots heap, pageheap and recursive reach frames through: the
 * top slots of the temporary window's page table. */
#define VMM_SCRATCH_SLOTS 4u
#define VMM_SCRATCH_BASE (TEMPMAP_END - VMM_SCRATCH_SLOTS * PAGE_SIZE)

/* A kernel virtual address as a pointer to 32-bit entries. */
static inline volatile uint32_t *
vmm_words(vaddr_t va)
{
    return (volatile uint32_t *)(uintptr_t)va;
}

/* The space record behind a handle, NULL if not in use. */
struct vmm_space *vmm_space_at(uint32_t space);

/* The handle of a space record. */
uint32_t vmm_handle(const struct vmm_space *sp);

/* Returns true if sp is loaded in CR3. */
bool vmm_is_current(const struct vmm_space *sp);

/* Records that sp's foreign slot now points at the space target
 * (VMM_MAX_SPACES: at none), so that destroying target forgets it. */
void vmm_set_foreign(struct vmm_space *sp, uint32_t target);

/* The kernel directory (space VMM_KERNEL_SPACE), made at boot in placement
 * memory: reachable through the early mapping at P2V(vmm_kernel_pd()). */
paddr_t vmm_kernel_pd(void);

/* Counted TLB maintenance (vmm_tlb.c): INVLPG, a CR3 load (tells the
 * strategy, flushed), and a CR3 reload of the current value. */
void vmm_invlpg(vaddr_t va);
void vmm_load_cr3(paddr_t pd_pa);
void vmm_flush_tlb(void);

/* Boot: a zeroed kernel table from placement memory installed at pdx of the
 * kernel directory; its physical address in *pa. */
enum vmm_status vmm_boot_table(uint32_t pdx, paddr_t *pa);

/* Boot: PDE pdx of the kernel directory no longer points to a table. */
void vmm_boot_forget_table(uint32_t pdx);

/* Returns true and the physical address of the kernel table at pdx, if any. */
bool vmm_kernel_table(uint32_t pdx, paddr_t *pa);

/* How a strategy reaches a kernel PTE: NULL if va has no kernel table. */
typedef volatile pte_t *(*vmm_kpte_fn)(vaddr_t va);

/* The kernel PTE of va through the early mapping (kernel tables live in
 * placement memory); NULL if va has no kernel table. */
volatile pte_t *vmm_kpte_early(vaddr_t va);

/* The kernel directory's entries, reached through the early mapping. */
volatile pde_t *vmm_kpd_early(void);

/* Copies PDEs [KERNEL_PDX, VMM_KPDE_END) of the kernel directory, read
 * through the early mapping, into the directory whose entries are at pd. */
void vmm_copy_kernel_pdes(volatile pde_t *pd);

/*
 * The temporary window (vmm_window.c): nslots pages from base whose PTEs
 * the kernel reaches at ptes.  Eager: a stack of free slots, each unmap
 * clears the PTE and issues INVLPG.  Lazy: slots taken in turn, an unmap
 * only clears the PTE; when the turn wraps, one CR3 reload if some cleared
 * slot may still be cached.  The window counts its maps, reuses and wraps
 * itself (vmm_stats tmp_*).
 */
void vmm_window_setup(vaddr_t base, uint32_t nslots, bool lazy, volatile pte_t *ptes);
enum vmm_status vmm_window_map(paddr_t pa, vaddr_t *va);
void vmm_window_unmap(vaddr_t va);
/* The TLB was flushed: cleared lazy slots are clean again. */
void vmm_window_flushed(void);
/* Zeroes the frame at pa through a slot; panics if the window is full. */
void vmm_window_zero(paddr_t pa);

/*
 * How a strategy reaches the paging structures of a space; the generic
 * walker (vmm_walk.c) edits them through it one structure at a time: the
 * directory is opened, read or written, and closed before a table is opened.
 */
struct vmm_reach {
    /* The directory of sp: its entries at *pd until close. */
    enum vmm_status (*open_pd)(struct vmm_space *sp, volatile pde_t **pd);
    /* The table of PDE pdx (value pde) of sp: its entries at *pt until close. */
    enum vmm_status (*open_pt)(struct vmm_space *sp, uint32_t pdx, pde_t pde, volatile pte_t **pt);
    /* Ends the reach of a directory or table; NULL if there is nothing to undo. */
    void (*close)(volatile uint32_t *p);
    /* A new zeroed table for PDE pdx of sp: the PDE value to store in *pde. */
    enum vmm_status (*new_table)(struct vmm_space *sp, uint32_t pdx, pde_t *pde);
    /* Frees the table of PDE pdx (value pde) of sp. */
    void (*free_table)(struct vmm_space *sp, uint32_t pdx, pde_t pde);
    /* Frees the directory of sp (its tables are gone). */
    void (*free_pd)(struct vmm_space *sp);
    /* The kernel PTE of va, NULL if it has no kernel table. */
    vmm_kpte_fn kpte;
    /* Where the kernel directory's entries are reached. */
    volatile pde_t *(*kpd)(void);
};

/* The struct vmm_ops members of a strategy that reaches frames through the
 * temporary window. */
#define VMM_WINDOW_OPS                                                                             \
    .kmap = vmm_window_map, .kunmap = vmm_window_unmap, .zero_frame = vmm_window_zero

/* struct vmm_reach new_table of a strategy whose directories and tables are
 * PMM frames (recursive, tempmap, physmap): a frame the PMM zeroed, as a
 * user PDE in *pde. */
enum vmm_status vmm_pmm_new_table(struct vmm_space *sp, uint32_t pdx, pde_t *pde);
/* struct vmm_reach free_table of such a strategy: the table's frame goes back to the PMM. */
void vmm_pmm_free_table(struct vmm_space *sp, uint32_t pdx, pde_t pde);
/* struct vmm_reach free_pd of such a strategy: the directory's frame goes back to the PMM. */
void vmm_pmm_free_pd(struct vmm_space *sp);

/* The struct vmm_reach members new_table, free_table and free_pd of such a strategy. */
#define VMM_PMM_TABLES                                                                             \
    .new_table = vmm_pmm_new_table, .free_table = vmm_pmm_free_table, .free_pd = vmm_pmm_free_pd

/* struct vmm_ops create of such a strategy (tempmap, physmap): a frame the
 * PMM zeroed becomes the directory of sp and gets the kernel PDEs
 * (vmm_copy_kernel_pdes) through the reach's open_pd; the frame goes back
 * if open_pd fails. */
enum vmm_status vmm_pmm_create(struct vmm_space *sp);

/* Where heap and pageheap take their pages (vmm_heap.c runs both). */
struct vmm_page_source {
    void *(*alloc_page)(void); /* one page-aligned page, NULL if none */
    void (*free_page)(void *p);
    void *(*alloc_shadow)(void); /* VMM_NUPDE uint32_t, NULL if none */
    void (*free_shadow)(void *p);
    uint32_t shadow_bytes;                     /* heap bytes one shadow takes */
    void (*heap_stats)(struct heap_stats *st); /* that heap's counters */
};

/* The reach of heap and pageheap (vmm_heap.c): directories and tables at
 * their heap addresses, user tables found through the shadow array. */
extern const struct vmm_reach vmm_va_reach;
/* struct vmm_ops boot of heap and pageheap: their paging structures will
 * come from src, their frames be reached through the scratch slots. */
enum vmm_status vmm_va_boot(const struct vmm_page_source *src, struct vmm_space *ks);
/* struct vmm_ops create of heap and pageheap: a cleared page of the source
 * holding the kernel PDEs. */
enum vmm_status vmm_va_create(struct vmm_space *sp);
/* struct vmm_ops stats of heap and pageheap: heap bytes held and wasted, heap pages
 * holding directories and tables, scratch slots. */
void vmm_va_stats(struct vmm_stats *st);

/* The struct vmm_ops of a strategy named nm (summary sum) over the heap
 * body, whose boot bootfn calls vmm_va_boot with its page source. */
#define VMM_VA_OPS(nm, sum, bootfn)                                                                \
    {                                                                                              \
        .name = (nm), .summary = (sum), .pmm = &pmm_bitmap_ops, .reach_frames = VMM_REACH_ALL,     \
        .reach = &vmm_va_reach, .boot = (bootfn), .create = vmm_va_create, VMM_WINDOW_OPS,         \
        .flushed = vmm_window_flushed, .stats = vmm_va_stats,                                      \
    }

#endif

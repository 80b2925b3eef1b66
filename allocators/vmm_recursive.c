/*
 * vmm_recursive.c - the recursive strategy: PDE 1023 of every directory
 * maps the directory onto itself, PDE 1022 is a foreign slot onto another.
 *
 * Frames come from the PMM, pre-zeroed (the stack allocator's pool, or
 * zeroed through a scratch slot).  The current space's directory is at
 * RECURSIVE_PD and its tables at RECURSIVE_PT_BASE; any other space is
 * reached by pointing the current directory's PDE 1022 at it, which shows
 * its directory at FOREIGN_PD and its tables at FOREIGN_PT_BASE.  Each
 * repoint must invalidate what the old target left in the TLB: the pages
 * of the foreign window touched since the last repoint or CR3 load get an
 * INVLPG each (a CR3 reload past RC_FLUSH_CEILING of them).  No kernel heap
 * is used for paging.
 *
 * Kernel half: every directory copies PDEs [KERNEL_PDX, VMM_KPDE_END) of the
 * current one (all the same) when it is made; those point at kernel tables
 * made at boot that never change, and they are edited through the self-map
 * of whichever space is current.  PDEs 1022 and 1023 are each space's own.
 */
#include <stddef.h>

#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

/* Past this many touched foreign-window pages a repoint reloads CR3 instead
 * (Linux's tlb_single_page_flush_ceiling is 33). */
#define RC_FLUSH_CEILING 32u

/* Foreign-window pages that may be cached: bit i for FOREIGN_PT_BASE + i
 * pages (user tables), plus the foreign directory page. */
static uint32_t rc_touched[VMM_NUPDE / 32];
static uint32_t rc_ntouched;
static bool rc_pd_touched;
static uint32_t rc_switches; /* times the foreign slot was repointed (vmm_stats) */

static volatile pde_t *
rc_self_pd(void)
{
    return vmm_words(RECURSIVE_PD);
}

static volatile pte_t *
rc_kpte(vaddr_t va)
{
    paddr_t t;
    if (!vmm_kernel_table(PDX(va), &t))
        return NULL;
    return vmm_words(RECURSIVE_PT_BASE) + (va >> PAGE_SHIFT);
}

static void
rc_flushed(void)
{
    for (uint32_t i = 0; i < VMM_NUPDE / 32; i++)
        rc_touched[i] = 0;
    rc_ntouched = 0;
    rc_pd_touched = false;
    vmm_window_flushed();
}

/* Drops what the foreign window's old target left in the TLB.  Returns
 * whether it invalidated anything (an INVLPG or a flush). */
static bool
rc_invalidate_foreign(void)
{
    bool any = rc_ntouched + rc_pd_touched > 0;
    if (rc_ntouched + rc_pd_touched > RC_FLUSH_CEILING) {
        vmm_flush_tlb(); /* rc_flushed clears the marks */
        return true;
    }
    for (uint32_t w = 0; w < VMM_NUPDE / 32 && rc_ntouched > 0; w++) {
        for (uint32_t bits = rc_touched[w]; bits != 0; bits &= bits - 1) {
            uint32_t pdx = w * 32 + (uint32_t)__builtin_ctz(bits);
            vmm_invlpg(FOREIGN_PT_BASE + pdx * PAGE_SIZE);
            rc_ntouched--;
        }
        rc_touched[w] = 0;
    }
    if (rc_pd_touched)
        vmm_invlpg(FOREIGN_PD);
    rc_pd_touched = false;
    return any;
}

/* Points the current directory's foreign slot at sp, unless it already does. */
static void
rc_aim(struct vmm_space *sp)
{
    struct vmm_space *cur = vmm_space_at(vmm_current());
    uint32_t h = vmm_handle(sp);
    if (cur->vs_foreign == h)
        return;
    pde_t old = rc_self_pd()[FOREIGN_SLOT];
    rc_self_pd()[FOREIGN_SLOT] = sp->vs_pd_pa | VMM_KERNEL_PDE;
    /* The old slot may sit in the paging-structure caches even when no
     * window page is in the TLB (SDM 4.10.3); any INVLPG drops those
     * (SDM 4.10.4.1), so one is needed when the slot was present. */
    if (!rc_invalidate_foreign() && (old & PTE_P))
        vmm_invlpg(FOREIGN_PT_BASE);
    vmm_set_foreign(cur, h);
    rc_switches++;
}

static enum vmm_status
rc_open_pd(struct vmm_space *sp, volatile pde_t **pd)
{
    if (vmm_is_current(sp)) {
        *pd = rc_self_pd();
        return VMM_OK;
    }
    rc_aim(sp);
    rc_pd_touched = true;
    *pd = vmm_words(FOREIGN_PD);
    return VMM_OK;
}

static enum vmm_status
rc_open_pt(struct vmm_space *sp, uint32_t pdx, pde_t pde, volatile pte_t **pt)
{
    (void)pde;
    if (vmm_is_current(sp)) {
        *pt = vmm_words(RECURSIVE_PT_BASE + pdx * PAGE_SIZE);
        return VMM_OK;
    }
    rc_aim(sp);
    if (!(rc_touched[pdx / 32] & (1u << (pdx % 32)))) {
        rc_touched[pdx / 32] |= 1u << (pdx % 32);
        rc_ntouched++;
    }
    *pt = vmm_words(FOREIGN_PT_BASE + pdx * PAGE_SIZE);
    return VMM_OK;
}

/*
 * Tables are pre-zeroed PMM frames.  A new table's window page (self or
 * foreign) needs no INVLPG: the PDE was not present, and a not-present
 * entry is never cached; what a previous foreign target left there went at
 * the repoint.
 */
static const struct vmm_reach rc_reach = {
    .open_pd = rc_open_pd,
    .open_pt = rc_open_pt,
    .close = NULL,
    VMM_PMM_TABLES,
    .kpte = rc_kpte,
    .kpd = rc_self_pd,
};

/* The self-map in the kernel directory; the CR3 load that ends the boot
 * clears the touched marks (rc_flushed). */
static enum vmm_status
rc_boot(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ram_frames;
    rc_switches = 0;
    /* The foreign directory's page lies in the self-map: named first. */
    arch_region(REGION_FOREIGN, FOREIGN_PD, FOREIGN_PD + PAGE_SIZE - 1);
    arch_region(REGION_RECURSIVE, RECURSIVE_PT_BASE, 0xFFFFFFFFu);
    arch_region(REGION_FOREIGN, FOREIGN_PT_BASE, RECURSIVE_PT_BASE - 1);
    vmm_kpd_early()[RECURSIVE_SLOT] = ks->vs_pd_pa | VMM_KERNEL_PDE;
    /* Scratch slots for zeroing and copying frames, their PTEs via the self-map. */
    vmm_window_setup(VMM_SCRATCH_BASE, VMM_SCRATCH_SLOTS, false, rc_kpte(VMM_SCRATCH_BASE));
    return VMM_OK;
}

/*
 * The new directory is reached through the foreign slot to fill it.  Its
 * kernel PDEs are copied entry by entry from the current directory, reached
 * through the self-map (every directory holds the same kernel PDEs), as
 * this strategy reaches every paging structure through its windows.
 */
static enum vmm_status
rc_create(struct vmm_space *sp)
{
    paddr_t pa;
    volatile pde_t *pd;
    if (pmm_alloc_zeroed(&pa) != PMM_OK)
        return VMM_NO_MEMORY;
    sp->vs_pd_pa = pa;
    enum vmm_status st = rc_open_pd(sp, &pd);
    if (st != VMM_OK) {
        pmm_free(pa);
        return st;
    }
    volatile pde_t *self = rc_self_pd();
    for (uint32_t pdx = KERNEL_PDX; pdx < VMM_KPDE_END; pdx++)
        pd[pdx] = self[pdx];
    pd[RECURSIVE_SLOT] = pa | VMM_KERNEL_PDE;
    return VMM_OK;
}

static void
rc_stats(struct vmm_stats *st)
{
    st->kva_bytes = 2 * LPAGE_SIZE + VMM_SCRATCH_SLOTS * PAGE_SIZE;
    st->foreign_switches = rc_switches;
}

const struct vmm_ops vmm_recursive_ops = {
    .name = "recursive",
    .summary = "frames from the PMM (pre-zeroed); its own tables through the self-map at PDE "
               "1023, another space's through the foreign slot at PDE 1022",
    .pmm = &pmm_stack_ops,
    .reach_frames = VMM_REACH_ALL,
    .reach = &rc_reach,
    .boot = rc_boot,
    .create = rc_create,
    VMM_WINDOW_OPS,
    .flushed = rc_flushed,
    .stats = rc_stats,
};

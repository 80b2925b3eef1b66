/*
 * hybrid.c - the hybrid strategy, a plug-in (kernel/plugin.h): the current
 * space's directory and tables are edited through the recursive self-map
 * (PDE 1023 of every directory points at the directory itself), any other
 * space's through a stack of temporary mapping slots, one structure at a
 * time.  There is no foreign slot: PDE 1022 stays 0 in every directory.
 *
 * Frames come from the PMM (pre-zeroed by the stack allocator, or zeroed
 * through a slot).  The current space's directory is at RECURSIVE_PD and
 * its table for PDE i at RECURSIVE_PT_BASE + i pages: editing them needs no
 * INVLPG, because a table only ever appears there (a PDE goes from not
 * present to present, and no TLB or paging-structure-cache entry is made
 * from a not-present entry: SDM 4.10.4.3) and tables are freed only when
 * their space is destroyed, never while it is current.  A CR3 load drops
 * the self-map's translations of the space left (its PDEs have no G bit).
 *
 * Another space is reached by mapping the frame of its directory, or of
 * one of its tables, into the free slot on top of the stack (the scratch
 * slots of the temporary window, vmm_window_* of vmm_strategy.h, their PTEs
 * reached through the self-map), and unmapping it when done, with one
 * INVLPG: the walker opens the directory, closes it, then opens a table.
 * No two consecutive pages are ever mapped for it, so one edit costs one
 * slot map and one INVLPG per structure it opens.
 *
 * Kernel half: every directory copies PDEs [KERNEL_PDX, VMM_KPDE_END) of the
 * kernel directory (the same in every space) when it is made; those point at kernel tables
 * made at boot that never change, reached through the self-map of
 * whichever space is current.  PDE 1023 is each space's own.
 */
#include <stddef.h>
#include <stdint.h>

#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"
#include "kernel/plugin.h"

/* The current space's directory, through the self-map. */
static volatile pde_t *
hy_self_pd(void)
{
    return vmm_words(RECURSIVE_PD);
}

/* A kernel PTE through the self-map: the kernel tables are the same in
 * every directory, so whichever space is current shows them. */
static volatile pte_t *
hy_kpte(vaddr_t va)
{
    paddr_t t;
    if (!vmm_kernel_table(PDX(va), &t))
        return NULL;
    return vmm_words(RECURSIVE_PT_BASE) + (va >> PAGE_SHIFT);
}

/* Maps the frame at pa into the slot on top of the stack. */
static enum vmm_status
hy_open_slot(paddr_t pa, volatile uint32_t **p)
{
    vaddr_t va;
    enum vmm_status st = vmm_window_map(pa, &va);
    if (st == VMM_OK)
        *p = vmm_words(va);
    return st;
}

static enum vmm_status
hy_open_pd(struct vmm_space *sp, volatile pde_t **pd)
{
    if (vmm_is_current(sp)) {
        *pd = hy_self_pd();
        return VMM_OK;
    }
    return hy_open_slot(sp->vs_pd_pa, pd);
}

static enum vmm_status
hy_open_pt(struct vmm_space *sp, uint32_t pdx, pde_t pde, volatile pte_t **pt)
{
    if (vmm_is_current(sp)) {
        *pt = vmm_words(RECURSIVE_PT_BASE + pdx * PAGE_SIZE);
        return VMM_OK;
    }
    return hy_open_slot(PTE_ADDR(pde), pt);
}

/* The self-map needs nothing undone; a slot is cleared with one INVLPG
 * (vmm_window_unmap) and goes back on the stack. */
static void
hy_close(volatile uint32_t *p)
{
    vaddr_t va = (vaddr_t)(uintptr_t)p;
    if (va < RECURSIVE_PT_BASE)
        vmm_window_unmap(va);
}

static const struct vmm_reach hy_reach = {
    .open_pd = hy_open_pd,
    .open_pt = hy_open_pt,
    .close = hy_close,
    VMM_PMM_TABLES,
    .kpte = hy_kpte,
    .kpd = hy_self_pd,
};

/* The self-map in the kernel directory, and the slots, whose PTEs are
 * reached through it once the generic layer has loaded CR3. */
static enum vmm_status
hy_boot(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ram_frames;
    arch_region(REGION_RECURSIVE, RECURSIVE_PT_BASE, 0xFFFFFFFFu);
    vmm_kpd_early()[RECURSIVE_SLOT] = ks->vs_pd_pa | VMM_KERNEL_PDE;
    vmm_window_setup(VMM_SCRATCH_BASE, VMM_SCRATCH_SLOTS, false, hy_kpte(VMM_SCRATCH_BASE));
    return VMM_OK;
}

/*
 * A new space is never current: its directory, a frame the PMM zeroed, is
 * filled through a slot with the kernel PDEs (vmm_copy_kernel_pdes) and its
 * own self-map entry.
 */
static enum vmm_status
hy_create(struct vmm_space *sp)
{
    paddr_t pa;
    volatile pde_t *pd;
    if (pmm_alloc_zeroed(&pa) != PMM_OK)
        return VMM_NO_MEMORY;
    sp->vs_pd_pa = pa;
    enum vmm_status st = hy_open_slot(pa, &pd);
    if (st != VMM_OK) {
        pmm_free(pa);
        return st;
    }
    vmm_copy_kernel_pdes(pd);
    pd[RECURSIVE_SLOT] = pa | VMM_KERNEL_PDE;
    hy_close(pd);
    return VMM_OK;
}

static void
hy_stats(struct vmm_stats *st)
{
    st->kva_bytes = LPAGE_SIZE + VMM_SCRATCH_SLOTS * PAGE_SIZE;
}

const struct vmm_ops vmm_hybrid_ops = {
    .name = "hybrid",
    .summary = "frames from the PMM (pre-zeroed); its own tables through the self-map at PDE "
               "1023, another space's one at a time through a stack of temporary slots",
    .pmm = &pmm_stack_ops,
    .reach_frames = VMM_REACH_ALL,
    .reach = &hy_reach,
    .boot = hy_boot,
    .create = hy_create,
    VMM_WINDOW_OPS,
    .flushed = vmm_window_flushed,
    .stats = hy_stats,
};

PAGESIM_PLUGIN_ABI_DEFINE;

int
pagesim_plugin_init(const struct pagesim_registrar *r)
{
    return (int)r->add_strategy(&vmm_hybrid_ops);
}

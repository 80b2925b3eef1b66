/*
 * vmm_tempmap.c - the tempmap and tempmap-lazy strategies: every directory
 * and table is edited by mapping it into a slot of the temporary window
 * (vmm_window.c), one at a time.
 *
 * Frames come from the PMM (tables zeroed through a slot).  tempmap frees a
 * slot with a cleared PTE and INVLPG at once, from a stack of free slots, so
 * the next map reuses the same slot.  tempmap-lazy takes slots in turn and
 * only clears the PTE; when the turn wraps past the last slot it issues one
 * CR3 reload if a cleared slot may still be cached (Linux's persistent kmap
 * flush_all_zero_pkmaps, ReactOS hyperspace).  Any CR3 load in between
 * already flushed them, so no reload is needed then.
 *
 * Kernel half: every directory copies PDEs [KERNEL_PDX, VMM_KPDE_END) of the
 * kernel directory when it is made; those point at kernel tables made at
 * boot that never change, so every space sees the same kernel half.  Kernel
 * tables (the window's own included) live in placement memory and are
 * reached through the early mapping, as Linux keeps its pkmap table in lowmem.
 */
#include <stddef.h>

#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/layout.h"

/* Every directory and table is reached by mapping its frame into a slot. */
static enum vmm_status
tm_open(paddr_t pa, volatile uint32_t **p)
{
    vaddr_t va;
    enum vmm_status st = vmm_window_map(pa, &va);
    if (st == VMM_OK)
        *p = vmm_words(va);
    return st;
}

static void
tm_close(volatile uint32_t *p)
{
    vmm_window_unmap((vaddr_t)(uintptr_t)p);
}

static enum vmm_status
tm_open_pd(struct vmm_space *sp, volatile pde_t **pd)
{
    return tm_open(sp->vs_pd_pa, pd);
}

static enum vmm_status
tm_open_pt(struct vmm_space *sp, uint32_t pdx, pde_t pde, volatile pte_t **pt)
{
    (void)sp;
    (void)pdx;
    return tm_open(PTE_ADDR(pde), pt);
}

/* Tables are zeroed by the PMM, through a slot (vmm_window_zero). */
static const struct vmm_reach tm_reach = {
    .open_pd = tm_open_pd,
    .open_pt = tm_open_pt,
    .close = tm_close,
    VMM_PMM_TABLES,
    .kpte = vmm_kpte_early,
    .kpd = vmm_kpd_early,
};

static enum vmm_status
tm_boot(bool lazy)
{
    vmm_window_setup(TEMPMAP_BASE, TEMPMAP_SLOTS, lazy, vmm_kpte_early(TEMPMAP_BASE));
    return VMM_OK;
}

static enum vmm_status
tm_boot_eager(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ks;
    (void)ram_frames;
    return tm_boot(false);
}

static enum vmm_status
tm_boot_lazy(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ks;
    (void)ram_frames;
    return tm_boot(true);
}

static void
tm_stats(struct vmm_stats *st)
{
    st->kva_bytes = TEMPMAP_SLOTS * PAGE_SIZE;
}

/* tempmap and tempmap-lazy differ only in the window their boot sets up. */
#define TM_OPS(nm, sum, bootfn)                                                                    \
    {                                                                                              \
        .name = (nm), .summary = (sum), .pmm = &pmm_bitmap_ops, .reach_frames = VMM_REACH_ALL,     \
        .reach = &tm_reach, .boot = (bootfn), .create = vmm_pmm_create, VMM_WINDOW_OPS,            \
        .flushed = vmm_window_flushed, .stats = tm_stats,                                          \
    }

const struct vmm_ops vmm_tempmap_ops =
    TM_OPS("tempmap",
           "frames from the PMM, edited one at a time through a temporary slot, "
           "invlpg after each use",
           tm_boot_eager);
const struct vmm_ops vmm_tempmap_lazy_ops =
    TM_OPS("tempmap-lazy",
           "as tempmap, but a slot is only cleared; one flush when the window wraps", tm_boot_lazy);

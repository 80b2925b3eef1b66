/*
 * wild.c - a test plug-in (kernel/plugin.h) with a kernel bug: the
 * strategy "wild" is tmtest's sibling whose create writes through a wild
 * pointer, 0x00BAD000, which no space maps: the run stops with a page
 * fault (not present, write, supervisor) in wild_poke, called by
 * wild_create.
 */
#include <stddef.h>

#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/layout.h"
#include "kernel/plugin.h"

PAGESIM_PLUGIN_ABI_DEFINE;

#define WILD_ADDRESS 0x00BAD000u

static enum vmm_status
wild_open(paddr_t pa, volatile uint32_t **p)
{
    vaddr_t va;
    enum vmm_status st = vmm_window_map(pa, &va);
    if (st == VMM_OK)
        *p = vmm_words(va);
    return st;
}

static void
wild_close(volatile uint32_t *p)
{
    vmm_window_unmap((vaddr_t)(uintptr_t)p);
}

static enum vmm_status
wild_open_pd(struct vmm_space *sp, volatile pde_t **pd)
{
    return wild_open(sp->vs_pd_pa, pd);
}

static enum vmm_status
wild_open_pt(struct vmm_space *sp, uint32_t pdx, pde_t pde, volatile pte_t **pt)
{
    (void)sp;
    (void)pdx;
    return wild_open(PTE_ADDR(pde), pt);
}

static const struct vmm_reach wild_reach = {
    .open_pd = wild_open_pd,
    .open_pt = wild_open_pt,
    .close = wild_close,
    VMM_PMM_TABLES,
    .kpte = vmm_kpte_early,
    .kpd = vmm_kpd_early,
};

static enum vmm_status
wild_boot(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ks;
    (void)ram_frames;
    vmm_window_setup(TEMPMAP_BASE, TEMPMAP_SLOTS, false, vmm_kpte_early(TEMPMAP_BASE));
    return VMM_OK;
}

/* The bug: a store through a pointer nothing maps. */
static __attribute__((noinline)) void
wild_poke(uint32_t v)
{
    *vmm_words(WILD_ADDRESS) = v;
}

static enum vmm_status
wild_create(struct vmm_space *sp)
{
    wild_poke(sp->vs_pd_pa);
    return vmm_pmm_create(sp);
}

static void
wild_stats(struct vmm_stats *st)
{
    st->kva_bytes = TEMPMAP_SLOTS * PAGE_SIZE;
}

static const struct vmm_ops wild_ops = {
    .name = "wild",
    .summary = "test plug-in: a space's create writes through a wild pointer",
    .pmm = &pmm_bitmap_ops,
    .reach_frames = VMM_REACH_ALL,
    .reach = &wild_reach,
    .boot = wild_boot,
    .create = wild_create,
    VMM_WINDOW_OPS,
    .flushed = vmm_window_flushed,
    .stats = wild_stats,
};

int
pagesim_plugin_init(const struct pagesim_registrar *r)
{
    return r->add_strategy(&wild_ops);
}

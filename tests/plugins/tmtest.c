/*
 * tmtest.c - a test plug-in (kernel/plugin.h): the strategy "tmtest", whose
 * directories and tables are PMM frames edited one at a time through the
 * temporary window, a slot freed with INVLPG at once: tempmap's algorithm,
 * so its figures must equal tempmap's.  Its boot checks that its own kernel
 * data and bss are as built in every machine (the simulator restores a
 * plug-in's sections as it does the kernel's).
 */
#include <stddef.h>

#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/arch.h"
#include "kernel/layout.h"
#include "kernel/plugin.h"

PAGESIM_PLUGIN_ABI_DEFINE;

static uint32_t tt_data_boots = 1; /* pagesim_kdata: 1 as built */
static uint32_t tt_bss_boots;      /* pagesim_kbss: 0 as built */

static enum vmm_status
tt_open(paddr_t pa, volatile uint32_t **p)
{
    vaddr_t va;
    enum vmm_status st = vmm_window_map(pa, &va);
    if (st == VMM_OK)
        *p = vmm_words(va);
    return st;
}

static void
tt_close(volatile uint32_t *p)
{
    vmm_window_unmap((vaddr_t)(uintptr_t)p);
}

static enum vmm_status
tt_open_pd(struct vmm_space *sp, volatile pde_t **pd)
{
    return tt_open(sp->vs_pd_pa, pd);
}

static enum vmm_status
tt_open_pt(struct vmm_space *sp, uint32_t pdx, pde_t pde, volatile pte_t **pt)
{
    (void)sp;
    (void)pdx;
    return tt_open(PTE_ADDR(pde), pt);
}

static const struct vmm_reach tt_reach = {
    .open_pd = tt_open_pd,
    .open_pt = tt_open_pt,
    .close = tt_close,
    VMM_PMM_TABLES,
    .kpte = vmm_kpte_early,
    .kpd = vmm_kpd_early,
};

static enum vmm_status
tt_boot(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ks;
    (void)ram_frames;
    if (tt_data_boots != 1 || tt_bss_boots != 0)
        arch_panic("tmtest: its static data is not as built");
    tt_data_boots++;
    tt_bss_boots++;
    vmm_window_setup(TEMPMAP_BASE, TEMPMAP_SLOTS, false, vmm_kpte_early(TEMPMAP_BASE));
    return VMM_OK;
}

static void
tt_stats(struct vmm_stats *st)
{
    st->kva_bytes = TEMPMAP_SLOTS * PAGE_SIZE;
}

static const struct vmm_ops tt_ops = {
    .name = "tmtest",
    .summary = "test plug-in: tempmap's algorithm (a temporary slot per table, invlpg after use)",
    .pmm = &pmm_bitmap_ops,
    .reach_frames = VMM_REACH_ALL,
    .reach = &tt_reach,
    .boot = tt_boot,
    .create = vmm_pmm_create,
    VMM_WINDOW_OPS,
    .flushed = vmm_window_flushed,
    .stats = tt_stats,
};

int
pagesim_plugin_init(const struct pagesim_registrar *r)
{
    return r->add_strategy(&tt_ops);
}

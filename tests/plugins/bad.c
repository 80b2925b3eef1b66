/*
 * bad.c - test plug-ins (kernel/plugin.h) that pagesim must refuse, one
 * per build, chosen by a definition: BAD_ABI (built for ABI 999),
 * BAD_NO_INIT (no pagesim_plugin_init), BAD_CRASH (init writes through a
 * null pointer), BAD_RETURN (init returns 5 without registering),
 * BAD_INCOMPLETE (a strategy without operations), DUP_NAME (registers a
 * complete strategy of that name DUP_TIMES times).
 */
#include <stddef.h>

#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/plugin.h"

#ifdef BAD_ABI
const uint32_t pagesim_plugin_abi = 999;
#else
PAGESIM_PLUGIN_ABI_DEFINE;
#endif

#ifdef DUP_NAME
#define BAD_NAME DUP_NAME
#else
#define BAD_NAME "bad"
#define DUP_TIMES 1
#endif

#ifdef DUP_NAME
/* Never called: the registration is refused. */
static enum vmm_status
dup_open(struct vmm_space *sp, volatile pde_t **pd)
{
    (void)sp;
    (void)pd;
    return VMM_OK;
}

static enum vmm_status
dup_open_pt(struct vmm_space *sp, uint32_t pdx, pde_t pde, volatile pte_t **pt)
{
    (void)sp;
    (void)pdx;
    (void)pde;
    (void)pt;
    return VMM_OK;
}

static enum vmm_status
dup_boot(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ks;
    (void)ram_frames;
    return VMM_OK;
}

static void
dup_stats(struct vmm_stats *st)
{
    (void)st;
}

static const struct vmm_reach dup_reach = {
    .open_pd = dup_open,
    .open_pt = dup_open_pt,
    VMM_PMM_TABLES,
    .kpte = vmm_kpte_early,
    .kpd = vmm_kpd_early,
};
#endif

static const struct vmm_ops bad_ops __attribute__((unused)) = {
    .name = BAD_NAME,
    .summary = "test plug-in pagesim refuses",
    .pmm = &pmm_bitmap_ops,
    .reach_frames = VMM_REACH_ALL,
#ifdef DUP_NAME
    .reach = &dup_reach,
    .boot = dup_boot,
    .create = vmm_pmm_create,
    VMM_WINDOW_OPS,
    .stats = dup_stats,
#endif
};

#ifndef BAD_NO_INIT
int
pagesim_plugin_init(const struct pagesim_registrar *r)
{
#if defined(BAD_CRASH)
    *(volatile uint32_t *)0 = 1;
#elif defined(BAD_RETURN)
    (void)r;
    return 5;
#endif
    int st = 0;
    for (int i = 0; i < DUP_TIMES && st == 0; i++)
        st = r->add_strategy(&bad_ops);
    return st;
}
#endif

/*
 * vmm_physmap.c - the physmap strategy (Linux lowmem style): physical
 * memory [0, reach) is mapped at PHYSMAP_BASE, so every directory, table and
 * frame is reached at PHYSMAP_BASE + its physical address.
 *
 * The direct map ends at PHYSMAP_END, so the reach is PHYSMAP_MAX (768 MiB);
 * usable RAM above it is not given to the PMM and is reported as
 * unreachable (vmm_stats.unreachable_frames), as a kernel without highmem
 * would leave it.  With CR4.PSE set at boot the direct map is made of 4 MiB
 * pages (no tables, one TLB entry per 4 MiB); without it, of kernel page
 * tables from placement memory.  Frames come from the PMM, zeroed through
 * the direct map.
 *
 * Kernel half: the direct-map PDEs and the kernel tables made at boot for
 * [KHEAP_START, KERNEL_TABLES_END) never change; every directory copies PDEs
 * [KERNEL_PDX, VMM_KPDE_END) of the kernel directory when it is made.
 */
#include <stddef.h>

#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

#define PM_REACH_FRAMES (PHYSMAP_MAX >> PAGE_SHIFT)

static uint32_t pm_frames; /* frames mapped: [0, pm_frames) */
static uint32_t pm_kva;    /* bytes of the direct map */

static volatile uint32_t *
pm_ptr(paddr_t pa)
{
    return vmm_words(PHYSMAP_BASE + pa);
}

static enum vmm_status
pm_open_pd(struct vmm_space *sp, volatile pde_t **pd)
{
    *pd = pm_ptr(sp->vs_pd_pa);
    return VMM_OK;
}

static enum vmm_status
pm_open_pt(struct vmm_space *sp, uint32_t pdx, pde_t pde, volatile pte_t **pt)
{
    (void)sp;
    (void)pdx;
    *pt = pm_ptr(PTE_ADDR(pde));
    return VMM_OK;
}

static const struct vmm_reach pm_reach = {
    .open_pd = pm_open_pd,
    .open_pt = pm_open_pt,
    .close = NULL,
    VMM_PMM_TABLES,
    .kpte = vmm_kpte_early,
    .kpd = vmm_kpd_early,
};

/* The direct map in the kernel directory. */
static enum vmm_status
pm_boot(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ks;
    pm_frames = ram_frames < PM_REACH_FRAMES ? ram_frames : PM_REACH_FRAMES;
    uint32_t nlarge = (pm_frames + NPTENTRIES - 1) / NPTENTRIES;
    volatile pde_t *kpd = vmm_kpd_early();
    uint32_t global = vmm_kernel_global();
    if (arch_read_cr4() & CR4_PSE) {
        /* 4 MiB pages, the early mapping's PDEs included (same translation). */
        for (uint32_t i = 0; i < nlarge; i++) {
            vmm_boot_forget_table(KERNEL_PDX + i);
            kpd[KERNEL_PDX + i] = (i << PDX_SHIFT) | PTE_PS | VMM_KERNEL_PDE | global;
        }
        pm_kva = nlarge * LPAGE_SIZE;
    } else {
        /* Tables past the early mapping's, filled up to the last frame. */
        for (uint32_t i = EARLY_MAP_SIZE / LPAGE_SIZE; i < nlarge; i++) {
            paddr_t t;
            enum vmm_status st = vmm_boot_table(KERNEL_PDX + i, &t);
            if (st != VMM_OK)
                return st;
            volatile pte_t *pt = vmm_words(P2V(t));
            for (uint32_t k = 0; k < NPTENTRIES && i * NPTENTRIES + k < pm_frames; k++)
                pt[k] = ((i * NPTENTRIES + k) << PAGE_SHIFT) | VMM_KERNEL_PDE | global;
        }
        pm_kva = pm_frames * PAGE_SIZE;
        if (pm_kva < EARLY_MAP_SIZE)
            pm_kva = EARLY_MAP_SIZE;
    }
    return VMM_OK;
}

static enum vmm_status
pm_kmap(paddr_t pa, vaddr_t *va)
{
    if ((pa >> PAGE_SHIFT) >= pm_frames)
        return VMM_UNREACHABLE;
    *va = PHYSMAP_BASE + pa;
    return VMM_OK;
}

static void
pm_kunmap(vaddr_t va)
{
    (void)va;
}

static void
pm_zero_frame(paddr_t pa)
{
    if ((pa >> PAGE_SHIFT) >= pm_frames)
        arch_panic("vmm: physmap cannot reach the frame to zero");
    memset((void *)pm_ptr(pa), 0, PAGE_SIZE);
}

static void
pm_stats(struct vmm_stats *st)
{
    st->kva_bytes = pm_kva;
}

const struct vmm_ops vmm_physmap_ops = {
    .name = "physmap",
    .summary = "frames from the PMM, reached through the direct map of RAM at 0xC0000000 "
               "(768 MiB at most)",
    .pmm = &pmm_bitmap_ops,
    .reach_frames = PM_REACH_FRAMES,
    .reach = &pm_reach,
    .boot = pm_boot,
    .create = vmm_pmm_create,
    .kmap = pm_kmap,
    .kunmap = pm_kunmap,
    .zero_frame = pm_zero_frame,
    .flushed = NULL,
    .stats = pm_stats,
};

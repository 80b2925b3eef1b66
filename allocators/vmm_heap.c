/*
 * vmm_heap.c - the heap strategy (directories and tables from the kernel
 * heap, reached through their heap addresses) and the body it shares with
 * the pageheap strategy (vmm_pageheap.c), which only changes the source.
 *
 * A directory is one page-aligned heap page; the physical address CR3 and
 * a PDE need is read from the kernel PTE of that page.  The heap address of
 * each user table is kept in a shadow array beside the directory (as in
 * JamesM's kernel tutorial), allocated with the first table; an entry is
 * valid only where its PDE is present, so the shadow is never cleared.
 * Heap pages are not zeroed: directories and tables are cleared by hand.
 * Frames of user pages are reached through scratch slots of the temporary
 * window, their PTEs through the early mapping.
 *
 * Kernel half: every directory copies PDEs [KERNEL_PDX, VMM_KPDE_END) of the
 * kernel directory when it is made; those point at kernel tables made at
 * boot from placement memory (the heap cannot hold the tables it grows
 * through) that never change, edited through the early mapping.
 */
#include <stddef.h>

#include "allocators/heap.h"
#include "allocators/vmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

static uint32_t va_heap_bytes; /* heap bytes held for directories, tables and shadows */

/* The frame behind a kernel heap page, from the kernel tables. */
static paddr_t
va_phys(vaddr_t va)
{
    return PTE_ADDR(*vmm_kpte_early(va));
}

static volatile uint32_t *
va_shadow(const struct vmm_space *sp)
{
    return vmm_words(sp->vs_shadow_va);
}

enum vmm_status
vmm_va_boot(struct vmm_space *ks, uint32_t ram_frames)
{
    paddr_t pd;
    (void)ram_frames;
    enum vmm_status st = vmm_boot_directory(&pd);
    if (st != VMM_OK)
        return st;
    ks->vs_pd_pa = pd;
    ks->vs_pd_va = P2V(pd);
    va_heap_bytes = 0;
    vmm_window_setup(VMM_SCRATCH_BASE, VMM_SCRATCH_SLOTS, false, vmm_kpte_early(VMM_SCRATCH_BASE));
    vmm_load_cr3(pd);
    return VMM_OK;
}

enum vmm_status
vmm_va_create(const struct vmm_page_source *src, struct vmm_space *sp)
{
    void *p = src->alloc_page();
    if (p == NULL)
        return VMM_NO_MEMORY;
    volatile pde_t *pd = p;
    memset(p, 0, VMM_NUPDE * sizeof(pde_t));
    memcpy((void *)(pd + KERNEL_PDX), (const void *)(vmm_kpd_early() + KERNEL_PDX),
           VMM_NKPDE * sizeof(pde_t));
    memset((void *)(pd + VMM_KPDE_END), 0, (NPDENTRIES - VMM_KPDE_END) * sizeof(pde_t));
    sp->vs_pd_va = (vaddr_t)(uintptr_t)p;
    sp->vs_pd_pa = va_phys(sp->vs_pd_va);
    vmm_ctr.pd_frames++;
    va_heap_bytes += PAGE_SIZE;
    return VMM_OK;
}

enum vmm_status
vmm_va_open_pd(struct vmm_space *sp, volatile pde_t **pd)
{
    *pd = vmm_words(sp->vs_pd_va);
    return VMM_OK;
}

enum vmm_status
vmm_va_open_pt(struct vmm_space *sp, uint32_t pdx, pde_t pde, volatile pte_t **pt)
{
    (void)pde;
    *pt = vmm_words(va_shadow(sp)[pdx]);
    return VMM_OK;
}

enum vmm_status
vmm_va_new_table(const struct vmm_page_source *src, struct vmm_space *sp, uint32_t pdx, pde_t *pde)
{
    if (sp->vs_shadow_va == 0) {
        void *sh = src->alloc_shadow();
        if (sh == NULL)
            return VMM_NO_MEMORY;
        sp->vs_shadow_va = (vaddr_t)(uintptr_t)sh;
        va_heap_bytes += src->shadow_bytes;
    }
    void *t = src->alloc_page();
    if (t == NULL)
        return VMM_NO_MEMORY;
    memset(t, 0, PAGE_SIZE);
    vaddr_t tva = (vaddr_t)(uintptr_t)t;
    va_shadow(sp)[pdx] = tva;
    *pde = va_phys(tva) | VMM_USER_PDE;
    va_heap_bytes += PAGE_SIZE;
    return VMM_OK;
}

void
vmm_va_free_table(const struct vmm_page_source *src, struct vmm_space *sp, uint32_t pdx, pde_t pde)
{
    (void)pde;
    src->free_page((void *)(uintptr_t)va_shadow(sp)[pdx]);
    va_heap_bytes -= PAGE_SIZE;
}

void
vmm_va_free_pd(const struct vmm_page_source *src, struct vmm_space *sp)
{
    if (sp->vs_shadow_va != 0) {
        src->free_shadow((void *)(uintptr_t)sp->vs_shadow_va);
        va_heap_bytes -= src->shadow_bytes;
    }
    src->free_page((void *)(uintptr_t)sp->vs_pd_va);
    va_heap_bytes -= PAGE_SIZE;
}

void
vmm_va_stats(const struct vmm_page_source *src, struct vmm_stats *st)
{
    struct heap_stats hs;
    src->heap_stats(&hs);
    st->heap_bytes = va_heap_bytes;
    st->heap_wasted = hs.wasted_bytes;
    st->kva_bytes = VMM_SCRATCH_SLOTS * PAGE_SIZE;
}

/* ---- the kernel heap as the source ---- */

static void *
hs_alloc_page(void)
{
    return kmalloc_aligned(PAGE_SIZE);
}

static void
hs_free(void *p)
{
    kfree(p);
}

static void *
hs_alloc_shadow(void)
{
    return kmalloc(VMM_NUPDE * sizeof(uint32_t));
}

static const struct vmm_page_source hs_source = {
    .alloc_page = hs_alloc_page,
    .free_page = hs_free,
    .alloc_shadow = hs_alloc_shadow,
    .free_shadow = hs_free,
    .shadow_bytes = VMM_NUPDE * sizeof(uint32_t),
    .heap_stats = heap_stats,
};

static enum vmm_status
hs_create(struct vmm_space *sp)
{
    return vmm_va_create(&hs_source, sp);
}

static enum vmm_status
hs_new_table(struct vmm_space *sp, uint32_t pdx, pde_t *pde)
{
    return vmm_va_new_table(&hs_source, sp, pdx, pde);
}

static void
hs_free_table(struct vmm_space *sp, uint32_t pdx, pde_t pde)
{
    vmm_va_free_table(&hs_source, sp, pdx, pde);
}

static void
hs_free_pd(struct vmm_space *sp)
{
    vmm_va_free_pd(&hs_source, sp);
}

static void
hs_stats(struct vmm_stats *st)
{
    vmm_va_stats(&hs_source, st);
}

static const struct vmm_reach hs_reach = {
    .open_pd = vmm_va_open_pd,
    .open_pt = vmm_va_open_pt,
    .close = NULL,
    .new_table = hs_new_table,
    .free_table = hs_free_table,
    .free_pd = hs_free_pd,
    .kpte = vmm_kpte_early,
    .kpd = vmm_kpd_early,
};

const struct vmm_ops vmm_heap_ops = {
    .name = "heap",
    .reach_frames = VMM_REACH_ALL,
    .reach = &hs_reach,
    .boot = vmm_va_boot,
    .create = hs_create,
    .destroy = vmm_walk_destroy,
    .map = vmm_walk_map,
    .unmap = vmm_walk_unmap,
    .translate = vmm_walk_translate,
    .next_mapping = vmm_walk_next_mapping,
    .kmap = vmm_window_map,
    .kunmap = vmm_window_unmap,
    .zero_frame = vmm_window_zero,
    .flushed = vmm_window_flushed,
    .stats = hs_stats,
};

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

static const struct vmm_page_source *va_src; /* the booted strategy's */
static uint32_t va_heap_bytes; /* heap bytes held for directories, tables and shadows */
static uint32_t va_pages;      /* heap pages holding a directory or a table */

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
vmm_va_boot(const struct vmm_page_source *src, struct vmm_space *ks)
{
    va_src = src;
    va_heap_bytes = 0;
    va_pages = 0;
    ks->vs_pd_va = P2V(ks->vs_pd_pa);
    vmm_window_setup(VMM_SCRATCH_BASE, VMM_SCRATCH_SLOTS, false, vmm_kpte_early(VMM_SCRATCH_BASE));
    return VMM_OK;
}

enum vmm_status
vmm_va_create(struct vmm_space *sp)
{
    void *p = va_src->alloc_page();
    if (p == NULL)
        return VMM_NO_MEMORY;
    volatile pde_t *pd = p;
    memset(p, 0, VMM_NUPDE * sizeof(pde_t));
    vmm_copy_kernel_pdes(pd);
    memset((void *)(pd + VMM_KPDE_END), 0, (NPDENTRIES - VMM_KPDE_END) * sizeof(pde_t));
    sp->vs_pd_va = (vaddr_t)(uintptr_t)p;
    sp->vs_pd_pa = va_phys(sp->vs_pd_va);
    va_heap_bytes += PAGE_SIZE;
    va_pages++;
    return VMM_OK;
}

static enum vmm_status
va_open_pd(struct vmm_space *sp, volatile pde_t **pd)
{
    *pd = vmm_words(sp->vs_pd_va);
    return VMM_OK;
}

static enum vmm_status
va_open_pt(struct vmm_space *sp, uint32_t pdx, pde_t pde, volatile pte_t **pt)
{
    (void)pde;
    *pt = vmm_words(va_shadow(sp)[pdx]);
    return VMM_OK;
}

static enum vmm_status
va_new_table(struct vmm_space *sp, uint32_t pdx, pde_t *pde)
{
    if (sp->vs_shadow_va == 0) {
        void *sh = va_src->alloc_shadow();
        if (sh == NULL)
            return VMM_NO_MEMORY;
        sp->vs_shadow_va = (vaddr_t)(uintptr_t)sh;
        va_heap_bytes += va_src->shadow_bytes;
    }
    void *t = va_src->alloc_page();
    if (t == NULL)
        return VMM_NO_MEMORY;
    memset(t, 0, PAGE_SIZE);
    vaddr_t tva = (vaddr_t)(uintptr_t)t;
    va_shadow(sp)[pdx] = tva;
    *pde = va_phys(tva) | VMM_USER_PDE;
    va_heap_bytes += PAGE_SIZE;
    va_pages++;
    return VMM_OK;
}

static void
va_free_table(struct vmm_space *sp, uint32_t pdx, pde_t pde)
{
    (void)pde;
    va_src->free_page((void *)(uintptr_t)va_shadow(sp)[pdx]);
    va_heap_bytes -= PAGE_SIZE;
    va_pages--;
}

static void
va_free_pd(struct vmm_space *sp)
{
    if (sp->vs_shadow_va != 0) {
        va_src->free_shadow((void *)(uintptr_t)sp->vs_shadow_va);
        va_heap_bytes -= va_src->shadow_bytes;
    }
    va_src->free_page((void *)(uintptr_t)sp->vs_pd_va);
    va_heap_bytes -= PAGE_SIZE;
    va_pages--;
}

const struct vmm_reach vmm_va_reach = {
    .open_pd = va_open_pd,
    .open_pt = va_open_pt,
    .close = NULL,
    .new_table = va_new_table,
    .free_table = va_free_table,
    .free_pd = va_free_pd,
    .kpte = vmm_kpte_early,
    .kpd = vmm_kpd_early,
};

void
vmm_va_stats(struct vmm_stats *st)
{
    struct heap_stats hs;
    va_src->heap_stats(&hs);
    st->heap_bytes = va_heap_bytes;
    st->heap_paging_frames = va_pages;
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
hs_boot(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ram_frames;
    return vmm_va_boot(&hs_source, ks);
}

const struct vmm_ops vmm_heap_ops =
    VMM_VA_OPS("heap",
               "directories and tables from the kernel heap (kmalloc_aligned), reached at their "
               "heap addresses",
               hs_boot);

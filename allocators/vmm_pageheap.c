/*
 * vmm_pageheap.c - the pageheap strategy: directories, tables and their
 * shadow arrays are pages of the page-only heap, reached through their
 * page-heap addresses; the body is the heap strategy's (vmm_heap.c).
 *
 * Kernel half: as the heap strategy, every directory copies PDEs
 * [KERNEL_PDX, VMM_KPDE_END) of the kernel directory, which point at kernel
 * tables made at boot from placement memory and never change.
 */
#include <stddef.h>

#include "allocators/pageheap.h"
#include "allocators/vmm.h"
#include "allocators/vmm_strategy.h"

static void
ps_free(void *p)
{
    pageheap_free(p);
}

static const struct vmm_page_source ps_source = {
    .alloc_page = pageheap_alloc,
    .free_page = ps_free,
    .alloc_shadow = pageheap_alloc,
    .free_shadow = ps_free,
    .shadow_bytes = PAGE_SIZE,
    .heap_stats = pageheap_stats,
};

static enum vmm_status
ps_create(struct vmm_space *sp)
{
    return vmm_va_create(&ps_source, sp);
}

static enum vmm_status
ps_new_table(struct vmm_space *sp, uint32_t pdx, pde_t *pde)
{
    return vmm_va_new_table(&ps_source, sp, pdx, pde);
}

static void
ps_free_table(struct vmm_space *sp, uint32_t pdx, pde_t pde)
{
    vmm_va_free_table(&ps_source, sp, pdx, pde);
}

static void
ps_free_pd(struct vmm_space *sp)
{
    vmm_va_free_pd(&ps_source, sp);
}

static void
ps_stats(struct vmm_stats *st)
{
    vmm_va_stats(&ps_source, st);
}

static const struct vmm_reach ps_reach = {
    .open_pd = vmm_va_open_pd,
    .open_pt = vmm_va_open_pt,
    .close = NULL,
    .new_table = ps_new_table,
    .free_table = ps_free_table,
    .free_pd = ps_free_pd,
    .kpte = vmm_kpte_early,
    .kpd = vmm_kpd_early,
};

const struct vmm_ops vmm_pageheap_ops = {
    .name = "pageheap",
    .reach_frames = VMM_REACH_ALL,
    .reach = &ps_reach,
    .boot = vmm_va_boot,
    .create = ps_create,
    .destroy = vmm_walk_destroy,
    .map = vmm_walk_map,
    .unmap = vmm_walk_unmap,
    .translate = vmm_walk_translate,
    .next_mapping = vmm_walk_next_mapping,
    .kmap = vmm_window_map,
    .kunmap = vmm_window_unmap,
    .zero_frame = vmm_window_zero,
    .flushed = vmm_window_flushed,
    .stats = ps_stats,
};

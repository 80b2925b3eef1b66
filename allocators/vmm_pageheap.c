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
ps_boot(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ram_frames;
    return vmm_va_boot(&ps_source, ks);
}

const struct vmm_ops vmm_pageheap_ops = VMM_VA_OPS(
    "pageheap", "directories and tables from the page-only heap, reached at their heap addresses",
    ps_boot);

/*
 * figures.c - publishes the kernel's own accounting (figures.h): the
 * allocators' and the paging strategy's statistics, by name.
 */
#include "kernel/figures.h"

#include "allocators/heap.h"
#include "allocators/pageheap.h"
#include "allocators/placement.h"
#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "kernel/arch.h"

void
kfig_publish(void)
{
    struct vmm_stats v;
    struct pmm_stats p;
    struct heap_stats h, ph;
    vmm_stats(&v);
    pmm_stats(&p);
    heap_stats(&h);
    pageheap_stats(&ph);
    arch_figure("vmm.spaces", v.spaces);
    arch_figure("vmm.invlpg", v.invlpg);
    arch_figure("vmm.cr3_writes", v.cr3_writes);
    arch_figure("vmm.pd_frames", v.pd_frames);
    arch_figure("vmm.pt_frames", v.pt_frames);
    arch_figure("vmm.kernel_pt_frames", v.kernel_pt_frames);
    arch_figure("vmm.early_pt_frames", v.early_pt_frames);
    arch_figure("vmm.boot_bytes", v.boot_bytes);
    arch_figure("vmm.heap_paging_frames", v.heap_paging_frames);
    arch_figure("vmm.kernel_pages", v.kernel_pages);
    arch_figure("vmm.heap_bytes", v.heap_bytes);
    arch_figure("vmm.kva_bytes", v.kva_bytes);
    arch_figure("vmm.foreign_switches", v.foreign_switches);
    arch_figure("vmm.tmp_maps", v.tmp_maps);
    arch_figure("vmm.tmp_reuses", v.tmp_reuses);
    arch_figure("vmm.user_pages", v.user_pages);
    arch_figure("vmm.reach_frames", v.reach_frames);
    arch_figure("vmm.unreachable_frames", v.unreachable_frames);
    arch_figure("pmm.total_frames", p.total_frames);
    arch_figure("pmm.free_frames", p.free_frames);
    arch_figure("pmm.reserved_frames", p.reserved_frames);
    arch_figure("heap.used_bytes", h.used_bytes);
    arch_figure("heap.wasted_bytes", h.wasted_bytes);
    arch_figure("pageheap.used_bytes", ph.used_bytes);
    arch_figure("placement.used_bytes", placement_used());
}

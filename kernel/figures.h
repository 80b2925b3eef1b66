/*
 * figures.h - the kernel's own accounting, published to the machine through
 * arch_figure() so that the machine reports it without knowing the
 * kernel's data structures (on the simulator the host collects it, on
 * metal it is a line on COM1).
 */
#ifndef PAGESIM_FIGURES_H
#define PAGESIM_FIGURES_H

/*
 * Publishes every figure below, each as arch_figure(name, value):
 *   vmm.spaces vmm.invlpg vmm.cr3_writes vmm.pd_frames vmm.pt_frames vmm.kernel_pt_frames vmm.early_pt_frames
 *   vmm.boot_bytes vmm.heap_paging_frames vmm.kernel_pages vmm.heap_bytes
 *   vmm.kva_bytes vmm.foreign_switches vmm.tmp_maps vmm.tmp_reuses
 *   vmm.user_pages vmm.reach_frames vmm.unreachable_frames   (vmm_stats)
 *   pmm.total_frames pmm.free_frames pmm.reserved_frames        (pmm_stats)
 *   heap.used_bytes heap.wasted_bytes pageheap.used_bytes        (heap_stats)
 *   placement.used_bytes                                         (placement_used)
 * Reading them makes no access to simulated memory (they are the kernel's
 * static variables).  Called before each mark and when a run ends.
 */
void kfig_publish(void);

#endif

/*
 * report.h - what the bare-metal kernel prints on COM1, read back by
 * `pagesim boot` (tools/boot.c).  One record per line, a keyword first:
 *
 *   pagesim-metal V              the kernel is up; V is METAL_REPORT_VERSION
 *   mmap BASE LENGTH TYPE        each memory-map entry of boot_info (hex)
 *   log TEXT                     a kernel log line (arch_log)
 *   bad-module TEXT              the module was rejected, and why
 *   mark ID F=V ...              the kernel's figures at arch_mark(ID) (decimal)
 *   result BOOT WL OP LINE       kernel_boot's and wl_execute's status, the op
 *                                index and scenario line where the workload stopped
 *   end F=V ...                  the kernel's figures after the workload
 *   pt TEXT                      one line of the page-table dump (kernel/ptdump.h)
 *   stop KIND CR2 ERR EIP CR0 CR3 CR4 PDEADDR PDE PTEADDR PTE MSG
 *                                the kernel stopped: a fault, exception or panic
 *                                (hex; PTEADDR 0 when the walk ended at the PDE)
 *   exit STATUS                  the status it leaves QEMU with (enum kmod_exit)
 *
 * Figures are the fields of struct vmm_stats, pmm_stats and heap_stats named
 * in METAL_FIGURES, as GROUP.FIELD=VALUE.
 */
#ifndef PAGESIM_METAL_REPORT_H
#define PAGESIM_METAL_REPORT_H

#define METAL_REPORT_VERSION 1

/* X(group, struct, field): every figure the report carries. */
#define METAL_FIGURES(X)                                                                           \
    X(vmm, vmm_stats, invlpg)                                                                      \
    X(vmm, vmm_stats, cr3_writes)                                                                  \
    X(vmm, vmm_stats, foreign_switches)                                                            \
    X(vmm, vmm_stats, tmp_maps)                                                                    \
    X(vmm, vmm_stats, tmp_reuses)                                                                  \
    X(vmm, vmm_stats, spaces)                                                                      \
    X(vmm, vmm_stats, pd_frames)                                                                   \
    X(vmm, vmm_stats, pt_frames)                                                                   \
    X(vmm, vmm_stats, heap_bytes)                                                                  \
    X(vmm, vmm_stats, kva_bytes)                                                                   \
    X(vmm, vmm_stats, user_pages)                                                                  \
    X(vmm, vmm_stats, reach_frames)                                                                \
    X(vmm, vmm_stats, unreachable_frames)                                                          \
    X(pmm, pmm_stats, total_frames)                                                                \
    X(pmm, pmm_stats, free_frames)                                                                 \
    X(pmm, pmm_stats, reserved_frames)                                                             \
    X(heap, heap_stats, used_bytes)                                                                \
    X(heap, heap_stats, wasted_bytes)

#endif

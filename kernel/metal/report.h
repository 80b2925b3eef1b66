/*
 * report.h - what the bare-metal kernel prints on COM1, read back by
 * `pagesim boot` (tools/boot.c).  One record per line, a keyword first:
 *
 *   pagesim-metal V              the kernel is up; V is METAL_REPORT_VERSION
 *   mmap BASE LENGTH TYPE        each memory-map entry of boot_info (hex)
 *   log TEXT                     a kernel log line (arch_log)
 *   bad-module TEXT              the module was rejected, and why
 *   region NAME FIRST LAST       a window the kernel named (arch_region; hex)
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
 * Figures are those the kernel published last with arch_figure (the names
 * of kernel/figures.h), as NAME=VALUE.
 */
#ifndef PAGESIM_METAL_REPORT_H
#define PAGESIM_METAL_REPORT_H

#define METAL_REPORT_VERSION 1

#endif

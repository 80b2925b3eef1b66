/*
 * vmm_impl.h - what the files of the generic layer (vmm.c, vmm_boot.c,
 * vmm_walk.c, vmm_tlb.c, vmm_window.c) share among themselves.  Not for
 * the strategies: they have vmm_strategy.h.
 */
#ifndef PAGESIM_VMM_IMPL_H
#define PAGESIM_VMM_IMPL_H

#include <stdint.h>

#include "allocators/vmm.h"

/* The generic layer's figures (vmm_stats adds the strategy's own).  Counts
 * of events since vmm_boot, frame counts as they stand; vmm_boot zeroes it. */
extern struct vmm_stats vmm_ctr;

/*
 * vmm_boot.c: forgets any earlier kernel directory, then builds the kernel
 * directory from placement memory (vmm_kernel_pd), with the boot
 * directory's early-map PDEs and zeroed tables for the kernel heaps and the
 * temporary window, counted in vmm_ctr.  VMM_UNREACHABLE if the boot
 * directory lies outside the early mapping, VMM_NO_MEMORY if placement
 * memory runs out.
 */
enum vmm_status vmm_boot_directory(void);

/*
 * vmm_walk.c: the paging structures of a space, edited by one walker over
 * the reach of the strategy in use (struct vmm_reach).  It counts the user
 * tables it makes and frees (vmm_ctr.pt_frames, vs_tables); the directory
 * is counted by the callers in vmm.c.  Ranges are page-aligned and lie
 * wholly in user space or wholly in the kernel half (checked in vmm.c).
 */

/* Frees every user table of sp and its directory; release gets each frame mapped. */
void vmm_walk_destroy(struct vmm_space *sp, vmm_release_fn release, void *ctx);

/* Maps npages pages from va, frames from frame; *done counts the pages
 * mapped (from va on) when it stops, on success or not. */
enum vmm_status vmm_walk_map(struct vmm_space *sp, vaddr_t va, uint32_t npages, uint32_t flags,
                             vmm_frame_fn frame, void *ctx, uint32_t *done);

/* Unmaps the present pages of [va, va + npages pages); release gets each
 * frame.  INVLPG for each page that may be cached: a kernel page, or a
 * user page of the current space. */
void vmm_walk_unmap(struct vmm_space *sp, vaddr_t va, uint32_t npages, vmm_release_fn release,
                    void *ctx);

/* The frame and PTE flags (low 12 bits) that map va in sp. */
enum vmm_status vmm_walk_translate(struct vmm_space *sp, vaddr_t va, paddr_t *pa, uint32_t *flags);

/* The first present user page of sp at or above *va and below end: its
 * address in *va, frame and flags; VMM_NOT_MAPPED if there is none. */
enum vmm_status vmm_walk_next_mapping(struct vmm_space *sp, vaddr_t *va, vaddr_t end, paddr_t *pa,
                                      uint32_t *flags);

#endif

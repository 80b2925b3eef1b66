/*
 * pmm.h - physical frame allocators behind one interface: a bitmap with a
 * next-fit hint (pmm_bitmap.c) and a free-frame stack with a pre-zeroed
 * pool (pmm_stack.c).  Their bookkeeping comes from the placement allocator.
 */
#ifndef PAGESIM_PMM_H
#define PAGESIM_PMM_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/x86.h"

enum pmm_status {
    PMM_OK = 0,
    PMM_NO_MEMORY,    /* no free frame */
    PMM_OUT_OF_RANGE, /* address beyond the frames managed */
    PMM_UNALIGNED,    /* not a frame address */
    PMM_DOUBLE_FREE,  /* the frame is already free */
    PMM_NOT_READY,    /* init has not run or failed */
};
const char *pmm_strerror(enum pmm_status st);

struct pmm_stats {
    uint32_t total_frames;   /* frames managed */
    uint32_t free_frames;
    uint32_t reserved_frames; /* never usable: holes, image, boot structures */
    uint32_t allocs, frees;
    uint32_t errors;          /* calls that returned an error */
    uint32_t zeroed;          /* frames zeroed by the allocator */
    uint32_t prezeroed_hits;  /* zeroed allocations served from the pool */
    uint32_t bookkeeping_bytes;
};

/* Reaches a frame to fill it with zeros (set by the paging strategy; the
 * default writes through the early mapping, frames below 16 MiB only). */
typedef void (*pmm_zero_fn)(paddr_t pa);

struct pmm_ops {
    const char *name;
    /* Manages frames [0, nframes), all reserved at first; bookkeeping from
     * placement_alloc.  Returns false if that memory is not available. */
    bool (*init)(uint32_t nframes);
    void (*release)(paddr_t pa, uint32_t nframes); /* usable RAM from the map */
    void (*reserve)(paddr_t pa, uint32_t nframes); /* taken: image, modules */
    enum pmm_status (*alloc)(paddr_t *pa, bool zeroed);
    enum pmm_status (*free)(paddr_t pa);
    void (*stats)(struct pmm_stats *st);
};

extern const struct pmm_ops pmm_bitmap_ops;
extern const struct pmm_ops pmm_stack_ops;

/* The allocator in use (by name: "bitmap" or "stack"); NULL if unknown. */
const struct pmm_ops *pmm_find(const char *name);
void pmm_use(const struct pmm_ops *ops);
enum pmm_status pmm_alloc(paddr_t *pa);
enum pmm_status pmm_alloc_zeroed(paddr_t *pa);
enum pmm_status pmm_free(paddr_t pa);
void pmm_stats(struct pmm_stats *st);
void pmm_set_zero_fn(pmm_zero_fn fn);
void pmm_zero_frame(paddr_t pa);

#endif

/*
 * pmm.h - physical frame allocators behind one interface: a bitmap with a
 * next-fit hint (pmm_bitmap.c) and a free-frame stack with a pre-zeroed
 * pool (pmm_stack.c).  Their bookkeeping comes from the placement allocator.
 */
#ifndef PAGESIM_PMM_H
#define PAGESIM_PMM_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/plugin.h"
#include "mmu/x86.h"

enum pmm_status {
    PMM_OK = 0,
    PMM_NO_MEMORY,    /* no free frame */
    PMM_OUT_OF_RANGE, /* address beyond the frames managed */
    PMM_UNALIGNED,    /* not a frame address */
    PMM_DOUBLE_FREE,  /* the frame is already free */
    PMM_NOT_READY,    /* init has not run or failed, or no allocator in use */
};

/* Returns a short constant description of st. */
const char *pmm_strerror(enum pmm_status st);

struct pmm_stats {
    uint32_t total_frames; /* frames managed */
    uint32_t free_frames;
    uint32_t reserved_frames; /* never usable: holes, image, boot structures */
    uint32_t allocs, frees;   /* successful calls */
    uint32_t errors;          /* calls that returned an error */
    uint32_t zeroed;          /* frames zeroed by the allocator */
    uint32_t prezeroed_hits;  /* zeroed allocations served from the pool */
    uint32_t bookkeeping_bytes;
};

/* Reaches a frame to fill it with zeros (set by the paging strategy; the
 * default writes through the early mapping, frames below 16 MiB only). */
typedef void (*pmm_zero_fn)(paddr_t pa);

/*
 * One allocator.  release and reserve describe memory at boot, before the
 * first allocation; a frame number at or beyond nframes is ignored.  Frees
 * are checked (alignment, range, double free) and never crash; a frame
 * that was reserved and never released cannot be told from an allocated
 * one, so freeing it makes it free.
 */
struct pmm_ops {
    const char *name;
    /* Manages frames [0, nframes), all reserved at first; bookkeeping from
     * placement_alloc.  Returns false if that memory is not available. */
    bool (*init)(uint32_t nframes);
    void (*release)(paddr_t pa, uint32_t nframes); /* usable RAM from the map */
    void (*reserve)(paddr_t pa, uint32_t nframes); /* taken: image, modules */
    /* Stores a free frame in *pa; zeroed asks for its contents to be zero. */
    enum pmm_status (*alloc)(paddr_t *pa, bool zeroed);
    enum pmm_status (*free)(paddr_t pa);
    void (*stats)(struct pmm_stats *st);
    /* Zeroes up to n free frames ahead of need and returns how many; NULL
     * for an allocator without a pre-zeroed pool. */
    uint32_t (*prezero)(uint32_t n);
};

/* Bitmap: one bit per frame; allocation scans on from the frame after the
 * last one handed out (next fit), wrapping at the end. */
extern const struct pmm_ops pmm_bitmap_ops;

/* Stack: LIFO of free frames.  Freed and released frames are dirty;
 * zeroed allocations take a frame from the pre-zeroed pool first and
 * otherwise zero a dirty one; plain allocations take dirty frames first. */
extern const struct pmm_ops pmm_stack_ops;

/* Every allocator, in the order listings show them (the built-in ones,
 * then those plug-ins added), then NULL.  It changes only by pmm_register,
 * before any machine exists: the host reads it without running kernel code
 * (tools/registry.c). */
#define PMM_REGISTRY_MAX 16u
extern const struct pmm_ops *pmm_registry[PMM_REGISTRY_MAX + 1];

/* Appends ops to the registry (a plug-in's allocator, kernel/plugin.h): its
 * name must be valid (kreg_name_ok) and new, and every operation but
 * prezero set. */
enum kreg_status pmm_register(const struct pmm_ops *ops);

/* The first member of ops the kernel calls that is NULL ("init", ...),
 * NULL if there is none. */
const char *pmm_ops_missing(const struct pmm_ops *ops);

/* Returns the allocator of pmm_registry named name, NULL if unknown. */
const struct pmm_ops *pmm_find(const char *name);

/* Routes the pmm_alloc/pmm_free/pmm_stats calls to ops (already init'ed). */
void pmm_use(const struct pmm_ops *ops);

/* Stores a frame in *pa; PMM_NOT_READY if no allocator is in use. */
enum pmm_status pmm_alloc(paddr_t *pa);

/* As pmm_alloc, and the frame reads as zeros. */
enum pmm_status pmm_alloc_zeroed(paddr_t *pa);

/* Gives the frame at pa back; returns why not if it cannot be freed. */
enum pmm_status pmm_free(paddr_t pa);

/* Fills st from the allocator in use (all zero if there is none). */
void pmm_stats(struct pmm_stats *st);

/* Sets how frames are reached for zeroing; NULL restores the default. */
void pmm_set_zero_fn(pmm_zero_fn fn);

/* Fills the frame at pa with zeros through the current zero fn; the
 * default panics for a frame outside the early mapping. */
void pmm_zero_frame(paddr_t pa);

/*
 * Fills the pre-zeroed pool of the allocator in use: zeroes up to n free
 * frames (at idle time, or at boot before the first allocation) and returns
 * how many it moved into the pool.  Returns 0 if no allocator is in use or
 * the one in use keeps no such pool.
 */
uint32_t pmm_prezero(uint32_t n);

#endif

/*
 * pmm_impl.h - what the frame allocators (pmm_bitmap.c, pmm_stack.c) share:
 * a bitmap of free frames (bit set: free), the clipping of a boot range to
 * the frames managed, and the checks every free makes.  Not for other users.
 */
#ifndef PAGESIM_PMM_IMPL_H
#define PAGESIM_PMM_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocators/pmm.h"

static inline bool
pmm_bit(const uint32_t *map, uint32_t f)
{
    return (map[f / 32] >> (f % 32)) & 1u;
}

static inline void
pmm_bit_set(uint32_t *map, uint32_t f)
{
    map[f / 32] |= 1u << (f % 32);
}

static inline void
pmm_bit_clear(uint32_t *map, uint32_t f)
{
    map[f / 32] &= ~(1u << (f % 32));
}

/* The frames [*first, *end) of [pa, pa + n pages) below nframes. */
static inline void
pmm_span(paddr_t pa, uint32_t n, uint32_t nframes, uint32_t *first, uint32_t *end)
{
    uint32_t f = pa >> PAGE_SHIFT;
    *first = f < nframes ? f : nframes;
    *end = n < nframes - *first ? *first + n : nframes;
}

/* Why freeing pa is wrong for an allocator of nframes frames whose free
 * bitmap is freemap (NULL: not initialised), or PMM_OK. */
static inline enum pmm_status
pmm_check_free(paddr_t pa, const uint32_t *freemap, uint32_t nframes)
{
    uint32_t f = pa >> PAGE_SHIFT;
    if (freemap == NULL)
        return PMM_NOT_READY;
    if (PGOFF(pa) != 0)
        return PMM_UNALIGNED;
    if (f >= nframes)
        return PMM_OUT_OF_RANGE;
    if (pmm_bit(freemap, f))
        return PMM_DOUBLE_FREE;
    return PMM_OK;
}

#endif

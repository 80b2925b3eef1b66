/*
 * pmm_stack.c - the stack frame allocator (pmm.h): free frame numbers as a
 * LIFO in placement memory, with a pool of pre-zeroed frames beside it.
 *
 * One array of nframes uint32 frame numbers holds both stacks: dirty
 * frames grow up from index 0, zeroed ones grow down from the end.  A frame
 * is on at most one of them, so they never meet.  A bitmap of free frames
 * (1 = free) catches double frees without searching the stacks.
 */
#include "allocators/pmm.h"
#include "allocators/pmm_impl.h"

#include <stddef.h>

#include "allocators/placement.h"
#include "kernel/klib.h"

static uint32_t *stk_frames;
static uint32_t *stk_freemap;
static uint32_t stk_nframes;
static uint32_t stk_nwords;
static uint32_t stk_ndirty; /* stk_frames[0 .. ndirty) */
static uint32_t stk_nclean; /* stk_frames[nframes - nclean .. nframes) */
static uint32_t stk_reserved;
static struct pmm_stats stk_ctr; /* allocs, frees, errors, zeroed, hits */

static inline bool
stk_is_free(uint32_t f)
{
    return pmm_bit(stk_freemap, f);
}

static inline void
stk_mark_free(uint32_t f)
{
    pmm_bit_set(stk_freemap, f);
}

static inline void
stk_mark_taken(uint32_t f)
{
    pmm_bit_clear(stk_freemap, f);
}

static inline void
stk_push_dirty(uint32_t f)
{
    stk_frames[stk_ndirty++] = f;
}

static inline void
stk_push_clean(uint32_t f)
{
    stk_frames[stk_nframes - ++stk_nclean] = f;
}

static inline uint32_t
stk_pop_dirty(void)
{
    return stk_frames[--stk_ndirty];
}

static inline uint32_t
stk_pop_clean(void)
{
    return stk_frames[stk_nframes - stk_nclean--];
}

static bool
stk_init(uint32_t nframes)
{
    uint32_t nwords = nframes / 32 + (nframes % 32 != 0);
    stk_frames = NULL;
    stk_nframes = 0;
    if (nframes == 0 || nframes > (1u << (32 - PAGE_SHIFT)))
        return false;
    uint32_t *frames = placement_alloc(nframes * 4, 4, NULL);
    uint32_t *freemap = placement_alloc(nwords * 4, 4, NULL);
    if (frames == NULL || freemap == NULL)
        return false;
    stk_frames = frames;
    stk_freemap = freemap;
    stk_nframes = nframes;
    stk_nwords = nwords;
    stk_ndirty = 0;
    stk_nclean = 0;
    stk_reserved = nframes;
    memset(&stk_ctr, 0, sizeof(stk_ctr));
    return true;
}

/* Released frames are assumed dirty: nothing says what the loader left. */
static void
stk_release(paddr_t pa, uint32_t n)
{
    uint32_t f, end;
    if (stk_frames == NULL)
        return;
    pmm_span(pa, n, stk_nframes, &f, &end);
    for (; f < end; f++) {
        if (!stk_is_free(f)) {
            stk_mark_free(f);
            stk_push_dirty(f);
            stk_reserved--;
        }
    }
}

/* Takes the range out of the free map, then drops its frames from both
 * stacks in one pass each (order kept): one pass per call, not per frame. */
static void
stk_reserve(paddr_t pa, uint32_t n)
{
    uint32_t f, end, taken = 0;
    if (stk_frames == NULL)
        return;
    pmm_span(pa, n, stk_nframes, &f, &end);
    for (; f < end; f++) {
        if (stk_is_free(f)) {
            stk_mark_taken(f);
            stk_reserved++;
            taken++;
        }
    }
    if (taken == 0)
        return;
    uint32_t j = 0;
    for (uint32_t i = 0; i < stk_ndirty; i++) {
        uint32_t g = stk_frames[i];
        if (stk_is_free(g))
            stk_frames[j++] = g;
    }
    stk_ndirty = j;
    j = stk_nframes;
    for (uint32_t i = stk_nframes; i > stk_nframes - stk_nclean; i--) {
        uint32_t g = stk_frames[i - 1];
        if (stk_is_free(g))
            stk_frames[--j] = g;
    }
    stk_nclean = stk_nframes - j;
}

static enum pmm_status
stk_alloc(paddr_t *pa, bool zeroed)
{
    uint32_t f;
    if (stk_frames == NULL) {
        stk_ctr.errors++;
        return PMM_NOT_READY;
    }
    if (stk_ndirty + stk_nclean == 0) {
        stk_ctr.errors++;
        return PMM_NO_MEMORY;
    }
    if (zeroed && stk_nclean > 0) {
        f = stk_pop_clean();
        stk_ctr.prezeroed_hits++;
    } else if (zeroed) {
        f = stk_pop_dirty();
        pmm_zero_frame(f << PAGE_SHIFT);
        stk_ctr.zeroed++;
    } else if (stk_ndirty > 0) {
        f = stk_pop_dirty(); /* keep the pool for callers that need zeros */
    } else {
        f = stk_pop_clean();
    }
    stk_mark_taken(f);
    stk_ctr.allocs++;
    *pa = f << PAGE_SHIFT;
    return PMM_OK;
}

static enum pmm_status
stk_free(paddr_t pa)
{
    uint32_t f = pa >> PAGE_SHIFT;
    enum pmm_status st = pmm_check_free(pa, stk_frames != NULL ? stk_freemap : NULL, stk_nframes);
    if (st != PMM_OK) {
        stk_ctr.errors++;
        return st;
    }
    stk_mark_free(f);
    stk_push_dirty(f);
    stk_ctr.frees++;
    return PMM_OK;
}

static void
stk_stats(struct pmm_stats *st)
{
    *st = stk_ctr;
    st->total_frames = stk_nframes;
    st->free_frames = stk_ndirty + stk_nclean;
    st->reserved_frames = stk_frames != NULL ? stk_reserved : 0;
    st->bookkeeping_bytes = stk_frames != NULL ? stk_nframes * 4 + stk_nwords * 4 : 0;
}

static uint32_t
stk_prezero(uint32_t n)
{
    uint32_t moved = 0;
    if (stk_frames == NULL)
        return 0;
    while (moved < n && stk_ndirty > 0) {
        uint32_t f = stk_pop_dirty();
        pmm_zero_frame(f << PAGE_SHIFT);
        stk_ctr.zeroed++;
        stk_push_clean(f);
        moved++;
    }
    return moved;
}

const struct pmm_ops pmm_stack_ops = {
    .name = "stack",
    .init = stk_init,
    .release = stk_release,
    .reserve = stk_reserve,
    .alloc = stk_alloc,
    .free = stk_free,
    .stats = stk_stats,
    .prezero = stk_prezero,
};

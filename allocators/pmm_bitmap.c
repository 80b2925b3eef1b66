/*
 * pmm_bitmap.c - the bitmap frame allocator (pmm.h): one bit per frame
 * (1 = free) in placement memory, next-fit search a word at a time.
 */
#include "allocators/pmm.h"
#include "allocators/pmm_impl.h"

#include <stddef.h>

#include "allocators/placement.h"
#include "kernel/arch.h"
#include "kernel/klib.h"

static uint32_t *bm_bits; /* bit f of the map: frame f is free */
static uint32_t bm_nframes;
static uint32_t bm_nwords;
static uint32_t bm_hint; /* the next fit starts here */
static uint32_t bm_nfree;
static uint32_t bm_reserved;
static struct pmm_stats bm_ctr; /* allocs, frees, errors, zeroed */

static inline bool
bm_test(uint32_t f)
{
    return pmm_bit(bm_bits, f);
}

static inline void
bm_set(uint32_t f)
{
    pmm_bit_set(bm_bits, f);
}

static inline void
bm_clear(uint32_t f)
{
    pmm_bit_clear(bm_bits, f);
}

static bool
bm_init(uint32_t nframes)
{
    uint32_t nwords = nframes / 32 + (nframes % 32 != 0);
    bm_bits = NULL;
    bm_nframes = 0;
    if (nframes == 0)
        return false;
    uint32_t *bits = placement_alloc(nwords * 4, 4, NULL);
    if (bits == NULL)
        return false;
    bm_bits = bits;
    bm_nframes = nframes;
    bm_nwords = nwords;
    bm_hint = 0;
    bm_nfree = 0;
    bm_reserved = nframes;
    memset(&bm_ctr, 0, sizeof(bm_ctr));
    return true;
}

static void
bm_release(paddr_t pa, uint32_t n)
{
    uint32_t f, end;
    pmm_span(pa, n, bm_nframes, &f, &end);
    for (; f < end; f++) {
        if (!bm_test(f)) {
            bm_set(f);
            bm_nfree++;
            bm_reserved--;
        }
    }
}

static void
bm_reserve(paddr_t pa, uint32_t n)
{
    uint32_t f, end;
    pmm_span(pa, n, bm_nframes, &f, &end);
    for (; f < end; f++) {
        if (bm_test(f)) {
            bm_clear(f);
            bm_nfree--;
            bm_reserved++;
        }
    }
}

/* The first free frame at or after `from`, wrapping once round the map. */
static uint32_t
bm_next_fit(uint32_t from)
{
    uint32_t w = from / 32;
    uint32_t mask = ~0u << (from % 32);
    /* nwords + 1 steps: the low bits of the first word come last. */
    for (uint32_t k = 0; k <= bm_nwords; k++) {
        uint32_t bits = bm_bits[w] & mask;
        if (bits != 0)
            return w * 32 + (uint32_t)__builtin_ctz(bits);
        mask = ~0u;
        w = w + 1 == bm_nwords ? 0 : w + 1;
    }
    arch_panic("pmm_bitmap: free count says a frame is free but the map has none");
}

static enum pmm_status
bm_alloc(paddr_t *pa, bool zeroed)
{
    if (bm_bits == NULL) {
        bm_ctr.errors++;
        return PMM_NOT_READY;
    }
    if (bm_nfree == 0) {
        bm_ctr.errors++;
        return PMM_NO_MEMORY;
    }
    uint32_t f = bm_next_fit(bm_hint);
    bm_clear(f);
    bm_nfree--;
    bm_hint = f + 1 == bm_nframes ? 0 : f + 1;
    bm_ctr.allocs++;
    *pa = f << PAGE_SHIFT;
    if (zeroed) {
        pmm_zero_frame(*pa);
        bm_ctr.zeroed++;
    }
    return PMM_OK;
}

static enum pmm_status
bm_free(paddr_t pa)
{
    uint32_t f = pa >> PAGE_SHIFT;
    enum pmm_status st = pmm_check_free(pa, bm_bits, bm_nframes);
    if (st != PMM_OK) {
        bm_ctr.errors++;
        return st;
    }
    bm_set(f);
    bm_nfree++;
    bm_ctr.frees++;
    return PMM_OK;
}

static void
bm_stats(struct pmm_stats *st)
{
    *st = bm_ctr;
    st->total_frames = bm_nframes;
    st->free_frames = bm_nfree;
    st->reserved_frames = bm_bits != NULL ? bm_reserved : 0;
    st->prezeroed_hits = 0;
    st->bookkeeping_bytes = bm_bits != NULL ? bm_nwords * 4 : 0;
}

const struct pmm_ops pmm_bitmap_ops = {
    .name = "bitmap",
    .init = bm_init,
    .release = bm_release,
    .reserve = bm_reserve,
    .alloc = bm_alloc,
    .free = bm_free,
    .stats = bm_stats,
};

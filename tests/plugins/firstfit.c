/*
 * firstfit.c - a test plug-in (kernel/plugin.h): the frame allocator
 * "firstfit", which hands out the lowest free frame first, so that a frame
 * freed is the next one handed out if none below it was freed since.  One
 * bit per frame (1 = free) in placement memory.
 */
#include <stddef.h>

#include "allocators/placement.h"
#include "allocators/pmm.h"
#include "kernel/klib.h"
#include "kernel/plugin.h"

PAGESIM_PLUGIN_ABI_DEFINE;

static uint32_t *ff_bits; /* bit f: frame f is free */
static uint32_t ff_nframes, ff_nwords, ff_nfree, ff_reserved;
static struct pmm_stats ff_ctr; /* allocs, frees, errors, zeroed */

static bool
ff_free_bit(uint32_t f)
{
    return (ff_bits[f / 32] >> (f % 32)) & 1u;
}

static bool
ff_init(uint32_t nframes)
{
    uint32_t nwords = (nframes + 31) / 32;
    ff_bits = NULL;
    ff_nframes = 0;
    if (nframes == 0 || (ff_bits = placement_alloc(nwords * 4, 4, NULL)) == NULL)
        return false;
    memset(ff_bits, 0, nwords * 4);
    ff_nframes = nframes;
    ff_nwords = nwords;
    ff_nfree = 0;
    ff_reserved = nframes;
    memset(&ff_ctr, 0, sizeof(ff_ctr));
    return true;
}

/* Marks frames [pa, pa + n pages) below ff_nframes free (or taken). */
static void
ff_mark(paddr_t pa, uint32_t n, bool free)
{
    for (uint32_t f = pa >> PAGE_SHIFT; n > 0 && f < ff_nframes; f++, n--) {
        if (ff_free_bit(f) == free)
            continue;
        ff_bits[f / 32] ^= 1u << (f % 32);
        ff_nfree += free ? 1 : (uint32_t)-1;
        ff_reserved += free ? (uint32_t)-1 : 1;
    }
}

static void
ff_release(paddr_t pa, uint32_t n)
{
    ff_mark(pa, n, true);
}

static void
ff_reserve(paddr_t pa, uint32_t n)
{
    ff_mark(pa, n, false);
}

static enum pmm_status
ff_alloc(paddr_t *pa, bool zeroed)
{
    if (ff_bits == NULL || ff_nfree == 0) {
        ff_ctr.errors++;
        return ff_bits == NULL ? PMM_NOT_READY : PMM_NO_MEMORY;
    }
    uint32_t w = 0;
    while (ff_bits[w] == 0)
        w++;
    uint32_t f = w * 32 + (uint32_t)__builtin_ctz(ff_bits[w]);
    ff_bits[w] &= ~(1u << (f % 32));
    ff_nfree--;
    ff_ctr.allocs++;
    *pa = f << PAGE_SHIFT;
    if (zeroed) {
        pmm_zero_frame(*pa);
        ff_ctr.zeroed++;
    }
    return PMM_OK;
}

static enum pmm_status
ff_free(paddr_t pa)
{
    uint32_t f = pa >> PAGE_SHIFT;
    enum pmm_status st = ff_bits == NULL   ? PMM_NOT_READY
                         : PGOFF(pa) != 0  ? PMM_UNALIGNED
                         : f >= ff_nframes ? PMM_OUT_OF_RANGE
                         : ff_free_bit(f)  ? PMM_DOUBLE_FREE
                                           : PMM_OK;
    if (st != PMM_OK) {
        ff_ctr.errors++;
        return st;
    }
    ff_bits[f / 32] |= 1u << (f % 32);
    ff_nfree++;
    ff_ctr.frees++;
    return PMM_OK;
}

static void
ff_stats(struct pmm_stats *st)
{
    *st = ff_ctr;
    st->total_frames = ff_nframes;
    st->free_frames = ff_nfree;
    st->reserved_frames = ff_bits != NULL ? ff_reserved : 0;
    st->prezeroed_hits = 0;
    st->bookkeeping_bytes = ff_bits != NULL ? ff_nwords * 4 : 0;
}

static const struct pmm_ops ff_ops = {
    .name = "firstfit",
    .init = ff_init,
    .release = ff_release,
    .reserve = ff_reserve,
    .alloc = ff_alloc,
    .free = ff_free,
    .stats = ff_stats,
};

int
pagesim_plugin_init(const struct pagesim_registrar *r)
{
    return r->add_pmm(&ff_ops);
}

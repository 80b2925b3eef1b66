/*
 * vmm_window.c - the temporary mapping window: slots of one kernel page
 * table through which a strategy reaches frames one page at a time
 * (tempmap, tempmap-lazy, and the scratch slots of heap, pageheap and
 * recursive), with its eager and lazy ways of invalidating a slot.
 */
#include <stddef.h>

#include "allocators/vmm.h"
#include "allocators/vmm_impl.h"
#include "allocators/vmm_strategy.h"
#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

#define SLOT_BUSY 0x1u  /* mapped, in use */
#define SLOT_DIRTY 0x2u /* lazy: PTE cleared, the translation may still be cached */
#define SLOT_USED 0x4u  /* has been mapped before */

static struct {
    vaddr_t base;
    uint32_t nslots;
    bool lazy;
    volatile pte_t *ptes;
    uint8_t state[TEMPMAP_SLOTS];
    uint16_t free[TEMPMAP_SLOTS]; /* eager: stack of free slots */
    uint32_t nfree;
    uint32_t next;   /* lazy: the next slot in turn */
    uint32_t ndirty; /* lazy: slots cleared since the last flush */
} tw;

void
vmm_window_setup(vaddr_t base, uint32_t nslots, bool lazy, volatile pte_t *ptes)
{
    tw.base = base;
    tw.nslots = nslots;
    tw.lazy = lazy;
    tw.ptes = ptes;
    tw.next = 0;
    tw.ndirty = 0;
    tw.nfree = nslots;
    for (uint32_t i = 0; i < nslots; i++) {
        tw.state[i] = 0;
        tw.free[i] = (uint16_t)(nslots - 1 - i); /* slot 0 on top */
    }
}

/* The next lazy slot in turn, wrapping (and flushing if needed); nslots if
 * every slot is busy or dirty. */
static uint32_t
tw_take_lazy(void)
{
    for (uint32_t tries = 0; tries <= tw.nslots; tries++) {
        if (tw.next == tw.nslots) {
            vmm_ctr.tmp_wraps++;
            if (tw.ndirty > 0)
                vmm_flush_tlb(); /* clears the dirty marks (vmm_window_flushed) */
            tw.next = 0;
        }
        uint32_t s = tw.next++;
        if ((tw.state[s] & (SLOT_BUSY | SLOT_DIRTY)) == 0)
            return s;
    }
    return tw.nslots;
}

enum vmm_status
vmm_window_map(paddr_t pa, vaddr_t *va)
{
    uint32_t s;
    if (tw.lazy) {
        s = tw_take_lazy();
        if (s == tw.nslots)
            return VMM_NO_MEMORY;
    } else {
        if (tw.nfree == 0)
            return VMM_NO_MEMORY;
        s = tw.free[--tw.nfree];
    }
    if (tw.state[s] & SLOT_USED)
        vmm_ctr.tmp_reuses++;
    tw.state[s] = SLOT_BUSY | SLOT_USED;
    tw.ptes[s] = pa | VMM_KERNEL_PDE | (tw.lazy ? 0 : vmm_kernel_global());
    vmm_ctr.tmp_maps++;
    *va = tw.base + s * PAGE_SIZE;
    return VMM_OK;
}

void
vmm_window_unmap(vaddr_t va)
{
    uint32_t s = (va - tw.base) / PAGE_SIZE;
    if (va < tw.base || s >= tw.nslots || !(tw.state[s] & SLOT_BUSY))
        arch_panic("vmm: unmapping a temporary slot that is not mapped");
    tw.ptes[s] = 0;
    tw.state[s] &= (uint8_t)~SLOT_BUSY;
    if (tw.lazy) {
        tw.state[s] |= SLOT_DIRTY;
        tw.ndirty++;
    } else {
        vmm_invlpg(va);
        tw.free[tw.nfree++] = (uint16_t)s;
    }
}

void
vmm_window_flushed(void)
{
    if (tw.ndirty == 0)
        return;
    for (uint32_t i = 0; i < tw.nslots; i++)
        tw.state[i] &= (uint8_t)~SLOT_DIRTY;
    tw.ndirty = 0;
}

void
vmm_window_zero(paddr_t pa)
{
    vaddr_t va;
    if (vmm_window_map(pa, &va) != VMM_OK)
        arch_panic("vmm: no free temporary slot to zero a frame");
    memset((void *)(uintptr_t)va, 0, PAGE_SIZE);
    vmm_window_unmap(va);
}

/*
 * vmm_tempmap.c - the temporary mapping window (slots of one kernel page
 * table) and the tempmap and tempmap-lazy strategies that edit every
 * directory and table by mapping it into a slot, one at a time.
 *
 * Frames come from the PMM (tables zeroed through a slot).  tempmap frees a
 * slot with a cleared PTE and INVLPG at once, from a stack of free slots, so
 * the next map reuses the same slot.  tempmap-lazy takes slots in turn and
 * only clears the PTE; when the turn wraps past the last slot it issues one
 * CR3 reload if a cleared slot may still be cached (Linux's persistent kmap
 * flush_all_zero_pkmaps, ReactOS hyperspace).  Any CR3 load in between
 * already flushed them, so no reload is needed then.
 *
 * Kernel half: every directory copies PDEs [KERNEL_PDX, VMM_KPDE_END) of the
 * kernel directory when it is made; those point at kernel tables made at
 * boot that never change, so every space sees the same kernel half.  Kernel
 * tables (the window's own included) live in placement memory and are
 * reached through the early mapping, as Linux keeps its pkmap table in lowmem.
 */
#include <stddef.h>

#include "allocators/vmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

/* ---- the window ---- */

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
    tw.ptes[s] = pa | VMM_KERNEL_PDE | (tw.lazy ? 0 : vmm_kglobal);
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

/* ---- the strategies ---- */

/* Every directory and table is reached by mapping its frame into a slot. */
static enum vmm_status
tm_open(paddr_t pa, volatile uint32_t **p)
{
    vaddr_t va;
    enum vmm_status st = vmm_window_map(pa, &va);
    if (st == VMM_OK)
        *p = vmm_words(va);
    return st;
}

static void
tm_close(volatile uint32_t *p)
{
    vmm_window_unmap((vaddr_t)(uintptr_t)p);
}

static enum vmm_status
tm_open_pd(struct vmm_space *sp, volatile pde_t **pd)
{
    return tm_open(sp->vs_pd_pa, pd);
}

static enum vmm_status
tm_open_pt(struct vmm_space *sp, uint32_t pdx, pde_t pde, volatile pte_t **pt)
{
    (void)sp;
    (void)pdx;
    return tm_open(PTE_ADDR(pde), pt);
}

/* Tables are zeroed by the PMM, through a slot (vmm_window_zero). */
static const struct vmm_reach tm_reach = {
    .open_pd = tm_open_pd,
    .open_pt = tm_open_pt,
    .close = tm_close,
    VMM_PMM_TABLES,
    .kpte = vmm_kpte_early,
    .kpd = vmm_kpd_early,
};

static enum vmm_status
tm_boot(bool lazy)
{
    vmm_window_setup(TEMPMAP_BASE, TEMPMAP_SLOTS, lazy, vmm_kpte_early(TEMPMAP_BASE));
    return VMM_OK;
}

static enum vmm_status
tm_boot_eager(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ks;
    (void)ram_frames;
    return tm_boot(false);
}

static enum vmm_status
tm_boot_lazy(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ks;
    (void)ram_frames;
    return tm_boot(true);
}

static void
tm_stats(struct vmm_stats *st)
{
    st->kva_bytes = TEMPMAP_SLOTS * PAGE_SIZE;
}

/* tempmap and tempmap-lazy differ only in the window their boot sets up. */
#define TM_OPS(nm, bootfn)                                                                         \
    {                                                                                              \
        .name = (nm), .reach_frames = VMM_REACH_ALL, VMM_WALK_OPS(&tm_reach), .boot = (bootfn),    \
        .create = vmm_pmm_create, VMM_WINDOW_OPS, .flushed = vmm_window_flushed,                   \
        .stats = tm_stats,                                                                         \
    }

const struct vmm_ops vmm_tempmap_ops = TM_OPS("tempmap", tm_boot_eager);
const struct vmm_ops vmm_tempmap_lazy_ops = TM_OPS("tempmap-lazy", tm_boot_lazy);

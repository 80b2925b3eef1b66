/*
 * kern_alloc.c - kernel-style support for the allocator tests: boots a
 * machine with paging and the allocators, and maps heap pages on demand.
 */
#include "tests/kern_alloc.h"

#include <stddef.h>

#include "allocators/heap.h"
#include "allocators/pageheap.h"
#include "allocators/placement.h"
#include "allocators/pmm.h"
#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

struct ka_counters ka_counters;

void
ka_paging_on(void *arg)
{
    (void)arg;
    volatile pde_t *pd = (volatile pde_t *)KA_PD_PA; /* paging off: VA == PA */
    volatile pte_t *pt = (volatile pte_t *)KA_PT_PA;
    for (uint32_t i = 0; i < NPDENTRIES; i++)
        pd[i] = 0;
    for (uint32_t i = 0; i < EARLY_MAP_SIZE / PAGE_SIZE; i++)
        pt[i] = (i << PAGE_SHIFT) | PTE_P | PTE_W;
    for (uint32_t t = 0; t < EARLY_MAP_SIZE / LPAGE_SIZE; t++) {
        pde_t pde = (KA_PT_PA + t * PAGE_SIZE) | PTE_P | PTE_W;
        pd[t] = pde;
        pd[KERNEL_PDX + t] = pde;
    }
    pd[RECURSIVE_SLOT] = KA_PD_PA | PTE_P | PTE_W;
    arch_enable_paging(KA_PD_PA);
}

void
ka_boot(void *arg)
{
    const struct ka_boot *cfg = arg;
    memset(&ka_counters, 0, sizeof(ka_counters));
    ka_paging_on(NULL);
    placement_init(KA_PLACEMENT_PA, KA_PLACEMENT_END);
    pmm_set_zero_fn(NULL);
    pmm_use(NULL);
    if (cfg->pmm != NULL) {
        const struct pmm_ops *ops = pmm_find(cfg->pmm);
        if (ops == NULL || !ops->init(KA_NFRAMES))
            arch_panic("ka_boot: no such PMM, or its bookkeeping does not fit");
        ops->release(cfg->release_pa, cfg->release_frames);
        pmm_use(ops);
    }
    heap_init(KHEAP_START, cfg->heap_end != 0 ? cfg->heap_end : KHEAP_END, ka_grow);
    if (!pageheap_init(PAGEHEAP_START, cfg->pageheap_end != 0 ? cfg->pageheap_end : PAGEHEAP_END,
                       ka_grow))
        arch_panic("ka_boot: no placement memory for the page heap");
    placement_seal();
}

bool
ka_grow(vaddr_t va, uint32_t npages)
{
    volatile pde_t *pd = (volatile pde_t *)RECURSIVE_PD;
    for (uint32_t i = 0; i < npages; i++) {
        vaddr_t v = va + i * PAGE_SIZE;
        vaddr_t table = RECURSIVE_PT_BASE + PDX(v) * PAGE_SIZE;
        paddr_t pa;
        if (!(pd[PDX(v)] & PTE_P)) {
            if (pmm_alloc_zeroed(&pa) != PMM_OK)
                return false;
            pd[PDX(v)] = pa | PTE_P | PTE_W;
            arch_invlpg(table);
            ka_counters.table_frames++;
        }
        if (pmm_alloc(&pa) != PMM_OK)
            return false;
        ((volatile pte_t *)table)[PTX(v)] = pa | PTE_P | PTE_W;
        arch_invlpg(v);
        ka_counters.grow_pages++;
    }
    ka_counters.grow_calls++;
    return true;
}

static inline uint32_t
ka_word(uint32_t seed, uint32_t i)
{
    return (seed * 0x9E3779B9u) ^ (i * 0x01000193u) ^ 0xA5A5A5A5u;
}

void
ka_fill(vaddr_t va, uint32_t len, uint32_t seed)
{
    volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)va;
    for (uint32_t i = 0; i < len / 4; i++)
        p[i] = ka_word(seed, i);
}

bool
ka_verify(vaddr_t va, uint32_t len, uint32_t seed)
{
    volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)va;
    for (uint32_t i = 0; i < len / 4; i++)
        if (p[i] != ka_word(seed, i))
            return false;
    return true;
}

void
ka_copy(vaddr_t dst, vaddr_t src, uint32_t n)
{
    memcpy((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
}

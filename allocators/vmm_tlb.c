/*
 * vmm_tlb.c - the kernel's TLB maintenance, counted: INVLPG, CR3 loads
 * (the strategy told of each flush) and CR3 reloads.  Every flush the
 * generic layer or a strategy makes goes through here.
 */
#include <stddef.h>

#include "allocators/vmm.h"
#include "allocators/vmm_impl.h"
#include "allocators/vmm_strategy.h"
#include "kernel/arch.h"

void
vmm_invlpg(vaddr_t va)
{
    arch_invlpg(va);
    vmm_ctr.invlpg++;
}

void
vmm_load_cr3(paddr_t pd_pa)
{
    const struct vmm_ops *ops = vmm_strategy();
    arch_write_cr3(pd_pa);
    vmm_ctr.cr3_writes++;
    if (ops != NULL && ops->flushed != NULL)
        ops->flushed();
}

void
vmm_flush_tlb(void)
{
    vmm_load_cr3(arch_read_cr3());
}

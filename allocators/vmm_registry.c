/*
 * vmm_registry.c - the registry of paging strategies: the one list of them
 * (vmm.h, vmm_registry), in the order listings and comparisons show them,
 * the default one, and lookup by name.
 *
 * Adding a strategy: its file (allocators/vmm_NAME.c, a const struct
 * vmm_ops with its name, summary and preferred frame allocator, duties in
 * vmm_strategy.h), one line in VMM_STRATEGIES below, and its golden reports
 * (tests/golden/SCENARIO.NAME.txt).  Everything else asks the registry.
 */
#include "allocators/vmm.h"

#include <stddef.h>

#include "kernel/klib.h"

/* One line per strategy: its struct vmm_ops. */
#define VMM_STRATEGIES(X)                                                                          \
    X(vmm_heap_ops)                                                                                \
    X(vmm_pageheap_ops)                                                                            \
    X(vmm_recursive_ops)                                                                           \
    X(vmm_tempmap_ops)                                                                             \
    X(vmm_tempmap_lazy_ops)                                                                        \
    X(vmm_physmap_ops)

#define VMM_DECLARE(ops) extern const struct vmm_ops ops;
VMM_STRATEGIES(VMM_DECLARE)

#define VMM_ENTRY(ops) &ops,
const struct vmm_ops *const vmm_registry[] = {VMM_STRATEGIES(VMM_ENTRY) NULL};

const struct vmm_ops *const vmm_registry_default = &vmm_recursive_ops;

const struct vmm_ops *
vmm_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (uint32_t i = 0; vmm_registry[i] != NULL; i++)
        if (kstrcmp(vmm_registry[i]->name, name) == 0)
            return vmm_registry[i];
    return NULL;
}

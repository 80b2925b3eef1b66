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

#include "allocators/pmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/klib.h"
#include "kernel/plugin.h"

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
/* Plug-ins (kernel/plugin.h) append to it before any machine exists, so it
 * lives in a section of its own that is not restored per machine. */
const struct vmm_ops *vmm_registry[VMM_REGISTRY_MAX + 1] __attribute__((
    section(".data.pagesim_registry"))) = {VMM_STRATEGIES(VMM_ENTRY) NULL};

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

const char *
vmm_ops_missing(const struct vmm_ops *ops)
{
    const struct vmm_reach *r = ops->reach;
    return ops->summary == NULL      ? "summary"
           : ops->pmm == NULL        ? "pmm"
           : r == NULL               ? "reach"
           : ops->boot == NULL       ? "boot"
           : ops->create == NULL     ? "create"
           : ops->kmap == NULL       ? "kmap"
           : ops->kunmap == NULL     ? "kunmap"
           : ops->zero_frame == NULL ? "zero_frame"
           : ops->stats == NULL      ? "stats"
           : r->open_pd == NULL      ? "reach->open_pd"
           : r->open_pt == NULL      ? "reach->open_pt"
           : r->new_table == NULL    ? "reach->new_table"
           : r->free_table == NULL   ? "reach->free_table"
           : r->free_pd == NULL      ? "reach->free_pd"
           : r->kpte == NULL         ? "reach->kpte"
           : r->kpd == NULL          ? "reach->kpd"
                                     : NULL;
}

enum kreg_status
vmm_register(const struct vmm_ops *ops)
{
    if (ops == NULL)
        return KREG_INCOMPLETE;
    if (!kreg_name_ok(ops->name))
        return KREG_BAD_NAME;
    if (vmm_ops_missing(ops) != NULL)
        return KREG_INCOMPLETE;
    if (vmm_find(ops->name) != NULL)
        return KREG_NAME_TAKEN;
    if (ops->pmm->name == NULL || pmm_find(ops->pmm->name) != ops->pmm)
        return KREG_UNKNOWN_PMM;
    uint32_t n = 0;
    while (vmm_registry[n] != NULL)
        n++;
    if (n >= VMM_REGISTRY_MAX)
        return KREG_FULL;
    vmm_registry[n] = ops;
    vmm_registry[n + 1] = NULL;
    return KREG_OK;
}

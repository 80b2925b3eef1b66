/*
 * plugin.c - registration of plug-in strategies and frame allocators
 * (kernel/plugin.h) into the kernel's registries.
 */
#include "kernel/plugin.h"

#include <stddef.h>

#include "allocators/pmm.h"
#include "allocators/vmm.h"

const char *
kreg_strerror(enum kreg_status st)
{
    switch (st) {
    case KREG_OK:
        return "registered";
    case KREG_NAME_TAKEN:
        return "the name is registered already";
    case KREG_FULL:
        return "the registry is full";
    case KREG_INCOMPLETE:
        return "no name, or an operation the kernel calls is missing";
    case KREG_UNKNOWN_PMM:
        return "its preferred frame allocator is not registered";
    }
    return "unknown registration status";
}

const struct pagesim_registrar kplugin_registrar = {
    .abi = PAGESIM_PLUGIN_ABI,
    .add_strategy = vmm_register,
    .add_pmm = pmm_register,
};

extern int pagesim_plugin_init(const struct pagesim_registrar *r) __attribute__((weak));

int
kplugin_init_linked(void)
{
    if (pagesim_plugin_init == NULL)
        return 0;
    return pagesim_plugin_init(&kplugin_registrar);
}

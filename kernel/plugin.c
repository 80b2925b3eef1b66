/*
 * plugin.c - registration of plug-in strategies and frame allocators
 * (kernel/plugin.h) into the kernel's registries.
 */
#include "kernel/plugin.h"

#include <stddef.h>

#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "kernel/module.h"

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
        return "a member the kernel calls is NULL";
    case KREG_UNKNOWN_PMM:
        return "its preferred frame allocator is not registered";
    case KREG_BAD_NAME:
        return "a name is 1 to 31 letters, digits, '-', '_' or '.'";
    }
    return "unknown registration status";
}

_Static_assert(KREG_NAME_MAX + 1 == KMOD_NAME_MAX, "a registered name must fit the boot module");

bool
kreg_name_ok(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return false;
    for (uint32_t i = 0; name[i] != '\0'; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok || i + 1 > KREG_NAME_MAX)
            return false;
    }
    return true;
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

/*
 * plugin.h - the one entry point of a plug-in: kernel code built outside
 * this tree that adds paging strategies (allocators/vmm_strategy.h) and
 * frame allocators (allocators/pmm.h) to the kernel's registries.
 *
 * A plug-in's sources (compiled by pagesim_add_strategy_plugin or
 * pagesim-cc) hold, once:
 *
 *     PAGESIM_PLUGIN_ABI_DEFINE;
 *
 *     int pagesim_plugin_init(const struct pagesim_registrar *r)
 *     {
 *         return r->add_strategy(&my_ops);  // 0, or a kreg_status
 *     }
 *
 * The simulator (`pagesim --plugin FILE.so`) reads pagesim_plugin_abi and
 * refuses a plug-in built against another ABI, then calls
 * pagesim_plugin_init once, before any machine exists.  The bare-metal
 * kernel the plug-in is linked into (pagesim_add_metal_kernel) calls it at
 * boot, before it reads its module (kplugin_init_linked).  Either way the
 * names it registers work wherever a built-in name does.  init returns 0,
 * or the first nonzero status an add_* call returned.
 *
 * What init registers must be constant data (const struct vmm_ops, and
 * what it points to): the simulator restores the plug-in's writable data
 * as built and zeroes its bss in every machine, as it does the kernel's,
 * so a structure filled in by init would not survive to a run.
 *
 * PAGESIM_PLUGIN_ABI changes whenever a structure a plug-in shares with the
 * kernel (struct vmm_ops, vmm_reach, vmm_space, vmm_stats, pmm_ops,
 * pmm_stats, the registrar) changes layout or meaning.
 */
#ifndef PAGESIM_PLUGIN_H
#define PAGESIM_PLUGIN_H

#include <stdbool.h>
#include <stdint.h>

#define PAGESIM_PLUGIN_ABI 1u

struct vmm_ops;
struct pmm_ops;

/* Why a registration was refused. */
enum kreg_status {
    KREG_OK = 0,
    KREG_NAME_TAKEN,  /* a strategy (allocator) of that name is registered already */
    KREG_FULL,        /* the registry has no room left (VMM_REGISTRY_MAX, PMM_REGISTRY_MAX) */
    KREG_INCOMPLETE,  /* NULL ops, or a member the kernel calls is NULL */
    KREG_UNKNOWN_PMM, /* a strategy prefers a frame allocator not registered */
    KREG_BAD_NAME,    /* not 1 to KREG_NAME_MAX letters, digits, '-', '_' or '.' */
};

/* The longest name a strategy or frame allocator can have: what the boot
 * module carries of it (kernel/module.h), so both builds see the same. */
#define KREG_NAME_MAX 31u

/* Returns true if name can name a strategy or frame allocator: 1 to
 * KREG_NAME_MAX letters, digits, '-', '_' or '.', so that it fits the boot
 * module and reads as one word in scenarios and in --strategies lists. */
bool kreg_name_ok(const char *name);

/* Returns a short constant description of st. */
const char *kreg_strerror(enum kreg_status st);

/* What a plug-in's init registers through. */
struct pagesim_registrar {
    uint32_t abi; /* PAGESIM_PLUGIN_ABI of the kernel calling init */
    /* Adds a strategy after those registered before it. */
    enum kreg_status (*add_strategy)(const struct vmm_ops *ops);
    /* Adds a frame allocator after those registered before it. */
    enum kreg_status (*add_pmm)(const struct pmm_ops *ops);
};

/* The ABI a plug-in was built against, read before its init is called. */
#define PAGESIM_PLUGIN_ABI_DEFINE const uint32_t pagesim_plugin_abi = PAGESIM_PLUGIN_ABI

/* The plug-in's entry point (defined by the plug-in). */
int pagesim_plugin_init(const struct pagesim_registrar *r);

/* The registrar whose calls go straight to vmm_register and pmm_register. */
extern const struct pagesim_registrar kplugin_registrar;

/*
 * Calls the pagesim_plugin_init linked into this kernel, if one is (a weak
 * reference: kernel.elf links none), through kplugin_registrar.  Returns
 * 0, or what init returned.
 */
int kplugin_init_linked(void);

#endif

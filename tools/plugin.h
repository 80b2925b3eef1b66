/*
 * plugin.h - loading plug-ins (kernel/plugin.h) into the pagesim program:
 * `--plugin FILE.so`.  A plug-in's strategies and frame allocators join
 * the kernel's registries, so that every name the command line and
 * scenarios accept (tools/registry.h) includes them; its kernel data is
 * handed to the simulator (sim_kernel_part_add) so that every machine
 * starts with it pristine and names its functions in call chains.
 */
#ifndef PAGESIM_TOOLS_PLUGIN_H
#define PAGESIM_TOOLS_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/sim.h"

/* Plug-ins one process loads at most. */
#define PLUGIN_MAX SIM_MAX_KERNEL_PARTS

enum plugin_status {
    PLUGIN_OK = 0,
    PLUGIN_NOT_LOADABLE, /* missing, not a shared object, or a symbol it needs is undefined */
    PLUGIN_NOT_PLUGIN,   /* no pagesim_plugin_abi or no pagesim_plugin_init */
    PLUGIN_WRONG_ABI,    /* built for another PAGESIM_PLUGIN_ABI */
    PLUGIN_REFUSED,      /* a registration was refused (name taken, incomplete ops...) */
    PLUGIN_INIT_FAILED,  /* init returned nonzero */
    PLUGIN_CRASHED,      /* init raised SIGSEGV, SIGBUS, SIGILL, SIGFPE or SIGABRT */
    PLUGIN_TOO_MANY,     /* PLUGIN_MAX loaded already, or the file twice */
};

/* Returns a short constant description of st. */
const char *plugin_strerror(enum plugin_status st);

/*
 * Loads the plug-in at path (a path without a slash is taken in the
 * current directory), checks its ABI, gives its kernel data to the
 * simulator and calls its init with a registrar that adds to the kernel's
 * registries.  Call it before any machine exists and before scenarios are
 * checked against the registries.  Returns PLUGIN_OK, or the status with a
 * message in err naming the file and what is wrong (the name refused and
 * who holds it, the signal init raised, dlerror's text).
 */
enum plugin_status plugin_load(const char *path, char *err, size_t len);

/* The file of the plug-in that registered the strategy (pmm false) or
 * frame allocator (pmm true) named name; NULL if none did (a built-in one,
 * or no such name). */
const char *plugin_owner(const char *name, bool pmm);

/* Loads the n plug-ins at paths in order (--plugin, repeatable), stopping
 * at the first that fails: false with its message in err. */
bool plugin_load_all(const char *const *paths, unsigned n, char *err, size_t len);

#endif

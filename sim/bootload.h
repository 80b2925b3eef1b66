/*
 * bootload.h - the simulator's boot loader: puts into simulated RAM what
 * the bare-metal entry hands the kernel (boot information, boot directory
 * with the early mapping, paging on, the workload as a module) and runs the
 * shared kernel boot and workload executor on the machine.
 */
#ifndef PAGESIM_BOOTLOAD_H
#define PAGESIM_BOOTLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/boot.h"
#include "kernel/workload.h"
#include "sim/sim.h"

/*
 * Physical layout the loader makes (the fake kernel image is
 * [BOOTLOAD_IMAGE_START, BOOTLOAD_IMAGE_END), as the real one is loaded at
 * 1 MiB; what the entry keeps in its .data/.bss lies at its end):
 *   0x001F0000  struct boot_info
 *   0x001FB000  boot page directory: PDEs 0..3 and 768..771 -> the tables below
 *   0x001FC000  four page tables mapping physical 0..16 MiB
 *   0x00200000  the workload module (struct wl_header + ops)
 */
#define BOOTLOAD_IMAGE_START 0x00100000u
#define BOOTLOAD_IMAGE_END 0x00200000u
#define BOOTLOAD_INFO_PA 0x001F0000u
#define BOOTLOAD_PD_PA 0x001FB000u
#define BOOTLOAD_PT_PA 0x001FC000u
#define BOOTLOAD_MODULE_PA 0x00200000u

/* Who made the entry's control-register writes, in their events' chains. */
#define BOOTLOAD_ENTRY_NAME "boot entry"

struct bootload_config {
    const char *strategy;    /* paging strategy (vmm_find) */
    const char *pmm;         /* frame allocator (pmm_find) */
    uint32_t cr4;            /* CR4 bits the entry sets before paging: CR4_PSE, CR4_PGE */
    const struct wl_op *ops; /* the workload; NULL: an empty list */
    uint32_t nops;
    uint32_t max_ops; /* ops the workload may execute (wl_header); 0: no limit */
};

enum bootload_status {
    BOOTLOAD_OK = 0,
    BOOTLOAD_SETUP_FAILED,    /* the layout does not fit RAM, or names too long */
    BOOTLOAD_STOPPED,         /* the run stopped: sim_last_stop() tells why */
    BOOTLOAD_BOOT_FAILED,     /* kernel_boot returned an error (result.boot) */
    BOOTLOAD_WORKLOAD_FAILED, /* wl_execute returned an error (result.wl) */
};

/* What a run left, gathered by the kernel before it returned. */
struct bootload_result {
    enum boot_status boot;
    struct wl_error wl;
    char setup_error[256]; /* why the layout did not fit (BOOTLOAD_SETUP_FAILED) */
};

/* Returns a short constant description of st. */
const char *bootload_strerror(enum bootload_status st);

/*
 * Writes the boot information, the boot directory and the module into RAM
 * and sets CR4, CR3 and CR0 as the entry leaves them (sim_write_cr, named
 * BOOTLOAD_ENTRY_NAME).  Returns false with a
 * message in err if RAM is too small or the list does not fit below 16 MiB.
 */
bool bootload_prepare(struct sim *s, const struct bootload_config *cfg, char *err, size_t errlen);

/* Prepares the machine and runs kernel_boot inside sim_run (res may be NULL). */
enum bootload_status bootload_boot(struct sim *s, const struct bootload_config *cfg,
                                   struct bootload_result *res);

/* Prepares the machine and runs kernel_boot then wl_execute over the module
 * inside one sim_run; fills res (may be NULL) whatever the outcome. */
enum bootload_status bootload_run(struct sim *s, const struct bootload_config *cfg,
                                  struct bootload_result *res);

#endif

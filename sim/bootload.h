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
#include "kernel/hwprobe.h"
#include "kernel/module.h"
#include "kernel/workload.h"
#include "sim/sim.h"

/*
 * The loader lays out RAM as kernel/bootlayout.h says (boot_info, the boot
 * directory and tables, the module at BOOT_MODULE_PA), with the memory map
 * that QEMU's Multiboot loader gives a pc machine of the same RAM size
 * (bootload_qemu_mmap), so that the bare-metal kernel allocates the same
 * frames.
 */

/*
 * Fills map (BOOT_MMAP_MAX entries) with the memory map QEMU (7.2, pc
 * machine, SeaBIOS) hands a Multiboot kernel on a machine with ram bytes,
 * as the metal entry digests it (entries at 4 GiB and above dropped), and
 * returns the number of entries.  Recorded from boots of kernel.elf:
 *   0x00000000 .. 0x0009FBFF   usable
 *   0x0009FC00 .. 0x0009FFFF   reserved (EBDA)
 *   0x000F0000 .. 0x000FFFFF   reserved (BIOS)
 *   0x00100000 .. low - 128K   usable, low = ram below 3.5 GiB, else 3 GiB
 *                              (the rest of RAM is put above 4 GiB)
 *   low - 128K .. low - 1      reserved (firmware tables)
 *   0xFFFC0000 .. 0xFFFFFFFF   reserved (BIOS ROM)
 */
uint32_t bootload_qemu_mmap(uint64_t ram, struct boot_mmap_entry *map);

/* Who made the entry's control-register writes, in their events' chains. */
#define BOOTLOAD_ENTRY_NAME "boot entry"

struct bootload_config {
    const char *strategy;    /* paging strategy (vmm_find) */
    const char *pmm;         /* frame allocator (pmm_find) */
    uint32_t cr4;            /* CR4 bits the entry sets before paging: CR4_PSE, CR4_PGE */
    const struct wl_op *ops; /* the workload; NULL: an empty list */
    uint32_t nops;
    uint32_t max_ops; /* ops the workload may execute (wl_header); 0: no limit */
    uint32_t flags;  /* KMOD_FLAG_* bits (kernel/module.h) */
    uint32_t inject; /* enum kmod_inject, for the metal kernel (the simulator ignores it) */
    /* Another kind of module, written as is instead of the workload module
     * of the fields above: a probe request (kernel/hwprobe.h). */
    const void *module;
    uint32_t module_len;
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

/* The size in bytes of the module (kernel/module.h) that carries cfg. */
size_t bootload_module_size(const struct bootload_config *cfg);

/* Writes that module into buf (bootload_module_size bytes).  Returns false
 * with a message in err if a name does not fit the format. */
bool bootload_module_write(const struct bootload_config *cfg, void *buf, char *err, size_t errlen);

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

/*
 * Prepares the machine with cfg (whose module is a probe request) and
 * runs hwprobe_main inside sim_run; the kernel's verdict on the request in
 * *probe.  Returns BOOTLOAD_OK if hwprobe_main returned (whatever *probe
 * says), BOOTLOAD_SETUP_FAILED (why in err) or BOOTLOAD_STOPPED.
 */
enum bootload_status bootload_probe(struct sim *s, const struct bootload_config *cfg,
                                    enum hwprobe_status *probe, char *err, size_t errlen);

#endif

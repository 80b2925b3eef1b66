/*
 * module.h - the boot module that carries a workload to the kernel, the
 * same bytes on both builds: the simulator's loader writes it into RAM, and
 * `pagesim boot` hands it to QEMU or GRUB as a Multiboot module.  All
 * fields are 32-bit little-endian words or byte strings.
 *
 *   offset  size  field
 *        0     4  magic    KMOD_MAGIC ("PGSM")
 *        4     4  version  KMOD_VERSION
 *        8     4  length   bytes of the whole module, this header included
 *       12     4  cr4      CR4 bits the kernel sets before booting: PSE (0x10), PGE (0x80)
 *       16     4  inject   KMOD_INJECT_*: a deliberate kernel bug, to test the fault path
 *       20     4  flags    KMOD_FLAG_* bits: machine settings for the kernel
 *       24    32  strategy paging strategy name, NUL-terminated (vmm.h)
 *       56    32  pmm      frame allocator name, NUL-terminated (pmm.h)
 *       88     -  the workload: struct wl_header, then its ops (workload.h),
 *                 to the end of the module
 *
 * The kernel rejects a module whose magic, version or length is wrong, whose
 * names are not terminated, or whose workload does not fill it exactly.  A
 * module whose magic is HWPROBE_MAGIC is a probe request instead
 * (kernel/hwprobe.h).
 */
#ifndef PAGESIM_MODULE_H
#define PAGESIM_MODULE_H

#include <stdint.h>

#include "kernel/workload.h"
#include "mmu/x86.h"

#define KMOD_MAGIC 0x4D534750u /* "PGSM" */
#define KMOD_VERSION 2u
#define KMOD_NAME_MAX 32u
#define KMOD_CR4_BITS (CR4_PSE | CR4_PGE)
/* The early mapping of the kernel half in 4 MiB pages (vmm_set_kernel4m). */
#define KMOD_FLAG_KERNEL4M 0x1u
#define KMOD_FLAGS (KMOD_FLAG_KERNEL4M)

/* Deliberate kernel bugs (the metal kernel acts on them after boot; the
 * simulator ignores them). */
enum kmod_inject {
    KMOD_INJECT_NONE = 0,
    KMOD_INJECT_WILD_POINTER = 1, /* a kernel write through a wild pointer */
    KMOD_INJECT_TRIPLE_FAULT = 2, /* an exception with no IDT: the machine resets */
    KMOD_INJECT_HANG = 3,         /* stop forever without a word */
    KMOD_INJECT_NOISE = 4,        /* a line on COM1 that is no report line */
    KMOD_INJECT_GP = 5,           /* a general-protection fault (a selector past the GDT) */
    KMOD_INJECT_DOUBLE_FAULT = 6, /* an exception with the stack pointer on an unmapped page */
    KMOD_NINJECT
};

struct kmod_header {
    uint32_t magic;
    uint32_t version;
    uint32_t length;
    uint32_t cr4;
    uint32_t inject;
    uint32_t flags;
    char strategy[KMOD_NAME_MAX];
    char pmm[KMOD_NAME_MAX];
    /* struct wl_header and its ops follow */
};

enum kmod_status {
    KMOD_OK = 0,
    KMOD_TOO_SHORT,    /* smaller than its header */
    KMOD_BAD_MAGIC,    /* not a pagesim module */
    KMOD_BAD_VERSION,  /* written for another version of the format */
    KMOD_BAD_LENGTH,   /* its length field is not the size the loader gave */
    KMOD_BAD_FIELD,    /* unknown CR4, inject or flags value, or a name not terminated */
    KMOD_BAD_WORKLOAD, /* the workload header or its op count does not fill the module */
};

/* Returns a short constant description of st. */
const char *kmod_strerror(enum kmod_status st);

/* What the kernel takes from a valid module. */
struct kmod_info {
    uint32_t cr4;
    uint32_t inject;
    uint32_t flags;
    char strategy[KMOD_NAME_MAX];
    char pmm[KMOD_NAME_MAX];
    const struct wl_header *workload; /* inside the module */
};

/*
 * Checks the module of `len` bytes at kernel virtual address va and copies
 * its settings into *info.  Returns KMOD_OK, or why the module is rejected
 * (info is then undefined).
 */
enum kmod_status kmod_open(vaddr_t va, uint32_t len, struct kmod_info *info);

/*
 * How the bare-metal kernel leaves QEMU: the value it writes to the
 * isa-debug-exit port (QEMU then exits with status value * 2 + 1).  Values
 * start at 0x10 so that no status can be mistaken for QEMU's own 0
 * (shutdown, or reset with -no-reboot) or 1 (QEMU failed).
 */
enum kmod_exit {
    KMOD_EXIT_PASS = 0x10,       /* boot and workload ran to the end */
    KMOD_EXIT_INCOMPLETE = 0x11, /* boot failed or the kernel refused an op */
    KMOD_EXIT_PANIC = 0x12,      /* panic, unhandled fault or exception */
    KMOD_EXIT_BAD_MODULE = 0x13, /* no module, or a malformed one */
};
#define KMOD_EXIT_PORT 0xF4u

#endif

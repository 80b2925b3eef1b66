/*
 * workload.h - the op list a scenario compiles to, and the executor that
 * runs it in the kernel over the chosen paging strategy.  The list lives in
 * memory the kernel can read (a boot module); every field is 32 bits so
 * the layout is the same on the 64-bit host and the i386 kernel.
 */
#ifndef PAGESIM_WORKLOAD_H
#define PAGESIM_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/x86.h"

#define WL_MAGIC 0x4C57534Du   /* "MSWL" */
#define WL_MAX_SPACES 1024u    /* address-space slots */
#define WL_MAX_ALLOCS 4096u    /* kmalloc handle slots */
#define WL_MAX_DEPTH 8u        /* nested repeat blocks */
#define WL_CURRENT 0xFFFFFFFFu /* "the current space" in a space field */

/* Flags of WL_MAP (a subset of PTE bits) and WL_TOUCH. */
#define WL_MAP_WRITE PTE_W
#define WL_MAP_USER PTE_U
#define WL_MAP_GLOBAL PTE_G
#define WL_TOUCH_WRITE 1u
#define WL_TOUCH_USER 2u

enum wl_opcode {
    WL_END = 0,
    WL_SPACE_CREATE,  /* a = slot */
    WL_SPACE_DESTROY, /* a = slot (frames of its mappings go back to the PMM) */
    WL_SPACE_SWITCH,  /* a = slot */
    WL_SPACE_FORK,    /* a = new slot, b = source slot: copies every user mapping
                         into fresh frames (eager copy, as xv6's copyuvm) */
    WL_MAP,           /* a = slot or WL_CURRENT, b = va, c = bytes, d = WL_MAP_* flags;
                         fresh frames */
    WL_UNMAP,         /* a = slot or WL_CURRENT, b = va, c = bytes; frees the frames */
    WL_TOUCH,         /* a = WL_TOUCH_* flags, b = va, c = bytes, d = stride (0: 4096);
                         one 4-byte access every stride bytes, current space */
    WL_KMALLOC,       /* a = handle, b = bytes, c = 1 if page-aligned */
    WL_KFREE,         /* a = handle */
    WL_REPEAT,        /* a = count; ops up to the matching WL_REPEAT_END */
    WL_REPEAT_END,
    WL_MARK, /* a = mark id: arch_mark(a) (snapshots and expectations) */
    WL_NOPS
};

struct wl_op {
    uint32_t op;
    uint32_t a, b, c, d;
    uint32_t line; /* scenario line, for error reports */
};

struct wl_header {
    uint32_t magic;
    uint32_t nops;
    /* struct wl_op ops[nops] follows */
};

enum wl_status {
    WL_OK = 0,
    WL_BAD_LIST,  /* bad magic, unknown opcode, unbalanced repeat */
    WL_BAD_SLOT,  /* slot or handle number out of range */
    WL_NO_MEMORY, /* frames, heap or page tables exhausted */
    WL_BAD_RANGE, /* not page-aligned, or outside user space */
    WL_FAILED,    /* the strategy or heap refused (its error is logged) */
    WL_SLOT_USED, /* space create/fork into a slot whose space is live */
    WL_NO_SPACE,  /* the slot's space was never created */
    WL_DESTROYED, /* the slot's space was destroyed */
    WL_ALLOCATED, /* kmalloc on a handle whose allocation is live */
    WL_NO_ALLOC,  /* kfree of a handle never allocated */
    WL_FREED,     /* kfree of a handle already freed */
    WL_MAPPED,    /* map: a page of the range is mapped already */
};
const char *wl_strerror(enum wl_status st);

/* wl_error.object of an error about no slot or handle (or about the
 * current space when no slot holds it). */
#define WL_NO_OBJECT 0xFFFFFFFFu

/* Where execution stopped: the op index, its scenario line, and the slot
 * or handle the error is about. */
struct wl_error {
    enum wl_status status;
    uint32_t op_index;
    uint32_t line;
    uint32_t object;
};

/* The address of the op being executed (0 before the first): where a run
 * that stopped inside an op was.  Reading it costs no simulated access. */
vaddr_t wl_current_op(void);

/* Forgets where the previous run was (a loader calls it before booting). */
void wl_reset(void);

/* The vmm handle of a live slot in *space; false if the slot is unused. */
bool wl_slot_space(uint32_t slot, uint32_t *space);

/* Runs the list at hdr (kernel virtual address) to its end or first error. */
enum wl_status wl_execute(const struct wl_header *hdr, struct wl_error *err);

#endif

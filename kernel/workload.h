/*
 * workload.h - the op list a scenario compiles to, and the executor that
 * runs it in the kernel over the chosen paging strategy.  The list arrives
 * as a boot module; the executor copies it once into kernel data and runs
 * the copy.  Every field is 32 bits so the layout is the same on the
 * 64-bit host and the i386 kernel.
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
#define WL_MAX_OPS 65536u      /* ops a list holds besides its WL_END (the kernel copies it) */

/* Mark ids above a scenario's own (which count up from 0). */
#define WL_MARK_WORKLOAD 0xFFFFFFFFu /* the workload starts: everything before is boot */
#define WL_MARK_PROGRESS 0xFFFFFFFEu /* every WL_PROGRESS_OPS executed ops */
#define WL_PROGRESS_OPS 65536u       /* a power of two */

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

/*
 * struct wl_op.op holds the opcode in its low 8 bits and, above them, a
 * loop index to add to a slot or handle operand: the a operand of the
 * space ops, WL_MAP, WL_UNMAP, WL_KMALLOC and WL_KFREE, and the source (b)
 * of WL_SPACE_FORK.  WL_LOOP_I adds the pass (0 first) of the innermost
 * enclosing repeat block, WL_LOOP_J that of the block around it.  So one op
 * in a repeat of N passes works on N consecutive slots.
 */
#define WL_LOOP_I 1u
#define WL_LOOP_J 2u
#define WL_LOOP_MASK 3u /* the bits of a loop field (all set: no loop) */
#define WL_OPCODE(op) ((op)&0xFFu)
#define WL_A_LOOP(loop) ((uint32_t)(loop) << 8)  /* WL_LOOP_* added to a */
#define WL_B_LOOP(loop) ((uint32_t)(loop) << 10) /* WL_LOOP_* added to b */
#define WL_A_LOOP_OF(op) (((op) >> 8) & WL_LOOP_MASK)
#define WL_B_LOOP_OF(op) (((op) >> 10) & WL_LOOP_MASK)

struct wl_op {
    uint32_t op;
    uint32_t a, b, c, d;
    uint32_t line; /* scenario line, for error reports */
};

/* A struct wl_op written by hand (a test's op list): its line is the line
 * of the source it is written on, so an error report points there. */
#define WL_OP(o, a_, b_, c_, d_)                                                                   \
    {                                                                                              \
        (o), (a_), (b_), (c_), (d_), __LINE__                                                      \
    }

struct wl_header {
    uint32_t magic;
    uint32_t nops;    /* at most WL_MAX_OPS + 1 (a final WL_END) */
    uint32_t max_ops; /* ops the run may execute (repeat, end and marks not
                         counted); 0: no limit */
    /* struct wl_op ops[nops] follows */
};

enum wl_status {
    WL_OK = 0,
    WL_BAD_LIST,  /* bad magic, too long, unknown opcode, unbalanced, empty or
                     zero-count repeat, a loop index where none applies */
    WL_BAD_SLOT,  /* slot or handle number out of range */
    WL_NO_MEMORY, /* frames, heap or page tables exhausted */
    WL_BAD_RANGE, /* not page-aligned, or outside user space */
    WL_FAILED,    /* the strategy or heap refused (its error is logged) */
    WL_LIMIT,     /* the op would pass the header's max_ops */
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

/* The ops executed so far in this run, as max_ops counts them. */
uint64_t wl_executed(void);

/* Publishes the kernel's figures (kfig_publish) and the live slots' spaces
 * (arch_space, id = slot): done before each mark; a loader calls it when
 * a run ends. */
void wl_publish(void);

/* Forgets the previous run's executed-op count (a loader calls it before
 * booting). */
void wl_reset(void);

/* The vmm handle of a live slot in *space; false if the slot is unused. */
bool wl_slot_space(uint32_t slot, uint32_t *space);

/*
 * Copies the list at hdr (kernel virtual address) into kernel data,
 * validates it, marks WL_MARK_WORKLOAD, then runs the copy to its end, its
 * first error or its op limit.  Every WL_PROGRESS_OPS executed ops it marks
 * WL_MARK_PROGRESS.
 */
enum wl_status wl_execute(const struct wl_header *hdr, struct wl_error *err);

#endif

/*
 * workload.c - the executor of workload.h: copies an op list out of a boot
 * module into kernel data and runs it over the paging strategy in use,
 * keeping the scenario's address space slots and kmalloc handles in kernel
 * data.
 */
#include "kernel/workload.h"

#include <stdbool.h>
#include <stddef.h>

#include "allocators/heap.h"
#include "allocators/vmm.h"
#include "kernel/arch.h"
#include "kernel/figures.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

static struct wl_op wl_ops[WL_MAX_OPS + 1]; /* the module's list, copied (+ WL_END) */
static uint32_t wl_spaces[WL_MAX_SPACES];   /* vmm handle + 1; 0: never used; WL_GONE: destroyed */
static vaddr_t wl_allocs[WL_MAX_ALLOCS];    /* kmalloc'ed address; 0: never used; WL_GONE: freed */
#define WL_GONE 0xFFFFFFFFu /* neither a vmm handle + 1 nor a (16-byte aligned) heap address */
static uint64_t wl_done;    /* ops executed (max_ops counts them) */

struct wl_repeat {
    uint32_t start; /* first op of the block */
    uint32_t count; /* passes in all */
    uint32_t left;  /* passes still to run, this one included */
};

const char *
wl_strerror(enum wl_status st)
{
    switch (st) {
    case WL_OK:
        return "ok";
    case WL_BAD_LIST:
        return "malformed op list";
    case WL_BAD_SLOT:
        return "address-space slot or kmalloc handle out of range";
    case WL_NO_MEMORY:
        return "out of memory";
    case WL_BAD_RANGE:
        return "range not page-aligned or outside user space";
    case WL_FAILED:
        return "the kernel refused (see its log)";
    case WL_SLOT_USED:
        return "the address space exists already";
    case WL_NO_SPACE:
        return "the address space was never created";
    case WL_DESTROYED:
        return "the address space was destroyed";
    case WL_ALLOCATED:
        return "the allocation exists already (no kfree since its kmalloc)";
    case WL_NO_ALLOC:
        return "the allocation was never made";
    case WL_FREED:
        return "the allocation was freed already";
    case WL_MAPPED:
        return "a page of the range is mapped already";
    case WL_LIMIT:
        return "the limit on executed operations was reached";
    }
    return "unknown workload status";
}

/* Ops that do work (max_ops counts them): all but flow control and marks. */
static bool
wl_counted(uint32_t code)
{
    return code != WL_END && code != WL_REPEAT && code != WL_REPEAT_END && code != WL_MARK;
}

/* Whether an op's loop indexes are allowed: a loop that encloses it, on a
 * slot or handle operand with room for the index to be added. */
static bool
wl_loops_valid(const struct wl_op *o, uint32_t depth)
{
    uint32_t code = WL_OPCODE(o->op), la = WL_A_LOOP_OF(o->op), lb = WL_B_LOOP_OF(o->op);
    uint32_t known = WL_OPCODE(~0u) | WL_A_LOOP(WL_LOOP_MASK) | WL_B_LOOP(WL_LOOP_MASK);
    if ((o->op & ~known) != 0 || la > depth || lb > depth || la == WL_LOOP_MASK ||
        lb == WL_LOOP_MASK)
        return false;
    if (lb != 0 && (code != WL_SPACE_FORK || o->b >= WL_MAX_SPACES))
        return false;
    if (la == 0)
        return true;
    switch (code) {
    case WL_SPACE_CREATE:
    case WL_SPACE_DESTROY:
    case WL_SPACE_SWITCH:
    case WL_SPACE_FORK:
    case WL_MAP:
    case WL_UNMAP:
        return o->a < WL_MAX_SPACES;
    case WL_KMALLOC:
    case WL_KFREE:
        return o->a < WL_MAX_ALLOCS;
    default:
        return false;
    }
}

/*
 * Checks opcodes and loop indexes, and that repeat blocks nest, close, run
 * at least once and each do work (so that max_ops bounds every run: a block
 * run 0 times would count nothing for the block around it).
 */
static enum wl_status
wl_validate(const struct wl_op *ops, uint32_t nops, uint32_t *bad)
{
    bool work[WL_MAX_DEPTH + 1];
    uint32_t depth = 0;
    work[0] = false;
    for (uint32_t i = 0; i < nops; i++) {
        uint32_t code = WL_OPCODE(ops[i].op);
        *bad = i;
        if (code >= WL_NOPS || !wl_loops_valid(&ops[i], depth))
            return WL_BAD_LIST;
        if (code == WL_REPEAT) {
            if (ops[i].a == 0 || ++depth > WL_MAX_DEPTH)
                return WL_BAD_LIST;
            work[depth] = false;
        } else if (code == WL_REPEAT_END) {
            if (depth == 0 || !work[depth])
                return WL_BAD_LIST;
            work[--depth] = true;
        } else if (wl_counted(code)) {
            work[depth] = true;
        }
        if (code == WL_END)
            break;
    }
    return depth == 0 ? WL_OK : WL_BAD_LIST;
}

/* The executor's status for what the vmm call `call` on vmm space `space`
 * returned; a refusal is logged in the vmm's own words. */
static enum wl_status
wl_from_vmm(enum vmm_status st, const char *call, uint32_t space)
{
    if (st != VMM_OK)
        kprintf("workload: %s (vmm space %u): %s", call, space, vmm_strerror(st));
    switch (st) {
    case VMM_OK:
        return WL_OK;
    case VMM_NO_MEMORY:
    case VMM_TOO_MANY:
        return WL_NO_MEMORY;
    case VMM_BAD_RANGE:
        return WL_BAD_RANGE;
    case VMM_BAD_SPACE:
        return WL_BAD_SLOT;
    case VMM_ALREADY_MAPPED:
        return WL_MAPPED;
    default:
        return WL_FAILED;
    }
}

/* The vmm handle of slot (WL_CURRENT allowed if current_ok), or why there is none. */
static enum wl_status
wl_space(uint32_t slot, bool current_ok, uint32_t *space)
{
    if (slot == WL_CURRENT && current_ok) {
        *space = vmm_current();
        return WL_OK;
    }
    if (slot >= WL_MAX_SPACES)
        return WL_BAD_SLOT;
    if (wl_spaces[slot] == 0)
        return WL_NO_SPACE;
    if (wl_spaces[slot] == WL_GONE)
        return WL_DESTROYED;
    *space = wl_spaces[slot] - 1;
    return WL_OK;
}

void
wl_reset(void)
{
    wl_done = 0;
}

uint64_t
wl_executed(void)
{
    return wl_done;
}

bool
wl_slot_space(uint32_t slot, uint32_t *space)
{
    return wl_space(slot, false, space) == WL_OK;
}

/* What a failed op was about (wl_error.object): its slot or handle, from
 * its opcode and its a and b fields with loop indexes applied. */
static uint32_t
wl_object(uint32_t code, uint32_t a, uint32_t b, enum wl_status st)
{
    switch (code) {
    case WL_SPACE_FORK:
        return st == WL_NO_SPACE || st == WL_DESTROYED ? b : a;
    case WL_MAP:
    case WL_UNMAP:
        if (a != WL_CURRENT)
            return a;
        for (uint32_t slot = 0; slot < WL_MAX_SPACES; slot++)
            if (wl_spaces[slot] == vmm_current() + 1)
                return slot;
        return WL_NO_OBJECT;
    case WL_TOUCH:
    case WL_MARK:
        return WL_NO_OBJECT;
    default:
        return a;
    }
}

/* A user range: page-aligned, not empty, below KERNEL_BASE. */
static bool
wl_user_range(vaddr_t va, uint32_t bytes)
{
    return bytes != 0 && PGOFF(va) == 0 && PGOFF(bytes) == 0 && va < KERNEL_BASE &&
           bytes <= KERNEL_BASE - va;
}

static void
wl_touch(uint32_t flags, vaddr_t va, uint32_t bytes, uint32_t stride)
{
    if (stride == 0)
        stride = PAGE_SIZE;
    for (uint32_t off = 0; off < bytes; off += stride) {
        vaddr_t v = va + off;
        if (flags & WL_TOUCH_USER) {
            if (flags & WL_TOUCH_WRITE)
                arch_user_write(v, 4, v);
            else
                (void)arch_user_read(v, 4);
        } else {
            volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)v;
            if (flags & WL_TOUCH_WRITE)
                *p = v;
            else
                (void)*p;
        }
        if (stride > bytes - off)
            break;
    }
}

void
wl_publish(void)
{
    kfig_publish();
    uint32_t cur = vmm_current();
    for (uint32_t slot = 0; slot < WL_MAX_SPACES; slot++) {
        uint32_t h;
        const struct vmm_space *vs;
        if (wl_space(slot, false, &h) == WL_OK && (vs = vmm_space_info(h)) != NULL)
            arch_space(slot, vs->vs_pd_pa, h == cur);
    }
}

static enum wl_status
wl_op_space(uint32_t op, uint32_t a, uint32_t b)
{
    uint32_t space, src;
    enum vmm_status st;
    switch (op) {
    case WL_SPACE_CREATE:
    case WL_SPACE_FORK:
        if (a >= WL_MAX_SPACES)
            return WL_BAD_SLOT;
        if (wl_spaces[a] != 0 && wl_spaces[a] != WL_GONE)
            return WL_SLOT_USED;
        if (op == WL_SPACE_FORK) {
            enum wl_status ws = wl_space(b, true, &src);
            if (ws != WL_OK)
                return ws;
            st = vmm_space_fork(src, &space);
            if (st != VMM_OK)
                return wl_from_vmm(st, "vmm_space_fork", src);
        } else {
            st = vmm_space_create(&space);
            if (st != VMM_OK)
                return wl_from_vmm(st, "vmm_space_create", VMM_KERNEL_SPACE);
        }
        wl_spaces[a] = space + 1;
        return WL_OK;
    case WL_SPACE_DESTROY: {
        enum wl_status ws = wl_space(a, false, &space);
        if (ws != WL_OK)
            return ws;
        /* A process that exits runs on the kernel's directory while its own goes. */
        if (space == vmm_current()) {
            st = vmm_space_switch(VMM_KERNEL_SPACE);
            if (st != VMM_OK)
                return wl_from_vmm(st, "vmm_space_switch", VMM_KERNEL_SPACE);
        }
        st = vmm_space_destroy(space);
        if (st == VMM_OK)
            wl_spaces[a] = WL_GONE;
        return wl_from_vmm(st, "vmm_space_destroy", space);
    }
    default: { /* WL_SPACE_SWITCH */
        enum wl_status ws = wl_space(a, false, &space);
        if (ws != WL_OK)
            return ws;
        return wl_from_vmm(vmm_space_switch(space), "vmm_space_switch", space);
    }
    }
}

static enum wl_status
wl_op_alloc(uint32_t op, uint32_t a, uint32_t b, uint32_t c)
{
    if (a >= WL_MAX_ALLOCS)
        return WL_BAD_SLOT;
    if (op == WL_KMALLOC) {
        if (wl_allocs[a] != 0 && wl_allocs[a] != WL_GONE)
            return WL_ALLOCATED;
        void *p = c ? kmalloc_aligned(b) : kmalloc(b);
        if (p == NULL) {
            kprintf("workload: %s(%u): no memory", c ? "kmalloc_aligned" : "kmalloc", b);
            return WL_NO_MEMORY;
        }
        wl_allocs[a] = (vaddr_t)(uintptr_t)p;
        return WL_OK;
    }
    if (wl_allocs[a] == 0)
        return WL_NO_ALLOC;
    if (wl_allocs[a] == WL_GONE)
        return WL_FREED;
    vaddr_t p = wl_allocs[a];
    enum heap_status hs = kfree((void *)(uintptr_t)p);
    wl_allocs[a] = WL_GONE;
    if (hs != HEAP_OK) {
        kprintf("workload: kfree(0x%08x): %s", p, heap_strerror(hs));
        return WL_FAILED;
    }
    return WL_OK;
}

/* Runs one op that is not flow control, with a and b resolved. */
static enum wl_status
wl_op(const struct wl_op *o, uint32_t a, uint32_t b)
{
    uint32_t op = WL_OPCODE(o->op), c = o->c;
    uint32_t space;
    switch (op) {
    case WL_SPACE_CREATE:
    case WL_SPACE_DESTROY:
    case WL_SPACE_SWITCH:
    case WL_SPACE_FORK:
        return wl_op_space(op, a, b);
    case WL_MAP:
    case WL_UNMAP: {
        enum wl_status ws = wl_space(a, true, &space);
        if (ws != WL_OK)
            return ws;
        if (!wl_user_range(b, c))
            return WL_BAD_RANGE;
        if (op == WL_MAP)
            return wl_from_vmm(vmm_map_range(space, b, c, o->d & VMM_MAP_FLAGS), "vmm_map_range",
                               space);
        return wl_from_vmm(vmm_unmap_range(space, b, c), "vmm_unmap_range", space);
    }
    case WL_TOUCH:
        wl_touch(a, b, c, o->d);
        return WL_OK;
    case WL_KMALLOC:
    case WL_KFREE:
        return wl_op_alloc(op, a, b, c);
    default: /* WL_MARK */
        wl_publish();
        arch_mark(a);
        return WL_OK;
    }
}

/* The pass (0 first) of the repeat block `loop` levels out (WL_LOOP_*), 0
 * for none.  wl_validate made sure the block exists. */
static uint32_t
wl_pass(const struct wl_repeat *rep, uint32_t depth, uint32_t loop)
{
    if (loop == 0)
        return 0;
    const struct wl_repeat *r = &rep[depth - loop];
    return r->count - r->left;
}

enum wl_status
wl_execute(const struct wl_header *hdr, struct wl_error *err)
{
    struct wl_repeat rep[WL_MAX_DEPTH];
    uint32_t depth = 0, i = 0;
    enum wl_status st = WL_OK;
    memset(wl_spaces, 0, sizeof(wl_spaces));
    memset(wl_allocs, 0, sizeof(wl_allocs));
    arch_at(0);
    wl_done = 0;
    uint32_t nops = hdr->nops, max_ops = hdr->max_ops;
    const struct wl_op *ops = wl_ops;
    if (hdr->magic != WL_MAGIC || nops > WL_MAX_OPS + 1) {
        st = WL_BAD_LIST;
        nops = 0;
    } else {
        /* From here the list is kernel data: running it reads no module. */
        memcpy(wl_ops, hdr + 1, nops * sizeof(struct wl_op));
        uint32_t bad = 0;
        st = wl_validate(ops, nops, &bad);
        if (st != WL_OK)
            i = bad;
        else {
            wl_publish();
            arch_mark(WL_MARK_WORKLOAD);
        }
    }
    while (st == WL_OK && i < nops) {
        const struct wl_op *o = &ops[i];
        uint32_t code = WL_OPCODE(o->op);
        if (code == WL_END)
            break;
        if (code == WL_REPEAT) {
            uint32_t count = o->a; /* not 0: wl_validate */
            rep[depth].start = i + 1;
            rep[depth].count = count;
            rep[depth].left = count;
            depth++;
            i++;
            continue;
        }
        if (code == WL_REPEAT_END) {
            if (--rep[depth - 1].left > 0) {
                i = rep[depth - 1].start;
            } else {
                depth--;
                i++;
            }
            continue;
        }
        bool counted = wl_counted(code);
        if (counted && max_ops != 0 && wl_done >= max_ops) {
            st = WL_LIMIT;
            break;
        }
        arch_at(i + 1); /* the op being executed, as its index + 1 */
        st = wl_op(o, o->a + wl_pass(rep, depth, WL_A_LOOP_OF(o->op)),
                   o->b + wl_pass(rep, depth, WL_B_LOOP_OF(o->op)));
        if (st != WL_OK)
            break;
        i++;
        if (counted && (++wl_done & (WL_PROGRESS_OPS - 1)) == 0) {
            arch_figure("wl.executed", (uint32_t)wl_done);
            arch_mark(WL_MARK_PROGRESS);
        }
    }
    if (err != NULL) {
        err->status = st;
        err->op_index = i;
        err->line = (st == WL_OK || i >= nops) ? 0 : ops[i].line;
        err->object = WL_NO_OBJECT;
        if (st != WL_OK && st != WL_LIMIT && st != WL_BAD_LIST && i < nops)
            err->object = wl_object(WL_OPCODE(ops[i].op),
                                    ops[i].a + wl_pass(rep, depth, WL_A_LOOP_OF(ops[i].op)),
                                    ops[i].b + wl_pass(rep, depth, WL_B_LOOP_OF(ops[i].op)), st);
    }
    return st;
}

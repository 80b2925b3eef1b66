/*
 * vmm.c - the public layer of vmm.h: the strategy in use and its boot, the
 * table of address spaces and its accounting, range checks, fresh frames
 * from the PMM, and fork.  The walker, the kernel half, the TLB wrappers and
 * the window are in vmm_walk.c, vmm_boot.c, vmm_tlb.c and vmm_window.c.
 */
#include "allocators/vmm.h"

#include <stddef.h>

#include "allocators/pmm.h"
#include "allocators/vmm_impl.h"
#include "allocators/vmm_strategy.h"
#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

static const struct vmm_ops *vmm_ops_cur;
static struct vmm_space vmm_spaces[VMM_MAX_SPACES];
static uint32_t vmm_cur;
/* Free handles: bit h of vmm_free_map; bit w of vmm_free_sum if word w of
 * vmm_free_map has one, so the lowest free handle takes two ctz. */
#define VMM_MAP_WORDS ((VMM_MAX_SPACES + 31) / 32)
static uint32_t vmm_free_map[VMM_MAP_WORDS];
static uint32_t vmm_free_sum[(VMM_MAP_WORDS + 31) / 32];
static uint32_t vmm_kglobal; /* vmm_kernel_global() */

struct vmm_stats vmm_ctr;

const char *
vmm_strerror(enum vmm_status st)
{
    switch (st) {
    case VMM_OK:
        return "ok";
    case VMM_NO_MEMORY:
        return "out of memory for paging structures or frames";
    case VMM_BAD_SPACE:
        return "no such address space";
    case VMM_TOO_MANY:
        return "every address-space handle is in use";
    case VMM_BAD_RANGE:
        return "range not page-aligned, empty, or outside user space and the kernel heaps";
    case VMM_ALREADY_MAPPED:
        return "page already mapped";
    case VMM_NOT_MAPPED:
        return "page not mapped";
    case VMM_BUSY:
        return "address space is current or the kernel's own";
    case VMM_UNREACHABLE:
        return "frame beyond the strategy's reach";
    case VMM_NOT_READY:
        return "paging strategy not booted";
    }
    return "unknown vmm status";
}

const struct vmm_ops *
vmm_strategy(void)
{
    return vmm_ops_cur;
}

/* Marks the handle h free or in use. */
static void
vmm_handle_mark(uint32_t h, bool free)
{
    uint32_t w = h / 32;
    if (free)
        vmm_free_map[w] |= 1u << (h % 32);
    else
        vmm_free_map[w] &= ~(1u << (h % 32));
    if (vmm_free_map[w] != 0)
        vmm_free_sum[w / 32] |= 1u << (w % 32);
    else
        vmm_free_sum[w / 32] &= ~(1u << (w % 32));
}

/* The lowest free handle; VMM_MAX_SPACES if none. */
static uint32_t
vmm_handle_lowest_free(void)
{
    for (uint32_t s = 0; s < sizeof(vmm_free_sum) / sizeof(vmm_free_sum[0]); s++) {
        if (vmm_free_sum[s] == 0)
            continue;
        uint32_t w = s * 32 + (uint32_t)__builtin_ctz(vmm_free_sum[s]);
        return w * 32 + (uint32_t)__builtin_ctz(vmm_free_map[w]);
    }
    return VMM_MAX_SPACES;
}

/* ---- for the strategies ---- */

struct vmm_space *
vmm_space_at(uint32_t space)
{
    if (vmm_ops_cur == NULL || space >= VMM_MAX_SPACES || !vmm_spaces[space].vs_used)
        return NULL;
    return &vmm_spaces[space];
}

uint32_t
vmm_handle(const struct vmm_space *sp)
{
    return (uint32_t)(sp - vmm_spaces);
}

bool
vmm_is_current(const struct vmm_space *sp)
{
    return vmm_handle(sp) == vmm_cur;
}

/* Takes sp off the list of spaces aiming at its vs_foreign. */
static void
vmm_aim_unlink(struct vmm_space *sp)
{
    if (sp->vs_foreign == VMM_MAX_SPACES)
        return;
    if (sp->vs_aim_prev != VMM_MAX_SPACES)
        vmm_spaces[sp->vs_aim_prev].vs_aim_next = sp->vs_aim_next;
    else
        vmm_spaces[sp->vs_foreign].vs_aimers = sp->vs_aim_next;
    if (sp->vs_aim_next != VMM_MAX_SPACES)
        vmm_spaces[sp->vs_aim_next].vs_aim_prev = sp->vs_aim_prev;
    sp->vs_foreign = VMM_MAX_SPACES;
}

void
vmm_set_foreign(struct vmm_space *sp, uint32_t target)
{
    vmm_aim_unlink(sp);
    if (target >= VMM_MAX_SPACES)
        return;
    struct vmm_space *t = &vmm_spaces[target];
    uint32_t h = vmm_handle(sp);
    sp->vs_foreign = target;
    sp->vs_aim_prev = VMM_MAX_SPACES;
    sp->vs_aim_next = t->vs_aimers;
    if (t->vs_aimers != VMM_MAX_SPACES)
        vmm_spaces[t->vs_aimers].vs_aim_prev = h;
    t->vs_aimers = h;
}

/* A fresh record for a space in use. */
static void
vmm_space_reset(struct vmm_space *sp)
{
    memset(sp, 0, sizeof(*sp));
    sp->vs_used = true;
    sp->vs_foreign = VMM_MAX_SPACES;
    sp->vs_aimers = VMM_MAX_SPACES;
}

uint32_t
vmm_kernel_global(void)
{
    return vmm_kglobal;
}

/* ---- the public layer ---- */

enum vmm_status
vmm_boot(const struct vmm_ops *ops, uint32_t ram_frames, uint32_t unreachable_frames)
{
    if (ops == NULL)
        return VMM_NOT_READY;
    memset(vmm_spaces, 0, sizeof(vmm_spaces));
    memset(vmm_free_map, 0, sizeof(vmm_free_map));
    memset(vmm_free_sum, 0, sizeof(vmm_free_sum));
    for (uint32_t h = VMM_KERNEL_SPACE + 1; h < VMM_MAX_SPACES; h++)
        vmm_handle_mark(h, true);
    memset(&vmm_ctr, 0, sizeof(vmm_ctr));
    vmm_cur = VMM_KERNEL_SPACE;
    vmm_ops_cur = ops;
    vmm_kglobal = (arch_read_cr4() & CR4_PGE) ? PTE_G : 0;
    struct vmm_space *ks = &vmm_spaces[VMM_KERNEL_SPACE];
    vmm_space_reset(ks);
    enum vmm_status st = vmm_boot_directory();
    if (st == VMM_OK) {
        ks->vs_pd_pa = vmm_kernel_pd();
        st = ops->boot(ks, ram_frames);
    }
    if (st != VMM_OK) {
        vmm_ops_cur = NULL;
        return st;
    }
    vmm_load_cr3(ks->vs_pd_pa);
    vmm_ctr.spaces = 1;
    vmm_ctr.reach_frames = ops->reach_frames;
    vmm_ctr.unreachable_frames = unreachable_frames;
    return VMM_OK;
}

uint32_t
vmm_current(void)
{
    return vmm_cur;
}

const struct vmm_space *
vmm_space_info(uint32_t space)
{
    return vmm_space_at(space);
}

/* Empty, unaligned, wrapping, or neither all user nor all kernel heaps. */
static enum vmm_status
vmm_check_range(vaddr_t va, uint32_t bytes)
{
    if (bytes == 0 || PGOFF(va) != 0 || PGOFF(bytes) != 0)
        return VMM_BAD_RANGE;
    vaddr_t last = va + (bytes - 1);
    if (last < va)
        return VMM_BAD_RANGE;
    if (last < KERNEL_BASE)
        return VMM_OK;
    if (va >= KHEAP_START && last < PAGEHEAP_END)
        return VMM_OK;
    return VMM_BAD_RANGE;
}

/* The record of space in *sp: VMM_NOT_READY before vmm_boot, VMM_BAD_SPACE
 * if the handle is not in use. */
static enum vmm_status
vmm_lookup(uint32_t space, struct vmm_space **sp)
{
    *sp = vmm_space_at(space);
    if (*sp == NULL)
        return vmm_ops_cur == NULL ? VMM_NOT_READY : VMM_BAD_SPACE;
    return VMM_OK;
}

/* vmm_lookup of space, then vmm_check_range of [va, va + bytes). */
static enum vmm_status
vmm_lookup_range(uint32_t space, vaddr_t va, uint32_t bytes, struct vmm_space **sp)
{
    enum vmm_status st = vmm_lookup(space, sp);
    return st != VMM_OK ? st : vmm_check_range(va, bytes);
}

static enum vmm_status
vmm_frame_fresh(void *ctx, vaddr_t va, paddr_t *pa)
{
    (void)ctx;
    (void)va;
    return pmm_alloc(pa) == PMM_OK ? VMM_OK : VMM_NO_MEMORY;
}

static enum vmm_status
vmm_frame_given(void *ctx, vaddr_t va, paddr_t *pa)
{
    (void)va;
    *pa = *(const paddr_t *)ctx;
    return VMM_OK;
}

/* Frees a frame unmapped from the space ctx. */
static void
vmm_frame_free(void *ctx, vaddr_t va, paddr_t pa)
{
    struct vmm_space *sp = ctx;
    enum pmm_status st = pmm_free(pa);
    if (st != PMM_OK) {
        kprintf("vmm: freeing frame 0x%08x of 0x%08x: %s", pa, va, pmm_strerror(st));
        arch_panic("vmm: a mapped frame could not be freed");
    }
    if (va < KERNEL_BASE) {
        sp->vs_pages--;
        vmm_ctr.user_pages--;
    } else {
        vmm_ctr.kernel_pages--;
    }
}

static void
vmm_count_mapped(struct vmm_space *sp, vaddr_t va, uint32_t n)
{
    if (va < KERNEL_BASE) {
        sp->vs_pages += n;
        vmm_ctr.user_pages += n;
    } else {
        vmm_ctr.kernel_pages += n;
    }
}

/* Maps npages fresh PMM frames at va in sp with the VMM_MAP_FLAGS of flags;
 * on failure nothing of it stays mapped. */
static enum vmm_status
vmm_map_fresh(struct vmm_space *sp, vaddr_t va, uint32_t npages, uint32_t flags)
{
    uint32_t done = 0;
    enum vmm_status st =
        vmm_walk_map(sp, va, npages, flags & VMM_MAP_FLAGS, vmm_frame_fresh, NULL, &done);
    vmm_count_mapped(sp, va, done);
    if (st != VMM_OK && done > 0)
        vmm_walk_unmap(sp, va, done, vmm_frame_free, sp);
    return st;
}

/* Maps the one page at va in sp to the frame at pa with the VMM_MAP_FLAGS of flags. */
static enum vmm_status
vmm_map_given(struct vmm_space *sp, vaddr_t va, paddr_t pa, uint32_t flags)
{
    uint32_t done = 0;
    enum vmm_status st =
        vmm_walk_map(sp, va, 1, flags & VMM_MAP_FLAGS, vmm_frame_given, &pa, &done);
    vmm_count_mapped(sp, va, done);
    return st;
}

enum vmm_status
vmm_space_create(uint32_t *space)
{
    if (vmm_ops_cur == NULL)
        return VMM_NOT_READY;
    uint32_t h = vmm_handle_lowest_free();
    if (h == VMM_MAX_SPACES)
        return VMM_TOO_MANY;
    struct vmm_space *sp = &vmm_spaces[h];
    vmm_space_reset(sp);
    enum vmm_status st = vmm_ops_cur->create(sp);
    if (st != VMM_OK) {
        sp->vs_used = false;
        return st;
    }
    vmm_handle_mark(h, false);
    vmm_ctr.pd_frames++; /* the strategy's create counts nothing */
    vmm_ctr.spaces++;
    *space = h;
    return VMM_OK;
}

enum vmm_status
vmm_space_destroy(uint32_t space)
{
    struct vmm_space *sp;
    enum vmm_status st = vmm_lookup(space, &sp);
    if (st != VMM_OK)
        return st;
    if (space == VMM_KERNEL_SPACE || space == vmm_cur)
        return VMM_BUSY;
    vmm_walk_destroy(sp, vmm_frame_free, sp);
    vmm_ctr.pd_frames--;
    /* A foreign slot left pointing here is stale: the next use repoints it.
     * Each aim is forgotten once, so this costs O(1) per vmm_set_foreign. */
    while (sp->vs_aimers != VMM_MAX_SPACES)
        vmm_set_foreign(&vmm_spaces[sp->vs_aimers], VMM_MAX_SPACES);
    vmm_set_foreign(sp, VMM_MAX_SPACES);
    sp->vs_used = false;
    vmm_handle_mark(space, true);
    vmm_ctr.spaces--;
    return VMM_OK;
}

enum vmm_status
vmm_space_switch(uint32_t space)
{
    struct vmm_space *sp;
    enum vmm_status st = vmm_lookup(space, &sp);
    if (st != VMM_OK || space == vmm_cur)
        return st;
    vmm_cur = space;
    vmm_load_cr3(sp->vs_pd_pa);
    return VMM_OK;
}

enum vmm_status
vmm_map_range(uint32_t space, vaddr_t va, uint32_t bytes, uint32_t flags)
{
    struct vmm_space *sp;
    enum vmm_status st = vmm_lookup_range(space, va, bytes, &sp);
    return st != VMM_OK ? st : vmm_map_fresh(sp, va, bytes / PAGE_SIZE, flags);
}

enum vmm_status
vmm_map_frame(uint32_t space, vaddr_t va, paddr_t pa, uint32_t flags)
{
    struct vmm_space *sp;
    enum vmm_status st = vmm_lookup_range(space, va, PAGE_SIZE, &sp);
    if (st != VMM_OK)
        return st;
    if (PGOFF(pa) != 0)
        return VMM_BAD_RANGE;
    return vmm_map_given(sp, va, pa, flags);
}

enum vmm_status
vmm_unmap_range(uint32_t space, vaddr_t va, uint32_t bytes)
{
    struct vmm_space *sp;
    enum vmm_status st = vmm_lookup_range(space, va, bytes, &sp);
    if (st == VMM_OK)
        vmm_walk_unmap(sp, va, bytes / PAGE_SIZE, vmm_frame_free, sp);
    return st;
}

enum vmm_status
vmm_translate(uint32_t space, vaddr_t va, paddr_t *pa, uint32_t *flags)
{
    struct vmm_space *sp;
    enum vmm_status st = vmm_lookup(space, &sp);
    return st != VMM_OK ? st : vmm_walk_translate(sp, va, pa, flags);
}

enum vmm_status
vmm_kmap(paddr_t pa, vaddr_t *va)
{
    if (vmm_ops_cur == NULL)
        return VMM_NOT_READY;
    if (PGOFF(pa) != 0)
        return VMM_BAD_RANGE;
    return vmm_ops_cur->kmap(pa, va);
}

void
vmm_kunmap(vaddr_t va)
{
    if (vmm_ops_cur != NULL)
        vmm_ops_cur->kunmap(va);
}

/* Copies the frame at from into the frame at to, both reached by kmap. */
static enum vmm_status
vmm_copy_frame(paddr_t to, paddr_t from)
{
    vaddr_t s, d;
    enum vmm_status st = vmm_ops_cur->kmap(from, &s);
    if (st != VMM_OK)
        return st;
    st = vmm_ops_cur->kmap(to, &d);
    if (st == VMM_OK) {
        memcpy((void *)(uintptr_t)d, (const void *)(uintptr_t)s, PAGE_SIZE);
        vmm_ops_cur->kunmap(d);
    }
    vmm_ops_cur->kunmap(s);
    return st;
}

enum vmm_status
vmm_space_fork(uint32_t src, uint32_t *dst)
{
    struct vmm_space *ssp;
    uint32_t d;
    enum vmm_status st = vmm_lookup(src, &ssp);
    if (st == VMM_OK)
        st = vmm_space_create(&d);
    if (st != VMM_OK)
        return st;
    struct vmm_space *dsp = &vmm_spaces[d];
    vaddr_t va = 0;
    for (;;) {
        paddr_t spa, npa;
        uint32_t flags;
        st = vmm_walk_next_mapping(ssp, &va, KERNEL_BASE, &spa, &flags);
        if (st == VMM_NOT_MAPPED) {
            st = VMM_OK;
            break;
        }
        if (st != VMM_OK)
            break;
        if (pmm_alloc(&npa) != PMM_OK) {
            st = VMM_NO_MEMORY;
            break;
        }
        st = vmm_copy_frame(npa, spa);
        if (st == VMM_OK)
            st = vmm_map_given(dsp, va, npa, flags);
        if (st != VMM_OK) {
            pmm_free(npa);
            break;
        }
        va += PAGE_SIZE;
        if (va >= KERNEL_BASE)
            break;
    }
    if (st != VMM_OK) {
        vmm_space_destroy(d);
        return st;
    }
    *dst = d;
    return VMM_OK;
}

bool
vmm_heap_grow(vaddr_t va, uint32_t npages)
{
    struct vmm_space *ks = vmm_space_at(VMM_KERNEL_SPACE);
    if (ks == NULL || npages == 0 || va < KHEAP_START ||
        vmm_check_range(va, npages * PAGE_SIZE) != VMM_OK)
        return false;
    return vmm_map_fresh(ks, va, npages, VMM_MAP_WRITE | vmm_kglobal) == VMM_OK;
}

void
vmm_stats(struct vmm_stats *st)
{
    if (vmm_ops_cur == NULL) {
        memset(st, 0, sizeof(*st));
        return;
    }
    *st = vmm_ctr;
    vmm_ops_cur->stats(st);
}

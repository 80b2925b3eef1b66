/*
 * vmm_walk.c - the one walker over a strategy's reach (struct vmm_reach):
 * map, unmap, translate, the next mapping and destroy, user half and kernel
 * half, and directories and tables in PMM frames for the strategies that
 * keep them there.
 */
#include <stddef.h>

#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "allocators/vmm_impl.h"
#include "allocators/vmm_strategy.h"
#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

/* Maps the page at va through its PTE at pte, unless present, to a frame
 * from frame, and counts it in *done. */
static enum vmm_status
vmm_fill_pte(volatile pte_t *pte, vaddr_t va, uint32_t flags, vmm_frame_fn frame, void *ctx,
             uint32_t *done)
{
    if (*pte & PTE_P)
        return VMM_ALREADY_MAPPED;
    paddr_t pa;
    enum vmm_status st = frame(ctx, va, &pa);
    if (st == VMM_OK) {
        *pte = pa | PTE_P | flags;
        (*done)++;
    }
    return st;
}

/* Unmaps the page at va through its PTE at pte, if present, with an INVLPG
 * if invalidate is set; release gets the frame. */
static void
vmm_clear_pte(volatile pte_t *pte, vaddr_t va, bool invalidate, vmm_release_fn release, void *ctx)
{
    pte_t e = *pte;
    if (!(e & PTE_P))
        return;
    *pte = 0;
    if (invalidate)
        vmm_invlpg(va);
    release(ctx, va, PTE_ADDR(e));
}

/* The frame and flags the PTE value e gives va; VMM_NOT_MAPPED if not present. */
static enum vmm_status
vmm_pte_translate(pte_t e, vaddr_t va, paddr_t *pa, uint32_t *flags)
{
    if (!(e & PTE_P))
        return VMM_NOT_MAPPED;
    *pa = PTE_ADDR(e) | PGOFF(va);
    if (flags != NULL)
        *flags = e & ~PTE_ADDR_MASK;
    return VMM_OK;
}

/* Kernel-half map, unmap and translate over the shared kernel tables, each
 * PTE reached through kpte; kpd is where the kernel directory is reached
 * (for a 4 MiB direct-map PDE).  Same contracts as vmm_walk_*. */
static enum vmm_status
vmm_kernel_map(vmm_kpte_fn kpte, vaddr_t va, uint32_t npages, uint32_t flags, vmm_frame_fn frame,
               void *ctx, uint32_t *done)
{
    *done = 0;
    for (uint32_t i = 0; i < npages; i++) {
        vaddr_t v = va + i * PAGE_SIZE;
        volatile pte_t *pte = kpte(v);
        if (pte == NULL)
            return VMM_BAD_RANGE;
        enum vmm_status st = vmm_fill_pte(pte, v, flags, frame, ctx, done);
        if (st != VMM_OK)
            return st;
    }
    return VMM_OK;
}

static void
vmm_kernel_unmap(vmm_kpte_fn kpte, vaddr_t va, uint32_t npages, vmm_release_fn release, void *ctx)
{
    for (uint32_t i = 0; i < npages; i++) {
        vaddr_t v = va + i * PAGE_SIZE;
        volatile pte_t *pte = kpte(v);
        if (pte != NULL) /* kernel pages may be cached whatever the space: INVLPG */
            vmm_clear_pte(pte, v, true, release, ctx);
    }
}

static enum vmm_status
vmm_kernel_translate(vmm_kpte_fn kpte, volatile pde_t *kpd, vaddr_t va, paddr_t *pa,
                     uint32_t *flags)
{
    volatile pte_t *pte = kpte(va);
    if (pte != NULL)
        return vmm_pte_translate(*pte, va, pa, flags);
    pde_t e = kpd[PDX(va)];
    if ((e & (PTE_P | PTE_PS)) != (PTE_P | PTE_PS))
        return VMM_NOT_MAPPED;
    *pa = PDE_LADDR(e) | LPGOFF(va);
    if (flags != NULL)
        *flags = e & ~PTE_ADDR_MASK;
    return VMM_OK;
}

/* ---- the walker over struct vmm_reach ---- */

static void
vmm_close(const struct vmm_reach *r, volatile uint32_t *p)
{
    if (r->close != NULL)
        r->close(p);
}

/* The PDE of the table for va in sp, the table made if absent and make is set. */
static enum vmm_status
vmm_walk_pde(const struct vmm_reach *r, struct vmm_space *sp, vaddr_t va, bool make, pde_t *pde)
{
    volatile pde_t *pd;
    enum vmm_status st = r->open_pd(sp, &pd);
    if (st != VMM_OK)
        return st;
    pde_t e = pd[PDX(va)];
    if (!(e & PTE_P) && make) {
        st = r->new_table(sp, PDX(va), &e);
        if (st == VMM_OK) {
            pd[PDX(va)] = e;
            sp->vs_tables++;
            vmm_ctr.pt_frames++;
        }
    }
    vmm_close(r, pd);
    *pde = e;
    return st;
}

enum vmm_status
vmm_walk_map(struct vmm_space *sp, vaddr_t va, uint32_t npages, uint32_t flags, vmm_frame_fn frame,
             void *ctx, uint32_t *done)
{
    const struct vmm_reach *r = vmm_strategy()->reach;
    if (va >= KERNEL_BASE)
        return vmm_kernel_map(r->kpte, va, npages, flags, frame, ctx, done);
    *done = 0;
    while (*done < npages) {
        vaddr_t v = va + *done * PAGE_SIZE;
        uint32_t n = NPTENTRIES - PTX(v);
        if (n > npages - *done)
            n = npages - *done;
        pde_t pde;
        volatile pte_t *pt;
        enum vmm_status st = vmm_walk_pde(r, sp, v, true, &pde);
        if (st == VMM_OK)
            st = r->open_pt(sp, PDX(v), pde, &pt);
        if (st != VMM_OK)
            return st;
        for (uint32_t i = 0; i < n && st == VMM_OK; i++)
            st = vmm_fill_pte(pt + PTX(v) + i, v + i * PAGE_SIZE, flags, frame, ctx, done);
        vmm_close(r, pt);
        if (st != VMM_OK)
            return st;
    }
    return VMM_OK;
}

void
vmm_walk_unmap(struct vmm_space *sp, vaddr_t va, uint32_t npages, vmm_release_fn release, void *ctx)
{
    const struct vmm_reach *r = vmm_strategy()->reach;
    if (va >= KERNEL_BASE) {
        vmm_kernel_unmap(r->kpte, va, npages, release, ctx);
        return;
    }
    /* Other spaces' user translations went with the CR3 load that left them. */
    bool current = vmm_is_current(sp);
    for (uint32_t i = 0; i < npages;) {
        vaddr_t v = va + i * PAGE_SIZE;
        uint32_t n = NPTENTRIES - PTX(v);
        if (n > npages - i)
            n = npages - i;
        i += n;
        pde_t pde;
        volatile pte_t *pt;
        if (vmm_walk_pde(r, sp, v, false, &pde) != VMM_OK || !(pde & PTE_P))
            continue;
        if (r->open_pt(sp, PDX(v), pde, &pt) != VMM_OK)
            arch_panic("vmm: cannot reach a page table to unmap");
        for (uint32_t k = 0; k < n; k++)
            vmm_clear_pte(pt + PTX(v) + k, v + k * PAGE_SIZE, current, release, ctx);
        vmm_close(r, pt);
    }
}

enum vmm_status
vmm_walk_translate(struct vmm_space *sp, vaddr_t va, paddr_t *pa, uint32_t *flags)
{
    const struct vmm_reach *r = vmm_strategy()->reach;
    if (va >= KERNEL_BASE)
        return vmm_kernel_translate(r->kpte, r->kpd(), va, pa, flags);
    pde_t pde;
    volatile pte_t *pt;
    enum vmm_status st = vmm_walk_pde(r, sp, va, false, &pde);
    if (st != VMM_OK)
        return st;
    if (!(pde & PTE_P))
        return VMM_NOT_MAPPED;
    st = r->open_pt(sp, PDX(va), pde, &pt);
    if (st != VMM_OK)
        return st;
    pte_t e = pt[PTX(va)];
    vmm_close(r, pt);
    return vmm_pte_translate(e, va, pa, flags);
}

enum vmm_status
vmm_walk_next_mapping(struct vmm_space *sp, vaddr_t *va, vaddr_t end, paddr_t *pa, uint32_t *flags)
{
    const struct vmm_reach *r = vmm_strategy()->reach;
    if (end > KERNEL_BASE)
        end = KERNEL_BASE;
    vaddr_t v = PAGE_ROUND_DOWN(*va);
    while (v < end) {
        /* The directory: the first table present at or after v. */
        volatile pde_t *pd;
        enum vmm_status st = r->open_pd(sp, &pd);
        if (st != VMM_OK)
            return st;
        pde_t pde = pd[PDX(v)];
        while (!(pde & PTE_P)) {
            v = PGADDR(PDX(v) + 1, 0, 0);
            if (v >= end)
                break;
            pde = pd[PDX(v)];
        }
        vmm_close(r, pd);
        if (v >= end)
            break;
        /* The table: the first present page at or after v. */
        vaddr_t table_end = PGADDR(PDX(v) + 1, 0, 0);
        volatile pte_t *pt;
        st = r->open_pt(sp, PDX(v), pde, &pt);
        if (st != VMM_OK)
            return st;
        pte_t e = pt[PTX(v)];
        while (!(e & PTE_P)) {
            v += PAGE_SIZE;
            if (v >= table_end || v >= end)
                break;
            e = pt[PTX(v)];
        }
        vmm_close(r, pt);
        if (e & PTE_P) {
            *va = v;
            *pa = PTE_ADDR(e);
            *flags = e & ~PTE_ADDR_MASK;
            return VMM_OK;
        }
        v = table_end;
    }
    return VMM_NOT_MAPPED;
}

/* PDEs of the user tables of the space being destroyed. */
static pde_t vmm_doomed[VMM_NUPDE];

void
vmm_walk_destroy(struct vmm_space *sp, vmm_release_fn release, void *ctx)
{
    const struct vmm_reach *r = vmm_strategy()->reach;
    volatile pde_t *pd;
    if (r->open_pd(sp, &pd) != VMM_OK)
        arch_panic("vmm: cannot reach a directory to destroy it");
    for (uint32_t pdx = 0; pdx < VMM_NUPDE; pdx++)
        vmm_doomed[pdx] = pd[pdx];
    vmm_close(r, pd);
    for (uint32_t pdx = 0; pdx < VMM_NUPDE; pdx++) {
        pde_t pde = vmm_doomed[pdx];
        volatile pte_t *pt;
        if (!(pde & PTE_P))
            continue;
        if (r->open_pt(sp, pdx, pde, &pt) != VMM_OK)
            arch_panic("vmm: cannot reach a page table to destroy it");
        for (uint32_t i = 0; i < NPTENTRIES; i++) {
            pte_t e = pt[i];
            if (e & PTE_P)
                release(ctx, PGADDR(pdx, i, 0), PTE_ADDR(e));
        }
        vmm_close(r, pt);
        r->free_table(sp, pdx, pde);
        sp->vs_tables--;
        vmm_ctr.pt_frames--;
    }
    r->free_pd(sp);
}

/* ---- paging structures in PMM frames ---- */

enum vmm_status
vmm_pmm_create(struct vmm_space *sp)
{
    const struct vmm_reach *r = vmm_strategy()->reach;
    paddr_t pa;
    volatile pde_t *pd;
    if (pmm_alloc_zeroed(&pa) != PMM_OK)
        return VMM_NO_MEMORY;
    sp->vs_pd_pa = pa;
    enum vmm_status st = r->open_pd(sp, &pd);
    if (st != VMM_OK) {
        pmm_free(pa);
        return st;
    }
    vmm_copy_kernel_pdes(pd);
    vmm_close(r, pd);
    return VMM_OK;
}

enum vmm_status
vmm_pmm_new_table(struct vmm_space *sp, uint32_t pdx, pde_t *pde)
{
    paddr_t t;
    (void)sp;
    (void)pdx;
    if (pmm_alloc_zeroed(&t) != PMM_OK)
        return VMM_NO_MEMORY;
    *pde = t | VMM_USER_PDE;
    return VMM_OK;
}

void
vmm_pmm_free_table(struct vmm_space *sp, uint32_t pdx, pde_t pde)
{
    (void)sp;
    (void)pdx;
    pmm_free(PTE_ADDR(pde));
}

void
vmm_pmm_free_pd(struct vmm_space *sp)
{
    pmm_free(sp->vs_pd_pa);
}

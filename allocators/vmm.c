/*
 * vmm.c - the generic layer of vmm.h: strategy lookup, the table of
 * address spaces, range checks, fresh frames from the PMM, fork, the kernel
 * directory built at boot, and for the strategies: the counted TLB
 * maintenance, the walker over their reach, and directories and tables in
 * PMM frames.
 */
#include "allocators/vmm.h"

#include <stddef.h>

#include "allocators/placement.h"
#include "allocators/pmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

static const struct vmm_ops *const vmm_all[] = {
    &vmm_heap_ops,    &vmm_pageheap_ops,     &vmm_recursive_ops,
    &vmm_tempmap_ops, &vmm_tempmap_lazy_ops, &vmm_physmap_ops,
};
#define VMM_NSTRATEGIES (sizeof(vmm_all) / sizeof(vmm_all[0]))

static const struct vmm_ops *vmm_ops_cur;
static struct vmm_space vmm_spaces[VMM_MAX_SPACES];
static uint32_t vmm_cur;
uint32_t vmm_kglobal;
static paddr_t vmm_kpd_pa;
/* Kernel tables by PDE index - KERNEL_PDX; 0 where the PDE has no table. */
static paddr_t vmm_ktables[NPDENTRIES - KERNEL_PDX];
/* PDEs [KERNEL_PDX, VMM_EARLY_PDE_END) hold the early mapping: their tables
 * are the boot directory's, in the kernel image, not placement memory. */
#define VMM_EARLY_PDE_END (KERNEL_PDX + EARLY_MAP_SIZE / LPAGE_SIZE)

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
vmm_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (uint32_t i = 0; i < VMM_NSTRATEGIES; i++)
        if (kstrcmp(vmm_all[i]->name, name) == 0)
            return vmm_all[i];
    return NULL;
}

const struct vmm_ops *
vmm_strategy_at(uint32_t i)
{
    return i < VMM_NSTRATEGIES ? vmm_all[i] : NULL;
}

const struct vmm_ops *
vmm_strategy(void)
{
    return vmm_ops_cur;
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

paddr_t
vmm_kernel_pd(void)
{
    return vmm_kpd_pa;
}

void
vmm_invlpg(vaddr_t va)
{
    arch_invlpg(va);
    vmm_ctr.invlpg++;
}

void
vmm_load_cr3(paddr_t pd_pa)
{
    arch_write_cr3(pd_pa);
    vmm_ctr.cr3_writes++;
    if (vmm_ops_cur != NULL && vmm_ops_cur->flushed != NULL)
        vmm_ops_cur->flushed();
}

void
vmm_flush_tlb(void)
{
    vmm_load_cr3(arch_read_cr3());
}

enum vmm_status
vmm_boot_table(uint32_t pdx, paddr_t *pa)
{
    paddr_t t;
    if (placement_alloc(PAGE_SIZE, PAGE_SIZE, &t) == NULL)
        return VMM_NO_MEMORY;
    vmm_words(P2V(vmm_kpd_pa))[pdx] = t | VMM_KERNEL_PDE;
    vmm_ktables[pdx - KERNEL_PDX] = t;
    vmm_ctr.pt_frames++;
    vmm_ctr.kernel_pt_frames++;
    vmm_ctr.boot_bytes += PAGE_SIZE;
    if (pa != NULL)
        *pa = t;
    return VMM_OK;
}

void
vmm_boot_forget_table(uint32_t pdx)
{
    if (vmm_ktables[pdx - KERNEL_PDX] != 0) {
        vmm_ktables[pdx - KERNEL_PDX] = 0;
        vmm_ctr.pt_frames--;
        vmm_ctr.kernel_pt_frames--;
        if (pdx < VMM_EARLY_PDE_END)
            vmm_ctr.early_pt_frames--;
    }
}

/*
 * The kernel directory from placement memory, at vmm_kpd_pa.  Its early-map
 * PDEs (KERNEL_BASE .. + EARLY_MAP_SIZE) are copied from the boot directory
 * in CR3, so the boot page tables stay in use; the kernel heaps and the
 * temporary window get zeroed tables from placement memory.
 */
static enum vmm_status
vmm_boot_directory(void)
{
    paddr_t boot_pd = arch_read_cr3() & CR3_ADDR_MASK;
    if (boot_pd >= EARLY_MAP_SIZE)
        return VMM_UNREACHABLE;
    if (placement_alloc(PAGE_SIZE, PAGE_SIZE, &vmm_kpd_pa) == NULL)
        return VMM_NO_MEMORY;
    vmm_ctr.pd_frames++;
    vmm_ctr.boot_bytes += PAGE_SIZE;

    /* The early mapping: the boot directory's PDEs, so its tables stay in use. */
    volatile pde_t *pd = vmm_words(P2V(vmm_kpd_pa));
    volatile pde_t *bpd = vmm_words(P2V(boot_pd));
    for (uint32_t pdx = KERNEL_PDX; pdx < VMM_EARLY_PDE_END; pdx++) {
        pde_t e = bpd[pdx];
        pd[pdx] = e;
        if ((e & PTE_P) && !(e & PTE_PS)) {
            vmm_ktables[pdx - KERNEL_PDX] = PTE_ADDR(e);
            vmm_ctr.pt_frames++;
            vmm_ctr.kernel_pt_frames++;
            vmm_ctr.early_pt_frames++;
        }
    }
    /* The kernel heap, the page heap and the temporary window. */
    arch_region(REGION_TEMPMAP, TEMPMAP_BASE, TEMPMAP_END - 1);
    for (uint32_t pdx = PDX(KHEAP_START); pdx < VMM_KPDE_END; pdx++) {
        enum vmm_status st = vmm_boot_table(pdx, NULL);
        if (st != VMM_OK)
            return st;
    }
    return VMM_OK;
}

bool
vmm_kernel_table(uint32_t pdx, paddr_t *pa)
{
    if (pdx < KERNEL_PDX || vmm_ktables[pdx - KERNEL_PDX] == 0)
        return false;
    *pa = vmm_ktables[pdx - KERNEL_PDX];
    return true;
}

volatile pte_t *
vmm_kpte_early(vaddr_t va)
{
    paddr_t t;
    if (!vmm_kernel_table(PDX(va), &t))
        return NULL;
    return vmm_words(P2V(t)) + PTX(va);
}

volatile pde_t *
vmm_kpd_early(void)
{
    return vmm_words(P2V(vmm_kpd_pa));
}

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

enum vmm_status
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

void
vmm_kernel_unmap(vmm_kpte_fn kpte, vaddr_t va, uint32_t npages, vmm_release_fn release, void *ctx)
{
    for (uint32_t i = 0; i < npages; i++) {
        vaddr_t v = va + i * PAGE_SIZE;
        volatile pte_t *pte = kpte(v);
        if (pte != NULL) /* kernel pages may be cached whatever the space: INVLPG */
            vmm_clear_pte(pte, v, true, release, ctx);
    }
}

enum vmm_status
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
    const struct vmm_reach *r = vmm_ops_cur->reach;
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
    const struct vmm_reach *r = vmm_ops_cur->reach;
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
    const struct vmm_reach *r = vmm_ops_cur->reach;
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
    const struct vmm_reach *r = vmm_ops_cur->reach;
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
    const struct vmm_reach *r = vmm_ops_cur->reach;
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
    vmm_ctr.pd_frames--;
}

/* ---- paging structures in PMM frames ---- */

void
vmm_copy_kernel_pdes(volatile pde_t *pd)
{
    memcpy((void *)(pd + KERNEL_PDX), (const void *)(vmm_kpd_early() + KERNEL_PDX),
           VMM_NKPDE * sizeof(pde_t));
}

enum vmm_status
vmm_pmm_create(struct vmm_space *sp)
{
    const struct vmm_reach *r = vmm_ops_cur->reach;
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
    vmm_ctr.pd_frames++;
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

/* ---- the public layer ---- */

enum vmm_status
vmm_boot(const struct vmm_ops *ops, uint32_t ram_frames, uint32_t unreachable_frames)
{
    if (ops == NULL)
        return VMM_NOT_READY;
    memset(vmm_spaces, 0, sizeof(vmm_spaces));
    memset(vmm_ktables, 0, sizeof(vmm_ktables));
    memset(&vmm_ctr, 0, sizeof(vmm_ctr));
    vmm_kpd_pa = 0;
    vmm_cur = VMM_KERNEL_SPACE;
    vmm_ops_cur = ops;
    vmm_kglobal = (arch_read_cr4() & CR4_PGE) ? PTE_G : 0;
    struct vmm_space *ks = &vmm_spaces[VMM_KERNEL_SPACE];
    ks->vs_used = true;
    ks->vs_foreign = VMM_MAX_SPACES;
    enum vmm_status st = vmm_boot_directory();
    if (st == VMM_OK) {
        ks->vs_pd_pa = vmm_kpd_pa;
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
        vmm_ops_cur->map(sp, va, npages, flags & VMM_MAP_FLAGS, vmm_frame_fresh, NULL, &done);
    vmm_count_mapped(sp, va, done);
    if (st != VMM_OK && done > 0)
        vmm_ops_cur->unmap(sp, va, done, vmm_frame_free, sp);
    return st;
}

/* Maps the one page at va in sp to the frame at pa with the VMM_MAP_FLAGS of flags. */
static enum vmm_status
vmm_map_given(struct vmm_space *sp, vaddr_t va, paddr_t pa, uint32_t flags)
{
    uint32_t done = 0;
    enum vmm_status st =
        vmm_ops_cur->map(sp, va, 1, flags & VMM_MAP_FLAGS, vmm_frame_given, &pa, &done);
    vmm_count_mapped(sp, va, done);
    return st;
}

enum vmm_status
vmm_space_create(uint32_t *space)
{
    if (vmm_ops_cur == NULL)
        return VMM_NOT_READY;
    uint32_t h = 1;
    while (h < VMM_MAX_SPACES && vmm_spaces[h].vs_used)
        h++;
    if (h == VMM_MAX_SPACES)
        return VMM_TOO_MANY;
    struct vmm_space *sp = &vmm_spaces[h];
    memset(sp, 0, sizeof(*sp));
    sp->vs_used = true;
    sp->vs_foreign = VMM_MAX_SPACES;
    enum vmm_status st = vmm_ops_cur->create(sp);
    if (st != VMM_OK) {
        sp->vs_used = false;
        return st;
    }
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
    vmm_ops_cur->destroy(sp, vmm_frame_free, sp);
    /* A foreign slot left pointing here is stale: the next use repoints it. */
    for (uint32_t h = 0; h < VMM_MAX_SPACES; h++)
        if (vmm_spaces[h].vs_used && vmm_spaces[h].vs_foreign == space)
            vmm_spaces[h].vs_foreign = VMM_MAX_SPACES;
    sp->vs_used = false;
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
        vmm_ops_cur->unmap(sp, va, bytes / PAGE_SIZE, vmm_frame_free, sp);
    return st;
}

enum vmm_status
vmm_translate(uint32_t space, vaddr_t va, paddr_t *pa, uint32_t *flags)
{
    struct vmm_space *sp;
    enum vmm_status st = vmm_lookup(space, &sp);
    return st != VMM_OK ? st : vmm_ops_cur->translate(sp, va, pa, flags);
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
        st = vmm_ops_cur->next_mapping(ssp, &va, KERNEL_BASE, &spa, &flags);
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

/*
 * kern_vmm.c - kernel-style test programs for the paging strategies
 * (allocators/vmm.h): they run after kernel_boot, whatever the strategy,
 * and record the first check that failed.
 */
#include "tests/kern_vmm.h"

#include "allocators/pageheap.h"

#include <stdbool.h>
#include <stddef.h>

#include "allocators/heap.h"
#include "allocators/placement.h"
#include "allocators/pmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"
#include "tests/kern_alloc.h"

struct kv_result kv_result;

#define KV_CHECK(cond, value)                                                                      \
    do {                                                                                           \
        if (!(cond) && kv_result.failed_line == 0) {                                               \
            kv_result.failed_line = __LINE__;                                                      \
            kv_result.failed_value = (uint32_t)(value);                                            \
        }                                                                                          \
    } while (0)

#define KV_OK(expr)                                                                                \
    do {                                                                                           \
        enum vmm_status kv_st = (expr);                                                            \
        KV_CHECK(kv_st == VMM_OK, kv_st);                                                          \
    } while (0)

#define KV_VA 0x40000000u
#define KV_VA2 0x80000000u

static void
kv_finish(void)
{
    struct vmm_stats st;
    vmm_stats(&st);
    kv_result.user_pages = st.user_pages;
    kv_result.pd_frames = st.pd_frames;
    kv_result.pt_frames = st.pt_frames;
}

static uint32_t
kv_free_frames(void)
{
    struct pmm_stats ps;
    pmm_stats(&ps);
    return ps.free_frames;
}

/* Reads the word at pa through a kernel mapping of its frame. */
static uint32_t
kv_peek(paddr_t pa)
{
    vaddr_t va;
    uint32_t v = 0;
    KV_OK(vmm_kmap(PAGE_ROUND_DOWN(pa), &va));
    v = *(volatile uint32_t *)(uintptr_t)(va + PGOFF(pa));
    vmm_kunmap(va);
    return v;
}

void
kv_map_unmap(void *arg)
{
    (void)arg;
    uint32_t a = 0;
    paddr_t pa, pa2;
    uint32_t flags = 0;

    /* A foreign space: the kernel's space is current. */
    KV_CHECK(vmm_current() == VMM_KERNEL_SPACE, vmm_current());
    KV_OK(vmm_space_create(&a));
    KV_OK(vmm_map_range(a, KV_VA, 3 * PAGE_SIZE, VMM_MAP_WRITE | VMM_MAP_USER));
    KV_OK(vmm_translate(a, KV_VA + PAGE_SIZE + 0x123, &pa, &flags));
    KV_CHECK(PGOFF(pa) == 0x123, pa);
    KV_CHECK((flags & (PTE_P | PTE_W | PTE_U)) == (PTE_P | PTE_W | PTE_U), flags);
    KV_CHECK(vmm_translate(a, KV_VA + 3 * PAGE_SIZE, &pa2, NULL) == VMM_NOT_MAPPED, 0);
    KV_CHECK(vmm_translate(VMM_KERNEL_SPACE, KV_VA, &pa2, NULL) == VMM_NOT_MAPPED, 0);
    /* Overlapping map: refused, nothing of it stays. */
    KV_CHECK(vmm_map_range(a, KV_VA - PAGE_SIZE, 2 * PAGE_SIZE, VMM_MAP_USER) == VMM_ALREADY_MAPPED,
             0);
    KV_CHECK(vmm_translate(a, KV_VA - PAGE_SIZE, &pa2, NULL) == VMM_NOT_MAPPED, 0);
    KV_CHECK(vmm_space_info(a)->vs_pages == 3, vmm_space_info(a)->vs_pages);
    /* Bad ranges. */
    KV_CHECK(vmm_map_range(a, KV_VA + 1, PAGE_SIZE, 0) == VMM_BAD_RANGE, 0);
    KV_CHECK(vmm_map_range(a, 0xBFFFF000u, 2 * PAGE_SIZE, 0) == VMM_BAD_RANGE, 0);
    KV_CHECK(vmm_map_range(a, KV_VA, 0, 0) == VMM_BAD_RANGE, 0);
    /* Foreign unmap of the middle page. */
    KV_OK(vmm_unmap_range(a, KV_VA + PAGE_SIZE, PAGE_SIZE));
    KV_CHECK(vmm_translate(a, KV_VA + PAGE_SIZE, &pa2, NULL) == VMM_NOT_MAPPED, 0);
    KV_CHECK(vmm_space_info(a)->vs_pages == 2, vmm_space_info(a)->vs_pages);

    /* Current: what the kernel writes at the address lands in the frame. */
    KV_CHECK(vmm_space_destroy(VMM_KERNEL_SPACE) == VMM_BUSY, 0);
    KV_OK(vmm_space_switch(a));
    KV_CHECK(vmm_space_destroy(a) == VMM_BUSY, 0);
    *(volatile uint32_t *)(uintptr_t)(KV_VA + 8) = 0xC0FFEE01u;
    KV_OK(vmm_translate(vmm_current(), KV_VA + 8, &pa, NULL));
    KV_CHECK(kv_peek(pa) == 0xC0FFEE01u, kv_peek(pa));
    KV_OK(vmm_map_range(a, KV_VA2, PAGE_SIZE, VMM_MAP_WRITE));
    *(volatile uint32_t *)(uintptr_t)KV_VA2 = 0xC0FFEE02u;
    KV_OK(vmm_translate(a, KV_VA2, &pa, NULL));
    KV_CHECK(kv_peek(pa) == 0xC0FFEE02u, kv_peek(pa));
    KV_OK(vmm_unmap_range(a, KV_VA2, PAGE_SIZE));
    KV_CHECK(vmm_translate(a, KV_VA2, &pa, NULL) == VMM_NOT_MAPPED, 0);

    /* The kernel's space is foreign now: map and unmap there. */
    KV_OK(vmm_map_range(VMM_KERNEL_SPACE, KV_VA2, 2 * PAGE_SIZE, VMM_MAP_WRITE));
    KV_OK(vmm_translate(VMM_KERNEL_SPACE, KV_VA2 + PAGE_SIZE, &pa, NULL));
    KV_CHECK(vmm_translate(a, KV_VA2, &pa2, NULL) == VMM_NOT_MAPPED, 0);
    KV_OK(vmm_unmap_range(VMM_KERNEL_SPACE, KV_VA2, 2 * PAGE_SIZE));
    KV_CHECK(vmm_translate(VMM_KERNEL_SPACE, KV_VA2, &pa2, NULL) == VMM_NOT_MAPPED, 0);

    /* The kernel half is the same in both spaces. */
    paddr_t k1 = 0, k2 = 1;
    void *hp = kmalloc(16);
    KV_CHECK(hp != NULL, 0);
    KV_OK(vmm_translate(a, (vaddr_t)(uintptr_t)hp, &k1, NULL));
    KV_OK(vmm_translate(VMM_KERNEL_SPACE, (vaddr_t)(uintptr_t)hp, &k2, NULL));
    KV_CHECK(k1 == k2, k1);
    kfree(hp);

    KV_OK(vmm_space_switch(VMM_KERNEL_SPACE));
    KV_OK(vmm_space_destroy(a));
    KV_CHECK(vmm_space_info(a) == NULL, 0);
    KV_CHECK(vmm_space_destroy(a) == VMM_BAD_SPACE, 0);
    kv_finish();
}

/* One space with pages under two tables and a fork of it, then both gone. */
static void
kv_cycle(void)
{
    uint32_t a = 0, b = 0;
    KV_OK(vmm_space_create(&a));
    KV_OK(vmm_map_range(a, KV_VA, 4 * PAGE_SIZE, VMM_MAP_WRITE | VMM_MAP_USER));
    KV_OK(vmm_map_range(a, KV_VA2 - PAGE_SIZE, 2 * PAGE_SIZE, VMM_MAP_USER));
    KV_OK(vmm_space_fork(a, &b));
    KV_CHECK(vmm_space_info(b)->vs_pages == 6, vmm_space_info(b)->vs_pages);
    KV_CHECK(vmm_space_info(b)->vs_tables == 3, vmm_space_info(b)->vs_tables);
    KV_OK(vmm_space_destroy(a));
    KV_OK(vmm_space_destroy(b));
}

void
kv_leak(void *arg)
{
    (void)arg;
    kv_cycle();
    kv_result.free_before = kv_free_frames();
    kv_cycle();
    kv_result.free_after = kv_free_frames();
    kv_finish();
}

void
kv_fork(void *arg)
{
    (void)arg;
    uint32_t a = 0, b = 0, c = 0;
    volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)KV_VA;
    KV_OK(vmm_space_create(&a));
    KV_OK(vmm_map_range(a, KV_VA, 2 * PAGE_SIZE, VMM_MAP_WRITE | VMM_MAP_USER));
    KV_OK(vmm_space_switch(a));
    p[0] = 0x11111111u;
    p[PAGE_SIZE / 4 + 5] = 0x22222222u;

    /* From the current space. */
    KV_OK(vmm_space_fork(a, &b));
    KV_OK(vmm_space_switch(b));
    KV_CHECK(p[0] == 0x11111111u, p[0]);
    KV_CHECK(p[PAGE_SIZE / 4 + 5] == 0x22222222u, p[PAGE_SIZE / 4 + 5]);
    p[0] = 0x33333333u;
    uint32_t flags = 0;
    paddr_t pa;
    KV_OK(vmm_translate(b, KV_VA, &pa, &flags));
    KV_CHECK((flags & (PTE_W | PTE_U)) == (PTE_W | PTE_U), flags);

    /* From a foreign space (a, while b is current). */
    KV_OK(vmm_space_fork(a, &c));
    KV_OK(vmm_space_switch(c));
    KV_CHECK(p[0] == 0x11111111u, p[0]);
    KV_CHECK(p[PAGE_SIZE / 4 + 5] == 0x22222222u, p[PAGE_SIZE / 4 + 5]);
    KV_OK(vmm_space_switch(a));
    KV_CHECK(p[0] == 0x11111111u, p[0]);

    KV_OK(vmm_space_switch(VMM_KERNEL_SPACE));
    KV_OK(vmm_space_destroy(a));
    KV_OK(vmm_space_destroy(b));
    KV_OK(vmm_space_destroy(c));
    kv_finish();
}

void
kv_heap_then_switch(void *arg)
{
    (void)arg;
    volatile uint32_t *p = kmalloc(64);
    KV_CHECK(p != NULL, 0);
    if (p == NULL)
        return;
    uint32_t word = p[0]; /* the read caches the heap page */
    (void)word;
    paddr_t pa;
    KV_OK(vmm_translate(VMM_KERNEL_SPACE, KHEAP_START, &pa, &kv_result.heap_pte_flags));
    uint32_t sp;
    KV_OK(vmm_space_create(&sp));
    KV_OK(vmm_space_switch(sp));
}

void
kv_kpte_unchecked(void *arg)
{
    (void)arg;
    volatile pte_t *ptes = vmm_words(RECURSIVE_PT_BASE);
    kv_result.failed_value = ptes[KERNEL_BASE >> PAGE_SHIFT];
    kv_result.failed_value = ptes[(KERNEL_BASE + KERNEL_LOAD_PA) >> PAGE_SHIFT];
}

void
kv_kpte_checked(void *arg)
{
    (void)arg;
    volatile pde_t *pd = vmm_words(RECURSIVE_PD);
    pde_t pde = pd[PDX(KERNEL_BASE)];
    kv_result.failed_value = pde;
    if ((pde & (PTE_P | PTE_PS)) == PTE_P)
        kv_result.failed_value = vmm_words(RECURSIVE_PT_BASE)[KERNEL_BASE >> PAGE_SHIFT];
}

void
kv_stats_read(void *arg)
{
    struct kv_stats *k = arg;
    vmm_stats(&k->vmm);
    pmm_stats(&k->pmm);
    heap_stats(&k->heap);
    pageheap_stats(&k->pageheap);
}

/* ---- a strategy of the tests' own ---- */

/*
 * "early": every directory, table and frame reached at its alias in the
 * early mapping (P2V), so it runs on a machine of EARLY_MAP_SIZE at most.
 * Its create makes the directory and counts nothing: the generic layer
 * keeps the figures.
 */
static volatile uint32_t *
ke_ptr(paddr_t pa)
{
    return vmm_words(P2V(pa));
}

static enum vmm_status
ke_open_pd(struct vmm_space *sp, volatile pde_t **pd)
{
    *pd = ke_ptr(sp->vs_pd_pa);
    return VMM_OK;
}

static enum vmm_status
ke_open_pt(struct vmm_space *sp, uint32_t pdx, pde_t pde, volatile pte_t **pt)
{
    (void)sp;
    (void)pdx;
    *pt = ke_ptr(PTE_ADDR(pde));
    return VMM_OK;
}

static const struct vmm_reach ke_reach = {
    .open_pd = ke_open_pd,
    .open_pt = ke_open_pt,
    .close = NULL,
    VMM_PMM_TABLES,
    .kpte = vmm_kpte_early,
    .kpd = vmm_kpd_early,
};

static enum vmm_status
ke_boot(struct vmm_space *ks, uint32_t ram_frames)
{
    (void)ks;
    (void)ram_frames;
    return VMM_OK;
}

static enum vmm_status
ke_create(struct vmm_space *sp)
{
    paddr_t pa;
    if (pmm_alloc_zeroed(&pa) != PMM_OK)
        return VMM_NO_MEMORY;
    sp->vs_pd_pa = pa;
    vmm_copy_kernel_pdes(ke_ptr(pa));
    return VMM_OK;
}

static enum vmm_status
ke_kmap(paddr_t pa, vaddr_t *va)
{
    if (pa >= EARLY_MAP_SIZE)
        return VMM_UNREACHABLE;
    *va = P2V(pa);
    return VMM_OK;
}

static void
ke_kunmap(vaddr_t va)
{
    (void)va;
}

static void
ke_zero_frame(paddr_t pa)
{
    memset((void *)ke_ptr(pa), 0, PAGE_SIZE);
}

static void
ke_stats(struct vmm_stats *st)
{
    (void)st;
}

static const struct vmm_ops kv_early_ops = {
    .name = "early",
    .summary = "directories, tables and frames reached at their alias in the early mapping",
    .pmm = &pmm_bitmap_ops,
    .reach_frames = EARLY_MAP_SIZE >> PAGE_SHIFT,
    .reach = &ke_reach,
    .boot = ke_boot,
    .create = ke_create,
    .kmap = ke_kmap,
    .kunmap = ke_kunmap,
    .zero_frame = ke_zero_frame,
    .flushed = NULL,
    .stats = ke_stats,
};

struct kv_fake kv_fake;

/* The figures of kv_fake_strategy at step i. */
static void
kv_fake_figures(uint32_t i, uint32_t free0)
{
    struct vmm_stats st;
    vmm_stats(&st);
    kv_fake.spaces[i] = st.spaces;
    kv_fake.pd_frames[i] = st.pd_frames;
    kv_fake.user_pt_frames[i] = st.pt_frames - st.kernel_pt_frames;
    kv_fake.frames_taken[i] = free0 - kv_free_frames();
}

void
kv_fake_strategy(void *arg)
{
    (void)arg;
    ka_paging_on(NULL);
    placement_init(KA_PLACEMENT_PA, KA_PLACEMENT_END);
    if (!pmm_bitmap_ops.init(KA_NFRAMES))
        arch_panic("kv_fake_strategy: no placement memory for the bitmap");
    pmm_bitmap_ops.release(KA_FRAMES_PA, (KA_RAM_SIZE - KA_FRAMES_PA) >> PAGE_SHIFT);
    pmm_use(&pmm_bitmap_ops);
    KV_OK(vmm_boot(&kv_early_ops, KA_NFRAMES, 0));
    pmm_set_zero_fn(kv_early_ops.zero_frame);
    uint32_t free0 = kv_free_frames();
    uint32_t a = 0, b = 0, c = 0;
    KV_OK(vmm_space_create(&a));
    KV_OK(vmm_space_create(&b));
    KV_OK(vmm_map_range(a, KV_VA, 2 * PAGE_SIZE, VMM_MAP_WRITE | VMM_MAP_USER));
    KV_OK(vmm_space_fork(a, &c));
    kv_fake_figures(0, free0);
    KV_OK(vmm_space_destroy(a));
    KV_OK(vmm_space_destroy(b));
    KV_OK(vmm_space_destroy(c));
    kv_fake_figures(1, free0);
}

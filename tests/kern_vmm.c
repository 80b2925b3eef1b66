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
#include "allocators/pmm.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

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
kv_stats_read(void *arg)
{
    struct kv_stats *k = arg;
    vmm_stats(&k->vmm);
    pmm_stats(&k->pmm);
    heap_stats(&k->heap);
    pageheap_stats(&k->pageheap);
}

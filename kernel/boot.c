/*
 * boot.c - the boot sequence shared by the simulator and the bare-metal
 * kernel (boot.h): placement allocator, physical memory manager, kernel
 * directory through the chosen paging strategy, kernel and page heaps.
 */
#include "kernel/boot.h"

#include <stdbool.h>
#include <stddef.h>

#include "allocators/heap.h"
#include "allocators/pageheap.h"
#include "allocators/placement.h"
#include "allocators/pmm.h"
#include "allocators/vmm.h"
#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

/* Frames the stack allocator zeroes at boot for its pre-zeroed pool. */
#define BOOT_PREZERO_FRAMES 16u

static vaddr_t boot_mod_va;

const char *
boot_strerror(enum boot_status st)
{
    switch (st) {
    case BOOT_OK:
        return "ok";
    case BOOT_BAD_INFO:
        return "inconsistent boot information";
    case BOOT_UNKNOWN_STRATEGY:
        return "unknown paging strategy";
    case BOOT_UNKNOWN_PMM:
        return "unknown frame allocator";
    case BOOT_NO_MEMORY:
        return "not enough memory for the boot structures";
    case BOOT_VMM_FAILED:
        return "the paging strategy could not build the kernel directory";
    }
    return "unknown boot status";
}

/* Usable frames [*lo, *hi) of a memory-map entry (whole frames only). */
static bool
boot_entry_frames(const struct boot_mmap_entry *e, uint32_t *lo, uint32_t *hi)
{
    if (e->type != BOOT_MMAP_USABLE)
        return false;
    uint64_t first = ((uint64_t)e->base + PAGE_SIZE - 1) >> PAGE_SHIFT;
    uint64_t end = ((uint64_t)e->base + e->length) >> PAGE_SHIFT;
    if (end <= first)
        return false;
    *lo = (uint32_t)first;
    *hi = (uint32_t)end;
    return true;
}

/* Frames [first, end) covering [start, end) bytes, rounded outward. */
static void
boot_hole(paddr_t start, paddr_t end, uint32_t hole[2])
{
    hole[0] = start >> PAGE_SHIFT;
    hole[1] =
        (uint32_t)((((uint64_t)end + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1)) >> PAGE_SHIFT);
}

/*
 * Gives frames [lo, hi) to the PMM less the holes, one release per piece.
 * Cutting the holes out here, rather than reserving them after a release
 * of everything, spares the stack allocator a pass over its stack for each
 * reserved range.
 */
static void
boot_release(const struct pmm_ops *pmm, uint32_t lo, uint32_t hi, uint32_t holes[][2],
             unsigned nholes)
{
    while (lo < hi) {
        uint32_t end = hi;
        bool inside = false;
        for (unsigned i = 0; i < nholes; i++) {
            if (holes[i][0] <= lo && lo < holes[i][1]) {
                lo = holes[i][1];
                inside = true;
                break;
            }
            if (holes[i][0] > lo && holes[i][0] < end)
                end = holes[i][0];
        }
        if (inside)
            continue;
        pmm->release(lo << PAGE_SHIFT, end - lo);
        lo = end;
    }
}

void
boot_set_kernel4m(bool on)
{
    vmm_set_kernel4m(on);
}

enum boot_status
kernel_boot(const struct boot_info *bi, const char *strategy, const char *pmm_name)
{
    const struct vmm_ops *vops = vmm_find(strategy);
    if (vops == NULL)
        return BOOT_UNKNOWN_STRATEGY;
    /* The early mapping, and the direct map a strategy may grow from it. */
    arch_region(REGION_DIRECTMAP, PHYSMAP_BASE, PHYSMAP_END - 1);
    const struct pmm_ops *pops = pmm_find(pmm_name);
    if (pops == NULL)
        return BOOT_UNKNOWN_PMM;

    uint32_t nmap = bi->mmap_count;
    paddr_t kstart = bi->kernel_start, kend = bi->kernel_end;
    paddr_t mstart = bi->modules_start, mend = bi->modules_end;
    if (nmap == 0 || nmap > BOOT_MMAP_MAX || bi->early_map_size != EARLY_MAP_SIZE ||
        kstart >= kend || mstart > mend || kend > EARLY_MAP_SIZE || mend > EARLY_MAP_SIZE)
        return BOOT_BAD_INFO;

    /* The top of usable RAM, and the usable frames past the strategy's reach. */
    uint32_t reach = vops->reach_frames, top = 0, unreachable = 0;
    for (uint32_t i = 0; i < nmap; i++) {
        uint32_t lo, hi;
        if (!boot_entry_frames(&bi->mmap[i], &lo, &hi))
            continue;
        if (hi > top)
            top = hi;
        if (hi > reach)
            unreachable += hi - (lo > reach ? lo : reach);
    }
    uint32_t nframes = top < reach ? top : reach;
    if (nframes == 0)
        return BOOT_BAD_INFO;

    /* Placement memory: from the end of the image and modules to the end of
     * their usable region or of the early mapping. */
    paddr_t pstart = PAGE_ROUND_UP(kend > mend ? kend : mend);
    paddr_t plimit = 0;
    for (uint32_t i = 0; i < nmap; i++) {
        uint32_t lo, hi;
        if (boot_entry_frames(&bi->mmap[i], &lo, &hi) && (pstart >> PAGE_SHIFT) >= lo &&
            (pstart >> PAGE_SHIFT) < hi)
            plimit = hi < (EARLY_MAP_SIZE >> PAGE_SHIFT) ? hi << PAGE_SHIFT : EARLY_MAP_SIZE;
    }
    if (plimit <= pstart)
        return BOOT_NO_MEMORY;
    placement_init(pstart, plimit);

    /* Frames: usable RAM, less the first MiB (real-mode structures and the
     * boot information), the image, the modules and placement memory. */
    if (!pops->init(nframes))
        return BOOT_NO_MEMORY;
    pmm_use(pops);
    uint32_t holes[4][2];
    boot_hole(0, KERNEL_LOAD_PA, holes[0]);
    boot_hole(kstart, kend, holes[1]);
    boot_hole(mstart, mend, holes[2]);
    boot_hole(pstart, plimit, holes[3]);
    for (uint32_t i = 0; i < nmap; i++) {
        uint32_t lo, hi;
        if (boot_entry_frames(&bi->mmap[i], &lo, &hi) && lo < nframes)
            boot_release(pops, lo, hi < nframes ? hi : nframes, holes, 4);
    }

    /* The kernel directory; from here frames are zeroed the strategy's way. */
    enum vmm_status vst = vmm_boot(vops, top, unreachable);
    if (vst != VMM_OK) {
        kprintf("boot: %s: %s", vops->name, vmm_strerror(vst));
        return vst == VMM_NO_MEMORY ? BOOT_NO_MEMORY : BOOT_VMM_FAILED;
    }
    pmm_set_zero_fn(vops->zero_frame);

    /* The heaps (the page heap's bitmap is placement memory), then the rest
     * of placement memory goes to the PMM. */
    heap_init(KHEAP_START, KHEAP_END, vmm_heap_grow);
    if (!pageheap_init(PAGEHEAP_START, PAGEHEAP_END, vmm_heap_grow))
        return BOOT_NO_MEMORY;
    paddr_t used = placement_seal();
    if (used < plimit)
        pops->release(used, (plimit - used) >> PAGE_SHIFT);
    pmm_prezero(BOOT_PREZERO_FRAMES);
    boot_mod_va = P2V(mstart);

    struct pmm_stats ps;
    pmm_stats(&ps);
    kprintf("boot: paging %s, frames %s: %u of %u free, placement %u KiB", vops->name, pops->name,
            ps.free_frames, ps.total_frames, placement_used() >> 10);
    if (unreachable > 0)
        kprintf("boot: %s reaches %u MiB of RAM; %u MiB above it left unused", vops->name,
                reach >> (20 - PAGE_SHIFT), unreachable >> (20 - PAGE_SHIFT));
    return BOOT_OK;
}

vaddr_t
boot_modules_va(void)
{
    return boot_mod_va;
}

/*
 * vmm_boot.c - the kernel half: the kernel directory and the kernel tables
 * every space shares, made at boot from placement memory and reached
 * through the early mapping, and the copy of its PDEs each new directory gets.
 */
#include <stddef.h>

#include "allocators/placement.h"
#include "allocators/vmm.h"
#include "allocators/vmm_impl.h"
#include "allocators/vmm_strategy.h"
#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

static paddr_t vmm_kpd_pa;
static bool vmm_kernel4m; /* vmm_set_kernel4m */
/* Kernel tables by PDE index - KERNEL_PDX; 0 where the PDE has no table. */
static paddr_t vmm_ktables[NPDENTRIES - KERNEL_PDX];
/* PDEs [KERNEL_PDX, VMM_EARLY_PDE_END) hold the early mapping: their tables
 * are the boot directory's, in the kernel image, not placement memory. */
#define VMM_EARLY_PDE_END (KERNEL_PDX + EARLY_MAP_SIZE / LPAGE_SIZE)

void
vmm_set_kernel4m(bool on)
{
    vmm_kernel4m = on;
}

paddr_t
vmm_kernel_pd(void)
{
    return vmm_kpd_pa;
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
enum vmm_status
vmm_boot_directory(void)
{
    memset(vmm_ktables, 0, sizeof(vmm_ktables));
    vmm_kpd_pa = 0;
    paddr_t boot_pd = arch_read_cr3() & CR3_ADDR_MASK;
    if (boot_pd >= EARLY_MAP_SIZE)
        return VMM_UNREACHABLE;
    if (placement_alloc(PAGE_SIZE, PAGE_SIZE, &vmm_kpd_pa) == NULL)
        return VMM_NO_MEMORY;
    vmm_ctr.pd_frames++;
    vmm_ctr.boot_bytes += PAGE_SIZE;

    /* The early mapping: the boot directory's PDEs, so its tables stay in
     * use; or, with kernel4m, 4 MiB pages of the same translation.  The
     * directory is not in CR3 yet: nothing to invalidate. */
    volatile pde_t *pd = vmm_words(P2V(vmm_kpd_pa));
    volatile pde_t *bpd = vmm_words(P2V(boot_pd));
    bool large = vmm_kernel4m && (arch_read_cr4() & CR4_PSE);
    for (uint32_t pdx = KERNEL_PDX; pdx < VMM_EARLY_PDE_END; pdx++) {
        pde_t e = bpd[pdx];
        if (large)
            e = ((pdx - KERNEL_PDX) << PDX_SHIFT) | PTE_PS | VMM_KERNEL_PDE | vmm_kernel_global();
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

void
vmm_copy_kernel_pdes(volatile pde_t *pd)
{
    memcpy((void *)(pd + KERNEL_PDX), (const void *)(vmm_kpd_early() + KERNEL_PDX),
           VMM_NKPDE * sizeof(pde_t));
}

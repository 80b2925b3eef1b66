/*
 * kern_basic.c - kernel-style code for the simulator tests: raw pointers,
 * no libc, compiled with the kernel flags.  Physical layout used:
 *   0x00100000 page directory        0x00200000 data frame
 *   0x00101000 table for 0-4 MiB     0x00201000 second data frame
 *   0x00102000 table for 1 GiB       0x00202000 third data frame
 *   (identity map of the first 4 MiB)
 */
#include "tests/kern_basic.h"

#include <stddef.h>

#include "kernel/arch.h"

struct kt_result kt_result;

static void
identity_map_low(void)
{
    volatile pde_t *pd = (volatile pde_t *)KT_PD_PA; /* paging off: VA == PA */
    volatile pte_t *pt0 = (volatile pte_t *)KT_PT0_PA;
    for (uint32_t i = 0; i < NPTENTRIES; i++)
        pt0[i] = (i << PAGE_SHIFT) | PTE_P | PTE_W;
    pd[0] = KT_PT0_PA | PTE_P | PTE_W;
    pd[RECURSIVE_SLOT] = KT_PD_PA | PTE_P | PTE_W;
}

/* Paging on over the low identity map, then the data page at KT_DATA_VA
 * mapped through the self-map: PDE 256 gets a page table (written through
 * the self-map's directory page), then the page's PTE is written through
 * the 0xFFC00000 window.  Returns that table as the window shows it. */
static pte_t *
map_data_page(void)
{
    identity_map_low();
    arch_enable_paging(KT_PD_PA);
    volatile pde_t *self = (volatile pde_t *)RECURSIVE_PD;
    self[PDX(KT_DATA_VA)] = KT_PT256_PA | PTE_P | PTE_W;
    arch_invlpg(RECURSIVE_PT_BASE + PDX(KT_DATA_VA) * PAGE_SIZE);
    pte_t *pt = (pte_t *)(RECURSIVE_PT_BASE + PDX(KT_DATA_VA) * PAGE_SIZE);
    ((volatile pte_t *)pt)[PTX(KT_DATA_VA)] = KT_DATA_PA | PTE_P | PTE_W;
    return pt;
}

void
kt_recursive(void *arg)
{
    (void)arg;
    volatile pte_t *pt = map_data_page();

    volatile uint32_t *data = (volatile uint32_t *)KT_DATA_VA;
    data[0] = 0x1234;
    kt_result.value = data[1];

    /* Remap without INVLPG: the TLB still holds the old frame. */
    pt[PTX(KT_DATA_VA)] = KT_DATA2_PA | PTE_P | PTE_W;
    data[2] = 0x5678;
    arch_invlpg(KT_DATA_VA);
    data[3] = 0x9abc;
}

void
kt_atomic_remap(void *arg)
{
    (void)arg;
    pte_t *pt = map_data_page();

    volatile uint32_t *data = (volatile uint32_t *)KT_DATA_VA;
    data[0] = 0x1234;
    /* Remap with an atomic exchange, without INVLPG: the TLB still holds
     * the old frame. */
    kt_result.value =
        __atomic_exchange_n(&pt[PTX(KT_DATA_VA)], KT_DATA2_PA | PTE_P | PTE_W, __ATOMIC_SEQ_CST);
    data[1] = 0x5678;
}

void
kt_paging_on(void *arg)
{
    (void)arg;
    identity_map_low();
    arch_enable_paging(KT_PD_PA);
}

void
kt_wild(void *arg)
{
    volatile uint32_t *p = arg; /* an address the host test picks */
    kt_result.value = *p;
}

void
kt_unmapped(void *arg)
{
    (void)arg;
    kt_paging_on(NULL);
    volatile uint32_t *p = (volatile uint32_t *)KT_DATA_VA;
    *p = 1;
}

static bool
demand_handler(vaddr_t cr2, uint32_t err)
{
    if (err & PF_ERR_P)
        return false;
    volatile pde_t *self = (volatile pde_t *)RECURSIVE_PD;
    if (!(self[PDX(cr2)] & PTE_P)) {
        self[PDX(cr2)] = KT_PT256_PA | PTE_P | PTE_W;
        arch_invlpg(RECURSIVE_PT_BASE + PDX(cr2) * PAGE_SIZE);
    }
    volatile pte_t *pt = (volatile pte_t *)(RECURSIVE_PT_BASE + PDX(cr2) * PAGE_SIZE);
    pt[PTX(cr2)] = (KT_DATA_PA + kt_result.faults * PAGE_SIZE) | PTE_P | PTE_W;
    kt_result.faults++;
    return true;
}

void
kt_demand(void *arg)
{
    (void)arg;
    kt_paging_on(NULL);
    arch_set_pf_handler(demand_handler);
    volatile uint32_t *p = (volatile uint32_t *)KT_DATA_VA;
    p[0] = 7;
    p[PAGE_SIZE / 4] = 8;
    kt_result.value = p[0] + p[PAGE_SIZE / 4];
}

static bool
faulting_handler(vaddr_t cr2, uint32_t err)
{
    (void)cr2;
    (void)err;
    volatile uint32_t *p = (volatile uint32_t *)0x80000000u;
    return *p != 0;
}

void
kt_fault_in_handler(void *arg)
{
    (void)arg;
    kt_paging_on(NULL);
    arch_set_pf_handler(faulting_handler);
    volatile uint32_t *p = (volatile uint32_t *)KT_DATA_VA;
    *p = 1;
}

void
kt_panic(void *arg)
{
    (void)arg;
    arch_panic("out of frames");
}

void
kt_cross_page(void *arg)
{
    (void)arg;
    kt_paging_on(NULL);
    /* An unaligned word across the boundary of two identity pages. */
    volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)(KT_DATA_PA - 2);
    *p = 0xAABBCCDDu;
    kt_result.value = *p;
}

void
kt_user_access(void *arg)
{
    (void)arg;
    kt_paging_on(NULL);
    volatile pte_t *pt0 = (volatile pte_t *)RECURSIVE_PT_BASE;
    /* 0x3000: user read-only; 0x4000: supervisor only. */
    pt0[3] = 0x3000u | PTE_P | PTE_U;
    pt0[4] = 0x4000u | PTE_P | PTE_W;
    volatile pde_t *self = (volatile pde_t *)RECURSIVE_PD;
    self[0] |= PTE_U;
    arch_flush_tlb();
    kt_result.value = arch_user_read(0x3000, 4);
    arch_user_write(0x3000, 4, 1); /* #PF: P|W|U = 7, no handler */
}

void
kt_null_mapped(void *arg)
{
    (void)arg;
    kt_paging_on(NULL);
    volatile uint32_t *p = (volatile uint32_t *)0x10u; /* page 0 is identity-mapped */
    kt_result.value = *p;
}

void
kt_null_unmapped(void *arg)
{
    (void)arg;
    kt_paging_on(NULL);
    volatile pte_t *pt0 = (volatile pte_t *)RECURSIVE_PT_BASE;
    pt0[0] = 0;
    arch_invlpg(0);
    volatile uint32_t *p = (volatile uint32_t *)0x10u;
    kt_result.value = *p;
}

void
kt_user_then_kernel(void *arg)
{
    (void)arg;
    kt_paging_on(NULL);
    volatile uint32_t *f3 = (volatile uint32_t *)0x3000u, *f5 = (volatile uint32_t *)0x5000u;
    *f3 = 0x11111111u;
    *f5 = 0x22222222u;
    volatile pde_t *self = (volatile pde_t *)RECURSIVE_PD;
    volatile pte_t *pt0 = (volatile pte_t *)RECURSIVE_PT_BASE;
    self[0] |= PTE_U;
    pt0[3] = 0x5000u | PTE_P | PTE_W | PTE_U; /* VA 0x3000 now maps frame 0x5000 */
    arch_flush_tlb();
    (void)arch_user_read(0x3000, 4);
    (void)arch_user_read(0x3000, 4);
    kt_result.value = *f3;
}

/* 1 GiB gets the table at KT_PT256_PA, user-accessible: returns its PTEs. */
static volatile pte_t *
user_table_256(void)
{
    volatile pde_t *self = (volatile pde_t *)RECURSIVE_PD;
    self[PDX(KT_DATA_VA)] = KT_PT256_PA | PTE_P | PTE_W | PTE_U;
    arch_invlpg(RECURSIVE_PT_BASE + PDX(KT_DATA_VA) * PAGE_SIZE);
    return (volatile pte_t *)(RECURSIVE_PT_BASE + PDX(KT_DATA_VA) * PAGE_SIZE);
}

/* Maps the page after KT_DATA_VA (frame 3) and moves KT_DATA_VA from frame
 * 1 to frame 2, with the INVLPG that makes the move seen. */
static bool
moving_handler(vaddr_t cr2, uint32_t err)
{
    (void)err;
    if (cr2 != KT_DATA_VA + PAGE_SIZE)
        return false;
    volatile pte_t *pt = (volatile pte_t *)(RECURSIVE_PT_BASE + PDX(KT_DATA_VA) * PAGE_SIZE);
    pt[PTX(KT_DATA_VA) + 1] = KT_DATA3_PA | PTE_P | PTE_W | PTE_U;
    pt[PTX(KT_DATA_VA)] = KT_DATA2_PA | PTE_P | PTE_W | PTE_U;
    arch_invlpg(KT_DATA_VA);
    kt_result.faults++;
    return true;
}

/*
 * A 4-byte write of 0xAABBCCDD at KT_DATA_VA + 4094, which crosses into the
 * unmapped next page: a kernel store if arg is NULL, a user one otherwise.
 * The first page is mapped on frame 1 and cached in the TLB first.
 */
void
kt_cross_retry(void *arg)
{
    kt_paging_on(NULL);
    volatile pte_t *pt = user_table_256();
    pt[PTX(KT_DATA_VA)] = KT_DATA_PA | PTE_P | PTE_W | PTE_U;
    kt_result.value = *(volatile uint32_t *)KT_DATA_VA; /* TLB: KT_DATA_VA -> frame 1 */
    arch_set_pf_handler(moving_handler);
    vaddr_t va = KT_DATA_VA + PAGE_SIZE - 2;
    if (arg == NULL)
        *(volatile uint32_t *)(uintptr_t)va = 0xAABBCCDDu;
    else
        arch_user_write(va, 4, 0xAABBCCDDu);
}

static bool
refusing_handler(vaddr_t cr2, uint32_t err)
{
    (void)cr2;
    (void)err;
    kt_result.faults++;
    return false;
}

/* A user write of 0xAABBCCDD at KT_DATA_VA + 4094 (frame 1, user-writable)
 * crossing into the unmapped next page, whose fault the handler refuses. */
void
kt_user_cross_refused(void *arg)
{
    (void)arg;
    kt_paging_on(NULL);
    volatile pte_t *pt = user_table_256();
    pt[PTX(KT_DATA_VA)] = KT_DATA_PA | PTE_P | PTE_W | PTE_U;
    arch_set_pf_handler(refusing_handler);
    arch_user_write(KT_DATA_VA + PAGE_SIZE - 2, 4, 0xAABBCCDDu);
}

/* A call chain for the trace: kt_chain -> kt_chain_middle -> kt_chain_inner,
 * which invalidates KT_DATA_VA.  Kept as calls, each with its own frame. */
static __attribute__((noinline)) void
kt_chain_inner(void)
{
    arch_invlpg(KT_DATA_VA);
    kt_result.value++;
}

static __attribute__((noinline)) void
kt_chain_middle(void)
{
    kt_chain_inner();
    kt_result.value++;
}

void
kt_chain(void *arg)
{
    (void)arg;
    kt_paging_on(NULL);
    kt_chain_middle();
}

/* Kernel statics as a boot leaves them: runs in bss (0), seed in data (7). */
static uint32_t kt_runs;
static uint32_t kt_seed = 7;

void
kt_count_runs(void *arg)
{
    uint32_t *out = arg;
    out[0] = ++kt_runs;
    out[1] = ++kt_seed;
}

/* Asks for PAE paging, which the model does not do. */
void
kt_set_pae(void *arg)
{
    (void)arg;
    arch_write_cr4(arch_read_cr4() | CR4_PAE);
    kt_result.value = 1; /* not reached */
}

/* Windows named as a strategy of its own would name them (paging off:
 * addresses are physical); see test_sim_regions_counted. */
void
kt_regions(void *arg)
{
    (void)arg;
    volatile uint32_t *m = (volatile uint32_t *)0x200000u;
    (void)m[1024 + 1]; /* 0x201004: before any region exists */
    arch_region("inner", 0x201000u, 0x201FFFu);
    arch_region("outer", 0x200000u, 0x203FFFu);
    arch_region("inner", 0x208000u, 0x208FFFu);
    (void)m[1024];                         /* 0x201000: inner (registered before outer) */
    (void)m[1];                            /* 0x200004: outer */
    m[4095] = 1;                           /* 0x203FFC: outer, its last word */
    (void)m[8 * 1024];                     /* 0x208000: inner, its second window */
    (void)m[4 * 1024];                     /* 0x204000: past outer, in none */
    (void)*(volatile uint32_t *)0x1FF000u; /* below every region */
}

/* Publishes figures and spaces around a mark; see test_sim_published. */
void
kt_publish(void *arg)
{
    (void)arg;
    arch_figure("a", 1);
    arch_figure("b", 2);
    arch_figure("a", 3);
    arch_space(4, 0x1000u, true);
    arch_space(7, 0x2000u, false);
    arch_mark(0);
    arch_figure("b", 5);
}

void
kt_store_data(void *arg)
{
    *(volatile uint32_t *)KT_DATA_VA = (uint32_t)(uintptr_t)arg;
}

void
kt_store_back_then(void *arg)
{
    volatile uint32_t *p = (volatile uint32_t *)KT_DATA_VA;
    uint32_t v = *p;
    *p = v;
    *p = v;
    *p = (uint32_t)(uintptr_t)arg;
}

/*
 * check_mmu.c - unit tests of the IA-32 32-bit paging MMU model (mmu/mmu.h).
 *
 * Expected values come from the Intel SDM Vol. 3A chapter 4 (32-bit paging):
 * 4.3 (the walk), 4.6 (access rights), 4.7 (page-fault error code), 4.8
 * (accessed and dirty flags) and 4.10 (TLBs and their invalidation), plus
 * the model's own documented contract in mmu.h where the SDM leaves a choice
 * (for example: nothing is cached on a fault, and a PDE used to find the
 * page table gets A even when the PTE then faults, as on hardware).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/mmu.h"

/* Physical layout used by every test (all inside RAM_SIZE). */
#define RAM_SIZE (8u << 20)
#define PD_PA 0x00001000u  /* page directory */
#define PT_PA 0x00002000u  /* page table for PDX 1 */
#define PT2_PA 0x00003000u /* another page table (bits 13 and 12 set) */
#define FRAME_A 0x00055000u
#define FRAME_B 0x00066000u
#define LFRAME 0x00400000u /* a 4 MiB frame */

/* VA: PDX 1, PTX 3, offset 0xABC.  LVA: PDX 2, offset 0x2BCDEF in its 4 MiB page. */
#define VA 0x00403ABCu
#define LVA 0x00ABCDEFu

static uint8_t *ram;
static struct mmu m;
static struct mmu_counters base;
static struct mmu_result res;
static struct mmu_fault flt;

/* Counter change since the last mark(). */
#define DELTA(f) (m.ctr.f - base.f)

static void
mark(void)
{
    base = m.ctr;
}

static void
setup_with(const struct mmu_config *cfg)
{
    ram = calloc(RAM_SIZE, 1);
    ck_assert_ptr_nonnull(ram);
    ck_assert(mmu_init(&m, cfg, ram, RAM_SIZE));
    mark();
}

static void
setup_default(void)
{
    struct mmu_config cfg;
    mmu_config_default(&cfg);
    setup_with(&cfg);
}

/* The default configuration with a 4 KiB TLB of entries in entries / ways sets. */
static struct mmu_config
tlb4k_config(uint32_t entries, uint32_t ways)
{
    struct mmu_config cfg;
    mmu_config_default(&cfg);
    cfg.tlb4k.entries = entries;
    cfg.tlb4k.ways = ways;
    return cfg;
}

/* 4 KiB TLB of 4 entries, 2 ways: 2 sets, set = vpn % 2. */
static void
setup_small_tlb(void)
{
    struct mmu_config cfg = tlb4k_config(4, 2);
    setup_with(&cfg);
}

/* Makes m anew, over the same RAM, with the 4 KiB TLB of tlb4k_config(). */
static void
remake_with_tlb4k(uint32_t entries, uint32_t ways)
{
    struct mmu_config cfg = tlb4k_config(entries, ways);
    mmu_fini(&m);
    ck_assert(mmu_init(&m, &cfg, ram, RAM_SIZE));
}

static void
teardown(void)
{
    mmu_fini(&m);
    free(ram);
    ram = NULL;
}

static uint32_t
rd32(paddr_t pa)
{
    uint32_t v;
    memcpy(&v, ram + pa, sizeof(v));
    return v;
}

static void
wr32(paddr_t pa, uint32_t v)
{
    memcpy(ram + pa, &v, sizeof(v));
}

static paddr_t
pde_pa(vaddr_t va)
{
    return PD_PA + PDX(va) * 4u;
}

static paddr_t
pte_pa(paddr_t pt, vaddr_t va)
{
    return pt + PTX(va) * 4u;
}

static void
map4k(vaddr_t va, uint32_t pde_flags, paddr_t frame, uint32_t pte_flags)
{
    wr32(pde_pa(va), PT_PA | pde_flags);
    wr32(pte_pa(PT_PA, va), frame | pte_flags);
}

static void
map4m(vaddr_t va, paddr_t frame, uint32_t pde_flags)
{
    wr32(pde_pa(va), frame | PTE_PS | pde_flags);
}

/* Loads CR4, CR3 = PD_PA, then turns paging on; counters are re-marked. */
static void
paging_on(uint32_t cr4, uint32_t cr0_extra)
{
    mmu_write_cr4(&m, cr4);
    mmu_write_cr3(&m, PD_PA);
    mmu_write_cr0(&m, CR0_PE | CR0_PG | cr0_extra);
    mark();
}

static enum mmu_status
xl(vaddr_t va, enum mmu_access acc)
{
    memset(&res, 0, sizeof(res));
    memset(&flt, 0, sizeof(flt));
    return mmu_translate(&m, va, acc, &res, &flt);
}

static bool
cached4k(vaddr_t va)
{
    return tlb_find(&m.tlb4k, va >> PAGE_SHIFT) != NULL;
}

static bool
cached4m(vaddr_t va)
{
    return tlb_find(&m.tlb4m, va >> PDX_SHIFT) != NULL;
}

static void
expect_ok(vaddr_t va, enum mmu_access acc, paddr_t pa)
{
    enum mmu_status st = xl(va, acc);
    ck_assert_int_eq(st, MMU_OK);
    ck_assert_uint_eq(res.pa, pa);
}

static void
expect_fault(vaddr_t va, enum mmu_access acc, uint32_t err)
{
    enum mmu_status st = xl(va, acc);
    ck_assert_int_eq(st, MMU_PAGE_FAULT);
    ck_assert_uint_eq(flt.error_code, err);
    ck_assert_uint_eq(flt.cr2, va);
    ck_assert_uint_eq(m.cr2, va);
}

/*
 * The reference rule: the outcome of one access under 32-bit paging, from
 * the SDM text alone.  `pde` is the PDE; `pte` the PTE, or NULL when the PDE
 * maps a 4 MiB page (CR4.PSE=1 and PDE.PS=1) and is the final entry.
 */
struct sdm_outcome {
    bool fault;
    uint32_t error_code;
};

static struct sdm_outcome
sdm_reference(uint32_t pde, const uint32_t *pte, enum mmu_access acc, bool wp)
{
    const bool write = (acc & MMU_ACCESS_WRITE) != 0;
    const bool user = (acc & MMU_ACCESS_USER) != 0;
    /* 4.7: W/R = the access was a write; U/S = it was made in user mode. */
    struct sdm_outcome o = {
        .fault = true,
        .error_code = (write ? PF_ERR_W : 0) | (user ? PF_ERR_U : 0),
    };
    const uint32_t entries[2] = {pde, pte != NULL ? *pte : 0};
    const int n = pte != NULL ? 2 : 1;
    bool u = true, w = true;

    for (int i = 0; i < n; i++) {
        /* 4.3: an entry with P=0 ends the walk; 4.7: error code P=0. */
        if (!(entries[i] & PTE_P))
            return o;
        /*
         * 4.3 / Table 4-4: in a PDE mapping a 4 MiB page, bits 21:13 are
         * reserved when MAXPHYADDR = 32; 4.7: P=1 and RSVD=1.
         */
        if (pte == NULL && (entries[i] & PDE_LRSVD_MASK)) {
            o.error_code |= PF_ERR_P | PF_ERR_RSVD;
            return o;
        }
        /* 4.6.1: the translation is user (writable) iff U/S (R/W) is 1 in every entry. */
        u = u && (entries[i] & PTE_U);
        w = w && (entries[i] & PTE_W);
    }

    bool allowed;
    if (user) {
        /* 4.6.1: user reads need U/S=1; user writes also need R/W=1, whatever CR0.WP. */
        allowed = u && (!write || w);
    } else {
        /* 4.6.1: supervisor reads are always allowed; supervisor writes
         * need R/W=1 only if CR0.WP=1. */
        allowed = !write || !wp || w;
    }
    if (allowed) {
        o.fault = false;
        o.error_code = 0;
    } else {
        o.error_code |= PF_ERR_P; /* 4.7: P=1, a protection violation */
    }
    return o;
}

static uint32_t
pwu_bits(unsigned b)
{
    return ((b & 1u) ? PTE_P : 0) | ((b & 2u) ? PTE_W : 0) | ((b & 4u) ? PTE_U : 0);
}

/*
 * Rights combination i of 512: bits 0-2 PDE P/W/U, bits 3-5 PTE P/W/U,
 * bits 6-7 the access kind, bit 8 CR0.WP.
 */
#define RIGHTS_4K_COMBOS 512

struct combo {
    uint32_t pde, pte;
    enum mmu_access acc;
    bool wp;
};

static struct combo
decode_4k(int i)
{
    struct combo c = {
        .pde = PT_PA | pwu_bits((unsigned)i & 7u),
        .pte = FRAME_A | pwu_bits(((unsigned)i >> 3) & 7u),
        .acc = (enum mmu_access)(((unsigned)i >> 6) & 3u),
        .wp = (((unsigned)i >> 8) & 1u) != 0,
    };
    return c;
}

/* Every PDE/PTE P,R/W,U/S x access kind x CR0.WP combination, on a TLB miss. */
START_TEST(test_mmu_rights_table_4k)
{
    const struct combo c = decode_4k(_i);
    const bool write = (c.acc & MMU_ACCESS_WRITE) != 0;
    const struct sdm_outcome exp = sdm_reference(c.pde, &c.pte, c.acc, c.wp);
    wr32(pde_pa(VA), c.pde);
    wr32(pte_pa(PT_PA, VA), c.pte);
    paging_on(0, c.wp ? CR0_WP : 0);

    enum mmu_status st = xl(VA, c.acc);
    ck_assert_uint_eq(DELTA(walks), 1);
    ck_assert_uint_eq(DELTA(tlb_misses), 1);
    if (exp.fault) {
        ck_assert_int_eq(st, MMU_PAGE_FAULT);
        ck_assert_uint_eq(flt.error_code, exp.error_code);
        ck_assert_uint_eq(flt.cr2, VA);
        ck_assert_uint_eq(m.cr2, VA);
        ck_assert_int_eq(flt.access, c.acc);
        ck_assert(!flt.from_tlb);
        /* 4.3: the walk stops at the PDE when it is not present. */
        ck_assert_uint_eq(DELTA(walk_reads), (c.pde & PTE_P) ? 2 : 1);
        /* 4.8: a present PDE was used to find the table, so it gets A
         * (none of these PDEs has A yet: one update); a PDE that is not
         * present was not used.  The PTE, final entry of a failed walk, is
         * left as it was, and nothing is cached. */
        const bool pde_used = (c.pde & PTE_P) != 0;
        ck_assert_uint_eq(rd32(pde_pa(VA)), pde_used ? (c.pde | PTE_A) : c.pde);
        ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)), c.pte);
        ck_assert_uint_eq(DELTA(ad_updates), pde_used ? 1 : 0);
        ck_assert(!cached4k(VA));
        ck_assert(!cached4m(VA));
        ck_assert_uint_eq(DELTA(faults), 1);
        ck_assert_uint_eq(DELTA(faults_by_code[exp.error_code]), 1);
    } else {
        ck_assert_int_eq(st, MMU_OK);
        ck_assert_uint_eq(res.pa, FRAME_A | PGOFF(VA));
        ck_assert_uint_eq(res.page_size, PAGE_SIZE);
        ck_assert(!res.tlb_hit);
        ck_assert_uint_eq(DELTA(walk_reads), 2);
        /* 4.8: A set in both entries used; D only in the PTE, on a write. */
        ck_assert_uint_eq(rd32(pde_pa(VA)), c.pde | PTE_A);
        ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)), c.pte | PTE_A | (write ? PTE_D : 0));
        ck_assert_uint_eq(DELTA(ad_updates), 2);
        ck_assert(cached4k(VA));
        ck_assert_uint_eq(DELTA(faults), 0);
        ck_assert_uint_eq(m.cr2, 0);
    }

    /* The same access again: a success now hits the TLB, a fault walks again. */
    mark();
    st = xl(VA, c.acc);
    if (exp.fault) {
        ck_assert_int_eq(st, MMU_PAGE_FAULT);
        ck_assert_uint_eq(flt.error_code, exp.error_code);
        ck_assert_uint_eq(DELTA(walks), 1);
    } else {
        ck_assert_int_eq(st, MMU_OK);
        ck_assert(res.tlb_hit);
        ck_assert_uint_eq(res.pa, FRAME_A | PGOFF(VA));
        ck_assert_uint_eq(DELTA(tlb_hits), 1);
        ck_assert_uint_eq(DELTA(walks), 0);
    }
}
END_TEST

/*
 * The same combinations checked against a cached entry: a supervisor read
 * (allowed whenever present) fills the TLB with CR0.WP at the other value,
 * WP is then switched (no flush), and the access under test must give the
 * outcome the SDM rule gives for the current WP.
 */
START_TEST(test_mmu_rights_table_4k_cached)
{
    const struct combo c = decode_4k(_i);
    const bool write = (c.acc & MMU_ACCESS_WRITE) != 0;
    wr32(pde_pa(VA), c.pde);
    wr32(pte_pa(PT_PA, VA), c.pte);
    paging_on(0, c.wp ? 0 : CR0_WP);

    const struct sdm_outcome fill = sdm_reference(c.pde, &c.pte, MMU_SUP_READ, !c.wp);
    enum mmu_status st = xl(VA, MMU_SUP_READ);
    ck_assert_int_eq(st, fill.fault ? MMU_PAGE_FAULT : MMU_OK);
    ck_assert_uint_eq(cached4k(VA), !fill.fault);

    mmu_write_cr0(&m, CR0_PE | CR0_PG | (c.wp ? CR0_WP : 0));
    ck_assert_uint_eq(cached4k(VA), !fill.fault); /* WP changes flush nothing */
    const uint32_t pde_now = rd32(pde_pa(VA)), pte_now = rd32(pte_pa(PT_PA, VA));
    const struct sdm_outcome exp = sdm_reference(pde_now, &pte_now, c.acc, c.wp);
    mark();
    st = xl(VA, c.acc);
    if (exp.fault) {
        ck_assert_int_eq(st, MMU_PAGE_FAULT);
        ck_assert_uint_eq(flt.error_code, exp.error_code);
        ck_assert_uint_eq(m.cr2, VA);
        /* Contract: a cached entry denying the access faults without a walk. */
        ck_assert(flt.from_tlb == !fill.fault);
        ck_assert_uint_eq(DELTA(walks), fill.fault ? 1 : 0);
        /* SDM 4.10.4.1: the #PF invalidates the faulting address's entry. */
        ck_assert(!cached4k(VA));
        ck_assert_uint_eq(DELTA(dropped_fault), fill.fault ? 0 : 1);
        ck_assert_uint_eq(rd32(pde_pa(VA)), pde_now);
        ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)), pte_now);
    } else {
        ck_assert_int_eq(st, MMU_OK);
        ck_assert_uint_eq(res.pa, FRAME_A | PGOFF(VA));
        if (write) {
            /* The cached entry has D=0: the write walks again to set D (4.8). */
            ck_assert_uint_eq(DELTA(dirty_rewalks), 1);
            ck_assert_uint_eq(DELTA(walks), 1);
            ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)), pte_now | PTE_D);
        } else {
            ck_assert(res.tlb_hit);
            ck_assert_uint_eq(DELTA(tlb_hits), 1);
            ck_assert_uint_eq(DELTA(walks), 0);
        }
    }
}
END_TEST

/* 4 MiB pages: PDE P/W/U x access kind x CR0.WP (64 combinations). */
START_TEST(test_mmu_rights_table_4m)
{
    const uint32_t pde = LFRAME | PTE_PS | pwu_bits((unsigned)_i & 7u);
    const enum mmu_access acc = (enum mmu_access)(((unsigned)_i >> 3) & 3u);
    const bool wp = (((unsigned)_i >> 5) & 1u) != 0;
    const bool write = (acc & MMU_ACCESS_WRITE) != 0;
    const struct sdm_outcome exp = sdm_reference(pde, NULL, acc, wp);
    wr32(pde_pa(LVA), pde);
    paging_on(CR4_PSE, wp ? CR0_WP : 0);

    enum mmu_status st = xl(LVA, acc);
    ck_assert_uint_eq(DELTA(walk_reads), 1);
    if (exp.fault) {
        ck_assert_int_eq(st, MMU_PAGE_FAULT);
        ck_assert_uint_eq(flt.error_code, exp.error_code);
        ck_assert_uint_eq(m.cr2, LVA);
        ck_assert_uint_eq(rd32(pde_pa(LVA)), pde);
        ck_assert(!cached4m(LVA));
        ck_assert(!cached4k(LVA));
    } else {
        ck_assert_int_eq(st, MMU_OK);
        ck_assert_uint_eq(res.pa, LFRAME | LPGOFF(LVA));
        ck_assert_uint_eq(res.page_size, LPAGE_SIZE);
        /* 4.8: the PDE is the final entry: A, and D on a write. */
        ck_assert_uint_eq(rd32(pde_pa(LVA)), pde | PTE_A | (write ? PTE_D : 0));
        ck_assert(cached4m(LVA));
        ck_assert(!cached4k(LVA));
    }
}
END_TEST

START_TEST(test_mmu_4m_translate)
{
    map4m(LVA, LFRAME, PTE_P | PTE_W | PTE_U);
    paging_on(CR4_PSE, 0);
    expect_ok(LVA, MMU_USER_READ, 0x006BCDEFu); /* 0x00400000 | 0x2BCDEF */
    ck_assert_uint_eq(res.page_size, LPAGE_SIZE);
    ck_assert(!res.tlb_hit);
    ck_assert_uint_eq(DELTA(walk_reads), 1);
    ck_assert_uint_eq(tlb_find(&m.tlb4m, LVA >> PDX_SHIFT)->pfn, LFRAME >> PDX_SHIFT);

    /* Another 4 KiB page of the same 4 MiB page hits the same entry. */
    mark();
    expect_ok(0x00800000u, MMU_USER_READ, LFRAME);
    ck_assert(res.tlb_hit);
    ck_assert_uint_eq(res.page_size, LPAGE_SIZE);
    expect_ok(0x00BFFFFFu, MMU_SUP_READ, LFRAME | 0x3FFFFFu);
    ck_assert_uint_eq(DELTA(tlb_hits), 2);
    ck_assert_uint_eq(DELTA(walks), 0);

    /* The next 4 MiB region (PDX 3) is not mapped. */
    expect_fault(0x00C00000u, MMU_SUP_READ, 0);
}
END_TEST

/* Each of bits 21:13 x access kind x (PDE rights full or minimal): 72 cases. */
START_TEST(test_mmu_4m_reserved_bits)
{
    const unsigned bit = 13u + (unsigned)_i % 9u;
    const enum mmu_access acc = (enum mmu_access)(((unsigned)_i / 9u) & 3u);
    const uint32_t rights = ((unsigned)_i / 36u) ? (PTE_W | PTE_U) : 0;
    const uint32_t pde = LFRAME | PTE_PS | PTE_P | rights | (1u << bit);
    wr32(pde_pa(LVA), pde);
    paging_on(CR4_PSE, CR0_WP);

    /*
     * 4.7: a reserved bit in a present entry gives P=1, RSVD=1 plus the
     * access's W/R and U/S, even when the rights would also deny it: the
     * walk stops at the bad entry before rights are known.
     */
    uint32_t err = PF_ERR_P | PF_ERR_RSVD | ((acc & MMU_ACCESS_WRITE) ? PF_ERR_W : 0) |
                   ((acc & MMU_ACCESS_USER) ? PF_ERR_U : 0);
    ck_assert_uint_eq(sdm_reference(pde, NULL, acc, true).error_code, err);
    expect_fault(LVA, acc, err);
    ck_assert_uint_eq(rd32(pde_pa(LVA)), pde);
    ck_assert_uint_eq(DELTA(walk_reads), 1);
    ck_assert_uint_eq(DELTA(faults_by_code[err]), 1);
    ck_assert(!cached4m(LVA));
}
END_TEST

START_TEST(test_mmu_4m_reserved_bits_not_present)
{
    /* 4.7: reserved bits count only in present entries: P=0, RSVD=0. */
    map4m(LVA, LFRAME | PDE_LRSVD_MASK, 0);
    paging_on(CR4_PSE, 0);
    expect_fault(LVA, MMU_USER_WRITE, PF_ERR_W | PF_ERR_U);
}
END_TEST

START_TEST(test_mmu_4m_pat_bit_not_reserved)
{
    /* Bit 12 of a 4 MiB PDE is PAT (Table 4-4), not reserved. */
    map4m(LVA, LFRAME | PDE_LPAT, PTE_P | PTE_W);
    paging_on(CR4_PSE, 0);
    expect_ok(LVA, MMU_SUP_WRITE, LFRAME | LPGOFF(LVA));
}
END_TEST

START_TEST(test_mmu_pse_off_ps_ignored)
{
    /*
     * With CR4.PSE=0, PDE bit 7 is ignored (4.3): the PDE references a page
     * table, here at 0x3000 whose bit 13 would be reserved in a 4 MiB PDE.
     */
    const uint32_t pde = PT2_PA | PTE_PS | PTE_P | PTE_W | PTE_U;
    wr32(pde_pa(LVA), pde);
    wr32(pte_pa(PT2_PA, LVA), FRAME_B | PTE_P | PTE_W | PTE_U);
    paging_on(0, 0);
    expect_ok(LVA, MMU_USER_WRITE, FRAME_B | PGOFF(LVA));
    ck_assert_uint_eq(res.page_size, PAGE_SIZE);
    ck_assert_uint_eq(DELTA(walk_reads), 2);
    /* A PDE that references a page table gets A, never D (4.8). */
    ck_assert_uint_eq(rd32(pde_pa(LVA)), pde | PTE_A);
    ck_assert_uint_eq(rd32(pte_pa(PT2_PA, LVA)), FRAME_B | PTE_P | PTE_W | PTE_U | PTE_A | PTE_D);
    ck_assert(cached4k(LVA));
    ck_assert(!cached4m(LVA));

    /* The same PDE with CR4.PSE=1 maps a 4 MiB page with bit 13 set: RSVD. */
    mmu_write_cr4(&m, CR4_PSE);
    expect_fault(LVA, MMU_USER_READ, PF_ERR_P | PF_ERR_RSVD | PF_ERR_U);
}
END_TEST

START_TEST(test_mmu_pse_on_ps_clear_uses_table)
{
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U);
    paging_on(CR4_PSE, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    ck_assert_uint_eq(res.page_size, PAGE_SIZE);
    ck_assert_uint_eq(DELTA(walk_reads), 2);
}
END_TEST

START_TEST(test_mmu_4k_pte_pat_bit_ignored)
{
    /* Bit 7 of a PTE is PAT (Table 4-6): neither PS nor reserved. */
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U | PTE_PAT);
    paging_on(CR4_PSE, 0);
    expect_ok(VA, MMU_USER_WRITE, FRAME_A | PGOFF(VA));
    ck_assert_uint_eq(res.page_size, PAGE_SIZE);
}
END_TEST

START_TEST(test_mmu_read_sets_accessed_only)
{
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U);
    paging_on(0, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    ck_assert_uint_eq(rd32(pde_pa(VA)), PT_PA | PTE_P | PTE_W | PTE_U | PTE_A);
    ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)), FRAME_A | PTE_P | PTE_W | PTE_U | PTE_A);
    ck_assert_uint_eq(DELTA(walk_reads), 2);
    ck_assert_uint_eq(DELTA(ad_updates), 2);
    ck_assert(!tlb_find(&m.tlb4k, VA >> PAGE_SHIFT)->dirty);
}
END_TEST

START_TEST(test_mmu_write_sets_dirty_on_pte_only)
{
    map4k(VA, PTE_P | PTE_W, FRAME_A, PTE_P | PTE_W);
    paging_on(0, CR0_WP);
    expect_ok(VA, MMU_SUP_WRITE, FRAME_A | PGOFF(VA));
    ck_assert_uint_eq(rd32(pde_pa(VA)), PT_PA | PTE_P | PTE_W | PTE_A);
    ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)), FRAME_A | PTE_P | PTE_W | PTE_A | PTE_D);
    /* One write per entry: PDE (A) and PTE (A and D together). */
    ck_assert_uint_eq(DELTA(ad_updates), 2);
    ck_assert(tlb_find(&m.tlb4k, VA >> PAGE_SHIFT)->dirty);
}
END_TEST

START_TEST(test_mmu_ad_already_set_no_update)
{
    map4k(VA, PTE_P | PTE_W | PTE_A, FRAME_A, PTE_P | PTE_W | PTE_A | PTE_D);
    paging_on(0, 0);
    expect_ok(VA, MMU_SUP_WRITE, FRAME_A | PGOFF(VA));
    ck_assert_uint_eq(DELTA(ad_updates), 0);
    ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)), FRAME_A | PTE_P | PTE_W | PTE_A | PTE_D);
}
END_TEST

START_TEST(test_mmu_dirty_rewalk)
{
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U);
    paging_on(0, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    ck_assert_uint_eq(DELTA(walks), 1);
    ck_assert_uint_eq(DELTA(ad_updates), 2);

    /* 4.8: D is set by the processor in memory: a D=0 entry cannot complete a write. */
    mark();
    expect_ok(VA, MMU_USER_WRITE, FRAME_A | PGOFF(VA));
    ck_assert_uint_eq(DELTA(dirty_rewalks), 1);
    ck_assert_uint_eq(DELTA(walks), 1);
    ck_assert_uint_eq(DELTA(tlb_misses), 0);
    ck_assert_uint_eq(DELTA(tlb_hits), 0);
    ck_assert_uint_eq(DELTA(walk_reads), 2);
    ck_assert_uint_eq(DELTA(ad_updates), 1); /* PTE D only; A already set */
    ck_assert(!res.tlb_hit);
    ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)) & (PTE_A | PTE_D), PTE_A | PTE_D);
    ck_assert_uint_eq(rd32(pde_pa(VA)) & PTE_D, 0);
    ck_assert(tlb_find(&m.tlb4k, VA >> PAGE_SHIFT)->dirty);

    /* Now D is cached: writes hit. */
    mark();
    expect_ok(VA, MMU_USER_WRITE, FRAME_A | PGOFF(VA));
    ck_assert(res.tlb_hit);
    ck_assert_uint_eq(DELTA(tlb_hits), 1);
    ck_assert_uint_eq(DELTA(walks), 0);
    ck_assert_uint_eq(DELTA(dirty_rewalks), 0);
}
END_TEST

START_TEST(test_mmu_dirty_preset_no_rewalk)
{
    /* D already 1 in memory at fill: the cached entry can complete writes. */
    map4k(VA, PTE_P | PTE_W, FRAME_A, PTE_P | PTE_W | PTE_D);
    paging_on(0, 0);
    expect_ok(VA, MMU_SUP_READ, FRAME_A | PGOFF(VA));
    mark();
    expect_ok(VA, MMU_SUP_WRITE, FRAME_A | PGOFF(VA));
    ck_assert(res.tlb_hit);
    ck_assert_uint_eq(DELTA(dirty_rewalks), 0);
    ck_assert_uint_eq(DELTA(walks), 0);
}
END_TEST

START_TEST(test_mmu_4m_accessed_dirty)
{
    map4m(LVA, LFRAME, PTE_P | PTE_W | PTE_U);
    paging_on(CR4_PSE, 0);
    expect_ok(LVA, MMU_USER_READ, LFRAME | LPGOFF(LVA));
    ck_assert_uint_eq(rd32(pde_pa(LVA)), LFRAME | PTE_PS | PTE_P | PTE_W | PTE_U | PTE_A);
    ck_assert_uint_eq(DELTA(walk_reads), 1);
    ck_assert_uint_eq(DELTA(ad_updates), 1);

    mark();
    expect_ok(LVA, MMU_USER_WRITE, LFRAME | LPGOFF(LVA));
    ck_assert_uint_eq(DELTA(dirty_rewalks), 1);
    ck_assert_uint_eq(DELTA(walks), 1);
    ck_assert_uint_eq(DELTA(walk_reads), 1);
    ck_assert_uint_eq(DELTA(ad_updates), 1);
    ck_assert_uint_eq(rd32(pde_pa(LVA)), LFRAME | PTE_PS | PTE_P | PTE_W | PTE_U | PTE_A | PTE_D);

    mark();
    expect_ok(LVA + 0x1000u, MMU_USER_WRITE, LFRAME | LPGOFF(LVA + 0x1000u));
    ck_assert(res.tlb_hit);
    ck_assert_uint_eq(DELTA(walks), 0);
}
END_TEST

START_TEST(test_mmu_tlb_hit_after_miss)
{
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U);
    paging_on(0, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    ck_assert(!res.tlb_hit);
    ck_assert_uint_eq(DELTA(tlb_misses), 1);
    ck_assert_uint_eq(DELTA(tlb_hits), 0);
    ck_assert_uint_eq(DELTA(walks), 1);

    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    ck_assert(res.tlb_hit);
    expect_ok(PAGE_ROUND_DOWN(VA) + 0x10u, MMU_SUP_READ, FRAME_A | 0x10u);
    ck_assert(res.tlb_hit);
    ck_assert_uint_eq(DELTA(tlb_misses), 1);
    ck_assert_uint_eq(DELTA(tlb_hits), 2);
    ck_assert_uint_eq(DELTA(walks), 1);
    ck_assert_uint_eq(DELTA(walk_reads), 2);
    ck_assert_uint_eq(DELTA(accesses[MMU_USER_READ]), 2);
    ck_assert_uint_eq(DELTA(accesses[MMU_SUP_READ]), 1);
}
END_TEST

START_TEST(test_mmu_tlb_stale_until_invlpg)
{
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U);
    paging_on(0, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));

    /* 4.10.4.2: without invalidation the old translation may still be used. */
    wr32(pte_pa(PT_PA, VA), FRAME_B | PTE_P | PTE_W | PTE_U);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    ck_assert(res.tlb_hit);

    /* INVLPG of another page leaves this one alone. */
    mark();
    mmu_invlpg(&m, VA + PAGE_SIZE);
    ck_assert_uint_eq(DELTA(invlpg), 1);
    ck_assert_uint_eq(DELTA(dropped_invlpg), 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));

    mark();
    mmu_invlpg(&m, VA);
    ck_assert_uint_eq(DELTA(invlpg), 1);
    ck_assert_uint_eq(DELTA(dropped_invlpg), 1);
    ck_assert(!cached4k(VA));
    expect_ok(VA, MMU_USER_READ, FRAME_B | PGOFF(VA));
    ck_assert(!res.tlb_hit);
    ck_assert_uint_eq(DELTA(tlb_misses), 1);
}
END_TEST

START_TEST(test_mmu_invlpg_4m)
{
    map4m(LVA, LFRAME, PTE_P | PTE_W | PTE_U);
    paging_on(CR4_PSE, 0);
    expect_ok(LVA, MMU_SUP_READ, LFRAME | LPGOFF(LVA));
    ck_assert(cached4m(LVA));

    /* INVLPG of any address inside the 4 MiB page removes its translation. */
    mark();
    mmu_invlpg(&m, 0x00800000u + 0x123456u);
    ck_assert_uint_eq(DELTA(dropped_invlpg), 1);
    ck_assert(!cached4m(LVA));
    expect_ok(LVA, MMU_SUP_READ, LFRAME | LPGOFF(LVA));
    ck_assert(!res.tlb_hit);
    ck_assert_uint_eq(DELTA(tlb_misses), 1);
}
END_TEST

START_TEST(test_mmu_global_survives_cr3)
{
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U | PTE_G);
    paging_on(CR4_PGE, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    ck_assert(tlb_find(&m.tlb4k, VA >> PAGE_SHIFT)->global);

    /* 4.10.4.1: MOV to CR3 keeps global translations. */
    wr32(pte_pa(PT_PA, VA), FRAME_B | PTE_P | PTE_W | PTE_U | PTE_G);
    mark();
    mmu_write_cr3(&m, PD_PA);
    ck_assert_uint_eq(DELTA(cr3_writes), 1);
    ck_assert_uint_eq(DELTA(globals_kept), 1);
    ck_assert_uint_eq(DELTA(dropped_cr3), 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    ck_assert(res.tlb_hit);

    /* INVLPG removes it, global or not. */
    mark();
    mmu_invlpg(&m, VA);
    ck_assert_uint_eq(DELTA(dropped_invlpg), 1);
    expect_ok(VA, MMU_USER_READ, FRAME_B | PGOFF(VA));
    ck_assert(!res.tlb_hit);
}
END_TEST

START_TEST(test_mmu_global_dropped_by_pge_toggle)
{
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U | PTE_G);
    paging_on(CR4_PGE, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));

    /* 4.10.4.1: a change of CR4.PGE invalidates all entries, globals too. */
    mark();
    mmu_write_cr4(&m, 0);
    ck_assert_uint_eq(DELTA(full_flushes), 1);
    ck_assert_uint_eq(DELTA(dropped_full), 1);
    ck_assert(!cached4k(VA));

    /* Setting PGE again also flushes (here: the refilled, now non-global entry). */
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    ck_assert(!tlb_find(&m.tlb4k, VA >> PAGE_SHIFT)->global);
    mark();
    mmu_write_cr4(&m, CR4_PGE);
    ck_assert_uint_eq(DELTA(full_flushes), 1);
    ck_assert_uint_eq(DELTA(dropped_full), 1);
    ck_assert(!cached4k(VA));
}
END_TEST

START_TEST(test_mmu_global_4m_survives_cr3)
{
    map4m(LVA, LFRAME, PTE_P | PTE_W | PTE_G);
    paging_on(CR4_PSE | CR4_PGE, 0);
    expect_ok(LVA, MMU_SUP_READ, LFRAME | LPGOFF(LVA));
    mark();
    mmu_write_cr3(&m, PD_PA);
    ck_assert_uint_eq(DELTA(globals_kept), 1);
    ck_assert(cached4m(LVA));
}
END_TEST

START_TEST(test_mmu_nonglobal_dropped_by_cr3)
{
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U);
    paging_on(CR4_PGE, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    wr32(pte_pa(PT_PA, VA), FRAME_B | PTE_P | PTE_W | PTE_U);

    /* Even an unchanged CR3 value invalidates non-global entries. */
    mark();
    mmu_write_cr3(&m, PD_PA);
    ck_assert_uint_eq(DELTA(dropped_cr3), 1);
    ck_assert_uint_eq(DELTA(globals_kept), 0);
    ck_assert_uint_eq(DELTA(full_flushes), 0);
    ck_assert(!cached4k(VA));
    expect_ok(VA, MMU_USER_READ, FRAME_B | PGOFF(VA));
    ck_assert(!res.tlb_hit);
}
END_TEST

START_TEST(test_mmu_g_without_pge_not_global)
{
    /* 4.10.2.4: G counts only while CR4.PGE=1. */
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U | PTE_G);
    map4m(LVA, LFRAME, PTE_P | PTE_W | PTE_U | PTE_G);
    paging_on(CR4_PSE, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    expect_ok(LVA, MMU_USER_READ, LFRAME | LPGOFF(LVA));
    ck_assert(!tlb_find(&m.tlb4k, VA >> PAGE_SHIFT)->global);
    ck_assert(!tlb_find(&m.tlb4m, LVA >> PDX_SHIFT)->global);
    mark();
    mmu_write_cr3(&m, PD_PA);
    ck_assert_uint_eq(DELTA(dropped_cr3), 2);
    ck_assert_uint_eq(DELTA(globals_kept), 0);
    ck_assert(!cached4k(VA));
    ck_assert(!cached4m(LVA));
}
END_TEST

START_TEST(test_mmu_pde_g_ignored_for_4k)
{
    /* For a 4 KiB page G comes from the PTE; PDE bit 8 is ignored (Table 4-5). */
    map4k(VA, PTE_P | PTE_W | PTE_U | PTE_G, FRAME_A, PTE_P | PTE_W | PTE_U);
    paging_on(CR4_PGE, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    mark();
    mmu_write_cr3(&m, PD_PA);
    ck_assert_uint_eq(DELTA(dropped_cr3), 1);
    ck_assert(!cached4k(VA));
}
END_TEST

START_TEST(test_mmu_cr0_pg_change_flushes)
{
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U | PTE_G);
    map4m(LVA, LFRAME, PTE_P | PTE_W | PTE_U | PTE_G);
    paging_on(CR4_PSE | CR4_PGE, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    expect_ok(LVA, MMU_USER_READ, LFRAME | LPGOFF(LVA));

    mark();
    mmu_write_cr0(&m, CR0_PE);
    ck_assert_uint_eq(DELTA(full_flushes), 1);
    ck_assert_uint_eq(DELTA(dropped_full), 2);
    ck_assert(!cached4k(VA));
    ck_assert(!cached4m(LVA));

    /* Paging off: linear = physical, no TLB, no walk. */
    mark();
    expect_ok(VA, MMU_USER_WRITE, VA);
    ck_assert_uint_eq(DELTA(accesses[MMU_USER_WRITE]), 1);
    ck_assert_uint_eq(DELTA(walks), 0);
    ck_assert_uint_eq(DELTA(tlb_misses), 0);
    ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)) & PTE_D, 0);

    mmu_write_cr0(&m, CR0_PE | CR0_PG);
    ck_assert_uint_eq(DELTA(full_flushes), 1);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    ck_assert(!res.tlb_hit);
}
END_TEST

START_TEST(test_mmu_cr0_wp_change_keeps_entries)
{
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_U);
    paging_on(0, 0);
    expect_ok(VA, MMU_SUP_WRITE, FRAME_A | PGOFF(VA)); /* WP=0: allowed */
    mark();
    mmu_write_cr0(&m, CR0_PE | CR0_PG | CR0_WP);
    mmu_write_cr0(&m, CR0_PE | CR0_PG | CR0_WP);
    ck_assert_uint_eq(DELTA(full_flushes), 0);
    ck_assert(cached4k(VA));
    /* The entry is kept, but WP=1 now denies supervisor writes to R/W=0. */
    expect_fault(VA, MMU_SUP_WRITE, PF_ERR_P | PF_ERR_W);
    ck_assert(flt.from_tlb);
}
END_TEST

START_TEST(test_mmu_cr4_pse_change_flushes)
{
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U);
    paging_on(0, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    mark();
    mmu_write_cr4(&m, 0); /* unchanged: nothing flushed */
    ck_assert_uint_eq(DELTA(full_flushes), 0);
    ck_assert(cached4k(VA));
    mmu_write_cr4(&m, CR4_PSE);
    ck_assert_uint_eq(DELTA(full_flushes), 1);
    ck_assert_uint_eq(DELTA(dropped_full), 1);
    ck_assert(!cached4k(VA));
}
END_TEST

START_TEST(test_mmu_fault_from_tlb_removes_entry)
{
    /* Read-only user page, cached by a user read. */
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_U);
    paging_on(0, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));

    /*
     * R/W 0 -> 1 in memory without INVLPG: the stale entry may still deny the
     * write (4.10.4.3, a "spurious" #PF), and that #PF invalidates the
     * entry (4.10.4.1), so the retry walks and succeeds.
     */
    wr32(pte_pa(PT_PA, VA), FRAME_A | PTE_P | PTE_W | PTE_U | PTE_A);
    mark();
    expect_fault(VA, MMU_USER_WRITE, PF_ERR_P | PF_ERR_W | PF_ERR_U);
    ck_assert(flt.from_tlb);
    ck_assert_uint_eq(DELTA(walks), 0);
    ck_assert_uint_eq(DELTA(dropped_fault), 1);
    ck_assert(!cached4k(VA));
    ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)) & PTE_D, 0);

    mark();
    expect_ok(VA, MMU_USER_WRITE, FRAME_A | PGOFF(VA));
    ck_assert_uint_eq(DELTA(tlb_misses), 1);
    ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)) & PTE_D, PTE_D);
}
END_TEST

START_TEST(test_mmu_dirty_rewalk_fault_removes_entry)
{
    /* Writable user page cached by a read (D=0), then made read-only without INVLPG. */
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U);
    paging_on(0, 0);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    const uint32_t ro = FRAME_A | PTE_P | PTE_U | PTE_A;
    wr32(pte_pa(PT_PA, VA), ro);

    /* The write needs D: it walks, sees R/W=0 and faults; the entry goes. */
    mark();
    expect_fault(VA, MMU_USER_WRITE, PF_ERR_P | PF_ERR_W | PF_ERR_U);
    ck_assert(!flt.from_tlb);
    ck_assert_uint_eq(DELTA(dirty_rewalks), 1);
    ck_assert_uint_eq(DELTA(walks), 1);
    ck_assert_uint_eq(DELTA(dropped_fault), 1);
    ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)), ro);
    ck_assert(!cached4k(VA));

    /* A read, which the removed entry allowed, must walk again. */
    mark();
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    ck_assert_uint_eq(DELTA(tlb_misses), 1);
}
END_TEST

START_TEST(test_mmu_stale_dirty_entry_allows_write)
{
    /* Cached with D=1 by a write, then made read-only in memory without INVLPG. */
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U);
    paging_on(0, 0);
    expect_ok(VA, MMU_USER_WRITE, FRAME_A | PGOFF(VA));
    wr32(pte_pa(PT_PA, VA), FRAME_A | PTE_P | PTE_U | PTE_A | PTE_D);

    /* 4.10.4.2: the cached rights may still be used until invalidation. */
    mark();
    expect_ok(VA, MMU_USER_WRITE, FRAME_A | PGOFF(VA));
    ck_assert(res.tlb_hit);
    ck_assert_uint_eq(DELTA(walks), 0);

    mmu_invlpg(&m, VA);
    expect_fault(VA, MMU_USER_WRITE, PF_ERR_P | PF_ERR_W | PF_ERR_U);
    ck_assert(!flt.from_tlb);
}
END_TEST

START_TEST(test_mmu_fault_from_tlb_removes_4m_entry)
{
    map4m(LVA, LFRAME, PTE_P | PTE_W); /* supervisor only */
    paging_on(CR4_PSE, 0);
    expect_ok(LVA, MMU_SUP_READ, LFRAME | LPGOFF(LVA));
    ck_assert(cached4m(LVA));

    mark();
    expect_fault(LVA, MMU_USER_READ, PF_ERR_P | PF_ERR_U);
    ck_assert(flt.from_tlb);
    ck_assert_uint_eq(DELTA(dropped_fault), 1);
    ck_assert(!cached4m(LVA));

    mark();
    expect_ok(LVA, MMU_SUP_READ, LFRAME | LPGOFF(LVA));
    ck_assert_uint_eq(DELTA(tlb_misses), 1);
}
END_TEST

START_TEST(test_mmu_probe_no_side_effects)
{
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U);
    map4m(LVA, LFRAME, PTE_P | PTE_W | PTE_U);
    map4m(0x00C00000u, LFRAME | (1u << 13), PTE_P | PTE_W); /* reserved bit 13 */
    paging_on(CR4_PSE, 0);
    const uint32_t pde = rd32(pde_pa(VA)), pte = rd32(pte_pa(PT_PA, VA));
    const uint32_t lpde = rd32(pde_pa(LVA));
    const uint32_t cr2 = m.cr2;
    const struct mmu_counters before = m.ctr;

    paddr_t pa = 0;
    struct mmu_walk w;
    ck_assert(mmu_probe(&m, VA, &pa, &w));
    ck_assert_uint_eq(pa, FRAME_A | PGOFF(VA));
    ck_assert_uint_eq(w.pde_addr, pde_pa(VA));
    ck_assert_uint_eq(w.pte_addr, pte_pa(PT_PA, VA));
    ck_assert_int_eq(w.levels, 2);
    ck_assert_uint_eq(w.pte, pte);

    ck_assert(mmu_probe(&m, LVA, &pa, &w));
    ck_assert_uint_eq(pa, LFRAME | LPGOFF(LVA));
    ck_assert_int_eq(w.levels, 1);

    ck_assert(!mmu_probe(&m, 0x40000000u, &pa, NULL));    /* PDE not present */
    ck_assert(!mmu_probe(&m, VA + PAGE_SIZE, &pa, NULL)); /* PTE not present */
    ck_assert(!mmu_probe(&m, 0x00C00000u, &pa, NULL));    /* RSVD */

    ck_assert(memcmp(&before, &m.ctr, sizeof(before)) == 0);
    ck_assert_uint_eq(m.cr2, cr2);
    ck_assert_uint_eq(rd32(pde_pa(VA)), pde);
    ck_assert_uint_eq(rd32(pte_pa(PT_PA, VA)), pte);
    ck_assert_uint_eq(rd32(pde_pa(LVA)), lpde);
    ck_assert(!cached4k(VA));
    ck_assert(!cached4m(LVA));

    /* The probe reads the tables, not the TLB. */
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    wr32(pte_pa(PT_PA, VA), FRAME_B | PTE_P | PTE_W | PTE_U);
    ck_assert(mmu_probe(&m, VA, &pa, NULL));
    ck_assert_uint_eq(pa, FRAME_B | PGOFF(VA));
}
END_TEST

START_TEST(test_mmu_fast_path_matches_translate_4m)
{
    map4m(LVA, LFRAME, PTE_P | PTE_W | PTE_U);
    paging_on(CR4_PSE, 0);
    expect_ok(LVA, MMU_SUP_READ, LFRAME | LPGOFF(LVA));
    expect_ok(LVA, MMU_SUP_READ, LFRAME | LPGOFF(LVA)); /* TLB hit: fast path armed */
    ck_assert_uint_eq(res.page_size, LPAGE_SIZE);

    /* mmu.h: mmu_translate_fast has the same contract as mmu_translate. */
    struct mmu_result r;
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(mmu_translate_fast(&m, LVA, MMU_SUP_READ, &r, &flt), MMU_OK);
    ck_assert_uint_eq(r.pa, LFRAME | LPGOFF(LVA));
    ck_assert(r.tlb_hit);
    ck_assert_uint_eq(r.page_size, LPAGE_SIZE);
}
END_TEST

START_TEST(test_mmu_fast_path_honours_wp)
{
    map4k(VA, PTE_P | PTE_W, FRAME_A, PTE_P); /* supervisor, read-only */
    paging_on(0, 0);
    struct mmu_result r;
    /* CR0.WP=0: supervisor writes ignore R/W. */
    ck_assert_int_eq(mmu_translate_fast(&m, VA, MMU_SUP_WRITE, &r, &flt), MMU_OK);
    ck_assert_int_eq(mmu_translate_fast(&m, VA, MMU_SUP_WRITE, &r, &flt), MMU_OK);
    ck_assert(r.tlb_hit);
    ck_assert_int_eq(mmu_translate_fast(&m, VA, MMU_USER_READ, &r, &flt), MMU_PAGE_FAULT);
    ck_assert_uint_eq(flt.error_code, PF_ERR_P | PF_ERR_U);

    ck_assert_int_eq(mmu_translate_fast(&m, VA, MMU_SUP_WRITE, &r, &flt), MMU_OK);
    ck_assert_int_eq(mmu_translate_fast(&m, VA, MMU_SUP_WRITE, &r, &flt), MMU_OK);
    mmu_write_cr0(&m, CR0_PE | CR0_PG | CR0_WP);
    ck_assert_int_eq(mmu_translate_fast(&m, VA, MMU_SUP_WRITE, &r, &flt), MMU_PAGE_FAULT);
    ck_assert_uint_eq(flt.error_code, PF_ERR_P | PF_ERR_W);
    ck_assert_uint_eq(m.cr2, VA);
}
END_TEST

/*
 * LRU (4 KiB TLB: 4 entries, 2 ways, set = vpn % 2).  Pages P0, P2, P4 at
 * vpn 0x400, 0x402, 0x404 share set 0; P1 (vpn 0x401) lives in set 1.
 */
#define LRU_VA(n) (0x00400000u + PAGE_SIZE * (n))
#define LRU_FRAME(n) (0x00100000u + PAGE_SIZE * (n))

static void
lru_map(void)
{
    wr32(PD_PA + 4, PT_PA | PTE_P | PTE_W | PTE_U);
    for (uint32_t n = 0; n < 6; n++)
        wr32(PT_PA + n * 4, LRU_FRAME(n) | PTE_P | PTE_W | PTE_U);
    paging_on(0, 0);
}

static void
lru_read(uint32_t n)
{
    expect_ok(LRU_VA(n), MMU_SUP_READ, LRU_FRAME(n));
}

START_TEST(test_mmu_lru_evicts_oldest)
{
    lru_map();
    lru_read(0);
    lru_read(2);
    lru_read(1);
    ck_assert_uint_eq(DELTA(evictions), 0);
    lru_read(4); /* set 0 full: P0 is least recently used */
    ck_assert_uint_eq(DELTA(evictions), 1);
    ck_assert(!cached4k(LRU_VA(0)));
    ck_assert(cached4k(LRU_VA(2)));
    ck_assert(cached4k(LRU_VA(4)));
    ck_assert(cached4k(LRU_VA(1)));
    ck_assert_uint_eq(DELTA(tlb_misses), 4);

    mark();
    lru_read(2);
    lru_read(4);
    lru_read(1);
    ck_assert_uint_eq(DELTA(tlb_misses), 0);
    lru_read(0);
    ck_assert_uint_eq(DELTA(tlb_misses), 1);
}
END_TEST

/*
 * The soft TLB is a TLB hit, nothing else.  Set 0 (P0, P2, P4): read P0,
 * P2 (2 misses), P0, P2 (2 hits, each leaving a soft slot; P2 is the fast
 * page and the most recent).  A soft hit on P0 counts one access and one
 * hit and makes P0 the most recent, so the miss on P4 evicts P2 (without
 * the LRU update it would evict P0).  Its host pointer is P0's frame.  A
 * write through P0's clean entry is no soft hit (the walk must set D), and
 * after the fill of P4 no slot is valid any more.
 */
START_TEST(test_mmu_soft_tlb_is_a_hit)
{
    lru_map();
    lru_read(0);
    lru_read(2);
    lru_read(0);
    lru_read(2);
    mark();
    uint8_t *h = mmu_soft_hit(&m, LRU_VA(0) + 8, 4, MMU_SUP_READ);
    ck_assert_ptr_eq(h, ram + LRU_FRAME(0) + 8);
    ck_assert_uint_eq(DELTA(tlb_hits), 1);
    ck_assert_uint_eq(DELTA(accesses[MMU_SUP_READ]), 1);
    ck_assert_ptr_null(mmu_soft_hit(&m, LRU_VA(2), 4, MMU_SUP_WRITE));
    ck_assert_ptr_null(mmu_soft_hit(&m, LRU_VA(0) + PAGE_SIZE - 2, 4, MMU_SUP_READ));
    lru_read(4);
    ck_assert(cached4k(LRU_VA(0)));
    ck_assert(!cached4k(LRU_VA(2)));
    ck_assert_ptr_null(mmu_soft_hit(&m, LRU_VA(0), 4, MMU_SUP_READ));
}
END_TEST

/*
 * Flush lint of CR3 reloads (the small TLB: P0..P3 fit, two per set).
 * Each case changes cached PTEs through mmu_store (as the simulator does
 * for a kernel store) and reloads CR3 with the value it holds:
 *  - P0, P1, P2 cached, P1 changed: the flush removes 3 entries, exactly
 *    one changed, so one INVLPG would have done: window-flush.
 *  - P0..P3 cached, P0 and P3 changed: 4 removed, 2 changed, 2 INVLPGs
 *    would have done (fewer than MMU_LINT_CR3_INVLPG = 4): cr3-flush.
 *  - P0..P3 cached, all 4 changed: 4 INVLPGs needed, not fewer: no lint.
 *  - the window-flush setup, but CR3 loads another directory: a switch,
 *    no lint.
 */
static void
lint_change(uint32_t n)
{
    uint32_t v = LRU_FRAME(n + 8) | PTE_P | PTE_W | PTE_U;
    mmu_store(&m, PT_PA + n * 4, 4, &v, 1);
    wr32(PT_PA + n * 4, v);
}

START_TEST(test_mmu_lint_cr3_reloads)
{
    lru_map();
    lru_read(0);
    lru_read(1);
    lru_read(2);
    lint_change(1);
    mmu_write_cr3(&m, PD_PA);
    ck_assert_uint_eq(DELTA(lint[MMU_LINT_WINDOW_FLUSH]), 1);
    ck_assert_uint_eq(DELTA(lint[MMU_LINT_CR3_FLUSH]), 0);

    mark();
    for (uint32_t n = 0; n < 4; n++)
        ck_assert_int_eq(xl(LRU_VA(n), MMU_SUP_READ), MMU_OK);
    lint_change(0);
    lint_change(3);
    mmu_write_cr3(&m, PD_PA);
    ck_assert_uint_eq(DELTA(lint[MMU_LINT_CR3_FLUSH]), 1);
    ck_assert_uint_eq(DELTA(lint[MMU_LINT_WINDOW_FLUSH]), 0);

    mark();
    for (uint32_t n = 0; n < 4; n++)
        ck_assert_int_eq(xl(LRU_VA(n), MMU_SUP_READ), MMU_OK);
    for (uint32_t n = 0; n < 4; n++)
        lint_change(n);
    mmu_write_cr3(&m, PD_PA);
    ck_assert_uint_eq(DELTA(lint[MMU_LINT_CR3_FLUSH]), 0);
    ck_assert_uint_eq(DELTA(lint[MMU_LINT_WINDOW_FLUSH]), 0);

    /* The window-flush setup again, but CR3 gets another directory. */
    mark();
    for (uint32_t n = 0; n < 3; n++)
        ck_assert_int_eq(xl(LRU_VA(n), MMU_SUP_READ), MMU_OK);
    lint_change(1);
    mmu_write_cr3(&m, PT2_PA);
    ck_assert_uint_eq(DELTA(lint[MMU_LINT_CR3_FLUSH]), 0);
    ck_assert_uint_eq(DELTA(lint[MMU_LINT_WINDOW_FLUSH]), 0);
}
END_TEST

START_TEST(test_mmu_lru_touch_protects)
{
    lru_map();
    lru_read(0);
    lru_read(2);
    lru_read(0); /* hit: P0 becomes most recent, P2 the victim */
    ck_assert_uint_eq(DELTA(tlb_hits), 1);
    lru_read(4);
    ck_assert(cached4k(LRU_VA(0)));
    ck_assert(!cached4k(LRU_VA(2)));
    ck_assert(cached4k(LRU_VA(4)));

    /* Now P0 (touched before P4 was filled) is the LRU of set 0. */
    mark();
    lru_read(2);
    ck_assert_uint_eq(DELTA(tlb_misses), 1);
    ck_assert_uint_eq(DELTA(evictions), 1);
    ck_assert(!cached4k(LRU_VA(0)));
    ck_assert(cached4k(LRU_VA(4)));
}
END_TEST

START_TEST(test_mmu_dirty_rewalk_no_eviction)
{
    lru_map();
    lru_read(0);
    lru_read(2);
    mark();
    expect_ok(LRU_VA(0), MMU_SUP_WRITE, LRU_FRAME(0));
    ck_assert_uint_eq(DELTA(dirty_rewalks), 1);
    /* The re-walk refreshes P0's own entry; P2 stays. */
    ck_assert_uint_eq(DELTA(evictions), 0);
    ck_assert(cached4k(LRU_VA(0)));
    ck_assert(cached4k(LRU_VA(2)));
    ck_assert(tlb_find(&m.tlb4k, LRU_VA(0) >> PAGE_SHIFT)->dirty);
}
END_TEST

START_TEST(test_mmu_paging_off_identity)
{
    expect_ok(0x00123456u, MMU_USER_WRITE, 0x00123456u);
    expect_ok(0xFFFFFFFFu, MMU_SUP_READ, 0xFFFFFFFFu);
    ck_assert_uint_eq(DELTA(accesses[MMU_USER_WRITE]), 1);
    ck_assert_uint_eq(DELTA(accesses[MMU_SUP_READ]), 1);
    ck_assert_uint_eq(DELTA(walks), 0);
    ck_assert_uint_eq(DELTA(tlb_misses), 0);
}
END_TEST

START_TEST(test_mmu_bus_error_outside_ram)
{
    wr32(pde_pa(VA), RAM_SIZE | PTE_P | PTE_W | PTE_U); /* table beyond RAM */
    paging_on(0, 0);
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_BUS_ERROR);
    mmu_write_cr3(&m, RAM_SIZE); /* directory beyond RAM */
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_BUS_ERROR);
    ck_assert_uint_eq(m.ctr.faults, 0);
}
END_TEST

START_TEST(test_mmu_cr3_low_bits_not_address)
{
    /* 4.3: the directory is at CR3[31:12]; PWT/PCD are not address bits. */
    map4k(VA, PTE_P | PTE_W | PTE_U, FRAME_A, PTE_P | PTE_W | PTE_U);
    paging_on(0, 0);
    mmu_write_cr3(&m, PD_PA | CR3_PWT | CR3_PCD);
    expect_ok(VA, MMU_USER_READ, FRAME_A | PGOFF(VA));
    ck_assert_uint_eq(rd32(pde_pa(VA)) & PTE_A, PTE_A);
}
END_TEST

START_TEST(test_mmu_init_rejects_bad_geometry)
{
    struct mmu mm;
    struct mmu_config cfg;
    mmu_config_default(&cfg);
    cfg.tlb4k.entries = 48;
    ck_assert(!mmu_init(&mm, &cfg, ram, RAM_SIZE));
    mmu_config_default(&cfg);
    cfg.tlb4m.ways = 3;
    ck_assert(!mmu_init(&mm, &cfg, ram, RAM_SIZE));
    mmu_config_default(&cfg);
    ck_assert(mmu_init(&mm, &cfg, ram, RAM_SIZE));
    ck_assert_uint_eq(mm.cr0, CR0_PE);
    ck_assert_uint_eq(mm.cr3, 0);
    ck_assert_uint_eq(mm.cr4, 0);
    ck_assert_uint_eq(mm.tlb4k.geo.entries, MMU_TLB4K_ENTRIES_DEFAULT);
    ck_assert_uint_eq(mm.tlb4m.geo.ways, MMU_TLB4M_WAYS_DEFAULT);
    mmu_fini(&mm);
}
END_TEST

static TCase *
tcase_default(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup_default, teardown);
    return tc;
}

/* ---- the stale-TLB detector (mmu.h) ---- */

static struct mmu_stale seen;
static unsigned nseen;

static void
on_stale(void *ctx, struct mmu *mm, const struct mmu_stale *st)
{
    (void)ctx;
    (void)mm;
    seen = *st;
    nseen++;
}

static void
setup_stale(void)
{
    setup_default();
    nseen = 0;
    memset(&seen, 0, sizeof(seen));
    mmu_set_stale_fn(&m, on_stale, NULL);
}

/* A kernel store of v at pa: told to the detector first, then made. */
static unsigned
kstore(paddr_t pa, uint32_t v, uint32_t id)
{
    unsigned n = mmu_store(&m, pa, 4, &v, id);
    wr32(pa, v);
    return n;
}

/*
 * VA mapped read/write to FRAME_A and cached by a read: the walk sets A in
 * the PTE, so the cached PTE is FRAME_A | P | W | A = FRAME_A | 0x23.
 */
static void
cache_va(uint32_t pde_flags, uint32_t pte_flags)
{
    map4k(VA, pde_flags, FRAME_A, pte_flags);
    paging_on(CR4_PSE, 0);
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert(!res.tlb_hit);
}

START_TEST(test_mmu_stale_frame_changed)
{
    cache_va(PTE_P | PTE_W, PTE_P | PTE_W);
    /* The PTE now names FRAME_B; no INVLPG: the TLB still gives FRAME_A. */
    ck_assert_uint_eq(kstore(pte_pa(PT_PA, VA), FRAME_B | PTE_P | PTE_W, 7), 1);
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert(res.tlb_hit);
    ck_assert_uint_eq(res.pa, FRAME_A | PGOFF(VA));
    ck_assert_uint_eq(DELTA(stale_uses), 1);
    ck_assert_uint_eq(DELTA(stale_harmless), 0);
    ck_assert_uint_eq(nseen, 1);
    ck_assert_int_eq(seen.cls, MMU_STALE_FRAME);
    ck_assert_uint_eq(seen.va, VA);
    ck_assert_uint_eq(seen.addr, pte_pa(PT_PA, VA));
    ck_assert_uint_eq(seen.cached, FRAME_A | PTE_P | PTE_W | PTE_A);
    ck_assert_uint_eq(seen.current, FRAME_B | PTE_P | PTE_W);
    ck_assert_uint_eq(seen.write_id, 7);
    /* Every use counts: the stale entry is no fast shortcut. */
    ck_assert_int_eq(mmu_translate_fast(&m, VA, MMU_SUP_READ, &res, &flt), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_uses), 2);
}
END_TEST

START_TEST(test_mmu_stale_unmapped)
{
    cache_va(PTE_P | PTE_W, PTE_P | PTE_W);
    kstore(pte_pa(PT_PA, VA), 0, 1);
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK); /* the cached entry still works */
    ck_assert_uint_eq(DELTA(stale_uses), 1);
    ck_assert_int_eq(seen.cls, MMU_STALE_UNMAPPED);
    ck_assert_uint_eq(seen.current, 0);
}
END_TEST

START_TEST(test_mmu_stale_rights_reduced)
{
    /* R/W cleared in the PTE: supervisor writes with WP=1 lose their right. */
    cache_va(PTE_P | PTE_W | PTE_U, PTE_P | PTE_W | PTE_U);
    kstore(pte_pa(PT_PA, VA), FRAME_A | PTE_P | PTE_U | PTE_A, 1);
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_uses), 1);
    ck_assert_int_eq(seen.cls, MMU_STALE_RIGHTS_REDUCED);
    ck_assert(mmu_stale_is_bug(seen.cls));
}
END_TEST

START_TEST(test_mmu_stale_user_cleared_in_pde)
{
    /* U/S cleared at the PDE level: the combined rights lose user access. */
    cache_va(PTE_P | PTE_W | PTE_U, PTE_P | PTE_W | PTE_U);
    kstore(pde_pa(VA), PT_PA | PTE_P | PTE_W | PTE_A, 1);
    mark();
    ck_assert_int_eq(xl(VA, MMU_USER_READ), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_uses), 1);
    ck_assert_int_eq(seen.cls, MMU_STALE_RIGHTS_REDUCED);
}
END_TEST

START_TEST(test_mmu_stale_rights_increased_harmless)
{
    cache_va(PTE_P | PTE_W, PTE_P);
    kstore(pte_pa(PT_PA, VA), FRAME_A | PTE_P | PTE_W | PTE_A, 1);
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_uses), 0);
    ck_assert_uint_eq(DELTA(stale_harmless), 1);
    ck_assert_int_eq(seen.cls, MMU_STALE_RIGHTS_INCREASED);
    ck_assert(!mmu_stale_is_bug(seen.cls));
}
END_TEST

START_TEST(test_mmu_stale_ad_only_harmless)
{
    /* The kernel clears A (as page aging does): frame and rights unchanged. */
    cache_va(PTE_P | PTE_W, PTE_P | PTE_W);
    kstore(pte_pa(PT_PA, VA), FRAME_A | PTE_P | PTE_W, 1);
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_uses), 0);
    ck_assert_uint_eq(DELTA(stale_harmless), 1);
    ck_assert_int_eq(seen.cls, MMU_STALE_FLAGS);
}
END_TEST

/*
 * An entry changed, then written back unseen (its frame was no longer
 * watched once its only entry was marked), is no stale use; the hit that
 * finds it back watches its frame again, so a third change is seen and
 * the next hit is a frame-changed stale use (without the new watch the
 * simulator would not tell mmu_store, and the change would pass unseen).
 */
START_TEST(test_mmu_stale_written_back_watched_again)
{
    cache_va(PTE_P | PTE_W, PTE_P | PTE_W);
    uint32_t back = FRAME_A | PTE_P | PTE_W | PTE_A, pt_pfn = PT_PA >> PAGE_SHIFT;
    ck_assert_uint_eq(kstore(pte_pa(PT_PA, VA), FRAME_B | PTE_P | PTE_W, 1), 1);
    ck_assert(!mmu_watched(&m, pt_pfn));
    wr32(pte_pa(PT_PA, VA), back); /* unseen: the frame is not watched */
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_uses) + DELTA(stale_harmless), 0);
    ck_assert(mmu_watched(&m, pt_pfn));
    ck_assert_uint_eq(kstore(pte_pa(PT_PA, VA), FRAME_B | PTE_P | PTE_W, 2), 1);
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_uses), 1);
    ck_assert_int_eq(seen.cls, MMU_STALE_FRAME);
}
END_TEST

START_TEST(test_mmu_stale_same_value_not_a_change)
{
    /* Writing the value the entry already has (A included) marks nothing. */
    cache_va(PTE_P | PTE_W, PTE_P | PTE_W);
    ck_assert_uint_eq(kstore(pte_pa(PT_PA, VA), FRAME_A | PTE_P | PTE_W | PTE_A, 1), 0);
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_uses) + DELTA(stale_harmless), 0);
    ck_assert_uint_eq(nseen, 0);
}
END_TEST

START_TEST(test_mmu_stale_invlpg_covers)
{
    cache_va(PTE_P | PTE_W, PTE_P | PTE_W);
    kstore(pte_pa(PT_PA, VA), FRAME_B | PTE_P | PTE_W, 1);
    mmu_invlpg(&m, VA);
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert(!res.tlb_hit);
    ck_assert_uint_eq(res.pa, FRAME_B | PGOFF(VA));
    ck_assert_uint_eq(nseen, 0);
}
END_TEST

START_TEST(test_mmu_stale_4m_invlpg_anywhere_inside)
{
    map4m(LVA, LFRAME, PTE_P | PTE_W);
    paging_on(CR4_PSE, 0);
    ck_assert_int_eq(xl(LVA, MMU_SUP_READ), MMU_OK);
    /* The 4 MiB page moves to frame 0x00800000. */
    kstore(pde_pa(LVA), 0x00800000u | PTE_PS | PTE_P | PTE_W, 1);
    mark();
    /* Without INVLPG: a stale use of the 4 MiB entry. */
    ck_assert_int_eq(xl(LVA, MMU_SUP_READ), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_uses), 1);
    ck_assert_int_eq(seen.cls, MMU_STALE_FRAME);
    ck_assert(seen.large);
    /* INVLPG of another 4 KiB page of the same 4 MiB page (SDM 4.10.4.1:
     * it invalidates the entry whatever page size it maps) covers it. */
    mmu_invlpg(&m, (LVA & ~(LPAGE_SIZE - 1)) + 0x1000);
    mark();
    ck_assert_int_eq(xl(LVA, MMU_SUP_READ), MMU_OK);
    ck_assert(!res.tlb_hit);
    ck_assert_uint_eq(DELTA(stale_uses), 0);
}
END_TEST

START_TEST(test_mmu_stale_global_survives_cr3)
{
    /* A global entry survives the CR3 write, so the change is still stale;
     * a non-global one is dropped by it. */
    map4k(VA, PTE_P | PTE_W, FRAME_A, PTE_P | PTE_W | PTE_G);
    map4k(VA + 0x1000, PTE_P | PTE_W, FRAME_B, PTE_P | PTE_W);
    paging_on(CR4_PSE | CR4_PGE, 0);
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_int_eq(xl(VA + 0x1000, MMU_SUP_READ), MMU_OK);
    kstore(pte_pa(PT_PA, VA), FRAME_B | PTE_P | PTE_W | PTE_G, 1);
    kstore(pte_pa(PT_PA, VA + 0x1000), FRAME_A | PTE_P | PTE_W, 2);
    mmu_write_cr3(&m, PD_PA);
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert(res.tlb_hit);
    ck_assert_uint_eq(DELTA(stale_uses), 1);
    ck_assert_uint_eq(seen.write_id, 1);
    ck_assert_int_eq(xl(VA + 0x1000, MMU_SUP_READ), MMU_OK);
    ck_assert(!res.tlb_hit);
    ck_assert_uint_eq(DELTA(stale_uses), 1);
}
END_TEST

/*
 * SDM 4.10.3: the PDE of VA (present, naming PT_PA) may sit in the
 * paging-structure caches.  Repointed at PT2_PA without INVLPG or CR3
 * write, the next walk through it (VA + 0x1000, not in the TLB) could use
 * the old PDE: reported once, as class pde, with the old and new PDE.
 */
START_TEST(test_mmu_stale_pde_without_invalidation)
{
    cache_va(PTE_P | PTE_W, PTE_P | PTE_W);
    wr32(pte_pa(PT2_PA, VA + 0x1000), FRAME_B | PTE_P | PTE_W);
    ck_assert_uint_eq(kstore(pde_pa(VA), PT2_PA | PTE_P | PTE_W, 5), 2); /* entry + PDE */
    mark();
    ck_assert_int_eq(xl(VA + 0x1000, MMU_SUP_READ), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_uses), 0); /* no stale TLB entry was hit */
    ck_assert_uint_eq(DELTA(stale_pde), 1);
    ck_assert_int_eq(seen.cls, MMU_STALE_PDE);
    ck_assert_uint_eq(seen.addr, pde_pa(VA));
    ck_assert_uint_eq(seen.cached, PT_PA | PTE_P | PTE_W | PTE_A);
    ck_assert_uint_eq(seen.current, PT2_PA | PTE_P | PTE_W);
    ck_assert_uint_eq(seen.write_id, 5);
    /* Once: the next walk through it is not reported again. */
    ck_assert_int_eq(xl(VA + 0x2000, MMU_SUP_READ), MMU_PAGE_FAULT);
    ck_assert_uint_eq(DELTA(stale_pde), 1);
}
END_TEST

START_TEST(test_mmu_stale_pde_invlpg_or_cr3_clears)
{
    /* SDM 4.10.4.1: INVLPG invalidates every paging-structure cache entry,
     * whatever the address: one of an address outside the PDE's range
     * (LVA, PDX 2) invalidates its cached copy too. */
    cache_va(PTE_P | PTE_W, PTE_P | PTE_W);
    wr32(pte_pa(PT2_PA, VA + 0x1000), FRAME_B | PTE_P | PTE_W);
    kstore(pde_pa(VA), PT2_PA | PTE_P | PTE_W, 1);
    mmu_invlpg(&m, LVA);
    mark();
    ck_assert_int_eq(xl(VA + 0x1000, MMU_SUP_READ), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_pde), 0);
    /* So does a CR3 write. */
    kstore(pde_pa(VA), PT_PA | PTE_P | PTE_W, 2);
    mmu_write_cr3(&m, PD_PA);
    mark();
    ck_assert_int_eq(xl(VA + 0x1000, MMU_SUP_READ), MMU_PAGE_FAULT);
    ck_assert_uint_eq(DELTA(stale_pde), 0);
    /* A PDE that was not present was never cached: no report. */
    kstore(pde_pa(LVA), PT2_PA | PTE_P | PTE_W, 3);
    mark();
    xl(LVA, MMU_SUP_READ);
    ck_assert_uint_eq(DELTA(stale_pde), 0);
    ck_assert_uint_eq(nseen, 0);
}
END_TEST

START_TEST(test_mmu_stale_pde_changed_back)
{
    /* Repointed and pointed back before any walk: a cached copy of the
     * PDE would be the right one, so the walk is no stale use. */
    cache_va(PTE_P | PTE_W, PTE_P | PTE_W);
    kstore(pde_pa(VA), PT2_PA | PTE_P | PTE_W, 1);
    kstore(pde_pa(VA), PT_PA | PTE_P | PTE_W, 2); /* A was set; now clear */
    mark();
    xl(VA + 0x1000, MMU_SUP_READ);
    ck_assert_uint_eq(DELTA(stale_pde), 0);
}
END_TEST

START_TEST(test_mmu_watched_frame_no_fast_write)
{
    /* A page whose frame holds a page table (a self-map view of PT_PA) is
     * watched: its fast entry allows reads but no writes, so every store to
     * it reaches the miss path and the detector. */
    map4k(VA, PTE_P | PTE_W, PT_PA, PTE_P | PTE_W | PTE_D);
    paging_on(CR4_PSE, 0);
    ck_assert(!mmu_watched(&m, PT_PA >> PAGE_SHIFT)); /* no walk read it yet */
    ck_assert_int_eq(xl(VA, MMU_SUP_WRITE), MMU_OK);
    ck_assert(mmu_watched(&m, PT_PA >> PAGE_SHIFT));
    ck_assert(mmu_watched(&m, PD_PA >> PAGE_SHIFT));
    ck_assert(!mmu_watched(&m, FRAME_A >> PAGE_SHIFT));
    ck_assert_int_eq(xl(VA, MMU_SUP_WRITE), MMU_OK);
    ck_assert(res.tlb_hit);
    ck_assert_uint_eq(m.fast_allow & (1u << MMU_SUP_WRITE), 0);
    ck_assert_uint_ne(m.fast_allow & (1u << MMU_SUP_READ), 0);
}
END_TEST

/*
 * A store to a PDE marks every 4 KiB entry found through it, whatever set
 * it lies in, and the 4 MiB entry it maps.  Default TLBs: 4 KiB 64/4 (16
 * sets, set = vpn % 16), 4 MiB 32/4 (8 sets).  VA (vpn 0x403, set 3) and
 * VA + 0x1000 (vpn 0x404, set 4) both come through PDE 1; LVA's 4 MiB
 * entry is PDE 2 (vpn 2).  Repointing PDE 1 at PT2 marks the 2 entries and
 * leaves the PDE pending (a present PDE of the loaded directory that names
 * a table): 3.  Repointing PDE 2 at another 4 MiB frame marks its entry: 1
 * (a PS=1 PDE is no paging-structure cache entry, so nothing is pending).
 * PT2 maps nothing: both 4 KiB hits are unmapped stale uses; the 4 MiB hit
 * gives the old frame: frame changed.
 */
START_TEST(test_mmu_stale_pde_store_marks_every_set)
{
    map4k(VA, PTE_P | PTE_W, FRAME_A, PTE_P | PTE_W);
    wr32(pte_pa(PT_PA, VA + 0x1000), FRAME_B | PTE_P | PTE_W);
    map4m(LVA, LFRAME, PTE_P | PTE_W);
    paging_on(CR4_PSE, 0);
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_int_eq(xl(VA + 0x1000, MMU_SUP_READ), MMU_OK);
    ck_assert_int_eq(xl(LVA, MMU_SUP_READ), MMU_OK);
    ck_assert_uint_eq(kstore(pde_pa(VA), PT2_PA | PTE_P | PTE_W, 1), 3);
    ck_assert_uint_eq(kstore(pde_pa(LVA), (LFRAME + LPAGE_SIZE) | PTE_PS | PTE_P | PTE_W, 2), 1);
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_int_eq(seen.cls, MMU_STALE_UNMAPPED);
    ck_assert_int_eq(xl(VA + 0x1000, MMU_SUP_READ), MMU_OK);
    ck_assert_int_eq(seen.cls, MMU_STALE_UNMAPPED);
    ck_assert_int_eq(xl(LVA, MMU_SUP_READ), MMU_OK);
    ck_assert_int_eq(seen.cls, MMU_STALE_FRAME);
    ck_assert_uint_eq(DELTA(stale_uses), 3);
}
END_TEST

/*
 * With more than 1024 sets the set of a 4 KiB entry is not given by the
 * PTE's slot alone: a 4 KiB TLB of 4096 entries, 1 way, puts VA (vpn
 * 0x403, PTX 3) in set 0x403, not set 3.  The store to its PTE still marks
 * it (1) and the hit is a frame-changed stale use.
 */
START_TEST(test_mmu_stale_pte_store_many_sets)
{
    remake_with_tlb4k(4096, 1);
    cache_va(PTE_P | PTE_W, PTE_P | PTE_W);
    ck_assert_uint_eq(kstore(pte_pa(PT_PA, VA), FRAME_B | PTE_P | PTE_W, 1), 1);
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_uses), 1);
}
END_TEST

/*
 * A frame stops being watched once every TLB entry left from it is marked,
 * and an evicted entry is not left: a 4 KiB TLB of 4 entries, 2 ways (set
 * = vpn % 2).  VA (vpn 0x403), VA + 0x2000 (0x405) and VA + 0x4000 (0x407)
 * all lie in set 1 with their PTEs in PT_PA; the third read evicts VA's
 * entry (the least recently used).  A store to VA's PTE marks nothing (0).
 * After a store to the PTE of VA + 0x2000 the entry of VA + 0x4000 is still
 * unmarked: PT_PA stays watched.  After a store to its PTE too, no
 * unmarked entry comes from PT_PA: it is no longer watched (the directory
 * in CR3 always is).
 */
START_TEST(test_mmu_stale_evicted_entry_not_watched)
{
    remake_with_tlb4k(4, 2);
    const uint32_t pt_pfn = PT_PA >> PAGE_SHIFT;
    map4k(VA, PTE_P | PTE_W, FRAME_A, PTE_P | PTE_W);
    wr32(pte_pa(PT_PA, VA + 0x2000), FRAME_B | PTE_P | PTE_W);
    wr32(pte_pa(PT_PA, VA + 0x4000), FRAME_B | PTE_P | PTE_W);
    paging_on(CR4_PSE, 0);
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_int_eq(xl(VA + 0x2000, MMU_SUP_READ), MMU_OK);
    ck_assert_int_eq(xl(VA + 0x4000, MMU_SUP_READ), MMU_OK);
    ck_assert(!cached4k(VA));
    ck_assert_uint_eq(kstore(pte_pa(PT_PA, VA), 0, 1), 0);
    ck_assert_uint_eq(kstore(pte_pa(PT_PA, VA + 0x2000), 0, 2), 1);
    ck_assert(mmu_watched(&m, pt_pfn));
    ck_assert_uint_eq(kstore(pte_pa(PT_PA, VA + 0x4000), 0, 3), 1);
    ck_assert(!mmu_watched(&m, pt_pfn));
    ck_assert(mmu_watched(&m, PD_PA >> PAGE_SHIFT));
}
END_TEST

/*
 * An INVLPG leaves watched the frames the entries left came from and the
 * directory in CR3, and only those.  VA's PTE lies in PT_PA (PDE 1);
 * VB = 0x00803000 (PDE 2, PTX 3) has its PTE in PT2_PA.  After reads of
 * both, PD, PT_PA and PT2_PA are watched.  INVLPG of VB drops its entry:
 * PT2_PA goes.  A store to VA's PTE marks its entry, the last unmarked one
 * from PT_PA: PT_PA goes too (mmu_store).  The next INVLPG (of VB again,
 * dropping nothing) watches PT_PA again: the marked entry is still in the
 * TLB, so later stores to its PTE are still seen.
 */
START_TEST(test_mmu_invlpg_watches_what_is_left)
{
    const vaddr_t vb = 0x00803000u;
    map4k(VA, PTE_P | PTE_W, FRAME_A, PTE_P | PTE_W);
    wr32(pde_pa(vb), PT2_PA | PTE_P | PTE_W);
    wr32(pte_pa(PT2_PA, vb), FRAME_B | PTE_P | PTE_W);
    paging_on(CR4_PSE, 0);
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_int_eq(xl(vb, MMU_SUP_READ), MMU_OK);
    ck_assert(mmu_watched(&m, PT_PA >> PAGE_SHIFT));
    ck_assert(mmu_watched(&m, PT2_PA >> PAGE_SHIFT));
    mmu_invlpg(&m, vb);
    ck_assert(!mmu_watched(&m, PT2_PA >> PAGE_SHIFT));
    ck_assert(mmu_watched(&m, PT_PA >> PAGE_SHIFT));
    ck_assert(mmu_watched(&m, PD_PA >> PAGE_SHIFT));
    ck_assert_uint_eq(kstore(pte_pa(PT_PA, VA), FRAME_B | PTE_P | PTE_W, 1), 1);
    ck_assert(!mmu_watched(&m, PT_PA >> PAGE_SHIFT));
    mmu_invlpg(&m, vb);
    ck_assert(mmu_watched(&m, PT_PA >> PAGE_SHIFT));
    ck_assert(!mmu_watched(&m, PT2_PA >> PAGE_SHIFT));
}
END_TEST

/*
 * A CR3 write leaves watched the frames of the global entries it keeps and
 * the directory.  CR4.PGE=1: VA is global (G in its PTE, in PT_PA), VB =
 * 0x00803000 is not (its PTE in PT2_PA).  After reads of both and a
 * reload of the same CR3, only VA's entry is left: PT_PA and PD stay
 * watched, PT2_PA goes.  A second reload changes nothing.
 */
START_TEST(test_mmu_cr3_write_watches_globals_left)
{
    const vaddr_t vb = 0x00803000u;
    map4k(VA, PTE_P | PTE_W, FRAME_A, PTE_P | PTE_W | PTE_G);
    wr32(pde_pa(vb), PT2_PA | PTE_P | PTE_W);
    wr32(pte_pa(PT2_PA, vb), FRAME_B | PTE_P | PTE_W);
    paging_on(CR4_PSE | CR4_PGE, 0);
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_int_eq(xl(vb, MMU_SUP_READ), MMU_OK);
    for (int k = 0; k < 2; k++) {
        mmu_write_cr3(&m, PD_PA);
        ck_assert(cached4k(VA));
        ck_assert(!cached4k(vb));
        ck_assert(mmu_watched(&m, PT_PA >> PAGE_SHIFT));
        ck_assert(!mmu_watched(&m, PT2_PA >> PAGE_SHIFT));
        ck_assert(mmu_watched(&m, PD_PA >> PAGE_SHIFT));
    }
}
END_TEST

START_TEST(test_mmu_cr3_noflush_marks_other_space)
{
    /* A CR3 write that skips its flush: entries from the old directory are
     * checked against the new one.  The new directory (PT2 at 0x3000 used
     * as a directory) maps nothing at VA: unmapped. */
    cache_va(PTE_P | PTE_W, PTE_P | PTE_W);
    mmu_write_cr3_noflush(&m, PT2_PA, 9);
    mark();
    ck_assert_int_eq(xl(VA, MMU_SUP_READ), MMU_OK);
    ck_assert_uint_eq(DELTA(stale_uses), 1);
    ck_assert_int_eq(seen.cls, MMU_STALE_UNMAPPED);
    ck_assert_uint_eq(seen.write_id, 9);
}
END_TEST

Suite *
mmu_suite(void)
{
    Suite *s = suite_create("mmu");

    TCase *tc = tcase_default("rights");
    tcase_add_loop_test(tc, test_mmu_rights_table_4k, 0, RIGHTS_4K_COMBOS);
    tcase_add_loop_test(tc, test_mmu_rights_table_4k_cached, 0, RIGHTS_4K_COMBOS);
    tcase_add_loop_test(tc, test_mmu_rights_table_4m, 0, 64);
    suite_add_tcase(s, tc);

    tc = tcase_default("pse");
    tcase_add_test(tc, test_mmu_4m_translate);
    tcase_add_loop_test(tc, test_mmu_4m_reserved_bits, 0, 72);
    tcase_add_test(tc, test_mmu_4m_reserved_bits_not_present);
    tcase_add_test(tc, test_mmu_4m_pat_bit_not_reserved);
    tcase_add_test(tc, test_mmu_pse_off_ps_ignored);
    tcase_add_test(tc, test_mmu_pse_on_ps_clear_uses_table);
    tcase_add_test(tc, test_mmu_4k_pte_pat_bit_ignored);
    suite_add_tcase(s, tc);

    tc = tcase_default("accessed_dirty");
    tcase_add_test(tc, test_mmu_read_sets_accessed_only);
    tcase_add_test(tc, test_mmu_write_sets_dirty_on_pte_only);
    tcase_add_test(tc, test_mmu_ad_already_set_no_update);
    tcase_add_test(tc, test_mmu_dirty_rewalk);
    tcase_add_test(tc, test_mmu_dirty_preset_no_rewalk);
    tcase_add_test(tc, test_mmu_4m_accessed_dirty);
    suite_add_tcase(s, tc);

    tc = tcase_default("tlb");
    tcase_add_test(tc, test_mmu_tlb_hit_after_miss);
    tcase_add_test(tc, test_mmu_tlb_stale_until_invlpg);
    tcase_add_test(tc, test_mmu_invlpg_4m);
    tcase_add_test(tc, test_mmu_global_survives_cr3);
    tcase_add_test(tc, test_mmu_global_dropped_by_pge_toggle);
    tcase_add_test(tc, test_mmu_global_4m_survives_cr3);
    tcase_add_test(tc, test_mmu_nonglobal_dropped_by_cr3);
    tcase_add_test(tc, test_mmu_g_without_pge_not_global);
    tcase_add_test(tc, test_mmu_pde_g_ignored_for_4k);
    tcase_add_test(tc, test_mmu_cr0_pg_change_flushes);
    tcase_add_test(tc, test_mmu_cr0_wp_change_keeps_entries);
    tcase_add_test(tc, test_mmu_cr4_pse_change_flushes);
    tcase_add_test(tc, test_mmu_fault_from_tlb_removes_entry);
    tcase_add_test(tc, test_mmu_dirty_rewalk_fault_removes_entry);
    tcase_add_test(tc, test_mmu_stale_dirty_entry_allows_write);
    tcase_add_test(tc, test_mmu_fault_from_tlb_removes_4m_entry);
    tcase_add_test(tc, test_mmu_probe_no_side_effects);
    tcase_add_test(tc, test_mmu_fast_path_matches_translate_4m);
    tcase_add_test(tc, test_mmu_fast_path_honours_wp);
    suite_add_tcase(s, tc);

    tc = tcase_create("lru");
    tcase_add_checked_fixture(tc, setup_small_tlb, teardown);
    tcase_add_test(tc, test_mmu_lru_evicts_oldest);
    tcase_add_test(tc, test_mmu_lru_touch_protects);
    tcase_add_test(tc, test_mmu_lint_cr3_reloads);
    tcase_add_test(tc, test_mmu_soft_tlb_is_a_hit);
    tcase_add_test(tc, test_mmu_dirty_rewalk_no_eviction);
    suite_add_tcase(s, tc);

    tc = tcase_create("stale");
    tcase_add_checked_fixture(tc, setup_stale, teardown);
    tcase_add_test(tc, test_mmu_stale_frame_changed);
    tcase_add_test(tc, test_mmu_stale_unmapped);
    tcase_add_test(tc, test_mmu_stale_rights_reduced);
    tcase_add_test(tc, test_mmu_stale_user_cleared_in_pde);
    tcase_add_test(tc, test_mmu_stale_rights_increased_harmless);
    tcase_add_test(tc, test_mmu_stale_ad_only_harmless);
    tcase_add_test(tc, test_mmu_stale_same_value_not_a_change);
    tcase_add_test(tc, test_mmu_stale_written_back_watched_again);
    tcase_add_test(tc, test_mmu_stale_invlpg_covers);
    tcase_add_test(tc, test_mmu_stale_4m_invlpg_anywhere_inside);
    tcase_add_test(tc, test_mmu_stale_global_survives_cr3);
    tcase_add_test(tc, test_mmu_stale_pde_without_invalidation);
    tcase_add_test(tc, test_mmu_stale_pde_invlpg_or_cr3_clears);
    tcase_add_test(tc, test_mmu_stale_pde_changed_back);
    tcase_add_test(tc, test_mmu_watched_frame_no_fast_write);
    tcase_add_test(tc, test_mmu_cr3_noflush_marks_other_space);
    tcase_add_test(tc, test_mmu_stale_pde_store_marks_every_set);
    tcase_add_test(tc, test_mmu_stale_pte_store_many_sets);
    tcase_add_test(tc, test_mmu_stale_evicted_entry_not_watched);
    tcase_add_test(tc, test_mmu_invlpg_watches_what_is_left);
    tcase_add_test(tc, test_mmu_cr3_write_watches_globals_left);
    suite_add_tcase(s, tc);

    tc = tcase_default("misc");
    tcase_add_test(tc, test_mmu_paging_off_identity);
    tcase_add_test(tc, test_mmu_bus_error_outside_ram);
    tcase_add_test(tc, test_mmu_cr3_low_bits_not_address);
    tcase_add_test(tc, test_mmu_init_rejects_bad_geometry);
    suite_add_tcase(s, tc);

    return s;
}

/*
 * check_mapiter.c - the mapping iterator (mmu/mapiter.h) over tables
 * written by hand in a bare MMU's RAM: how pages merge into runs (up, down,
 * across tables), what ends a run (a gap, a frame out of step, a flag
 * change, another page size, the end of the range), 4 MiB pages by the
 * walker's rule (SDM 4.3: PS counts only with CR4.PSE), the two kinds of
 * flags, and what the TLB holds of a run.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/mapiter.h"
#include "tests/suites.h"

/*
 * Physical layout (RAM_SIZE bytes): directories PD and PD2, page tables PT1
 * (for PDE 1: VA 0x00400000-0x007fffff) and PT2 (for PDE 2: VA
 * 0x00800000-0x00bfffff), and PT3, spare.  Frames handed to pages are at
 * 0x100000 and up.
 */
#define RAM_SIZE (16u << 20)
#define PD 0x00001000u
#define PD2 0x00002000u
#define PT1 0x00003000u
#define PT2 0x00004000u
#define PT3 0x00005000u
#define VA1 0x00400000u                    /* first page of PDE 1 */
#define VA2 0x00800000u                    /* first page of PDE 2 */
#define F(k) (0x00100000u + (k)*PAGE_SIZE) /* the k-th frame */
#define URW (PTE_P | PTE_W | PTE_U)

static uint8_t *ram;
static struct mmu m;

static void
put32(paddr_t pa, uint32_t v)
{
    memcpy(ram + pa, &v, 4);
}

static void
pte(paddr_t pt, unsigned j, uint32_t v)
{
    put32(pt + j * 4, v);
}

static void
pde(paddr_t pd, unsigned i, uint32_t v)
{
    put32(pd + i * 4, v);
}

static void
setup(void)
{
    struct mmu_config cfg;
    mmu_config_default(&cfg);
    ram = calloc(RAM_SIZE, 1);
    ck_assert_ptr_nonnull(ram);
    ck_assert(mmu_init(&m, &cfg, ram, RAM_SIZE));
    pde(PD, 1, PT1 | URW);
    pde(PD, 2, PT2 | URW);
}

static void
teardown(void)
{
    mmu_fini(&m);
    free(ram);
}

/* The runs of PDEs [first, end) of pd, at most max of them; returns how many. */
static unsigned
runs(paddr_t pd, unsigned first, unsigned end, enum mapiter_flags mode, struct mapiter_run *out,
     unsigned max)
{
    struct mapiter it;
    struct mapiter_run r;
    unsigned n = 0;
    mapiter_init(&it, &m, pd, first, end, mode);
    while (mapiter_next(&it, &r)) {
        ck_assert_uint_lt(n, max);
        out[n++] = r;
    }
    return n;
}

static void
assert_run(const struct mapiter_run *r, vaddr_t va, paddr_t pa, uint32_t pages, bool large,
           bool descending, uint32_t flags)
{
    ck_assert_uint_eq(r->va, va);
    ck_assert_uint_eq(r->pa, pa);
    ck_assert_uint_eq(r->pages, pages);
    ck_assert_int_eq(r->large, large);
    ck_assert_int_eq(r->descending, descending);
    ck_assert_uint_eq(r->flags, flags);
}

/* A run expected from PT1: from its PTE pte, frames from F(frame) on, 4 KiB pages, URW. */
struct pt1_run {
    unsigned pte, frame;
    uint32_t pages;
    bool descending;
};

/*
 * PTE j of PT1 -> F(frame[j]) | URW for j < n (absent where frame[j] < 0);
 * the effective runs of PD are then exactly want[0 .. nwant).
 */
static void
assert_pt1_runs(const int *frame, unsigned n, const struct pt1_run *want, unsigned nwant)
{
    for (unsigned j = 0; j < n; j++)
        if (frame[j] >= 0)
            pte(PT1, j, F((unsigned)frame[j]) | URW);
    struct mapiter_run r[8];
    ck_assert_uint_eq(runs(PD, 0, NPDENTRIES, MAPITER_EFFECTIVE, r, 8), nwant);
    for (unsigned k = 0; k < nwant; k++)
        assert_run(&r[k], VA1 + want[k].pte * PAGE_SIZE, F(want[k].frame), want[k].pages, false,
                   want[k].descending, URW);
}

/* PTE 0-3 -> F(0)..F(3): each frame one page above the last, one run. */
START_TEST(test_mapiter_up)
{
    for (unsigned j = 0; j < 4; j++)
        pte(PT1, j, F(j) | URW);
    struct mapiter_run r[4];
    ck_assert_uint_eq(runs(PD, 0, NPDENTRIES, MAPITER_EFFECTIVE, r, 4), 1);
    assert_run(&r[0], VA1, F(0), 4, false, false, URW);
    ck_assert_uint_eq(mapiter_run_low(&r[0]), F(0));
}
END_TEST

/* PTE 0-3 -> F(3), F(2), F(1), F(0), as a LIFO allocator hands them out:
 * one descending run whose first frame is F(3) and lowest F(0). */
START_TEST(test_mapiter_down)
{
    for (unsigned j = 0; j < 4; j++)
        pte(PT1, j, F(3 - j) | URW);
    struct mapiter_run r[4];
    ck_assert_uint_eq(runs(PD, 0, NPDENTRIES, MAPITER_EFFECTIVE, r, 4), 1);
    assert_run(&r[0], VA1, F(3), 4, false, true, URW);
    ck_assert_uint_eq(mapiter_run_low(&r[0]), F(0));
}
END_TEST

/*
 * PTE 0, 1 -> F(0), F(1); PTE 2 absent; PTE 3 -> F(3): the hole ends the
 * first run although F(3) is where the run would have gone.  PTE 5, 6 ->
 * F(5), F(9): the frame out of step ends a run too.  Four runs: PTE 0-1,
 * PTE 3, PTE 5, PTE 6 (PTE 4 is a hole).
 */
START_TEST(test_mapiter_gap)
{
    static const int frame[] = {0, 1, -1, 3, -1, 5, 9};
    static const struct pt1_run want[] = {
        {0, 0, 2, false}, {3, 3, 1, false}, {5, 5, 1, false}, {6, 9, 1, false}};
    assert_pt1_runs(frame, 7, want, 4);
}
END_TEST

/*
 * PTE 0-3 -> F(0)..F(3), but PTE 2 read-only: frames run on, flags do not,
 * so three runs: 2 pages P W U, 1 page P U, 1 page P W U.  A set on PTE 3
 * alone would split again: flags include A and D.
 */
START_TEST(test_mapiter_flag_change)
{
    for (unsigned j = 0; j < 4; j++)
        pte(PT1, j, F(j) | URW);
    pte(PT1, 2, F(2) | PTE_P | PTE_U);
    struct mapiter_run r[4];
    ck_assert_uint_eq(runs(PD, 0, NPDENTRIES, MAPITER_EFFECTIVE, r, 4), 3);
    assert_run(&r[0], VA1, F(0), 2, false, false, URW);
    assert_run(&r[1], VA1 + 2 * PAGE_SIZE, F(2), 1, false, false, PTE_P | PTE_U);
    assert_run(&r[2], VA1 + 3 * PAGE_SIZE, F(3), 1, false, false, URW);

    pte(PT1, 2, F(2) | URW);
    pte(PT1, 3, F(3) | URW | PTE_A);
    ck_assert_uint_eq(runs(PD, 0, NPDENTRIES, MAPITER_EFFECTIVE, r, 4), 2);
    assert_run(&r[0], VA1, F(0), 3, false, false, URW);
    assert_run(&r[1], VA1 + 3 * PAGE_SIZE, F(3), 1, false, false, URW | PTE_A);
}
END_TEST

/*
 * PTE 1023 of PT1 -> F(0) and PTE 0 of PT2 -> F(1): VA 0x007ff000 and
 * 0x00800000 follow each other across the PDE boundary, so one run of 2.
 * With the range ending at PDE 2, only the first page: the range ends a run.
 */
START_TEST(test_mapiter_across_tables_and_range_end)
{
    pte(PT1, 1023, F(0) | URW);
    pte(PT2, 0, F(1) | URW);
    struct mapiter_run r[4];
    ck_assert_uint_eq(runs(PD, 0, NPDENTRIES, MAPITER_EFFECTIVE, r, 4), 1);
    assert_run(&r[0], VA2 - PAGE_SIZE, F(0), 2, false, false, URW);
    ck_assert_uint_eq(runs(PD, 1, 2, MAPITER_EFFECTIVE, r, 4), 1);
    assert_run(&r[0], VA2 - PAGE_SIZE, F(0), 1, false, false, URW);
    ck_assert_uint_eq(runs(PD, 2, 3, MAPITER_EFFECTIVE, r, 4), 1);
    assert_run(&r[0], VA2, F(1), 1, false, false, URW);
}
END_TEST

/*
 * PDE 4, 5 -> 4 MiB pages 0x00800000, 0x00c00000 (P W U PS) with CR4.PSE=1:
 * one run of 2 large pages at VA 0x01000000, flags with PS (0x87).  PDE 6
 * -> 0x00400000, the page below PDE 4's: not a continuation of an
 * ascending run of 2 (that would need 0x01000000).  Then a 4 KiB page at
 * PDE 1 whose frame, 0x00400000 - 4 KiB, sits just below the first large
 * frame: another page size, so its own run.  With CR4.PSE=0 the walker
 * takes PS=1 PDEs as naming tables (at 0x00800000 etc., zero-filled here),
 * so no large run is left.
 */
START_TEST(test_mapiter_large_pages)
{
    const uint32_t big = PTE_P | PTE_W | PTE_U | PTE_PS;
    pde(PD, 4, 0x00800000u | big);
    pde(PD, 5, 0x00c00000u | big);
    pde(PD, 6, 0x00400000u | big);
    pte(PT1, 1023, (0x00400000u - PAGE_SIZE) | URW);
    mmu_write_cr4(&m, CR4_PSE);
    struct mapiter_run r[4];
    ck_assert_uint_eq(runs(PD, 0, NPDENTRIES, MAPITER_EFFECTIVE, r, 4), 3);
    assert_run(&r[0], VA2 - PAGE_SIZE, 0x00400000u - PAGE_SIZE, 1, false, false, URW);
    assert_run(&r[1], 0x01000000u, 0x00800000u, 2, true, false, big);
    ck_assert_uint_eq(r[1].flags, 0x87u);
    ck_assert_uint_eq(mapiter_page_size(&r[1]), LPAGE_SIZE);
    assert_run(&r[2], 0x01800000u, 0x00400000u, 1, true, false, big);

    /* PDE 6 at 0x00400000 right after one large page at 0x00800000 turns
     * a one-page run downward: descending, lowest frame 0x00400000. */
    pde(PD, 5, 0x00800000u | big);
    pde(PD, 4, 0);
    ck_assert_uint_eq(runs(PD, 4, 7, MAPITER_EFFECTIVE, r, 4), 1);
    assert_run(&r[0], 0x01400000u, 0x00800000u, 2, true, true, big);
    ck_assert_uint_eq(mapiter_run_low(&r[0]), 0x00400000u);

    mmu_write_cr4(&m, 0);
    ck_assert_uint_eq(runs(PD, 3, 7, MAPITER_EFFECTIVE, r, 4), 0);
}
END_TEST

/*
 * mapiter_run_extend on its own (the graph feeds it pages it computes): a
 * 4 KiB page VA 0x00400000 -> 0x00400000 followed by a 4 MiB page VA
 * 0x00800000 -> 0x00800000 would continue both the VA and the frame by
 * one 4 MiB page, and the flag bits are equal (the PTE's PAT is bit 7, the
 * PDE's PS), but the size differs: no.  A second 4 KiB page one frame up:
 * yes; the run is then 2 pages.
 */
START_TEST(test_mapiter_extend_needs_same_size)
{
    struct mapiter_run r;
    mapiter_run_start(&r, 0x00400000u, 0x00400000u, false, URW | PTE_PAT);
    ck_assert(!mapiter_run_extend(&r, 0x00800000u, 0x00800000u, true, URW | PTE_PS));
    ck_assert_uint_eq(r.pages, 1);
    ck_assert(mapiter_run_extend(&r, 0x00401000u, 0x00401000u, false, URW | PTE_PAT));
    ck_assert_uint_eq(r.pages, 2);
    ck_assert(!r.descending);
}
END_TEST

/*
 * A run of one page may turn either way, a longer one may not: F(5), F(4)
 * go down; F(6) after them neither continues down (F(3)) nor may turn up,
 * so it starts a run; F(7) then continues that one upward.  F(4) next is
 * where a descending run from F(6) would go on, but this one ascends: F(4)
 * starts a third run.
 */
START_TEST(test_mapiter_turns_only_when_one_page)
{
    static const int frame[] = {5, 4, 6, 7, 4};
    static const struct pt1_run want[] = {{0, 5, 2, true}, {2, 6, 2, false}, {4, 4, 1, false}};
    assert_pt1_runs(frame, 5, want, 3);
}
END_TEST

/*
 * PD2's PDE 1 -> PT1 without U (P W): PTE 0 -> F(0) P W U, PTE 1 -> F(1) P W.
 * The rights a user access gets combine both levels (SDM 4.6.1): neither
 * page is user, so effective flags are equal (P W) and the pages make one
 * run; the entries' own flags differ in U, so two runs.
 */
START_TEST(test_mapiter_effective_and_entry_flags)
{
    pde(PD2, 1, PT1 | PTE_P | PTE_W);
    pte(PT1, 0, F(0) | URW);
    pte(PT1, 1, F(1) | PTE_P | PTE_W);
    struct mapiter_run r[4];
    ck_assert_uint_eq(runs(PD2, 0, NPDENTRIES, MAPITER_EFFECTIVE, r, 4), 1);
    assert_run(&r[0], VA1, F(0), 2, false, false, PTE_P | PTE_W);
    ck_assert_uint_eq(runs(PD2, 0, NPDENTRIES, MAPITER_ENTRY, r, 4), 2);
    assert_run(&r[0], VA1, F(0), 1, false, false, URW);
    assert_run(&r[1], VA1 + PAGE_SIZE, F(1), 1, false, false, PTE_P | PTE_W);
}
END_TEST

static void
touch(vaddr_t va)
{
    struct mmu_result res;
    struct mmu_fault f;
    ck_assert_int_eq(mmu_translate(&m, va, MMU_SUP_READ, &res, &f), MMU_OK);
}

/*
 * PTE 0-3 -> F(0)..F(3), paging on with CR3 = PD, reads of pages 0, 1, 3:
 * three 4 KiB entries, so the run (4 pages, A now set on 0, 1, 3 but not 2,
 * hence runs [0-1], [2], [3]) holds 2 + 0 + 1 cached pages.  Then PTE 3 is
 * repointed to F(8) without INVLPG: its entry is stale (MOVED, now F(8)),
 * and counts for no run.  PD2 with its own table PT3 mapping PTE 0-3 ->
 * F(0)..F(3) (one run of 4) has pages 0 and 1 cached: the TLB holds
 * translations it gives, which the tables in CR3 give too; page 3's entry
 * also matches PT3 but is stale, so 2, not 3.  Nothing was counted, filled
 * or marked accessed by the iterator.
 */
START_TEST(test_mapiter_tlb)
{
    for (unsigned j = 0; j < 4; j++)
        pte(PT1, j, F(j) | URW);
    mmu_write_cr3(&m, PD);
    mmu_write_cr0(&m, m.cr0 | CR0_PG);
    touch(VA1);
    touch(VA1 + PAGE_SIZE);
    touch(VA1 + 3 * PAGE_SIZE);
    struct mmu_counters before = m.ctr;
    struct mapiter_run r[4];
    ck_assert_uint_eq(runs(PD, 1, 2, MAPITER_EFFECTIVE, r, 4), 3);
    assert_run(&r[0], VA1, F(0), 2, false, false, URW | PTE_A);
    ck_assert_uint_eq(r[0].tlb, 2);
    ck_assert_uint_eq(r[1].tlb, 0);
    ck_assert_uint_eq(r[2].tlb, 1);
    ck_assert_int_eq(memcmp(&before, &m.ctr, sizeof(before)), 0);
    uint32_t e2;
    ck_assert(mmu_read_entry(&m, PT1 + 2 * 4, &e2));
    ck_assert_uint_eq(e2 & PTE_A, 0);

    pte(PT1, 3, F(8) | URW | PTE_A);
    ck_assert_uint_eq(runs(PD, 1, 2, MAPITER_EFFECTIVE, r, 4), 3);
    ck_assert_uint_eq(r[2].pa, F(8));
    ck_assert_uint_eq(r[2].tlb, 0);
    struct tlb_entry *e = tlb_find(&m.tlb4k, (VA1 >> PAGE_SHIFT) + 3);
    ck_assert_ptr_nonnull(e);
    paddr_t now = 0;
    ck_assert_int_eq(mapiter_tlb_state(&m, e, false, &now), MAPITER_TLB_MOVED);
    ck_assert_uint_eq(now, F(8));

    for (unsigned j = 0; j < 4; j++)
        pte(PT3, j, F(j) | URW);
    pde(PD2, 1, PT3 | URW);
    ck_assert_uint_eq(runs(PD2, 1, 2, MAPITER_EFFECTIVE, r, 4), 1);
    assert_run(&r[0], VA1, F(0), 4, false, false, URW);
    ck_assert_uint_eq(r[0].tlb, 2);
}
END_TEST

/*
 * The other states of an entry for VA1 -> F(0): live; rights changed when
 * the PTE loses W; unmapped when it is cleared; every entry stale once
 * paging is off (the TLB is flushed then, so a copy of the entry is used).
 */
START_TEST(test_mapiter_tlb_states)
{
    pte(PT1, 0, F(0) | URW);
    mmu_write_cr3(&m, PD);
    mmu_write_cr0(&m, m.cr0 | CR0_PG);
    touch(VA1);
    struct tlb_entry e = *tlb_find(&m.tlb4k, VA1 >> PAGE_SHIFT);
    ck_assert_int_eq(mapiter_tlb_state(&m, &e, false, NULL), MAPITER_TLB_LIVE);
    pte(PT1, 0, F(0) | PTE_P | PTE_U | PTE_A);
    ck_assert_int_eq(mapiter_tlb_state(&m, &e, false, NULL), MAPITER_TLB_RIGHTS);
    pte(PT1, 0, 0);
    ck_assert_int_eq(mapiter_tlb_state(&m, &e, false, NULL), MAPITER_TLB_UNMAPPED);
    mmu_write_cr0(&m, m.cr0 & ~CR0_PG);
    ck_assert_int_eq(mapiter_tlb_state(&m, &e, false, NULL), MAPITER_TLB_PAGING_OFF);
}
END_TEST

/*
 * Stale as the detector sees it.  PTE 0-1 -> F(0), F(1), both read: one run
 * of 2 (A set on both), 2 cached, 0 stale.  A store told to mmu_store
 * repoints PTE 1 at F(8) with no INVLPG: page 1's entry (still F(1)) is
 * stale, page 0's is not; the runs are [page 0] (1 cached, 0 stale) and
 * [page 1 -> F(8)] (0 cached, 1 stale).  PD2's own table PT3 mapping the
 * same pages is not where the entry came from: 0 stale there.  A store
 * that puts the filled value back leaves nothing stale (the detector's
 * rule: the same sources now); changed again, then INVLPG of page 1:
 * nothing stale.
 */
START_TEST(test_mapiter_stale)
{
    const uint32_t p1 = F(1) | URW | PTE_A, moved = F(8) | URW | PTE_A;
    pte(PT1, 0, F(0) | URW);
    pte(PT1, 1, F(1) | URW);
    mmu_write_cr3(&m, PD);
    mmu_write_cr0(&m, m.cr0 | CR0_PG);
    touch(VA1);
    touch(VA1 + PAGE_SIZE);
    struct mapiter_run r[4];
    ck_assert_uint_eq(runs(PD, 1, 2, MAPITER_EFFECTIVE, r, 4), 1);
    ck_assert_uint_eq(r[0].tlb, 2);
    ck_assert_uint_eq(r[0].stale, 0);

    ck_assert_uint_eq(mmu_store(&m, PT1 + 4, 4, &moved, 7), 1);
    pte(PT1, 1, moved);
    const struct tlb_entry *e0 = tlb_find(&m.tlb4k, VA1 >> PAGE_SHIFT);
    const struct tlb_entry *e1 = tlb_find(&m.tlb4k, (VA1 >> PAGE_SHIFT) + 1);
    ck_assert(!mapiter_tlb_stale(&m, e0, false));
    ck_assert(mapiter_tlb_stale(&m, e1, false));
    ck_assert_uint_eq(runs(PD, 1, 2, MAPITER_EFFECTIVE, r, 4), 2);
    assert_run(&r[1], VA1 + PAGE_SIZE, F(8), 1, false, false, URW | PTE_A);
    ck_assert_uint_eq(r[0].tlb, 1);
    ck_assert_uint_eq(r[0].stale, 0);
    ck_assert_uint_eq(r[1].tlb, 0);
    ck_assert_uint_eq(r[1].stale, 1);

    pte(PT3, 0, F(0) | URW);
    pte(PT3, 1, F(8) | URW);
    pde(PD2, 1, PT3 | URW);
    ck_assert_uint_eq(runs(PD2, 1, 2, MAPITER_EFFECTIVE, r, 4), 2);
    ck_assert_uint_eq(r[0].stale + r[1].stale, 0);

    mmu_store(&m, PT1 + 4, 4, &p1, 8);
    pte(PT1, 1, p1);
    ck_assert(!mapiter_tlb_stale(&m, e1, false));
    mmu_store(&m, PT1 + 4, 4, &moved, 9);
    pte(PT1, 1, moved);
    ck_assert(mapiter_tlb_stale(&m, e1, false));
    mmu_invlpg(&m, VA1 + PAGE_SIZE);
    ck_assert_uint_eq(runs(PD, 1, 2, MAPITER_EFFECTIVE, r, 4), 2);
    ck_assert_uint_eq(r[0].stale + r[1].stale, 0);
}
END_TEST

/* A self-map (PDE 1023 -> PD, P W) is walked like any table: its pages are
 * the directory's present entries, PT1 at VA 0xffc01000 and PT2 (one frame
 * up) right after it, then PD itself at 0xfffff000; none is user, as PDE
 * 1023 is not. */
START_TEST(test_mapiter_self_map)
{
    pde(PD, 1023, PD | PTE_P | PTE_W);
    struct mapiter_run r[4];
    ck_assert_uint_eq(runs(PD, 1023, 1024, MAPITER_EFFECTIVE, r, 4), 2);
    assert_run(&r[0], 0xffc01000u, PT1, 2, false, false, URW & ~PTE_U);
    assert_run(&r[1], 0xfffff000u, PD, 1, false, false, PTE_P | PTE_W);
}
END_TEST

Suite *
mapiter_suite(void)
{
    Suite *s = suite_create("mapiter");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mapiter_up);
    tcase_add_test(tc, test_mapiter_down);
    tcase_add_test(tc, test_mapiter_gap);
    tcase_add_test(tc, test_mapiter_flag_change);
    tcase_add_test(tc, test_mapiter_across_tables_and_range_end);
    tcase_add_test(tc, test_mapiter_large_pages);
    tcase_add_test(tc, test_mapiter_extend_needs_same_size);
    tcase_add_test(tc, test_mapiter_turns_only_when_one_page);
    tcase_add_test(tc, test_mapiter_effective_and_entry_flags);
    tcase_add_test(tc, test_mapiter_tlb);
    tcase_add_test(tc, test_mapiter_tlb_states);
    tcase_add_test(tc, test_mapiter_stale);
    tcase_add_test(tc, test_mapiter_self_map);
    suite_add_tcase(s, tc);
    return s;
}

/*
 * test_hybrid.c - the hybrid strategy (hybrid.c) on the simulator: what it
 * costs to edit the current space and another one, that it never uses a
 * foreign slot, that it opens one paging structure at a time, and that
 * fork and teardown are right, with the stale-TLB detector stopping the
 * run at the first missing invalidation.
 *
 * Each test boots a fresh machine with the strategy (sim/bootload.h), runs
 * a small workload (kernel/workload.h) and reads the machine at the
 * workload's marks: the MMU's counters, the figures the kernel publishes
 * there ("vmm.tmp_maps", ...), and the live spaces' directories in RAM.
 * The expected figures are counted by hand in the comments from the
 * workload and the strategy's design; none is copied from a run.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocators/vmm.h"
#include "allocators/vmm_strategy.h"
#include "kernel/layout.h"
#include "kernel/plugin.h"
#include "kernel/workload.h"
#include "mmu/mmu.h"
#include "sim/bootload.h"
#include "sim/sim.h"

/* The strategy under test (hybrid.c): its name is asked of it, so that a
 * renamed copy of the template tests itself. */
extern const struct vmm_ops vmm_hybrid_ops;

#define UW (WL_MAP_WRITE | WL_MAP_USER)
#define NOPS(ops) ((uint32_t)(sizeof(ops) / sizeof((ops)[0])))

/* The top slot of the stack (taken first) and the one under it. */
#define SLOT0 VMM_SCRATCH_BASE
#define SLOT1 (VMM_SCRATCH_BASE + PAGE_SIZE)

#define NMARKS 8

/* What a run showed: the machine at each mark 1..NMARKS-1, and its INVLPGs. */
struct seen {
    struct mmu_counters ctr[NMARKS];
    uint32_t tmp_maps[NMARKS];
    uint32_t free_frames[NMARKS];
    bool at[NMARKS];
    bool workload;           /* the workload has begun: events before are the boot's */
    unsigned bad_pde_line;   /* a directory whose PDE 1022 or 1023 was wrong at a mark */
    paddr_t bad_pd;          /* ... that directory */
    uint32_t invlpg_slot[2]; /* INVLPGs of SLOT0 and SLOT1 */
    uint32_t invlpg_other_slot;
    uint32_t invlpg_foreign; /* INVLPGs in the foreign window (PDE 1022) */
    uint32_t invlpg_user;
    uint32_t invlpg_total;
    /* Mark 3 of fork_workload: the fork's copies checked (space id 4). */
    unsigned fork_pages_ok;
};

static uint32_t
phys_word(struct sim *s, paddr_t pa)
{
    uint32_t v;
    void *p = sim_phys(s, pa, sizeof(v));
    ck_assert_ptr_nonnull(p);
    memcpy(&v, p, sizeof(v));
    return v;
}

/* The PTE mapping va in the directory at pd, read from RAM (0 if none). */
static pte_t
host_pte(struct sim *s, paddr_t pd, vaddr_t va)
{
    pde_t pde = phys_word(s, pd + PDX(va) * 4);
    if (!(pde & PTE_P))
        return 0;
    return phys_word(s, PTE_ADDR(pde) + PTX(va) * 4);
}

/* Every live space the kernel listed: PDE 1022 (the foreign slot of the
 * recursive strategy) is 0 and PDE 1023 maps the directory onto itself. */
static void
check_directories(struct seen *w, struct sim *s)
{
    unsigned n = 0;
    const struct sim_space *sp = sim_spaces(s, &n);
    for (unsigned i = 0; i < n; i++) {
        pde_t foreign = phys_word(s, sp[i].pd + FOREIGN_SLOT * 4);
        pde_t self = phys_word(s, sp[i].pd + RECURSIVE_SLOT * 4);
        if ((foreign != 0 || PTE_ADDR(self) != sp[i].pd || !(self & PTE_P)) &&
            w->bad_pde_line == 0) {
            w->bad_pde_line = __LINE__;
            w->bad_pd = sp[i].pd;
        }
    }
}

/* The run whose mark 3 checks the fork of fork_workload (NULL: none). */
static struct seen *fork_seen;

/* Mark 3 of fork_workload: space 4 (the fork of space 1) is current. */
static void
check_fork_copies(struct seen *w, struct sim *s)
{
    unsigned n = 0;
    const struct sim_space *sp = sim_spaces(s, &n);
    paddr_t parent = 0, child = 0;
    for (unsigned i = 0; i < n; i++) {
        if (sp[i].id == 1)
            parent = sp[i].pd;
        if (sp[i].id == 4 && sp[i].current)
            child = sp[i].pd;
    }
    if (parent == 0 || child == 0)
        return;
    for (vaddr_t va = 0x08048000u; va < 0x08048000u + 4 * PAGE_SIZE; va += PAGE_SIZE) {
        pte_t pe = host_pte(s, parent, va), ce = host_pte(s, child, va);
        /* The child has its own frame, same rights, holding what the parent
         * wrote there (the touch writes each page's address at its start). */
        if ((ce & (PTE_P | PTE_W | PTE_U)) == (PTE_P | PTE_W | PTE_U) &&
            PTE_ADDR(ce) != PTE_ADDR(pe) && phys_word(s, PTE_ADDR(ce)) == va)
            w->fork_pages_ok++;
    }
}

static void
on_mark(void *ctx, struct sim *s, uint32_t id)
{
    struct seen *w = ctx;
    if (id == WL_MARK_WORKLOAD)
        w->workload = true;
    if (id == 0 || id >= NMARKS)
        return;
    w->at[id] = true;
    w->ctr[id] = sim_mmu(s)->ctr;
    ck_assert(sim_figure(s, "vmm.tmp_maps", &w->tmp_maps[id]));
    ck_assert(sim_figure(s, "pmm.free_frames", &w->free_frames[id]));
    check_directories(w, s);
    if (w == fork_seen && id == 3)
        check_fork_copies(w, s);
}

static void
on_event(void *ctx, struct sim *s, const struct sim_event *ev)
{
    struct seen *w = ctx;
    (void)s;
    if (ev->kind != SIM_EV_INVLPG || !w->workload)
        return;
    w->invlpg_total++;
    if (ev->value == SLOT0)
        w->invlpg_slot[0]++;
    else if (ev->value == SLOT1)
        w->invlpg_slot[1]++;
    else if (ev->value >= VMM_SCRATCH_BASE && ev->value < TEMPMAP_END)
        w->invlpg_other_slot++;
    else if ((ev->value >= FOREIGN_PT_BASE && ev->value < RECURSIVE_PT_BASE) ||
             PAGE_ROUND_DOWN(ev->value) == FOREIGN_PD)
        w->invlpg_foreign++;
    else if (ev->value < KERNEL_BASE)
        w->invlpg_user++;
}

/*
 * Boots "hybrid" with the frame allocator pmm on a fresh 64 MiB machine
 * (PSE and PGE on, as scenarios/thread.scn), the stale-TLB detector strict,
 * runs ops and fills *w.  Only the workload's INVLPGs are counted (the
 * boot zeroes the stack allocator's pool through a slot).
 */
static void
run(const char *pmm, const struct wl_op *ops, uint32_t nops, struct seen *w)
{
    struct sim_config sc;
    char err[256];
    sim_config_default(&sc);
    sc.ram_size = 64u << 20;
    struct sim *s = sim_create(&sc, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    memset(w, 0, sizeof(*w));
    sim_set_mark(s, on_mark, w);
    sim_set_strict_tlb(s, true);
    struct bootload_config cfg = {
        .strategy = vmm_hybrid_ops.name, .pmm = pmm, .cr4 = CR4_PSE | CR4_PGE, .ops = ops, .nops = nops};
    struct bootload_result res;
    sim_set_event(s, on_event, w);
    enum bootload_status st = bootload_run(s, &cfg, &res);
    char stop[1024] = "";
    if (st == BOOTLOAD_STOPPED)
        sim_format_stop(sim_last_stop(s), stop, sizeof(stop));
    ck_assert_msg(st == BOOTLOAD_OK, "%s (workload: %s at op %u)\n%s", bootload_strerror(st),
                  wl_strerror(res.wl.status), res.wl.op_index, stop);
    ck_assert_uint_eq(sim_mmu(s)->ctr.stale_uses, 0);
    ck_assert_uint_eq(sim_mmu(s)->ctr.stale_pde, 0);
    ck_assert_msg(w->bad_pde_line == 0, "directory 0x%08x: PDE 1022 not 0 or PDE 1023 not itself",
                  w->bad_pd);
    /* The kernel counted every INVLPG the MMU executed (vmm_invlpg), and
     * every CR3 write but the boot loader's, which turned paging on. */
    uint32_t k_invlpg = 0, k_cr3 = 0;
    ck_assert(sim_figure(s, "vmm.invlpg", &k_invlpg));
    ck_assert(sim_figure(s, "vmm.cr3_writes", &k_cr3));
    ck_assert_uint_eq(k_invlpg, sim_mmu(s)->ctr.invlpg);
    ck_assert_uint_eq(k_cr3, sim_mmu(s)->ctr.cr3_writes - 1);
    sim_destroy(s);
}

/* The figures of *w from mark a to mark b. */
static uint64_t
invlpg_between(const struct seen *w, unsigned a, unsigned b)
{
    ck_assert(w->at[a] && w->at[b]);
    return w->ctr[b].invlpg - w->ctr[a].invlpg;
}

static uint64_t
cr3_between(const struct seen *w, unsigned a, unsigned b)
{
    return w->ctr[b].cr3_writes - w->ctr[a].cr3_writes;
}

static uint32_t
maps_between(const struct seen *w, unsigned a, unsigned b)
{
    return w->tmp_maps[b] - w->tmp_maps[a];
}

/* From mark a to mark a + 1 of *w: invlpg INVLPGs and maps slot maps. */
static void
assert_step(const struct seen *w, unsigned a, uint64_t invlpg, uint32_t maps)
{
    ck_assert_uint_eq(invlpg_between(w, a, a + 1), invlpg);
    ck_assert_uint_eq(maps_between(w, a, a + 1), maps);
}

/* Registration: the plug-in's entry point added "hybrid" (main called it
 * once); a second call is refused, as the name is taken. */
START_TEST(test_hybrid_registered)
{
    const struct vmm_ops *ops = vmm_find(vmm_hybrid_ops.name);
    ck_assert_ptr_eq(ops, &vmm_hybrid_ops);
    ck_assert_ptr_eq(ops->pmm, &pmm_stack_ops);
    ck_assert_int_eq(pagesim_plugin_init(&kplugin_registrar), KREG_NAME_TAKEN);
}
END_TEST

/* Space 1 current; a page in a new table, a page beside it, then the second unmapped. */
static const struct wl_op current_workload[] = {
    WL_OP(WL_SPACE_CREATE, 1, 0, 0, 0),
    WL_OP(WL_SPACE_SWITCH, 1, 0, 0, 0),
    WL_OP(WL_MARK, 1, 0, 0, 0),
    WL_OP(WL_MAP, WL_CURRENT, 0x40000000u, PAGE_SIZE, UW),
    WL_OP(WL_MARK, 2, 0, 0, 0),
    WL_OP(WL_MAP, WL_CURRENT, 0x40001000u, PAGE_SIZE, UW),
    WL_OP(WL_MARK, 3, 0, 0, 0),
    WL_OP(WL_TOUCH, WL_TOUCH_WRITE | WL_TOUCH_USER, 0x40000000u, 2 * PAGE_SIZE, 0),
    WL_OP(WL_UNMAP, WL_CURRENT, 0x40001000u, PAGE_SIZE, 0),
    WL_OP(WL_MARK, 4, 0, 0, 0),
};

/*
 * The current space is edited through the self-map.
 *
 * Mark 1 -> 2, a page at 1 GiB where space 1 has no table: the directory
 * is at RECURSIVE_PD, the new table's PDE 256 is written there, and the
 * table appears at self-map page 256 (RECURSIVE_PT_BASE + 256 pages).  That
 * PDE, and so the self-map "PTE" of page 256, goes from not present to
 * present: no TLB entry or paging-structure-cache entry is ever made from a
 * not-present entry, so none needs invalidating (SDM 4.10.4.3), and the user
 * page was not mapped before either.  0 INVLPG.  The table comes from the
 * stack allocator's pool, zeroed at boot: no slot is used, 0 tmp_maps.  No
 * CR3 write.
 * Mark 2 -> 3, the page beside it: the same table, one PTE from not present
 * to present: 0 INVLPG, 0 tmp_maps.
 * Mark 3 -> 4: the touch caches both pages; the unmap clears the PTE of one
 * of them in the current space, which may be cached: 1 INVLPG, of a user
 * page; 0 tmp_maps.
 * The stale-TLB detector (strict) stops the run if any invalidation was
 * missing: the touch went through the self-map's new page and the new PTEs.
 */
START_TEST(test_hybrid_current_space_costs)
{
    struct seen w;
    run("stack", current_workload, NOPS(current_workload), &w);
    assert_step(&w, 1, 0, 0);
    assert_step(&w, 2, 0, 0);
    assert_step(&w, 3, 1, 0);
    ck_assert_uint_eq(cr3_between(&w, 1, 4), 0);
    ck_assert_uint_eq(w.invlpg_user, 1);
}
END_TEST

/*
 * The same with the bitmap allocator, which keeps no pool: the new table of
 * mark 1 -> 2 is zeroed through a slot (one map, one INVLPG of the slot),
 * then reached through the self-map as before.  1 INVLPG, 1 tmp_map.  The
 * rest as above.  Over the whole workload the slot is used 3 times, always
 * SLOT0 (the stack's top: no other slot is in use): the create before mark
 * 1 zeroes the directory, then fills it (2), and the new table's zeroing (1).
 */
START_TEST(test_hybrid_current_space_costs_bitmap)
{
    struct seen w;
    run("bitmap", current_workload, NOPS(current_workload), &w);
    assert_step(&w, 1, 1, 1);
    assert_step(&w, 2, 0, 0);
    ck_assert_uint_eq(invlpg_between(&w, 3, 4), 1);
    ck_assert_uint_eq(w.invlpg_slot[0], 3);
    ck_assert_uint_eq(w.invlpg_total, 4);
    ck_assert_uint_eq(w.invlpg_user, 1);
}
END_TEST

/* From the kernel's space: space 1 is never current. */
static const struct wl_op foreign_workload[] = {
    WL_OP(WL_MARK, 1, 0, 0, 0), WL_OP(WL_SPACE_CREATE, 1, 0, 0, 0),
    WL_OP(WL_MARK, 2, 0, 0, 0), WL_OP(WL_MAP, 1, 0x40000000u, PAGE_SIZE, UW),
    WL_OP(WL_MARK, 3, 0, 0, 0), WL_OP(WL_MAP, 1, 0x40001000u, PAGE_SIZE, UW),
    WL_OP(WL_MARK, 4, 0, 0, 0), WL_OP(WL_UNMAP, 1, 0x40000000u, PAGE_SIZE, 0),
    WL_OP(WL_MARK, 5, 0, 0, 0), WL_OP(WL_SPACE_DESTROY, 1, 0, 0, 0),
    WL_OP(WL_MARK, 6, 0, 0, 0),
};

/* INVLPG (= slot maps) of each step of foreign_workload, mark i -> i + 1. */
struct foreign_expect {
    const char *pmm;
    uint32_t step[5];
    uint32_t slot1; /* of all of them, INVLPGs of SLOT1 (a second slot in use) */
};

/*
 * Another space is reached one structure at a time through the slot on top
 * of the stack: each structure opened is one slot map and, when closed, one
 * INVLPG of that slot.  With the stack allocator (pool zeroed at boot):
 *   create   its directory (a pool frame) filled through a slot: 1
 *   map      new table: the directory (PDE 256 written), closed, then the
 *            table (a pool frame) for its PTE: 2
 *   map      same table: directory, table: 2
 *   unmap    directory, table; the user page is not current, so its
 *            translation left the TLB with the CR3 load that left space 1
 *            (here: it never was current): no INVLPG for it: 2
 *   destroy  the directory (its PDEs read), then its one table (its PTE
 *            read): 2
 * 9 INVLPG, all of SLOT0: one structure mapped at a time.
 * With the bitmap allocator each zeroed frame also goes through a slot:
 * create 1 + 1 (zeroed, then filled: one after the other, both SLOT0);
 * the first map 2 + 1, the zeroing nested in the open directory, so in the
 * slot under it, SLOT1; the rest as with the stack: 2 + 3 + 2 + 2 + 2 = 11.
 * No CR3 write: the kernel's space stays current.
 */
static const struct foreign_expect foreign_expect[] = {
    {"stack", {1, 2, 2, 2, 2}, 0},
    {"bitmap", {2, 3, 2, 2, 2}, 1},
};

START_TEST(test_hybrid_foreign_space_costs)
{
    const struct foreign_expect *e = &foreign_expect[_i];
    struct seen w;
    uint32_t total = 0;
    run(e->pmm, foreign_workload, NOPS(foreign_workload), &w);
    for (unsigned m = 1; m <= 5; m++) {
        ck_assert_msg(invlpg_between(&w, m, m + 1) == e->step[m - 1],
                      "%s: mark %u -> %u: %llu INVLPG, expected %u", e->pmm, m, m + 1,
                      (unsigned long long)invlpg_between(&w, m, m + 1), e->step[m - 1]);
        ck_assert_uint_eq(maps_between(&w, m, m + 1), e->step[m - 1]);
        total += e->step[m - 1];
    }
    ck_assert_uint_eq(cr3_between(&w, 1, 6), 0);
    ck_assert_uint_eq(w.invlpg_total, total);
    ck_assert_uint_eq(w.invlpg_slot[1], e->slot1);
    ck_assert_uint_eq(w.invlpg_slot[0], total - e->slot1);
    ck_assert_uint_eq(w.invlpg_user, 0);
}
END_TEST

/* A shell (space 1, current) builds two children without switching to
 * them, forks itself (4) and a child (5), runs the fork of itself, then
 * tears everything down but itself. */
static const struct wl_op fork_workload[] = {
    WL_OP(WL_MARK, 1, 0, 0, 0),
    WL_OP(WL_SPACE_CREATE, 1, 0, 0, 0),
    WL_OP(WL_SPACE_SWITCH, 1, 0, 0, 0),
    WL_OP(WL_MAP, WL_CURRENT, 0x08048000u, 4 * PAGE_SIZE, UW),
    WL_OP(WL_TOUCH, WL_TOUCH_WRITE | WL_TOUCH_USER, 0x08048000u, 4 * PAGE_SIZE, 0),
    WL_OP(WL_SPACE_CREATE, 2, 0, 0, 0),
    WL_OP(WL_SPACE_CREATE, 3, 0, 0, 0),
    WL_OP(WL_MAP, 2, 0x08048000u, 2 * PAGE_SIZE, UW),
    WL_OP(WL_MAP, 3, 0xBFFF8000u, 2 * PAGE_SIZE, UW),
    WL_OP(WL_REPEAT, 3, 0, 0, 0),
    WL_OP(WL_MAP, 2, 0x10000000u, PAGE_SIZE, UW),
    WL_OP(WL_MAP, 3, 0x10000000u, PAGE_SIZE, UW),
    WL_OP(WL_UNMAP, 2, 0x10000000u, PAGE_SIZE, 0),
    WL_OP(WL_UNMAP, 3, 0x10000000u, PAGE_SIZE, 0),
    WL_OP(WL_REPEAT_END, 0, 0, 0, 0),
    WL_OP(WL_MARK, 2, 0, 0, 0),
    WL_OP(WL_SPACE_FORK, 4, 1, 0, 0),
    WL_OP(WL_SPACE_FORK, 5, 2, 0, 0),
    WL_OP(WL_SPACE_SWITCH, 4, 0, 0, 0),
    WL_OP(WL_TOUCH, WL_TOUCH_USER, 0x08048000u, 4 * PAGE_SIZE, 0),
    WL_OP(WL_MARK, 3, 0, 0, 0),
    WL_OP(WL_SPACE_SWITCH, 1, 0, 0, 0),
    WL_OP(WL_SPACE_DESTROY, 2, 0, 0, 0),
    WL_OP(WL_SPACE_DESTROY, 3, 0, 0, 0),
    WL_OP(WL_SPACE_DESTROY, 4, 0, 0, 0),
    WL_OP(WL_SPACE_DESTROY, 5, 0, 0, 0),
    WL_OP(WL_UNMAP, WL_CURRENT, 0x08048000u, 4 * PAGE_SIZE, 0),
    WL_OP(WL_MARK, 4, 0, 0, 0),
};

/*
 * No foreign slot, one structure at a time, fork and teardown right.
 *
 * At every mark every live directory has PDE 1022 = 0 (run checks it:
 * the recursive strategy's foreign slot is never used) and PDE 1023
 * pointing at itself.  No INVLPG falls in the foreign window
 * (0xFF800000-0xFFBFFFFF, or its directory page 0xFFFFE000), and none in a
 * slot below the second: paging structures are opened one at a time (the
 * top slot), the second slot only holding a frame zeroed (bitmap) or the
 * second frame of a fork's page copy.
 * At mark 3 the fork of the shell (space 4) is current: each of its four
 * pages is present, writable and user as the shell's, in a frame of its
 * own that holds what the shell's touch wrote there (the page's address).
 * At mark 4 what is left beyond mark 1 is the shell's directory and its one
 * table (PDE 32, for 0x08048000): every other frame taken went back, so
 * the PMM has 2 frames fewer free.
 */
START_TEST(test_hybrid_fork_and_teardown)
{
    struct seen w;
    fork_seen = &w;
    run(_i == 0 ? "stack" : "bitmap", fork_workload, NOPS(fork_workload), &w);
    ck_assert(w.at[1] && w.at[2] && w.at[3] && w.at[4]);
    ck_assert_uint_eq(w.invlpg_foreign, 0);
    ck_assert_uint_eq(w.invlpg_other_slot, 0);
    ck_assert_uint_gt(w.invlpg_slot[0], 0);
    ck_assert_uint_eq(w.fork_pages_ok, 4);
    ck_assert_uint_eq(w.free_frames[1] - w.free_frames[4], 2);
    fork_seen = NULL;
}
END_TEST

static Suite *
hybrid_suite(void)
{
    Suite *s = suite_create("hybrid");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_hybrid_registered);
    tcase_add_test(tc, test_hybrid_current_space_costs);
    tcase_add_test(tc, test_hybrid_current_space_costs_bitmap);
    tcase_add_loop_test(tc, test_hybrid_foreign_space_costs, 0,
                        (int)(sizeof(foreign_expect) / sizeof(foreign_expect[0])));
    tcase_add_loop_test(tc, test_hybrid_fork_and_teardown, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

/* Registers the strategy as pagesim --plugin would (before any machine
 * exists), then runs the suite. */
int
main(void)
{
    int r = pagesim_plugin_init(&kplugin_registrar);
    if (r != 0) {
        fprintf(stderr, "test_hybrid: registering hybrid: %s\n",
                kreg_strerror((enum kreg_status)r));
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(hybrid_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

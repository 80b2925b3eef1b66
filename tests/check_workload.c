/*
 * check_workload.c - the workload executor (kernel/workload.h) booted by the
 * simulator's loader: the list is copied once at the start and never read
 * from the module again, loop-indexed slots, the op limit and the progress
 * marks.
 */
#include <check.h>
#include <string.h>

#include "allocators/vmm.h"
#include "kernel/layout.h"
#include "sim/bootload.h"
#include "tests/suites.h"

/* What the marks saw: counters at marks 0 and 1 and at WL_MARK_WORKLOAD,
 * the order of the first marks, and what the slots held at mark 0. */
struct seen {
    struct mmu_counters at[2], workload;
    uint64_t directmap_at[2];
    uint32_t order[4], norder;
    uint32_t progress;
    uint64_t executed_at_progress[4];
    bool live[32];
    uint32_t current_slot; /* the slot whose space was in CR3 at mark 0 */
};

static void
on_mark(void *ctx, struct sim *s, uint32_t id)
{
    struct seen *m = ctx;
    if (m->norder < 4)
        m->order[m->norder++] = id;
    if (id == WL_MARK_WORKLOAD) {
        m->workload = sim_mmu(s)->ctr;
    } else if (id == WL_MARK_PROGRESS) {
        if (m->progress < 4)
            m->executed_at_progress[m->progress] = wl_executed();
        m->progress++;
    } else if (id < 2) {
        m->at[id] = sim_mmu(s)->ctr;
        m->directmap_at[id] = sim_region_accesses(s, REGION_DIRECTMAP);
    }
    if (id == 0) {
        m->current_slot = UINT32_MAX;
        for (uint32_t slot = 0; slot < 32; slot++) {
            uint32_t h;
            m->live[slot] = wl_slot_space(slot, &h);
            if (m->live[slot] && h == vmm_current())
                m->current_slot = slot;
        }
    }
}

/* Runs ops (n of them, max_ops) under recursive with the bitmap PMM. */
static enum bootload_status
run(const struct wl_op *ops, uint32_t n, uint32_t max_ops, struct seen *m,
    struct bootload_result *res)
{
    struct sim_config cfg;
    char err[256];
    sim_config_default(&cfg);
    cfg.ram_size = 64u << 20;
    struct sim *s = sim_create(&cfg, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    memset(m, 0, sizeof(*m));
    sim_set_mark(s, on_mark, m);
    struct bootload_config bc = {.strategy = "recursive",
                                 .pmm = "bitmap",
                                 .cr4 = CR4_PSE,
                                 .ops = ops,
                                 .nops = n,
                                 .max_ops = max_ops};
    enum bootload_status st = bootload_run(s, &bc, res);
    if (st == BOOTLOAD_STOPPED) {
        char stop[512];
        sim_format_stop(sim_last_stop(s), stop, sizeof(stop));
        ck_abort_msg("run stopped: %s", stop);
    }
    sim_destroy(s);
    return st;
}

#define NOPS(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/*
 * A thousand touches of one mapped page, between marks 0 and 1.  Each is
 * one 4-byte kernel read of 0x10000000 (stride 4K over 4K: one access),
 * and nothing else between the marks touches simulated memory: the ops
 * come from the kernel's copy of the list (kernel data, host memory), the
 * repeat counters live on the kernel stack.  So exactly 1000 reads, no
 * write, none of them through the direct map where the module lies.  When
 * the executor read each op from the module, every pass added the op's
 * fields read through the direct map.
 */
static const struct wl_op touch_loop[] = {
    WL_OP(WL_SPACE_CREATE, 0, 0, 0, 0),
    WL_OP(WL_SPACE_SWITCH, 0, 0, 0, 0),
    WL_OP(WL_MAP, 0, 0x10000000u, 4096, WL_MAP_WRITE),
    WL_OP(WL_MARK, 0, 0, 0, 0),
    WL_OP(WL_REPEAT, 1000, 0, 0, 0),
    WL_OP(WL_TOUCH, 0, 0x10000000u, 4096, 0),
    WL_OP(WL_REPEAT_END, 0, 0, 0, 0),
    WL_OP(WL_MARK, 1, 0, 0, 0),
    WL_OP(WL_END, 0, 0, 0, 0),
};

START_TEST(test_workload_op_list_reads_not_counted)
{
    struct seen m;
    struct bootload_result res;
    ck_assert_int_eq(run(touch_loop, NOPS(touch_loop), 0, &m, &res), BOOTLOAD_OK);
    const struct mmu_counters *a = &m.at[0], *b = &m.at[1];
    ck_assert_uint_eq(b->accesses[MMU_SUP_READ] - a->accesses[MMU_SUP_READ], 1000);
    ck_assert_uint_eq(b->accesses[MMU_SUP_WRITE] - a->accesses[MMU_SUP_WRITE], 0);
    ck_assert_uint_eq(b->accesses[MMU_USER_READ] - a->accesses[MMU_USER_READ], 0);
    ck_assert_uint_eq(m.directmap_at[1] - m.directmap_at[0], 0);
    /* The same page every time: one translation, the TLB keeps it. */
    ck_assert_uint_le(b->tlb_misses - a->tlb_misses, 1);
}
END_TEST

/*
 * The copy is the only reading of the module.  A list of eleven marks:
 * after WL_MARK_WORKLOAD the executor runs them from its copy (kernel data,
 * host memory) and nothing else, so the counters at the last mark equal
 * those at WL_MARK_WORKLOAD: not one access.  Before it, the copy read the
 * module: a list ten ops (240 bytes) longer costs more reads by the mark,
 * and at most 60 more (six 4-byte words an op; the compiler may use wider
 * loads, never narrower ones, for the aligned copy) and no more writes
 * (the copy is kernel data).
 */
START_TEST(test_workload_copied_once_before_the_mark)
{
    struct wl_op marks[11];
    for (uint32_t i = 0; i < 11; i++)
        marks[i] = (struct wl_op)WL_OP(WL_MARK, 1, 0, 0, 0);
    struct seen m1, m11;
    struct bootload_result res;
    ck_assert_int_eq(run(marks, 1, 0, &m1, &res), BOOTLOAD_OK);
    ck_assert_int_eq(run(marks, 11, 0, &m11, &res), BOOTLOAD_OK);
    ck_assert_uint_eq(m11.order[0], WL_MARK_WORKLOAD);
    ck_assert_uint_eq(m11.order[1], 1);
    for (unsigned k = 0; k < MMU_NACCESS; k++)
        ck_assert_uint_eq(m11.at[1].accesses[k], m11.workload.accesses[k]);
    uint64_t more = m11.workload.accesses[MMU_SUP_READ] - m1.workload.accesses[MMU_SUP_READ];
    ck_assert_uint_gt(more, 0);
    ck_assert_uint_le(more, 10 * 6);
    ck_assert_uint_eq(m11.workload.accesses[MMU_SUP_WRITE], m1.workload.accesses[MMU_SUP_WRITE]);
}
END_TEST

/*
 * Loop indexes.  Pass i of the first block creates slot 4 + i (4, 5, 6)
 * and forks slot 10 + i from it; the nested block switches, on pass j of
 * the outer block, to slot 4 + j ($j).  The outer block makes 2 passes, so
 * the last switch is to slot 5.  Slots 0-3, 7-9 and 13 and up stay unused.
 */
static const struct wl_op loops[] = {
    WL_OP(WL_REPEAT, 3, 0, 0, 0),
    WL_OP(WL_SPACE_CREATE | WL_A_LOOP(WL_LOOP_I), 4, 0, 0, 0),
    WL_OP(WL_SPACE_FORK | WL_A_LOOP(WL_LOOP_I) | WL_B_LOOP(WL_LOOP_I), 10, 4, 0, 0),
    WL_OP(WL_REPEAT_END, 0, 0, 0, 0),
    WL_OP(WL_REPEAT, 2, 0, 0, 0),
    WL_OP(WL_REPEAT, 1, 0, 0, 0),
    WL_OP(WL_SPACE_SWITCH | WL_A_LOOP(WL_LOOP_J), 4, 0, 0, 0),
    WL_OP(WL_REPEAT_END, 0, 0, 0, 0),
    WL_OP(WL_REPEAT_END, 0, 0, 0, 0),
    WL_OP(WL_MARK, 0, 0, 0, 0),
};

START_TEST(test_workload_loop_index_slots)
{
    struct seen m;
    struct bootload_result res;
    ck_assert_int_eq(run(loops, NOPS(loops), 0, &m, &res), BOOTLOAD_OK);
    for (uint32_t slot = 0; slot < 32; slot++) {
        bool want = (slot >= 4 && slot <= 6) || (slot >= 10 && slot <= 12);
        ck_assert_msg(m.live[slot] == want, "slot %u live %d", slot, m.live[slot]);
    }
    ck_assert_uint_eq(m.current_slot, 5);
}
END_TEST

/* A loop index with no enclosing block, or on an operand that is no slot,
 * is a malformed list: nothing runs. */
START_TEST(test_workload_loop_index_validated)
{
    static const struct wl_op outside[] = {
        WL_OP(WL_SPACE_CREATE, 0, 0, 0, 0),
        WL_OP(WL_SPACE_CREATE | WL_A_LOOP(WL_LOOP_I), 4, 0, 0, 0),
    };
    static const struct wl_op too_deep[] = {
        WL_OP(WL_REPEAT, 2, 0, 0, 0),
        WL_OP(WL_SPACE_CREATE | WL_A_LOOP(WL_LOOP_J), 4, 0, 0, 0),
        WL_OP(WL_REPEAT_END, 0, 0, 0, 0),
    };
    static const struct wl_op not_a_slot[] = {
        WL_OP(WL_REPEAT, 2, 0, 0, 0),
        WL_OP(WL_TOUCH | WL_A_LOOP(WL_LOOP_I), 0, 0x10000000u, 4096, 0),
        WL_OP(WL_REPEAT_END, 0, 0, 0, 0),
    };
    static const struct wl_op empty_block[] = {
        WL_OP(WL_SPACE_CREATE, 0, 0, 0, 0),
        WL_OP(WL_REPEAT, 100, 0, 0, 0),
        WL_OP(WL_REPEAT_END, 0, 0, 0, 0),
    };
    /* A block run 0 times that holds work still counts none: around it, an
     * outer block of 2^32 - 1 passes would run unbounded (op 1, the inner
     * repeat, is refused). */
    static const struct wl_op zero_count[] = {
        WL_OP(WL_REPEAT, 0xFFFFFFFFu, 0, 0, 0), WL_OP(WL_REPEAT, 0, 0, 0, 0),
        WL_OP(WL_KMALLOC, 0, 8, 0, 0),          WL_OP(WL_REPEAT_END, 0, 0, 0, 0),
        WL_OP(WL_REPEAT_END, 0, 0, 0, 0),
    };
    const struct {
        const struct wl_op *ops;
        uint32_t n, bad;
    } cases[] = {{outside, NOPS(outside), 1},
                 {too_deep, NOPS(too_deep), 1},
                 {not_a_slot, NOPS(not_a_slot), 1},
                 {empty_block, NOPS(empty_block), 2},
                 {zero_count, NOPS(zero_count), 1}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct seen m;
        struct bootload_result res;
        ck_assert_int_eq(run(cases[k].ops, cases[k].n, 0, &m, &res), BOOTLOAD_WORKLOAD_FAILED);
        ck_assert_int_eq(res.wl.status, WL_BAD_LIST);
        ck_assert_uint_eq(res.wl.op_index, cases[k].bad);
        ck_assert_uint_eq(m.norder, 0); /* no WL_MARK_WORKLOAD: nothing ran */
    }
}
END_TEST

/*
 * The op limit.  Each pass runs KMALLOC then KFREE: 2 ops (the repeat
 * markers are not counted).  With max_ops 7 the run executes passes 1-3
 * (6 ops) and the KMALLOC of pass 4 (7), then stops before the KFREE: op
 * index 2, its line.  With max_ops 200 the 100 passes (200 ops) all run;
 * with 0 there is no limit.
 */
static const struct wl_op alloc_loop[] = {
    WL_OP(WL_REPEAT, 100, 0, 0, 0),   WL_OP(WL_KMALLOC, 0, 8, 0, 0), WL_OP(WL_KFREE, 0, 0, 0, 0),
    WL_OP(WL_REPEAT_END, 0, 0, 0, 0), WL_OP(WL_END, 0, 0, 0, 0),
};

START_TEST(test_workload_limit_stops_at_the_op)
{
    struct seen m;
    struct bootload_result res;
    ck_assert_int_eq(run(alloc_loop, NOPS(alloc_loop), 7, &m, &res), BOOTLOAD_WORKLOAD_FAILED);
    ck_assert_int_eq(res.wl.status, WL_LIMIT);
    ck_assert_uint_eq(res.wl.op_index, 2);
    ck_assert_uint_eq(res.wl.line, alloc_loop[2].line);
    ck_assert_uint_eq(wl_executed(), 7);
    ck_assert_int_eq(run(alloc_loop, NOPS(alloc_loop), 200, &m, &res), BOOTLOAD_OK);
    ck_assert_uint_eq(wl_executed(), 200);
    ck_assert_int_eq(run(alloc_loop, NOPS(alloc_loop), 0, &m, &res), BOOTLOAD_OK);
    ck_assert_uint_eq(wl_executed(), 200);
}
END_TEST

/*
 * Progress marks: 65538 passes of KMALLOC and KFREE are 131076 ops, so a
 * mark after op 65536 and after op 131072: two, each after a whole multiple
 * of WL_PROGRESS_OPS.  They come after WL_MARK_WORKLOAD.
 */
START_TEST(test_workload_progress_marks)
{
    struct wl_op ops[NOPS(alloc_loop)];
    memcpy(ops, alloc_loop, sizeof(ops));
    ops[0].a = 65538;
    struct seen m;
    struct bootload_result res;
    ck_assert_int_eq(run(ops, NOPS(ops), 0, &m, &res), BOOTLOAD_OK);
    ck_assert_uint_eq(m.progress, 2);
    ck_assert_uint_eq(m.executed_at_progress[0], 65536);
    ck_assert_uint_eq(m.executed_at_progress[1], 131072);
    ck_assert_uint_eq(m.order[0], WL_MARK_WORKLOAD);
    ck_assert_uint_eq(m.order[1], WL_MARK_PROGRESS);
}
END_TEST

/* A list longer than the kernel's copy is refused whole. */
START_TEST(test_workload_too_long)
{
    static struct wl_op many[WL_MAX_OPS + 2];
    for (uint32_t i = 0; i < WL_MAX_OPS + 2; i++)
        many[i] = (struct wl_op)WL_OP(WL_MARK, 1, 0, 0, 0);
    struct seen m;
    struct bootload_result res;
    ck_assert_int_eq(run(many, WL_MAX_OPS + 2, 0, &m, &res), BOOTLOAD_WORKLOAD_FAILED);
    ck_assert_int_eq(res.wl.status, WL_BAD_LIST);
    ck_assert_uint_eq(m.norder, 0);
    ck_assert_int_eq(run(many, WL_MAX_OPS + 1, 0, &m, &res), BOOTLOAD_OK);
}
END_TEST

Suite *
workload_suite(void)
{
    Suite *s = suite_create("workload");
    TCase *tc = tcase_create("executor");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_workload_op_list_reads_not_counted);
    tcase_add_test(tc, test_workload_copied_once_before_the_mark);
    tcase_add_test(tc, test_workload_loop_index_slots);
    tcase_add_test(tc, test_workload_loop_index_validated);
    tcase_add_test(tc, test_workload_limit_stops_at_the_op);
    tcase_add_test(tc, test_workload_progress_marks);
    tcase_add_test(tc, test_workload_too_long);
    suite_add_tcase(s, tc);
    return s;
}

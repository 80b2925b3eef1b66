/*
 * check_alloc.c - the allocators (allocators/) on the simulator: placement,
 * the bitmap and stack PMMs, the kernel heap and the page heap.
 *
 * Every allocator keeps its data in simulated memory, so each test boots a
 * machine (tests/kern_alloc.c) and calls the allocators inside sim_run from
 * a small driver here.  Drivers only call kernel functions and record what
 * they return; memory contents are touched by kernel code (ka_fill,
 * ka_verify) or read from the host through sim_phys.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "allocators/heap.h"
#include "allocators/pageheap.h"
#include "allocators/placement.h"
#include "allocators/pmm.h"
#include "kernel/arch.h"
#include "kernel/layout.h"
#include "sim/sim.h"
#include "tests/kern_alloc.h"
#include "tests/suites.h"

#define FRAME(n) (KA_FRAMES_PA + (uint32_t)(n)*PAGE_SIZE)

static struct sim *
alloc_machine(void)
{
    struct sim_config cfg;
    char err[256];
    sim_config_default(&cfg);
    cfg.ram_size = KA_RAM_SIZE;
    struct sim *s = sim_create(&cfg, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

static void
run_ok(struct sim *s, void (*fn)(void *), void *arg)
{
    if (!sim_run(s, fn, arg)) {
        char report[1024];
        sim_format_stop(sim_last_stop(s), report, sizeof(report));
        ck_abort_msg("the kernel run stopped:\n%s", report);
    }
}

/* A machine booted by ka_boot with `frames` frames from FRAME(0) released. */
static struct sim *
booted(const char *pmm, uint32_t frames, vaddr_t heap_end, vaddr_t pageheap_end)
{
    struct sim *s = alloc_machine();
    struct ka_boot cfg = {
        .pmm = pmm,
        .release_pa = KA_FRAMES_PA,
        .release_frames = frames,
        .heap_end = heap_end,
        .pageheap_end = pageheap_end,
    };
    run_ok(s, ka_boot, &cfg);
    return s;
}

static void
fill_phys(struct sim *s, paddr_t pa, uint32_t len, uint8_t byte)
{
    memset(sim_phys(s, pa, len), byte, len);
}

/* True if every byte of [pa, pa + len) is `byte`. */
static bool
phys_all(struct sim *s, paddr_t pa, uint32_t len, uint8_t byte)
{
    const uint8_t *p = sim_phys(s, pa, len);
    for (uint32_t i = 0; i < len; i++)
        if (p[i] != byte)
            return false;
    return true;
}

static vaddr_t
va_of(const void *p)
{
    return (vaddr_t)(uintptr_t)p;
}

/* ---- placement ---------------------------------------------------------- */

struct placement_run {
    vaddr_t va[8];
    paddr_t pa[8];
    uint32_t used;
    paddr_t sealed_at;
    bool sealed;
};

static void
prog_placement_align(void *arg)
{
    struct placement_run *r = arg;
    ka_paging_on(NULL);
    placement_init(KA_PLACEMENT_PA + 4, KA_PLACEMENT_PA + 0x3000);
    r->va[0] = va_of(placement_alloc(10, 1, &r->pa[0]));
    r->va[1] = va_of(placement_alloc(8, 16, &r->pa[1]));
    r->va[2] = va_of(placement_alloc(PAGE_SIZE, PAGE_SIZE, &r->pa[2]));
    r->va[3] = va_of(placement_alloc(4, 3, NULL)); /* 3: not a power of two */
    r->va[4] = va_of(placement_alloc(0, 4, NULL)); /* nothing asked */
    r->used = placement_used();
}

/*
 * Placement from 0x200004: 10 bytes at 0x200004 (align 1); 8 bytes at the
 * next multiple of 16 after 0x20000E, 0x200010; a page at the next page
 * boundary after 0x200018, 0x201000.  Used: 0x202000 - 0x200004 = 0x1FFC.
 * The memory handed out reads as zeros; the alignment gaps keep the 0xAA
 * the host wrote first.
 */
START_TEST(test_placement_alignment_and_zero_fill)
{
    struct sim *s = alloc_machine();
    fill_phys(s, KA_PLACEMENT_PA, 0x3000, 0xAA);
    struct placement_run r = {0};
    run_ok(s, prog_placement_align, &r);
    ck_assert_uint_eq(r.pa[0], 0x200004);
    ck_assert_uint_eq(r.va[0], P2V(0x200004));
    ck_assert_uint_eq(r.pa[1], 0x200010);
    ck_assert_uint_eq(r.va[1], P2V(0x200010));
    ck_assert_uint_eq(r.pa[2], 0x201000);
    ck_assert_uint_eq(r.va[2], P2V(0x201000));
    ck_assert_uint_eq(r.va[3], 0);
    ck_assert_uint_eq(r.va[4], 0);
    ck_assert_uint_eq(r.used, 0x1FFC);
    ck_assert(phys_all(s, 0x200004, 10, 0));
    ck_assert(phys_all(s, 0x200010, 8, 0));
    ck_assert(phys_all(s, 0x201000, PAGE_SIZE, 0));
    ck_assert(phys_all(s, 0x200000, 4, 0xAA));             /* before start */
    ck_assert(phys_all(s, 0x20000E, 2, 0xAA));             /* gap before the 16-aligned block */
    ck_assert(phys_all(s, 0x200018, 0x1000 - 0x18, 0xAA)); /* gap before the page */
    sim_destroy(s);
}
END_TEST

static void
prog_placement_exhaust(void *arg)
{
    struct placement_run *r = arg;
    ka_paging_on(NULL);
    placement_init(KA_PLACEMENT_PA, KA_PLACEMENT_PA + 0x2000);
    r->va[0] = va_of(placement_alloc(0x1800, 1, &r->pa[0]));
    r->va[1] = va_of(placement_alloc(0x801, 1, NULL));
    r->va[2] = va_of(placement_alloc(0x800, 1, &r->pa[2]));
    r->va[3] = va_of(placement_alloc(1, 1, NULL));
    r->used = placement_used();
}

/* An 8 KiB arena: 0x1800 bytes, then 0x801 do not fit in the 0x800 left
 * (NULL, the cursor stays), exactly 0x800 do, then even 1 byte fails. */
START_TEST(test_placement_exhaustion)
{
    struct sim *s = alloc_machine();
    struct placement_run r = {0};
    run_ok(s, prog_placement_exhaust, &r);
    ck_assert_uint_eq(r.pa[0], KA_PLACEMENT_PA);
    ck_assert_uint_eq(r.va[1], 0);
    ck_assert_uint_eq(r.pa[2], KA_PLACEMENT_PA + 0x1800);
    ck_assert_uint_eq(r.va[3], 0);
    ck_assert_uint_eq(r.used, 0x2000);
    sim_destroy(s);
}
END_TEST

static void
prog_placement_seal(void *arg)
{
    struct placement_run *r = arg;
    ka_paging_on(NULL);
    placement_init(KA_PLACEMENT_PA, KA_PLACEMENT_END);
    r->va[0] = va_of(placement_alloc(100, 4, NULL));
    r->sealed_at = placement_seal();
    r->sealed = placement_sealed();
    r->va[1] = va_of(placement_alloc(16, 4, NULL));
    r->va[2] = va_of(placement_alloc(16, 4, NULL));
    r->used = placement_used();
}

struct log_capture {
    unsigned lines;
    char last[160];
};

static void
capture_log(void *ctx, const char *line)
{
    struct log_capture *c = ctx;
    c->lines++;
    snprintf(c->last, sizeof(c->last), "%s", line);
}

/* After 100 bytes the seal hands the PMM the next page boundary, 0x201000;
 * both later calls are refused, and only the first one is logged. */
START_TEST(test_placement_refuses_after_seal)
{
    struct sim *s = alloc_machine();
    struct log_capture log = {0};
    sim_set_log(s, capture_log, &log);
    struct placement_run r = {0};
    run_ok(s, prog_placement_seal, &r);
    ck_assert_uint_eq(r.va[0], P2V(KA_PLACEMENT_PA));
    ck_assert_uint_eq(r.sealed_at, KA_PLACEMENT_PA + PAGE_SIZE);
    ck_assert(r.sealed);
    ck_assert_uint_eq(r.va[1], 0);
    ck_assert_uint_eq(r.va[2], 0);
    ck_assert_uint_eq(r.used, 100);
    ck_assert_uint_eq(log.lines, 1);
    ck_assert_ptr_nonnull(strstr(log.last, "placement"));
    ck_assert_ptr_nonnull(strstr(log.last, "sealed"));
    sim_destroy(s);
}
END_TEST

/* ---- PMM front ---------------------------------------------------------- */

struct front_run {
    const struct pmm_ops *bitmap, *stack, *unknown, *null_name;
    enum pmm_status alloc_st, zeroed_st, free_st;
    struct pmm_stats st;
    const char *msg[PMM_NOT_READY + 1];
};

static void
prog_pmm_front(void *arg)
{
    struct front_run *r = arg;
    ka_paging_on(NULL);
    r->bitmap = pmm_find("bitmap");
    r->stack = pmm_find("stack");
    r->unknown = pmm_find("buddy");
    r->null_name = pmm_find(NULL);
    pmm_use(NULL);
    paddr_t pa;
    r->alloc_st = pmm_alloc(&pa);
    r->zeroed_st = pmm_alloc_zeroed(&pa);
    r->free_st = pmm_free(KA_FRAMES_PA);
    memset(&r->st, 0xFF, sizeof(r->st));
    pmm_stats(&r->st);
    for (int i = 0; i <= PMM_NOT_READY; i++)
        r->msg[i] = pmm_strerror((enum pmm_status)i);
}

START_TEST(test_pmm_find_and_not_ready)
{
    struct sim *s = alloc_machine();
    struct front_run r;
    run_ok(s, prog_pmm_front, &r);
    ck_assert_ptr_eq(r.bitmap, &pmm_bitmap_ops);
    ck_assert_ptr_eq(r.stack, &pmm_stack_ops);
    ck_assert_ptr_null(r.unknown);
    ck_assert_ptr_null(r.null_name);
    ck_assert_int_eq(r.alloc_st, PMM_NOT_READY);
    ck_assert_int_eq(r.zeroed_st, PMM_NOT_READY);
    ck_assert_int_eq(r.free_st, PMM_NOT_READY);
    ck_assert_uint_eq(r.st.total_frames + r.st.free_frames + r.st.allocs + r.st.errors, 0);
    for (int i = 0; i <= PMM_NOT_READY; i++) {
        ck_assert(r.msg[i] != NULL && r.msg[i][0] != '\0');
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(r.msg[i], r.msg[j]);
    }
    sim_destroy(s);
}
END_TEST

static paddr_t zeroed_by_hook[4];
static unsigned zero_hook_calls;

/* A zero fn standing in for a paging strategy's: it only records the frame
 * (host data), so the frame keeps whatever it held. */
static void
record_zero(paddr_t pa)
{
    if (zero_hook_calls < 4)
        zeroed_by_hook[zero_hook_calls] = pa;
    zero_hook_calls++;
}

static void
prog_pmm_zero_fn(void *arg)
{
    paddr_t *pa = arg;
    pmm_set_zero_fn(record_zero);
    pmm_alloc_zeroed(&pa[0]);
    pmm_zero_frame(FRAME(5));
    pmm_set_zero_fn(NULL);
    pmm_alloc_zeroed(&pa[1]);
    pmm_zero_frame(EARLY_MAP_SIZE); /* the default cannot reach it: panic */
}

/*
 * Bitmap PMM, four dirty frames.  With a zero fn set, the zeroed allocation
 * (FRAME(0)) and a direct pmm_zero_frame go through it, and FRAME(0) keeps
 * its 0xAA.  NULL restores the default, which zeroes FRAME(1) through the
 * early map and stops the kernel for the first frame above 16 MiB.
 */
START_TEST(test_pmm_zero_fn)
{
    struct sim *s = booted("bitmap", 4, 0, 0);
    fill_phys(s, FRAME(0), 4 * PAGE_SIZE, 0xAA);
    paddr_t pa[2] = {0, 0};
    zero_hook_calls = 0;
    ck_assert(!sim_run(s, prog_pmm_zero_fn, pa));
    ck_assert_int_eq(sim_last_stop(s)->kind, SIM_STOP_PANIC);
    ck_assert_ptr_nonnull(strstr(sim_last_stop(s)->msg, "early mapping"));
    ck_assert_uint_eq(zero_hook_calls, 2);
    ck_assert_uint_eq(zeroed_by_hook[0], FRAME(0));
    ck_assert_uint_eq(zeroed_by_hook[1], FRAME(5));
    ck_assert_uint_eq(pa[0], FRAME(0));
    ck_assert(phys_all(s, FRAME(0), PAGE_SIZE, 0xAA));
    ck_assert_uint_eq(pa[1], FRAME(1));
    ck_assert(phys_all(s, FRAME(1), PAGE_SIZE, 0));
    sim_destroy(s);
}
END_TEST

/* ---- bitmap PMM --------------------------------------------------------- */

struct pmm_run {
    paddr_t pa[16];
    enum pmm_status st[16];
    uint32_t moved[4];
    struct pmm_stats stats;
};

static void
prog_bitmap_next_fit(void *arg)
{
    struct pmm_run *r = arg;
    for (int i = 0; i < 3; i++)
        r->st[i] = pmm_alloc(&r->pa[i]);
    r->st[3] = pmm_free(FRAME(0));
    for (int i = 4; i < 11; i++)
        r->st[i] = pmm_alloc(&r->pa[i]);
    pmm_stats(&r->stats);
}

/*
 * Eight frames released, FRAME(0..7).  Three allocations take 0, 1, 2.
 * FRAME(0) is freed, but next fit goes on from the last frame handed out:
 * 3, 4, 5, 6, 7; only then does the search wrap round to 0.  The eleventh
 * call (eighth allocation after the free) finds nothing.
 */
START_TEST(test_pmm_bitmap_next_fit)
{
    struct sim *s = booted("bitmap", 8, 0, 0);
    struct pmm_run r = {0};
    run_ok(s, prog_bitmap_next_fit, &r);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(r.st[i], PMM_OK);
        ck_assert_uint_eq(r.pa[i], FRAME(i));
    }
    ck_assert_int_eq(r.st[3], PMM_OK);
    for (int i = 4; i < 9; i++) {
        ck_assert_int_eq(r.st[i], PMM_OK);
        ck_assert_uint_eq(r.pa[i], FRAME(i - 1));
    }
    ck_assert_int_eq(r.st[9], PMM_OK);
    ck_assert_uint_eq(r.pa[9], FRAME(0));
    ck_assert_int_eq(r.st[10], PMM_NO_MEMORY);
    ck_assert_uint_eq(r.stats.total_frames, KA_NFRAMES);
    ck_assert_uint_eq(r.stats.free_frames, 0);
    ck_assert_uint_eq(r.stats.reserved_frames, KA_NFRAMES - 8);
    ck_assert_uint_eq(r.stats.allocs, 9);
    ck_assert_uint_eq(r.stats.frees, 1);
    ck_assert_uint_eq(r.stats.errors, 1);
    ck_assert_uint_eq(r.stats.bookkeeping_bytes, KA_NFRAMES / 8); /* a bit per frame */
    sim_destroy(s);
}
END_TEST

static void
prog_pmm_bad_frees(void *arg)
{
    struct pmm_run *r = arg;
    r->st[0] = pmm_alloc(&r->pa[0]);
    r->st[1] = pmm_free(r->pa[0] + 0x800);
    r->st[2] = pmm_free(KA_NFRAMES * PAGE_SIZE);
    r->st[3] = pmm_free(r->pa[0] ^ PAGE_SIZE); /* a released frame never allocated */
    r->st[4] = pmm_free(r->pa[0]);
    r->st[5] = pmm_free(r->pa[0]);
    pmm_stats(&r->stats);
}

/* Unaligned, beyond the last frame, and twice the same frame: refused with
 * their own status and counted; the one good free goes through. */
static void
check_bad_frees(const char *pmm)
{
    struct sim *s = booted(pmm, 4, 0, 0);
    struct pmm_run r = {0};
    run_ok(s, prog_pmm_bad_frees, &r);
    ck_assert_int_eq(r.st[0], PMM_OK);
    ck_assert_int_eq(r.st[1], PMM_UNALIGNED);
    ck_assert_int_eq(r.st[2], PMM_OUT_OF_RANGE);
    ck_assert_int_eq(r.st[3], PMM_DOUBLE_FREE);
    ck_assert_int_eq(r.st[4], PMM_OK);
    ck_assert_int_eq(r.st[5], PMM_DOUBLE_FREE);
    ck_assert_uint_eq(r.stats.errors, 4);
    ck_assert_uint_eq(r.stats.frees, 1);
    ck_assert_uint_eq(r.stats.free_frames, 4);
    sim_destroy(s);
}

START_TEST(test_pmm_bitmap_bad_frees)
{
    check_bad_frees("bitmap");
}
END_TEST

static void
prog_bitmap_reserve_zeroed(void *arg)
{
    struct pmm_run *r = arg;
    pmm_bitmap_ops.reserve(FRAME(2), 2);
    pmm_stats(&r->stats);
    r->moved[0] = r->stats.free_frames;
    r->moved[1] = r->stats.reserved_frames;
    r->st[0] = pmm_alloc_zeroed(&r->pa[0]);
    for (int i = 1; i < 7; i++)
        r->st[i] = pmm_alloc(&r->pa[i]);
    r->st[7] = pmm_alloc_zeroed(&r->pa[7]);
    pmm_stats(&r->stats);
}

/*
 * Eight frames released, FRAME(2) and FRAME(3) reserved again: six free.
 * The zeroed allocation takes FRAME(0) and zeroes it; the plain ones get
 * 1, 4, 5, 6, 7 (never the reserved two) and are left as they were; then
 * both kinds of allocation fail.
 */
START_TEST(test_pmm_bitmap_reserve_and_zeroed)
{
    struct sim *s = booted("bitmap", 8, 0, 0);
    fill_phys(s, FRAME(0), 8 * PAGE_SIZE, 0xAA);
    struct pmm_run r = {0};
    run_ok(s, prog_bitmap_reserve_zeroed, &r);
    ck_assert_uint_eq(r.moved[0], 6);
    ck_assert_uint_eq(r.moved[1], KA_NFRAMES - 6);
    ck_assert_int_eq(r.st[0], PMM_OK);
    ck_assert_uint_eq(r.pa[0], FRAME(0));
    const uint32_t plain[] = {1, 4, 5, 6, 7};
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(r.st[i + 1], PMM_OK);
        ck_assert_uint_eq(r.pa[i + 1], FRAME(plain[i]));
    }
    ck_assert_int_eq(r.st[6], PMM_NO_MEMORY);
    ck_assert_int_eq(r.st[7], PMM_NO_MEMORY);
    ck_assert(phys_all(s, FRAME(0), PAGE_SIZE, 0));
    ck_assert(phys_all(s, FRAME(1), PAGE_SIZE, 0xAA));
    ck_assert_uint_eq(r.stats.zeroed, 1);
    ck_assert_uint_eq(r.stats.prezeroed_hits, 0);
    ck_assert_uint_eq(r.stats.allocs, 6);
    ck_assert_uint_eq(r.stats.errors, 2);
    sim_destroy(s);
}
END_TEST

/* ---- stack PMM ---------------------------------------------------------- */

static void
prog_stack_lifo(void *arg)
{
    struct pmm_run *r = arg;
    r->st[0] = pmm_alloc(&r->pa[0]);
    r->st[1] = pmm_alloc(&r->pa[1]);
    r->st[2] = pmm_free(r->pa[0]);
    r->st[3] = pmm_alloc(&r->pa[3]);
    for (int i = 4; i < 7; i++)
        r->st[i] = pmm_alloc(&r->pa[i]);
    pmm_stats(&r->stats);
}

/*
 * Released frames are pushed in address order, so the stack pops from the
 * top: FRAME(3), FRAME(2).  A freed frame is the next one out (LIFO):
 * FRAME(3) again.  Then FRAME(1), FRAME(0), and the stack is empty.
 */
START_TEST(test_pmm_stack_lifo)
{
    struct sim *s = booted("stack", 4, 0, 0);
    struct pmm_run r = {0};
    run_ok(s, prog_stack_lifo, &r);
    ck_assert_uint_eq(r.pa[0], FRAME(3));
    ck_assert_uint_eq(r.pa[1], FRAME(2));
    ck_assert_int_eq(r.st[2], PMM_OK);
    ck_assert_uint_eq(r.pa[3], FRAME(3));
    ck_assert_uint_eq(r.pa[4], FRAME(1));
    ck_assert_uint_eq(r.pa[5], FRAME(0));
    ck_assert_int_eq(r.st[6], PMM_NO_MEMORY);
    ck_assert_uint_eq(r.stats.allocs, 5);
    ck_assert_uint_eq(r.stats.errors, 1);
    ck_assert_uint_eq(r.stats.free_frames, 0);
    /* A frame number (4 bytes) and a free bit per frame. */
    ck_assert_uint_eq(r.stats.bookkeeping_bytes, KA_NFRAMES * 4 + KA_NFRAMES / 8);
    sim_destroy(s);
}
END_TEST

START_TEST(test_pmm_stack_bad_frees)
{
    check_bad_frees("stack");
}
END_TEST

static void
prog_stack_pool(void *arg)
{
    struct pmm_run *r = arg;
    r->moved[0] = pmm_prezero(2);
    r->st[0] = pmm_alloc(&r->pa[0]);
    r->st[1] = pmm_alloc_zeroed(&r->pa[1]);
    r->st[2] = pmm_alloc_zeroed(&r->pa[2]);
    r->st[3] = pmm_alloc_zeroed(&r->pa[3]);
    r->st[4] = pmm_alloc_zeroed(&r->pa[4]);
    r->st[5] = pmm_free(r->pa[1]);
    r->moved[1] = pmm_prezero(10);
    r->st[6] = pmm_alloc(&r->pa[6]);
    pmm_stats(&r->stats);
}

/*
 * Four dirty frames (the host fills them with 0xAA): dirty stack 0 1 2 3.
 * prezero(2) zeroes the top two, 3 then 2, into the pool (2 on top).
 * A plain allocation leaves the pool alone and pops dirty FRAME(1).
 * Zeroed allocations: FRAME(2) and FRAME(3) from the pool (2 hits), then
 * FRAME(0), dirty, zeroed on the spot; then nothing is left.
 * FRAME(2) goes back dirty; prezero(10) finds only that one; a plain
 * allocation with no dirty frame left takes it from the pool (zeros, but not
 * a zeroed request: no hit).  Zeroed in all: 2 + 1 + 1 = 4.
 */
START_TEST(test_pmm_stack_prezeroed_pool)
{
    struct sim *s = booted("stack", 4, 0, 0);
    fill_phys(s, FRAME(0), 4 * PAGE_SIZE, 0xAA);
    struct pmm_run r = {0};
    run_ok(s, prog_stack_pool, &r);
    ck_assert_uint_eq(r.moved[0], 2);
    ck_assert_uint_eq(r.pa[0], FRAME(1));
    ck_assert_uint_eq(r.pa[1], FRAME(2));
    ck_assert_uint_eq(r.pa[2], FRAME(3));
    ck_assert_uint_eq(r.pa[3], FRAME(0));
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(r.st[i], PMM_OK);
    ck_assert_int_eq(r.st[4], PMM_NO_MEMORY);
    ck_assert_int_eq(r.st[5], PMM_OK);
    ck_assert_uint_eq(r.moved[1], 1);
    ck_assert_int_eq(r.st[6], PMM_OK);
    ck_assert_uint_eq(r.pa[6], FRAME(2));
    ck_assert(phys_all(s, FRAME(0), PAGE_SIZE, 0));
    ck_assert(phys_all(s, FRAME(1), PAGE_SIZE, 0xAA));
    ck_assert(phys_all(s, FRAME(2), PAGE_SIZE, 0));
    ck_assert(phys_all(s, FRAME(3), PAGE_SIZE, 0));
    ck_assert_uint_eq(r.stats.prezeroed_hits, 2);
    ck_assert_uint_eq(r.stats.zeroed, 4);
    ck_assert_uint_eq(r.stats.allocs, 5);
    ck_assert_uint_eq(r.stats.frees, 1);
    ck_assert_uint_eq(r.stats.errors, 1);
    sim_destroy(s);
}
END_TEST

static void
prog_stack_reserve(void *arg)
{
    struct pmm_run *r = arg;
    r->moved[0] = pmm_prezero(2);
    pmm_stack_ops.reserve(FRAME(5), 2);
    pmm_stats(&r->stats);
    r->moved[1] = r->stats.free_frames;
    r->moved[2] = r->stats.reserved_frames;
    r->st[0] = pmm_alloc_zeroed(&r->pa[0]);
    for (int i = 1; i < 8; i++)
        r->st[i] = pmm_alloc(&r->pa[i]);
    pmm_stats(&r->stats);
}

/*
 * Eight dirty frames; prezero(2) moves 7 and 6 to the pool.  Reserving
 * FRAME(5..6) removes 5 from the dirty stack and 6 from the pool: six
 * free.  The zeroed allocation hits the pool's remaining FRAME(7); plain
 * ones pop 4, 3, 2, 1, 0; the seventh fails.  Never 5 or 6.
 */
START_TEST(test_pmm_stack_reserve)
{
    struct sim *s = booted("stack", 8, 0, 0);
    struct pmm_run r = {0};
    run_ok(s, prog_stack_reserve, &r);
    ck_assert_uint_eq(r.moved[0], 2);
    ck_assert_uint_eq(r.moved[1], 6);
    ck_assert_uint_eq(r.moved[2], KA_NFRAMES - 6);
    ck_assert_int_eq(r.st[0], PMM_OK);
    ck_assert_uint_eq(r.pa[0], FRAME(7));
    for (int i = 1; i < 6; i++) {
        ck_assert_int_eq(r.st[i], PMM_OK);
        ck_assert_uint_eq(r.pa[i], FRAME(5 - i));
    }
    ck_assert_int_eq(r.st[6], PMM_NO_MEMORY);
    ck_assert_uint_eq(r.stats.prezeroed_hits, 1);
    ck_assert_uint_eq(r.stats.free_frames, 0);
    sim_destroy(s);
}
END_TEST

/* ---- kernel heap -------------------------------------------------------- */

struct heap_run {
    vaddr_t p[16];
    enum heap_status st[16];
    struct heap_stats stats[4];
    bool check[4];
    bool ok;
};

static void
prog_heap_first_fit(void *arg)
{
    struct heap_run *r = arg;
    r->p[0] = va_of(kmalloc(100));
    r->p[1] = va_of(kmalloc(200));
    r->p[2] = va_of(kmalloc(100));
    r->st[0] = kfree((void *)(uintptr_t)r->p[1]);
    heap_stats(&r->stats[0]);
    r->p[3] = va_of(kmalloc(150));
    r->p[4] = va_of(kmalloc(32));
    r->p[5] = va_of(kmalloc(8));
    heap_stats(&r->stats[1]);
    r->check[0] = heap_check();
}

/*
 * Headers are 16 bytes, sizes round up to 16.  The first call maps one page
 * at KHEAP_START (0xF0000000):
 *   a = kmalloc(100): header 0xF0000000, payload 0xF0000010, 112 bytes
 *   b = kmalloc(200): header 0xF0000080, payload 0xF0000090, 208 bytes
 *   c = kmalloc(100): header 0xF0000160, payload 0xF0000170, 112 bytes
 *   rest: free block 0xF00001E0, 4096 - 0x1E0 - 16 = 3600 bytes
 * kfree(b) leaves a hole between live a and c: two free blocks.
 *   d = kmalloc(150) -> 160: first fit is b's hole, so d == b; 48 left,
 *       enough for a header and 32 bytes: free block at 0xF0000130
 *   e = kmalloc(32): exactly that block, payload 0xF0000140
 *   f = kmalloc(8) -> 16: after c, payload 0xF00001F0
 * Then used 112 + 160 + 32 + 112 + 16 = 432, five headers = 80, one free
 * block of 4096 - 432 - 80 = 3584 bytes (its header included).
 */
START_TEST(test_heap_first_fit_reuses_holes)
{
    struct sim *s = booted("bitmap", 64, 0, 0);
    struct heap_run r = {0};
    run_ok(s, prog_heap_first_fit, &r);
    ck_assert_uint_eq(r.p[0], KHEAP_START + 0x10);
    ck_assert_uint_eq(r.p[1], KHEAP_START + 0x90);
    ck_assert_uint_eq(r.p[2], KHEAP_START + 0x170);
    ck_assert_int_eq(r.st[0], HEAP_OK);
    ck_assert_uint_eq(r.stats[0].free_blocks, 2);
    ck_assert_uint_eq(r.stats[0].free_bytes, (16 + 208) + (16 + 3600));
    ck_assert_uint_eq(r.p[3], r.p[1]);
    ck_assert_uint_eq(r.p[4], KHEAP_START + 0x140);
    ck_assert_uint_eq(r.p[5], KHEAP_START + 0x1F0);
    const struct heap_stats *st = &r.stats[1];
    ck_assert_uint_eq(st->used_bytes, 432);
    ck_assert_uint_eq(st->overhead_bytes, 80);
    ck_assert_uint_eq(st->free_bytes, 3584);
    ck_assert_uint_eq(st->wasted_bytes, 0);
    ck_assert_uint_eq(st->free_blocks, 1);
    ck_assert_uint_eq(st->mapped_bytes, PAGE_SIZE);
    ck_assert_uint_eq(st->allocs, 6);
    ck_assert_uint_eq(st->frees, 1);
    ck_assert_uint_eq(st->errors, 0);
    ck_assert(r.check[0]);
    /* One page and the table for PDE 960 came from the PMM. */
    ck_assert_uint_eq(ka_counters.grow_calls, 1);
    ck_assert_uint_eq(ka_counters.grow_pages, 1);
    ck_assert_uint_eq(ka_counters.table_frames, 1);
    sim_destroy(s);
}
END_TEST

static const uint32_t overlap_sizes[] = {1, 7, 16, 17, 100, 1000, 4000, 5000, 24, 3, 4096, 333};
#define NOVERLAP (sizeof(overlap_sizes) / sizeof(overlap_sizes[0]))

static void
prog_heap_no_overlap(void *arg)
{
    struct heap_run *r = arg;
    for (uint32_t i = 0; i < NOVERLAP; i++) {
        r->p[i] = va_of(i % 4 == 3 ? kmalloc_aligned(overlap_sizes[i]) : kmalloc(overlap_sizes[i]));
        if (r->p[i] != 0)
            ka_fill(r->p[i], (overlap_sizes[i] + 3) & ~3u, i + 1);
    }
    r->ok = true;
    for (uint32_t i = 0; i < NOVERLAP; i++)
        if (r->p[i] == 0 || !ka_verify(r->p[i], (overlap_sizes[i] + 3) & ~3u, i + 1))
            r->ok = false;
    r->check[0] = heap_check();
    heap_stats(&r->stats[0]);
}

/* Mixed sizes, every fourth page-aligned: each block is 16-aligned (pages
 * for the aligned ones), none overlaps another, inside the mapped heap,
 * and every block still holds its own pattern after all were written. */
START_TEST(test_heap_alignment_and_no_overlap)
{
    struct sim *s = booted("bitmap", 64, 0, 0);
    struct heap_run r = {0};
    run_ok(s, prog_heap_no_overlap, &r);
    ck_assert(r.ok);
    ck_assert(r.check[0]);
    for (uint32_t i = 0; i < NOVERLAP; i++) {
        ck_assert_uint_eq(r.p[i] % HEAP_ALIGN, 0);
        if (i % 4 == 3)
            ck_assert_uint_eq(r.p[i] % PAGE_SIZE, 0);
        ck_assert_uint_ge(r.p[i], KHEAP_START + HEAP_HEADER_SIZE);
        ck_assert_uint_le(r.p[i] + overlap_sizes[i], KHEAP_START + r.stats[0].mapped_bytes);
        for (uint32_t j = 0; j < i; j++) {
            bool apart = r.p[i] + overlap_sizes[i] <= r.p[j] || r.p[j] + overlap_sizes[j] <= r.p[i];
            ck_assert_msg(apart, "blocks %u and %u overlap", i, j);
        }
    }
    ck_assert_uint_eq(r.stats[0].allocs, NOVERLAP);
    ck_assert_uint_eq(r.stats[0].aligned_allocs, 3);
    sim_destroy(s);
}
END_TEST

static void
prog_heap_aligned(void *arg)
{
    struct heap_run *r = arg;
    r->p[0] = va_of(kmalloc(100));
    r->p[1] = va_of(kmalloc_aligned(PAGE_SIZE));
    heap_stats(&r->stats[0]);
    r->p[2] = va_of(kmalloc(64));
    r->st[0] = kfree((void *)(uintptr_t)r->p[2]);
    r->st[1] = kfree((void *)(uintptr_t)r->p[1]);
    r->st[2] = kfree((void *)(uintptr_t)r->p[0]);
    heap_stats(&r->stats[1]);
    r->check[0] = heap_check();
    /* The heap is one free block of 8176 bytes at KHEAP_START now. */
    r->p[3] = va_of(kmalloc_aligned(100));
    heap_stats(&r->stats[2]);
    r->p[4] = va_of(kmalloc(3000));
    r->p[5] = va_of(kmalloc(3900));
    r->check[1] = heap_check();
    r->st[3] = kfree((void *)(uintptr_t)r->p[3]);
    r->st[4] = kfree((void *)(uintptr_t)r->p[5]);
    r->st[5] = kfree((void *)(uintptr_t)r->p[4]);
    heap_stats(&r->stats[3]);
    r->check[2] = heap_check();
}

/*
 * a = kmalloc(100): payload 0xF0000010; free rest at 0xF0000080 (3952).
 * p = kmalloc_aligned(4096): that block's first page boundary is
 *   0xF0001000, and 3952 bytes before it + 4096 do not fit in 3952, so the
 *   heap grows one page into it (8048 bytes) and carves: front piece
 *   0xF0000080 stays free (8048 - 4096 - 16 - 16 = 3936 bytes), the
 *   aligned block's header sits at 0xF0000FF0, nothing is left behind it.
 *   used 112 + 4096, overhead 32, free 16 + 3936 = 3952; mapped 8192.
 * q = kmalloc(64) lands in the front piece: 0xF0000090.
 * Freeing q, p and a merges everything back: one free block, all of the
 * 8192 mapped bytes (a single 16-byte header included).
 * r = kmalloc_aligned(100) from that block: payload 0xF0001000, a front
 *   piece 0xF0000000..0xF0000FF0 (4064 payload) and a tail of
 *   8176 - 4080 - 112 - 16 = 3968 at 0xF0001070: two holes, no growth.
 * s = kmalloc(3000) fits the front piece (0xF0000010); t = kmalloc(3900)
 *   (3904) fits neither the 1040 left there nor anything before the tail:
 *   it takes the tail, payload 0xF0001080.  Freeing all: one block again.
 */
START_TEST(test_heap_aligned_leftovers_reused)
{
    struct sim *s = booted("bitmap", 64, 0, 0);
    struct heap_run r = {0};
    run_ok(s, prog_heap_aligned, &r);
    ck_assert_uint_eq(r.p[0], KHEAP_START + 0x10);
    ck_assert_uint_eq(r.p[1], KHEAP_START + PAGE_SIZE);
    ck_assert_uint_eq(r.stats[0].used_bytes, 112 + 4096);
    ck_assert_uint_eq(r.stats[0].overhead_bytes, 32);
    ck_assert_uint_eq(r.stats[0].free_bytes, 3952);
    ck_assert_uint_eq(r.stats[0].free_blocks, 1);
    ck_assert_uint_eq(r.stats[0].wasted_bytes, 0);
    ck_assert_uint_eq(r.stats[0].mapped_bytes, 2 * PAGE_SIZE);
    ck_assert_uint_eq(r.stats[0].aligned_allocs, 1);
    ck_assert_uint_eq(r.p[2], KHEAP_START + 0x90);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(r.st[i], HEAP_OK);
    ck_assert_uint_eq(r.stats[1].free_blocks, 1);
    ck_assert_uint_eq(r.stats[1].free_bytes, 2 * PAGE_SIZE);
    ck_assert_uint_eq(r.stats[1].used_bytes + r.stats[1].overhead_bytes, 0);
    ck_assert(r.check[0]);

    ck_assert_uint_eq(r.p[3], KHEAP_START + PAGE_SIZE);
    ck_assert_uint_eq(r.stats[2].free_blocks, 2);
    ck_assert_uint_eq(r.stats[2].free_bytes, (16 + 4064) + (16 + 3968));
    ck_assert_uint_eq(r.stats[2].mapped_bytes, 2 * PAGE_SIZE);
    ck_assert_uint_eq(r.p[4], KHEAP_START + 0x10);
    ck_assert_uint_eq(r.p[5], KHEAP_START + 0x1080);
    ck_assert(r.check[1]);
    for (int i = 3; i < 6; i++)
        ck_assert_int_eq(r.st[i], HEAP_OK);
    ck_assert_uint_eq(r.stats[3].free_blocks, 1);
    ck_assert_uint_eq(r.stats[3].free_bytes, 2 * PAGE_SIZE);
    ck_assert_uint_eq(r.stats[3].mapped_bytes, 2 * PAGE_SIZE);
    ck_assert(r.check[2]);
    sim_destroy(s);
}
END_TEST

static void
prog_heap_wasted(void *arg)
{
    struct heap_run *r = arg;
    r->p[0] = va_of(kmalloc(100));
    r->p[1] = va_of(kmalloc_aligned(PAGE_SIZE));
    kfree((void *)(uintptr_t)r->p[1]);
    kfree((void *)(uintptr_t)r->p[0]);
    /* One free block of 8176 at KHEAP_START, as in the test above. */
    r->p[2] = va_of(kmalloc(4048));
    r->p[3] = va_of(kmalloc_aligned(PAGE_SIZE));
    heap_stats(&r->stats[0]);
    r->check[0] = heap_check();
    r->st[0] = kfree((void *)(uintptr_t)r->p[3]);
    heap_stats(&r->stats[1]);
    r->st[1] = kfree((void *)(uintptr_t)r->p[2]);
    heap_stats(&r->stats[2]);
    r->check[1] = heap_check();
}

/*
 * kmalloc(4048) at 0xF0000010 ends at 0xF0000FE0, where the rest (4112
 * bytes) begins.  Its payload, 0xF0000FF0, is 16 bytes short of the page:
 * the aligned page takes 0xF0000FF0..0xF0002000 and leaves a front piece
 * that is a bare header, 16 wasted bytes.  used 4048 + 4096, two headers,
 * no usable free byte.  Freeing the page merges the waste away again.
 */
START_TEST(test_heap_aligned_wasted_hole)
{
    struct sim *s = booted("bitmap", 64, 0, 0);
    struct heap_run r = {0};
    run_ok(s, prog_heap_wasted, &r);
    ck_assert_uint_eq(r.p[2], KHEAP_START + 0x10);
    ck_assert_uint_eq(r.p[3], KHEAP_START + PAGE_SIZE);
    ck_assert_uint_eq(r.stats[0].wasted_bytes, 16);
    ck_assert_uint_eq(r.stats[0].free_bytes, 0);
    ck_assert_uint_eq(r.stats[0].free_blocks, 1);
    ck_assert_uint_eq(r.stats[0].used_bytes, 4048 + 4096);
    ck_assert_uint_eq(r.stats[0].overhead_bytes, 32);
    ck_assert(r.check[0]);
    ck_assert_int_eq(r.st[0], HEAP_OK);
    ck_assert_uint_eq(r.stats[1].wasted_bytes, 0);
    ck_assert_uint_eq(r.stats[1].free_bytes, 16 + 4096 + 16);
    ck_assert_uint_eq(r.stats[1].free_blocks, 1);
    ck_assert_int_eq(r.st[1], HEAP_OK);
    ck_assert_uint_eq(r.stats[2].free_bytes, 2 * PAGE_SIZE);
    ck_assert_uint_eq(r.stats[2].free_blocks, 1);
    ck_assert(r.check[1]);
    sim_destroy(s);
}
END_TEST

static void
prog_heap_bad_frees(void *arg)
{
    struct heap_run *r = arg;
    r->p[0] = va_of(kmalloc(32));
    r->p[1] = va_of(kmalloc(32));
    r->p[2] = va_of(kmalloc(256));
    ka_fill(r->p[1], 32, 7);
    ka_fill(r->p[2], 256, 9);
    /* A copy of b's header inside c: right magic, but not in the list. */
    ka_copy(r->p[2] + 64, r->p[1] - HEAP_HEADER_SIZE, HEAP_HEADER_SIZE);
    r->st[0] = kfree((void *)(uintptr_t)r->p[0]);
    r->st[1] = kfree((void *)(uintptr_t)r->p[0]);
    r->st[2] = kfree((void *)(uintptr_t)(r->p[1] + 16));
    r->st[3] = kfree((void *)(uintptr_t)(r->p[1] + 4));
    r->st[4] = kfree((void *)(uintptr_t)0x12345000u);
    r->st[5] = kfree((void *)(uintptr_t)(KHEAP_START + 2 * PAGE_SIZE));
    r->st[6] = kfree((void *)(uintptr_t)(r->p[2] + 64 + HEAP_HEADER_SIZE));
    r->st[7] = kfree(NULL);
    r->check[0] = heap_check();
    r->st[8] = kfree((void *)(uintptr_t)r->p[1]);
    r->st[9] = kfree((void *)(uintptr_t)r->p[1]);
    r->st[10] = kfree((void *)(uintptr_t)r->p[2]);
    heap_stats(&r->stats[0]);
    r->check[1] = heap_check();
}

/*
 * a, b (32 bytes each) and c (256).  a freed twice: the second is a double
 * free.  Refused as bad pointers: inside b's payload (no header there), not
 * 16-aligned, outside the heap, inside the heap range but above the mapped
 * top, and a forged copy of b's header inside c (magic right, but b's size
 * leads to a place in c with no header).  kfree(NULL) is a no-op.  After b
 * is freed (merging with a) its header is stale inside the merged block:
 * freeing it again still reads as a double free.  Six errors, three frees,
 * and the heap is one free block again.
 */
START_TEST(test_heap_double_free_and_bad_pointers)
{
    struct sim *s = booted("bitmap", 64, 0, 0);
    struct heap_run r = {0};
    run_ok(s, prog_heap_bad_frees, &r);
    ck_assert_int_eq(r.st[0], HEAP_OK);
    ck_assert_int_eq(r.st[1], HEAP_DOUBLE_FREE);
    ck_assert_int_eq(r.st[2], HEAP_BAD_POINTER);
    ck_assert_int_eq(r.st[3], HEAP_BAD_POINTER);
    ck_assert_int_eq(r.st[4], HEAP_BAD_POINTER);
    ck_assert_int_eq(r.st[5], HEAP_BAD_POINTER);
    ck_assert_int_eq(r.st[6], HEAP_BAD_POINTER);
    ck_assert_int_eq(r.st[7], HEAP_OK);
    ck_assert(r.check[0]);
    ck_assert_int_eq(r.st[8], HEAP_OK);
    ck_assert_int_eq(r.st[9], HEAP_DOUBLE_FREE);
    ck_assert_int_eq(r.st[10], HEAP_OK);
    ck_assert_uint_eq(r.stats[0].errors, 7);
    ck_assert_uint_eq(r.stats[0].frees, 3);
    ck_assert_uint_eq(r.stats[0].free_blocks, 1);
    ck_assert_uint_eq(r.stats[0].free_bytes, PAGE_SIZE);
    ck_assert(r.check[1]);
    sim_destroy(s);
}
END_TEST

static void
prog_heap_range_full(void *arg)
{
    struct heap_run *r = arg;
    r->p[0] = va_of(kmalloc(4 * PAGE_SIZE));
    r->p[1] = va_of(kmalloc(4 * PAGE_SIZE - HEAP_HEADER_SIZE));
    r->p[2] = va_of(kmalloc(16));
    r->p[3] = va_of(kmalloc_aligned(16));
    r->p[4] = va_of(kmalloc(0));
    heap_stats(&r->stats[0]);
    r->check[0] = heap_check();
}

/* A heap range of four pages: 16 KiB of payload needs a header more than
 * the range holds (NULL); 16 KiB minus a header fills it exactly; then even
 * 16 bytes find no room.  kmalloc(0) is refused too. */
START_TEST(test_heap_exhaustion_of_range)
{
    struct sim *s = booted("bitmap", 64, KHEAP_START + 4 * PAGE_SIZE, 0);
    struct heap_run r = {0};
    run_ok(s, prog_heap_range_full, &r);
    ck_assert_uint_eq(r.p[0], 0);
    ck_assert_uint_eq(r.p[1], KHEAP_START + HEAP_HEADER_SIZE);
    ck_assert_uint_eq(r.p[2], 0);
    ck_assert_uint_eq(r.p[3], 0);
    ck_assert_uint_eq(r.p[4], 0);
    ck_assert_uint_eq(r.stats[0].mapped_bytes, 4 * PAGE_SIZE);
    ck_assert_uint_eq(r.stats[0].used_bytes, 4 * PAGE_SIZE - HEAP_HEADER_SIZE);
    ck_assert_uint_eq(r.stats[0].free_blocks, 0);
    ck_assert_uint_eq(r.stats[0].errors, 4);
    ck_assert_uint_eq(r.stats[0].allocs, 1);
    ck_assert(r.check[0]);
    sim_destroy(s);
}
END_TEST

/* ---- kernel heap: the free list ---- */

static uint32_t fl_live;       /* live blocks made before the measured kmalloc */
static uint64_t fl_at_mark[2]; /* supervisor accesses at marks 0 and 1 */

static void
fl_on_mark(void *ctx, struct sim *s, uint32_t id)
{
    (void)ctx;
    const struct mmu_counters *c = &sim_mmu(s)->ctr;
    if (id < 2)
        fl_at_mark[id] = c->accesses[MMU_SUP_READ] + c->accesses[MMU_SUP_WRITE];
}

static void
prog_heap_count_one(void *arg)
{
    struct heap_run *r = arg;
    for (uint32_t i = 0; i < fl_live; i++)
        kmalloc(16);
    arch_mark(0);
    r->p[0] = va_of(kmalloc(100));
    arch_mark(1);
    r->check[0] = heap_check();
}

/*
 * fl_live blocks of 16 bytes (32 with the header each) lie in front of the
 * only free block, the rest of the first page.  kmalloc(100) (112) reads
 * that block's size to see it fits (1), then carves it: its size and block
 * link (2) and its two list links (2), the values unlinking it uses (the
 * compiler reads them once); it writes the live block's header and the
 * tail's (4 + 4) and the tail's two list links (2): 5 reads and 10 writes,
 * 15 accesses, however many live blocks come before (walking the blocks
 * read two words of each).
 */
START_TEST(test_heap_first_fit_skips_live_blocks)
{
    static const uint32_t lives[] = {4, 100};
    for (int i = 0; i < 2; i++) {
        struct sim *s = booted("bitmap", 64, 0, 0);
        fl_live = lives[i];
        sim_set_mark(s, fl_on_mark, NULL);
        struct heap_run r = {0};
        run_ok(s, prog_heap_count_one, &r);
        ck_assert_uint_eq(r.p[0], KHEAP_START + 32 * lives[i] + HEAP_HEADER_SIZE);
        ck_assert_uint_eq(fl_at_mark[1] - fl_at_mark[0], 15);
        ck_assert(r.check[0]);
        sim_destroy(s);
    }
}
END_TEST

static void
prog_heap_list_order(void *arg)
{
    struct heap_run *r = arg;
    for (int i = 0; i < 6; i++)
        r->p[i] = va_of(kmalloc(100));
    r->st[0] = kfree((void *)(uintptr_t)r->p[3]);
    r->st[1] = kfree((void *)(uintptr_t)r->p[1]);
    heap_stats(&r->stats[0]);
    r->check[0] = heap_check();
    r->p[6] = va_of(kmalloc(100));
    r->st[2] = kfree((void *)(uintptr_t)r->p[6]);
    r->st[3] = kfree((void *)(uintptr_t)r->p[2]);
    heap_stats(&r->stats[1]);
    r->check[1] = heap_check();
    r->p[7] = va_of(kmalloc(368));
    r->p[8] = va_of(kmalloc(100));
    heap_stats(&r->stats[2]);
    r->check[2] = heap_check();
}

/*
 * Six blocks a..f of 112 bytes, headers every 128 bytes from KHEAP_START,
 * then the rest of the page free.  Freeing d, then b: the list is b, d,
 * tail in address order, whatever the order of the frees, so kmalloc(100)
 * takes b (a last-freed-first list would give d).  Freeing b again and c:
 * c merges with b below and d above, across their list places, into one
 * hole at b's header of 3 * 112 + 2 * 16 = 368 bytes, which kmalloc(368)
 * takes whole; the next kmalloc(100) goes behind f.
 */
START_TEST(test_heap_free_list_address_order_and_merge)
{
    struct sim *s = booted("bitmap", 64, 0, 0);
    struct heap_run r = {0};
    run_ok(s, prog_heap_list_order, &r);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(r.p[i], KHEAP_START + 128 * (uint32_t)i + HEAP_HEADER_SIZE);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(r.st[i], HEAP_OK);
    ck_assert_uint_eq(r.stats[0].free_blocks, 3);
    ck_assert(r.check[0]);
    ck_assert_uint_eq(r.p[6], r.p[1]);
    ck_assert_uint_eq(r.stats[1].free_blocks, 2);
    ck_assert_uint_eq(r.stats[1].free_bytes, (16 + 368) + (PAGE_SIZE - 6 * 128));
    ck_assert(r.check[1]);
    ck_assert_uint_eq(r.p[7], r.p[1]);
    ck_assert_uint_eq(r.p[8], KHEAP_START + 6 * 128 + HEAP_HEADER_SIZE);
    ck_assert_uint_eq(r.stats[2].free_blocks, 1);
    ck_assert(r.check[2]);
    sim_destroy(s);
}
END_TEST

static void
prog_heap_frames_out(void *arg)
{
    struct heap_run *r = arg;
    r->p[0] = va_of(kmalloc(100));
    r->p[1] = va_of(kmalloc(5000));
    r->p[2] = va_of(kmalloc(100));
    heap_stats(&r->stats[0]);
    r->check[0] = heap_check();
}

/* Two frames: the first kmalloc takes one for the page table and one for
 * the page.  kmalloc(5000) needs one more page the PMM cannot give: NULL,
 * nothing changes, and a small request still fits in the first page. */
START_TEST(test_heap_exhaustion_of_frames)
{
    struct sim *s = booted("bitmap", 2, 0, 0);
    struct heap_run r = {0};
    run_ok(s, prog_heap_frames_out, &r);
    ck_assert_uint_eq(r.p[0], KHEAP_START + 0x10);
    ck_assert_uint_eq(r.p[1], 0);
    ck_assert_uint_eq(r.p[2], KHEAP_START + 0x90);
    ck_assert_uint_eq(r.stats[0].mapped_bytes, PAGE_SIZE);
    ck_assert_uint_eq(r.stats[0].errors, 1);
    ck_assert(r.check[0]);
    sim_destroy(s);
}
END_TEST

/* ---- page heap ---------------------------------------------------------- */

static void
prog_pageheap_reuse(void *arg)
{
    struct heap_run *r = arg;
    for (int i = 0; i < 3; i++)
        r->p[i] = va_of(pageheap_alloc());
    r->st[0] = pageheap_free((void *)(uintptr_t)r->p[1]);
    heap_stats(&r->stats[3]); /* untouched: the kernel heap is not used */
    pageheap_stats(&r->stats[0]);
    r->p[3] = va_of(pageheap_alloc());
    pageheap_stats(&r->stats[1]);
    r->p[4] = va_of(pageheap_alloc());
    r->ok = true;
    for (int i = 0; i < 5; i++)
        if (i != 1)
            ka_fill(r->p[i], PAGE_SIZE, (uint32_t)i);
    for (int i = 0; i < 5; i++)
        if (i != 1 && !ka_verify(r->p[i], PAGE_SIZE, (uint32_t)i))
            r->ok = false;
    pageheap_stats(&r->stats[2]);
}

/*
 * Three pages from PAGEHEAP_START up.  Freeing the middle one leaves a
 * mapped free page; the next allocation reuses it (no growth: still 3
 * pages mapped), and only the one after that maps a fourth page.  No
 * headers: nothing counted as overhead, pages filled end to end keep their
 * patterns.
 */
START_TEST(test_pageheap_reuse_before_growth)
{
    struct sim *s = booted("bitmap", 64, 0, 0);
    struct heap_run r = {0};
    run_ok(s, prog_pageheap_reuse, &r);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(r.p[i], PAGEHEAP_START + (uint32_t)i * PAGE_SIZE);
    ck_assert_int_eq(r.st[0], HEAP_OK);
    ck_assert_uint_eq(r.stats[0].used_bytes, 2 * PAGE_SIZE);
    ck_assert_uint_eq(r.stats[0].free_bytes, PAGE_SIZE);
    ck_assert_uint_eq(r.stats[0].free_blocks, 1);
    ck_assert_uint_eq(r.p[3], PAGEHEAP_START + PAGE_SIZE);
    ck_assert_uint_eq(r.stats[1].mapped_bytes, 3 * PAGE_SIZE);
    ck_assert_uint_eq(r.p[4], PAGEHEAP_START + 3 * PAGE_SIZE);
    ck_assert(r.ok);
    const struct heap_stats *st = &r.stats[2];
    ck_assert_uint_eq(st->mapped_bytes, 4 * PAGE_SIZE);
    ck_assert_uint_eq(st->used_bytes, 4 * PAGE_SIZE);
    ck_assert_uint_eq(st->free_bytes + st->overhead_bytes + st->wasted_bytes, 0);
    ck_assert_uint_eq(st->allocs, 5);
    ck_assert_uint_eq(st->frees, 1);
    ck_assert_uint_eq(r.stats[3].allocs, 0);
    /* Four pages plus the table for PDE 992. */
    ck_assert_uint_eq(ka_counters.grow_pages, 4);
    ck_assert_uint_eq(ka_counters.table_frames, 1);
    sim_destroy(s);
}
END_TEST

static void
prog_pageheap_bad_frees(void *arg)
{
    struct heap_run *r = arg;
    r->p[0] = va_of(pageheap_alloc());
    r->st[0] = pageheap_free((void *)(uintptr_t)(r->p[0] + 8));
    r->st[1] = pageheap_free((void *)(uintptr_t)(PAGEHEAP_START + 5 * PAGE_SIZE));
    r->st[2] = pageheap_free((void *)(uintptr_t)KHEAP_START);
    r->st[3] = pageheap_free((void *)(uintptr_t)r->p[0]);
    r->st[4] = pageheap_free((void *)(uintptr_t)r->p[0]);
    r->st[5] = pageheap_free(NULL);
    pageheap_stats(&r->stats[0]);
}

/* Inside a page, above the mapped top, another heap's address: bad
 * pointers; the same page twice: a double free; NULL: a no-op. */
START_TEST(test_pageheap_double_free_and_bad_pointers)
{
    struct sim *s = booted("bitmap", 64, 0, 0);
    struct heap_run r = {0};
    run_ok(s, prog_pageheap_bad_frees, &r);
    ck_assert_uint_eq(r.p[0], PAGEHEAP_START);
    ck_assert_int_eq(r.st[0], HEAP_BAD_POINTER);
    ck_assert_int_eq(r.st[1], HEAP_BAD_POINTER);
    ck_assert_int_eq(r.st[2], HEAP_BAD_POINTER);
    ck_assert_int_eq(r.st[3], HEAP_OK);
    ck_assert_int_eq(r.st[4], HEAP_DOUBLE_FREE);
    ck_assert_int_eq(r.st[5], HEAP_OK);
    ck_assert_uint_eq(r.stats[0].errors, 4);
    ck_assert_uint_eq(r.stats[0].frees, 1);
    sim_destroy(s);
}
END_TEST

static void
prog_pageheap_exhaust(void *arg)
{
    struct heap_run *r = arg;
    for (int i = 0; i < 3; i++)
        r->p[i] = va_of(pageheap_alloc());
    r->st[0] = pageheap_free((void *)(uintptr_t)r->p[0]);
    r->p[3] = va_of(pageheap_alloc());
    r->p[4] = va_of(pageheap_alloc());
    pageheap_stats(&r->stats[0]);
}

/* A two-page range: the third allocation fails; a freed page is handed
 * out again, and then the heap is full once more. */
START_TEST(test_pageheap_exhaustion_of_range)
{
    struct sim *s = booted("bitmap", 64, 0, PAGEHEAP_START + 2 * PAGE_SIZE);
    struct heap_run r = {0};
    run_ok(s, prog_pageheap_exhaust, &r);
    ck_assert_uint_eq(r.p[0], PAGEHEAP_START);
    ck_assert_uint_eq(r.p[1], PAGEHEAP_START + PAGE_SIZE);
    ck_assert_uint_eq(r.p[2], 0);
    ck_assert_uint_eq(r.p[3], PAGEHEAP_START);
    ck_assert_uint_eq(r.p[4], 0);
    ck_assert_uint_eq(r.stats[0].errors, 2);
    ck_assert_uint_eq(r.stats[0].mapped_bytes, 2 * PAGE_SIZE);
    sim_destroy(s);
}
END_TEST

/* Three frames: table + first page, then the second page; the third
 * allocation finds the PMM empty and returns NULL. */
START_TEST(test_pageheap_exhaustion_of_frames)
{
    struct sim *s = booted("stack", 3, 0, 0);
    struct heap_run r = {0};
    run_ok(s, prog_pageheap_exhaust, &r);
    ck_assert_uint_eq(r.p[0], PAGEHEAP_START);
    ck_assert_uint_eq(r.p[1], PAGEHEAP_START + PAGE_SIZE);
    ck_assert_uint_eq(r.p[2], 0);
    ck_assert_uint_eq(r.p[3], PAGEHEAP_START);
    ck_assert_uint_eq(r.p[4], 0);
    ck_assert_uint_eq(r.stats[0].mapped_bytes, 2 * PAGE_SIZE);
    sim_destroy(s);
}
END_TEST

static void
prog_pageheap_sealed(void *arg)
{
    struct heap_run *r = arg;
    ka_paging_on(NULL);
    placement_init(KA_PLACEMENT_PA, KA_PLACEMENT_END);
    placement_seal();
    r->ok = pageheap_init(PAGEHEAP_START, PAGEHEAP_END, ka_grow);
    r->p[0] = va_of(pageheap_alloc());
}

/* Its bitmap comes from placement: after the seal, init fails and the heap
 * refuses to allocate. */
START_TEST(test_pageheap_init_needs_placement)
{
    struct sim *s = alloc_machine();
    struct heap_run r = {0};
    run_ok(s, prog_pageheap_sealed, &r);
    ck_assert(!r.ok);
    ck_assert_uint_eq(r.p[0], 0);
    sim_destroy(s);
}
END_TEST

Suite *
alloc_suite(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("placement");
    tcase_add_test(tc, test_placement_alignment_and_zero_fill);
    tcase_add_test(tc, test_placement_exhaustion);
    tcase_add_test(tc, test_placement_refuses_after_seal);
    suite_add_tcase(s, tc);

    tc = tcase_create("pmm");
    tcase_add_test(tc, test_pmm_find_and_not_ready);
    tcase_add_test(tc, test_pmm_zero_fn);
    tcase_add_test(tc, test_pmm_bitmap_next_fit);
    tcase_add_test(tc, test_pmm_bitmap_bad_frees);
    tcase_add_test(tc, test_pmm_bitmap_reserve_and_zeroed);
    tcase_add_test(tc, test_pmm_stack_lifo);
    tcase_add_test(tc, test_pmm_stack_bad_frees);
    tcase_add_test(tc, test_pmm_stack_prezeroed_pool);
    tcase_add_test(tc, test_pmm_stack_reserve);
    suite_add_tcase(s, tc);

    tc = tcase_create("heap");
    tcase_add_test(tc, test_heap_first_fit_reuses_holes);
    tcase_add_test(tc, test_heap_alignment_and_no_overlap);
    tcase_add_test(tc, test_heap_aligned_leftovers_reused);
    tcase_add_test(tc, test_heap_aligned_wasted_hole);
    tcase_add_test(tc, test_heap_double_free_and_bad_pointers);
    tcase_add_test(tc, test_heap_exhaustion_of_range);
    tcase_add_test(tc, test_heap_exhaustion_of_frames);
    tcase_add_test(tc, test_heap_first_fit_skips_live_blocks);
    tcase_add_test(tc, test_heap_free_list_address_order_and_merge);
    suite_add_tcase(s, tc);

    tc = tcase_create("pageheap");
    tcase_add_test(tc, test_pageheap_reuse_before_growth);
    tcase_add_test(tc, test_pageheap_double_free_and_bad_pointers);
    tcase_add_test(tc, test_pageheap_exhaustion_of_range);
    tcase_add_test(tc, test_pageheap_exhaustion_of_frames);
    tcase_add_test(tc, test_pageheap_init_needs_placement);
    suite_add_tcase(s, tc);
    return s;
}

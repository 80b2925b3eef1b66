/*
 * check_sim.c - the simulator running kernel-style C code: counts reasoned
 * from the SDM rules, the stale-translation rule end to end, demand paging,
 * page-crossing accesses restarted or refused as hardware does, the call
 * chains of trace events, and kernel bugs that stop the run without harming
 * the host process.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/bootload.h"
#include "sim/sim.h"
#include "tests/kern_basic.h"
#include "tests/suites.h"

static struct sim *
new_machine(void)
{
    struct sim_config cfg;
    char err[256];
    sim_config_default(&cfg);
    cfg.ram_size = 16u << 20;
    struct sim *s = sim_create(&cfg, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    memset(&kt_result, 0, sizeof(kt_result));
    return s;
}

/*
 * Each machine gets a pristine kernel, as a fresh load of its image: the
 * first run on a machine sees bss 0 and data as built, so it counts 1 and
 * 7 + 1 = 8 whatever an earlier machine in this process did (without the
 * reload the second machine would see 2 and 9).
 */
START_TEST(test_sim_kernel_statics_pristine_per_machine)
{
    for (int round = 0; round < 2; round++) {
        struct sim_config cfg;
        char err[256];
        uint32_t got[2] = {0, 0};
        sim_config_default(&cfg);
        cfg.ram_size = 16u << 20;
        struct sim *s = sim_create(&cfg, err, sizeof(err));
        ck_assert_msg(s != NULL, "%s", err);
        ck_assert(sim_run(s, kt_count_runs, got));
        ck_assert_uint_eq(got[0], 1);
        ck_assert_uint_eq(got[1], 8);
        /* Within one machine, kernel state lives on from run to run. */
        ck_assert(sim_run(s, kt_count_runs, got));
        ck_assert_uint_eq(got[0], 2);
        ck_assert_uint_eq(got[1], 9);
        sim_destroy(s);
    }
}
END_TEST

/*
 * Regions are the kernel's to name: kt_regions registers inner, then outer
 * around it, then a second inner window, and makes 7 accesses.  By hand:
 * the one before any registration counts nowhere; 0x201000 is in both
 * inner and outer, and inner was named first: inner; 0x200004 and 0x203FFC
 * (outer's last word): outer; 0x208000: inner's second window; 0x204000
 * and 0x1FF000 lie in none.  So inner 2 (both windows summed), outer 2,
 * and a name never registered 0.
 */
START_TEST(test_sim_regions_counted)
{
    struct sim *s = new_machine();
    ck_assert(sim_run(s, kt_regions, NULL));
    ck_assert_uint_eq(sim_region_accesses(s, "inner"), 2);
    ck_assert_uint_eq(sim_region_accesses(s, "outer"), 2);
    ck_assert_uint_eq(sim_region_accesses(s, "directmap"), 0);
    ck_assert_uint_eq(sim_stats(s)->nregions, 3);
    sim_destroy(s);
}
END_TEST

struct published {
    uint32_t a, b;
    bool has_a, has_b;
    unsigned nspaces;
    struct sim_space sp[2];
};

static void
on_published_mark(void *ctx, struct sim *s, uint32_t id)
{
    struct published *p = ctx;
    unsigned n;
    const struct sim_space *sp = sim_spaces(s, &n);
    (void)id;
    p->has_a = sim_figure(s, "a", &p->a);
    p->has_b = sim_figure(s, "b", &p->b);
    p->nspaces = n;
    memcpy(p->sp, sp, (n < 2 ? n : 2) * sizeof(*sp));
}

/*
 * What the kernel publishes: at the mark, a is 3 (its latest value, not
 * the first), b 2, and the two spaces listed since the start, in order;
 * after the run b is 5, the mark made the space list old and nothing was
 * listed since, so there is none; a name never published is not there.
 */
START_TEST(test_sim_published)
{
    struct sim *s = new_machine();
    struct published p;
    memset(&p, 0, sizeof(p));
    sim_set_mark(s, on_published_mark, &p);
    ck_assert(sim_run(s, kt_publish, NULL));
    ck_assert(p.has_a && p.has_b);
    ck_assert_uint_eq(p.a, 3);
    ck_assert_uint_eq(p.b, 2);
    ck_assert_uint_eq(p.nspaces, 2);
    ck_assert_uint_eq(p.sp[0].id, 4);
    ck_assert_uint_eq(p.sp[0].pd, 0x1000);
    ck_assert(p.sp[0].current);
    ck_assert_uint_eq(p.sp[1].id, 7);
    ck_assert(!p.sp[1].current);
    uint32_t v = 0;
    ck_assert(sim_figure(s, "b", &v));
    ck_assert_uint_eq(v, 5);
    ck_assert(!sim_figure(s, "c", &v));
    unsigned n = 99;
    sim_spaces(s, &n);
    ck_assert_uint_eq(n, 0);
    sim_destroy(s);
}
END_TEST

/* CR4.PAE=1 is refused with a stop that says so, never silently dropped. */
START_TEST(test_sim_pae_refused)
{
    struct sim *s = new_machine();
    ck_assert(!sim_run(s, kt_set_pae, NULL));
    const struct sim_stop *st = sim_last_stop(s);
    ck_assert_int_eq(st->kind, SIM_STOP_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(st->msg, "PAE paging is not modelled"));
    ck_assert_str_eq(st->where, "kt_set_pae");
    ck_assert_uint_eq(kt_result.value, 0);
    ck_assert_uint_eq(sim_mmu(s)->cr4 & CR4_PAE, 0);
    sim_destroy(s);
}
END_TEST

/*
 * The loader's reason reaches the caller: 2 MiB of RAM cannot hold the
 * module at 2 MiB plus 1 MiB of placement memory (bootload.h's layout).
 */
START_TEST(test_sim_loader_says_why)
{
    struct sim_config cfg;
    char err[256];
    sim_config_default(&cfg);
    cfg.ram_size = 2u << 20;
    struct sim *s = sim_create(&cfg, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    struct bootload_config bc = {.strategy = "heap", .pmm = "bitmap"};
    struct bootload_result br;
    ck_assert_int_eq(bootload_run(s, &bc, &br), BOOTLOAD_SETUP_FAILED);
    ck_assert_ptr_nonnull(strstr(br.setup_error, "must fit in RAM (2048 KiB)"));
    sim_destroy(s);
}
END_TEST

static uint32_t
phys32(struct sim *s, paddr_t pa)
{
    uint32_t v;
    memcpy(&v, sim_phys(s, pa, 4), 4);
    return v;
}

/*
 * kt_recursive, access by access (TLB starts empty; PSE off; 4 KiB pages):
 *  - 1024 + 2 writes with paging off: counted accesses, no TLB activity.
 *  - arch_enable_paging: 1 CR3 write, CR0.PG change = 1 full flush.
 *  1. write 0xFFFFF400 (PDE 256 via self-map): miss, walk reads PDE 1023
 *     and, as PTE, PDE 1023 again (2 reads); A set on it as PDE (1 update),
 *     then A|D as PTE (1 update): 0x00100063.
 *  - invlpg 0xFFD00000: nothing cached there, drops 0.
 *  2. write 0xFFD00000 (PTE via 0xFFC00000 window): miss, 2 reads; PDE 1023
 *     already A; PTE = PDE 256 gets A|D (1 update): 0x00102063.
 *  3. write 0x40000000: miss, 2 reads; PDE 256 already A (it got A as a PTE
 *     in 2); PTE gets A|D (1 update).
 *  4. read 0x40000004: hit.
 *  5. write 0xFFD00000 (remap to 0x201000): hit, entry is dirty.
 *  6. write 0x40000008: hit on the stale entry: lands in frame 0x200000.
 *  - invlpg 0x40000000: drops 1.
 *  7. write 0x4000000C: miss, 2 reads; PTE gets A|D (1 update), frame 0x201000.
 * Totals: misses 4, hits 3, walks 4, walk reads 8, A/D updates 5, invlpg 2.
 */
START_TEST(test_sim_recursive_counts)
{
    struct sim *s = new_machine();
    ck_assert(sim_run(s, kt_recursive, NULL));
    const struct mmu_counters *c = &sim_mmu(s)->ctr;
    ck_assert_uint_eq(c->tlb_misses, 4);
    ck_assert_uint_eq(c->tlb_hits, 3);
    ck_assert_uint_eq(c->walks, 4);
    ck_assert_uint_eq(c->walk_reads, 8);
    ck_assert_uint_eq(c->ad_updates, 5);
    ck_assert_uint_eq(c->invlpg, 2);
    ck_assert_uint_eq(c->dropped_invlpg, 1);
    ck_assert_uint_eq(c->cr3_writes, 1);
    ck_assert_uint_eq(c->full_flushes, 1);
    ck_assert_uint_eq(c->dirty_rewalks, 0);
    ck_assert_uint_eq(c->faults, 0);
    ck_assert_uint_eq(c->accesses[MMU_SUP_WRITE], 1026 + 6);
    ck_assert_uint_eq(c->accesses[MMU_SUP_READ], 1);
    ck_assert_uint_eq(c->accesses[MMU_USER_READ] + c->accesses[MMU_USER_WRITE], 0);

    /* Entries as the walks left them. */
    ck_assert_uint_eq(phys32(s, KT_PD_PA + 1023 * 4), KT_PD_PA | PTE_P | PTE_W | PTE_A | PTE_D);
    ck_assert_uint_eq(phys32(s, KT_PD_PA + 256 * 4), KT_PT256_PA | PTE_P | PTE_W | PTE_A | PTE_D);
    ck_assert_uint_eq(phys32(s, KT_PD_PA + 0), KT_PT0_PA | PTE_P | PTE_W); /* never used: no A */
    ck_assert_uint_eq(phys32(s, KT_PT256_PA), KT_DATA2_PA | PTE_P | PTE_W | PTE_A | PTE_D);

    /* The stale translation: data[2] went to the old frame, data[3] to the new. */
    ck_assert_uint_eq(phys32(s, KT_DATA_PA + 0), 0x1234);
    ck_assert_uint_eq(phys32(s, KT_DATA_PA + 8), 0x5678);
    ck_assert_uint_eq(phys32(s, KT_DATA2_PA + 8), 0);
    ck_assert_uint_eq(phys32(s, KT_DATA2_PA + 12), 0x9abc);
    ck_assert_uint_eq(phys32(s, KT_DATA_PA + 12), 0);
    sim_destroy(s);
}
END_TEST

/*
 * An atomic store to a PTE is told to the detector like any other.
 * kt_atomic_remap maps KT_DATA_VA on KT_DATA_PA through the self-map (as
 * kt_recursive), writes data[0] (a miss; the walk sets A|D: the PTE is
 * KT_DATA_PA | 0x63), then exchanges the PTE for KT_DATA2_PA | P | W with
 * __atomic_exchange_n, no INVLPG, and writes data[1]: a hit on the entry
 * that still gives KT_DATA_PA (SDM 4.10.4.1), which lands there.  The
 * exchange goes through a host pointer, not a store hook; the detector
 * hears of it all the same: one frame-changed stale use, changed and used
 * by kt_atomic_remap, and the exchange returned the old PTE.
 */
START_TEST(test_sim_atomic_store_seen)
{
    struct sim *s = new_machine();
    ck_assert(sim_run(s, kt_atomic_remap, NULL));
    ck_assert_uint_eq(kt_result.value, KT_DATA_PA | PTE_P | PTE_W | PTE_A | PTE_D);
    ck_assert_uint_eq(phys32(s, KT_PT256_PA), KT_DATA2_PA | PTE_P | PTE_W);
    ck_assert_uint_eq(phys32(s, KT_DATA_PA + 4), 0x5678);
    ck_assert_uint_eq(sim_mmu(s)->ctr.stale_uses, 1);
    unsigned n;
    const struct sim_stale_case *c = sim_stale_cases(s, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(c[0].st.cls, MMU_STALE_FRAME);
    ck_assert_uint_eq(c[0].st.va, KT_DATA_VA + 4);
    ck_assert_uint_ge(c[0].nwrite, 1);
    ck_assert_str_eq(c[0].write_chain[0], "kt_atomic_remap");
    ck_assert_str_eq(c[0].use_chain[0], "kt_atomic_remap");
    sim_destroy(s);
}
END_TEST

START_TEST(test_sim_wild_pointer_stops_run)
{
    struct sim *s = new_machine();
    ck_assert(!sim_run(s, kt_wild, (void *)(uintptr_t)0x5a5a00000000ull));
    const struct sim_stop *st = sim_last_stop(s);
    ck_assert_int_eq(st->kind, SIM_STOP_WILD);
    ck_assert_str_eq(st->where, "kt_wild");
    ck_assert_int_eq(st->access, MMU_SUP_READ);
    ck_assert_uint_eq(st->size, 4);

    /* Host heap memory is wild too, until it is handed to kernel code on
     * purpose; then it passes straight through, not simulated. */
    uint32_t *host_word = malloc(sizeof(*host_word));
    *host_word = 0xfeedf00d;
    ck_assert(!sim_run(s, kt_wild, host_word));
    ck_assert_int_eq(sim_last_stop(s)->kind, SIM_STOP_WILD);
    sim_allow_host_range(s, host_word, sizeof(*host_word));
    ck_assert(sim_run(s, kt_wild, host_word));
    ck_assert_uint_eq(kt_result.value, 0xfeedf00d);
    ck_assert_uint_eq(sim_mmu(s)->ctr.accesses[MMU_SUP_READ], 0);
    free(host_word);
    sim_destroy(s);

    /* The host process is fine: a new machine runs the next program. */
    s = new_machine();
    ck_assert(sim_run(s, kt_recursive, NULL));
    ck_assert_uint_eq(sim_mmu(s)->ctr.tlb_misses, 4);
    sim_destroy(s);
}
END_TEST

START_TEST(test_sim_unmapped_without_handler)
{
    struct sim *s = new_machine();
    ck_assert(!sim_run(s, kt_unmapped, NULL));
    const struct sim_stop *st = sim_last_stop(s);
    ck_assert_int_eq(st->kind, SIM_STOP_PAGE_FAULT);
    ck_assert_uint_eq(st->cr2, KT_DATA_VA);
    ck_assert_uint_eq(st->error_code, PF_ERR_W); /* not present, write, supervisor */
    ck_assert_int_eq(st->walk.levels, 1);
    ck_assert_uint_eq(st->walk.pde, 0);
    ck_assert_uint_eq(st->walk.pde_addr, KT_PD_PA + 256 * 4);
    ck_assert_str_eq(st->where, "kt_unmapped");
    ck_assert_uint_eq(sim_mmu(s)->cr2, KT_DATA_VA);

    char report[512];
    sim_format_stop(st, report, sizeof(report));
    ck_assert_ptr_nonnull(
        strstr(report, "CR2=0x40000000 error=0x2 (not present, write, supervisor)"));
    ck_assert_ptr_nonnull(strstr(report, "kt_unmapped"));
    /* The machine survives the stop: more kernel code can run on it. */
    ck_assert(sim_run(s, kt_paging_on, NULL));
    sim_destroy(s);
}
END_TEST

START_TEST(test_sim_demand_paging_handler)
{
    struct sim *s = new_machine();
    ck_assert(sim_run(s, kt_demand, NULL));
    ck_assert_uint_eq(kt_result.faults, 2);
    ck_assert_uint_eq(kt_result.value, 15);
    ck_assert_uint_eq(sim_mmu(s)->ctr.faults_by_code[PF_ERR_W], 2);
    ck_assert_uint_eq(sim_stats(s)->handler_calls, 2);
    ck_assert_uint_eq(phys32(s, KT_DATA_PA), 7);
    ck_assert_uint_eq(phys32(s, KT_DATA_PA + PAGE_SIZE), 8);
    sim_destroy(s);
}
END_TEST

START_TEST(test_sim_fault_in_handler_stops)
{
    struct sim *s = new_machine();
    ck_assert(!sim_run(s, kt_fault_in_handler, NULL));
    const struct sim_stop *st = sim_last_stop(s);
    ck_assert_int_eq(st->kind, SIM_STOP_DOUBLE_FAULT);
    ck_assert_uint_eq(st->cr2, 0x80000000u);
    ck_assert_uint_eq(st->error_code, 0);            /* not present, read, supervisor */
    ck_assert_str_eq(st->where, "faulting_handler"); /* a static function */
    sim_destroy(s);
}
END_TEST

START_TEST(test_sim_panic_report)
{
    struct sim *s = new_machine();
    ck_assert(!sim_run(s, kt_panic, NULL));
    ck_assert_int_eq(sim_last_stop(s)->kind, SIM_STOP_PANIC);
    ck_assert_str_eq(sim_last_stop(s)->msg, "out of frames");
    ck_assert_str_eq(sim_last_stop(s)->where, "kt_panic");
    sim_destroy(s);
}
END_TEST

/* A 4-byte write at 0x1FFFFE touches pages 0x1FF and 0x200: two
 * translations per access, little-endian bytes split across frames. */
START_TEST(test_sim_access_across_pages)
{
    struct sim *s = new_machine();
    ck_assert(sim_run(s, kt_cross_page, NULL));
    ck_assert_uint_eq(kt_result.value, 0xAABBCCDDu);
    uint8_t *ram = sim_phys(s, 0, 16u << 20);
    ck_assert_uint_eq(ram[0x1FFFFE], 0xDD);
    ck_assert_uint_eq(ram[0x1FFFFF], 0xCC);
    ck_assert_uint_eq(ram[0x200000], 0xBB);
    ck_assert_uint_eq(ram[0x200001], 0xAA);
    /* after paging on: write = 2 misses, read = 2 hits */
    ck_assert_uint_eq(sim_mmu(s)->ctr.tlb_misses, 2);
    ck_assert_uint_eq(sim_mmu(s)->ctr.tlb_hits, 2);
    sim_destroy(s);
}
END_TEST

/* User read of a U/S=1 read-only page works; the user write faults with
 * P|W|U = 7 (SDM 4.7). */
START_TEST(test_sim_user_access_rights)
{
    struct sim *s = new_machine();
    ck_assert(!sim_run(s, kt_user_access, NULL));
    const struct sim_stop *st = sim_last_stop(s);
    ck_assert_int_eq(st->kind, SIM_STOP_PAGE_FAULT);
    ck_assert_uint_eq(st->cr2, 0x3000);
    ck_assert_uint_eq(st->error_code, PF_ERR_P | PF_ERR_W | PF_ERR_U);
    ck_assert_uint_eq(sim_mmu(s)->ctr.accesses[MMU_USER_READ], 1);
    ck_assert_uint_eq(sim_mmu(s)->ctr.accesses[MMU_USER_WRITE], 1);
    sim_destroy(s);
}
END_TEST

/*
 * Page 0 is a page like any other: kt_null_mapped reads 0x10 with page 0
 * identity-mapped (PTE 0 of the low table), so it reads physical 0x10, where
 * the host put 0xC0FFEE.  With PTE 0 cleared (and INVLPG 0), the same read
 * is an ordinary #PF: not present, read, supervisor (error code 0), CR2 0x10.
 */
START_TEST(test_sim_page_zero)
{
    struct sim *s = new_machine();
    uint32_t v = 0xC0FFEEu;
    memcpy(sim_phys(s, 0x10, 4), &v, 4);
    ck_assert(sim_run(s, kt_null_mapped, NULL));
    ck_assert_uint_eq(kt_result.value, 0xC0FFEEu);
    ck_assert(!sim_run(s, kt_null_unmapped, NULL));
    ck_assert_int_eq(sim_last_stop(s)->kind, SIM_STOP_PAGE_FAULT);
    ck_assert_uint_eq(sim_last_stop(s)->cr2, 0x10);
    ck_assert_uint_eq(sim_last_stop(s)->error_code, 0);
    sim_destroy(s);
}
END_TEST

/* A kernel read after user reads of the same page sees the page's current
 * frame: the user reads' translation (frame 0x5000, after the flush) is the
 * one the kernel's TLB hit uses, not the frame the window held before. */
START_TEST(test_sim_user_then_kernel_same_page)
{
    struct sim *s = new_machine();
    ck_assert(sim_run(s, kt_user_then_kernel, NULL));
    ck_assert_uint_eq(kt_result.value, 0x22222222u);
    sim_destroy(s);
}
END_TEST

/*
 * A 4-byte store at 0x40000FFE crosses from page 0x40000 (frame 1, in the
 * TLB) into page 0x40001 (not present): #PF with CR2 = 0x40001000.  The
 * handler maps 0x40001 on frame 3 and moves 0x40000 to frame 2 (INVLPG).
 * The processor restarts the instruction (SDM 6.5: a fault is reported
 * before the instruction, so it re-executes from the start), translating
 * both pages again: bytes DD CC land at frame 2 + 0xFFE, BB AA at frame 3,
 * frame 1 is not written, and the walk for the restarted write sets A and D
 * in the new PTE of 0x40000 (SDM 4.8).  Kernel store (arg NULL) and user
 * store (arg not NULL) alike.
 */
static void
check_cross_retry(void *arg)
{
    struct sim *s = new_machine();
    ck_assert(sim_run(s, kt_cross_retry, arg));
    ck_assert_uint_eq(kt_result.faults, 1);
    ck_assert_uint_eq(sim_stats(s)->handler_calls, 1);
    uint8_t *ram = sim_phys(s, 0, 16u << 20);
    ck_assert_uint_eq(ram[KT_DATA2_PA + 0xFFE], 0xDD);
    ck_assert_uint_eq(ram[KT_DATA2_PA + 0xFFF], 0xCC);
    ck_assert_uint_eq(ram[KT_DATA3_PA + 0], 0xBB);
    ck_assert_uint_eq(ram[KT_DATA3_PA + 1], 0xAA);
    ck_assert_uint_eq(ram[KT_DATA_PA + 0xFFE], 0);
    ck_assert_uint_eq(ram[KT_DATA_PA + 0xFFF], 0);
    ck_assert_uint_eq(phys32(s, KT_PT256_PA), KT_DATA2_PA | PTE_P | PTE_W | PTE_U | PTE_A | PTE_D);
    sim_destroy(s);
}

START_TEST(test_sim_cross_page_retry_translates_again)
{
    check_cross_retry(NULL);
}
END_TEST

START_TEST(test_sim_user_cross_page_retry_translates_again)
{
    check_cross_retry((void *)1);
}
END_TEST

/* A user write of 0xAABBCCDD at 0x40000FFE: the first page is user-writable,
 * the second not present and its fault refused.  The fault is taken before
 * the instruction completes, so no byte is stored (SDM 6.5); the run stops
 * with CR2 = 0x40001000, error W|U = 6 (not present, write, user). */
START_TEST(test_sim_user_write_faulting_stores_nothing)
{
    struct sim *s = new_machine();
    ck_assert(!sim_run(s, kt_user_cross_refused, NULL));
    const struct sim_stop *st = sim_last_stop(s);
    ck_assert_int_eq(st->kind, SIM_STOP_PAGE_FAULT);
    ck_assert_uint_eq(st->cr2, KT_DATA_VA + PAGE_SIZE);
    ck_assert_uint_eq(st->error_code, PF_ERR_W | PF_ERR_U);
    ck_assert_uint_eq(kt_result.faults, 1);
    ck_assert_uint_eq(phys32(s, KT_DATA_PA + 0xFFC), 0);
    sim_destroy(s);
}
END_TEST

/* Events as a trace sees them: kind, value and the chain's names. */
#define EV_MAX 8
struct ev_log {
    unsigned n;
    enum sim_event_kind kind[EV_MAX];
    uint32_t value[EV_MAX];
    unsigned nchain[EV_MAX];
    char chain[EV_MAX][SIM_CHAIN_MAX][64];
    char where[EV_MAX][64];
};

static void
log_event(void *ctx, struct sim *s, const struct sim_event *ev)
{
    struct ev_log *l = ctx;
    (void)s;
    if (l->n == EV_MAX)
        return;
    l->kind[l->n] = ev->kind;
    l->value[l->n] = ev->value;
    l->nchain[l->n] = ev->nchain;
    snprintf(l->where[l->n], sizeof(l->where[0]), "%s", ev->where);
    for (unsigned i = 0; i < ev->nchain && i < SIM_CHAIN_MAX; i++)
        snprintf(l->chain[l->n][i], sizeof(l->chain[0][0]), "%s", ev->chain[i]);
    l->n++;
}

/*
 * kt_chain makes three events: the CR3 and CR0 writes of kt_paging_on (which
 * the compiler may inline into kt_chain) and kt_chain_inner's INVLPG.  Each
 * chain names the callers innermost first and ends at the kernel's entry
 * from sim_run, kt_chain: for the INVLPG, kt_chain_inner < kt_chain_middle <
 * kt_chain (both kept out of line).
 */
START_TEST(test_sim_event_call_chain)
{
    struct sim *s = new_machine();
    static struct ev_log l;
    memset(&l, 0, sizeof(l));
    sim_set_event(s, log_event, &l);
    ck_assert(sim_run(s, kt_chain, NULL));
    ck_assert_uint_eq(l.n, 3);
    ck_assert_int_eq(l.kind[0], SIM_EV_CR3);
    ck_assert_int_eq(l.kind[1], SIM_EV_CR0);
    for (unsigned i = 0; i < 2; i++) {
        ck_assert_uint_ge(l.nchain[i], 1);
        ck_assert_str_eq(l.chain[i][l.nchain[i] - 1], "kt_chain");
    }
    ck_assert_int_eq(l.kind[2], SIM_EV_INVLPG);
    ck_assert_uint_eq(l.value[2], KT_DATA_VA);
    ck_assert_uint_eq(l.nchain[2], 3);
    ck_assert_str_eq(l.chain[2][0], "kt_chain_inner");
    ck_assert_str_eq(l.chain[2][1], "kt_chain_middle");
    ck_assert_str_eq(l.chain[2][2], "kt_chain");
    ck_assert_str_eq(l.where[2], "kt_chain_inner");
    sim_destroy(s);
}
END_TEST

/* A fault's chain starts at the function that made the access. */
START_TEST(test_sim_fault_event_chain)
{
    struct sim *s = new_machine();
    static struct ev_log l;
    memset(&l, 0, sizeof(l));
    sim_set_event(s, log_event, &l);
    ck_assert(!sim_run(s, kt_unmapped, NULL));
    /* kt_paging_on's CR3 and CR0 writes, then the #PF of kt_unmapped's store. */
    ck_assert_uint_eq(l.n, 3);
    ck_assert_int_eq(l.kind[2], SIM_EV_FAULT);
    ck_assert_uint_eq(l.value[2], KT_DATA_VA);
    ck_assert_uint_eq(l.nchain[2], 1);
    ck_assert_str_eq(l.chain[2][0], "kt_unmapped");
    sim_destroy(s);
}
END_TEST

/* Control-register writes made before the kernel runs (the boot entry's):
 * counted as the kernel's would be, one event each named by the writer.
 * CR4.PGE 0 -> 1 flushes the whole TLB (SDM 4.10.4.1); CR3 is one CR3
 * write; an INVLPG kind is not a control register: nothing happens. */
START_TEST(test_sim_write_cr_outside_kernel)
{
    struct sim *s = new_machine();
    static struct ev_log l;
    memset(&l, 0, sizeof(l));
    sim_set_event(s, log_event, &l);
    sim_write_cr(s, SIM_EV_CR4, CR4_PGE, "firmware");
    sim_write_cr(s, SIM_EV_CR3, KT_PD_PA, "firmware");
    sim_write_cr(s, SIM_EV_INVLPG, 0, "firmware");
    const struct mmu *m = sim_mmu(s);
    ck_assert_uint_eq(m->cr4, CR4_PGE);
    ck_assert_uint_eq(m->cr3, KT_PD_PA);
    ck_assert_uint_eq(m->ctr.cr3_writes, 1);
    ck_assert_uint_eq(m->ctr.full_flushes, 1);
    ck_assert_uint_eq(m->ctr.invlpg, 0);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_int_eq(l.kind[0], SIM_EV_CR4);
    ck_assert_int_eq(l.kind[1], SIM_EV_CR3);
    ck_assert_uint_eq(l.value[1], KT_PD_PA);
    ck_assert_uint_eq(l.nchain[1], 1);
    ck_assert_str_eq(l.chain[1][0], "firmware");
    sim_destroy(s);
}
END_TEST

/* CPU 1's directory and its one table (tests of two CPUs). */
enum { CPU1_PD_PA = 0x103000, CPU1_PT_PA = 0x104000 };

/*
 * Adds CPU 1 to s and turns paging on on both CPUs: CPU 0 through KT_PD_PA,
 * whose table KT_PT256_PA maps KT_DATA_VA on frame0; CPU 1 through
 * CPU1_PD_PA, whose table CPU1_PT_PA maps it on KT_DATA2_PA.  m[c] is CPU
 * c's MMU; CPU 1 is left current.
 */
static void
two_cpus(struct sim *s, paddr_t frame0, struct mmu *m[2])
{
    const uint32_t pde[2] = {KT_PT256_PA | PTE_P | PTE_W, CPU1_PT_PA | PTE_P | PTE_W};
    const uint32_t pte[2] = {frame0 | PTE_P | PTE_W, KT_DATA2_PA | PTE_P | PTE_W};
    memcpy(sim_phys(s, KT_PD_PA + PDX(KT_DATA_VA) * 4, 4), &pde[0], 4);
    memcpy(sim_phys(s, KT_PT256_PA + PTX(KT_DATA_VA) * 4, 4), &pte[0], 4);
    memcpy(sim_phys(s, CPU1_PD_PA + PDX(KT_DATA_VA) * 4, 4), &pde[1], 4);
    memcpy(sim_phys(s, CPU1_PT_PA + PTX(KT_DATA_VA) * 4, 4), &pte[1], 4);
    ck_assert_int_eq(sim_cpu_add(s), 1);
    const paddr_t pd[2] = {KT_PD_PA, CPU1_PD_PA};
    for (unsigned c = 0; c < 2; c++) {
        ck_assert(sim_cpu_select(s, c));
        m[c] = sim_mmu(s);
        sim_write_cr(s, SIM_EV_CR3, pd[c], "firmware");
        sim_write_cr(s, SIM_EV_CR0, CR0_PE | CR0_PG, "firmware");
    }
}

/*
 * Two CPUs over one RAM, each with its own CR3 and TLB.  Built from the
 * host: CPU 0's directory (KT_PD_PA) maps KT_DATA_VA on KT_DATA_PA, CPU 1's
 * (0x103000, table 0x104000) on KT_DATA2_PA.  Each store of kt_store_data
 * goes through whichever CPU is current:
 *  1. CPU 0 stores 0x11: its TLB is empty: miss, walk, frame KT_DATA_PA.
 *  2. CPU 1 stores 0x22: its own empty TLB: miss, frame KT_DATA2_PA.
 *  3. CPU 0 stores 0x33: CPU 1's activity left CPU 0's entry (dirty since
 *     1) alone: a hit, frame KT_DATA_PA.
 * So KT_DATA_PA holds 0x33, KT_DATA2_PA 0x22; CPU 0: 2 writes, 1 miss,
 * 1 hit; CPU 1: 1 write, 1 miss, 0 hits.  With one MMU the store of 2
 * would go to KT_DATA_PA (one CR3) and 3 would miss.
 */
START_TEST(test_sim_two_cpus)
{
    struct sim *s = new_machine();
    struct mmu *m[2];
    two_cpus(s, KT_DATA_PA, m);
    ck_assert(!sim_cpu_select(s, 2));
    ck_assert(sim_cpu_select(s, 0));
    ck_assert(sim_run(s, kt_store_data, (void *)0x11));
    ck_assert(sim_cpu_select(s, 1));
    ck_assert_ptr_ne(m[0], m[1]);
    ck_assert_uint_eq(sim_cpu_current(s), 1);
    ck_assert(sim_run(s, kt_store_data, (void *)0x22));
    ck_assert(sim_cpu_select(s, 0));
    ck_assert(sim_run(s, kt_store_data, (void *)0x33));
    ck_assert_uint_eq(phys32(s, KT_DATA_PA), 0x33);
    ck_assert_uint_eq(phys32(s, KT_DATA2_PA), 0x22);
    ck_assert_uint_eq(m[0]->cr3, KT_PD_PA);
    ck_assert_uint_eq(m[1]->cr3, CPU1_PD_PA);
    ck_assert_uint_eq(m[0]->ctr.accesses[MMU_SUP_WRITE], 2);
    ck_assert_uint_eq(m[0]->ctr.tlb_misses, 1);
    ck_assert_uint_eq(m[0]->ctr.tlb_hits, 1);
    ck_assert_uint_eq(m[1]->ctr.accesses[MMU_SUP_WRITE], 1);
    ck_assert_uint_eq(m[1]->ctr.tlb_misses, 1);
    ck_assert_uint_eq(m[1]->ctr.tlb_hits, 0);
    sim_destroy(s);
}
END_TEST

/*
 * A store on one CPU to a frame only another CPU's detector watches is
 * seen.  CPU 1's directory (0x103000) maps KT_DATA_VA through table
 * 0x104000 on KT_DATA2_PA; a read on CPU 1 caches it and watches the table.
 * CPU 0's directory maps KT_DATA_VA on that table's frame, so on CPU 0 the
 * word there is PTE 0 of CPU 1's table.  kt_store_back_then on CPU 0 reads
 * it (a miss), stores it back (a write to a clean entry: a re-walk), again
 * (a TLB hit: from here the page is CPU 0's fast one), then stores
 * KT_DATA3_PA | P | W: CPU 0's inline path would take that store, and CPU 1
 * would never hear of it.  The fast entry allows no store to a frame
 * another CPU watches, so it reaches CPU 1's detector: back on CPU 1 the
 * read hits the entry that still gives KT_DATA2_PA, a frame-changed stale
 * use (1), and CPU 0 has none.
 */
START_TEST(test_sim_store_seen_by_other_cpu)
{
    struct sim *s = new_machine();
    struct mmu *m[2];
    two_cpus(s, CPU1_PT_PA, m);
    struct mmu_result res;
    struct mmu_fault f;
    ck_assert_int_eq(mmu_translate(m[1], KT_DATA_VA, MMU_SUP_READ, &res, &f), MMU_OK);
    ck_assert_uint_eq(res.pa, KT_DATA2_PA);
    ck_assert(sim_cpu_select(s, 0));
    ck_assert(sim_run(s, kt_store_back_then, (void *)(uintptr_t)(KT_DATA3_PA | PTE_P | PTE_W)));
    ck_assert_uint_eq(phys32(s, CPU1_PT_PA), KT_DATA3_PA | PTE_P | PTE_W);
    ck_assert(sim_cpu_select(s, 1));
    ck_assert_int_eq(mmu_translate(m[1], KT_DATA_VA, MMU_SUP_READ, &res, &f), MMU_OK);
    ck_assert(res.tlb_hit);
    ck_assert_uint_eq(res.pa, KT_DATA2_PA);
    ck_assert_uint_eq(m[1]->ctr.stale_uses, 1);
    ck_assert_uint_eq(m[0]->ctr.stale_uses, 0);
    sim_destroy(s);
}
END_TEST

START_TEST(test_sim_one_machine_at_a_time)
{
    struct sim *s = new_machine();
    struct sim_config cfg;
    char err[256];
    sim_config_default(&cfg);
    ck_assert_ptr_null(sim_create(&cfg, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "already exists"));
    sim_destroy(s);
    cfg.ram_size = (4ull << 30) + 4096;
    ck_assert_ptr_null(sim_create(&cfg, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "RAM size"));
}
END_TEST

Suite *
sim_suite(void)
{
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_sim_recursive_counts);
    tcase_add_test(tc, test_sim_atomic_store_seen);
    tcase_add_test(tc, test_sim_wild_pointer_stops_run);
    tcase_add_test(tc, test_sim_unmapped_without_handler);
    tcase_add_test(tc, test_sim_demand_paging_handler);
    tcase_add_test(tc, test_sim_fault_in_handler_stops);
    tcase_add_test(tc, test_sim_panic_report);
    tcase_add_test(tc, test_sim_access_across_pages);
    tcase_add_test(tc, test_sim_user_access_rights);
    tcase_add_test(tc, test_sim_page_zero);
    tcase_add_test(tc, test_sim_two_cpus);
    tcase_add_test(tc, test_sim_store_seen_by_other_cpu);
    tcase_add_test(tc, test_sim_user_then_kernel_same_page);
    tcase_add_test(tc, test_sim_cross_page_retry_translates_again);
    tcase_add_test(tc, test_sim_user_cross_page_retry_translates_again);
    tcase_add_test(tc, test_sim_user_write_faulting_stores_nothing);
    tcase_add_test(tc, test_sim_event_call_chain);
    tcase_add_test(tc, test_sim_fault_event_chain);
    tcase_add_test(tc, test_sim_write_cr_outside_kernel);
    tcase_add_test(tc, test_sim_one_machine_at_a_time);
    tcase_add_test(tc, test_sim_kernel_statics_pristine_per_machine);
    tcase_add_test(tc, test_sim_pae_refused);
    tcase_add_test(tc, test_sim_regions_counted);
    tcase_add_test(tc, test_sim_published);
    tcase_add_test(tc, test_sim_loader_says_why);
    suite_add_tcase(s, tc);
    return s;
}

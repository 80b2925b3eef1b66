/*
 * check_vmm.c - the paging strategies (allocators/vmm.h) booted by the
 * simulator's loader: map, unmap and translate in current and foreign
 * spaces, zero-leak destruction, fork, the exact TLB maintenance each
 * strategy issues for a fixed workload, and the physmap reach limit.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "kernel/layout.h"
#include "sim/bootload.h"
#include "tests/kern_alloc.h"
#include "tests/kern_vmm.h"
#include "tests/suites.h"

/* The strategies of the registry, by index. */
static unsigned
nstrategies(void)
{
    unsigned n = 0;
    while (vmm_registry[n] != NULL)
        n++;
    return n;
}
#define NSTRATEGIES nstrategies()

static const char *
strategy_name(unsigned i)
{
    return vmm_registry[i]->name;
}

static struct sim *
machine(uint64_t ram)
{
    struct sim_config cfg;
    char err[256];
    sim_config_default(&cfg);
    cfg.ram_size = ram;
    struct sim *s = sim_create(&cfg, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    memset(&kv_result, 0, sizeof(kv_result));
    return s;
}

/* The kernel's statistics as it holds them now (read inside the machine). */
static struct kv_stats
stats_of(struct sim *s)
{
    struct kv_stats k;
    memset(&k, 0, sizeof(k));
    ck_assert(sim_run(s, kv_stats_read, &k));
    return k;
}

static void
assert_ran(struct sim *s, enum bootload_status st, const struct bootload_result *res,
           const char *what)
{
    char stop[512] = "";
    if (st == BOOTLOAD_STOPPED)
        sim_format_stop(sim_last_stop(s), stop, sizeof(stop));
    ck_assert_msg(st == BOOTLOAD_OK, "%s: %s (boot: %s, workload: %s at op %u)\n%s", what,
                  bootload_strerror(st), boot_strerror(res->boot), wl_strerror(res->wl.status),
                  res->wl.op_index, stop);
}

/* Boots strategy with pmm on a fresh 64 MiB machine (PSE on). */
static struct sim *
booted(const char *strategy, const char *pmm)
{
    struct sim *s = machine(64u << 20);
    struct bootload_config cfg = {.strategy = strategy, .pmm = pmm, .cr4 = CR4_PSE};
    struct bootload_result res;
    assert_ran(s, bootload_boot(s, &cfg, &res), &res, strategy);
    return s;
}

static void
run_kernel(struct sim *s, void (*fn)(void *), const char *strategy)
{
    char stop[512] = "";
    bool ok = sim_run(s, fn, NULL);
    if (!ok)
        sim_format_stop(sim_last_stop(s), stop, sizeof(stop));
    ck_assert_msg(ok, "%s: %s", strategy, stop);
    ck_assert_msg(kv_result.failed_line == 0, "%s: check at kern_vmm.c:%u failed (value 0x%x)",
                  strategy, kv_result.failed_line, kv_result.failed_value);
}

/*
 * With CR4.PGE the kernel maps its heap global (G=1): the heap page the
 * kmalloc wrote and read is cached as a global entry, so the CR3 write of
 * the switch keeps it (SDM 4.10.4.1: MOV to CR3 leaves global entries).
 * Without PGE the same PTE has G=0 and the CR3 write drops everything.
 */
START_TEST(test_vmm_kernel_heap_global_with_pge)
{
    for (int pge = 0; pge < 2; pge++) {
        struct sim *s = machine(64u << 20);
        struct bootload_config cfg = {
            .strategy = "heap", .pmm = "bitmap", .cr4 = CR4_PSE | (pge ? CR4_PGE : 0)};
        struct bootload_result res;
        assert_ran(s, bootload_boot(s, &cfg, &res), &res, "heap");
        uint64_t kept = sim_mmu(s)->ctr.globals_kept;
        run_kernel(s, kv_heap_then_switch, "heap");
        ck_assert_uint_eq(kv_result.heap_pte_flags & PTE_G, pge ? PTE_G : 0);
        if (pge)
            ck_assert_uint_ge(sim_mmu(s)->ctr.globals_kept - kept, 1);
        else
            ck_assert_uint_eq(sim_mmu(s)->ctr.globals_kept, 0);
        sim_destroy(s);
    }
}
END_TEST

/*
 * The 4 MiB pitfall of a recursive map.  With kernel4m the kernel
 * directory's PDE 768 maps physical 0-4 MiB as one large page (PS=1).
 * Self-map page i (0xFFC00000 + i * 4K) is translated by PDE i read as a
 * PTE, so the "PTEs" of KERNEL_BASE and KERNEL_BASE + 1 MiB, at
 * 0xFFC00000 + 0xC0000 * 4 = 0xFFF00000 and 0xFFF00400, both lie in
 * self-map page 768 and land in that large page's data: two accesses, two
 * hits (the first walks, the second hits the TLB).  With the early boot
 * tables PDE 768 points at a table (PS=0): none.  Reading the PDE first
 * touches only self-map page 1023, whose "PTE" is PDE 1023 itself (the
 * directory, PS=0), and the table not at all: none either way.  The boot
 * itself, under the shipped recursive strategy, makes none.
 */
START_TEST(test_vmm_recursive_large_page_hits)
{
    const struct {
        void (*fn)(void *);
        bool kernel4m;
        uint64_t hits;
    } cases[] = {
        {kv_kpte_unchecked, true, 2},
        {kv_kpte_unchecked, false, 0},
        {kv_kpte_checked, true, 0},
        {kv_kpte_checked, false, 0},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sim *s = machine(64u << 20);
        struct bootload_config cfg = {.strategy = "recursive",
                                      .pmm = "stack",
                                      .cr4 = CR4_PSE,
                                      .flags = cases[i].kernel4m ? KMOD_FLAG_KERNEL4M : 0};
        struct bootload_result res;
        assert_ran(s, bootload_boot(s, &cfg, &res), &res, "recursive");
        ck_assert_uint_eq(sim_stats(s)->large_page_hits, 0);
        run_kernel(s, cases[i].fn, "recursive");
        const struct sim_stats *st = sim_stats(s);
        ck_assert_msg(st->large_page_hits == cases[i].hits, "case %u: %llu hits, expected %llu", i,
                      (unsigned long long)st->large_page_hits,
                      (unsigned long long)cases[i].hits);
        if (cases[i].hits != 0) {
            ck_assert_uint_eq(st->large_hit.va, 0xFFF00000u);
            ck_assert_uint_eq(st->large_hit.pde & (PTE_P | PTE_PS | 0xFFC00000u), PTE_P | PTE_PS);
            ck_assert_uint_ge(st->large_hit.nchain, 1);
            ck_assert_str_eq(st->large_hit.chain[0], "kv_kpte_unchecked");
        }
        sim_destroy(s);
    }
}
END_TEST

START_TEST(test_vmm_map_unmap_translate)
{
    const char *name = strategy_name((unsigned)_i);
    struct sim *s = booted(name, "bitmap");
    run_kernel(s, kv_map_unmap, name);
    ck_assert_uint_eq(kv_result.user_pages, 0);
    sim_destroy(s);
}
END_TEST

/*
 * Zero leak: the second create/map/fork/destroy cycle gives back every
 * frame it took.  The first cycle grows the heaps once (heap and pageheap
 * keep their pages mapped), so only the second is measured; the frames
 * held for paging structures are back to the kernel's own.
 */
START_TEST(test_vmm_destroy_returns_every_frame)
{
    const char *name = strategy_name((unsigned)_i % NSTRATEGIES);
    const char *pmm = _i < (int)NSTRATEGIES ? "bitmap" : "stack";
    struct sim *s = booted(name, pmm);
    run_kernel(s, kv_leak, name);
    ck_assert_msg(kv_result.free_before == kv_result.free_after, "%s/%s: %u free before, %u after",
                  name, pmm, kv_result.free_before, kv_result.free_after);
    ck_assert_uint_eq(kv_result.user_pages, 0);
    ck_assert_uint_eq(kv_result.pd_frames, 1); /* the kernel directory */
    sim_destroy(s);
}
END_TEST

START_TEST(test_vmm_fork_copies_contents)
{
    const char *name = strategy_name((unsigned)_i);
    struct sim *s = booted(name, "stack");
    run_kernel(s, kv_fork, name);
    ck_assert_uint_eq(kv_result.user_pages, 0);
    sim_destroy(s);
}
END_TEST

/* ---- exact TLB maintenance for a fixed workload ---- */

#define UW (WL_MAP_WRITE | WL_MAP_USER)

/* The small fixed workload (slots 1 and 2; pages at 1 GiB). */
static const struct wl_op small_workload[] = {
    WL_OP(WL_MARK, 1, 0, 0, 0),
    WL_OP(WL_SPACE_CREATE, 1, 0, 0, 0),
    WL_OP(WL_MAP, 1, 0x40000000u, 2 * 4096, UW),
    WL_OP(WL_SPACE_SWITCH, 1, 0, 0, 0),
    WL_OP(WL_TOUCH, WL_TOUCH_WRITE | WL_TOUCH_USER, 0x40000000u, 2 * 4096, 0),
    WL_OP(WL_UNMAP, WL_CURRENT, 0x40000000u, 4096, 0),
    WL_OP(WL_SPACE_CREATE, 2, 0, 0, 0),
    WL_OP(WL_SPACE_SWITCH, 2, 0, 0, 0),
    WL_OP(WL_SPACE_DESTROY, 1, 0, 0, 0),
    WL_OP(WL_MARK, 2, 0, 0, 0),
};

struct marks {
    struct mmu_counters at[3];
};

static void
on_mark(void *ctx, struct sim *s, uint32_t id)
{
    struct marks *m = ctx;
    if (id < 3)
        m->at[id] = sim_mmu(s)->ctr;
}

struct expect {
    const char *strategy;
    uint64_t invlpg, cr3_writes;
    uint32_t foreign_switches;
};

/*
 * INVLPG and CR3 writes between the marks of small_workload, bitmap PMM
 * (every zeroed allocation is zeroed through the strategy's zero fn), from
 * the kernel's space with nothing else mapped:
 *
 * Every strategy: SWITCH 1 and SWITCH 2 are one CR3 load each (2); the
 * UNMAP of one page from the current space is one INVLPG of it; the MAP
 * and the DESTROY edit a foreign space, whose user translations left the
 * TLB with the CR3 load that left it, so they need none.
 *
 * heap, pageheap: directories and tables are reached at heap addresses and
 * cleared by memset; nothing else is mapped or unmapped: 1 INVLPG.
 * physmap: tables are zeroed through the direct map: 1 INVLPG.
 * recursive: each zeroed frame (directory of 1, its table at 1 GiB,
 * directory of 2) is zeroed through a scratch slot unmapped with INVLPG
 * (3), plus the UNMAP (1): 4.  The foreign slot is pointed at 1 (create),
 * at 2 from 1's directory (create), at 1 from 2's (destroy): 3 switches,
 * each with nothing touched through the slot since the last CR3 load or
 * in a directory whose slot was empty, so no INVLPG for them.
 * tempmap: every slot unmap is an INVLPG.  CREATE: zero the directory (1)
 * and copy the kernel PDEs into it (1); MAP: directory (1) with the new
 * table zeroed inside (1), the table (1); UNMAP: directory (1), table (1),
 * the page (1); CREATE 2: 2; DESTROY: directory (1), its one table (1):
 * 2 + 3 + 3 + 2 + 2 = 12.
 * tempmap-lazy: the same 11 slot uses clear PTEs only and the window does
 * not wrap: only the UNMAP's INVLPG, 1.
 */
static const struct expect small_expect[] = {
    {"heap", 1, 2, 0},     {"pageheap", 1, 2, 0},     {"recursive", 4, 2, 3},
    {"tempmap", 12, 2, 0}, {"tempmap-lazy", 1, 2, 0}, {"physmap", 1, 2, 0},
};

START_TEST(test_vmm_exact_tlb_maintenance)
{
    const struct expect *e = &small_expect[_i];
    struct sim *s = machine(64u << 20);
    struct marks m;
    memset(&m, 0, sizeof(m));
    sim_set_mark(s, on_mark, &m);
    struct bootload_config cfg = {.strategy = e->strategy,
                                  .pmm = "bitmap",
                                  .cr4 = CR4_PSE,
                                  .ops = small_workload,
                                  .nops = sizeof(small_workload) / sizeof(small_workload[0])};
    struct bootload_result res;
    assert_ran(s, bootload_run(s, &cfg, &res), &res, e->strategy);
    ck_assert_msg(m.at[2].invlpg - m.at[1].invlpg == e->invlpg, "%s: %llu INVLPG, expected %llu",
                  e->strategy, (unsigned long long)(m.at[2].invlpg - m.at[1].invlpg),
                  (unsigned long long)e->invlpg);
    ck_assert_msg(m.at[2].cr3_writes - m.at[1].cr3_writes == e->cr3_writes,
                  "%s: %llu CR3 writes, expected %llu", e->strategy,
                  (unsigned long long)(m.at[2].cr3_writes - m.at[1].cr3_writes),
                  (unsigned long long)e->cr3_writes);
    ck_assert_uint_eq(stats_of(s).vmm.foreign_switches, e->foreign_switches);
    /* The kernel issued every INVLPG; all CR3 loads but the loader's. */
    ck_assert_uint_eq(stats_of(s).vmm.invlpg, sim_mmu(s)->ctr.invlpg);
    ck_assert_uint_eq(stats_of(s).vmm.cr3_writes, sim_mmu(s)->ctr.cr3_writes - 1);
    sim_destroy(s);
}
END_TEST

/* The foreign slot shows up in the simulator's region counts. */
START_TEST(test_vmm_recursive_windows_counted)
{
    struct sim *s = machine(64u << 20);
    struct bootload_config cfg = {.strategy = "recursive",
                                  .pmm = "bitmap",
                                  .ops = small_workload,
                                  .nops = sizeof(small_workload) / sizeof(small_workload[0])};
    struct bootload_result res;
    assert_ran(s, bootload_run(s, &cfg, &res), &res, "recursive");
    ck_assert_uint_gt(sim_region_accesses(s, REGION_RECURSIVE), 0);
    ck_assert_uint_gt(sim_region_accesses(s, REGION_FOREIGN), 0);
    ck_assert_uint_eq(stats_of(s).vmm.foreign_switches, 3);
    ck_assert_uint_eq(stats_of(s).vmm.kva_bytes, 8u * 1024 * 1024 + 4 * 4096);
    sim_destroy(s);
}
END_TEST

/*
 * Repointing the foreign slot after 40 of its table pages and its directory
 * page were used: 41 pages is past the ceiling of 32 INVLPGs, so one CR3
 * reload instead.  CREATE 1 points the slot at 1 (nothing touched yet);
 * each of the 40 MAPs (one page in its own 4 MiB) zeroes a new table
 * through a scratch slot (40 INVLPG); the directories of 1 and 2 are zeroed
 * the same way (2); CREATE 2 repoints: the reload.  42 INVLPG, 1 CR3 load,
 * 2 switches.
 */
START_TEST(test_vmm_recursive_repoint_ceiling)
{
    struct wl_op ops[44];
    unsigned n = 0;
    ops[n++] = (struct wl_op)WL_OP(WL_MARK, 1, 0, 0, 0);
    ops[n++] = (struct wl_op)WL_OP(WL_SPACE_CREATE, 1, 0, 0, 0);
    for (uint32_t t = 0; t < 40; t++)
        ops[n++] = (struct wl_op)WL_OP(WL_MAP, 1, t << 22, 4096, UW);
    ops[n++] = (struct wl_op)WL_OP(WL_SPACE_CREATE, 2, 0, 0, 0);
    ops[n++] = (struct wl_op)WL_OP(WL_MARK, 2, 0, 0, 0);
    struct sim *s = machine(64u << 20);
    struct marks m;
    memset(&m, 0, sizeof(m));
    sim_set_mark(s, on_mark, &m);
    struct bootload_config cfg = {.strategy = "recursive", .pmm = "bitmap", .ops = ops, .nops = n};
    struct bootload_result res;
    assert_ran(s, bootload_run(s, &cfg, &res), &res, "recursive");
    ck_assert_uint_eq(m.at[2].invlpg - m.at[1].invlpg, 42);
    ck_assert_uint_eq(m.at[2].cr3_writes - m.at[1].cr3_writes, 1);
    ck_assert_uint_eq(stats_of(s).vmm.foreign_switches, 2);
    sim_destroy(s);
}
END_TEST

/*
 * The temporary window's two policies on 512 map/unmap rounds in a foreign
 * space.  Slot uses: CREATE 2 (zero, copy), the first MAP 3 (directory,
 * table zeroed inside it, table), each later MAP 2 and each UNMAP 2:
 * 2 + 3 + 2 + 511 * 4 = 2051.  Eager: one INVLPG per use, no CR3 load;
 * two slots ever used (the nested zeroing takes the second), so 2049
 * reuses.  Lazy: no INVLPG; the turn wraps at uses 1025 and 2049, each
 * time with cleared slots and no CR3 load since: 2 CR3 loads, and every
 * use after the first wrap reuses a slot: 2051 - 1024 = 1027.
 */
static const struct wl_op window_workload[] = {
    WL_OP(WL_MARK, 1, 0, 0, 0),
    WL_OP(WL_SPACE_CREATE, 1, 0, 0, 0),
    WL_OP(WL_REPEAT, 512, 0, 0, 0),
    WL_OP(WL_MAP, 1, 0x40000000u, 4096, UW),
    WL_OP(WL_UNMAP, 1, 0x40000000u, 4096, 0),
    WL_OP(WL_REPEAT_END, 0, 0, 0, 0),
    WL_OP(WL_MARK, 2, 0, 0, 0),
};

START_TEST(test_vmm_window_policies)
{
    const char *name = _i == 0 ? "tempmap" : "tempmap-lazy";
    struct sim *s = machine(64u << 20);
    struct marks m;
    memset(&m, 0, sizeof(m));
    sim_set_mark(s, on_mark, &m);
    struct bootload_config cfg = {.strategy = name,
                                  .pmm = "bitmap",
                                  .ops = window_workload,
                                  .nops = sizeof(window_workload) / sizeof(window_workload[0])};
    struct bootload_result res;
    assert_ran(s, bootload_run(s, &cfg, &res), &res, name);
    uint64_t invlpg = m.at[2].invlpg - m.at[1].invlpg;
    uint64_t cr3 = m.at[2].cr3_writes - m.at[1].cr3_writes;
    ck_assert_uint_eq(stats_of(s).vmm.tmp_maps, 2051);
    if (_i == 0) {
        ck_assert_uint_eq(invlpg, 2051);
        ck_assert_uint_eq(cr3, 0);
        ck_assert_uint_eq(stats_of(s).vmm.tmp_reuses, 2049);
    } else {
        ck_assert_uint_eq(invlpg, 0);
        ck_assert_uint_eq(cr3, 2);
        ck_assert_uint_eq(stats_of(s).vmm.tmp_wraps, 2);
        ck_assert_uint_eq(stats_of(s).vmm.tmp_reuses, 1027);
    }
    sim_destroy(s);
}
END_TEST

/* Every strategy runs the same workload: spaces, maps, touches, fork,
 * kmalloc, repeat, destroy of the current space. */
static const struct wl_op shared_workload[] = {
    WL_OP(WL_SPACE_CREATE, 1, 0, 0, 0),
    WL_OP(WL_MAP, 1, 0x00400000u, 16 * 4096, UW),
    WL_OP(WL_MAP, 1, 0x7FFFE000u, 4 * 4096, WL_MAP_USER),
    WL_OP(WL_SPACE_SWITCH, 1, 0, 0, 0),
    WL_OP(WL_TOUCH, WL_TOUCH_WRITE | WL_TOUCH_USER, 0x00400000u, 16 * 4096, 1024),
    WL_OP(WL_TOUCH, WL_TOUCH_USER, 0x7FFFE000u, 4 * 4096, 0),
    WL_OP(WL_SPACE_FORK, 2, 1, 0, 0),
    WL_OP(WL_KMALLOC, 0, 100, 0, 0),
    WL_OP(WL_KMALLOC, 1, 4096, 1, 0),
    WL_OP(WL_REPEAT, 3, 0, 0, 0),
    WL_OP(WL_SPACE_SWITCH, 2, 0, 0, 0),
    WL_OP(WL_TOUCH, WL_TOUCH_WRITE, 0x00400000u, 16 * 4096, 0),
    WL_OP(WL_SPACE_SWITCH, 1, 0, 0, 0),
    WL_OP(WL_TOUCH, 0, 0x00400000u, 16 * 4096, 0),
    WL_OP(WL_REPEAT_END, 0, 0, 0, 0),
    WL_OP(WL_UNMAP, 2, 0x00400000u, 8 * 4096, 0),
    WL_OP(WL_SPACE_FORK, 3, WL_CURRENT, 0, 0),
    WL_OP(WL_KFREE, 0, 0, 0, 0),
    WL_OP(WL_SPACE_DESTROY, 1, 0, 0, 0),
    WL_OP(WL_SPACE_DESTROY, 2, 0, 0, 0),
    WL_OP(WL_SPACE_DESTROY, 3, 0, 0, 0),
    WL_OP(WL_KFREE, 1, 0, 0, 0),
};

START_TEST(test_vmm_all_strategies_run_shared_workload)
{
    for (unsigned pse = 0; pse < 2; pse++) {
        for (unsigned k = 0; k < 2; k++) {
            const char *pmm = k == 0 ? "bitmap" : "stack";
            struct sim *s = machine(64u << 20);
            struct bootload_config cfg = {.strategy = strategy_name((unsigned)_i),
                                          .pmm = pmm,
                                          .cr4 = pse ? CR4_PSE : 0,
                                          .ops = shared_workload,
                                          .nops =
                                              sizeof(shared_workload) / sizeof(shared_workload[0])};
            struct bootload_result res;
            char what[64];
            snprintf(what, sizeof(what), "%s/%s/pse=%u", strategy_name((unsigned)_i), pmm, pse);
            assert_ran(s, bootload_run(s, &cfg, &res), &res, what);
            ck_assert_uint_eq(stats_of(s).vmm.spaces, 1);
            ck_assert_uint_eq(stats_of(s).vmm.user_pages, 0);
            ck_assert_uint_eq(stats_of(s).vmm.pd_frames, 1);
            ck_assert_uint_eq(stats_of(s).vmm.pt_frames, stats_of(s).vmm.kernel_pt_frames);
            /* Every space is gone: no heap page holds a directory or table,
             * and the kernel-half pages are exactly the heaps' mapped pages. */
            ck_assert_uint_eq(stats_of(s).vmm.heap_paging_frames, 0);
            ck_assert_uint_eq(stats_of(s).vmm.kernel_pages,
                              (stats_of(s).heap.mapped_bytes + stats_of(s).pageheap.mapped_bytes) / 4096);
            sim_destroy(s);
        }
    }
}
END_TEST

/* Physmap reaches 768 MiB: on a 1 GiB machine the last 256 MiB are left
 * out of the PMM and reported, with 4 MiB pages or tables; other
 * strategies manage all of it.  The memory map is QEMU's
 * (bootload_qemu_mmap): usable RAM ends 128 KiB (32 frames) below 1 GiB,
 * so 256 MiB - 128 KiB are unreachable and 1 GiB - 128 KiB are managed. */
START_TEST(test_vmm_physmap_reports_reach)
{
    const char *name = _i < 2 ? "physmap" : "recursive";
    struct sim *s = machine(1ull << 30);
    struct bootload_config cfg = {.strategy = name, .pmm = "bitmap", .cr4 = _i == 1 ? 0 : CR4_PSE};
    struct bootload_result res;
    assert_ran(s, bootload_boot(s, &cfg, &res), &res, name);
    if (_i < 2) {
        ck_assert_uint_eq(stats_of(s).vmm.reach_frames, (768u << 20) / 4096);
        ck_assert_uint_eq(stats_of(s).vmm.unreachable_frames, (256u << 20) / 4096 - 32);
        ck_assert_uint_eq(stats_of(s).pmm.total_frames, (768u << 20) / 4096);
        ck_assert_uint_eq(stats_of(s).vmm.kva_bytes, 768u << 20);
        /* Kernel tables: the heaps and window (PDEs 960..1008: 49), and
         * without PSE the direct map's 192 (4 of them the boot tables). */
        ck_assert_uint_eq(stats_of(s).vmm.kernel_pt_frames, _i == 0 ? 49 : 49 + 192);
        /* The boot tables are the early 16 MiB's 4, replaced by 4 MiB pages
         * with PSE; placement memory holds the directory and the rest. */
        ck_assert_uint_eq(stats_of(s).vmm.early_pt_frames, _i == 0 ? 0 : 4);
        ck_assert_uint_eq(stats_of(s).vmm.boot_bytes, (_i == 0 ? 1 + 49 : 1 + 49 + 188) * 4096u);
    } else {
        ck_assert_uint_eq(stats_of(s).vmm.reach_frames, VMM_REACH_ALL);
        ck_assert_uint_eq(stats_of(s).vmm.unreachable_frames, 0);
        ck_assert_uint_eq(stats_of(s).pmm.total_frames, (1u << 30) / 4096 - 32);
    }
    sim_destroy(s);
}
END_TEST

START_TEST(test_vmm_unknown_names)
{
    struct sim *s = machine(64u << 20);
    struct bootload_config cfg = {.strategy = "nosuch", .pmm = "bitmap"};
    struct bootload_result res;
    ck_assert_int_eq(bootload_boot(s, &cfg, &res), BOOTLOAD_BOOT_FAILED);
    ck_assert_int_eq(res.boot, BOOT_UNKNOWN_STRATEGY);
    sim_destroy(s);
    s = machine(64u << 20);
    cfg.strategy = "heap";
    cfg.pmm = "nosuch";
    ck_assert_int_eq(bootload_boot(s, &cfg, &res), BOOTLOAD_BOOT_FAILED);
    ck_assert_int_eq(res.boot, BOOT_UNKNOWN_PMM);
    sim_destroy(s);
    ck_assert_ptr_null(vmm_find("nosuch"));
}
END_TEST

/* Every strategy of the registry is found by its name, once, describes
 * itself, prefers a registered frame allocator, and boots on it; the
 * default is one of them. */
START_TEST(test_vmm_registry_entries)
{
    bool default_listed = false;
    for (unsigned i = 0; i < NSTRATEGIES; i++) {
        const struct vmm_ops *ops = vmm_registry[i];
        ck_assert_ptr_eq(vmm_find(ops->name), ops);
        ck_assert_msg(ops->summary != NULL && ops->summary[0] != '\0', "%s: no summary", ops->name);
        ck_assert_msg(ops->pmm != NULL && pmm_find(ops->pmm->name) == ops->pmm,
                      "%s: its frame allocator is not registered", ops->name);
        default_listed = default_listed || ops == vmm_registry_default;
        struct sim *s = booted(ops->name, ops->pmm->name);
        sim_destroy(s);
    }
    ck_assert(default_listed);
}
END_TEST

/*
 * The generic layer counts every directory, whatever the strategy's create
 * does: the tests' own strategy counts nothing (tests/kern_vmm.c).  By
 * hand, with a, b and c (a fork of a) live: 4 spaces (the kernel's
 * included) and 4 directories; a's two pages lie under one table and so
 * do c's copies: 2 user tables; from the PMM: 3 directories + 2 tables +
 * 4 pages = 9 frames.  With the three gone: 1 space, the kernel's
 * directory only, no user table, every frame back.
 */
START_TEST(test_vmm_space_create_counts_directory)
{
    struct sim_config sc;
    char err[256];
    sim_config_default(&sc);
    sc.ram_size = KA_RAM_SIZE;
    struct sim *s = sim_create(&sc, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    memset(&kv_result, 0, sizeof(kv_result));
    run_kernel(s, kv_fake_strategy, "early");
    ck_assert_uint_eq(kv_fake.spaces[0], 4);
    ck_assert_uint_eq(kv_fake.pd_frames[0], 4);
    ck_assert_uint_eq(kv_fake.user_pt_frames[0], 2);
    ck_assert_uint_eq(kv_fake.frames_taken[0], 9);
    ck_assert_uint_eq(kv_fake.spaces[1], 1);
    ck_assert_uint_eq(kv_fake.pd_frames[1], 1);
    ck_assert_uint_eq(kv_fake.user_pt_frames[1], 0);
    ck_assert_uint_eq(kv_fake.frames_taken[1], 0);
    sim_destroy(s);
}
END_TEST

/*
 * Workload errors stop at the op, with its line, the precise cause and the
 * slot or handle it concerns.  Each list ends in the op that must fail.
 */
static const struct wl_op bad_map_twice[] = {
    WL_OP(WL_SPACE_CREATE, 1, 0, 0, 0),
    WL_OP(WL_MAP, 1, 0x40000000u, 4096, UW),
    WL_OP(WL_MAP, 1, 0x40000000u, 4096, UW),
};
static const struct wl_op bad_create_twice[] = {
    WL_OP(WL_SPACE_CREATE, 3, 0, 0, 0),
    WL_OP(WL_SPACE_CREATE, 3, 0, 0, 0),
};
static const struct wl_op bad_switch_destroyed[] = {
    WL_OP(WL_SPACE_CREATE, 2, 0, 0, 0),
    WL_OP(WL_SPACE_DESTROY, 2, 0, 0, 0),
    WL_OP(WL_SPACE_SWITCH, 2, 0, 0, 0),
};
static const struct wl_op bad_fork_never_created[] = {
    WL_OP(WL_SPACE_FORK, 4, 5, 0, 0),
};
static const struct wl_op bad_kfree_twice[] = {
    WL_OP(WL_KMALLOC, 7, 64, 0, 0),
    WL_OP(WL_KFREE, 7, 0, 0, 0),
    WL_OP(WL_KFREE, 7, 0, 0, 0),
};
static const struct wl_op bad_kfree_never[] = {
    WL_OP(WL_KFREE, 6, 0, 0, 0),
};
static const struct wl_op bad_kmalloc_twice[] = {
    WL_OP(WL_KMALLOC, 0, 64, 0, 0),
    WL_OP(WL_KMALLOC, 0, 64, 0, 0),
};
/* The current space (slot 1, switched to) is named by its slot. */
static const struct wl_op bad_map_current[] = {
    WL_OP(WL_SPACE_CREATE, 1, 0, 0, 0),
    WL_OP(WL_SPACE_SWITCH, 1, 0, 0, 0),
    WL_OP(WL_MAP, WL_CURRENT, 0x40000000u, 2 * 4096, UW),
    WL_OP(WL_MAP, WL_CURRENT, 0x40001000u, 4096, UW),
};

static const struct {
    const struct wl_op *ops;
    uint32_t nops;
    enum wl_status status;
    uint32_t object;
} bad_workloads[] = {
#define LIST(l) l, sizeof(l) / sizeof(l[0])
    {LIST(bad_map_twice), WL_MAPPED, 1},           {LIST(bad_create_twice), WL_SLOT_USED, 3},
    {LIST(bad_switch_destroyed), WL_DESTROYED, 2}, {LIST(bad_fork_never_created), WL_NO_SPACE, 5},
    {LIST(bad_kfree_twice), WL_FREED, 7},          {LIST(bad_kfree_never), WL_NO_ALLOC, 6},
    {LIST(bad_kmalloc_twice), WL_ALLOCATED, 0},    {LIST(bad_map_current), WL_MAPPED, 1},
#undef LIST
};
#define NBAD (sizeof(bad_workloads) / sizeof(bad_workloads[0]))

START_TEST(test_vmm_workload_error_reported)
{
    struct sim *s = machine(64u << 20);
    const struct wl_op *ops = bad_workloads[_i].ops;
    uint32_t n = bad_workloads[_i].nops;
    struct bootload_config cfg = {.strategy = "recursive", .pmm = "bitmap", .ops = ops, .nops = n};
    struct bootload_result res;
    ck_assert_int_eq(bootload_run(s, &cfg, &res), BOOTLOAD_WORKLOAD_FAILED);
    ck_assert_str_eq(wl_strerror(res.wl.status), wl_strerror(bad_workloads[_i].status));
    ck_assert_uint_eq(res.wl.op_index, n - 1);
    ck_assert_uint_eq(res.wl.line, ops[n - 1].line);
    ck_assert_uint_eq(res.wl.object, bad_workloads[_i].object);
    sim_destroy(s);
}
END_TEST

Suite *
vmm_suite(void)
{
    Suite *s = suite_create("vmm");
    TCase *tc = tcase_create("strategies");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_vmm_kernel_heap_global_with_pge);
    tcase_add_loop_test(tc, test_vmm_map_unmap_translate, 0, NSTRATEGIES);
    tcase_add_loop_test(tc, test_vmm_destroy_returns_every_frame, 0, 2 * NSTRATEGIES);
    tcase_add_loop_test(tc, test_vmm_fork_copies_contents, 0, NSTRATEGIES);
    tcase_add_loop_test(tc, test_vmm_exact_tlb_maintenance, 0,
                        sizeof(small_expect) / sizeof(small_expect[0]));
    tcase_add_test(tc, test_vmm_recursive_windows_counted);
    tcase_add_test(tc, test_vmm_recursive_repoint_ceiling);
    tcase_add_loop_test(tc, test_vmm_window_policies, 0, 2);
    tcase_add_loop_test(tc, test_vmm_all_strategies_run_shared_workload, 0, NSTRATEGIES);
    tcase_add_loop_test(tc, test_vmm_physmap_reports_reach, 0, 3);
    tcase_add_test(tc, test_vmm_unknown_names);
    tcase_add_test(tc, test_vmm_recursive_large_page_hits);
    tcase_add_test(tc, test_vmm_registry_entries);
    tcase_add_test(tc, test_vmm_space_create_counts_directory);
    tcase_add_loop_test(tc, test_vmm_workload_error_reported, 0, NBAD);
    suite_add_tcase(s, tc);
    return s;
}

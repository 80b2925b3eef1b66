/*
 * bench_mmu.c - figures for the access path.  Every figure is the best of
 * N runs (default 5) with the median and the worst beside it, and each
 * stands next to a baseline measured in the same process: the same loop
 * (bench_loop.c) compiled plain on host memory, and the same loop run by
 * the QEMU reference kernel (bench/qref/) under qemu-system-i386 -accel tcg
 * when QEMU was found at configure time.  Figures only: the exit status
 * says whether the benchmark ran, not whether a target was met.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "bench/bench_loop.h"
#include "bench/bench_stats.h"
#include "kernel/arch.h"
#include "mmu/mmu.h"
#include "sim/sim.h"

BENCH_LOOPS(instr)
BENCH_LOOPS(plain)

#define PD_PA 0x10000u       /* the directory of the main space */
#define TABLES_PA 0x20000u   /* page tables, from here up */
#define FRAMES_PA 0x400000u  /* data frames of the hit and miss loops */
#define SPACES_PA 0x800000u  /* switched spaces: directories, then tables and frames */
#define TOUCH_PA (64u << 20) /* first-touch frames */
#define TOUCH_RAM (512ull << 20)

/* ---- figures: N samples, reported as best (median, max) ---- */

struct fig {
    double v[BENCH_MAX_RUNS];
    int n;
};

static void
fig_add(struct fig *f, double v)
{
    if (f->n < BENCH_MAX_RUNS)
        f->v[f->n++] = v;
}

/* Sorts the samples; returns the best (smallest). */
static double
fig_best(struct fig *f)
{
    bench_sort(f->v, f->n);
    return f->n > 0 ? f->v[0] : 0;
}

/* "best (median-max)" in buf. */
static const char *
fig_str(struct fig *f, char *buf, size_t len)
{
    return bench_spread(f->v, f->n, 1, -1, buf, len);
}

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the simulated machine ---- */

static struct sim *bench_sim;
static uint32_t bench_next_table = TABLES_PA;

static void
die_sim(const char *what)
{
    char rep[512];
    sim_format_stop(sim_last_stop(bench_sim), rep, sizeof(rep));
    fprintf(stderr, "bench_mmu: %s: %s", what, rep);
    exit(1);
}

static uint32_t *
phys32(paddr_t pa)
{
    return sim_phys(bench_sim, pa, 4);
}

/* Maps va to pa in the directory at pd, taking a table from TABLES_PA up. */
static void
map(paddr_t pd, vaddr_t va, paddr_t pa)
{
    uint32_t *pde = phys32(pd + PDX(va) * 4);
    if (!(*pde & PTE_P)) {
        memset(sim_phys(bench_sim, bench_next_table, PAGE_SIZE), 0, PAGE_SIZE);
        *pde = bench_next_table | PTE_P | PTE_W;
        bench_next_table += PAGE_SIZE;
    }
    *phys32((*pde & ~0xFFFu) + PTX(va) * 4) = pa | PTE_P | PTE_W;
}

static void
new_machine(uint64_t ram)
{
    struct sim_config cfg;
    char err[256];
    sim_config_default(&cfg);
    if (ram != 0)
        cfg.ram_size = ram;
    bench_sim = sim_create(&cfg, err, sizeof(err));
    if (bench_sim == NULL) {
        fprintf(stderr, "bench_mmu: %s\n", err);
        exit(1);
    }
    bench_next_table = TABLES_PA;
}

static void
paging_on(void)
{
    mmu_write_cr3(sim_mmu(bench_sim), PD_PA);
    mmu_write_cr0(sim_mmu(bench_sim), CR0_PE | CR0_PG | CR0_WP);
}

/* One call of a bench loop, with its arguments, run inside the machine or on the host. */
enum job_kind { JOB_LOAD, JOB_STORE, JOB_PAGES, JOB_SWITCH, JOB_TOUCH };
struct job {
    enum job_kind kind;
    int size; /* JOB_LOAD, JOB_STORE: bytes per access */
    bool instr;
    volatile void *base;
    uint32_t a, b, c; /* bytes/pages/pd0, rounds/stride/spaces, -/rounds/rounds */
    uint32_t result;
};

static void
nop_cr3(uint32_t pa)
{
    (void)pa;
}

static void
run_job(void *arg)
{
    struct job *j = arg;
    static uint32_t (*const loads[2][4])(const volatile void *, uint32_t, uint32_t) = {
        {bench_load8_plain, bench_load16_plain, bench_load32_plain, bench_load64_plain},
        {bench_load8_instr, bench_load16_instr, bench_load32_instr, bench_load64_instr}};
    static void (*const stores[2][4])(volatile void *, uint32_t, uint32_t) = {
        {bench_store8_plain, bench_store16_plain, bench_store32_plain, bench_store64_plain},
        {bench_store8_instr, bench_store16_instr, bench_store32_instr, bench_store64_instr}};
    int k = j->size == 1 ? 0 : j->size == 2 ? 1 : j->size == 4 ? 2 : 3;
    switch (j->kind) {
    case JOB_LOAD:
        j->result = loads[j->instr][k](j->base, j->a, j->b);
        break;
    case JOB_STORE:
        stores[j->instr][k](j->base, j->a, j->b);
        break;
    case JOB_PAGES:
        j->result = (j->instr ? bench_pages_instr : bench_pages_plain)(j->base, j->a, j->b, j->c);
        break;
    case JOB_SWITCH:
        if (j->instr)
            bench_switch_instr(arch_write_cr3, j->a, j->b, j->base, j->c);
        else
            bench_switch_plain(nop_cr3, j->a, j->b, j->base, j->c);
        break;
    case JOB_TOUCH:
        (j->instr ? bench_touch_instr : bench_touch_plain)(j->base, j->a);
        break;
    }
}

/* Runs the job and returns ns per unit of work. */
static double
time_job(struct job *j, double units)
{
    double t0 = now();
    if (j->instr) {
        if (!sim_run(bench_sim, run_job, j))
            die_sim("run");
    } else {
        run_job(j);
    }
    return (now() - t0) * 1e9 / units;
}

/* ---- QEMU reference figures ---- */

enum { Q_SAME, Q_PAGE16, Q_MISS, Q_SWITCH, Q_TOUCH, Q_N };
static const char *const qref_names[Q_N] = {"same", "page16", "miss", "switch", "touch"};

/* Host TSC ticks per ns (QEMU's TCG hands the guest the host's counter). */
static double
tsc_per_ns(void)
{
    struct timespec d = {0, 200 * 1000 * 1000};
    double t0 = now();
    unsigned long long c0 = __rdtsc();
    nanosleep(&d, NULL);
    unsigned long long c1 = __rdtsc();
    return (double)(c1 - c0) / ((now() - t0) * 1e9);
}

/* Boots the reference kernel `runs` times; fills q[] in ns per unit.
 * Returns NULL, or why there are no QEMU figures. */
static const char *
qemu_figures(int runs, struct fig q[Q_N])
{
#if defined(BENCH_QEMU) && defined(BENCH_QREF_ELF)
    static char why[256];
    if (access(BENCH_QEMU, X_OK) != 0)
        return "not measured (qemu-system-i386 missing)";
    double per_ns = tsc_per_ns();
    for (int r = 0; r < runs; r++) {
        char cmd[1024], line[256];
        snprintf(cmd, sizeof(cmd),
                 "'%s' -kernel '%s' -m 384M -display none -serial stdio -monitor none "
                 "-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 -accel tcg "
                 "2>/dev/null",
                 BENCH_QEMU, BENCH_QREF_ELF);
        FILE *p = popen(cmd, "r");
        if (p == NULL) {
            snprintf(why, sizeof(why), "not measured (%s)", strerror(errno));
            return why;
        }
        int seen = 0;
        while (fgets(line, sizeof(line), p) != NULL) {
            char name[32];
            unsigned long long ticks, count;
            if (sscanf(line, "qref %31s %llx %llx", name, &ticks, &count) != 3 || count == 0)
                continue;
            for (int i = 0; i < Q_N; i++)
                if (strcmp(name, qref_names[i]) == 0) {
                    fig_add(&q[i], (double)ticks / per_ns / (double)count);
                    seen++;
                }
        }
        pclose(p);
        if (seen != Q_N)
            return "not measured (the reference kernel printed no figures)";
    }
    return NULL;
#else
    (void)runs;
    (void)q;
    return "not measured (qemu-system-i386 missing)";
#endif
}

/* ---- host memory ---- */

static long
rss_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib;
}

static void
usage(void)
{
    fprintf(stderr, "usage: bench_mmu [-n RUNS]   (RUNS from %d to %d, default %d)\n",
            BENCH_MIN_RUNS, BENCH_MAX_RUNS, BENCH_MIN_RUNS);
    exit(2);
}

static void
row(const char *name, struct fig *sim, struct fig *nat, const char *unit)
{
    char a[64], b[64];
    printf("  %-28s %-28s %-28s %s\n", name, fig_str(sim, a, sizeof(a)), fig_str(nat, b, sizeof(b)),
           unit);
}

int
main(int argc, char **argv)
{
    int runs = BENCH_MIN_RUNS;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            if ((runs = bench_runs(argv[++i])) < 0)
                usage();
        } else {
            usage();
        }
    }

    /* The main machine: the hit pages, the miss pages, the switched spaces. */
    new_machine(0);
    memset(sim_phys(bench_sim, PD_PA, PAGE_SIZE), 0, PAGE_SIZE);
    paddr_t fr = FRAMES_PA;
    for (uint32_t p = 0; p < BENCH_HIT_PAGES; p++, fr += PAGE_SIZE)
        map(PD_PA, BENCH_HIT_VA + p * PAGE_SIZE, fr);
    for (uint32_t p = 0; p < BENCH_MISS_PAGES; p++, fr += PAGE_SIZE)
        map(PD_PA, BENCH_MISS_VA + p * BENCH_MISS_STRIDE, fr);
    bench_next_table = SPACES_PA + BENCH_SPACES * PAGE_SIZE;
    paddr_t sfr = bench_next_table + BENCH_SPACES * PAGE_SIZE;
    for (uint32_t k = 0; k < BENCH_SPACES; k++) {
        paddr_t pd = SPACES_PA + k * PAGE_SIZE;
        memset(sim_phys(bench_sim, pd, PAGE_SIZE), 0, PAGE_SIZE);
        map(pd, BENCH_SWITCH_VA, sfr);
        map(pd, BENCH_SWITCH_VA + PAGE_SIZE, sfr + PAGE_SIZE);
        sfr += 2 * PAGE_SIZE;
    }
    paging_on();

    size_t plain_len = (size_t)BENCH_MISS_PAGES * BENCH_MISS_STRIDE;
    uint8_t *plain = aligned_alloc(PAGE_SIZE, plain_len);
    memset(plain, 1, plain_len);
    volatile void *hit = (volatile void *)(uintptr_t)BENCH_HIT_VA;
    volatile void *miss = (volatile void *)(uintptr_t)BENCH_MISS_VA;
    volatile void *sw = (volatile void *)(uintptr_t)BENCH_SWITCH_VA;

    /* Loads and stores of each size on one page: 20M accesses a run. */
    static const int sizes[4] = {1, 2, 4, 8};
    struct fig ls_sim[2][4] = {0}, ls_nat[2][4] = {0};
    for (int st = 0; st < 2; st++)
        for (int k = 0; k < 4; k++) {
            uint32_t per_round = PAGE_SIZE / (uint32_t)sizes[k];
            uint32_t rounds = 20000000u / per_round;
            struct job ji = {
                st ? JOB_STORE : JOB_LOAD, sizes[k], true, hit, PAGE_SIZE, rounds / 10, 0, 0};
            time_job(&ji, 1); /* warm: entry cached */
            ji.b = rounds;
            struct job jn = ji;
            jn.instr = false;
            jn.base = plain;
            for (int r = 0; r < runs; r++) {
                fig_add(&ls_sim[st][k], time_job(&ji, (double)per_round * rounds));
                fig_add(&ls_nat[st][k], time_job(&jn, (double)per_round * rounds));
            }
        }

    /* The target patterns; misses counted by the model beside each. */
    struct mmu *m = sim_mmu(bench_sim);
    enum { T_SAME, T_PAGE16, T_MISS, T_SWITCH, T_TOUCH, T_N };
    struct fig tsim[T_N] = {0}, tnat[T_N] = {0};
    double misses_per[T_N] = {0};
    const uint32_t same_rounds = BENCH_SAME_LOADS / (PAGE_SIZE / 4);
    struct job jobs[T_SWITCH + 1] = {
        [T_SAME] = {JOB_LOAD, 4, true, hit, PAGE_SIZE, same_rounds, 0, 0},
        [T_PAGE16] = {JOB_PAGES, 0, true, hit, BENCH_HIT_PAGES, PAGE_SIZE, BENCH_HIT_ROUNDS, 0},
        [T_MISS] = {JOB_PAGES, 0, true, miss, BENCH_MISS_PAGES, BENCH_MISS_STRIDE,
                    BENCH_MISS_ROUNDS, 0},
        [T_SWITCH] = {JOB_SWITCH, 0, true, sw, SPACES_PA, BENCH_SPACES, BENCH_SWITCH_ROUNDS, 0},
    };
    const double units[T_SWITCH + 1] = {
        [T_SAME] = BENCH_SAME_LOADS,
        [T_PAGE16] = (double)BENCH_HIT_PAGES * BENCH_HIT_ROUNDS,
        [T_MISS] = (double)BENCH_MISS_PAGES * BENCH_MISS_ROUNDS,
        [T_SWITCH] = (double)BENCH_SPACES * BENCH_SWITCH_ROUNDS,
    };
    for (int t = T_SAME; t <= T_SWITCH; t++) {
        struct job ji = jobs[t], jn = jobs[t];
        jn.instr = false;
        jn.base = plain;
        time_job(&ji, 1);
        for (int r = 0; r < runs; r++) {
            uint64_t m0 = m->ctr.tlb_misses;
            fig_add(&tsim[t], time_job(&ji, units[t]));
            misses_per[t] = (double)(m->ctr.tlb_misses - m0) / units[t];
            fig_add(&tnat[t], time_job(&jn, units[t]));
        }
        if (t == T_SWITCH)
            mmu_write_cr3(m, PD_PA);
    }
    sim_destroy(bench_sim);

    /* First touch: a fresh machine (and fresh host memory) every run. */
    for (int r = 0; r < runs; r++) {
        new_machine(TOUCH_RAM);
        memset(sim_phys(bench_sim, PD_PA, PAGE_SIZE), 0, PAGE_SIZE);
        for (uint32_t p = 0; p < BENCH_TOUCH_PAGES; p++)
            map(PD_PA, BENCH_TOUCH_VA + p * PAGE_SIZE, TOUCH_PA + p * PAGE_SIZE);
        paging_on();
        struct job ji = {JOB_TOUCH,         0, true, (volatile void *)(uintptr_t)BENCH_TOUCH_VA,
                         BENCH_TOUCH_PAGES, 0, 0,    0};
        uint64_t m0 = sim_mmu(bench_sim)->ctr.tlb_misses;
        fig_add(&tsim[T_TOUCH], time_job(&ji, BENCH_TOUCH_PAGES));
        misses_per[T_TOUCH] = (double)(sim_mmu(bench_sim)->ctr.tlb_misses - m0) / BENCH_TOUCH_PAGES;
        sim_destroy(bench_sim);
        size_t len = (size_t)BENCH_TOUCH_PAGES * PAGE_SIZE;
        void *fresh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (fresh == MAP_FAILED) {
            perror("bench_mmu: mmap");
            return 1;
        }
        struct job jn = {JOB_TOUCH, 0, false, fresh, BENCH_TOUCH_PAGES, 0, 0, 0};
        fig_add(&tnat[T_TOUCH], time_job(&jn, BENCH_TOUCH_PAGES));
        munmap(fresh, len);
    }

    /* Host memory of a 4 GiB machine that touches 10 MiB. */
    long rss0 = rss_kib();
    new_machine(4ull << 30);
    for (uint32_t off = 0; off < (10u << 20); off += PAGE_SIZE)
        *phys32((64u << 20) + off * 37 % (3u << 30)) = 1;
    long rss1 = rss_kib();
    sim_destroy(bench_sim);
    free(plain);

    struct fig q[Q_N] = {0};
    const char *qwhy = qemu_figures(runs, q);

    char a[64], b[64], c[64];
    printf("pagesim access-path benchmark: each figure is the best of %d runs, (median-worst)\n"
           "beside it; native = the same loop compiled without instrumentation, same run.\n"
           "TLB %u entries %u-way (4 KiB pages).\n\n",
           runs, MMU_TLB4K_ENTRIES_DEFAULT, MMU_TLB4K_WAYS_DEFAULT);
    printf("One page, 4 independent accesses per iteration (native: load/store throughput)\n");
    printf("  %-28s %-28s %-28s\n", "access", "pagesim", "native");
    for (int st = 0; st < 2; st++)
        for (int k = 0; k < 4; k++) {
            char name[32];
            snprintf(name, sizeof(name), "%s %d B", st ? "store" : "load", sizes[k]);
            row(name, &ls_sim[st][k], &ls_nat[st][k], "ns/access");
        }

    static const char *const tname[T_N] = {
        "TLB hit, same page (load 4 B)", "TLB hit, 16 pages in turn",
        "TLB miss, 32 pages 1 MiB apart", "CR3 write + 2 writes, 200 sp.",
        "first touch, 64K pages"};
    static const char *const tunit[T_N] = {"ns/access", "ns/access", "ns/access", "ns/switch",
                                           "ns/page"};
    static const double target[T_N] = {1.0, 1.5, 15.0, 0, 0}; /* 0: QEMU's figure */
    static const int qmap[T_N] = {Q_SAME, Q_PAGE16, Q_MISS, Q_SWITCH, Q_TOUCH};
    printf("\nTargets (issue 10); QEMU = the same loop in bench/qref under qemu-system-i386 "
           "-accel tcg, %d boots\n",
           runs);
    printf("  %-30s %-24s %-22s %-10s %-24s %s\n", "figure", "pagesim", "native", "target", "QEMU",
           "met");
    for (int t = 0; t < T_N; t++) {
        double best = fig_best(&tsim[t]);
        char tgt[32], qs[64];
        const char *met;
        if (target[t] > 0) {
            snprintf(tgt, sizeof(tgt), "<= %.1f", target[t]);
            met = best <= target[t] ? "yes" : "NO";
        } else {
            snprintf(tgt, sizeof(tgt), "<= QEMU");
            met = qwhy != NULL ? "?" : best <= fig_best(&q[qmap[t]]) ? "yes" : "NO";
        }
        snprintf(qs, sizeof(qs), "%s", qwhy != NULL ? "-" : fig_str(&q[qmap[t]], c, sizeof(c)));
        printf("  %-30s %-24s %-22s %-10s %-24s %s\n", tname[t], fig_str(&tsim[t], a, sizeof(a)),
               fig_str(&tnat[t], b, sizeof(b)), tgt, qs, met);
        printf("  %-30s %.2f TLB misses per unit (model), %s\n", "", misses_per[t], tunit[t]);
    }
    if (qwhy != NULL)
        printf("  QEMU figure: %s\n", qwhy);
    printf("\n4 GiB machine touching 10 MiB: %ld KiB RSS added\n", rss1 - rss0);
    printf("(big-map.scn a run and compare of every scenario: build/bench/bench_scenarios .)\n");
    return 0;
}

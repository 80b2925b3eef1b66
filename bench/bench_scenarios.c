/*
 * bench_scenarios.c - scenario figures: many-processes.scn and big-map.scn
 * under every strategy (a fresh machine per run, boot included), the
 * stale-TLB detector's cost on every shipped scenario and strategy (CPU
 * time, runs with it on and off in turn; -d: this alone), and the wall
 * time of `pagesim compare` over every shipped scenario, two at a time
 * (both cores).  Every figure is the best of N runs with the median and the
 * worst beside it.  Figures only, no pass or fail.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <glob.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "bench/bench_stats.h"
#include "tools/registry.h"
#include "tools/runner.h"

#define BIG_MAP_TARGET 0.2         /* seconds a run of big-map.scn */
#define COMPARE_TARGET 1.0         /* seconds for compare of every shipped scenario */
#define DETECTOR_TARGET_PERCENT 10 /* the stale-TLB detector's cost, at most */
#define DETECTOR_BUDGET 0.5        /* seconds of runs a side, at least, for each cost */
#define DETECTOR_MAX_PAIRS 1000

extern char **environ;

/* Seconds on clock id: CLOCK_MONOTONIC for wall time, CLOCK_PROCESS_CPUTIME_ID
 * for the CPU time of this process (user and system), which what other users
 * of the machine take from it does not change. */
static double
seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Sorts v[0..n) (seconds) and writes "best (median-worst)" in buf, in
 * seconds or, with ms, milliseconds; three decimals. */
static const char *
spread(double *v, int n, bool ms, char *buf, size_t len)
{
    return bench_spread(v, n, ms ? 1e3 : 1, 3, buf, len);
}

/* Operations the executor carries out: repeat bodies counted as often as
 * they run; the repeat markers, marks and the end marker not at all. */
static uint64_t
executed_ops(const struct scenario *sc)
{
    uint64_t mult[WL_MAX_DEPTH + 1] = {1}, total = 0;
    unsigned depth = 0;
    for (uint32_t i = 0; i < sc->nops; i++) {
        const struct wl_op *o = &sc->ops[i];
        if (o->op == WL_REPEAT) {
            mult[depth + 1] = mult[depth] * o->a;
            depth++;
        } else if (o->op == WL_REPEAT_END) {
            depth--;
        } else if (o->op != WL_MARK && o->op != WL_END) {
            total += mult[depth];
        }
    }
    return total;
}

/* Starts `pagesim compare path` with its output discarded; returns the pid or -1. */
static pid_t
spawn_compare(const char *path)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)BENCH_PAGESIM, "compare", (char *)path, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, BENCH_PAGESIM, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

/* Wall time of `pagesim compare` over every path, two at a time; -1 if one failed. */
static double
compare_all(char **paths, size_t n)
{
    double t0 = seconds(CLOCK_MONOTONIC);
    size_t next = 0, running = 0;
    bool ok = true;
    while (next < n || running > 0) {
        while (running < 2 && next < n) {
            if (spawn_compare(paths[next++]) < 0)
                ok = false;
            else
                running++;
        }
        int status;
        if (wait(&status) < 0)
            break;
        running--;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            ok = false;
    }
    return ok ? seconds(CLOCK_MONOTONIC) - t0 : -1;
}

/* CPU time of one run of sc under strategy with the stale-TLB detector on
 * or off; -1 after a message if the run fails. */
static double
one_run(const struct scenario *sc, const char *strategy, bool off)
{
    struct run_options o;
    struct run_result res;
    char err[SCN_ERR_MAX];
    run_options_default(&o);
    o.strategy = strategy;
    o.stale_off = off;
    double t0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    bool ran = run_scenario(sc, &o, &res, err, sizeof(err));
    if (!ran || !res.ok) {
        fprintf(stderr, "%s %s: %s\n", sc->file, strategy, ran ? res.error : err);
        if (ran)
            run_result_free(&res);
        return -1;
    }
    double t = seconds(CLOCK_PROCESS_CPUTIME_ID) - t0;
    run_result_free(&res);
    return t;
}

/*
 * The stale-TLB detector's cost: every shipped scenario under every
 * strategy with it on and off, one run of each in turn (the order swapped
 * every pair) so that load changes hit both alike.  The cost is judged on
 * the best runs; the median's cost is beside it.  False after a message if
 * a run failed.
 */
static bool
detector_cost(const char *top, int runs)
{
    char pattern[512];
    glob_t g;
    snprintf(pattern, sizeof(pattern), "%s/scenarios/*.scn", top);
    if (glob(pattern, 0, NULL, &g) != 0)
        return false;
    static double on[DETECTOR_MAX_PAIRS], off[DETECTOR_MAX_PAIRS], ratio[DETECTOR_MAX_PAIRS];
    printf("\nstale-TLB detector cost (boot included): runs on and off in turn, at least %d "
           "pairs and %.1f s a side;\nCPU ms a run (user and system): best (median-worst); "
           "cost: best on against best off, "
           "[median of the pairs' on/off]; target <= +%d%%\n",
           runs, DETECTOR_BUDGET, DETECTOR_TARGET_PERCENT);
    printf("  %-19s %-12s %5s %-27s %-27s %7s %9s\n", "scenario", "strategy", "pairs", "on (ms)",
           "off (ms)", "cost", "[median]");
    double worst = 0, mworst = 0;
    for (size_t f = 0; f < g.gl_pathc; f++) {
        struct scenario sc;
        char err[SCN_ERR_MAX];
        if (!scn_load(g.gl_pathv[f], &sc, err, sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            globfree(&g);
            return false;
        }
        struct reg_strategy rs;
        for (unsigned k = 0; reg_strategy_at(k, &rs); k++) {
            /* Pairs until each side has run DETECTOR_BUDGET seconds (a
             * 1 ms run gets hundreds, so a slow moment of the machine hits
             * a few of them, not the best), at least runs. */
            int pairs = 0;
            double spent = 0;
            while (pairs < DETECTOR_MAX_PAIRS && (pairs < runs || spent < DETECTOR_BUDGET)) {
                bool off_first = pairs & 1;
                double a = one_run(&sc, rs.name, off_first);
                double b = a < 0 ? -1 : one_run(&sc, rs.name, !off_first);
                if (b < 0) {
                    scn_free(&sc);
                    globfree(&g);
                    return false;
                }
                on[pairs] = off_first ? b : a;
                off[pairs] = off_first ? a : b;
                ratio[pairs] = on[pairs] / off[pairs];
                spent += off[pairs];
                pairs++;
            }
            char son[64], soff[64];
            spread(on, pairs, true, son, sizeof(son));
            spread(off, pairs, true, soff, sizeof(soff));
            bench_sort(ratio, pairs);
            double cost = 100.0 * (on[0] - off[0]) / off[0];
            double mcost = 100.0 * (ratio[pairs / 2] - 1);
            worst = cost > worst ? cost : worst;
            mworst = mcost > mworst ? mcost : mworst;
            const char *base = strrchr(g.gl_pathv[f], '/');
            printf("  %-19s %-12s %5d %-27s %-27s %+6.1f%% [%+6.1f%%]\n",
                   base ? base + 1 : g.gl_pathv[f], rs.name, pairs, son, soff, cost, mcost);
        }
        scn_free(&sc);
    }
    printf("  largest cost: %+.1f%% best against best, %+.1f%% median of the pairs\n", worst,
           mworst);
    globfree(&g);
    return true;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: bench_scenarios [-n RUNS] [-d] [TOP]   (RUNS from %d to %d, default %d; "
            "-d: the stale-TLB detector's cost only; TOP holds scenarios/, default .)\n",
            BENCH_MIN_RUNS, BENCH_MAX_RUNS, BENCH_MIN_RUNS);
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *top = ".";
    int runs = BENCH_MIN_RUNS;
    bool detector_only = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-d") == 0) {
            detector_only = true;
        } else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            if ((runs = bench_runs(argv[++i])) < 0)
                usage();
        } else if (argv[i][0] == '-' || i != argc - 1) {
            usage();
        } else {
            top = argv[i];
        }
    }
    if (detector_only)
        return detector_cost(top, runs) ? 0 : 1;
    static const char *const files[] = {"many-processes.scn", "big-map.scn"};
    printf("pagesim scenario benchmark: fresh machine per run, boot included; seconds are the\n"
           "best of %d runs, (median-worst) beside it\n",
           runs);
    printf("  %-20s %-13s %8s %-26s %12s %12s\n", "scenario", "strategy", "ops", "seconds a run",
           "ops/s", "accesses/s");
    for (size_t f = 0; f < 2; f++) {
        char path[512], err[SCN_ERR_MAX];
        struct scenario sc;
        snprintf(path, sizeof(path), "%s/scenarios/%s", top, files[f]);
        if (!scn_load(path, &sc, err, sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        uint64_t ops = executed_ops(&sc);
        struct reg_strategy rs;
        for (unsigned k = 0; reg_strategy_at(k, &rs); k++) {
            double t[BENCH_MAX_RUNS];
            uint64_t accesses = 0;
            for (int r = 0; r < runs; r++) {
                struct run_options o;
                struct run_result res;
                run_options_default(&o);
                o.strategy = rs.name;
                double t0 = seconds(CLOCK_MONOTONIC);
                bool ran = run_scenario(&sc, &o, &res, err, sizeof(err));
                if (!ran || !res.ok) {
                    fprintf(stderr, "%s %s: %s\n", files[f], rs.name, ran ? res.error : err);
                    return 1;
                }
                t[r] = seconds(CLOCK_MONOTONIC) - t0;
                accesses = res.final.v[CTR_ACCESSES];
                run_result_free(&res);
            }
            char s[64];
            spread(t, runs, false, s, sizeof(s));
            printf("  %-20s %-13s %8llu %-26s %12.0f %12.0f\n", files[f], rs.name,
                   (unsigned long long)ops, s, (double)ops / t[0], (double)accesses / t[0]);
        }
        scn_free(&sc);
    }
    printf("  target: big-map.scn <= %.1f s a run (every strategy)\n", BIG_MAP_TARGET);
    if (!detector_cost(top, runs))
        return 1;

    char pattern[512];
    glob_t g;
    snprintf(pattern, sizeof(pattern), "%s/scenarios/*.scn", top);
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        fprintf(stderr, "bench_scenarios: no scenarios in %s/scenarios\n", top);
        return 1;
    }
    double t[BENCH_MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        t[r] = compare_all(g.gl_pathv, g.gl_pathc);
        if (t[r] < 0) {
            fprintf(stderr, "bench_scenarios: pagesim compare failed on a shipped scenario\n");
            return 1;
        }
    }
    char s[64];
    printf("\npagesim compare of every shipped scenario (%zu files, two at a time): %s s, "
           "target <= %.1f s\n",
           g.gl_pathc, spread(t, runs, false, s, sizeof(s)), COMPARE_TARGET);
    globfree(&g);
    return 0;
}

/*
 * bench_scenarios.c - scenario operations per second: many-processes.scn
 * and big-map.scn under every strategy, each run on a fresh machine with
 * boot included.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tools/registry.h"
#include "tools/runner.h"

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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

int
main(int argc, char **argv)
{
    const char *top = argc > 1 ? argv[1] : ".";
    static const char *const files[] = {"many-processes.scn", "big-map.scn"};
    printf("pagesim scenario benchmark (fresh machine per run, boot included)\n");
    printf("  %-20s %-13s %8s %10s %12s %12s\n", "scenario", "strategy", "ops", "seconds", "ops/s",
           "accesses/s");
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
            struct run_options o;
            struct run_result r;
            run_options_default(&o);
            o.strategy = rs.name;
            double t0 = now();
            if (!run_scenario(&sc, &o, &r, err, sizeof(err)) || !r.ok) {
                fprintf(stderr, "%s %s: %s\n", files[f], rs.name, r.ok ? err : r.error);
                return 1;
            }
            double dt = now() - t0;
            printf("  %-20s %-13s %8llu %10.3f %12.0f %12.0f\n", files[f], rs.name,
                   (unsigned long long)ops, dt, (double)ops / dt,
                   (double)r.final.v[CTR_ACCESSES] / dt);
            run_result_free(&r);
        }
        scn_free(&sc);
    }
    return 0;
}

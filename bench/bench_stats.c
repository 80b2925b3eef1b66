/*
 * bench_stats.c - the benchmarks' figures (bench_stats.h).
 */
#include "bench/bench_stats.h"

#include <stdio.h>
#include <stdlib.h>

int
bench_runs(const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);
    return *end == '\0' && v >= BENCH_MIN_RUNS && v <= BENCH_MAX_RUNS ? (int)v : -1;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void
bench_sort(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
}

const char *
bench_spread(double *v, int n, double scale, int prec, char *buf, size_t len)
{
    if (n == 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    bench_sort(v, n);
    if (prec < 0)
        prec = v[n - 1] * scale >= 1000 ? 0 : 2;
    snprintf(buf, len, "%.*f (%.*f-%.*f)", prec, v[0] * scale, prec, v[n / 2] * scale, prec,
             v[n - 1] * scale);
    return buf;
}

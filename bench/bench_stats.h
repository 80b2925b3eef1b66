/*
 * bench_stats.h - what the benchmarks share to report their figures: the
 * limit and parsing of -n RUNS, and "best (median-worst)" of samples.
 */
#ifndef PAGESIM_BENCH_STATS_H
#define PAGESIM_BENCH_STATS_H

#include <stddef.h>

/* Runs a benchmark takes with -n: from BENCH_MIN_RUNS to BENCH_MAX_RUNS. */
#define BENCH_MIN_RUNS 5
#define BENCH_MAX_RUNS 100

/* The RUNS of `-n RUNS` in arg, -1 if it is not a number in range. */
int bench_runs(const char *arg);

/* Orders v[0..n) from smallest to largest. */
void bench_sort(double *v, int n);

/* Sorts v[0..n) and writes "best (median-worst)" of v times scale into buf
 * with prec decimals (prec < 0: 0 if the worst is 1000 or more, else 2);
 * "-" if n is 0.  Returns buf. */
const char *bench_spread(double *v, int n, double scale, int prec, char *buf, size_t len);

#endif

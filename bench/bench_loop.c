/*
 * bench_loop.c - the access loops the benchmark times, written as kernel
 * code.  Built twice: instrumented (every access through the MMU model) and
 * plain (native loads and stores), with BENCH_SUFFIX naming each copy.
 */
#include <stdint.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

/* Sums `iters` words cycling through `words` words at base. */
uint32_t
CAT(bench_sum_, BENCH_SUFFIX)(const volatile uint32_t *base, uint32_t words, uint32_t iters)
{
    uint32_t sum = 0, i = 0;
    for (uint32_t n = 0; n < iters; n++) {
        sum += base[i];
        if (++i == words)
            i = 0;
    }
    return sum;
}

/* Reads one word per page over `pages` pages, `rounds` times. */
uint32_t
CAT(bench_pages_, BENCH_SUFFIX)(const volatile uint32_t *base, uint32_t pages, uint32_t rounds)
{
    uint32_t sum = 0;
    for (uint32_t r = 0; r < rounds; r++)
        for (uint32_t p = 0; p < pages; p++)
            sum += base[p * 1024u];
    return sum;
}

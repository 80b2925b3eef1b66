/*
 * bench_loop.c - the access loops the benchmarks time, written as kernel
 * code.  Built three times from this one file: instrumented (every access
 * through the MMU model), plain (native loads and stores on the host) and
 * into the QEMU reference kernel (bench/qref/), with BENCH_SUFFIX naming
 * each copy.  So the simulator, its native baseline and QEMU all run the
 * same access pattern compiled from the same source.
 */
#include <stdint.h>

#include "bench/bench_loop.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

/*
 * Load and store loops over one page, four independent accesses per
 * iteration (separate accumulators) so that the plain copy is bound by the
 * core's load or store throughput, not by a chain of adds.  `bytes` is a
 * multiple of 4 elements; the page is walked `rounds` times.
 */
#define LOAD_LOOP(bits)                                                                            \
    uint32_t CAT(CAT(bench_load, bits), CAT(_, BENCH_SUFFIX))(const volatile void *base,           \
                                                              uint32_t bytes, uint32_t rounds)     \
    {                                                                                              \
        const volatile uint##bits##_t *p = base;                                                   \
        const uint32_t n = bytes / (bits / 8);                                                     \
        uint##bits##_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                             \
        for (uint32_t r = 0; r < rounds; r++)                                                      \
            for (uint32_t i = 0; i < n; i += 4) {                                                  \
                s0 += p[i];                                                                        \
                s1 += p[i + 1];                                                                    \
                s2 += p[i + 2];                                                                    \
                s3 += p[i + 3];                                                                    \
            }                                                                                      \
        return (uint32_t)(s0 + s1 + s2 + s3);                                                      \
    }
#define STORE_LOOP(bits)                                                                           \
    void CAT(CAT(bench_store, bits), CAT(_, BENCH_SUFFIX))(volatile void *base, uint32_t bytes,    \
                                                           uint32_t rounds)                        \
    {                                                                                              \
        volatile uint##bits##_t *p = base;                                                         \
        const uint32_t n = bytes / (bits / 8);                                                     \
        for (uint32_t r = 0; r < rounds; r++)                                                      \
            for (uint32_t i = 0; i < n; i += 4) {                                                  \
                p[i] = (uint##bits##_t)r;                                                          \
                p[i + 1] = (uint##bits##_t)r;                                                      \
                p[i + 2] = (uint##bits##_t)r;                                                      \
                p[i + 3] = (uint##bits##_t)r;                                                      \
            }                                                                                      \
    }
LOAD_LOOP(8)
LOAD_LOOP(16)
LOAD_LOOP(32)
LOAD_LOOP(64)
STORE_LOOP(8)
STORE_LOOP(16)
STORE_LOOP(32)
STORE_LOOP(64)

/* Reads one word of each of `pages` pages `stride` bytes apart, `rounds` times. */
uint32_t
CAT(bench_pages_, BENCH_SUFFIX)(const volatile void *base, uint32_t pages, uint32_t stride,
                                uint32_t rounds)
{
    const volatile uint8_t *b = base;
    uint32_t sum = 0;
    for (uint32_t r = 0; r < rounds; r++)
        for (uint32_t p = 0; p < pages; p++)
            sum += *(const volatile uint32_t *)(b + p * stride);
    return sum;
}

/* For each of `rounds` rounds and each of `spaces` directories (one page
 * apart from pd0): loads CR3 through set_cr3, then writes one word in each
 * of the two pages at va. */
void
CAT(bench_switch_, BENCH_SUFFIX)(void (*set_cr3)(uint32_t), uint32_t pd0, uint32_t spaces,
                                 volatile void *va, uint32_t rounds)
{
    volatile uint32_t *w = va;
    for (uint32_t r = 0; r < rounds; r++)
        for (uint32_t k = 0; k < spaces; k++) {
            set_cr3(pd0 + k * BENCH_PAGE);
            w[0] = r;
            w[BENCH_PAGE / 4] = r;
        }
}

/* Writes one word in each of `pages` consecutive pages. */
void
CAT(bench_touch_, BENCH_SUFFIX)(volatile void *base, uint32_t pages)
{
    volatile uint8_t *b = base;
    for (uint32_t p = 0; p < pages; p++)
        *(volatile uint32_t *)(b + p * BENCH_PAGE) = p;
}

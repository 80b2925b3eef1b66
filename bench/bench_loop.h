/*
 * bench_loop.h - the access patterns every benchmark copy runs (the
 * simulator, its native baseline and the QEMU reference kernel): the loops
 * of bench_loop.c and the one set of sizes and addresses they run with.
 */
#ifndef PAGESIM_BENCH_LOOP_H
#define PAGESIM_BENCH_LOOP_H

#include <stdint.h>

#define BENCH_PAGE 4096u

/* Virtual layout shared by the simulator bench and the QEMU kernel. */
#define BENCH_HIT_VA 0x40000000u /* same-page and 16-page loops */
#define BENCH_MISS_VA                                                                              \
    0x50000000u /* the miss loop: BENCH_MISS_PAGES pages BENCH_MISS_STRIDE apart */
#define BENCH_SWITCH_VA 0x60000000u /* two pages in every switched space */
#define BENCH_TOUCH_VA 0x80000000u  /* first touch: BENCH_TOUCH_PAGES fresh pages */

/* The patterns. */
#define BENCH_SAME_LOADS 100000000u /* same page: loads of 4 bytes a run */
#define BENCH_HIT_PAGES 16u         /* another page: round robin over 16 pages */
#define BENCH_HIT_ROUNDS 1000000u
/* Misses: 32 pages 1 MiB apart.  In the model every page falls into the
 * same 4-way set, in QEMU's direct-mapped softmmu TLB (256 entries unless
 * a flush resized it, plus an 8-entry victim TLB) into the same slot: every
 * access is a miss and a page walk in both. */
#define BENCH_MISS_PAGES 32u
#define BENCH_MISS_STRIDE (1u << 20)
#define BENCH_MISS_ROUNDS 30000u
#define BENCH_SPACES 200u /* CR3 switch + 2 writes, over 200 spaces */
#define BENCH_SWITCH_ROUNDS 100u
#define BENCH_TOUCH_PAGES 65536u /* first touch of 256 MiB */

#define BENCH_LOOPS(sfx)                                                                           \
    uint32_t bench_load8_##sfx(const volatile void *base, uint32_t bytes, uint32_t rounds);        \
    uint32_t bench_load16_##sfx(const volatile void *base, uint32_t bytes, uint32_t rounds);       \
    uint32_t bench_load32_##sfx(const volatile void *base, uint32_t bytes, uint32_t rounds);       \
    uint32_t bench_load64_##sfx(const volatile void *base, uint32_t bytes, uint32_t rounds);       \
    void bench_store8_##sfx(volatile void *base, uint32_t bytes, uint32_t rounds);                 \
    void bench_store16_##sfx(volatile void *base, uint32_t bytes, uint32_t rounds);                \
    void bench_store32_##sfx(volatile void *base, uint32_t bytes, uint32_t rounds);                \
    void bench_store64_##sfx(volatile void *base, uint32_t bytes, uint32_t rounds);                \
    uint32_t bench_pages_##sfx(const volatile void *base, uint32_t pages, uint32_t stride,         \
                               uint32_t rounds);                                                   \
    void bench_switch_##sfx(void (*set_cr3)(uint32_t), uint32_t pd0, uint32_t spaces,              \
                            volatile void *va, uint32_t rounds);                                   \
    void bench_touch_##sfx(volatile void *base, uint32_t pages);

#ifdef BENCH_SUFFIX
#define BENCH_LOOPS_OF(sfx) BENCH_LOOPS(sfx)
BENCH_LOOPS_OF(BENCH_SUFFIX)
#endif

#endif

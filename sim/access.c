/*
 * access.c - the hit path of rewritten kernel accesses (sim/access.h),
 * compiled to bitcode and inlined into every kernel object.  Counting is
 * the MMU's own fast path: one access and one TLB hit of its kind, no LRU
 * change (the entry is already the most recently used).
 */
#define _GNU_SOURCE
#include "sim/access.h"

#include "sim/sim_internal.h"

#define PS_HIT(n, type, kind, body, miss)                                                          \
    struct sim *s = sim_current;                                                                   \
    const struct mmu *m = s->cpu;                                                                  \
    uint64_t off = (uint64_t)a - m->fast_base;                                                     \
    if (__builtin_expect(off <= PAGE_SIZE - (n) && ((m->fast_allow >> (kind)) & 1u), 1)) {         \
        s->hot_hits[kind][(a >> 2) & (SIM_HOT_STRIPES - 1)]++;                                     \
        if (__builtin_expect(a >= s->region_floor, 0))                                             \
            sim_count_region(s, (vaddr_t)a);                                                       \
        body;                                                                                      \
    }                                                                                              \
    miss;

#define PS_DEFINE(n, type)                                                                         \
    __attribute__((always_inline)) type __ps_load##n(uintptr_t a)                                  \
    {                                                                                              \
        type v;                                                                                    \
        PS_HIT(n, type, MMU_SUP_READ, __builtin_memcpy(&v, m->fast_host + off, n);                 \
               return v, return __ps_load##n##_miss(a))                                            \
    }                                                                                              \
    __attribute__((always_inline)) void __ps_store##n(uintptr_t a, type v)                         \
    {                                                                                              \
        PS_HIT(n, type, MMU_SUP_WRITE, __builtin_memcpy(m->fast_host + off, &v, n);                \
               return, __ps_store##n##_miss(a, v))                                                 \
    }
PS_SIZES(PS_DEFINE)

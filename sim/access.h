/*
 * access.h - the runtime that kernel loads and stores are rewritten into
 * (sim/rewrite/ps_rewrite.c).  The hit path (sim/access.c) is inlined into
 * kernel code: an access that lies in the page of the current CPU's most
 * recent TLB hit, with a kind that entry allows, is counted as that hit and
 * carried out on simulated RAM through the entry's host pointer.  Anything
 * else calls the miss path (sim/hooks.c): host memory (above 4 GiB), a TLB
 * lookup or walk with its faults, a page-crossing access.
 *
 * Every function takes the address as the kernel's pointer value.  The
 * size-N functions move N bytes; __ps_read/__ps_write move n bytes as one
 * access of n bytes; __ps_ptr returns a host pointer to the n bytes at a
 * (one translation, kind an enum mmu_access), for atomics, which may not
 * cross a page.
 */
#ifndef PAGESIM_SIM_ACCESS_H
#define PAGESIM_SIM_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#define PS_SIZES(X) X(1, uint8_t) X(2, uint16_t) X(4, uint32_t) X(8, uint64_t)

#define PS_DECLARE(n, type)                                                                        \
    type __ps_load##n(uintptr_t a);                                                                \
    void __ps_store##n(uintptr_t a, type v);                                                       \
    type __ps_load##n##_miss(uintptr_t a);                                                         \
    void __ps_store##n##_miss(uintptr_t a, type v);
PS_SIZES(PS_DECLARE)
#undef PS_DECLARE

void __ps_read(uintptr_t a, void *dst, size_t n);
void __ps_write(uintptr_t a, const void *src, size_t n);
void *__ps_ptr(uintptr_t a, size_t n, int kind);

#endif

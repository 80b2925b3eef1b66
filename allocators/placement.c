/*
 * placement.c - the boot-time bump allocator (placement.h): one cursor
 * moving up through [start, limit) of the early mapping until sealed.
 */
#include "allocators/placement.h"

#include <stddef.h>

#include "kernel/klib.h"
#include "kernel/layout.h"

static paddr_t pl_start, pl_next, pl_limit;
static bool pl_ready, pl_sealed, pl_warned;

void
placement_init(paddr_t start, paddr_t limit)
{
    if (limit > EARLY_MAP_SIZE)
        limit = EARLY_MAP_SIZE;
    pl_start = start;
    pl_next = start;
    pl_limit = limit > start ? limit : start;
    pl_ready = true;
    pl_sealed = false;
    pl_warned = false;
}

void *
placement_alloc(uint32_t size, uint32_t align, paddr_t *pa)
{
    if (pl_sealed) {
        if (!pl_warned) {
            kprintf("placement: sealed, refusing %u bytes (the PMM owns memory now)", size);
            pl_warned = true;
        }
        return NULL;
    }
    if (!pl_ready || size == 0 || align == 0 || (align & (align - 1)) != 0)
        return NULL;
    /* 64-bit sums: near the top of the 32-bit space they must not wrap. */
    uint64_t at = ((uint64_t)pl_next + align - 1) & ~(uint64_t)(align - 1);
    if (at + size > pl_limit)
        return NULL;
    pl_next = (paddr_t)(at + size);
    void *va = (void *)(uintptr_t)P2V((paddr_t)at);
    memset(va, 0, size);
    if (pa != NULL)
        *pa = (paddr_t)at;
    return va;
}

paddr_t
placement_seal(void)
{
    pl_sealed = true;
    return PAGE_ROUND_UP(pl_next);
}

bool
placement_sealed(void)
{
    return pl_sealed;
}

uint32_t
placement_used(void)
{
    return pl_next - pl_start;
}

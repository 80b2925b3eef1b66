/*
 * placement.h - boot-time bump allocator over the early mapping.  It hands
 * out memory until the physical memory manager takes over, then refuses.
 */
#ifndef PAGESIM_PLACEMENT_H
#define PAGESIM_PLACEMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/x86.h"

/* Memory [start, limit) (physical, inside the early mapping; limit is
 * clamped to EARLY_MAP_SIZE) is free; forgets any earlier state. */
void placement_init(paddr_t start, paddr_t limit);

/*
 * Returns the kernel virtual address of size bytes aligned to align (a power
 * of two; PAGE_SIZE for page-aligned memory), zero-filled, and its physical
 * address in *pa if pa is not NULL.  Returns NULL if the allocator is sealed
 * (logged once), not initialised, size is 0, align is not a power of two or
 * the memory is exhausted.
 */
void *placement_alloc(uint32_t size, uint32_t align, paddr_t *pa);

/* Hands over to the PMM: returns the first physical address never handed
 * out (page-rounded); later placement_alloc calls return NULL. */
paddr_t placement_seal(void);

/* Returns true once placement_seal has run. */
bool placement_sealed(void);

/* Returns the bytes handed out since placement_init, alignment included. */
uint32_t placement_used(void);

#endif

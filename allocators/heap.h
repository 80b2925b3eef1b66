/*
 * heap.h - the general kernel heap: blocks with headers, address-ordered
 * first fit over an explicit list of the free ones, splitting and
 * coalescing, growing by mapping fresh frames at its end.  kmalloc_aligned
 * returns page-aligned memory that plain kfree frees.
 */
#ifndef PAGESIM_HEAP_H
#define PAGESIM_HEAP_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/x86.h"

/* Maps npages fresh frames at va (kernel half).  Returns false if out of
 * frames.  Provided by the paging strategy. */
typedef bool (*heap_grow_fn)(vaddr_t va, uint32_t npages);

enum heap_status {
    HEAP_OK = 0,
    HEAP_NO_MEMORY,   /* no frames, or the heap's virtual range is full */
    HEAP_BAD_POINTER, /* not an address this heap handed out */
    HEAP_DOUBLE_FREE,
};

/* Returns a short constant description of st. */
const char *heap_strerror(enum heap_status st);

/* Block geometry of the kernel heap (heap.c): every block starts with a
 * header; payloads are HEAP_ALIGN-aligned multiples of HEAP_ALIGN. */
#define HEAP_HEADER_SIZE 16u
#define HEAP_ALIGN 16u
#define HEAP_MIN_PAYLOAD 16u /* a free block smaller than this is wasted */

/*
 * Kept up to date by every call (reading them touches no heap memory).
 * For the kernel heap used + overhead + wasted + free == mapped.
 */
struct heap_stats {
    uint32_t used_bytes;     /* payload bytes of live blocks (requests rounded up) */
    uint32_t overhead_bytes; /* headers of live blocks */
    uint32_t wasted_bytes;   /* free blocks too small to use, headers included */
    uint32_t free_bytes;     /* usable free blocks, headers included */
    uint32_t mapped_bytes;   /* virtual range backed by frames */
    uint32_t free_blocks;    /* holes, wasted ones included */
    uint32_t allocs, frees, aligned_allocs;
    uint32_t errors; /* calls that failed */
};

/* Manages [start, end) (page-rounded inward) with no memory mapped yet;
 * forgets any earlier state. */
void heap_init(vaddr_t start, vaddr_t end, heap_grow_fn grow);

/* Returns size bytes, HEAP_ALIGN-aligned; NULL if size is 0 or out of memory. */
void *kmalloc(uint32_t size);

/* Returns size page-aligned bytes; NULL if size is 0 or out of memory. */
void *kmalloc_aligned(uint32_t size);

/* Frees p (NULL is a no-op); returns why not if p is not a live block. */
enum heap_status kfree(void *p);

/* Fills st with the heap's counters. */
void heap_stats(struct heap_stats *st);

/* Walks every block and returns true if the headers are intact, the list
 * of blocks is linked both ways, no two free blocks touch, the free list
 * holds exactly the free blocks of HEAP_MIN_PAYLOAD or more, in address
 * order and linked both ways, and the counters match. */
bool heap_check(void);

#endif

/*
 * heap.h - the general kernel heap: first fit over a list of blocks with
 * headers, splitting and coalescing, growing by mapping fresh frames at its
 * end.  kmalloc_aligned returns page-aligned memory that plain kfree frees.
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
    HEAP_NO_MEMORY,  /* no frames, or the heap's virtual range is full */
    HEAP_BAD_POINTER, /* not an address this heap handed out */
    HEAP_DOUBLE_FREE,
};
const char *heap_strerror(enum heap_status st);

struct heap_stats {
    uint32_t used_bytes;     /* payload bytes of live allocations */
    uint32_t overhead_bytes; /* headers of live blocks */
    uint32_t wasted_bytes;   /* alignment holes: free but too small to use */
    uint32_t free_bytes;     /* in free blocks */
    uint32_t mapped_bytes;   /* virtual range backed by frames */
    uint32_t allocs, frees, aligned_allocs, errors;
};

void heap_init(vaddr_t start, vaddr_t end, heap_grow_fn grow);
void *kmalloc(uint32_t size);           /* NULL if out of memory */
void *kmalloc_aligned(uint32_t size);   /* page-aligned; NULL if out of memory */
enum heap_status kfree(void *p);
void heap_stats(struct heap_stats *st);

#endif

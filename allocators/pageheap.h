/*
 * pageheap.h - a heap of single pages: every allocation is one page-aligned
 * page, with no header; freed pages are reused before the heap grows.
 */
#ifndef PAGESIM_PAGEHEAP_H
#define PAGESIM_PAGEHEAP_H

#include <stdbool.h>
#include <stdint.h>

#include "allocators/heap.h"

/*
 * Manages [start, end) (page-rounded inward) with no memory mapped yet; its
 * bitmap, one bit per page of the whole range, comes from placement_alloc.
 * Returns false if that memory is not available (the heap then refuses).
 */
bool pageheap_init(vaddr_t start, vaddr_t end, heap_grow_fn grow);

/* Returns the lowest free mapped page, else maps one more; NULL if out of memory. */
void *pageheap_alloc(void);

/* Frees the page at p (NULL is a no-op); returns why not if p is not a live
 * page of this heap. */
enum heap_status pageheap_free(void *p);

/* Fills st: used and free bytes in whole pages (free_blocks counts free
 * mapped pages); no headers, so no overhead or waste. */
void pageheap_stats(struct heap_stats *st);

#endif

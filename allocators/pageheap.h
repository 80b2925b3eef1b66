/*
 * pageheap.h - a heap of single pages: every allocation is one page-aligned
 * page, with no header; freed pages are reused before the heap grows.
 */
#ifndef PAGESIM_PAGEHEAP_H
#define PAGESIM_PAGEHEAP_H

#include <stdint.h>

#include "allocators/heap.h"

void pageheap_init(vaddr_t start, vaddr_t end, heap_grow_fn grow);
void *pageheap_alloc(void); /* NULL if out of memory */
enum heap_status pageheap_free(void *p);
void pageheap_stats(struct heap_stats *st);

#endif

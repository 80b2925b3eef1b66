/*
 * pageheap.c - the page-only heap (pageheap.h): a bitmap of live pages over
 * the whole range, the mapped part growing a page at a time from the start.
 */
#include "allocators/pageheap.h"

#include <stddef.h>

#include "allocators/placement.h"
#include "kernel/klib.h"

static uint32_t *ph_live; /* bit i: page start + i * PAGE_SIZE is handed out */
static vaddr_t ph_start, ph_end;
static vaddr_t ph_top;   /* [start, top) is mapped */
static uint32_t ph_hint; /* no free mapped page below this index */
static heap_grow_fn ph_grow;
static struct heap_stats ph_st;

static inline bool
ph_test(uint32_t i)
{
    return (ph_live[i / 32] >> (i % 32)) & 1u;
}

bool
pageheap_init(vaddr_t start, vaddr_t end, heap_grow_fn grow)
{
    ph_live = NULL;
    ph_start = PAGE_ROUND_UP(start);
    ph_end = PAGE_ROUND_DOWN(end);
    if (ph_end < ph_start || ph_start < start)
        ph_end = ph_start;
    ph_top = ph_start;
    ph_hint = 0;
    ph_grow = grow;
    memset(&ph_st, 0, sizeof(ph_st));
    uint32_t npages = (ph_end - ph_start) / PAGE_SIZE;
    if (grow == NULL || npages == 0)
        return false;
    ph_live = placement_alloc((npages + 31) / 32 * 4, 4, NULL);
    return ph_live != NULL;
}

/* The lowest page index at or after from, below the mapped top, whose bit is
 * clear; returns the mapped page count if there is none. */
static uint32_t
ph_find_free(uint32_t from)
{
    uint32_t mapped = (ph_top - ph_start) / PAGE_SIZE;
    uint32_t w = from / 32;
    uint32_t mask = ~0u << (from % 32);
    for (; w * 32 < mapped; w++, mask = ~0u) {
        uint32_t holes = ~ph_live[w] & mask;
        if (holes != 0) {
            uint32_t i = w * 32 + (uint32_t)__builtin_ctz(holes);
            return i < mapped ? i : mapped;
        }
    }
    return mapped;
}

void *
pageheap_alloc(void)
{
    if (ph_live == NULL) {
        ph_st.errors++;
        return NULL;
    }
    uint32_t i = ph_find_free(ph_hint);
    if (ph_start + i * PAGE_SIZE == ph_top) {
        if (ph_top == ph_end || !ph_grow(ph_top, 1)) {
            ph_hint = i;
            ph_st.errors++;
            return NULL;
        }
        ph_top += PAGE_SIZE;
        ph_st.mapped_bytes += PAGE_SIZE;
        ph_st.free_bytes += PAGE_SIZE;
        ph_st.free_blocks++;
    }
    ph_live[i / 32] |= 1u << (i % 32);
    ph_hint = i + 1;
    ph_st.free_bytes -= PAGE_SIZE;
    ph_st.free_blocks--;
    ph_st.used_bytes += PAGE_SIZE;
    ph_st.allocs++;
    return (void *)(uintptr_t)(ph_start + i * PAGE_SIZE);
}

enum heap_status
pageheap_free(void *p)
{
    if (p == NULL)
        return HEAP_OK;
    vaddr_t va = (vaddr_t)(uintptr_t)p;
    enum heap_status st = HEAP_OK;
    if (ph_live == NULL || va < ph_start || va >= ph_top || PGOFF(va) != 0)
        st = HEAP_BAD_POINTER;
    else if (!ph_test((va - ph_start) / PAGE_SIZE))
        st = HEAP_DOUBLE_FREE;
    if (st != HEAP_OK) {
        ph_st.errors++;
        return st;
    }
    uint32_t i = (va - ph_start) / PAGE_SIZE;
    ph_live[i / 32] &= ~(1u << (i % 32));
    if (i < ph_hint)
        ph_hint = i;
    ph_st.used_bytes -= PAGE_SIZE;
    ph_st.free_bytes += PAGE_SIZE;
    ph_st.free_blocks++;
    ph_st.frees++;
    return HEAP_OK;
}

void
pageheap_stats(struct heap_stats *st)
{
    *st = ph_st;
}

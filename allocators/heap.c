/*
 * heap.c - the kernel heap (heap.h): address-ordered first fit over blocks
 * that tile [start, top), each led by a header; grows at top through grow.
 *
 *   start                                                        top    end
 *   | hdr | payload | hdr | free ...... | hdr | payload |          |      |
 *     <----- hb_size ---->                                  unmapped
 *
 * A block's size is the payload after its header, so the next block begins
 * at header + HEAP_HEADER_SIZE + hb_size; hb_prev links back, for merging
 * with the block below.  Headers hold addresses as 32-bit values so their
 * layout is the same on every target.  Freed blocks merge at once with free
 * neighbours, so no two free blocks touch.  A merged-away header keeps its
 * magic and free flag: freeing its address again reads as a double free.
 */
#include "allocators/heap.h"

#include <stddef.h>

#include "kernel/klib.h"

#define HEAP_MAGIC 0x4B48504Bu /* "KPHK" */
#define HB_FREE 0x1u

struct heap_block {
    uint32_t hb_magic; /* HEAP_MAGIC */
    uint32_t hb_flags; /* HB_FREE */
    uint32_t hb_size;  /* payload bytes up to the next block */
    uint32_t hb_prev;  /* header of the block below; 0 for the first */
};
_Static_assert(sizeof(struct heap_block) == HEAP_HEADER_SIZE, "header layout");

#define HDR HEAP_HEADER_SIZE

static vaddr_t hp_start, hp_end;
static vaddr_t hp_top;  /* end of the mapped part: blocks tile [start, top) */
static vaddr_t hp_last; /* header of the last block, if top > start */
static heap_grow_fn hp_grow;
static bool hp_ready;
static struct heap_stats hp_st;

static inline struct heap_block *
hb(vaddr_t h)
{
    return (struct heap_block *)(uintptr_t)h;
}

static inline vaddr_t
hb_next(vaddr_t h)
{
    return h + HDR + hb(h)->hb_size;
}

static inline bool
hb_is_free(vaddr_t h)
{
    return (hb(h)->hb_flags & HB_FREE) != 0;
}

static void
hb_write(vaddr_t h, uint32_t flags, uint32_t size, vaddr_t prev)
{
    struct heap_block *b = hb(h);
    b->hb_magic = HEAP_MAGIC;
    b->hb_flags = flags;
    b->hb_size = size;
    b->hb_prev = prev;
}

/* Points the block after h (or hp_last) back at h. */
static void
hb_link_after(vaddr_t h, bool h_is_last)
{
    if (h_is_last)
        hp_last = h;
    else
        hb(hb_next(h))->hb_prev = h;
}

/* Counter bookkeeping: a block enters or leaves the free or the live set. */
static void
hole_count(uint32_t size, bool add)
{
    uint32_t bytes = HDR + size;
    uint32_t *bucket = size < HEAP_MIN_PAYLOAD ? &hp_st.wasted_bytes : &hp_st.free_bytes;
    if (add) {
        *bucket += bytes;
        hp_st.free_blocks++;
    } else {
        *bucket -= bytes;
        hp_st.free_blocks--;
    }
}

static void
live_count(uint32_t size, bool add)
{
    if (add) {
        hp_st.used_bytes += size;
        hp_st.overhead_bytes += HDR;
    } else {
        hp_st.used_bytes -= size;
        hp_st.overhead_bytes -= HDR;
    }
}

const char *
heap_strerror(enum heap_status st)
{
    switch (st) {
    case HEAP_OK:
        return "ok";
    case HEAP_NO_MEMORY:
        return "out of heap memory";
    case HEAP_BAD_POINTER:
        return "not a block of this heap";
    case HEAP_DOUBLE_FREE:
        return "block already free";
    }
    return "unknown heap status";
}

void
heap_init(vaddr_t start, vaddr_t end, heap_grow_fn grow)
{
    hp_start = PAGE_ROUND_UP(start);
    hp_end = PAGE_ROUND_DOWN(end);
    if (hp_end < hp_start || hp_start < start)
        hp_end = hp_start;
    hp_top = hp_start;
    hp_last = 0;
    hp_grow = grow;
    hp_ready = grow != NULL;
    memset(&hp_st, 0, sizeof(hp_st));
}

/*
 * Where a live block of size bytes (rounded) would start inside the free
 * block h: its header offset from h in *off.  Page-aligned payloads start at
 * the first page boundary past h's header; the piece before stays a free
 * block (HEAP_ALIGN == HDR, so that piece is either empty or holds a header).
 * Returns false if the block is too small.
 */
static bool
hb_fit(vaddr_t h, uint32_t size, bool aligned, uint32_t *off)
{
    uint64_t p = (uint64_t)h + HDR;
    uint64_t a = aligned ? (p + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1) : p;
    if ((a - p) + size > hb(h)->hb_size)
        return false;
    *off = (uint32_t)(a - p);
    return true;
}

/* Makes the free block h (which fits, at offset off) live: a free front
 * piece if off > 0, the live block, and a free tail if one is worth it. */
static vaddr_t
hb_carve(vaddr_t h, uint32_t off, uint32_t size)
{
    uint32_t hsize = hb(h)->hb_size;
    vaddr_t prev = hb(h)->hb_prev;
    bool was_last = hp_last == h;
    hole_count(hsize, false);

    vaddr_t u = h + off;
    if (off > 0) {
        hb_write(h, HB_FREE, off - HDR, prev);
        hole_count(off - HDR, true);
        prev = h;
    }
    uint32_t rest = hsize - off - size;
    if (rest >= HDR + HEAP_MIN_PAYLOAD) {
        vaddr_t t = u + HDR + size;
        hb_write(u, 0, size, prev);
        hb_write(t, HB_FREE, rest - HDR, u);
        hole_count(rest - HDR, true);
        hb_link_after(t, was_last);
    } else {
        size += rest;
        hb_write(u, 0, size, prev);
        hb_link_after(u, was_last);
    }
    live_count(size, true);
    return u;
}

/* Maps enough pages at top for the request to fit in the last block (which
 * it extends, or creates).  Returns that block, or 0 if out of memory. */
static vaddr_t
hp_extend(uint32_t size, bool aligned)
{
    bool have = hp_top > hp_start;
    bool last_free = have && hb_is_free(hp_last);
    vaddr_t h = last_free ? hp_last : hp_top;
    uint64_t p = (uint64_t)h + HDR;
    uint64_t a = aligned ? (p + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1) : p;
    uint64_t need_top = (a + size + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    if (need_top > hp_end)
        return 0;
    uint32_t extra = (uint32_t)(need_top - hp_top);
    if (!hp_grow(hp_top, extra / PAGE_SIZE))
        return 0;
    hp_st.mapped_bytes += extra;
    if (last_free) {
        hole_count(hb(h)->hb_size, false);
        hb(h)->hb_size += extra;
        hole_count(hb(h)->hb_size, true);
    } else {
        hb_write(h, HB_FREE, extra - HDR, have ? hp_last : 0);
        hole_count(extra - HDR, true);
        hp_last = h;
    }
    hp_top += extra;
    return h;
}

static void *
hp_alloc(uint32_t size, bool aligned)
{
    if (!hp_ready || size == 0 || size > hp_end - hp_start) {
        hp_st.errors++;
        return NULL;
    }
    size = (size + HEAP_ALIGN - 1) & ~(HEAP_ALIGN - 1);
    uint32_t off = 0;
    vaddr_t h = hp_start;
    bool found = false;
    for (; h < hp_top; h = hb_next(h)) {
        if (hb_is_free(h) && hb_fit(h, size, aligned, &off)) {
            found = true;
            break;
        }
    }
    if (!found) {
        h = hp_extend(size, aligned);
        if (h == 0 || !hb_fit(h, size, aligned, &off)) {
            hp_st.errors++;
            return NULL;
        }
    }
    vaddr_t u = hb_carve(h, off, size);
    hp_st.allocs++;
    if (aligned)
        hp_st.aligned_allocs++;
    return (void *)(uintptr_t)(u + HDR);
}

void *
kmalloc(uint32_t size)
{
    return hp_alloc(size, false);
}

void *
kmalloc_aligned(uint32_t size)
{
    return hp_alloc(size, true);
}

/* Merges the free block hi into the free block lo right below it. */
static void
hb_merge(vaddr_t lo, vaddr_t hi)
{
    bool hi_last = hp_last == hi;
    hole_count(hb(lo)->hb_size, false);
    hole_count(hb(hi)->hb_size, false);
    hb(lo)->hb_size += HDR + hb(hi)->hb_size;
    hole_count(hb(lo)->hb_size, true);
    hb_link_after(lo, hi_last);
}

/* Is h a block in the list: sane size and both neighbours pointing at it? */
static bool
hb_linked(vaddr_t h)
{
    uint32_t size = hb(h)->hb_size;
    if (size % HEAP_ALIGN != 0 || size > hp_top - h - HDR)
        return false;
    vaddr_t next = h + HDR + size;
    if (next == hp_top) {
        if (hp_last != h)
            return false;
    } else if (hb(next)->hb_magic != HEAP_MAGIC || hb(next)->hb_prev != h) {
        return false;
    }
    vaddr_t prev = hb(h)->hb_prev;
    if (h == hp_start)
        return prev == 0;
    return prev >= hp_start && prev < h && hb(prev)->hb_magic == HEAP_MAGIC && hb_next(prev) == h;
}

enum heap_status
kfree(void *p)
{
    if (p == NULL)
        return HEAP_OK;
    vaddr_t va = (vaddr_t)(uintptr_t)p;
    enum heap_status st = HEAP_OK;
    if (!hp_ready || va < hp_start + HDR || va >= hp_top || va % HEAP_ALIGN != 0)
        st = HEAP_BAD_POINTER;
    else if (hb(va - HDR)->hb_magic != HEAP_MAGIC)
        st = HEAP_BAD_POINTER;
    else if (hb_is_free(va - HDR))
        st = HEAP_DOUBLE_FREE;
    else if (!hb_linked(va - HDR))
        st = HEAP_BAD_POINTER;
    if (st != HEAP_OK) {
        hp_st.errors++;
        return st;
    }
    vaddr_t h = va - HDR;
    live_count(hb(h)->hb_size, false);
    hb(h)->hb_flags = HB_FREE;
    hole_count(hb(h)->hb_size, true);
    hp_st.frees++;
    if (h != hp_last && hb_is_free(hb_next(h)))
        hb_merge(h, hb_next(h));
    vaddr_t prev = hb(h)->hb_prev;
    if (h != hp_start && hb_is_free(prev))
        hb_merge(prev, h);
    return HEAP_OK;
}

void
heap_stats(struct heap_stats *st)
{
    *st = hp_st;
}

bool
heap_check(void)
{
    struct heap_stats c;
    memset(&c, 0, sizeof(c));
    vaddr_t prev = 0, h = hp_start;
    bool prev_free = false;
    while (h < hp_top) {
        struct heap_block *b = hb(h);
        if (b->hb_magic != HEAP_MAGIC || b->hb_prev != prev || (b->hb_flags & ~HB_FREE) != 0 ||
            b->hb_size % HEAP_ALIGN != 0 || b->hb_size > hp_top - h - HDR)
            return false;
        bool is_free = (b->hb_flags & HB_FREE) != 0;
        if (is_free && prev_free)
            return false;
        if (is_free) {
            c.free_blocks++;
            if (b->hb_size < HEAP_MIN_PAYLOAD)
                c.wasted_bytes += HDR + b->hb_size;
            else
                c.free_bytes += HDR + b->hb_size;
        } else {
            c.used_bytes += b->hb_size;
            c.overhead_bytes += HDR;
        }
        prev = h;
        prev_free = is_free;
        h += HDR + b->hb_size;
    }
    return h == hp_top && (hp_top == hp_start || hp_last == prev) &&
           c.used_bytes == hp_st.used_bytes && c.overhead_bytes == hp_st.overhead_bytes &&
           c.wasted_bytes == hp_st.wasted_bytes && c.free_bytes == hp_st.free_bytes &&
           c.free_blocks == hp_st.free_blocks && hp_top - hp_start == hp_st.mapped_bytes;
}

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
 *
 * Free list: every free block with a payload of HEAP_MIN_PAYLOAD or more is
 * on a doubly linked list in address order (links in its payload, 8 bytes
 * in, so that they never cover the magic and flags of a header merged away
 * behind a bare-header block); first fit walks that list only, never a live
 * block.  Hints speed the walk up, one per size class (requests of
 * 2^k..2^(k+1)-1 bytes): no listed block below hp_hint[k] has a payload
 * above hp_hint_max[k], so a request of class k larger than that starts at
 * that hint.  A block that is freed finds its place in the list through its free
 * neighbours, the list's tail, or else the nearest listed block below it.
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

/* The links of a listed free block, at its payload + HL_OFFSET. */
struct heap_link {
    uint32_t hl_next; /* listed block above; 0 for the last */
    uint32_t hl_prev; /* listed block below; 0 for the first */
};
#define HL_OFFSET 8u
_Static_assert(HL_OFFSET + sizeof(struct heap_link) <= HEAP_MIN_PAYLOAD, "links fit a payload");

static vaddr_t hp_start, hp_end;
static vaddr_t hp_top;       /* end of the mapped part: blocks tile [start, top) */
static vaddr_t hp_last;      /* header of the last block, if top > start */
static vaddr_t hp_free;      /* lowest listed free block; 0: none */
static vaddr_t hp_free_last; /* highest listed free block; 0: none */
#define HP_CLASSES 32u
static vaddr_t hp_hint[HP_CLASSES];      /* a listed block, or 0 for the end of the list... */
static uint32_t hp_hint_max[HP_CLASSES]; /* ...and no listed block below it has a larger payload */
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

static inline struct heap_link *
hl(vaddr_t h)
{
    return (struct heap_link *)(uintptr_t)(h + HDR + HL_OFFSET);
}

/* Does a free block of size bytes belong on the free list? */
static inline bool
fl_listed_size(uint32_t size)
{
    return size >= HEAP_MIN_PAYLOAD;
}

/* Takes the listed block h off the list (the hint is the caller's). */
static void
fl_unlink(vaddr_t h)
{
    vaddr_t next = hl(h)->hl_next, prev = hl(h)->hl_prev;
    if (prev != 0)
        hl(prev)->hl_next = next;
    else
        hp_free = next;
    if (next != 0)
        hl(next)->hl_prev = prev;
    else
        hp_free_last = prev;
}

/* Puts h on the list right after the listed block prev (0: first). */
static void
fl_link(vaddr_t h, vaddr_t prev)
{
    vaddr_t next = prev != 0 ? hl(prev)->hl_next : hp_free;
    hl(h)->hl_next = next;
    hl(h)->hl_prev = prev;
    if (prev != 0)
        hl(prev)->hl_next = h;
    else
        hp_free = h;
    if (next != 0)
        hl(next)->hl_prev = h;
    else
        hp_free_last = h;
}

/* The size class of a request of size bytes (not 0). */
static inline uint32_t
fl_class(uint32_t size)
{
    return 31u - (uint32_t)__builtin_clz(size);
}

/* The listed block h is new or larger (size bytes now): keeps the hints'
 * bounds true. */
static void
fl_grown(vaddr_t h, uint32_t size)
{
    for (uint32_t k = 0; k < HP_CLASSES; k++)
        if ((hp_hint[k] == 0 || h < hp_hint[k]) && size > hp_hint_max[k])
            hp_hint_max[k] = size;
}

/* Hints at old move to by, which takes old's place in the list (or is the
 * block after it): the listed blocks below stay the same. */
static void
fl_rehint(vaddr_t old, vaddr_t by)
{
    for (uint32_t k = 0; k < HP_CLASSES; k++)
        if (hp_hint[k] == old)
            hp_hint[k] = by;
}

/* The listed block below the block h (which is not listed): 0 if none.
 * Walks down the blocks from h, unless h lies above the whole list. */
static vaddr_t
fl_below(vaddr_t h)
{
    if (hp_free_last == 0 || hp_free_last < h)
        return hp_free_last;
    while (h != hp_start) {
        h = hb(h)->hb_prev;
        if (hb_is_free(h) && fl_listed_size(hb(h)->hb_size))
            return h;
    }
    return 0;
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
    hp_free = hp_free_last = 0;
    memset(hp_hint, 0, sizeof(hp_hint));
    memset(hp_hint_max, 0, sizeof(hp_hint_max));
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
    vaddr_t fl_prev = hl(h)->hl_prev, fl_next = hl(h)->hl_next;
    fl_unlink(h);
    hole_count(hsize, false);

    vaddr_t u = h + off;
    vaddr_t first = 0; /* the first piece put back on the list */
    if (off > 0) {
        hb_write(h, HB_FREE, off - HDR, prev);
        hole_count(off - HDR, true);
        prev = h;
        if (fl_listed_size(off - HDR)) {
            fl_link(h, fl_prev);
            fl_grown(h, off - HDR);
            fl_prev = first = h;
        }
    }
    uint32_t rest = hsize - off - size;
    if (rest >= HDR + HEAP_MIN_PAYLOAD) {
        vaddr_t t = u + HDR + size;
        hb_write(u, 0, size, prev);
        hb_write(t, HB_FREE, rest - HDR, u);
        hole_count(rest - HDR, true);
        hb_link_after(t, was_last);
        fl_link(t, fl_prev);
        fl_grown(t, rest - HDR);
        if (first == 0)
            first = t;
    } else {
        size += rest;
        hb_write(u, 0, size, prev);
        hb_link_after(u, was_last);
    }
    /* The pieces take h's place in the list and are smaller than h. */
    fl_rehint(h, first != 0 ? first : fl_next);
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
    bool listed = last_free && fl_listed_size(hb(h)->hb_size);
    if (last_free) {
        hole_count(hb(h)->hb_size, false);
        hb(h)->hb_size += extra;
        hole_count(hb(h)->hb_size, true);
    } else {
        hb_write(h, HB_FREE, extra - HDR, have ? hp_last : 0);
        hole_count(extra - HDR, true);
        hp_last = h;
    }
    /* The last block lies above every listed block. */
    if (!listed)
        fl_link(h, hp_free_last);
    fl_grown(h, hb(h)->hb_size);
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
    /* First fit over the listed blocks, from the hint if none below it can
     * hold size; seen bounds the payloads of the blocks below h. */
    vaddr_t h = hp_free;
    uint32_t seen = 0;
    uint32_t k = fl_class(size);
    if (size > hp_hint_max[k]) {
        h = hp_hint[k];
        seen = hp_hint_max[k];
    }
    for (; h != 0; h = hl(h)->hl_next) {
        if (hb_fit(h, size, aligned, &off))
            break;
        if (hb(h)->hb_size > seen)
            seen = hb(h)->hb_size;
    }
    if (h == 0) {
        h = hp_extend(size, aligned);
        if (h == 0 || !hb_fit(h, size, aligned, &off)) {
            hp_hint[k] = 0;
            hp_hint_max[k] = seen;
            if (h != 0)
                fl_grown(h, hb(h)->hb_size);
            hp_st.errors++;
            return NULL;
        }
    }
    /* Every listed block below h was seen (the last block, when the heap
     * grew, lies above all others). */
    hp_hint[k] = h;
    hp_hint_max[k] = seen;
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
    vaddr_t hi = h != hp_last && hb_is_free(hb_next(h)) ? hb_next(h) : 0;
    vaddr_t lo = h != hp_start && hb_is_free(hb(h)->hb_prev) ? hb(h)->hb_prev : 0;
    /* The merged block takes the list place of the free neighbours that are
     * listed (neighbours in the list too, with no listed block between). */
    vaddr_t b = lo != 0 ? lo : h;
    bool placed = false;
    vaddr_t fl_prev = 0;
    vaddr_t parts[2] = {lo, hi};
    for (int i = 0; i < 2; i++) {
        vaddr_t n = parts[i];
        if (n == 0 || !fl_listed_size(hb(n)->hb_size))
            continue;
        if (!placed)
            fl_prev = hl(n)->hl_prev;
        placed = true;
        fl_rehint(n, b);
        fl_unlink(n);
    }
    if (!placed)
        fl_prev = fl_below(b);
    if (hi != 0)
        hb_merge(h, hi);
    if (lo != 0)
        hb_merge(lo, h);
    fl_link(b, fl_prev);
    fl_grown(b, hb(b)->hb_size); /* not for a hint that moved to b: its blocks below stay */
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
    vaddr_t fl = hp_free, fl_prev = 0; /* the list, walked beside the blocks */
    uint32_t hints_seen = 0;           /* bit k: the walk passed hp_hint[k] */
    for (uint32_t k = 0; k < HP_CLASSES; k++)
        if (hp_hint[k] == 0)
            hints_seen |= 1u << k;
    while (h < hp_top) {
        struct heap_block *b = hb(h);
        if (b->hb_magic != HEAP_MAGIC || b->hb_prev != prev || (b->hb_flags & ~HB_FREE) != 0 ||
            b->hb_size % HEAP_ALIGN != 0 || b->hb_size > hp_top - h - HDR)
            return false;
        bool is_free = (b->hb_flags & HB_FREE) != 0;
        if (is_free && prev_free)
            return false;
        if (is_free && fl_listed_size(b->hb_size)) {
            if (fl != h || hl(h)->hl_prev != fl_prev)
                return false;
            for (uint32_t k = 0; k < HP_CLASSES; k++) {
                if (h == hp_hint[k])
                    hints_seen |= 1u << k;
                else if (!(hints_seen & (1u << k)) && b->hb_size > hp_hint_max[k])
                    return false;
            }
            fl_prev = h;
            fl = hl(h)->hl_next;
        }
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
    return h == hp_top && (hp_top == hp_start || hp_last == prev) && fl == 0 &&
           hp_free_last == fl_prev && hints_seen == 0xFFFFFFFFu &&
           c.used_bytes == hp_st.used_bytes && c.overhead_bytes == hp_st.overhead_bytes &&
           c.wasted_bytes == hp_st.wasted_bytes && c.free_bytes == hp_st.free_bytes &&
           c.free_blocks == hp_st.free_blocks && hp_top - hp_start == hp_st.mapped_bytes;
}

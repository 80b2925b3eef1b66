/*
 * mapiter.h - the mappings of one address space as runs, and what the TLB
 * holds of them: the one reading of the tables that dumps and graphs share.
 * Every entry is read through the MMU's side-effect-free walk
 * (mmu_probe_dir), so a view sees exactly what a translation would, and
 * never changes an A/D bit, a counter or the TLB.
 *
 * A run is a stretch of pages that are virtually consecutive, of one size
 * (4 KiB or 4 MiB) and with equal flags, whose frames follow each other
 * going up or going down by one page (a LIFO frame allocator hands frames
 * out downward):
 *
 *   VA   0x08048000 0x08049000 0x0804a000        VA   0x08048000 0x08049000
 *   PA   0x00fe2000 0x00fe3000 0x00fe4000        PA   0x00fe2000 0x00fe1000
 *        one ascending run of 3 pages                 one descending run of 2
 */
#ifndef PAGESIM_MAPITER_H
#define PAGESIM_MAPITER_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/mmu.h"

/* Which flags a run's pages must share and report. */
enum mapiter_flags {
    MAPITER_EFFECTIVE, /* the final entry's, with R/W and U/S as combined over the levels */
    MAPITER_ENTRY,     /* the final entry's own, as stored */
};

struct mapiter_run {
    vaddr_t va;      /* first page */
    paddr_t pa;      /* frame of the first page */
    uint32_t pages;  /* at least 1 */
    bool large;      /* 4 MiB pages, else 4 KiB */
    bool descending; /* page k maps frame pa - k pages, else pa + k pages */
    uint32_t flags;  /* PTE_FLAGS_MASK bits, or PDE_LFLAGS_MASK bits of 4 MiB pages */
    uint32_t tlb;    /* pages whose translation a live TLB entry holds (mapiter_run_tlb) */
    uint32_t stale;  /* pages whose TLB entry is stale (mapiter_run_stale) */
};

/* Page size of r's pages, in bytes. */
static inline uint32_t
mapiter_page_size(const struct mapiter_run *r)
{
    return r->large ? LPAGE_SIZE : PAGE_SIZE;
}

/* Lowest frame address of r: its first page's, or its last page's if descending. */
static inline paddr_t
mapiter_run_low(const struct mapiter_run *r)
{
    return r->descending ? r->pa - (r->pages - 1) * mapiter_page_size(r) : r->pa;
}

/* Starts *r as a run of one page, va -> pa (tlb 0). */
void mapiter_run_start(struct mapiter_run *r, vaddr_t va, paddr_t pa, bool large, uint32_t flags);

/*
 * Adds page va -> pa to r if it continues it: the next page of r's size
 * and flags, with the frame one page above r's last (r ascending) or below
 * it (r descending; a run of one page may turn either way).  Returns false,
 * leaving r unchanged, if it does not.
 */
bool mapiter_run_extend(struct mapiter_run *r, vaddr_t va, paddr_t pa, bool large, uint32_t flags);

/* Whether a TLB entry agrees with the tables in CR3 (SDM 4.10.4: a
 * translation stays cached after the tables change until invalidated). */
enum mapiter_tlb_state {
    MAPITER_TLB_LIVE,       /* they give the translation it holds */
    MAPITER_TLB_PAGING_OFF, /* paging is off */
    MAPITER_TLB_UNMAPPED,   /* the page is not mapped */
    MAPITER_TLB_MOVED,      /* the page maps another frame, or is of another size */
    MAPITER_TLB_RIGHTS,     /* same frame, but the final entry's R/W or U/S changed */
};

/*
 * The state of valid entry e of the 4 KiB TLB (large false) or of the
 * 4 MiB TLB (large true).  For MAPITER_TLB_MOVED, *now (if not NULL) gets
 * the frame the tables give the page now.  No side effect.
 */
enum mapiter_tlb_state mapiter_tlb_state(const struct mmu *m, const struct tlb_entry *e, bool large,
                                         paddr_t *now);

/*
 * Pages of r whose translation a live TLB entry holds: an entry of r's
 * page size for the page whose frame is the one r gives it, and which the
 * tables in CR3 still give (a stale entry counts for no run).  For the
 * space in CR3 these are its cached pages; for another space, the pages
 * where it agrees with the current one (the shared kernel half, say).
 */
uint32_t mapiter_run_tlb(const struct mmu *m, const struct mapiter_run *r);

/*
 * Whether valid entry e of the 4 KiB TLB (large false) or of the 4 MiB TLB
 * (large true) is stale as the stale-TLB detector (mmu.h) sees it: a store
 * changed one of its source entries since the fill, no invalidation removed
 * it, and a walk of the tables in CR3 no longer reads the PDE and PTE it was
 * filled from (a value written back is not stale).  A hit on it would be a
 * stale use.  No side effect.
 */
bool mapiter_tlb_stale(const struct mmu *m, const struct tlb_entry *e, bool large);

/*
 * Pages of r, a run of the directory at physical address pd, whose entry
 * in the TLB of r's page size is stale (mapiter_tlb_stale) and was filled
 * through that directory, or (4 KiB) through the page table pd names for
 * the page: the translations of r that a TLB hit would use stale.
 */
uint32_t mapiter_run_stale(const struct mmu *m, paddr_t pd, const struct mapiter_run *r);

/*
 * Entries of the 4 KiB TLB for pages of PDE pdx's 4 MiB that are stale
 * (mapiter_tlb_stale) and were filled through that PDE of the directory at
 * pd: for a slot (a self-map or a foreign slot), the stale translations a
 * kernel reaches its tables through, whether the tables map the page now
 * or not.
 */
uint32_t mapiter_slot_stale(const struct mmu *m, paddr_t pd, unsigned pdx);

/* Reads entry i of the directory at physical address pd as a walk reads it,
 * with no side effect.  Returns false if it lies outside RAM. */
bool mapiter_read_pde(const struct mmu *m, paddr_t pd, unsigned i, pde_t *pde);

/* Walks PDEs [first_pdx, end_pdx) of one directory; see mapiter_init. */
struct mapiter {
    const struct mmu *m;
    paddr_t pd;
    enum mapiter_flags mode;
    uint64_t next, end; /* virtual addresses still to walk */
    bool open;          /* run holds pages not yet returned */
    struct mapiter_run run;
};

/*
 * Prepares to walk the directory at physical address pd from PDE first_pdx
 * up to (not including) end_pdx, with flags as mode says.  Every present
 * PDE there is walked as the MMU would walk it: one that names a page
 * table gives that table's pages, even if the table is a directory (a
 * self-map), so callers leave out what they show otherwise.
 */
void mapiter_init(struct mapiter *it, const struct mmu *m, paddr_t pd, unsigned first_pdx,
                  unsigned end_pdx, enum mapiter_flags mode);

/*
 * The next run, in order of virtual address, with its TLB and stale counts; false
 * when the range is done.  A page that is not mapped, or whose walk would
 * fault or leave RAM, ends the run before it.
 */
bool mapiter_next(struct mapiter *it, struct mapiter_run *run);

#endif

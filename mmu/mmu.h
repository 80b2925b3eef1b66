/*
 * mmu.h - the IA-32 MMU model: control registers, the 32-bit page walker,
 * the TLB and the counters.  Pure C, no I/O; physical memory is a flat byte
 * array handed in by the owner (the simulator, or a unit test).
 */
#ifndef PAGESIM_MMU_H
#define PAGESIM_MMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/x86.h"
#include "mmu/tlb.h"

/* Kind of an access: bit 0 = write, bit 1 = user mode. */
enum mmu_access {
    MMU_SUP_READ = 0,
    MMU_SUP_WRITE = 1,
    MMU_USER_READ = 2,
    MMU_USER_WRITE = 3,
};
#define MMU_ACCESS_WRITE 1u
#define MMU_ACCESS_USER 2u
#define MMU_NACCESS 4

struct mmu_config {
    struct tlb_geometry tlb4k; /* translations of 4 KiB pages */
    struct tlb_geometry tlb4m; /* translations of 4 MiB pages */
};

/*
 * Defaults, in one place: 64 entries 4-way for 4 KiB pages and 32 entries
 * 4-way for 4 MiB pages, the shape of the first-level data TLBs of Intel
 * cores from Nehalem to Skylake.
 */
#define MMU_TLB4K_ENTRIES_DEFAULT 64u
#define MMU_TLB4K_WAYS_DEFAULT 4u
#define MMU_TLB4M_ENTRIES_DEFAULT 32u
#define MMU_TLB4M_WAYS_DEFAULT 4u

/*
 * Flush lint: invalidations that did less than they cost, judged by what the
 * TLB held (the detector's changed marks, below) when they ran.
 *   useless-invlpg  an INVLPG that removed no TLB entry (4 KiB or 4 MiB) and
 *                   found no PDE pending invalidation: no entry it covers
 *                   was cached, so none it covers was changed
 *   window-flush    a CR3 write of the value CR3 holds (a flush) that removed
 *                   at least 2 entries of which exactly one had a changed
 *                   source: one INVLPG would have done
 *   cr3-flush       any other such flush after which fewer than
 *                   MMU_LINT_CR3_INVLPG INVLPGs would have covered every
 *                   changed non-global entry (one per changed entry; one if
 *                   only a PDE is pending)
 * A CR3 write that loads another directory is a switch, never linted.
 */
enum mmu_lint {
    MMU_LINT_NONE,
    MMU_LINT_USELESS_INVLPG,
    MMU_LINT_CR3_FLUSH,
    MMU_LINT_WINDOW_FLUSH,
    MMU_LINT_NKIND
};
#define MMU_LINT_CR3_INVLPG 4u

/* "useless-invlpg", "cr3-flush", "window-flush" ("-" for none). */
const char *mmu_lint_name(enum mmu_lint k);

struct mmu_counters {
    uint64_t accesses[MMU_NACCESS]; /* translations requested, by kind */
    uint64_t tlb_hits;              /* completed from a TLB entry, no walk */
    uint64_t tlb_misses;            /* no usable entry: walked */
    uint64_t dirty_rewalks;         /* entry found, but a write needed D set: walked */
    uint64_t walks;                 /* page walks started (misses + dirty re-walks) */
    uint64_t walk_reads;            /* paging-structure entries read by walks */
    uint64_t ad_updates;            /* entry writes by walks that set A and/or D */
    uint64_t invlpg;                /* INVLPG executed */
    uint64_t cr3_writes;            /* MOV to CR3 */
    uint64_t full_flushes;          /* all entries, globals too (CR0.PG, CR4.PGE/PSE) */
    uint64_t dropped_invlpg;        /* valid entries removed by INVLPG */
    uint64_t dropped_cr3;           /* valid entries removed by CR3 writes */
    uint64_t dropped_full;          /* valid entries removed by full flushes */
    uint64_t dropped_fault;         /* entries removed because a #PF was taken */
    uint64_t evictions;             /* valid entries replaced by LRU on a fill */
    uint64_t globals_kept;          /* global entries that survived CR3 writes */
    uint64_t faults;                /* #PF generated */
    uint64_t faults_by_code[16];    /* #PF by error code (bits P, W, U, RSVD) */
    uint64_t stale_uses;            /* TLB hits on stale entries of a bug class */
    uint64_t stale_harmless;        /* TLB hits on stale entries of a harmless class */
    uint64_t stale_pde;             /* walks through a PDE changed without invalidation */
    uint64_t lint[MMU_LINT_NKIND];  /* flush lint by enum mmu_lint (NONE: 0) */
};

/*
 * The stale-TLB detector.  Every TLB entry remembers the PDE and PTE it was
 * filled from (address and value).  A kernel store into a frame that holds
 * such a source (mmu_store, before the bytes change) that gives a source a
 * new value marks the entry changed; a TLB hit on a changed entry is a stale
 * use, classified against what a walk of the current tables gives now:
 *   frame            the page now maps another frame            (bug)
 *   unmapped         no present translation now (P cleared)     (bug)
 *   rights-reduced   R/W or U/S cleared at some level           (bug)
 *   rights-increased R/W or U/S set: a spurious #PF at worst    (harmless)
 *   flags            only A/D or other bits that do not change
 *                    the frame or the rights                    (harmless)
 * A hit whose translation has not changed after all (a value written back)
 * is no stale use.
 * Paging-structure caches (SDM 4.10.3): a present PDE that names a page
 * table may be cached, even speculatively, until an INVLPG (of any address:
 * SDM 4.10.4.1, INVLPG invalidates all paging-structure cache entries), a
 * CR3 write or a whole-TLB flush.  A store that changes such a PDE of the
 * directory CR3 holds (other than in A or D) leaves it pending; the next
 * walk through that PDE while it is pending is a stale use of class pde
 * ("PDE changed without invalidation", a bug), whether or not a TLB entry
 * is stale, unless the PDE is back to its old value but for A/D.
 * Only frames a walk read a PDE or PTE from are watched (mmu_watched), and
 * the directory in CR3; an INVLPG, a CR3 write or a whole-TLB flush forgets
 * those no entry left in the TLB came from.  The fast entry never allows
 * writes to watched frames, so every store to them reaches the miss path,
 * which tells mmu_store (stores taken from the soft TLB included).
 */
enum mmu_stale_class {
    MMU_STALE_FRAME,
    MMU_STALE_UNMAPPED,
    MMU_STALE_RIGHTS_REDUCED,
    MMU_STALE_RIGHTS_INCREASED,
    MMU_STALE_FLAGS,
    MMU_STALE_PDE,
    MMU_STALE_NCLASS
};

/* "frame", "unmapped", "rights-reduced", "rights-increased", "flags", "pde". */
const char *mmu_stale_class_name(enum mmu_stale_class c);
/* Whether a class is a bug (frame, unmapped, rights-reduced, pde). */
bool mmu_stale_is_bug(enum mmu_stale_class c);

/* One stale use. */
struct mmu_stale {
    enum mmu_stale_class cls;
    vaddr_t va;
    uint32_t cr3;
    enum mmu_access access;
    bool large;        /* the cached entry maps a 4 MiB page */
    paddr_t addr;      /* where the changed entry lies (final entry; pde: the PDE) */
    uint32_t cached;   /* the final entry as cached (pde: the PDE before the store) */
    uint32_t current;  /* the final entry a walk finds now, 0 if none (pde: the PDE) */
    uint32_t write_id; /* the id mmu_store was given for the first store that changed it */
    uint32_t last_id;  /* the id of the latest such store (write_id if only one) */
};
struct mmu;
typedef void (*mmu_stale_fn)(void *ctx, struct mmu *m, const struct mmu_stale *st);
#define MMU_PDE_PENDING_MAX 64u
#define MMU_WATCH_LIST 256u
#define MMU_SLOT_FILTER_BITS 1024u
#define MMU_FILTER_ADDS_MAX 128u

/* Outcome of one translation. */
enum mmu_status {
    MMU_OK = 0,
    MMU_PAGE_FAULT, /* a #PF: see struct mmu_fault; CR2 is set */
    MMU_BUS_ERROR,  /* a paging entry lies outside physical RAM */
};

/* What a walk saw, for fault reports and debugging. */
struct mmu_walk {
    paddr_t pde_addr; /* physical address of the PDE read */
    pde_t pde;        /* its value after the walk (A/D updates included) */
    paddr_t pte_addr; /* physical address of the PTE read, 0 if none */
    pte_t pte;        /* its value after the walk, 0 if none */
    int levels;       /* entries read: 0 (TLB), 1 or 2 */
};

struct mmu_result {
    paddr_t pa;         /* physical address of the byte accessed */
    uint32_t page_size; /* 4096 or 4 MiB */
    bool tlb_hit;       /* true if no walk was needed */
};

struct mmu_fault {
    vaddr_t cr2;         /* faulting linear address */
    uint32_t error_code; /* PF_ERR_* bits */
    enum mmu_access access;
    bool from_tlb;        /* a cached entry's rights denied the access */
    struct mmu_walk walk; /* the entries the walk read */
};

#define MMU_SOFT_ENTRIES 64u /* a power of two */

/* Of one RAM frame: how many valid TLB entries have their PDE or PTE there
 * (one for each), and how many of those are not marked changed. */
struct mmu_src_count {
    uint32_t live, unmarked;
};

struct mmu {
    uint32_t cr0, cr2, cr3, cr4;
    uint8_t *ram;      /* physical memory: byte pa is ram[pa] */
    uint64_t ram_size; /* bytes; entries at or above it are a bus error */
    struct tlb tlb4k;
    struct tlb tlb4m;
    struct mmu_counters ctr;
    /*
     * Fast path: the 4 KiB page of the most recent TLB hit and the access
     * kinds its entry allows (bit k for enum mmu_access k; write kinds only
     * when the entry's D is set).  It is the most recently used entry of all,
     * so a repeat hit needs no LRU update.  Any TLB change clears it.  It
     * is only set for a frame that lies in RAM, whose bytes are at fast_host.
     */
    uint64_t fast_base;      /* its address (vpn << 12), MMU_FAST_NONE when empty */
    uint32_t fast_allow;     /* bit per enum mmu_access */
    uint32_t fast_pfn;       /* physical frame of that 4 KiB page */
    uint32_t fast_page_size; /* size of the page its entry maps */
    uint8_t *fast_host;      /* ram + (fast_pfn << 12) */
    /*
     * The soft TLB: shortcuts to TLB entries recently hit, one slot per
     * 4 KiB page number modulo MMU_SOFT_ENTRIES.  A slot stands for the TLB
     * entry it was filled from and is valid only while the TLB is unchanged
     * since (gen == soft_gen: every fill, eviction, invalidation and flush
     * moves soft_gen), so taking it is exactly a TLB hit on that entry,
     * LRU update included (mmu_soft_hit).
     */
    uint64_t soft_gen;
    struct mmu_soft {
        uint64_t base; /* the 4 KiB page's address */
        uint64_t gen;  /* soft_gen when filled */
        uint32_t allow, pfn, page_size;
        uint8_t *host;        /* ram + (pfn << 12) */
        struct tlb *tlb;      /* the TLB and entry it stands for */
        struct tlb_entry *entry;
    } soft[MMU_SOFT_ENTRIES];
    /* The stale-TLB detector: one bit per RAM frame a walk read an entry
     * from, the PDEs pending invalidation, and who hears of stale uses. */
    uint8_t *watch;
    /* The frames other CPUs watch (mmu_set_watch_others), or NULL. */
    const uint8_t *watch_others;
    uint32_t watch_lo, watch_hi;        /* the watched frames lie in [lo, hi] (lo > hi: none) */
    uint32_t watch_set[MMU_WATCH_LIST]; /* the frames watched, if watch_n <= MMU_WATCH_LIST */
    uint32_t watch_n;
    /* Filters of the PDE and of the PTE slots live TLB entries came from
     * (a bit per hash of the slot's address), rebuilt with the watched
     * frames: a store to a PTE slot looks in one set of the 4 KiB TLB (the
     * set follows from the slot), only one to a PDE slot looks at all. */
    uint64_t pde_filter[MMU_SLOT_FILTER_BITS / 64];
    uint64_t pte_filter[MMU_SLOT_FILTER_BITS / 64];
    uint32_t filter_adds; /* entries added to the filters since made from the TLB */
    /* A count pair per RAM frame, so that a rebuild of the watched frames
     * and mmu_store know in one read whether a frame is still to be
     * watched. */
    struct mmu_src_count *src;
    struct mmu_pde_pending {
        paddr_t addr;
        uint32_t old, write_id;
    } pde_pending[MMU_PDE_PENDING_MAX];
    unsigned npde_pending;
    mmu_stale_fn stale_fn;
    void *stale_ctx;
    bool stale_off; /* the detector is off: no frame is watched (benchmarks) */
    bool fast_off;  /* no fast entry, no soft TLB: every access calls mmu_translate */
    /* The lint of the latest INVLPG or CR3 write (MMU_LINT_NONE if it had
     * none) and how many INVLPGs would have covered its changed entries. */
    enum mmu_lint lint_last;
    uint32_t lint_needed;
};
/* No page: base + 0x1000 wraps to 0, so va - base >= 0x1000 for any va. */
#define MMU_FAST_NONE 0xFFFFFFFFFFFFF000ull

/*
 * Sets up a machine in the reset state of the registers that matter here
 * (CR0 = PE only, CR3 = CR4 = 0, paging off) with empty TLBs.  Returns false
 * if a TLB geometry is invalid (see tlb_init) or allocation fails.
 */
bool mmu_init(struct mmu *m, const struct mmu_config *cfg, uint8_t *ram, uint64_t ram_size);
void mmu_fini(struct mmu *m);
void mmu_config_default(struct mmu_config *cfg);

/*
 * Translates one access of at most one page (the caller splits accesses
 * that cross a page boundary).  Paging off: pa = va, counted as an access,
 * no TLB.  Paging on: TLB lookup; on a miss a walk per SDM 4.3 that checks
 * rights combined over PDE and PTE (user needs U/S=1 at both levels; writes
 * need R/W=1 at both levels for user accesses, and for supervisor accesses
 * only when CR0.WP=1), sets A in a PDE as soon as it uses it to find a page
 * table (so a fault at the PTE leaves PDE.A set, as on hardware), sets A in
 * the final entry and D in it on a write only when the walk succeeds, and
 * fills the TLB.  A
 * write through an entry whose D is clear re-walks.  A cached entry that
 * denies the access gives a #PF from the entry and is removed (SDM 4.10.4.1:
 * a #PF invalidates the translations of the faulting address).  On a fault
 * CR2 is set and *fault filled; nothing is cached and the final entry is
 * not changed.
 */
enum mmu_status mmu_translate(struct mmu *m, vaddr_t va, enum mmu_access access,
                              struct mmu_result *res, struct mmu_fault *fault);

/* The fast path of mmu_translate; falls back to it.  Same contract. */
static inline enum mmu_status
mmu_translate_fast(struct mmu *m, vaddr_t va, enum mmu_access access, struct mmu_result *res,
                   struct mmu_fault *fault)
{
    if ((uint64_t)va - m->fast_base < PAGE_SIZE && (m->fast_allow >> access & 1u)) {
        m->ctr.accesses[access]++;
        m->ctr.tlb_hits++;
        res->pa = (m->fast_pfn << PAGE_SHIFT) | PGOFF(va);
        res->page_size = m->fast_page_size;
        res->tlb_hit = true;
        return MMU_OK;
    }
    return mmu_translate(m, va, access, res, fault);
}

/* Whether frame pfn holds a paging entry the stale-TLB detector watches. */
static inline bool
mmu_watched(const struct mmu *m, uint32_t pfn)
{
    return ((uint64_t)pfn << PAGE_SHIFT) < m->ram_size && (m->watch[pfn >> 3] >> (pfn & 7u) & 1u);
}

/* Whether frame pfn holds a paging entry the detector of this CPU or of
 * another (mmu_set_watch_others) watches: the fast entry never allows
 * stores to it, so that each reaches mmu_store of every CPU that watches. */
static inline bool
mmu_watched_any(const struct mmu *m, uint32_t pfn)
{
    return mmu_watched(m, pfn) ||
           (m->watch_others != NULL && ((uint64_t)pfn << PAGE_SHIFT) < m->ram_size &&
            (m->watch_others[pfn >> 3] >> (pfn & 7u) & 1u));
}

#define MMU_WRITE_KINDS ((1u << MMU_SUP_WRITE) | (1u << MMU_USER_WRITE))

/*
 * A TLB hit on another page than the fast one, taken from the soft TLB:
 * counted as mmu_translate counts a hit (one access of its kind, one TLB
 * hit), the entry made most recently used and the fast entry.  Returns the
 * host pointer to the size bytes at va, or NULL if the soft TLB has no
 * valid slot for va that allows the access (then call mmu_translate).  A
 * store through it to a watched frame is the caller's to tell mmu_store.
 */
static inline uint8_t *
mmu_soft_hit(struct mmu *m, vaddr_t va, unsigned size, enum mmu_access kind)
{
    struct mmu_soft *sf = &m->soft[(va >> PAGE_SHIFT) & (MMU_SOFT_ENTRIES - 1)];
    uint64_t off = (uint64_t)va - sf->base;
    if (off > PAGE_SIZE - size || sf->gen != m->soft_gen || !((sf->allow >> kind) & 1u))
        return NULL;
    m->ctr.accesses[kind]++;
    m->ctr.tlb_hits++;
    tlb_touch(sf->tlb, sf->entry);
    m->fast_base = sf->base;
    m->fast_allow = sf->allow;
    /* The inline path never stores to a watched frame. */
    if (mmu_watched_any(m, sf->pfn))
        m->fast_allow &= ~MMU_WRITE_KINDS;
    m->fast_pfn = sf->pfn;
    m->fast_page_size = sf->page_size;
    m->fast_host = sf->host;
    return sf->host + off;
}

/*
 * Walks the tables for va without any side effect: no TLB, no A/D bits,
 * no counters, no CR2 (a debugger's view, like QEMU's debug accessors).
 * Returns true and the physical address if va is mapped present.
 */
bool mmu_probe(const struct mmu *m, vaddr_t va, paddr_t *pa, struct mmu_walk *walk);

/* The final entry of a walk that found a page: the translation it gives. */
struct mmu_leaf {
    paddr_t addr;   /* physical address of the final entry */
    uint32_t entry; /* its value */
    bool large;     /* a 4 MiB page: the final entry is the PDE */
    bool user;      /* U/S combined over the levels (SDM 4.6.1) */
    bool writable;  /* R/W combined over the levels */
};

/*
 * The walk of mmu_probe over the directory at physical address pd instead
 * of CR3's, whether paging is on or not, for views of any address space.
 * No side effect.  Returns MMU_OK with *leaf when va is mapped present,
 * MMU_PAGE_FAULT when a walk would fault (an entry not present, or a
 * reserved bit set), MMU_BUS_ERROR when an entry lies outside RAM; *walk
 * (if not NULL) gets the entries read.
 */
enum mmu_status mmu_probe_dir(const struct mmu *m, paddr_t pd, vaddr_t va, struct mmu_leaf *leaf,
                              struct mmu_walk *walk);

/*
 * Reads the paging-structure entry at physical address pa as a walk reads
 * it, with no side effect.  Returns false if it lies outside RAM.
 */
bool mmu_read_entry(const struct mmu *m, paddr_t pa, uint32_t *val);

/* Whether a walk takes present PDE pde as mapping a 4 MiB page: PS=1
 * while CR4.PSE=1 (SDM 4.3); otherwise it names a page table. */
bool mmu_pde_large(const struct mmu *m, pde_t pde);

/*
 * Register writes with the SDM's TLB effects (SDM 4.10.4.1):
 * - CR3: every non-global entry is removed (even if the value is unchanged);
 *   global entries (G=1 while CR4.PGE=1) are kept.
 * - CR0: a change of PG removes every entry; a change of WP removes nothing
 *   (entries keep their rights; WP is applied at each access).
 * - CR4: a change of PGE or PSE removes every entry.  PAE paging is not
 *   modelled: a PAE bit is not kept (the simulator stops a kernel that sets
 *   it before it gets here).
 */
void mmu_write_cr3(struct mmu *m, uint32_t val);
/*
 * A CR3 write whose flush does not happen (fault injection): CR3 changes and
 * is counted as a write, no entry is removed; for the detector, every entry
 * left from another directory than val's (a global one too) counts as
 * changed by write_id, so its next use is classified against the new tables.
 */
void mmu_write_cr3_noflush(struct mmu *m, uint32_t val, uint32_t write_id);
void mmu_write_cr0(struct mmu *m, uint32_t val);
void mmu_write_cr4(struct mmu *m, uint32_t val);

/*
 * A kernel store of size bytes (bytes: the new ones) at physical address pa,
 * told before RAM changes: marks the TLB entries whose source PDE or PTE it
 * changes with write_id (not 0), and leaves a changed PDE of the current
 * directory pending (see the detector above).  Writes nothing to RAM.
 * Returns how many entries or PDEs it marked.
 */
unsigned mmu_store(struct mmu *m, paddr_t pa, unsigned size, const void *bytes, uint32_t write_id);

/* Turns the detector off (before the first walk): no frame is ever watched,
 * so nothing is marked stale.  For measuring the detector's cost only. */
void mmu_stale_off(struct mmu *m);

/* Never sets the fast entry nor fills the soft TLB, so that every access
 * comes to mmu_translate (profiling).  The counts stay the same: a hit
 * taken through them is counted as mmu_translate counts it. */
void mmu_fast_off(struct mmu *m);

/* Voids the fast entry and the soft TLB: the next access of any page
 * comes to mmu_translate (the TLB is unchanged). */
void mmu_shortcuts_void(struct mmu *m);

/*
 * The frames the detectors of the other CPUs watch, a bitmap laid out as
 * watch (NULL: none, one CPU), which must stay a superset of theirs while
 * this CPU runs (they only watch more when they run).  Voids the fast
 * entry and the soft TLB, which may allow stores to them.
 */
void mmu_set_watch_others(struct mmu *m, const uint8_t *bits);

/* Who hears of each stale use (NULL: only the counters). */
void mmu_set_stale_fn(struct mmu *m, mmu_stale_fn fn, void *ctx);

/* INVLPG: removes the 4 KiB entry of va's page and the 4 MiB entry that
 * covers va, global or not. */
void mmu_invlpg(struct mmu *m, vaddr_t va);

static inline bool
mmu_paging(const struct mmu *m)
{
    return (m->cr0 & CR0_PG) != 0;
}

#endif

/*
 * tlb.h - a set-associative TLB with LRU replacement.  The MMU keeps two:
 * one for 4 KiB translations and one for 4 MiB translations.
 *
 * Geometry: `entries` translations in `entries / ways` sets of `ways` each.
 * A translation of virtual page number vpn (va >> 12 for 4 KiB pages,
 * va >> 22 for 4 MiB pages) can only live in set (vpn % sets).  Within a
 * set the least recently used entry is replaced.  An empty entry has
 * vpn == TLB_VPN_NONE.
 *
 * Rights are precomputed at fill time: `allow` holds one bit per
 * (CR0.WP, access kind) pair, bit (wp * 4 + kind) with kind as in enum
 * mmu_access, so a hit check is one mask test whatever WP is later.
 */
#ifndef PAGESIM_TLB_H
#define PAGESIM_TLB_H

#include <stdbool.h>
#include <stdint.h>

#define TLB_VPN_NONE 0xFFFFFFFFu
#define TLB_MAX_ENTRIES 65536u

struct tlb_geometry {
    uint32_t entries; /* power of two, 1 .. TLB_MAX_ENTRIES */
    uint32_t ways;    /* power of two dividing entries */
};

struct tlb_entry {
    uint32_t vpn;   /* virtual page number, or TLB_VPN_NONE */
    uint32_t pfn;   /* physical frame number (4 KiB or 4 MiB units as vpn) */
    uint64_t lru;   /* larger = more recently used */
    uint8_t allow;  /* bit (wp * 4 + kind): access kind allowed */
    bool dirty;     /* D of the final entry was set when cached */
    bool global;    /* G=1 and CR4.PGE=1 at fill: survives CR3 writes */
    uint32_t flags; /* the final entry's low 12 bits (for dumps) */
    /* The entries it came from, as the fill read them (pte_addr 0 for a
     * 4 MiB page), for the stale-TLB detector (mmu.h). */
    uint32_t src_pde_addr, src_pde, src_pte_addr, src_pte;
    uint32_t changed;      /* 0, or the id of the first store that changed a source since */
    uint32_t changed_last; /* the id of the latest such store */
};

struct tlb {
    struct tlb_geometry geo;
    uint32_t sets;
    uint64_t clock;      /* LRU clock */
    struct tlb_entry *e; /* sets * ways entries; set s is e[s*ways .. +ways) */
};

/* Whether geo is a geometry a TLB can have: entries and ways powers of
 * two, ways <= entries <= TLB_MAX_ENTRIES. */
bool tlb_geometry_valid(const struct tlb_geometry *geo);

/* Returns false if the geometry is not valid or memory is short. */
bool tlb_init(struct tlb *t, const struct tlb_geometry *geo);
void tlb_fini(struct tlb *t);

/* The entry holding vpn, or NULL.  Does not touch LRU state. */
struct tlb_entry *tlb_find(struct tlb *t, uint32_t vpn);

/* Marks e most recently used. */
static inline void
tlb_touch(struct tlb *t, struct tlb_entry *e)
{
    e->lru = ++t->clock;
}

/* The entry tlb_insert would replace to cache vpn: the one holding vpn,
 * else an empty way, else the least recently used way of its set. */
struct tlb_entry *tlb_victim(struct tlb *t, uint32_t vpn);

/* The set vpn lives in: e[tlb_set_index(t, vpn) * ways .. +ways). */
static inline uint32_t
tlb_set_index(const struct tlb *t, uint32_t vpn)
{
    return vpn & (t->sets - 1);
}

/*
 * Caches a translation, replacing an existing entry for vpn, else an empty
 * way, else the least recently used way of its set; the new entry is most
 * recently used.  Returns true if a valid entry of another page was evicted.
 */
bool tlb_insert(struct tlb *t, const struct tlb_entry *ne);
/* The same into victim, which tlb_victim(t, ne->vpn) gave just before. */
bool tlb_insert_at(struct tlb *t, struct tlb_entry *victim, const struct tlb_entry *ne);

/* Removes the entry for vpn.  Returns 1 if there was one, else 0. */
unsigned tlb_invalidate(struct tlb *t, uint32_t vpn);

/* Removes all entries, or all but global ones.  Returns how many valid
 * entries were removed; *kept (if not NULL) gets the globals kept. */
unsigned tlb_flush(struct tlb *t, bool keep_global, unsigned *kept);

/* Copies the valid entries, set by set, way by way, into out (room for
 * geo.entries) and returns how many there are. */
unsigned tlb_copy_valid(const struct tlb *t, struct tlb_entry *out);

/* Calls fn for each valid entry, set by set, way by way. */
void tlb_foreach(const struct tlb *t, void (*fn)(const struct tlb_entry *e, void *arg), void *arg);

#endif

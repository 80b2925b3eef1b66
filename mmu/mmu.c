/*
 * mmu.c - IA-32 32-bit paging (Intel SDM Vol. 3A 4.3, 4.6, 4.7, 4.8, 4.10):
 * control registers, the page walker, rights checks and TLB maintenance.
 */
#include "mmu/mmu.h"

#include <stdlib.h>
#include <string.h>

/* The two access kinds' rights bits in tlb_entry.allow for one WP value. */
#define ALLOW(wp, kind) (1u << ((wp)*4 + (kind)))

void
mmu_config_default(struct mmu_config *cfg)
{
    cfg->tlb4k.entries = MMU_TLB4K_ENTRIES_DEFAULT;
    cfg->tlb4k.ways = MMU_TLB4K_WAYS_DEFAULT;
    cfg->tlb4m.entries = MMU_TLB4M_ENTRIES_DEFAULT;
    cfg->tlb4m.ways = MMU_TLB4M_WAYS_DEFAULT;
}

bool
mmu_init(struct mmu *m, const struct mmu_config *cfg, uint8_t *ram, uint64_t ram_size)
{
    memset(m, 0, sizeof(*m));
    m->ram = ram;
    m->ram_size = ram_size;
    m->cr0 = CR0_PE;
    m->fast_base = MMU_FAST_NONE;
    m->fast_allow = 0;
    m->soft_gen = 1; /* every slot (gen 0) void */
    m->watch_lo = UINT32_MAX;
    m->watch = calloc((size_t)((ram_size >> PAGE_SHIFT) + 7) / 8 + 1, 1);
    m->src = calloc((size_t)(ram_size >> PAGE_SHIFT) + 1, sizeof(*m->src));
    if (m->watch == NULL || m->src == NULL || !tlb_init(&m->tlb4k, &cfg->tlb4k)) {
        mmu_fini(m);
        return false;
    }
    if (!tlb_init(&m->tlb4m, &cfg->tlb4m)) {
        mmu_fini(m);
        return false;
    }
    return true;
}

void
mmu_fini(struct mmu *m)
{
    tlb_fini(&m->tlb4k);
    tlb_fini(&m->tlb4m);
    free(m->watch);
    free(m->src);
    m->watch = NULL;
    m->src = NULL;
}

void
mmu_shortcuts_void(struct mmu *m)
{
    m->fast_base = MMU_FAST_NONE;
    m->fast_allow = 0;
    m->soft_gen++;
}

void
mmu_set_watch_others(struct mmu *m, const uint8_t *bits)
{
    m->watch_others = bits;
    mmu_shortcuts_void(m);
}

void
mmu_set_stale_fn(struct mmu *m, mmu_stale_fn fn, void *ctx)
{
    m->stale_fn = fn;
    m->stale_ctx = ctx;
}

const char *
mmu_stale_class_name(enum mmu_stale_class c)
{
    static const char *const names[MMU_STALE_NCLASS] = {
        "frame", "unmapped", "rights-reduced", "rights-increased", "flags", "pde"};
    return (unsigned)c < MMU_STALE_NCLASS ? names[c] : "?";
}

bool
mmu_stale_is_bug(enum mmu_stale_class c)
{
    return c == MMU_STALE_FRAME || c == MMU_STALE_UNMAPPED || c == MMU_STALE_RIGHTS_REDUCED ||
           c == MMU_STALE_PDE;
}

void
mmu_stale_off(struct mmu *m)
{
    m->stale_off = true;
}

void
mmu_fast_off(struct mmu *m)
{
    m->fast_off = true;
    m->fast_base = MMU_FAST_NONE;
    m->fast_allow = 0;
}

static inline void
watch(struct mmu *m, paddr_t pa)
{
    uint32_t pfn = pa >> PAGE_SHIFT;
    if (m->stale_off || (m->watch[pfn >> 3] >> (pfn & 7u) & 1u))
        return;
    m->watch[pfn >> 3] |= (uint8_t)(1u << (pfn & 7u));
    if (m->watch_n < MMU_WATCH_LIST)
        m->watch_set[m->watch_n] = pfn;
    m->watch_n++;
    if (pfn < m->watch_lo)
        m->watch_lo = pfn;
    if (pfn > m->watch_hi)
        m->watch_hi = pfn;
}

static inline uint32_t
slot_bit(paddr_t slot)
{
    return ((slot >> 2) ^ (slot >> 12) * 0x9E5u) & (MMU_SLOT_FILTER_BITS - 1);
}

/* Whether a live entry may have come from the entry at slot (filter: the
 * PDE or the PTE filter). */
static inline bool
slot_maybe_source(const uint64_t *filter, paddr_t slot)
{
    uint32_t b = slot_bit(slot);
    return (filter[b / 64] >> (b % 64)) & 1u;
}

static inline void
slot_add(uint64_t *filter, paddr_t slot)
{
    uint32_t b = slot_bit(slot);
    filter[b / 64] |= 1ull << (b % 64);
}

/* Live entry e is one the detector follows: its frames are watched and
 * its slots in the filters. */
static inline void
watch_entry(struct mmu *m, const struct tlb_entry *e)
{
    watch(m, e->src_pde_addr);
    slot_add(m->pde_filter, e->src_pde_addr);
    if (e->src_pte_addr != 0) {
        watch(m, e->src_pte_addr);
        slot_add(m->pte_filter, e->src_pte_addr);
    }
    m->filter_adds++;
}

/* Adds d to e's count of unmarked entries at each of its frames. */
static inline void
count_unmarked(struct mmu *m, const struct tlb_entry *e, int d)
{
    m->src[e->src_pde_addr >> PAGE_SHIFT].unmarked += (uint32_t)d;
    if (e->src_pte_addr != 0)
        m->src[e->src_pte_addr >> PAGE_SHIFT].unmarked += (uint32_t)d;
}

/* Adds d to e's counts at each of its frames: live, and unmarked too if
 * e is not marked changed. */
static inline void
count_entry(struct mmu *m, const struct tlb_entry *e, int d)
{
    const uint32_t u = e->changed == 0 ? (uint32_t)d : 0u;
    struct mmu_src_count *c = &m->src[e->src_pde_addr >> PAGE_SHIFT];
    c->live += (uint32_t)d;
    c->unmarked += u;
    if (e->src_pte_addr != 0) {
        c = &m->src[e->src_pte_addr >> PAGE_SHIFT];
        c->live += (uint32_t)d;
        c->unmarked += u;
    }
}

/*
 * The per-frame counts (src) follow the TLB: a valid entry counts once at
 * each of its frames in live, and in unmarked too while it is not marked
 * changed.  track_entry: e has just become valid (a fill) or got new
 * sources; it is watched too.  untrack_entry: e (valid or not) is about
 * to be removed or given other sources.  Marking an entry, or finding it
 * back at its old value, changes unmarked alone.
 */
static inline void
track_entry(struct mmu *m, const struct tlb_entry *e)
{
    if (m->stale_off || e->vpn == TLB_VPN_NONE)
        return;
    watch_entry(m, e);
    count_entry(m, e, 1);
}

static inline void
untrack_entry(struct mmu *m, const struct tlb_entry *e)
{
    if (m->stale_off || e->vpn == TLB_VPN_NONE)
        return;
    count_entry(m, e, -1);
}

/*
 * Before a flush of both TLBs (keep_global: as by a CR3 write).  While
 * the watched frames fit in watch_set, every frame counted is in it (see
 * watch_rebuild): returns true, and counts_reset after the flush zeroes
 * their counts (the entries kept are then counted again).  Otherwise the
 * entries that go are untracked one by one now; returns false.
 */
static bool
counts_reset_ahead(struct mmu *m, bool keep_global)
{
    if (m->stale_off)
        return false;
    if (m->watch_n <= MMU_WATCH_LIST)
        return true;
    for (struct tlb *t = &m->tlb4k; t != NULL; t = t == &m->tlb4k ? &m->tlb4m : NULL)
        for (uint32_t i = 0; i < t->geo.entries; i++)
            if (!(keep_global && t->e[i].global))
                untrack_entry(m, &t->e[i]);
    return false;
}

static void
counts_reset(struct mmu *m)
{
    for (uint32_t i = 0; i < m->watch_n; i++)
        m->src[m->watch_set[i]] = (struct mmu_src_count){0, 0};
}

/*
 * After an INVLPG, a CR3 write or a flush: only the frames the entries
 * left came from (entries_left: whether there may be any), and the
 * directory in CR3 (its PDEs may be cached at any time), stay watched.
 * While the watched frames fit in watch_set, every frame an entry came
 * from is in it (watched when the entry was filled, and kept by each
 * rebuild since), so the rebuild keeps those of them where src counts a
 * live entry, without looking at the TLB.  The slot filters keep the slots
 * of entries that left until MMU_FILTER_ADDS_MAX entries were added since
 * they were last made from the TLB (a slot too many costs a look, never a
 * mark: mark_changed compares the entries themselves).
 */
static void
watch_rebuild(struct mmu *m, bool entries_left)
{
    if (m->stale_off)
        return;
    const uint32_t n = m->watch_n;
    bool rescan = !entries_left || n > MMU_WATCH_LIST || m->filter_adds > MMU_FILTER_ADDS_MAX;
    if (n <= MMU_WATCH_LIST) {
        for (uint32_t i = 0; i < n; i++)
            m->watch[m->watch_set[i] >> 3] = 0;
    } else if (m->watch_lo <= m->watch_hi) {
        memset(m->watch + (m->watch_lo >> 3), 0, (m->watch_hi >> 3) - (m->watch_lo >> 3) + 1);
    }
    m->watch_n = 0;
    m->watch_lo = UINT32_MAX;
    m->watch_hi = 0;
    if (rescan) {
        memset(m->pde_filter, 0, sizeof(m->pde_filter));
        memset(m->pte_filter, 0, sizeof(m->pte_filter));
        m->filter_adds = 0;
        for (struct tlb *t = &m->tlb4k; entries_left && t != NULL;
             t = t == &m->tlb4k ? &m->tlb4m : NULL)
            for (uint32_t i = 0; i < t->geo.entries; i++)
                if (t->e[i].vpn != TLB_VPN_NONE)
                    watch_entry(m, &t->e[i]);
    } else {
        /* watch() writes watch_set[k] only for k <= i: read ahead of it. */
        for (uint32_t i = 0; i < n; i++)
            if (m->src[m->watch_set[i]].live != 0)
                watch(m, m->watch_set[i] << PAGE_SHIFT);
    }
    if (mmu_paging(m) && (uint64_t)(m->cr3 & CR3_ADDR_MASK) + PAGE_SIZE <= m->ram_size)
        watch(m, m->cr3 & CR3_ADDR_MASK);
}

static inline void
fast_reset(struct mmu *m)
{
    m->fast_base = MMU_FAST_NONE;
    m->fast_allow = 0;
}

/* The TLB (or the rights its entries give under CR0.WP) changed: the fast
 * entry and every soft TLB slot are void. */
static inline void
fast_clear(struct mmu *m)
{
    fast_reset(m);
    m->soft_gen++;
}

/*
 * Rights of a translation whose entries, combined, give user access iff
 * `user` and writes iff `writable` (SDM 4.6.1), for both values of CR0.WP.
 * Supervisor reads are always allowed; supervisor writes need R/W only
 * when WP=1; user accesses need U/S, user writes also R/W.
 */
static uint8_t
rights_mask(bool user, bool writable)
{
    uint8_t a = 0;
    for (unsigned wp = 0; wp < 2; wp++) {
        a |= ALLOW(wp, MMU_SUP_READ);
        if (writable || wp == 0)
            a |= ALLOW(wp, MMU_SUP_WRITE);
        if (user) {
            a |= ALLOW(wp, MMU_USER_READ);
            if (writable)
                a |= ALLOW(wp, MMU_USER_WRITE);
        }
    }
    return a;
}

static inline unsigned
wp_of(const struct mmu *m)
{
    return (m->cr0 & CR0_WP) ? 1u : 0u;
}

bool
mmu_read_entry(const struct mmu *m, paddr_t pa, uint32_t *val)
{
    if ((uint64_t)pa + 4 > m->ram_size)
        return false;
    memcpy(val, m->ram + pa, 4);
    return true;
}

static void
write_entry(struct mmu *m, paddr_t pa, uint32_t val)
{
    memcpy(m->ram + pa, &val, 4);
}

/* Removes the 4 KiB entry of va's page and the 4 MiB entry that covers
 * va; returns how many there were. */
static unsigned
invalidate_va(struct mmu *m, vaddr_t va)
{
    struct tlb_entry *e = tlb_find(&m->tlb4k, va >> PAGE_SHIFT);
    unsigned n = 0;
    if (e != NULL) {
        untrack_entry(m, e);
        n += tlb_invalidate(&m->tlb4k, va >> PAGE_SHIFT);
    }
    e = tlb_find(&m->tlb4m, va >> PDX_SHIFT);
    if (e != NULL) {
        untrack_entry(m, e);
        n += tlb_invalidate(&m->tlb4m, va >> PDX_SHIFT);
    }
    return n;
}

static enum mmu_status
page_fault(struct mmu *m, vaddr_t va, enum mmu_access access, uint32_t err, bool from_tlb,
           const struct mmu_walk *walk, struct mmu_fault *fault)
{
    /* The error code is built here and only here (SDM 4.7). */
    err |= (access & MMU_ACCESS_WRITE) ? PF_ERR_W : 0;
    err |= (access & MMU_ACCESS_USER) ? PF_ERR_U : 0;
    m->cr2 = va;
    m->ctr.faults++;
    m->ctr.faults_by_code[err & 15u]++;
    /* A #PF invalidates the translations of the faulting address. */
    m->ctr.dropped_fault += invalidate_va(m, va);
    fast_clear(m);
    if (fault != NULL) {
        fault->cr2 = va;
        fault->error_code = err;
        fault->access = access;
        fault->from_tlb = from_tlb;
        if (walk != NULL)
            fault->walk = *walk;
        else
            memset(&fault->walk, 0, sizeof(fault->walk));
    }
    return MMU_PAGE_FAULT;
}

bool
mmu_pde_large(const struct mmu *m, pde_t pde)
{
    return (pde & PTE_PS) && (m->cr4 & CR4_PSE);
}

/*
 * The tables of the directory at pd for va (SDM 4.3), one level at a time;
 * the one walker that translation and the side-effect-free probes share.
 * With effects, each entry read is counted and a PDE used to find a page
 * table gets its A bit before the PTE is read (SDM 4.8: hardware leaves
 * PDE.A set even if the PTE then faults, and a self-map PTE that is that
 * PDE reads it with A).
 * Without effects nothing is written or counted (m is only read).  Returns
 * MMU_OK with *lf, MMU_PAGE_FAULT with the error code's P/RSVD bits in
 * *err (the caller adds W/U), or MMU_BUS_ERROR; *w holds what was read.
 */
static enum mmu_status
walk_tables(struct mmu *m, paddr_t pd, vaddr_t va, bool effects, struct mmu_walk *w,
            struct mmu_leaf *lf, uint32_t *err)
{
    memset(w, 0, sizeof(*w));
    *err = 0;

    /* Level 1: the PDE, selected by bits 31:22 of va, in the directory. */
    w->pde_addr = (pd & CR3_ADDR_MASK) | (PDX(va) << 2);
    if (!mmu_read_entry(m, w->pde_addr, &w->pde))
        return MMU_BUS_ERROR;
    if (effects) {
        m->ctr.walk_reads++;
        watch(m, w->pde_addr);
    }
    w->levels = 1;
    if (!(w->pde & PTE_P))
        return MMU_PAGE_FAULT;

    if (mmu_pde_large(m, w->pde)) {
        /* A 4 MiB page: the PDE is the final entry. */
        if (w->pde & PDE_LRSVD_MASK) {
            *err = PF_ERR_P | PF_ERR_RSVD;
            return MMU_PAGE_FAULT;
        }
        *lf = (struct mmu_leaf){w->pde_addr, w->pde, true, w->pde & PTE_U, w->pde & PTE_W};
        return MMU_OK;
    }

    /* The PDE is used to find the page table. */
    if (effects && !(w->pde & PTE_A)) {
        w->pde |= PTE_A;
        write_entry(m, w->pde_addr, w->pde);
        m->ctr.ad_updates++;
    }

    /* Level 2: the PTE, selected by bits 21:12, in the table the PDE names. */
    w->pte_addr = PTE_ADDR(w->pde) | (PTX(va) << 2);
    if (!mmu_read_entry(m, w->pte_addr, &w->pte))
        return MMU_BUS_ERROR;
    if (effects) {
        m->ctr.walk_reads++;
        watch(m, w->pte_addr);
    }
    w->levels = 2;
    if (!(w->pte & PTE_P))
        return MMU_PAGE_FAULT;
    *lf = (struct mmu_leaf){w->pte_addr, w->pte, false, (w->pde & PTE_U) && (w->pte & PTE_U),
                            (w->pde & PTE_W) && (w->pte & PTE_W)};
    return MMU_OK;
}

/* Removes pending PDE i. */
static void
pde_pending_drop(struct mmu *m, unsigned i)
{
    m->pde_pending[i] = m->pde_pending[--m->npde_pending];
}

/* A walk for va is about to read its PDE: if that PDE is pending, the
 * processor may use the cached old one (SDM 4.10.3): a stale use, told once. */
static void
pde_pending_check(struct mmu *m, vaddr_t va, enum mmu_access access)
{
    paddr_t addr = (m->cr3 & CR3_ADDR_MASK) | (PDX(va) << 2);
    for (unsigned i = 0; i < m->npde_pending; i++) {
        if (m->pde_pending[i].addr != addr)
            continue;
        struct mmu_stale st = {.cls = MMU_STALE_PDE,
                               .va = va,
                               .cr3 = m->cr3,
                               .access = access,
                               .addr = addr,
                               .cached = m->pde_pending[i].old,
                               .write_id = m->pde_pending[i].write_id,
                               .last_id = m->pde_pending[i].write_id};
        mmu_read_entry(m, addr, &st.current);
        pde_pending_drop(m, i);
        /* Changed back (but for A/D): a cached copy would be right. */
        if (((st.cached ^ st.current) & ~(uint32_t)(PTE_A | PTE_D)) == 0)
            return;
        m->ctr.stale_pde++;
        if (m->stale_fn != NULL)
            m->stale_fn(m->stale_ctx, m, &st);
        return;
    }
}

/* The paging-structure caches are invalidated: nothing is pending. */
static void
pde_pending_clear(struct mmu *m)
{
    m->npde_pending = 0;
}

/*
 * A TLB hit on entry e (of TLB t) whose sources changed since the fill:
 * classifies it against the current tables (see mmu.h) and tells it.
 * Returns false if the translation did not change after all (e is then
 * no longer marked).
 */
static bool
stale_hit(struct mmu *m, vaddr_t va, enum mmu_access access, struct tlb *t, struct tlb_entry *e,
          uint32_t pfn4k)
{
    const bool large = t == &m->tlb4m;
    const bool was_user = e->allow & ALLOW(0, MMU_USER_READ);
    const bool was_w = e->allow & ALLOW(1, MMU_SUP_WRITE);
    struct mmu_leaf lf;
    struct mmu_walk w;
    struct mmu_stale st = {.cls = MMU_STALE_FLAGS,
                           .va = va,
                           .cr3 = m->cr3,
                           .access = access,
                           .large = large,
                           .addr = large ? e->src_pde_addr : e->src_pte_addr,
                           .cached = large ? e->src_pde : e->src_pte,
                           .write_id = e->changed,
                           .last_id = e->changed_last};
    enum mmu_status ps = mmu_probe_dir(m, m->cr3, va, &lf, &w);
    if (ps != MMU_OK) {
        st.cls = MMU_STALE_UNMAPPED;
        st.current = w.levels == 2 ? w.pte : w.pde;
    } else {
        uint32_t now4k = lf.large ? (PDE_LADDR(lf.entry) >> PAGE_SHIFT) | PTX(va)
                                  : PTE_ADDR(lf.entry) >> PAGE_SHIFT;
        st.current = lf.entry;
        if (now4k != pfn4k)
            st.cls = MMU_STALE_FRAME;
        else if ((was_user && !lf.user) || (was_w && !lf.writable))
            st.cls = MMU_STALE_RIGHTS_REDUCED;
        else if ((!was_user && lf.user) || (!was_w && lf.writable))
            st.cls = MMU_STALE_RIGHTS_INCREASED;
        else if (lf.large == large && w.pde == e->src_pde && (large || w.pte == e->src_pte)) {
            /* Back to what it was: unmarked, and its sources watched again
             * (mmu_store stops watching a frame whose entries are all
             * marked), with no shortcut left that writes them unseen. */
            e->changed = e->changed_last = 0;
            count_unmarked(m, e, 1);
            watch_entry(m, e);
            fast_clear(m);
            return false;
        }
    }
    if (mmu_stale_is_bug(st.cls))
        m->ctr.stale_uses++;
    else
        m->ctr.stale_harmless++;
    if (m->stale_fn != NULL)
        m->stale_fn(m->stale_ctx, m, &st);
    return true;
}

/* Marks e, whose source at a slot has taken a value unlike the cached
 * one, as changed by write_id; returns 1 (*fresh: +1 if it was not marked
 * before). */
static unsigned
mark_entry(struct mmu *m, struct tlb_entry *e, uint32_t write_id, unsigned *fresh)
{
    if (e->changed == 0) {
        count_unmarked(m, e, -1);
        e->changed = write_id;
        ++*fresh;
    }
    e->changed_last = write_id;
    return 1;
}

/*
 * Marks the entries whose source at slot is not val with write_id; returns
 * how many (*fresh: how many were not marked before).  A 4 KiB entry
 * whose PTE lies at slot maps PTX (slot bits 11:2) as the low bits of its
 * page number, so it lies in the one set those bits select (while the TLB
 * has at most 1024 sets); so does a 4 MiB entry whose PDE lies at slot
 * (its page number is the PDX).  Only a 4 KiB entry whose PDE lies at slot
 * may be in any set.
 */
static unsigned
mark_changed(struct mmu *m, paddr_t slot, uint32_t val, uint32_t write_id, unsigned *fresh)
{
    const uint32_t idx = PGOFF(slot) >> 2;
    const bool pte_slot = slot_maybe_source(m->pte_filter, slot);
    unsigned n = 0;
    struct tlb *t = &m->tlb4k;
    if (pte_slot) {
        uint32_t lo = 0, hi = t->geo.entries;
        if (t->sets <= 1024u) {
            lo = tlb_set_index(t, idx) * t->geo.ways;
            hi = lo + t->geo.ways;
        }
        for (uint32_t i = lo; i < hi; i++) {
            struct tlb_entry *e = &t->e[i];
            if (e->vpn != TLB_VPN_NONE && e->src_pte_addr == slot && e->src_pte != val)
                n += mark_entry(m, e, write_id, fresh);
        }
    }
    if (!slot_maybe_source(m->pde_filter, slot))
        return n;
    for (uint32_t i = 0; i < t->geo.entries; i++) {
        struct tlb_entry *e = &t->e[i];
        /* One marked above for its PTE is not marked twice. */
        if (e->vpn != TLB_VPN_NONE && e->src_pde_addr == slot && e->src_pde != val &&
            !(pte_slot && e->src_pte_addr == slot && e->src_pte != val))
            n += mark_entry(m, e, write_id, fresh);
    }
    t = &m->tlb4m;
    struct tlb_entry *set = &t->e[tlb_set_index(t, idx) * t->geo.ways];
    for (uint32_t w = 0; w < t->geo.ways; w++) {
        struct tlb_entry *e = &set[w];
        if (e->vpn != TLB_VPN_NONE && e->src_pde_addr == slot && e->src_pde != val)
            n += mark_entry(m, e, write_id, fresh);
    }
    return n;
}

unsigned
mmu_store(struct mmu *m, paddr_t pa, unsigned size, const void *bytes, uint32_t write_id)
{
    unsigned n = 0, fresh = 0;
    const uint8_t *b = bytes;
    const paddr_t pd = m->cr3 & CR3_ADDR_MASK;
    for (paddr_t slot = pa & ~3u; slot < pa + size && (uint64_t)slot + 4 <= m->ram_size;
         slot += 4) {
        uint32_t old, val;
        memcpy(&old, m->ram + slot, 4);
        val = old;
        for (unsigned k = 0; k < 4; k++) {
            if (slot + k >= pa && slot + k < pa + size) {
                val &= ~(0xFFu << (8 * k));
                val |= (uint32_t)b[slot + k - pa] << (8 * k);
            }
        }
        if (val == old)
            continue;
        n += mark_changed(m, slot, val, write_id, &fresh);
        /* A present PDE naming a table in the loaded directory. */
        if (mmu_paging(m) && (slot & PAGE_MASK) == pd && (old & PTE_P) && !mmu_pde_large(m, old) &&
            ((old ^ val) & ~(uint32_t)(PTE_A | PTE_D))) {
            bool known = false;
            for (unsigned i = 0; i < m->npde_pending; i++)
                known |= m->pde_pending[i].addr == slot;
            if (!known && m->npde_pending < MMU_PDE_PENDING_MAX) {
                m->pde_pending[m->npde_pending++] = (struct mmu_pde_pending){slot, old, write_id};
                n++;
            }
        }
    }
    /* Once every entry that came from the frame is marked, its next stores
     * can mark nothing new: it need not be watched (the directory in CR3
     * stays, for its PDEs), and its stores take the fast path again. */
    uint32_t pfn = pa >> PAGE_SHIFT;
    if (fresh != 0 && pfn != (m->cr3 & CR3_ADDR_MASK) >> PAGE_SHIFT &&
        (pa + size - 1) >> PAGE_SHIFT == pfn && m->src[pfn].unmarked == 0)
        m->watch[pfn >> 3] &= (uint8_t) ~(1u << (pfn & 7u));
    if (n != 0)
        fast_clear(m);
    return n;
}

/*
 * One walk for va, as the processor makes it on a TLB miss.  On success
 * sets A in the final entry and D in it for a write, caches the
 * translation in the TLB of its page size and fills *res: one leaf path
 * for 4 KiB and 4 MiB pages.
 */
static enum mmu_status
walk(struct mmu *m, vaddr_t va, enum mmu_access access, struct mmu_result *res,
     struct mmu_fault *fault)
{
    struct mmu_walk w;
    struct mmu_leaf lf;
    uint32_t err;
    m->ctr.walks++;
    if (m->npde_pending != 0)
        pde_pending_check(m, va, access);
    enum mmu_status st = walk_tables(m, m->cr3, va, true, &w, &lf, &err);
    if (st == MMU_PAGE_FAULT)
        return page_fault(m, va, access, err, false, &w, fault);
    if (st != MMU_OK)
        return st;

    uint8_t allow = rights_mask(lf.user, lf.writable);
    if (!(allow & ALLOW(wp_of(m), access)))
        return page_fault(m, va, access, PF_ERR_P, false, &w, fault);
    uint32_t entry = lf.entry | PTE_A | ((access & MMU_ACCESS_WRITE) ? PTE_D : 0);
    if (entry != lf.entry) {
        write_entry(m, lf.addr, entry);
        m->ctr.ad_updates++;
    }
    if (lf.large)
        w.pde = entry;
    else
        w.pte = entry;

    const unsigned shift = lf.large ? PDX_SHIFT : PAGE_SHIFT;
    struct tlb_entry e = {
        .vpn = va >> shift,
        .pfn = entry >> shift,
        .allow = allow,
        .dirty = (entry & PTE_D) != 0,
        .global = (entry & PTE_G) && (m->cr4 & CR4_PGE),
        .flags = entry & PTE_FLAGS_MASK,
        .src_pde_addr = w.pde_addr,
        .src_pde = w.pde,
        .src_pte_addr = lf.large ? 0 : w.pte_addr,
        .src_pte = lf.large ? 0 : w.pte,
    };
    struct tlb *t = lf.large ? &m->tlb4m : &m->tlb4k;
    struct tlb_entry *victim = tlb_victim(t, e.vpn);
    untrack_entry(m, victim);
    if (tlb_insert_at(t, victim, &e))
        m->ctr.evictions++;
    if (!m->stale_off) {
        /* track_entry, but the walk has watched both frames already. */
        slot_add(m->pde_filter, e.src_pde_addr);
        if (e.src_pte_addr != 0)
            slot_add(m->pte_filter, e.src_pte_addr);
        m->filter_adds++;
        count_entry(m, &e, 1);
    }
    fast_clear(m);
    res->pa = lf.large ? PDE_LADDR(entry) | LPGOFF(va) : PTE_ADDR(entry) | PGOFF(va);
    res->page_size = lf.large ? LPAGE_SIZE : PAGE_SIZE;
    res->tlb_hit = false;
    return MMU_OK;
}

enum mmu_status
mmu_translate(struct mmu *m, vaddr_t va, enum mmu_access access, struct mmu_result *res,
              struct mmu_fault *fault)
{
    m->ctr.accesses[access]++;
    if (!mmu_paging(m)) {
        res->pa = va;
        res->page_size = PAGE_SIZE;
        res->tlb_hit = false;
        return MMU_OK;
    }

    const unsigned wp = wp_of(m);
    struct tlb *t = &m->tlb4k;
    struct tlb_entry *e = tlb_find(t, va >> PAGE_SHIFT);
    uint32_t pfn4k = 0;
    if (e != NULL) {
        pfn4k = e->pfn;
    } else {
        t = &m->tlb4m;
        e = tlb_find(t, va >> PDX_SHIFT);
        if (e != NULL)
            pfn4k = (e->pfn << (PDX_SHIFT - PAGE_SHIFT)) | PTX(va);
    }
    if (e == NULL) {
        m->ctr.tlb_misses++;
        return walk(m, va, access, res, fault);
    }
    if (!(e->allow & ALLOW(wp, access)))
        return page_fault(m, va, access, PF_ERR_P, true, NULL, fault);
    if ((access & MMU_ACCESS_WRITE) && !e->dirty) {
        /* SDM 4.8: D is set by a walk, never from the TLB entry alone. */
        m->ctr.dirty_rewalks++;
        return walk(m, va, access, res, fault);
    }
    /* A use of the entry's translation, not a walk: is it stale? */
    bool stale = e->changed != 0 && stale_hit(m, va, access, t, e, pfn4k);
    m->ctr.tlb_hits++;
    tlb_touch(t, e);
    res->pa = (pfn4k << PAGE_SHIFT) | PGOFF(va);
    res->page_size = (t == &m->tlb4k) ? PAGE_SIZE : LPAGE_SIZE;
    fast_reset(m);
    /* A stale entry is never a shortcut: each use of it comes back here. */
    if (!stale && !m->fast_off && ((uint64_t)pfn4k + 1) << PAGE_SHIFT <= m->ram_size) {
        m->fast_base = PAGE_ROUND_DOWN(va);
        m->fast_pfn = pfn4k;
        m->fast_host = m->ram + ((uint64_t)pfn4k << PAGE_SHIFT);
        for (unsigned k = 0; k < MMU_NACCESS; k++)
            if ((e->allow & ALLOW(wp, k)) && (e->dirty || !(k & MMU_ACCESS_WRITE)))
                m->fast_allow |= 1u << k;
        m->fast_page_size = res->page_size;
        /* The same hit, for the next time this page is not the fast one. */
        struct mmu_soft *sf = &m->soft[(va >> PAGE_SHIFT) & (MMU_SOFT_ENTRIES - 1)];
        *sf = (struct mmu_soft){
            m->fast_base, m->soft_gen, m->fast_allow, pfn4k, m->fast_page_size, m->fast_host, t, e};
        /* Stores to a watched frame must reach mmu_store: not inline. */
        if (mmu_watched_any(m, pfn4k))
            m->fast_allow &= ~MMU_WRITE_KINDS;
    }
    res->tlb_hit = true;
    return MMU_OK;
}

enum mmu_status
mmu_probe_dir(const struct mmu *m, paddr_t pd, vaddr_t va, struct mmu_leaf *leaf,
              struct mmu_walk *walk)
{
    struct mmu_walk w;
    uint32_t err;
    /* Without effects the walker only reads m. */
    enum mmu_status st = walk_tables((struct mmu *)m, pd, va, false, &w, leaf, &err);
    if (walk != NULL)
        *walk = w;
    return st;
}

bool
mmu_probe(const struct mmu *m, vaddr_t va, paddr_t *pa, struct mmu_walk *walk)
{
    struct mmu_walk w = {0};
    struct mmu_leaf lf;
    bool ok;
    if (!mmu_paging(m)) {
        *pa = va;
        ok = true;
    } else {
        ok = mmu_probe_dir(m, m->cr3, va, &lf, &w) == MMU_OK;
        if (ok)
            *pa = lf.large ? PDE_LADDR(lf.entry) | LPGOFF(va) : PTE_ADDR(lf.entry) | PGOFF(va);
    }
    if (walk != NULL)
        *walk = w;
    return ok;
}

static void
flush_all(struct mmu *m)
{
    m->ctr.full_flushes++;
    bool reset = counts_reset_ahead(m, false);
    m->ctr.dropped_full += tlb_flush(&m->tlb4k, false, NULL);
    m->ctr.dropped_full += tlb_flush(&m->tlb4m, false, NULL);
    if (reset)
        counts_reset(m);
    pde_pending_clear(m);
    watch_rebuild(m, false);
    fast_clear(m);
}

/*
 * After a CR3 write, the global entries kept stand for the translations of
 * the new directory: each one the new tables give alike (frame and rights)
 * takes the new tables' PDE and PTE as its sources, so a directory left
 * behind is no longer watched for them.  One they give otherwise keeps its
 * old sources (and stays watched there).  recount: the counts were reset
 * (counts_reset), so every entry of t is counted again.
 */
static void
resource_globals(struct mmu *m, struct tlb *t, bool recount)
{
    const bool large = t == &m->tlb4m;
    for (uint32_t i = 0; i < t->geo.entries; i++) {
        struct tlb_entry *e = &t->e[i];
        if (e->vpn == TLB_VPN_NONE)
            continue;
        vaddr_t va = e->vpn << (large ? PDX_SHIFT : PAGE_SHIFT);
        struct mmu_leaf lf;
        struct mmu_walk w;
        if (e->changed == 0 && mmu_probe_dir(m, m->cr3, va, &lf, &w) == MMU_OK &&
            lf.large == large &&
            (lf.large ? PDE_LADDR(lf.entry) >> PDX_SHIFT : PTE_ADDR(lf.entry) >> PAGE_SHIFT) ==
                e->pfn &&
            rights_mask(lf.user, lf.writable) == e->allow) {
            if (!recount)
                untrack_entry(m, e);
            e->src_pde_addr = w.pde_addr;
            e->src_pde = w.pde;
            e->src_pte_addr = large ? 0 : w.pte_addr;
            e->src_pte = large ? 0 : w.pte;
            if (!recount)
                track_entry(m, e);
        }
        if (recount)
            track_entry(m, e);
    }
}

const char *
mmu_lint_name(enum mmu_lint k)
{
    static const char *const names[MMU_LINT_NKIND] = {"-", "useless-invlpg", "cr3-flush",
                                                      "window-flush"};
    return k < MMU_LINT_NKIND ? names[k] : "-";
}

/* Counts the valid non-global entries of t (*all) and, of them, those
 * with a changed source (*changed). */
static void
count_flushable(const struct tlb *t, unsigned *all, unsigned *changed)
{
    for (uint32_t i = 0; i < t->geo.entries; i++) {
        const struct tlb_entry *e = &t->e[i];
        if (e->vpn == TLB_VPN_NONE || e->global)
            continue;
        ++*all;
        if (e->changed != 0)
            ++*changed;
    }
}

/* Judges a CR3 write of val before it happens (see enum mmu_lint). */
static void
lint_cr3(struct mmu *m, uint32_t val)
{
    unsigned all = 0, changed = 0;
    m->lint_last = MMU_LINT_NONE;
    m->lint_needed = 0;
    if (val != m->cr3 || !mmu_paging(m))
        return;
    count_flushable(&m->tlb4k, &all, &changed);
    count_flushable(&m->tlb4m, &all, &changed);
    m->lint_needed = changed != 0 ? changed : m->npde_pending != 0 ? 1u : 0u;
    if (changed == 1 && all >= 2)
        m->lint_last = MMU_LINT_WINDOW_FLUSH;
    else if (m->lint_needed < MMU_LINT_CR3_INVLPG)
        m->lint_last = MMU_LINT_CR3_FLUSH;
    if (m->lint_last != MMU_LINT_NONE)
        m->ctr.lint[m->lint_last]++;
}

void
mmu_write_cr3(struct mmu *m, uint32_t val)
{
    unsigned k4 = 0, k4m = 0;
    lint_cr3(m, val);
    m->cr3 = val;
    m->ctr.cr3_writes++;
    bool reset = counts_reset_ahead(m, true);
    m->ctr.dropped_cr3 += tlb_flush(&m->tlb4k, true, &k4);
    m->ctr.dropped_cr3 += tlb_flush(&m->tlb4m, true, &k4m);
    m->ctr.globals_kept += k4 + k4m;
    pde_pending_clear(m);
    if (reset)
        counts_reset(m);
    if (k4 + k4m != 0 && !m->stale_off) {
        resource_globals(m, &m->tlb4k, reset);
        resource_globals(m, &m->tlb4m, reset);
    }
    watch_rebuild(m, k4 + k4m != 0);
    fast_clear(m);
}

static void
mark_other_dir(struct mmu *m, struct tlb *t, paddr_t pd, uint32_t write_id)
{
    for (uint32_t i = 0; i < t->geo.entries; i++) {
        struct tlb_entry *e = &t->e[i];
        if (e->vpn != TLB_VPN_NONE && e->changed == 0 && (e->src_pde_addr & PAGE_MASK) != pd) {
            if (!m->stale_off)
                count_unmarked(m, e, -1);
            e->changed = e->changed_last = write_id;
        }
    }
}

void
mmu_write_cr3_noflush(struct mmu *m, uint32_t val, uint32_t write_id)
{
    m->lint_last = MMU_LINT_NONE;
    m->lint_needed = 0;
    m->cr3 = val;
    m->ctr.cr3_writes++;
    mark_other_dir(m, &m->tlb4k, val & CR3_ADDR_MASK, write_id);
    mark_other_dir(m, &m->tlb4m, val & CR3_ADDR_MASK, write_id);
    fast_clear(m);
}

void
mmu_write_cr0(struct mmu *m, uint32_t val)
{
    uint32_t old = m->cr0;
    m->cr0 = val;
    if ((old ^ val) & CR0_PG)
        flush_all(m);
    fast_clear(m);
}

void
mmu_write_cr4(struct mmu *m, uint32_t val)
{
    uint32_t old = m->cr4;
    m->cr4 = val & ~CR4_PAE;
    if ((old ^ m->cr4) & (CR4_PGE | CR4_PSE))
        flush_all(m);
    fast_clear(m);
}

void
mmu_invlpg(struct mmu *m, vaddr_t va)
{
    unsigned dropped = invalidate_va(m, va);
    m->ctr.invlpg++;
    m->ctr.dropped_invlpg += dropped;
    m->lint_last = dropped == 0 && m->npde_pending == 0 && mmu_paging(m) ? MMU_LINT_USELESS_INVLPG
                                                                         : MMU_LINT_NONE;
    m->lint_needed = m->lint_last == MMU_LINT_NONE ? 1u : 0u;
    if (m->lint_last != MMU_LINT_NONE)
        m->ctr.lint[m->lint_last]++;
    /* SDM 4.10.4.1: INVLPG also invalidates all entries in the
     * paging-structure caches, whatever linear address they serve. */
    pde_pending_clear(m);
    watch_rebuild(m, true);
    fast_clear(m);
}

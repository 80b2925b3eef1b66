/*
 * mapiter.c - runs of mappings of one address space, read through the
 * side-effect-free walk, and the TLB's view of them (see mapiter.h).
 */
#include "mmu/mapiter.h"

void
mapiter_run_start(struct mapiter_run *r, vaddr_t va, paddr_t pa, bool large, uint32_t flags)
{
    *r = (struct mapiter_run){.va = va, .pa = pa, .pages = 1, .large = large, .flags = flags};
}

bool
mapiter_run_extend(struct mapiter_run *r, vaddr_t va, paddr_t pa, bool large, uint32_t flags)
{
    uint64_t size = large ? LPAGE_SIZE : PAGE_SIZE;
    uint64_t span = (uint64_t)r->pages * size;
    if (r->large != large || r->flags != flags || (uint64_t)r->va + span != va)
        return false;
    bool up = !r->descending && (uint64_t)r->pa + span == pa;
    bool down = (r->descending || r->pages == 1) && (uint64_t)r->pa == (uint64_t)pa + span;
    if (!up && !down)
        return false;
    r->descending = down;
    r->pages++;
    return true;
}

enum mapiter_tlb_state
mapiter_tlb_state(const struct mmu *m, const struct tlb_entry *e, bool large, paddr_t *now)
{
    const unsigned shift = large ? PDX_SHIFT : PAGE_SHIFT;
    struct mmu_leaf lf;
    if (!mmu_paging(m))
        return MAPITER_TLB_PAGING_OFF;
    if (mmu_probe_dir(m, m->cr3, e->vpn << shift, &lf, NULL) != MMU_OK)
        return MAPITER_TLB_UNMAPPED;
    paddr_t frame = lf.large ? PDE_LADDR(lf.entry) : PTE_ADDR(lf.entry);
    if (lf.large != large || frame != e->pfn << shift) {
        if (now != NULL)
            *now = frame;
        return MAPITER_TLB_MOVED;
    }
    if ((lf.entry & (PTE_W | PTE_U)) != (e->flags & (PTE_W | PTE_U)))
        return MAPITER_TLB_RIGHTS;
    return MAPITER_TLB_LIVE;
}

/* Whether valid entry e caches page k of r as r maps it, and is live. */
static bool
caches(const struct mmu *m, const struct mapiter_run *r, const struct tlb_entry *e, uint32_t k)
{
    const unsigned shift = r->large ? PDX_SHIFT : PAGE_SHIFT;
    uint32_t step = k * mapiter_page_size(r);
    paddr_t frame = r->descending ? r->pa - step : r->pa + step;
    return e->pfn << shift == frame && mapiter_tlb_state(m, e, r->large, NULL) == MAPITER_TLB_LIVE;
}

struct tlb_scan {
    const struct mmu *m;
    const struct mapiter_run *r;
    uint32_t count;
};

static void
scan_entry(const struct tlb_entry *e, void *arg)
{
    struct tlb_scan *sc = arg;
    const unsigned shift = sc->r->large ? PDX_SHIFT : PAGE_SHIFT;
    uint32_t k = e->vpn - (sc->r->va >> shift);
    if (k < sc->r->pages && caches(sc->m, sc->r, e, k))
        sc->count++;
}

uint32_t
mapiter_run_tlb(const struct mmu *m, const struct mapiter_run *r)
{
    const struct tlb *t = r->large ? &m->tlb4m : &m->tlb4k;
    const unsigned shift = r->large ? PDX_SHIFT : PAGE_SHIFT;
    struct tlb_scan sc = {.m = m, .r = r};
    if (r->pages >= t->geo.entries) {
        tlb_foreach(t, scan_entry, &sc);
        return sc.count;
    }
    /* Fewer pages than entries: look each page up (tlb_find changes nothing). */
    for (uint32_t k = 0; k < r->pages; k++) {
        const struct tlb_entry *e = tlb_find((struct tlb *)t, (r->va >> shift) + k);
        if (e != NULL && caches(m, r, e, k))
            sc.count++;
    }
    return sc.count;
}

bool
mapiter_tlb_stale(const struct mmu *m, const struct tlb_entry *e, bool large)
{
    const unsigned shift = large ? PDX_SHIFT : PAGE_SHIFT;
    struct mmu_leaf lf;
    struct mmu_walk w;
    if (e->changed == 0)
        return false;
    if (!mmu_paging(m) || mmu_probe_dir(m, m->cr3, e->vpn << shift, &lf, &w) != MMU_OK)
        return true;
    /* The detector's rule (mmu.c, stale_hit): the same sources now is no stale use. */
    return !(lf.large == large && w.pde == e->src_pde && (large || w.pte == e->src_pte));
}

/* Whether valid entry e, at a page of r (a run of directory pd), is stale
 * and came through pd or through the table pd names for its page. */
static bool
stale_in(const struct mmu *m, paddr_t pd, const struct mapiter_run *r, const struct tlb_entry *e)
{
    const unsigned shift = r->large ? PDX_SHIFT : PAGE_SHIFT;
    pde_t pde;
    if (!mapiter_tlb_stale(m, e, r->large))
        return false;
    if (PTE_ADDR(e->src_pde_addr) == PTE_ADDR(pd))
        return true;
    return !r->large && e->src_pte_addr != 0 &&
           mapiter_read_pde(m, pd, PDX(e->vpn << shift), &pde) &&
           PTE_ADDR(pde) == PTE_ADDR(e->src_pte_addr);
}

struct stale_scan {
    const struct mmu *m;
    paddr_t pd;
    const struct mapiter_run *r;
    uint32_t count;
};

static void
stale_entry(const struct tlb_entry *e, void *arg)
{
    struct stale_scan *sc = arg;
    const unsigned shift = sc->r->large ? PDX_SHIFT : PAGE_SHIFT;
    uint32_t k = e->vpn - (sc->r->va >> shift);
    if (k < sc->r->pages && stale_in(sc->m, sc->pd, sc->r, e))
        sc->count++;
}

uint32_t
mapiter_run_stale(const struct mmu *m, paddr_t pd, const struct mapiter_run *r)
{
    const struct tlb *t = r->large ? &m->tlb4m : &m->tlb4k;
    const unsigned shift = r->large ? PDX_SHIFT : PAGE_SHIFT;
    struct stale_scan sc = {.m = m, .pd = pd, .r = r};
    if (r->pages >= t->geo.entries) {
        tlb_foreach(t, stale_entry, &sc);
        return sc.count;
    }
    for (uint32_t k = 0; k < r->pages; k++) {
        const struct tlb_entry *e = tlb_find((struct tlb *)t, (r->va >> shift) + k);
        if (e != NULL && stale_in(m, pd, r, e))
            sc.count++;
    }
    return sc.count;
}

uint32_t
mapiter_slot_stale(const struct mmu *m, paddr_t pd, unsigned pdx)
{
    const struct tlb *t = &m->tlb4k;
    const paddr_t slot = PTE_ADDR(pd) + pdx * (paddr_t)sizeof(pde_t);
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->geo.entries; i++) {
        const struct tlb_entry *e = &t->e[i];
        n += e->vpn != TLB_VPN_NONE && e->vpn >> (PDX_SHIFT - PAGE_SHIFT) == pdx &&
             e->src_pde_addr == slot && mapiter_tlb_stale(m, e, false);
    }
    return n;
}

bool
mapiter_read_pde(const struct mmu *m, paddr_t pd, unsigned i, pde_t *pde)
{
    return mmu_read_entry(m, PTE_ADDR(pd) + i * (paddr_t)sizeof(pde_t), pde);
}

void
mapiter_init(struct mapiter *it, const struct mmu *m, paddr_t pd, unsigned first_pdx,
             unsigned end_pdx, enum mapiter_flags mode)
{
    *it = (struct mapiter){.m = m,
                           .pd = pd,
                           .mode = mode,
                           .next = (uint64_t)first_pdx << PDX_SHIFT,
                           .end = (uint64_t)end_pdx << PDX_SHIFT};
}

/* Hands the open run out with its TLB and stale counts. */
static bool
give(struct mapiter *it, struct mapiter_run *run)
{
    *run = it->run;
    run->tlb = mapiter_run_tlb(it->m, run);
    run->stale = mapiter_run_stale(it->m, it->pd, run);
    it->open = false;
    return true;
}

bool
mapiter_next(struct mapiter *it, struct mapiter_run *run)
{
    while (it->next < it->end) {
        vaddr_t va = (vaddr_t)it->next;
        struct mmu_leaf lf;
        struct mmu_walk w;
        if (mmu_probe_dir(it->m, it->pd, va, &lf, &w) != MMU_OK) {
            /* Nothing at the PDE level skips its 4 MiB; else one page. */
            it->next =
                w.levels <= 1 ? ((it->next >> PDX_SHIFT) + 1) << PDX_SHIFT : it->next + PAGE_SIZE;
            if (it->open)
                return give(it, run);
            continue;
        }
        it->next += lf.large ? LPAGE_SIZE : PAGE_SIZE;
        uint32_t flags = lf.entry & (lf.large ? PDE_LFLAGS_MASK : PTE_FLAGS_MASK);
        if (it->mode == MAPITER_EFFECTIVE)
            flags = (flags & ~(PTE_W | PTE_U)) | (lf.writable ? PTE_W : 0) | (lf.user ? PTE_U : 0);
        paddr_t pa = lf.large ? PDE_LADDR(lf.entry) : PTE_ADDR(lf.entry);
        if (it->open && mapiter_run_extend(&it->run, va, pa, lf.large, flags))
            continue;
        bool done = it->open && give(it, run);
        mapiter_run_start(&it->run, va, pa, lf.large, flags);
        it->open = true;
        if (done)
            return true;
    }
    return it->open && give(it, run);
}

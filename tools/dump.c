/*
 * dump.c - text dumps of address spaces (merged mapping ranges per half,
 * labelled recursive/foreign slots) and of the TLB contents.
 */
#include "tools/dump.h"

#include <stdlib.h>
#include <string.h>

#include "kernel/bootlayout.h"
#include "mmu/mapiter.h"

enum dump_pde_kind
dump_pde_kind(const struct mmu *m, paddr_t pd, pde_t pde, const struct run_space *spaces,
              unsigned nspaces, unsigned *other)
{
    pte_t first;
    if (!(pde & PTE_P))
        return DUMP_PDE_NONE;
    if (mmu_pde_large(m, pde))
        return DUMP_PDE_LARGE;
    if (PTE_ADDR(pde) == PTE_ADDR(pd))
        return DUMP_PDE_SELF;
    for (unsigned i = 0; i < nspaces; i++) {
        if (PTE_ADDR(spaces[i].pd) == PTE_ADDR(pde)) {
            if (other != NULL)
                *other = i;
            return DUMP_PDE_FOREIGN;
        }
    }
    if (!mmu_read_entry(m, PTE_ADDR(pde), &first))
        return DUMP_PDE_BAD;
    return DUMP_PDE_TABLE;
}

void
dump_flags(uint32_t entry, bool large, bool pad, char *buf, size_t len)
{
    static const struct {
        uint32_t bit;
        char letter;
    } letters[] = {
        {PTE_P, 'P'}, {PTE_W, 'W'}, {PTE_U, 'U'}, {PTE_A, 'A'}, {PTE_D, 'D'}, {PTE_G, 'G'},
    };
    size_t n = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++) {
        bool set = (entry & letters[i].bit) != 0;
        if (!set && !pad)
            continue;
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%c", n > 0 ? " " : "",
                              set ? letters[i].letter : '-');
    }
    uint32_t pat = large ? PDE_LPAT : PTE_PAT;
    if (entry & PTE_PWT)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%sPWT", n > 0 ? " " : "");
    if (entry & PTE_PCD)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%sPCD", n > 0 ? " " : "");
    if (entry & pat)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%sPAT", n > 0 ? " " : "");
    if (entry & PTE_AVL)
        snprintf(buf + n, n < len ? len - n : 0, "%sAVL=%u", n > 0 ? " " : "",
                 (entry & PTE_AVL) >> PTE_BIT_AVL0);
}

/* "48K", "4M", "1G": the largest unit that divides size. */
static void
format_size(uint64_t size, char *buf, size_t len)
{
    if (size % (1ull << 30) == 0)
        snprintf(buf, len, "%lluG", (unsigned long long)(size >> 30));
    else if (size % (1ull << 20) == 0)
        snprintf(buf, len, "%lluM", (unsigned long long)(size >> 20));
    else
        snprintf(buf, len, "%lluK", (unsigned long long)(size >> 10));
}

struct dumper {
    FILE *out;
    unsigned lines; /* lines written in the current half */
};

static void
run_line(struct dumper *d, const struct mapiter_run *r)
{
    uint64_t size = (uint64_t)r->pages * mapiter_page_size(r);
    char sz[16], fl[DUMP_FLAGS_MAX];
    format_size(size, sz, sizeof(sz));
    dump_flags(r->flags, r->large, true, fl, sizeof(fl));
    uint64_t lo = mapiter_run_low(r);
    char stale[48] = "";
    if (r->stale > 0)
        snprintf(stale, sizeof(stale), "  TLB: %u cached, %u STALE", r->tlb, r->stale);
    fprintf(d->out, "    0x%08llx-0x%08llx %6s  0x%08llx-0x%08llx %6u x %s  %s%s%s\n",
            (unsigned long long)r->va, (unsigned long long)(r->va + size - 1), sz,
            (unsigned long long)lo, (unsigned long long)(lo + size - 1), r->pages,
            r->large ? "4M" : "4K", fl, r->descending ? "  descending" : "", stale);
    d->lines++;
}

/* A labelled PDE: what it is, and the stale TLB entries reached through
 * it (mapiter_slot_stale of the directory at pd). */
static void
slot_line(struct dumper *d, const struct mmu *m, paddr_t pd, unsigned pdx, const char *what)
{
    char stale[48] = "";
    uint32_t n = mapiter_slot_stale(m, pd, pdx);
    if (n > 0)
        snprintf(stale, sizeof(stale), "  TLB: %u STALE through it", n);
    fprintf(d->out, "    0x%08x-0x%08x %6s  %s%s\n", pdx << PDX_SHIFT,
            (pdx << PDX_SHIFT) + (LPAGE_SIZE - 1), "4M", what, stale);
    d->lines++;
}

/* Kernel page tables of space k also named, at the same index, by another space. */
static void
kernel_sharing(const struct mmu *m, const struct run_space *spaces, unsigned nspaces, unsigned k,
               const pde_t *pd, unsigned *ntables, unsigned *nshared)
{
    *ntables = *nshared = 0;
    for (unsigned i = KERNEL_PDX; i < NPDENTRIES; i++) {
        if (dump_pde_kind(m, spaces[k].pd, pd[i], spaces, nspaces, NULL) != DUMP_PDE_TABLE)
            continue;
        (*ntables)++;
        for (unsigned j = 0; j < nspaces; j++) {
            pde_t other;
            if (j != k && mapiter_read_pde(m, spaces[j].pd, i, &other) && (other & PTE_P) &&
                PTE_ADDR(other) == PTE_ADDR(pd[i]) &&
                dump_pde_kind(m, spaces[j].pd, other, spaces, nspaces, NULL) == DUMP_PDE_TABLE) {
                (*nshared)++;
                break;
            }
        }
    }
}

/* Ends a half: a note if nothing was mapped in it. */
static void
half_end(struct dumper *d)
{
    if (d->lines == 0)
        fprintf(d->out, "    (nothing mapped)\n");
    d->lines = 0;
}

static void
kernel_header(struct dumper *d, const struct mmu *m, const struct run_space *spaces,
              unsigned nspaces, unsigned k, const pde_t *pd)
{
    unsigned ntables, nshared;
    kernel_sharing(m, spaces, nspaces, k, pd, &ntables, &nshared);
    fprintf(d->out,
            "  kernel half 0x%08x-0xffffffff: %u page table%s, %u shared with other spaces\n",
            KERNEL_BASE, ntables, ntables == 1 ? "" : "s", nshared);
}

/* Whether the iterator shows what PDE kind maps (else the dump labels it). */
static bool
walked(enum dump_pde_kind kind)
{
    return kind == DUMP_PDE_NONE || kind == DUMP_PDE_TABLE || kind == DUMP_PDE_LARGE;
}

static void
dump_space(FILE *out, struct sim *s, const struct run_space *spaces, unsigned nspaces, unsigned k)
{
    const struct mmu *m = sim_mmu(s);
    paddr_t pdpa = PTE_ADDR(spaces[k].pd);
    bool current = PTE_ADDR(m->cr3) == pdpa;
    fprintf(out, "space \"%s\"  directory 0x%08x%s\n", spaces[k].name, pdpa,
            current ? "  (in CR3)" : "");
    pde_t pd[NPDENTRIES];
    for (unsigned i = 0; i < NPDENTRIES; i++) {
        if (!mapiter_read_pde(m, pdpa, i, &pd[i])) {
            fprintf(out, "  directory lies outside RAM (0x%llx bytes)\n",
                    (unsigned long long)sim_ram_size(s));
            return;
        }
    }
    struct dumper d = {.out = out};
    char what[160];
    fprintf(out, "  user half 0x00000000-0x%08x\n", KERNEL_BASE - 1);
    for (unsigned i = 0; i < NPDENTRIES;) {
        if (i == KERNEL_PDX) {
            half_end(&d);
            kernel_header(&d, m, spaces, nspaces, k, pd);
        }
        unsigned other = 0;
        enum dump_pde_kind kind = dump_pde_kind(m, pdpa, pd[i], spaces, nspaces, &other);
        if (walked(kind)) {
            /* The mappings up to the next labelled PDE or the end of the half. */
            unsigned end = i + 1;
            while (end < NPDENTRIES && end != KERNEL_PDX &&
                   walked(dump_pde_kind(m, pdpa, pd[end], spaces, nspaces, NULL)))
                end++;
            struct mapiter it;
            struct mapiter_run r;
            mapiter_init(&it, m, pdpa, i, end, MAPITER_EFFECTIVE);
            while (mapiter_next(&it, &r))
                run_line(&d, &r);
            i = end;
            continue;
        }
        if (kind == DUMP_PDE_SELF)
            snprintf(what, sizeof(what), "%s (PDE %u): own directory 0x%08x",
                     i == RECURSIVE_SLOT ? "recursive self-map" : "self-map", i, pdpa);
        else if (kind == DUMP_PDE_FOREIGN)
            snprintf(what, sizeof(what), "%s (PDE %u): directory of \"%s\" 0x%08x",
                     i == FOREIGN_SLOT ? "foreign slot" : "foreign directory", i,
                     spaces[other].name, PTE_ADDR(pd[i]));
        else
            snprintf(what, sizeof(what), "PDE %u names table 0x%08x outside RAM", i,
                     PTE_ADDR(pd[i]));
        slot_line(&d, m, pdpa, i, what);
        i++;
    }
    half_end(&d);
}

static int
cmp_entry(const void *a, const void *b)
{
    const struct tlb_entry *x = a, *y = b;
    return x->vpn < y->vpn ? -1 : x->vpn > y->vpn;
}

/* Whether the current tables no longer give what e caches; why gets the reason
 * (a stale entry whose translation did not change: "flags changed").  bad is
 * mapiter_tlb_stale's answer for e. */
static bool
tlb_stale(const struct mmu *m, const struct tlb_entry *e, bool large, bool bad, char *why,
          size_t len)
{
    paddr_t now = 0;
    switch (mapiter_tlb_state(m, e, large, &now)) {
    case MAPITER_TLB_LIVE:
        if (!bad)
            return false;
        snprintf(why, len, "flags changed");
        break;
    case MAPITER_TLB_PAGING_OFF:
        snprintf(why, len, "paging off");
        break;
    case MAPITER_TLB_UNMAPPED:
        snprintf(why, len, "now unmapped");
        break;
    case MAPITER_TLB_MOVED:
        snprintf(why, len, "now -> 0x%08x", now);
        break;
    case MAPITER_TLB_RIGHTS:
        snprintf(why, len, "rights changed");
        break;
    }
    return true;
}

static void
dump_tlb(FILE *out, const struct mmu *m, const struct tlb *t, bool large)
{
    struct {
        struct tlb_entry *e;
        bool *bad; /* mapiter_tlb_stale of each entry */
        unsigned n;
    } l = {.e = calloc(t->geo.entries, sizeof(*l.e)), .bad = calloc(t->geo.entries + 1, 1)};
    if (l.e == NULL || l.bad == NULL) {
        fprintf(out, "  (out of memory)\n");
        free(l.e);
        free(l.bad);
        return;
    }
    l.n = tlb_copy_valid(t, l.e);
    qsort(l.e, l.n, sizeof(*l.e), cmp_entry);
    unsigned nstale = 0;
    for (unsigned i = 0; i < l.n; i++) {
        l.bad[i] = mapiter_tlb_stale(m, &l.e[i], large);
        nstale += l.bad[i];
    }
    char stale_n[32] = "";
    if (nstale > 0)
        snprintf(stale_n, sizeof(stale_n), ", %u STALE", nstale);
    fprintf(out, "  %s TLB: %u entries, %u-way, %u valid%s\n", large ? "4 MiB" : "4 KiB",
            t->geo.entries, t->geo.ways, l.n, stale_n);
    for (unsigned i = 0; i < l.n; i++) {
        const struct tlb_entry *e = &l.e[i];
        char fl[DUMP_FLAGS_MAX], stale[64];
        dump_flags(e->flags, large, true, fl, sizeof(fl));
        char why[48];
        if (tlb_stale(m, e, large, l.bad[i], why, sizeof(why)))
            snprintf(stale, sizeof(stale), "  %s: %s", l.bad[i] ? "STALE" : "stale", why);
        else
            stale[0] = '\0';
        uint32_t shift = large ? PDX_SHIFT : PAGE_SHIFT;
        fprintf(out, "    0x%08x -> 0x%08x  %s  %-11s%s%s\n", e->vpn << shift, e->pfn << shift,
                large ? "4M" : "4K", fl, e->global ? "  global" : "", stale);
    }
    free(l.e);
    free(l.bad);
}

void
dump_spaces(FILE *out, struct sim *s, const struct run_space *spaces, unsigned nspaces,
            const char *only_space)
{
    const struct mmu *m = sim_mmu(s);
    unsigned shown = 0;
    for (unsigned k = 0; k < nspaces; k++) {
        if (only_space != NULL && strcmp(only_space, spaces[k].name) != 0)
            continue;
        if (shown++ > 0)
            fputc('\n', out);
        dump_space(out, s, spaces, nspaces, k);
    }
    fprintf(out, "\nTLB  (CR3 0x%08x, paging %s, CR4.PSE=%u, CR4.PGE=%u)\n", m->cr3,
            mmu_paging(m) ? "on" : "off", (m->cr4 & CR4_PSE) != 0, (m->cr4 & CR4_PGE) != 0);
    dump_tlb(out, m, &m->tlb4k, false);
    dump_tlb(out, m, &m->tlb4m, true);
}
